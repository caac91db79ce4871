"""A raw/ folder holding the seed and every hostile or odd input at once, run twice for real.

Each input is one row of the issue's table; the unit tests of each rule are beside
their modules (test_inputs, test_hostile_text, test_hostile_values). Here the whole
batch meets them together: no traceback, every refused input named, exit 3 twice,
the good reports released, nothing wrong published, nothing lost.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline import exitcodes
from pipeline.text import looks_like_mojibake

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem
TEXT = SEED.read_text(encoding="utf-8")
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
LONG_ID = "a" * 101
#: Heading lines of the oversized-heading report (linear parsing keeps it fast).
HEADING_LINES = 20_000


def write_inputs(raw: Path) -> dict[str, str]:
    """Write every hostile input beside the seed; return the refused names and their cause."""
    raw.mkdir()
    (raw / SEED.name).write_text(TEXT, encoding="utf-8")
    data = TEXT.encode("utf-8")
    latin1_word = "préparation du budget".encode("latin-1")  # one word saved in Latin-1 inside UTF-8
    (raw / "stray-byte.txt").write_bytes(data.replace("préparation du budget".encode(), latin1_word, 1))
    (raw / "soft-hyphen.txt").write_text(TEXT.replace("Activité", "Acti\u00advité"), encoding="utf-8")
    (raw / "zero-width.txt").write_text(TEXT.replace("ENGAGEMENT", "ENGA\u200bGEMENT"), encoding="utf-8")
    heading = "ENGAGEMENT 3: PROMULGATION"
    (raw / "bidi.txt").write_text(TEXT.replace(heading, "ENGAGEMENT 3: \u202ePROMULGATION"), encoding="utf-8")
    label = (
        "Activité 2 : Effectuer une analyse comparative avec d'autres pays ayant de bonnes pratiques concernant "
        "l'adoption d'un mécanisme de consultation permanant pour impliquer les citoyens dans la préparation du "
        "budget citoyen"
    )
    (raw / "empty-label.txt").write_text(TEXT.replace(label, "Activité 2 :"), encoding="utf-8")
    (raw / "formula.txt").write_text(TEXT.replace(heading, "ENGAGEMENT 3: -2+3 PROMULGATION"), encoding="utf-8")
    (raw / "huge-weights.txt").write_text(TEXT, encoding="utf-8")
    huge = "commitment_no,activity_no,weight\n1,1,1e308\n1,2,1e307\n"
    (raw / "huge-weights.weights.csv").write_text(huge, encoding="utf-8")
    (raw / "many-headings.txt").write_text("ENGAGEMENT 1 : X\n" * HEADING_LINES, encoding="utf-8")
    (raw / "...txt").write_text(TEXT, encoding="utf-8")
    (raw / f"{LONG_ID}.txt").write_text(TEXT, encoding="utf-8")
    (raw / "unreadable.txt").symlink_to("/proc/self/mem")  # a regular file whose read fails, even for root
    (raw / "folder.txt").mkdir()
    os.mkfifo(raw / "fifo.txt")
    (raw / "broken-link.txt").symlink_to(raw / "nowhere")
    return {
        "...txt": "invalid_report_id",
        f"{LONG_ID}.txt": "invalid_report_id",
        "folder.txt": "not_a_regular_file",
        "fifo.txt": "not_a_regular_file",
        "broken-link.txt": "not_a_regular_file",
        "unreadable.txt": "file_unreadable",
        "huge-weights.weights.csv": "weights_file_invalid",
    }


def published_cells(exports: Path):
    for path in sorted(exports.glob("*/data/*.csv")):
        for value in pd.read_csv(path, dtype=str, keep_default_na=False).to_numpy().ravel():
            yield path, value


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, pgo):
    """The folder after two runs, each a process of its own (forked from this one: a hung
    read would time out, and all it writes is read back); the refused inputs and their
    causes; the two runs' exit codes and output."""
    work = tmp_path_factory.mktemp("hostile")
    refused = write_inputs(work / "raw")
    results = [pgo.forked(work), pgo.forked(work)]
    return work, refused, results


def test_two_runs_exit_3_name_every_refused_input_and_print_no_traceback(hostile):
    _, refused, results = hostile
    for result in results:
        assert result.returncode == exitcodes.INPUT_ERROR, result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        for name, code in refused.items():
            lines = [line for line in result.stderr.splitlines() if name in line and "ERROR" in line]
            assert lines, (name, result.stderr[-3000:])
            assert any(code in line or name.endswith(".weights.csv") for line in lines), (name, lines)


def test_the_good_reports_are_released_whole(hostile):
    work, _, _ = hostile
    for report_id in (SEED_ID, "stray-byte", "soft-hyphen", "zero-width", "bidi", "formula", "empty-label"):
        assert (work / "exports" / report_id / "release.json").exists(), report_id
    activities = pd.read_csv(work / "exports" / SEED_ID / "data" / "activities.csv")
    assert len(activities) == 147
    for report_id in ("soft-hyphen", "zero-width", "stray-byte"):
        assert len(pd.read_csv(work / "exports" / report_id / "data" / "activities.csv")) == 147, report_id
    assert not (work / "exports" / "huge-weights").exists()


def test_nothing_wrong_is_published(hostile):
    work, _, _ = hostile
    for path, value in published_cells(work / "exports"):
        assert not BIDI_CONTROLS & set(value), (path, value)
        assert not looks_like_mojibake(value), (path, value)
    commitments = pd.read_csv(work / "exports" / "formula" / "data" / "commitments.csv", dtype=str)
    assert commitments.loc[commitments["commitment_no"] == "3", "title"].item().startswith("'-2+3 PROMULGATION")
    assert sorted(p.name for p in (work / "curated").glob("*.parquet")) == []  # report ".." wrote nowhere


def test_an_empty_label_quarantines_its_row_and_the_rest_is_released(hostile):
    work, _, _ = hostile
    quarantine = pd.read_parquet(work / "curated" / "validated" / "quarantine" / "activities.parquet")
    mine = quarantine[quarantine["report_id"] == "empty-label"]
    assert len(mine) == 1 and mine["activity_no"].item() == 2
    assert len(pd.read_csv(work / "exports" / "empty-label" / "data" / "activities.csv")) == 146


def test_validated_plus_quarantine_hold_every_ingested_row(hostile):
    work, _, _ = hostile
    curated = work / "curated"
    for table in ("reports", "axes", "commitments", "activities", "indicators", "published_rates"):
        ingested = sum(len(pd.read_parquet(p)) for p in (curated / "ingested").glob(f"*/{table}.parquet"))
        validated = len(pd.read_parquet(curated / "validated" / f"{table}.parquet"))
        qpath = curated / "validated" / "quarantine" / f"{table}.parquet"
        quarantined = len(pd.read_parquet(qpath)) if qpath.exists() else 0
        assert validated + quarantined == ingested, table


def test_refused_inputs_leave_no_folder_behind_and_errors_are_findings(hostile):
    work, _, _ = hostile
    partitions = sorted(p.name for p in (work / "curated" / "ingested").iterdir())
    assert ".." not in partitions and LONG_ID not in partitions and "folder" not in partitions
    assert "unreadable" in partitions  # a valid id: its error is a finding
    findings = pd.read_parquet(work / "curated" / "validated" / "findings.parquet")
    errors = findings[findings["severity"] == "error"].set_index("report_id")["code"].to_dict()
    assert errors["unreadable"] == "file_unreadable"
    state = json.loads((work / "curated" / "state.json").read_text(encoding="utf-8"))["reports"]
    assert state["huge-weights"]["status"] == "failed" and state[SEED_ID]["status"] == "ok"


def test_mended_inputs_say_where_they_were_mended(hostile):
    work, _, _ = hostile
    findings = pd.read_parquet(work / "curated" / "validated" / "findings.parquet")
    codes = findings.groupby("report_id")["code"].apply(set).to_dict()
    assert "invalid_utf8_bytes" in codes["stray-byte"]
    assert "invisible_characters_removed" in codes["soft-hyphen"]
    assert "invisible_characters_removed" in codes["zero-width"]
    assert "bidi_controls_removed" in codes["bidi"]
    stray = findings[(findings["report_id"] == "stray-byte") & (findings["code"] == "invalid_utf8_bytes")]
    assert stray["source_line"].tolist() == [TEXT[: TEXT.index("préparation du budget")].count("\n") + 1]
    bidi = pd.read_csv(work / "exports" / "bidi" / "data" / "commitments.csv", dtype=str)
    assert bidi.loc[bidi["commitment_no"] == "3", "title"].item().startswith("PROMULGATION ET ACCOMPAGNEMENT")
