"""Property-based test: the parser returns tables plus findings on any mutated report.

The only exception the ingestion of bytes may raise is the documented
:class:`~pipeline.text.ReportInputError` (empty, binary or undecodable input).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.parse import parse_report
from pipeline.text import ReportInputError, decode_report
from schemas import TABLES

SEED_LINES = (Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt").read_text(encoding="utf-8").split("\n")
# A window of the seed holding the front matter's end and a few commitments keeps each example fast.
WINDOW = SEED_LINES[180:900]


@st.composite
def mutated_reports(draw) -> bytes:
    lines = list(WINDOW)
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["drop", "duplicate", "swap", "truncate", "garble", "bytes"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines = lines[:i]
        elif op == "garble":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.text(max_size=20)) + lines[i][cut:]
    data = "\n".join(lines).encode("utf-8")
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(max_size=64)) + data[pos:]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_reports())
def test_parser_returns_tables_or_the_documented_error(data):
    try:
        text, encoding = decode_report(data, "mutated.txt")
    except ReportInputError as exc:
        assert exc.code in {"file_empty", "file_binary", "file_undecodable"}
        return
    tables = parse_report(text, "mutated", source_file="mutated.txt", source_sha256="0" * 64, encoding=encoding)
    assert set(tables) == set(TABLES)
    findings = tables["findings"]
    if tables["reports"].empty:
        assert "no_commitment" in findings["code"].tolist()
    else:
        assert set(tables["activities"]["status"]) <= {"not_started", "limited", "substantial", "complete", "unknown"}


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=400))
def test_parser_on_arbitrary_text(text):
    tables = parse_report(text, "random", source_file="random.txt", source_sha256="0" * 64)
    assert set(tables) == set(TABLES)
