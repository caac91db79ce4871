"""The scheduled batch, for real: subprocess runs, SIGKILL, a concurrent run, reruns, bad files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import exitcodes

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem


def pgo(workdir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw", "raw", "--curated", "curated", "--exports", "exports", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def snapshot(workdir: Path) -> dict[str, str]:
    """SHA-256 of every Parquet, CSV and JSON output (manifests and state apart)."""
    out = {}
    for path in sorted(workdir.rglob("*")):
        rel = path.relative_to(workdir)
        if rel.parts[0] == "raw" or "runs" in rel.parts or path.name in ("state.json", "meta.json") or not path.is_file():
            continue
        if path.suffix in {".parquet", ".csv", ".json", ".zip"}:
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture()
def workdir(tmp_path) -> Path:
    (tmp_path / "raw").mkdir()
    shutil.copy(SEED, tmp_path / "raw" / SEED.name)
    return tmp_path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """One full cold run on the seed, shared by the tests that only read it."""
    work = tmp_path_factory.mktemp("work")
    (work / "raw").mkdir()
    shutil.copy(SEED, work / "raw" / SEED.name)
    result = pgo(work)
    assert result.returncode == exitcodes.OK, result.stderr
    return work


def test_cold_run_releases_the_seed_and_writes_a_manifest(first_run):
    assert (first_run / "exports" / f"{SEED_ID}.zip").exists()
    assert (first_run / "exports" / SEED_ID / "datapackage.json").exists()
    manifests = sorted((first_run / "curated" / "runs").glob("*.json"))
    assert len(manifests) == 1
    m = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert m["exit_code"] == 0
    assert m["processed"] == [SEED_ID]
    assert m["inputs"][SEED_ID]["sha256"] == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert set(m["stages"]) == {"ingest", "validate", "compute", "publish"}
    report = m["reports"][SEED_ID]
    assert report["status"] == "ok"
    assert report["stages"]["ingest"]["how"] == "parsed" and report["stages"]["ingest"]["status"] == "ok"
    assert report["stages"]["publish"]["status"] == "released" and report["stages"]["publish"]["duration_s"] > 0
    assert report["quarantined_rows"] == 0
    assert report["findings"]["ingest/warning"] >= 10
    assert report["rows"]["commitments"] == 22 and report["rows"]["activities"] == 147
    assert m["libraries"]["duckdb"].startswith("2.")
    assert any(path.endswith("activities.parquet") for path in m["outputs"])


def test_second_run_does_nothing_and_changes_nothing(first_run):
    before = snapshot(first_run)
    result = pgo(first_run)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "up to date: nothing to do" in result.stderr
    assert snapshot(first_run) == before


def test_forced_rerun_is_byte_identical(first_run, tmp_path):
    before = snapshot(first_run)
    result = pgo(first_run, "--force")
    assert result.returncode == exitcodes.OK, result.stderr
    assert snapshot(first_run) == before


def test_a_second_run_while_one_holds_the_lock_exits_at_once(first_run):
    import fcntl

    fd = os.open(first_run / "curated" / ".pgo.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        before = snapshot(first_run)
        started = time.perf_counter()
        result = pgo(first_run, "--force")
        assert result.returncode == exitcodes.LOCKED
        assert "another pipeline run holds" in result.stderr
        assert time.perf_counter() - started < 30
        assert snapshot(first_run) == before
    finally:
        os.close(fd)


def test_two_runs_started_together_one_waits_out(workdir):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "pipeline", "run", "--force"]
    procs = [subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in procs)
    assert codes == [exitcodes.OK, exitcodes.LOCKED]
    assert (workdir / "exports" / f"{SEED_ID}.zip").exists()


def test_a_killed_run_leaves_the_previous_outputs_and_the_next_run_completes(workdir):
    assert pgo(workdir).returncode == exitcodes.OK
    before = snapshot(workdir)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.8, 1.6, 2.4):
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--force"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Whatever the moment, every previous output is still there and readable.
        for rel in before:
            assert (workdir / rel).exists(), rel
        import pandas as pd

        assert len(pd.read_parquet(workdir / "curated" / "activities.parquet")) == 147
    result = pgo(workdir)
    assert result.returncode == exitcodes.OK, result.stderr
    assert snapshot(workdir) == before
    leftovers = [p for p in workdir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp")]
    assert leftovers == []


def test_bad_files_do_not_stop_the_seed(workdir):
    raw = workdir / "raw"
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 4)
    lines = SEED.read_text(encoding="utf-8").split("\n")
    (raw / "truncated.txt").write_text("\n".join(lines[:1500]), encoding="utf-8")
    (raw / "Not A Report ID.txt").write_text("x", encoding="utf-8")
    result = pgo(workdir)
    assert result.returncode == exitcodes.INPUT_ERROR
    assert "empty.txt" in result.stderr and "binary.txt" in result.stderr and "Not A Report ID.txt" in result.stderr
    assert (workdir / "exports" / f"{SEED_ID}.zip").exists()
    assert (workdir / "exports" / "truncated.zip").exists()  # a truncated report is still a report
    import pandas as pd

    f = pd.read_parquet(workdir / "curated" / "findings.parquet")
    errors = f[f.severity == "error"].groupby("report_id")["code"].first().to_dict()
    assert errors["empty"] == "file_empty" and errors["binary"] == "file_binary"


def test_only_the_changed_report_is_reprocessed(workdir):
    text = SEED.read_text(encoding="utf-8")
    (workdir / "raw" / "copy-b.txt").write_text(text, encoding="utf-8")
    assert pgo(workdir).returncode == exitcodes.OK
    seed_zip = workdir / "exports" / f"{SEED_ID}.zip"
    seed_mtime = seed_zip.stat().st_mtime_ns
    (workdir / "raw" / "copy-b.txt").write_text(text.replace("est de 82%", "est de 83%"), encoding="utf-8")
    result = pgo(workdir)
    assert result.returncode == exitcodes.OK, result.stderr
    m = json.loads(sorted((workdir / "curated" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert m["processed"] == ["copy-b"] and m["up_to_date"] == [SEED_ID]
    assert seed_zip.stat().st_mtime_ns == seed_mtime


def test_status_command(first_run):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "status"], cwd=first_run, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    line = [l for l in out.stdout.splitlines() if l.startswith(SEED_ID)][0]
    assert "up to date" in line


def test_a_malformed_weights_file_blocks_only_its_report(workdir):
    text = SEED.read_text(encoding="utf-8")
    (workdir / "raw" / "copy-b.txt").write_text(text, encoding="utf-8")
    (workdir / "raw" / "copy-b.weights.csv").write_text("commitment_no,activity_no,weight\n1,1,-2\n", encoding="utf-8")
    result = pgo(workdir)
    assert result.returncode == exitcodes.INPUT_ERROR
    assert "copy-b.weights.csv" in result.stderr
    assert (workdir / "exports" / f"{SEED_ID}.zip").exists()
    assert not (workdir / "exports" / "copy-b.zip").exists()
    import pandas as pd

    f = pd.read_parquet(workdir / "curated" / "findings.parquet")
    bad = f[(f.report_id == "copy-b") & (f.severity == "error")]
    assert bad[["stage", "code"]].values.tolist() == [["compute", "weights_file_invalid"]]


def test_a_malformed_config_is_a_usage_error_and_publishes_nothing(workdir, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('aggregation = "median"\n', encoding="utf-8")
    result = pgo(workdir, "--config", str(config))
    assert result.returncode == exitcodes.USAGE
    assert "bad.toml" in result.stderr
    assert not (workdir / "exports" / f"{SEED_ID}.zip").exists()


def test_json_logs_are_one_json_object_per_line_and_nothing_else(workdir):
    result = pgo(workdir, "--log-format", "json")
    assert result.returncode == exitcodes.OK
    assert result.stdout == ""
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert {e["logger"] for e in events} >= {"pipeline.run", "pipeline.ingest", "pipeline.validate", "pipeline.publish"}
    assert any(e.get("check") == "indicator_rate_without_percent" and e.get("rows_failed") == 5 for e in events)


def test_a_new_publisher_republishes_and_the_cli_writes_synthetic_reports(workdir):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    synth = subprocess.run(
        [sys.executable, "-m", "pipeline", "synth", "--reports", "2", "--seed", "3", "--out", "raw"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
    )
    assert synth.returncode == 0, synth.stderr
    assert len(list((workdir / "raw").glob("synth-*.truth.json"))) == 2
    assert pgo(workdir).returncode in (exitcodes.OK, exitcodes.QUARANTINED)
    result = pgo(workdir, "--publisher", "Ministère de la Transition Numérique")
    assert "nothing to do" not in result.stderr
    package = json.loads((workdir / "exports" / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert "Ministère de la Transition Numérique" in json.dumps(package, ensure_ascii=False)
