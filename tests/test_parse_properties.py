"""Property-based test: the parser returns tables plus findings on any mutated report.

The only exception the ingestion of bytes may raise is the documented
:class:`~pipeline.text.ReportInputError` (empty, binary, undecodable or too large input).
Invisible and bidirectional characters never reach the tables and change nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.parse import (
    _ACTIVITY_RE,
    _AXES_HEADING_RE,
    _AXIS_RATE_RE,
    _COMMITMENT_RE,
    _NUMBER_RE,
    _RATE_CELL_RE,
    _RESIDUE_RE,
    _page_number_start,
    parse_report,
)
from pipeline.text import INVISIBLE_RE, DecodedText, ReportInputError, count_lines, decode_report
from schemas import TABLES

SEED_LINES = (
    (Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt")
    .read_text(encoding="utf-8")
    .split("\n")
)
# A window of the seed holding the front matter's end and a few commitments keeps each example fast.
WINDOW = SEED_LINES[180:900]
INPUT_ERRORS = {"file_empty", "file_binary", "file_undecodable", "file_too_large"}
#: Soft hyphen, zero-width characters, word joiner, BOM, bidirectional controls.
INVISIBLES = (
    "\u00ad\u200b\u200c\u200d\u2060\ufeff\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Longest line the fuzzer writes: long enough to show a regular expression that backtracks.
LONG_LINE_CHARS = 20_000


def invisible_free(tables: dict[str, pd.DataFrame]) -> bool:
    """Whether no text cell of any table holds a format character."""
    for df in tables.values():
        for column in df.columns:
            text = df[column].dtype == object or pd.api.types.is_string_dtype(df[column])
            if text and df[column].dropna().astype(str).str.contains(INVISIBLE_RE.pattern, regex=True).any():
                return False
    return True


@st.composite
def mutated_reports(draw) -> bytes:
    lines = list(WINDOW)
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["drop", "duplicate", "swap", "truncate", "garble", "invisible", "long"]))
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
        elif op == "invisible":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = (
                lines[i][:cut] + draw(st.text(st.sampled_from(INVISIBLES), min_size=1, max_size=3)) + lines[i][cut:]
            )
        elif op == "long":
            unit = draw(
                st.sampled_from(
                    [lines[i] or "x", "-", " ", "\t", "\u2028", "1 ", "é", draw(st.text(min_size=1, max_size=3))]
                )
            )
            lines[i] = unit * (LONG_LINE_CHARS // len(unit)) + draw(st.sampled_from(["", "x", "5 %", "\t12"]))
    data = "\n".join(lines).encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(data)))
        data = (
            data[:pos]
            + draw(st.one_of(st.binary(max_size=64), st.sampled_from([b"\xe9", b"\x81", b"\xc3", b"\xff\xfe"])))
            + data[pos:]
        )
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_reports())
def test_parser_returns_tables_or_the_documented_error(data):
    try:
        decoded = decode_report(data, "mutated.txt")
    except ReportInputError as exc:
        assert exc.code in INPUT_ERRORS
        return
    tables = parse_report(
        decoded.text,
        "mutated",
        source_file="mutated.txt",
        source_sha256="0" * 64,
        encoding=decoded.encoding,
        replaced_lines=decoded.replaced_lines,
    )
    assert set(tables) == set(TABLES)
    assert invisible_free(tables)
    findings = tables["findings"]
    assert sorted(findings.loc[findings.code == "invalid_utf8_bytes", "source_line"]) == list(decoded.replaced_lines)
    if tables["reports"].empty:
        assert "no_commitment" in findings["code"].tolist()
    else:
        assert set(tables["activities"]["status"]) <= {"not_started", "limited", "substantial", "complete", "unknown"}


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=400))
def test_parser_on_arbitrary_text(text):
    tables = parse_report(text, "random", source_file="random.txt", source_sha256="0" * 64)
    assert set(tables) == set(TABLES)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(
            st.sampled_from([b"\xe9", b"\xc3\xa9", b"\x81", b"\n", b"\r\n", b"\xef\xbb\xbf", b"abc ", b"\xe2\x80\x99"]),
            max_size=200,
        ).map(b"".join),
    )
)
def test_decoding_any_bytes_gives_text_or_the_documented_error(data):
    try:
        decoded = decode_report(data, "any.txt")
    except ReportInputError as exc:
        assert exc.code in INPUT_ERRORS
        assert exc.line is None or 1 <= exc.line <= count_lines(data)
        return
    assert isinstance(decoded, DecodedText) and isinstance(decoded.text, str)
    assert decoded.encoding in {"utf-8", "utf-8-sig", "cp1252"}
    assert list(decoded.replaced_lines) == sorted(set(decoded.replaced_lines))
    assert all(1 <= n <= count_lines(data) for n in decoded.replaced_lines)


CLEAN_WINDOW = parse_report("\n".join(WINDOW), "window", source_file="window.txt", source_sha256="0" * 64)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(1, len(WINDOW) - 2),
            st.integers(0, 200),
            st.text(st.sampled_from(INVISIBLES), min_size=1, max_size=2),
        ),
        max_size=30,
    )
)
def test_invisible_characters_change_nothing_but_the_findings(insertions):
    lines = list(WINDOW)
    for i, at, chars in insertions:
        at = min(at, len(lines[i]))
        lines[i] = lines[i][:at] + chars + lines[i][at:]
    tables = parse_report("\n".join(lines), "window", source_file="window.txt", source_sha256="0" * 64)
    for table in TABLES:
        if table != "findings":
            pd.testing.assert_frame_equal(tables[table], CLEAN_WINDOW[table])
    touched = {i + 1 for i, _, _ in insertions}
    removed = tables["findings"][
        tables["findings"].code.isin(["invisible_characters_removed", "bidi_controls_removed"])
    ]
    assert sorted(removed["source_line"]) == sorted(touched)


# The parser's line patterns were rewritten so that no long line makes them backtrack; on
# short lines they must still say what the former patterns said.
FORMER_PAGE_NUMBER_END_RE = re.compile(r"\t\s*\d{1,4}\s*$")
FORMER_RESIDUE_RE = re.compile(r"^\s*(?:\d{1,4}|[-\s]*-{3,}[-\s]*|[A-Z][A-Z ]{4,40}[A-Z]|/>)\s*$")
FORMER_NUMBER_RE = re.compile(r"^\s*[~≈]?\s*(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?\s*(%?)\s*[.;]?\s*$")
FORMER_AXIS_RATE_RE = re.compile(r"^(\D{3,}?)\s*[:\t-]?\s*(\d{1,3}(?:[.,]\d+)?)\s*%\s*$")
FORMER_COMMITMENT_RE = re.compile(r"^\s*(?:[EÉ]|[Ee])?(?i:ngagement)\s*(\d{1,3})\s*:\s*(.*?)\s*$")
FORMER_ACTIVITY_RE = re.compile(r"^\s*(?:[-•]\s*)?(?i:activit[ée\ufffd]s?)\s*(\d{1,3})\s*[:.]\s*(.*?)\s*$")
FORMER_RATE_CELL_RE = re.compile(r"^\s*(\d{1,3}(?:[.,]\d+)?)\s*%?\s*$")
FORMER_AXES_HEADING_RE = re.compile(r"^plan d.action national\s*(?:\d{4}\s*[-–—]\s*\d{4})?\s*$")
LINE_START = st.sampled_from(
    ["", "ENGAGEMENT 1", "Activité 2", "plan d'action national", "plan d'action national 2021"]
)
LINE_ALPHABET = st.sampled_from(
    ["\t", " ", "\u3000", "1", "2", "٣", "-", "–", ":", "%", ".", ",", "~", "A", "B", "a", "/>", "x"]
)


def groups(match: re.Match | None) -> tuple | None:
    return match.groups() if match else None


@settings(max_examples=600, deadline=None)
@given(st.tuples(LINE_START, st.lists(LINE_ALPHABET, max_size=14).map("".join)).map("".join))
def test_rewritten_line_patterns_agree_with_the_former_ones(line):
    # The heading patterns also read the forms other exports write (« Engagement 3 - »): they
    # must read every line the former ones read, as they read it.
    for pattern, former in ((_COMMITMENT_RE, FORMER_COMMITMENT_RE), (_ACTIVITY_RE, FORMER_ACTIVITY_RE)):
        if former.match(line):
            assert groups(pattern.match(line)) == groups(former.match(line))
        elif pattern.match(line):
            assert re.search(r"\d\s*[-–.]", line), line
    assert groups(_RATE_CELL_RE.match(line)) == groups(FORMER_RATE_CELL_RE.match(line))
    assert bool(_AXES_HEADING_RE.match(line)) == bool(FORMER_AXES_HEADING_RE.match(line))
    former_page = FORMER_PAGE_NUMBER_END_RE.search(line)
    assert _page_number_start(line) == (former_page.start() if former_page else None)
    assert bool(_RESIDUE_RE.match(line)) == bool(FORMER_RESIDUE_RE.match(line))
    former_number = FORMER_NUMBER_RE.match(line)
    number = _NUMBER_RE.match(line)
    assert (number.group(1, 2) if number else None) == (former_number.group(1, 2) if former_number else None)
    former_rate = FORMER_AXIS_RATE_RE.match(line)
    rate = _AXIS_RATE_RE.match(line)
    assert bool(rate) == bool(former_rate)
    if rate:
        assert rate.group(2) == former_rate.group(2)
        # The label's trailing separators may be cut at another dash: compare the words.
        separators = " :\t-–—\u3000"
        assert rate.group(1).strip(separators).split() == former_rate.group(1).strip(separators).split()


@pytest.mark.parametrize(
    "line", ["-" * 20_000 + "x", "\t" * 20_000 + "x", "a" + "\u3000" * 20_000 + "x", " " * 20_000 + "1 x"]
)
def test_line_patterns_on_a_long_line_answer_at_once(line):
    # The former patterns took minutes on each of these lines.
    assert not _RESIDUE_RE.match(line) and _page_number_start(line) is None
    assert not _NUMBER_RE.match(line) and not _AXIS_RATE_RE.match(line) and not _RATE_CELL_RE.match(line)
    assert _COMMITMENT_RE.match("ENGAGEMENT 1 : X" + line).group(2) == "X" + line.rstrip()
