"""The scheduled batch: ``run`` = lock, plan, ingest, validate, compute, publish, record.

What belongs here: the lock that keeps two runs apart, the plan that says which
reports changed since their last successful run (fingerprints of input, weights,
configuration and code), the order of the stages, the state of the last run and the
run manifest (``curated/runs/<UTC timestamp>.json``). The stages' own work stays in
their modules, imported only when there is work to do, so that a run over unchanged
reports answers in well under a second.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from pipeline import __version__, exitcodes
from pipeline.atomic import write_text_atomic
from pipeline.fingerprint import code_fingerprint, file_sha256

log = logging.getLogger("pipeline.run")

LOCK_FILE = ".pgo.lock"
STATE_FILE = "state.json"
RUNS_DIR = "runs"
LIBRARIES = ["pandas", "pyarrow", "pandera", "duckdb", "frictionless"]


class RunLocked(Exception):
    """Another run holds the lock."""


@contextlib.contextmanager
def run_lock(curated_dir: Path):
    """Hold an exclusive, non-blocking lock on ``curated/.pgo.lock`` for the run.

    The kernel releases it when the process dies, so a killed run never leaves a
    stale lock behind. Raises :class:`RunLocked` at once if another run holds it.
    """
    curated_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(curated_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"another pipeline run holds {curated_dir / LOCK_FILE}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


@dataclass
class Options:
    raw: Path = Path("raw")
    curated: Path = Path("curated")
    exports: Path = Path("exports")
    config: Path | None = None
    report: str | None = None
    force: bool = False
    publisher: str | None = None


@dataclass
class Plan:
    """Which reports a run must process, and the fingerprints it will record.

    A fingerprint joins the SHA-256 of the report, of its weights file, of the rates
    configuration and of the code, and the publisher named in the packages.
    """

    fingerprints: dict[str, str]
    inputs: dict[str, dict]
    code_fingerprint: str
    to_process: list[str]
    up_to_date: list[str] = field(default_factory=list)


def default_config_path() -> Path:
    return Path(__file__).resolve().parent / "config" / "rates.toml"


def plan_run(opts: Options, state: dict) -> Plan:
    """Fingerprint every report and decide which ones must be processed."""
    code_fp = code_fingerprint()
    config_path = opts.config or default_config_path()
    config_sha = file_sha256(config_path)
    fingerprints, inputs = {}, {}
    for path in sorted(Path(opts.raw).glob("*.txt")):
        report_id = path.name[: -len(".txt")]
        weights = Path(opts.raw) / f"{report_id}.weights.csv"
        inputs[report_id] = {
            "file": str(path),
            "sha256": file_sha256(path),
            "weights_file": str(weights) if weights.exists() else None,
            "weights_sha256": file_sha256(weights),
        }
        parts = [inputs[report_id]["sha256"], inputs[report_id]["weights_sha256"], config_sha, code_fp, opts.publisher or ""]
        fingerprints[report_id] = ":".join(str(p) for p in parts)
    previous = state.get("reports", {})
    selected = [r for r in fingerprints if opts.report in (None, r)]
    to_process, up_to_date = [], []
    for report_id in selected:
        last = previous.get(report_id, {})
        released = (Path(opts.exports) / f"{report_id}.zip").exists()
        if not opts.force and last.get("status") == "ok" and last.get("fingerprint") == fingerprints[report_id] and released:
            up_to_date.append(report_id)
        else:
            to_process.append(report_id)
    return Plan(fingerprints, inputs, code_fp, to_process, up_to_date)


def read_state(curated_dir: Path) -> dict:
    try:
        return json.loads((Path(curated_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def remove_temporaries(*folders: Path) -> None:
    """Remove what a killed run left half-written (temporary files and folders).

    Called under the lock, so no other run is writing them.
    """
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob(".*"):
            if path.name.endswith(".tmp") or path.name.startswith(".tmp"):
                log.info("removing %s left by an interrupted run", path)
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def library_versions() -> dict[str, str | None]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_pipeline(opts: Options) -> int:
    """Run every stage over the reports that need it; return the worst exit code met."""
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        with run_lock(Path(opts.curated)):
            return _run_locked(opts, stamp, started)
    except RunLocked as exc:
        log.error("%s: not starting (exit code %d)", exc, exitcodes.LOCKED)
        return exitcodes.LOCKED


def _run_locked(opts: Options, stamp: str, started: float) -> int:
    curated = Path(opts.curated)
    if not Path(opts.raw).is_dir():
        log.error("raw folder %s does not exist", opts.raw)
        return exitcodes.USAGE
    if opts.config is not None and not Path(opts.config).is_file():
        log.error("configuration file %s does not exist", opts.config)
        return exitcodes.USAGE
    remove_temporaries(curated, Path(opts.exports))
    state = read_state(curated)
    plan = plan_run(opts, state)
    if opts.report is not None and opts.report not in plan.fingerprints:
        log.error("no report %s in %s (expected %s)", opts.report, opts.raw, Path(opts.raw) / f"{opts.report}.txt")
        return exitcodes.USAGE
    # A report taken out of raw/ changes the combined tables: they are rebuilt.
    removed = sorted(set(state.get("reports", {})) - set(plan.fingerprints))
    if removed:
        log.info("report(s) no longer in raw/ (their last release stays in exports/): %s", ", ".join(removed))
    stages: dict[str, dict] = {}
    if not plan.to_process and not (removed and opts.report is None):
        log.info("%d report(s) up to date: nothing to do", len(plan.up_to_date))
        _write_manifest(curated, stamp, opts, plan, stages, {}, exitcodes.OK, started, {})
        return exitcodes.OK

    from pipeline.stages import run_stages

    log.info("processing %d report(s): %s", len(plan.to_process), ", ".join(plan.to_process))
    if plan.up_to_date:
        log.info("%d report(s) up to date", len(plan.up_to_date))
    code, stages, per_report = run_stages(opts, plan.to_process)
    new_state = {"reports": {}}
    for report_id, fp in plan.fingerprints.items():
        old = state.get("reports", {}).get(report_id)
        if report_id in plan.to_process:
            ok = per_report.get(report_id, {}).get("status") == "ok"
            new_state["reports"][report_id] = {
                "fingerprint": fp,
                "status": "ok" if ok else "failed",
                "last_run": stamp,
            }
        elif old is not None:
            new_state["reports"][report_id] = old
    write_text_atomic(curated / STATE_FILE, json.dumps(new_state, indent=2, sort_keys=True) + "\n")
    from pipeline.stages import output_hashes

    _write_manifest(curated, stamp, opts, plan, stages, per_report, code, started, output_hashes(curated))
    log.info("run finished with exit code %d in %.2f s", code, time.perf_counter() - started)
    return code


def _write_manifest(curated: Path, stamp: str, opts: Options, plan: Plan, stages: dict, per_report: dict, code: int, started: float, outputs: dict) -> None:
    manifest = {
        "run_id": stamp,
        "started_utc": stamp,
        "duration_s": round(time.perf_counter() - started, 3),
        "exit_code": code,
        "options": {k: (str(v) if v is not None else None) for k, v in vars(opts).items()},
        "pipeline_version": __version__,
        "code_fingerprint": plan.code_fingerprint,
        "python": platform.python_version(),
        "libraries": library_versions(),
        "config": {"file": str(opts.config or default_config_path()), "sha256": file_sha256(opts.config or default_config_path())},
        "inputs": plan.inputs,
        "up_to_date": plan.up_to_date,
        "processed": plan.to_process,
        "stages": stages,
        "reports": per_report,
        "outputs": outputs,
    }
    write_text_atomic(curated / RUNS_DIR / f"{stamp}.json", json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
