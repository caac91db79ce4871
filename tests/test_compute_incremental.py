"""The compute stage updates the previous build when a few reports changed.

A handful of generated reports (two of them of one plan, a follow-up of another, a
weights file) go through ingest, validate and compute; then one input changes, the
stages run again, and the computed layer updated in place must equal, file by file and
in the database table by table and view by view, a full build of the same inputs in
another folder.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.compute import DATABASE_NAME, compute_database, weights_path
from pipeline.ingest import ingest_reports
from pipeline.layers import layout
from pipeline.synth import generate_report, report_id_for, report_rng, write_followup, write_reports
from pipeline.validate import validate_curated

#: Clean generated reports (a follow-up needs an earlier report without damage) and one
#: damaged report (unknown statuses, quarantined rows), numbered after them.
REPORT_COUNT, SEED, DAMAGE_RATE, DAMAGED_INDEX = 5, 3, 0.3, 99
FOLLOWUP_SUFFIX = "-suivi"
#: The check mark of the status an activity is given, in a generated report, and the
#: statuses listed.
CHECK = "✅ "
STATUS_LABELS = ("Non entamée", "Progression limitée", "Progression significative", "Complétée")
#: A rates configuration other than the packaged one.
OTHER_CONFIG = """aggregation = "activity_weighted"

[progress_pct]
not_started = 0
limited = 40
substantial = 70
complete = 100
"""


def run_stages(root: Path) -> int:
    """Ingest, validate and compute ``root/raw`` into ``root/curated``; compute's exit code."""
    ingest_reports(root / "raw", root / "curated")
    validate_curated(root / "curated")  # the damaged report has quarantined rows
    return compute_database(root / "curated", None, root / "raw")


def report_ids(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "raw").glob("*.txt"))


def generated(root: Path) -> list[str]:
    """The reports of ``root/raw`` that are not follow-ups."""
    return [r for r in report_ids(root) if not r.endswith(FOLLOWUP_SUFFIX)]


def followup(root: Path) -> str:
    """The follow-up of the first generated report."""
    return generated(root)[0] + FOLLOWUP_SUFFIX


def write_weights(root: Path, report_id: str, weight: float) -> None:
    """A weights file for the first two activities of ``report_id``, as validated."""
    activities = pd.read_parquet(layout(root / "curated").validated / "activities.parquet")
    mine = activities[activities["report_id"] == report_id].sort_values(["commitment_no", "activity_no"]).head(2)
    lines = ["commitment_no,activity_no,weight", *(f"{c},{a},{weight}" for c, a in mine.values[:, 1:3])]
    weights_path(root / "raw", report_id).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """``raw/`` (clean generated reports, a follow-up of the first with a weights file, a
    damaged report) and ``curated/`` computed from it; ``truth/`` keeps the generator's truths."""
    root = tmp_path_factory.mktemp("built")
    truth, raw = root / "truth", root / "raw"
    write_reports(truth, REPORT_COUNT, seed=SEED, damage_rate=0.0)
    write_followup(truth, sorted(truth.glob("*.truth.json"))[0], seed=SEED)
    raw.mkdir()
    for path in truth.glob("*.txt"):
        shutil.move(path, raw / path.name)
    rng = report_rng(SEED, DAMAGED_INDEX)
    damaged = report_id_for(rng, DAMAGED_INDEX)
    (raw / f"{damaged}.txt").write_text(generate_report(rng, damaged, DAMAGE_RATE)[0], encoding="utf-8")
    ingest_reports(raw, root / "curated")
    validate_curated(root / "curated")
    write_weights(root, followup(root), 2.5)
    compute_database(root / "curated", None, raw)
    return root


@pytest.fixture
def work(built, tmp_path) -> Path:
    """A copy of the built folder, to change and compute again."""
    return shutil.copytree(built, tmp_path / "work")


def full_build(work: Path, folder: Path, config: Path | None = None) -> tuple[Path, int]:
    """The computed layer of ``work``'s validated layer built from scratch in ``folder``."""
    curated = shutil.copytree(work / "curated", folder / "curated", ignore=shutil.ignore_patterns("computed"))
    return curated, compute_database(curated, config, work / "raw")


def database_contents(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of the database (rows in ORDER BY ALL), and its catalogue: objects with
    their comments and SQL, columns with their types and comments, constraints. A view's
    rows follow from its SQL and the tables (no view reads the clock or draws at random:
    ``tests/test_batch.py`` checks it), so equal contents mean equal views."""
    catalogue = {
        "objects": "SELECT table_name, comment, sql FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT view_name, comment, sql FROM duckdb_views() WHERE NOT internal",
        "columns": "SELECT table_name, column_name, column_index, data_type, is_nullable, comment "
        "FROM duckdb_columns() WHERE NOT internal",
        "constraints": "SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints()",
        "macros": "SELECT function_name, macro_definition FROM duckdb_functions() WHERE NOT internal",
    }
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' ORDER BY 1"
        ).fetchall()
        contents = {name: con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').df() for (name,) in names}
        for name, sql in catalogue.items():
            contents[f"catalogue: {name}"] = con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").df()
    return contents


def assert_same_computed_layer(updated: Path, rebuilt: Path) -> None:
    """The two computed layers hold the same files: Parquet tables and databases equal
    (every table, every view's SQL), the other files byte for byte."""
    names = sorted(p.name for p in updated.iterdir())
    assert names == sorted(p.name for p in rebuilt.iterdir())
    for name in names:
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(updated / name), pd.read_parquet(rebuilt / name), obj=name)
        elif name != DATABASE_NAME:
            assert (updated / name).read_bytes() == (rebuilt / name).read_bytes(), name
    expected = database_contents(rebuilt / DATABASE_NAME)
    got = database_contents(updated / DATABASE_NAME)
    assert got.keys() == expected.keys()
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def move_first_status(path: Path) -> None:
    """Give the first checked activity of a report the status listed beside its own."""
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if CHECK in line)
    to = at + 1 if any(s in lines[at + 1] for s in STATUS_LABELS) else at - 1
    label = next(s for s in STATUS_LABELS if s in lines[to])
    lines[at] = lines[at].replace(CHECK, "", 1)
    lines[to] = lines[to].replace(label, CHECK + label, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def change_status(work: Path) -> str:
    report_id = generated(work)[0]
    move_first_status(work / "raw" / f"{report_id}.txt")
    return report_id


def remove_report(work: Path) -> str:
    report_id = generated(work)[0]
    (work / "raw" / f"{report_id}.txt").unlink()
    return report_id


def add_followup(work: Path) -> str:
    """A new report in the plan of the second generated report."""
    path = write_followup(work / "truth", work / "truth" / f"{generated(work)[1]}.truth.json", seed=SEED)
    shutil.move(path, work / "raw" / path.name)
    return path.stem


def change_weights(work: Path) -> str:
    write_weights(work, followup(work), 4)
    return followup(work)


def change_nothing(work: Path) -> None:
    return None


#: Each change (it returns the report it changed), and whether it changes a report's
#: text: then ingest and validate run again before compute.
CHANGES = {change_status: True, remove_report: True, add_followup: True, change_weights: False, change_nothing: False}


def plan_period(report_id: str) -> str:
    """The plan period a generated report's name says."""
    return report_id.split("-pan-")[1].removesuffix(FOLLOWUP_SUFFIX)


def read_followers(database: Path, report_id: str | None) -> set[str]:
    """The report that follows ``report_id`` in its plan, per the database's ``report_pairs``."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT later_report_id FROM report_pairs WHERE earlier_report_id = ?", [report_id])
        return {r for (r,) in rows.fetchall()}


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_an_update_recomputes_few_reports_and_gives_the_outputs_of_a_full_build(work, tmp_path, caplog, change):
    lay = layout(work / "curated")
    before = {p.name: p.read_bytes() for p in lay.computed.glob("*.parquet")}
    reports_before = set(report_ids(work))
    followers = read_followers(lay.database, changed := change(work))
    with caplog.at_level(logging.INFO, logger="pipeline.compute"):
        code = run_stages(work) if CHANGES[change] else compute_database(lay.curated, None, work / "raw")
    update_log = caplog.text  # the update's lines only: the full build below logs its own
    rebuilt, full_code = full_build(work, tmp_path / "full")
    assert code == full_code
    assert_same_computed_layer(lay.computed, layout(rebuilt).computed)
    after = {p.name: p.read_bytes() for p in lay.computed.glob("*.parquet")}
    assert (after == before) == (changed is None)
    # The changed report and the reports that follow it in its plan, before and after the change.
    recomputed = {changed, *followers, *read_followers(layout(rebuilt).database, changed)} - {None}
    plans = {plan_period(r) for r in recomputed if r in report_ids(work)}
    counts = f"{len(recomputed)} report(s) of {len(plans)} plan(s) recomputed ({len(recomputed & {changed})} changed)"
    assert f"compute: incremental, {counts}" in update_log
    assert "full rebuild" not in update_log
    assert all(plan_period(r) == plan_period(changed) for r in recomputed)
    assert len(recomputed) < len(reports_before | set(report_ids(work)))


def test_another_configuration_rebuilds_everything(work, tmp_path, caplog):
    config = tmp_path / "rates.toml"
    config.write_text(OTHER_CONFIG, encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="pipeline.compute"):
        compute_database(work / "curated", config, work / "raw")
    assert "compute: full rebuild (the rates configuration changed)" in caplog.text
    assert "compute: incremental" not in caplog.text
    plan = pd.read_parquet(layout(work / "curated").computed / "plan_progress.parquet")
    assert set(plan["aggregation"]) == {"activity_weighted"}
    assert len(plan) == len(report_ids(work))


def test_a_database_modified_after_the_build_is_not_updated(work, caplog):
    database = layout(work / "curated").database
    with duckdb.connect(str(database)) as con:
        con.execute("DELETE FROM findings")
    with caplog.at_level(logging.INFO, logger="pipeline.compute"):
        compute_database(work / "curated", None, work / "raw")
    assert "compute: full rebuild (the database is newer than the layer's provenance" in caplog.text
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM findings").fetchone()[0] > 0
