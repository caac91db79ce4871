"""The scheduled batch, for real: runs, SIGKILL at chosen moments, locks, reruns, bad files.

Moments are chosen with the documented fault hook (:mod:`pipeline.faults`), never by
sleeping: a killed run is killed exactly where the test says, on a quiet or a loaded
machine alike.

A command runs in the test's own process (the ``pgo`` fixture of ``conftest.py``)
unless it must be a process of its own: the runs killed by the fault hook, the two
runs racing for the lock and the shared cold run (whose JSON logs are read whole) run
in children forked from the test (``pgo.forked``,
``pgo.start``: no interpreter to start, no library to import again); the run that holds
the lock while the stage commands try it, and one killed run, are ``python -m
pipeline`` itself. Most tests start from a copy of one cold run on the seed
(``released``), a killed run from it with a changed input.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import duckdb
import frictionless
import pytest

from pipeline import exitcodes
from pipeline.faults import FAULT_POINTS

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem
SEED_SHA = hashlib.sha256(SEED.read_bytes()).hexdigest()
CHANGED_TEXT = SEED.read_text(encoding="utf-8").replace("est de 82%", "est de 83%")
TIMEOUT_S = 300


#: What the checks below found for content already checked (by the SHA-256 of its bytes):
#: the kill tests meet the same seed release and the same database again and again.
_DIGESTS: dict[str, str] = {}
_PACKAGE_ERRORS: dict[str, list] = {}


def database_digest(path: Path) -> str:
    """SHA-256 of a DuckDB file's content: every table row by row, every view's definition
    and the column comments (DuckDB's file bytes vary from one build to the next). A view's
    rows follow from its definition and the tables (no view reads the clock or draws at
    random), so equal digests mean equal views without computing them."""
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    if key in _DIGESTS:
        return _DIGESTS[key]
    h = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
        for (name,) in con.sql(tables).fetchall():
            h.update(repr(con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()).encode())
        views = con.sql("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY ALL").fetchall()
        comments = con.sql("SELECT table_name, column_name, comment FROM duckdb_columns() ORDER BY ALL").fetchall()
        h.update(repr((views, comments)).encode())
    _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


#: SQL that would make a view's rows depend on more than its definition and the tables.
NONDETERMINISTIC_SQL = re.compile(
    r"\b(?:now|random|uuid|gen_random_uuid|current_(?:date|time|timestamp)|today)\b", re.I
)


def test_no_view_reads_the_clock_or_draws_at_random():
    """What lets :func:`database_digest` digest the views' definitions rather than their rows."""
    models = sorted((ROOT / "pipeline" / "sql").glob("*.sql"))
    assert models
    assert [p.name for p in models if NONDETERMINISTIC_SQL.search(p.read_text(encoding="utf-8"))] == []


def folder_sha256(folder: Path) -> str:
    """SHA-256 over every file of ``folder`` (relative path and bytes)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def package_errors(folder: Path) -> list:
    """frictionless's errors on the data package of ``folder`` (none: valid), from the
    bytes of the whole folder: checked once for each distinct content."""
    key = folder_sha256(folder)
    if key not in _PACKAGE_ERRORS:
        report = frictionless.validate(str(folder / "datapackage.json"))
        _PACKAGE_ERRORS[key] = [] if report.valid else report.flatten(["type", "message"])[:5] or ["invalid"]
    return _PACKAGE_ERRORS[key]


def snapshot(workdir: Path) -> dict[str, str]:
    """SHA-256 of every output file: everything under curated/ and exports/ but the
    run log (manifests), the state's timestamps and the lock; the database by content."""
    out = {}
    for top in ("curated", "exports"):
        for path in sorted((workdir / top).rglob("*")):
            rel = path.relative_to(workdir)
            if not path.is_file() or "runs" in rel.parts or path.name in ("state.json", ".pgo.lock"):
                continue
            if path.suffix == ".duckdb":
                out[str(rel)] = database_digest(path)
            else:
                out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def last_manifest(workdir: Path) -> dict:
    return json.loads(sorted((workdir / "curated" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))


def release_record(workdir: Path, report_id: str = SEED_ID) -> dict:
    return json.loads((workdir / "exports" / report_id / "release.json").read_text(encoding="utf-8"))


def state_of(workdir: Path, report_id: str = SEED_ID) -> dict:
    return json.loads((workdir / "curated" / "state.json").read_text(encoding="utf-8"))["reports"][report_id]


def database_findings(workdir: Path, report_id: str) -> list[tuple]:
    with duckdb.connect(str(workdir / "curated" / "computed" / "pgo.duckdb"), read_only=True) as con:
        return con.sql(
            "SELECT stage, severity, code FROM findings WHERE report_id = ? AND severity = 'error' "
            "ORDER BY stage, code",
            params=[report_id],
        ).fetchall()


def assert_release_is_valid_and_whole(workdir: Path, report_id: str = SEED_ID) -> None:
    """frictionless accepts the release; its zip and record match the folder's files."""
    folder = workdir / "exports" / report_id
    assert package_errors(folder) == []
    record = release_record(workdir, report_id)
    for name, entry in record["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"], name
    with zipfile.ZipFile(io.BytesIO((folder / f"{report_id}.zip").read_bytes())) as archive:
        for name in archive.namelist():
            assert archive.read(name) == (folder / name).read_bytes(), name


def temporaries(workdir: Path) -> list[Path]:
    return [p for p in workdir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp")]


@pytest.fixture()
def workdir(tmp_path) -> Path:
    """A folder holding raw/ with the seed report: nothing run yet."""
    (tmp_path / "raw").mkdir()
    shutil.copy(SEED, tmp_path / "raw" / SEED.name)
    return tmp_path


@pytest.fixture(scope="module")
def cold_run(tmp_path_factory, pgo):
    """One full cold run on the seed, logging JSON, in a process of its own (its whole
    stdout and stderr kept): its folder and its result, shared by the tests that only
    read them or copy the folder."""
    work = tmp_path_factory.mktemp("work")
    (work / "raw").mkdir()
    shutil.copy(SEED, work / "raw" / SEED.name)
    result = pgo.forked(work, "--log-format", "json")
    assert result.returncode == exitcodes.OK, result.stderr
    return work, result


@pytest.fixture(scope="module")
def first_run(cold_run) -> Path:
    """The folder of the cold run on the seed (read it only, or copy it: ``released``)."""
    return cold_run[0]


@pytest.fixture(scope="module")
def changed_reference(tmp_path_factory, pgo) -> dict[str, str]:
    """The outputs of one clean cold run on the changed seed (published global rate 83 %)."""
    work = tmp_path_factory.mktemp("reference")
    (work / "raw").mkdir()
    (work / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    result = pgo(work)
    assert result.returncode == exitcodes.OK, result.stderr
    return snapshot(work)


@pytest.fixture()
def released(first_run, tmp_path) -> Path:
    """A private copy of the first run's folder: the seed released."""
    work = tmp_path / "work"
    shutil.copytree(first_run, work)
    return work


def test_cold_run_releases_the_seed_and_writes_a_manifest(first_run):
    release = first_run / "exports" / SEED_ID
    assert (release / f"{SEED_ID}.zip").exists() and (release / "datapackage.json").exists()
    m = last_manifest(first_run)
    assert m["exit_code"] == 0
    assert m["processed"] == [SEED_ID] and m["reasons"][SEED_ID] == "not released"
    assert m["inputs"][SEED_ID]["sha256"] == SEED_SHA
    assert set(m["stages"]) == {"ingest", "validate", "compute", "publish"}
    report = m["reports"][SEED_ID]
    assert report["status"] == "ok" and report["exit_code"] == 0
    assert report["stages"]["ingest"]["how"] == "parsed"
    assert report["stages"]["publish"]["status"] == "released"
    assert report["rows"]["commitments"] == 22 and report["rows"]["activities"] == 147
    assert m["libraries"]["duckdb"].startswith("2.")
    assert state_of(first_run)["status"] == "ok"


def test_every_output_records_what_it_was_built_from(first_run):
    curated = first_run / "curated"
    partition = json.loads((curated / "ingested" / SEED_ID / "provenance.json").read_text(encoding="utf-8"))
    assert partition["built_from"]["source_sha256"] == SEED_SHA
    validated = json.loads((curated / "validated" / "provenance.json").read_text(encoding="utf-8"))["built_from"]
    assert validated["reports"][SEED_ID] == {
        "source_sha256": SEED_SHA,
        "ingest_code": partition["built_from"]["ingest_code"],
    }
    computed = json.loads((curated / "computed" / "provenance.json").read_text(encoding="utf-8"))["built_from"]
    assert computed["reports"][SEED_ID]["weights_sha256"] is None and computed["config_sha256"]
    release = release_record(first_run)["built_from"]
    assert release["source_sha256"] == SEED_SHA
    codes = {k for k in release if k.endswith("_code")}
    assert codes == {"ingest_code", "validate_code", "compute_code", "publish_code"}
    assert len({release[k] for k in release if k.endswith("_code")}) == 4  # one fingerprint per stage
    assert_release_is_valid_and_whole(first_run)


def test_second_run_does_nothing_and_changes_nothing(released, pgo):
    before = snapshot(released)
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "up to date: nothing to do" in result.stderr
    assert snapshot(released) == before


def test_forced_rerun_is_byte_identical(released, pgo):
    before = snapshot(released)
    result = pgo(released, "--force")
    assert result.returncode == exitcodes.OK, result.stderr
    assert snapshot(released) == before


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_run_killed_at_any_moment_is_completed_by_the_next_plain_run(released, changed_reference, pgo, point):
    (released / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    killed = pgo.forked(released, "--force", fault=point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
    assert_release_is_valid_and_whole(released)  # old or new, always a whole valid release
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "nothing to do" not in result.stderr
    assert snapshot(released) == changed_reference
    assert_release_is_valid_and_whole(released)
    assert state_of(released)["status"] == "ok"
    assert temporaries(released) == []


def test_kill_between_folder_and_zip_then_revert_releases_the_reverted_input(released, pgo):
    """Killed between the folder and the zip (both old or both new), twice in a row; the
    second kill leaves the changed input's release; the input reverted, the next run
    releases it again."""
    seed_file = released / "raw" / SEED.name
    seed_file.write_text(CHANGED_TEXT, encoding="utf-8")
    for point in ("publish.after_package_validation", "publish.after_exchange"):
        killed = pgo.forked(released, fault=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        assert_release_is_valid_and_whole(released)
    assert release_record(released)["built_from"]["source_sha256"] != SEED_SHA  # the killed run's release
    shutil.copy(SEED, seed_file)
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert release_record(released)["built_from"]["source_sha256"] == SEED_SHA
    package = json.loads((released / "exports" / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert SEED_SHA in json.dumps(package)
    assert "est de 82%" in SEED.read_text(encoding="utf-8")


def test_stage_commands_during_a_run_exit_5_and_leave_it_unharmed(released, first_run, pgo):
    expected = snapshot(first_run)
    run = subprocess.Popen(
        **pgo.python_args(released, "--force", fault="publish.after_staging", action="pause"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pause = released / "paused"
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not pause.exists():
            assert run.poll() is None, run.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.02)  # polling for the pause file: an event, not a guessed moment
        commands = (("publish", ()), ("ingest", ()), ("validate", ()), ("compute", ()), ("run", ("--force",)))
        for command, args in commands:
            result = pgo(released, *args, command=command)
            assert result.returncode == exitcodes.LOCKED, (command, result.stderr)
            assert "holds" in result.stderr
    finally:
        pause.unlink(missing_ok=True)
    _, stderr = run.communicate(timeout=TIMEOUT_S)
    assert run.returncode == exitcodes.OK, stderr
    assert snapshot(released) == expected


def test_two_runs_started_together_one_waits_out(workdir, pgo):
    runs = [pgo.start(workdir, "--force") for _ in range(2)]  # two processes, on a folder never run
    results = [run.wait() for run in runs]
    codes = sorted(result.returncode for result in results)
    assert codes == [exitcodes.OK, exitcodes.LOCKED], [result.stderr[-2000:] for result in results]
    assert_release_is_valid_and_whole(workdir)


def test_a_crashing_stage_exits_70_naming_it_and_the_next_run_retries(released, pgo):
    (released / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    for _ in range(2):
        result = pgo(released, fault="compute.after_tables", action="crash")
        assert result.returncode == exitcodes.INTERNAL_ERROR, result.stderr
        assert "stage compute crashed" in result.stderr and SEED_ID in result.stderr
        failed = {"status": "failed", "exit_code": 70, "stage": "compute", "last_run": None}
        assert state_of(released) | {"last_run": None} == failed
    status = pgo(released, command="status")
    assert "failed (exit 70 at compute)" in status.stdout
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    changed_sha = hashlib.sha256(CHANGED_TEXT.encode()).hexdigest()
    assert release_record(released)["built_from"]["source_sha256"] == changed_sha


def test_bad_weights_fail_every_run_until_fixed_and_the_error_is_in_the_database(released, pgo):
    weights = released / "raw" / f"{SEED_ID}.weights.csv"
    weights.write_text("commitment_no,activity_no,weight\n1,1,-2\n", encoding="utf-8")
    for _ in range(2):
        result = pgo(released)
        assert result.returncode == exitcodes.INPUT_ERROR, result.stderr
        assert f"{SEED_ID}.weights.csv" in result.stderr and "nothing to do" not in result.stderr
        assert database_findings(released, SEED_ID) == [("compute", "error", "weights_file_invalid")]
        assert state_of(released)["status"] == "failed" and state_of(released)["exit_code"] == exitcodes.INPUT_ERROR
        assert release_record(released)["built_from"]["weights_sha256"] is None  # the earlier release stays
    weights.write_text("commitment_no,activity_no,weight\n1,1,2\n", encoding="utf-8")
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    weights_sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert release_record(released)["built_from"]["weights_sha256"] == weights_sha
    assert database_findings(released, SEED_ID) == []


def test_bad_files_do_not_stop_the_seed_and_fail_every_run(workdir, pgo):
    raw = workdir / "raw"
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 4)
    lines = SEED.read_text(encoding="utf-8").split("\n")
    (raw / "truncated.txt").write_text("\n".join(lines[:1500]), encoding="utf-8")
    (raw / "Not A Report ID.txt").write_text("x", encoding="utf-8")
    for _ in range(2):
        result = pgo(workdir)
        assert result.returncode == exitcodes.INPUT_ERROR
        assert "empty.txt" in result.stderr and "binary.txt" in result.stderr and "Not A Report ID.txt" in result.stderr
    assert_release_is_valid_and_whole(workdir)
    assert_release_is_valid_and_whole(workdir, "truncated")  # a truncated report is still a report
    assert database_findings(workdir, "empty") == [("ingest", "error", "file_empty")]
    assert database_findings(workdir, "binary") == [("ingest", "error", "file_binary")]
    assert state_of(workdir, "empty")["status"] == "failed"
    status = pgo(workdir, command="status")
    assert "refused" in status.stdout and "Not A Report ID.txt" in status.stdout


def test_only_the_changed_report_is_reprocessed(released, pgo):
    # Another plan's report: a report's page shows the other reports of its plan, so a
    # change to a report of the seed's own plan releases the seed again (by design).
    other_plan = {"2021-2023": "2024-2026", "2021 – 2023": "2024 – 2026", "2021 – 2022": "2024 – 2025"}
    text = SEED.read_text(encoding="utf-8")
    for period, other in other_plan.items():
        text = text.replace(period, other)
    (released / "raw" / "copy-b.txt").write_text(text, encoding="utf-8")
    assert pgo(released).returncode == exitcodes.OK
    seed_zip = released / "exports" / SEED_ID / f"{SEED_ID}.zip"
    seed_mtime = seed_zip.stat().st_mtime_ns
    assert "est de 82%" in text
    (released / "raw" / "copy-b.txt").write_text(text.replace("est de 82%", "est de 83%"), encoding="utf-8")
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    m = last_manifest(released)
    assert m["processed"] == ["copy-b"] and m["up_to_date"] == [SEED_ID]
    assert seed_zip.stat().st_mtime_ns == seed_mtime


def test_a_report_removed_from_raw_is_retracted(released, pgo):
    (released / "raw" / "copy-b.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert pgo(released).returncode == exitcodes.OK
    (released / "raw" / "copy-b.txt").unlink()
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "copy-b" in result.stderr and "retracted" in result.stderr
    assert not (released / "exports" / "copy-b").exists()
    assert (released / "exports" / "_retracted" / "copy-b" / "release.json").exists()
    assert not (released / "curated" / "ingested" / "copy-b").exists()
    assert "nothing to do" in pgo(released).stderr


def test_status_command(first_run, pgo):
    out = pgo(first_run, command="status")
    assert out.returncode == 0
    line = next(line for line in out.stdout.splitlines() if line.startswith(SEED_ID))
    assert "up to date" in line


def test_an_interrupted_run_shows_in_status_and_is_redone(released, pgo):
    # `python -m pipeline` itself, killed: the one kill that starts a new interpreter.
    killed = pgo.python(released, "--force", fault="validate.before_provenance")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert "interrupted" in pgo(released, command="status").stdout
    result = pgo(released)
    assert result.returncode == exitcodes.OK and "interrupted" in result.stderr


def test_a_malformed_config_is_a_usage_error_and_publishes_nothing(workdir, tmp_path, pgo):
    config = tmp_path / "bad.toml"
    config.write_text('aggregation = "median"\n', encoding="utf-8")
    result = pgo(workdir, "--config", str(config))
    assert result.returncode == exitcodes.USAGE
    assert "bad.toml" in result.stderr
    assert not (workdir / "exports" / SEED_ID).exists()


def test_json_logs_are_one_json_object_per_line_and_nothing_else(cold_run):
    _, result = cold_run  # a process of its own: its whole stdout and stderr
    assert result.returncode == exitcodes.OK
    assert result.stdout == ""
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert {e["logger"] for e in events} >= {"pipeline.run", "pipeline.ingest", "pipeline.validate", "pipeline.publish"}
    assert any(e.get("check") == "indicator_rate_without_percent" and e.get("rows_failed") == 5 for e in events)


def test_a_new_publisher_republishes_and_the_cli_writes_synthetic_reports(released, pgo):
    synth = pgo(released, "--reports", "2", "--seed", "3", "--out", "raw", command="synth")
    assert synth.returncode == 0, synth.stderr
    assert len(list((released / "raw").glob("synth-*.truth.json"))) == 2
    assert pgo(released).returncode in (exitcodes.OK, exitcodes.QUARANTINED)
    result = pgo(released, "--publisher", "Ministère de la Transition Numérique")
    assert "nothing to do" not in result.stderr
    package = json.loads((released / "exports" / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert "Ministère de la Transition Numérique" in json.dumps(package, ensure_ascii=False)
