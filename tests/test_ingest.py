"""Ingestion of the seed report (values checked against the source) and of bad files."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import exitcodes
from pipeline.fingerprint import stage_code_fingerprint
from pipeline.ingest import ingest_reports
from pipeline.layers import PROVENANCE_FILE, layout, partition_record
from schemas import TABLES, arrow_schema

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem
PARTITION_FILES = sorted([f"{t}.parquet" for t in TABLES] + [PROVENANCE_FILE])


@pytest.fixture(scope="module")
def seed_curated(seed_ingested) -> Path:
    return seed_ingested


def partitions(curated: Path) -> list[Path]:
    return sorted(p for p in layout(curated).partitions.iterdir() if p.is_dir())


def read(curated: Path, table: str) -> pd.DataFrame:
    """``table`` of every ingested partition, in report order."""
    frames = [pd.read_parquet(part / f"{table}.parquet") for part in partitions(curated)]
    return pd.concat(frames, ignore_index=True)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_table_is_written_with_its_declared_schema(seed_curated):
    [part] = partitions(seed_curated)
    assert part == seed_curated / "ingested" / SEED_ID
    for table in TABLES:
        assert pq.read_schema(part / f"{table}.parquet").equals(arrow_schema(table), check_metadata=False)


def test_ingest_writes_only_the_report_partition_and_its_provenance_last(seed_curated):
    """One writer per file: ingest writes curated/ingested/<report_id>/ and nothing else."""
    assert sorted(tree(seed_curated)) == [f"ingested/{SEED_ID}/{name}" for name in PARTITION_FILES]
    provenance = json.loads((seed_curated / "ingested" / SEED_ID / PROVENANCE_FILE).read_text(encoding="utf-8"))
    sha = hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert provenance["built_from"] == partition_record(SEED_ID, sha, stage_code_fingerprint("ingest"))
    outcome = provenance["outcome"]
    assert outcome["exit_code"] == exitcodes.OK and outcome["errors"] == []
    assert outcome["rows"] == {t: len(read(seed_curated, t)) for t in TABLES}
    assert outcome["rows"]["activities"] == 147


def test_seed_report_row(seed_curated):
    r = read(seed_curated, "reports").iloc[0]
    assert r["report_id"] == SEED_ID
    assert r["plan_period"] == "2021-2023"  # the title misprints 2021 – 2022: a finding says so
    assert r["as_of"] == "2023-07"
    assert r["line_count"] == len(SEED.read_text(encoding="utf-8").splitlines())
    assert r["commitment_count"] == 22
    assert r["title"].startswith("Rapport d'auto-évaluation du Plan d'Action National")


def test_seed_commitments(seed_curated):
    c = read(seed_curated, "commitments").set_index("commitment_no")
    assert c.index.tolist() == list(range(1, 23))
    assert c.loc[1, "title"] == "RENFORCEMENT DE LA TRANSPARENCE BUDGÉTAIRE"
    assert c.loc[2, "title"] == (
        "PROMOTION DE LA MISE EN ŒUVRE DU DROIT D'ACCÈS À L'INFORMATION AU NIVEAU DES "
        "DÉPARTEMENTS MINISTÉRIELS ET DES ÉTABLISSEMENTS PUBLICS"
    )
    assert c.loc[20, "title"].endswith(
        "À L'ÉLABORATION, AU SUIVI ET À LA MISE EN ŒUVRE DE LA POLITIQUE ENVIRONNEMENTALE"
    )
    assert c.loc[1, "responsible_body"] == "Ministère délégué chargé du budget"
    assert c.loc[6, "responsible_body"] == "Ministère de la Santé et de la protection sociale"
    assert (
        c.loc[9, "responsible_body"]
        == "Instance Nationale de la Probité, de la Prévention et de la Lutte contre la corruption"
    )
    assert pd.isna(c.loc[10, "responsible_body"])  # the report has none for commitment 10
    assert c["responsible_body"].notna().sum() == 21
    assert c["axis_no"].tolist() == [1] * 10 + [2] * 3 + [3] * 3 + [4] * 4 + [5] * 2
    assert (c.loc[1, "source_line_start"], c.loc[22, "source_line_start"]) == (243, 3382)


def test_seed_axes(seed_curated):
    a = read(seed_curated, "axes")
    assert a["name"].tolist() == [
        "Transparence et qualité des services publics",
        "Egalité et inclusion",
        "Justice ouverte",
        "Participation citoyenne",
        "Collectivités territoriales ouvertes",
    ]


def test_seed_activities(seed_curated):
    a = read(seed_curated, "activities").set_index(["commitment_no", "activity_no"])
    assert len(a) == 147
    assert a.groupby(level=0).size().tolist() == [7, 6, 5, 5, 4, 4, 6, 5, 5, 6, 6, 9, 10, 10, 5, 14, 4, 7, 7, 4, 9, 9]
    assert a["status"].value_counts().to_dict() == {
        "complete": 100,
        "not_started": 18,
        "limited": 15,
        "substantial": 12,
        "unknown": 2,
    }
    assert a.loc[(1, 4), "status"] == "not_started" and a.loc[(1, 4), "source_line"] == 324
    assert a.loc[(1, 7), "status"] == "not_started" and a.loc[(1, 7), "source_line"] == 366
    assert a.loc[(3, 1), "status"] == "complete"  # "✓\tComp\tolétée ((90-100%)"
    assert a.loc[(3, 3), "status"] == "substantial"
    assert a.loc[(13, 9), "status"] == "substantial"  # checklist split by "Actions réalisées"
    assert a.loc[(16, 1), "source_line"] == 2403  # the garbled copy at 2401 is a duplicate
    assert a.loc[(16, 1), "title"] == (
        "Développement de modules supplémentaires au niveau de la plateforme d'échange "
        "électronique avec les avocats : dossiers de notification et d'exécution"
    )
    assert a.loc[(16, 2), "status"] == "unknown"  # no check mark at all
    assert a.loc[(16, 3), "status"] == "unknown"  # check mark lost on a garbled line
    assert a.loc[(18, 5), "status"] == "not_started"
    assert (
        a.loc[(21, 8), "title"]
        == "Formation des formateurs chargés de la gestion du site électronique type au niveau des"
    )
    assert a.loc[(18, 3), "title"].startswith(
        "Elaboration et publication du décret du chef du gouvernement relatif à l'obligation"
    )
    assert not a["title"].str.contains(r"\\|<|>", regex=True).any()


def test_seed_indicators(seed_curated):
    i = read(seed_curated, "indicators").set_index(["commitment_no", "indicator_no"])
    assert len(i) == 79
    assert i.loc[(1, 1), "label"] == "Nombre de rapports publiés dans les délais"
    assert i.loc[(1, 1), "value"] == 7
    assert i.loc[(4, 2), "value"] == 2700  # value wrapped onto the next line
    assert i.loc[(8, 4), "value"] == 1428574
    assert (i.loc[(2, 2), "kind"], i.loc[(2, 2), "unit"]) == ("count", "percent")
    assert (i.loc[(2, 3), "kind"], i.loc[(2, 3), "raw_value"]) == ("rate", "54")
    assert i.loc[(17, 2), "value"] == 1373  # heading wrapped in <u>…</u>
    assert i.loc[(20, 2), "value"] == 8  # "coordination:8", no space
    assert i.loc[(5, 2), "label"] == (
        "Taux des informations publiées proactivement par rapport aux informations listées "
        "dans l'article 10 de la loi 31.13"
    )


def test_seed_published_rates(seed_curated):
    r = read(seed_curated, "published_rates")
    plan = r[r.scope == "plan"]
    assert plan[["scope_no", "rate_pct", "source_line"]].values.tolist() == [[0, 82.0, 198]]
    c = r[r.scope == "commitment"].set_index("scope_no")["rate_pct"]
    assert len(c) == 21 and 22 not in c.index
    assert (c[1], c[3], c[17], c[18], c[21]) == (65.0, 72.0, 57.0, 56.0, 100.0)


def test_seed_findings(seed_curated):
    f = read(seed_curated, "findings")
    by_code = f.groupby("code")["record_key"].apply(lambda s: sorted(s.dropna())).to_dict()
    assert by_code["published_rate_missing"] == ["scope=commitment,scope_no=22"]
    assert by_code["responsible_body_missing"] == ["commitment_no=10"]
    assert by_code["activity_heading_duplicated"] == ["commitment_no=16,activity_no=1"]
    assert by_code["check_mark_missing"] == ["commitment_no=16,activity_no=2", "commitment_no=16,activity_no=3"]
    assert by_code["status_line_unrecognised"] == ["commitment_no=16,activity_no=3"]
    assert "plan_period_inconsistent" in by_code and "published_axis_rates_missing" in by_code
    assert "indicator_unit_contradicts_kind" not in by_code  # validation reports it, once
    assert (f["severity"] != "error").all()


def test_bad_files_are_reported_and_the_good_ones_still_go_through(tmp_path, caplog):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED, raw / SEED.name)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (raw / "notes.txt").write_text("Rien à voir : pas d'engagement ici.\n", encoding="utf-8")
    (raw / "Bad Name.txt").write_text("ENGAGEMENT 1 : X\n", encoding="utf-8")
    cp1252 = SEED.read_text(encoding="utf-8").replace("œ", "oe").replace("’", "'")
    (raw / "seed-cp1252.txt").write_bytes(cp1252.encode("cp1252", errors="replace"))
    curated = tmp_path / "curated"

    with caplog.at_level(logging.ERROR, logger="pipeline.ingest"):
        assert ingest_reports(raw, curated) == exitcodes.INPUT_ERROR

    # A file with an invalid name is refused by name: no partition, an error in the log.
    assert [p.name for p in partitions(curated)] == ["binary", "empty", SEED_ID, "notes", "seed-cp1252"]
    assert "Bad Name.txt: refused: 'Bad Name' is not a valid report id" in caplog.text
    assert "(invalid_report_id)" in caplog.text
    reports = read(curated, "reports")
    assert sorted(reports["report_id"]) == [SEED_ID, "seed-cp1252"]
    f = read(curated, "findings")
    errors = f[f.severity == "error"].set_index("report_id")["code"].to_dict()
    assert errors == {"empty": "file_empty", "binary": "file_binary", "notes": "no_commitment"}
    for report_id, code in errors.items():
        assert f"{report_id}.txt" in caplog.text and f"({code})" in caplog.text
        outcome = json.loads((curated / "ingested" / report_id / PROVENANCE_FILE).read_text(encoding="utf-8"))[
            "outcome"
        ]
        assert outcome["exit_code"] == exitcodes.INPUT_ERROR
        assert [e["code"] for e in outcome["errors"]] == [code]
    assert "decoded_cp1252" in f[f.report_id == "seed-cp1252"]["code"].tolist()
    assert len(read(curated, "activities").query("report_id == 'seed-cp1252'")) == 147


def test_missing_raw_folder_is_a_usage_error(tmp_path):
    assert ingest_reports(tmp_path / "nope", tmp_path / "curated") == exitcodes.USAGE


def test_parallel_and_sequential_ingestion_give_identical_tables(tmp_path, monkeypatch):
    import pipeline.ingest as ingest

    raw = tmp_path / "raw"
    raw.mkdir()
    text = SEED.read_text(encoding="utf-8")
    for k in range(3):
        (raw / f"copy-{k}.txt").write_text(text.replace("est de 82%", f"est de {80 + k}%"), encoding="utf-8")
    results = {}
    for label, threshold in (("sequential", 10**6), ("parallel", 1)):
        monkeypatch.setattr(ingest, "PARALLEL_FROM", threshold)
        curated = tmp_path / label
        assert ingest_reports(raw, curated) == exitcodes.OK
        results[label] = tree(curated)
    assert sorted(results["sequential"]) == [f"ingested/copy-{k}/{name}" for k in range(3) for name in PARTITION_FILES]
    assert results["parallel"] == results["sequential"]
    plan = read(tmp_path / "parallel", "published_rates").query("scope == 'plan'")
    assert plan["rate_pct"].tolist() == [80.0, 81.0, 82.0]


def test_an_unchanged_report_is_not_rewritten_and_a_removed_one_loses_its_partition(tmp_path):
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    text = SEED.read_text(encoding="utf-8")
    for report_id in ("pan-a", "pan-b"):
        (raw / f"{report_id}.txt").write_text(text, encoding="utf-8")
    assert ingest_reports(raw, curated) == exitcodes.OK
    stamps = {p: p.stat().st_mtime_ns for p in curated.rglob("*") if p.is_file()}
    first = tree(curated)
    assert ingest_reports(raw, curated) == exitcodes.OK
    assert tree(curated) == first
    assert {p: p.stat().st_mtime_ns for p in curated.rglob("*") if p.is_file()} == stamps
    (raw / "pan-b.txt").unlink()
    assert ingest_reports(raw, curated) == exitcodes.OK
    assert [p.name for p in partitions(curated)] == ["pan-a"]
    assert tree(curated) == {k: v for k, v in first.items() if k.startswith("ingested/pan-a/")}
