"""Hostile and odd inputs on the seed report: stray bytes, other encodings, invisible
characters, oversized files. Each gives a clear finding or error, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest import ingest_file
from pipeline.text import MAX_REPORT_BYTES, ReportInputError, check_report_size

SEED = Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_LINES = SEED.read_text(encoding="utf-8").split("\n")
#: The stray byte goes into this line of the seed (a line of commitment 1's problem text).
STRAY_LINE = 250


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, pd.DataFrame]:
    path = tmp_path_factory.mktemp("clean") / "seed.txt"
    path.write_bytes(SEED.read_bytes())
    return ingest_file(path)


def ingest_bytes(tmp_path: Path, data: bytes, name: str = "seed.txt") -> dict[str, pd.DataFrame]:
    path = tmp_path / name
    path.write_bytes(data)
    return ingest_file(path)


def findings_of(tables, code: str) -> pd.DataFrame:
    f = tables["findings"]
    return f[f.code == code]


def with_inserted(line: str, after: str, chars: str) -> str:
    """``line`` with ``chars`` inserted after the first occurrence of ``after``."""
    at = line.index(after) + len(after)
    return line[:at] + chars + line[at:]


def test_a_stray_byte_in_the_seed_damages_one_line_not_the_file(tmp_path, clean):
    lines = SEED.read_bytes().split(b"\n")
    middle = len(lines[STRAY_LINE - 1]) // 2
    lines[STRAY_LINE - 1] = lines[STRAY_LINE - 1][:middle] + b"\xe9" + lines[STRAY_LINE - 1][middle:]
    tables = ingest_bytes(tmp_path, b"\n".join(lines))
    assert tables["reports"]["source_encoding"].tolist() == ["utf-8"]
    damaged = findings_of(tables, "invalid_utf8_bytes")
    assert damaged[["severity", "source_line"]].values.tolist() == [["warning", STRAY_LINE]]
    assert "\ufffd" in damaged["message"].iloc[0]
    assert len(tables["activities"]) == 147
    assert tables["activities"]["status"].tolist() == clean["activities"]["status"].tolist()
    assert tables["commitments"]["title"].iloc[0] == "RENFORCEMENT DE LA TRANSPARENCE BUDGÉTAIRE"


def test_the_seed_in_windows_1252_is_read_with_a_finding(tmp_path, clean):
    text = SEED.read_text(encoding="utf-8").replace("œ", "oe").replace("Œ", "OE").replace("’", "'")
    tables = ingest_bytes(tmp_path, text.encode("cp1252", errors="replace"))
    assert tables["reports"]["source_encoding"].tolist() == ["cp1252"]
    assert findings_of(tables, "decoded_cp1252")["severity"].tolist() == ["warning"]
    assert findings_of(tables, "invalid_utf8_bytes").empty
    assert len(tables["activities"]) == 147
    assert tables["commitments"]["title"].iloc[0] == "RENFORCEMENT DE LA TRANSPARENCE BUDGÉTAIRE"


def test_windows_1252_that_reads_as_mojibake_is_refused_naming_the_first_bad_line(tmp_path):
    lines = list(SEED_LINES)
    lines[2] = lines[2].replace("auto-évaluation", "auto-Ã©valuation")  # line 3, the title, pasted as mojibake
    text = "\n".join(lines).replace("œ", "oe").replace("Œ", "OE").replace("’", "'")
    tables = ingest_bytes(tmp_path, text.encode("cp1252", errors="replace"))
    assert tables["reports"].empty
    refused = tables["findings"]
    assert refused[["severity", "code", "source_line"]].values.tolist() == [["error", "file_undecodable", 3]]


def test_invisible_characters_inside_the_headings_hide_nothing(tmp_path, clean):
    lines = list(SEED_LINES)
    touched = []
    for n in clean["activities"]["source_line"]:
        lines[n - 1] = with_inserted(with_inserted(lines[n - 1], "ctivi", "\u200b"), "Acti", "\u00ad")
        touched.append(n)
    for n in clean["commitments"]["source_line_start"]:
        lines[n - 1] = with_inserted(lines[n - 1], "ENGAG", "\u200b")
        touched.append(n)
    tables = ingest_bytes(tmp_path, "\n".join(lines).encode("utf-8"))
    assert (len(tables["activities"]), len(tables["commitments"])) == (147, 22)
    for table in ("commitments", "activities", "indicators"):
        pd.testing.assert_frame_equal(tables[table], clean[table])
    removed = findings_of(tables, "invisible_characters_removed")
    assert sorted(removed["source_line"].tolist()) == sorted(touched)
    activity_finding = removed[removed.source_line == touched[0]]["message"].iloc[0]
    assert "U+00AD (SOFT HYPHEN), U+200B (ZERO WIDTH SPACE)" in activity_finding


def test_bidi_controls_in_an_arabic_title_are_removed_and_the_letters_kept(tmp_path, clean):
    first = clean["activities"]["source_line"].iloc[0]
    lines = list(SEED_LINES)
    lines[first - 1] = "Activité 1 : \u202eالبوابة الوطنية\u202c للنزاهة"
    tables = ingest_bytes(tmp_path, "\n".join(lines).encode("utf-8"))
    assert tables["activities"]["title"].iloc[0] == "البوابة الوطنية للنزاهة"
    bidi = findings_of(tables, "bidi_controls_removed")
    assert bidi[["severity", "source_line"]].values.tolist() == [["warning", first]]
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE), U+202C (POP DIRECTIONAL FORMATTING)" in bidi["message"].iloc[0]
    assert findings_of(tables, "invisible_characters_removed").empty


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "enorme.txt"
    with path.open("wb") as fh:
        fh.truncate(MAX_REPORT_BYTES + 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the oversized file was read"))
    tables = ingest_file(path)
    assert tables["reports"].empty
    refused = tables["findings"]
    assert refused[["severity", "code"]].values.tolist() == [["error", "file_too_large"]]
    assert "20 MiB" in refused["message"].iloc[0] and "MAX_REPORT_BYTES" in refused["message"].iloc[0]


def test_the_byte_limit_itself_is_accepted():
    check_report_size(MAX_REPORT_BYTES)
    with pytest.raises(ReportInputError) as err:
        check_report_size(MAX_REPORT_BYTES + 1, "raw/x.txt")
    assert err.value.code == "file_too_large"
