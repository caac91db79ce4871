"""The catalogue of finding codes (schemas/findings.py) and the codes the pipeline emits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from pipeline.compute import compute_database
from pipeline.dictionary import render_finding_codes
from pipeline.ingest import ingest_reports
from pipeline.validate import validate_curated
from schemas.findings import FINDING_CODES

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipeline"
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
EMITTED_RE = re.compile(r'"(error|warning|info)",\s*"([a-z][a-z0-9_]*)"')
INPUT_ERROR_RE = re.compile(r'ReportInputError\(\s*[^,()]+,\s*"([a-z][a-z0-9_]*)"')


def emitted_codes() -> dict[str, str]:
    """code -> severity for every finding the pipeline's source can emit."""
    out = {}
    for path in PIPELINE.glob("*.py"):
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


def test_the_seed_findings_are_all_in_the_data_dictionary(tmp_path):
    rendered = render_finding_codes()
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    shutil.copy(SEED, raw / SEED.name)
    ingest_reports(raw, curated)
    validate_curated(curated)
    compute_database(curated, None, raw)
    codes = set(pd.read_parquet(curated / "findings.parquet")["code"])
    assert {"published_rate_missing", "indicator_rate_without_percent", "published_rate_outside_bounds"} <= codes
    assert [c for c in sorted(codes) if f"| `{c}` |" not in rendered] == []
