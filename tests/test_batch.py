"""The scheduled batch, for real: subprocess runs, SIGKILL at chosen moments, locks, reruns, bad files.

Moments are chosen with the documented fault hook (:mod:`pipeline.faults`), never by
sleeping: a killed run is killed exactly where the test says, on a quiet or a loaded
machine alike.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
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


def pgo_command(workdir: Path, command: str, *args: str, fault: str | None = None, action: str = "kill", **popen) -> list | dict:
    cmd = [sys.executable, "-m", "pipeline", command, *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PGO_FAULT_POINT", None)
    if fault is not None:
        env.update({"PGO_FAULT_POINT": fault, "PGO_FAULT_ACTION": action, "PGO_FAULT_PAUSE_FILE": str(workdir / "paused")})
    return {"args": cmd, "cwd": workdir, "env": env, **popen}


def pgo(workdir: Path, *args: str, fault: str | None = None, action: str = "kill", command: str = "run") -> subprocess.CompletedProcess:
    if command == "run":
        args = ("--raw", "raw", "--curated", "curated", "--exports", "exports", *args)
    kwargs = pgo_command(workdir, command, *args, fault=fault, action=action)
    return subprocess.run(**kwargs, capture_output=True, text=True, timeout=TIMEOUT_S)


def database_digest(path: Path) -> str:
    """SHA-256 of a DuckDB file's content: every table and view, row by row, and the
    column comments (DuckDB's file bytes vary from one build to the next)."""
    h = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.sql("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        for name in names:
            h.update(repr(con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()).encode())
        h.update(repr(con.sql("SELECT table_name, column_name, comment FROM duckdb_columns() ORDER BY ALL").fetchall()).encode())
    return h.hexdigest()


def snapshot(workdir: Path) -> dict[str, str]:
    """SHA-256 of every output file: everything under curated/ and exports/ but the
    run log (manifests), the state's timestamps and the lock; the database by content."""
    out = {}
    for top in ("curated", "exports"):
        for path in sorted((workdir / top).rglob("*")):
            rel = path.relative_to(workdir)
            if not path.is_file() or "runs" in rel.parts or path.name in ("state.json", ".pgo.lock"):
                continue
            digest = database_digest(path) if path.suffix == ".duckdb" else hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(rel)] = digest
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
            "SELECT stage, severity, code FROM findings WHERE report_id = ? AND severity = 'error' ORDER BY stage, code",
            params=[report_id],
        ).fetchall()


def assert_release_is_valid_and_whole(workdir: Path, report_id: str = SEED_ID) -> None:
    """frictionless accepts the release; its zip and record match the folder's files."""
    folder = workdir / "exports" / report_id
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["type", "message"])[:5]
    record = release_record(workdir, report_id)
    for name, entry in record["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"], name
    with zipfile.ZipFile(io.BytesIO((folder / f"{report_id}.zip").read_bytes())) as archive:
        for name in archive.namelist():
            assert archive.read(name) == (folder / name).read_bytes(), name


@pytest.fixture()
def workdir(tmp_path) -> Path:
    (tmp_path / "raw").mkdir()
    shutil.copy(SEED, tmp_path / "raw" / SEED.name)
    return tmp_path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """One full cold run on the seed, shared by the tests that only read it or copy it."""
    work = tmp_path_factory.mktemp("work")
    (work / "raw").mkdir()
    shutil.copy(SEED, work / "raw" / SEED.name)
    result = pgo(work)
    assert result.returncode == exitcodes.OK, result.stderr
    return work


@pytest.fixture(scope="module")
def changed_reference(tmp_path_factory) -> dict[str, str]:
    """The outputs of one clean run on the changed seed (published global rate 83 %)."""
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
    assert validated["reports"][SEED_ID] == {"source_sha256": SEED_SHA, "ingest_code": partition["built_from"]["ingest_code"]}
    computed = json.loads((curated / "computed" / "provenance.json").read_text(encoding="utf-8"))["built_from"]
    assert computed["reports"][SEED_ID]["weights_sha256"] is None and computed["config_sha256"]
    release = release_record(first_run)["built_from"]
    assert release["source_sha256"] == SEED_SHA
    assert {k for k in release if k.endswith("_code")} == {"ingest_code", "validate_code", "compute_code", "publish_code"}
    assert len({release[k] for k in release if k.endswith("_code")}) == 4  # one fingerprint per stage
    assert_release_is_valid_and_whole(first_run)


def test_second_run_does_nothing_and_changes_nothing(first_run):
    before = snapshot(first_run)
    result = pgo(first_run)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "up to date: nothing to do" in result.stderr
    assert snapshot(first_run) == before


def test_forced_rerun_is_byte_identical(released):
    before = snapshot(released)
    result = pgo(released, "--force")
    assert result.returncode == exitcodes.OK, result.stderr
    assert snapshot(released) == before


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_run_killed_at_any_moment_is_completed_by_the_next_plain_run(released, changed_reference, point):
    (released / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    killed = pgo(released, "--force", fault=point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
    assert_release_is_valid_and_whole(released)  # old or new, always a whole valid release
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "nothing to do" not in result.stderr
    assert snapshot(released) == changed_reference
    assert_release_is_valid_and_whole(released)
    assert state_of(released)["status"] == "ok"
    assert [p for p in released.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp")] == []


def test_kill_during_publish_then_revert_releases_the_reverted_input(released):
    seed_file = released / "raw" / SEED.name
    seed_file.write_text(CHANGED_TEXT, encoding="utf-8")
    killed = pgo(released, fault="publish.after_exchange")
    assert killed.returncode == -signal.SIGKILL
    assert release_record(released)["built_from"]["source_sha256"] != SEED_SHA  # the killed run's release
    shutil.copy(SEED, seed_file)
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert release_record(released)["built_from"]["source_sha256"] == SEED_SHA
    package = json.loads((released / "exports" / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert SEED_SHA in json.dumps(package)
    assert "est de 82%" in SEED.read_text(encoding="utf-8")


def test_kill_between_folder_and_zip_leaves_both_old_or_both_new(released):
    (released / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    for point in ("publish.after_package_validation", "publish.after_exchange"):
        assert pgo(released, fault=point).returncode == -signal.SIGKILL
        assert_release_is_valid_and_whole(released)


def test_stage_commands_during_a_run_exit_5_and_leave_it_unharmed(released, first_run):
    expected = snapshot(first_run)
    run = subprocess.Popen(
        **pgo_command(released, "run", "--force", fault="publish.after_staging", action="pause"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pause = released / "paused"
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not pause.exists():
            assert run.poll() is None, run.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.02)  # polling for the pause file: an event, not a guessed moment
        for command, args in (("publish", ()), ("ingest", ()), ("validate", ()), ("compute", ()), ("run", ("--force",))):
            result = pgo(released, *args, command=command)
            assert result.returncode == exitcodes.LOCKED, (command, result.stderr)
            assert "holds" in result.stderr
    finally:
        pause.unlink(missing_ok=True)
    assert run.wait(timeout=TIMEOUT_S) == exitcodes.OK, run.communicate()[1]
    assert snapshot(released) == expected


def test_two_runs_started_together_one_waits_out(workdir):
    procs = [
        subprocess.Popen(**pgo_command(workdir, "run", "--force"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=TIMEOUT_S) for p in procs)
    for p in procs:
        p.communicate()
    assert codes == [exitcodes.OK, exitcodes.LOCKED]
    assert_release_is_valid_and_whole(workdir)


def test_a_crashing_stage_exits_70_naming_it_and_the_next_run_retries(released):
    (released / "raw" / SEED.name).write_text(CHANGED_TEXT, encoding="utf-8")
    for _ in range(2):
        result = pgo(released, fault="compute.after_tables", action="crash")
        assert result.returncode == exitcodes.INTERNAL_ERROR, result.stderr
        assert "stage compute crashed" in result.stderr and SEED_ID in result.stderr
        assert state_of(released) | {"last_run": None} == {"status": "failed", "exit_code": 70, "stage": "compute", "last_run": None}
    status = pgo(released, command="status")
    assert "failed (exit 70 at compute)" in status.stdout
    result = pgo(released)
    assert result.returncode == exitcodes.OK, result.stderr
    assert release_record(released)["built_from"]["source_sha256"] == hashlib.sha256(CHANGED_TEXT.encode()).hexdigest()


def test_bad_weights_fail_every_run_until_fixed_and_the_error_is_in_the_database(released):
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
    assert release_record(released)["built_from"]["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert database_findings(released, SEED_ID) == []


def test_bad_files_do_not_stop_the_seed_and_fail_every_run(workdir):
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


def test_only_the_changed_report_is_reprocessed(workdir):
    text = SEED.read_text(encoding="utf-8")
    (workdir / "raw" / "copy-b.txt").write_text(text, encoding="utf-8")
    assert pgo(workdir).returncode == exitcodes.OK
    seed_zip = workdir / "exports" / SEED_ID / f"{SEED_ID}.zip"
    seed_mtime = seed_zip.stat().st_mtime_ns
    (workdir / "raw" / "copy-b.txt").write_text(CHANGED_TEXT, encoding="utf-8")
    result = pgo(workdir)
    assert result.returncode == exitcodes.OK, result.stderr
    m = last_manifest(workdir)
    assert m["processed"] == ["copy-b"] and m["up_to_date"] == [SEED_ID]
    assert seed_zip.stat().st_mtime_ns == seed_mtime


def test_a_report_removed_from_raw_is_retracted(workdir):
    (workdir / "raw" / "copy-b.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert pgo(workdir).returncode == exitcodes.OK
    (workdir / "raw" / "copy-b.txt").unlink()
    result = pgo(workdir)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "copy-b" in result.stderr and "retracted" in result.stderr
    assert not (workdir / "exports" / "copy-b").exists()
    assert (workdir / "exports" / "_retracted" / "copy-b" / "release.json").exists()
    assert not (workdir / "curated" / "ingested" / "copy-b").exists()
    assert "nothing to do" in pgo(workdir).stderr


def test_status_command(first_run):
    out = pgo(first_run, command="status")
    assert out.returncode == 0
    line = [l for l in out.stdout.splitlines() if l.startswith(SEED_ID)][0]
    assert "up to date" in line


def test_an_interrupted_run_shows_in_status_and_is_redone(released):
    assert pgo(released, "--force", fault="validate.before_provenance").returncode == -signal.SIGKILL
    assert "interrupted" in pgo(released, command="status").stdout
    result = pgo(released)
    assert result.returncode == exitcodes.OK and "interrupted" in result.stderr


def test_a_malformed_config_is_a_usage_error_and_publishes_nothing(workdir, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('aggregation = "median"\n', encoding="utf-8")
    result = pgo(workdir, "--config", str(config))
    assert result.returncode == exitcodes.USAGE
    assert "bad.toml" in result.stderr
    assert not (workdir / "exports" / SEED_ID).exists()


def test_json_logs_are_one_json_object_per_line_and_nothing_else(workdir):
    result = pgo(workdir, "--log-format", "json")
    assert result.returncode == exitcodes.OK
    assert result.stdout == ""
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert {e["logger"] for e in events} >= {"pipeline.run", "pipeline.ingest", "pipeline.validate", "pipeline.publish"}
    assert any(e.get("check") == "indicator_rate_without_percent" and e.get("rows_failed") == 5 for e in events)


def test_a_new_publisher_republishes_and_the_cli_writes_synthetic_reports(workdir):
    synth = pgo(workdir, "--reports", "2", "--seed", "3", "--out", "raw", command="synth")
    assert synth.returncode == 0, synth.stderr
    assert len(list((workdir / "raw").glob("synth-*.truth.json"))) == 2
    assert pgo(workdir).returncode in (exitcodes.OK, exitcodes.QUARANTINED)
    result = pgo(workdir, "--publisher", "Ministère de la Transition Numérique")
    assert "nothing to do" not in result.stderr
    package = json.loads((workdir / "exports" / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert "Ministère de la Transition Numérique" in json.dumps(package, ensure_ascii=False)
