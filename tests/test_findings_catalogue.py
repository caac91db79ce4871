"""The catalogue of finding codes (schemas/findings.py) and the codes the pipeline emits."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipeline.dictionary import render_finding_codes
from schemas.findings import FINDING_CODES

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipeline"
EMITTED_RE = re.compile(r'"(error|warning|info)",\s*"([a-z][a-z0-9_]*)"')
INPUT_ERROR_RE = re.compile(r'ReportInputError\(\s*[^,()]+,\s*"([a-z][a-z0-9_]*)"')


def emitted_codes() -> dict[str, str]:
    """code -> severity for every finding the pipeline's source can emit."""
    out = {}
    for path in PIPELINE.rglob("*.py"):  # the parser is a package (pipeline/parse/)
        source = path.read_text(encoding="utf-8")
        out.update({code: severity for severity, code in EMITTED_RE.findall(source)})
        out.update({code: "error" for code in INPUT_ERROR_RE.findall(source)})
    return out


def test_every_emitted_code_is_catalogued_with_its_severity():
    emitted = emitted_codes()
    assert len(emitted) > 30
    assert {code: FINDING_CODES.get(code, (None, None))[1] for code in emitted} == emitted


def test_every_catalogued_code_is_emitted_somewhere():
    assert set(FINDING_CODES) - set(emitted_codes()) == set()


def test_the_seed_findings_are_all_in_the_data_dictionary(seed_computed):
    rendered = render_finding_codes()
    with duckdb.connect(str(seed_computed / "computed" / "pgo.duckdb"), read_only=True) as con:
        codes = {code for (code,) in con.sql("SELECT DISTINCT code FROM findings").fetchall()}
    assert {"published_rate_missing", "indicator_rate_without_percent", "published_rate_outside_bounds"} <= codes
    assert [c for c in sorted(codes) if f"| `{c}` |" not in rendered] == []
