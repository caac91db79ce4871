"""The scheduled batch: ``run`` = lock, plan, mark, ingest, validate, compute, publish, record.

What belongs here: the lock that every writing command takes, the plan that compares
the records each output carries (:mod:`pipeline.layers`) with the inputs and code as
they are now, the per-report state (in progress, ok, failed with its exit code) and
the run manifest (``curated/runs/<UTC timestamp>.json``). A report is up to date only
when its release records exactly the current inputs' fingerprint and is complete, and
its last run did not fail or stop half-way; nothing else is believed. The stages'
own work stays in their modules, imported only when there is work to do, so that a
run over unchanged reports answers in well under a second.
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
from pipeline.faults import fault_point
from pipeline.fingerprint import code_fingerprints, config_sha256, file_sha256
from pipeline.inputs import RefusedInput, ReportInput, list_inputs
from pipeline.layers import (
    RELEASE_FILE,
    Layout,
    built_from,
    canonical_json,
    computed_record,
    layout,
    partition_record,
    read_record,
    read_release,
    release_inputs,
    validated_entry,
    validated_record,
)
from pipeline.national import NATIONAL_KIND
from pipeline.settings import DEFAULT_NATIONAL_NAME, DEFAULT_PUBLISHER

log = logging.getLogger("pipeline.run")

LIBRARIES = ["pandas", "pyarrow", "pandera", "duckdb", "frictionless"]
IN_PROGRESS, OK, FAILED = "in_progress", "ok", "failed"


class RunLocked(Exception):
    """Another command holds the lock."""


@contextlib.contextmanager
def run_lock(curated_dir: Path):
    """Hold an exclusive, non-blocking lock on ``curated/.pgo.lock``.

    Every command that writes takes it (``run`` and each stage command). The kernel
    releases it when the process dies, so a killed run never leaves a stale lock.
    Raises :class:`RunLocked` at once if another process holds it.
    """
    lock_file = layout(curated_dir).lock_file
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"another pgo command holds {lock_file}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def lock_is_held(curated_dir: Path) -> bool:
    """Whether a pgo command holds the lock right now (taken and let go at once; never
    creates the lock file or its folder)."""
    if not layout(curated_dir).lock_file.exists():
        return False
    try:
        with run_lock(curated_dir):
            return False
    except RunLocked:
        return True
    except OSError:
        return False


@dataclass
class Options:
    raw: Path = Path("raw")
    curated: Path = Path("curated")
    exports: Path = Path("exports")
    config: Path | None = None
    report: str | None = None
    force: bool = False
    publisher: str | None = None
    national_name: str = DEFAULT_NATIONAL_NAME


@dataclass
class Plan:
    """What a run finds and must do.

    ``expected`` is, per report, the record its release must carry to be up to date;
    ``stale_layers`` names the shared layers (``validated``, ``computed``) whose record
    differs from what the current inputs and code would give.
    """

    reports: list[ReportInput]
    refused: list[RefusedInput]
    expected: dict[str, dict]
    inputs: dict[str, dict]
    code: dict[str, str]
    to_process: list[str]
    up_to_date: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    stale_layers: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.to_process or self.stale_layers or self.removed)


def publisher_name(opts: Options) -> str:
    return opts.publisher or DEFAULT_PUBLISHER


def expected_records(reports: list[ReportInput], opts: Options, code: dict[str, str]) -> tuple[dict, dict, dict, dict]:
    """The records the layers would carry if built now: (inputs, validated, computed, releases)."""
    inputs = {
        r.report_id: {
            "file": str(r.path),
            "sha256": file_sha256(r.path),
            "weights_file": str(r.weights_path) if r.weights_path.exists() else None,
            "weights_sha256": file_sha256(r.weights_path),
        }
        for r in reports
    }
    entries = {rid: validated_entry(partition_record(rid, i["sha256"], code["ingest"])) for rid, i in inputs.items()}
    validated = validated_record(entries, code["validate"])
    weights = {rid: i["weights_sha256"] for rid, i in inputs.items()}
    computed = computed_record(validated, weights, config_sha256(opts.config), code["compute"])
    publisher = publisher_name(opts)
    releases = {rid: release_inputs(computed, rid, code["publish"], publisher) for rid in inputs}
    return inputs, validated, computed, releases


def released_ids(lay: Layout, national_name: str = DEFAULT_NATIONAL_NAME) -> set[str]:
    """Report ids with a release folder in ``exports/`` (the national package's is not a report's)."""
    if not lay.exports.is_dir():
        return set()
    return {
        p.name
        for p in lay.exports.iterdir()
        if (p / RELEASE_FILE).is_file() and not p.name.startswith((".", "_")) and p.name != national_name
    }


def expected_national(releases: dict[str, dict | None], code: dict[str, str], publisher: str) -> dict:
    """The record the national package must carry to be up to date: every report's release inputs."""
    return {
        "kind": NATIONAL_KIND,
        "reports": {r: inputs for r, inputs in sorted(releases.items()) if inputs is not None},
        "publish_code": code["publish"],
        "publisher": publisher,
    }


def plan_run(opts: Options, state: dict) -> Plan:
    """Compare every output's record with the current inputs and code; decide what to do."""
    lay = layout(opts.curated, opts.exports)
    reports, refused = list_inputs(opts.raw, frozenset({opts.national_name}))
    code = code_fingerprints()
    inputs, validated, computed, releases = expected_records(reports, opts, code)
    previous = state.get("reports", {})
    selected = [r.report_id for r in reports if opts.report in (None, r.report_id)]
    plan = Plan(reports, refused, releases, inputs, code, [])
    for report_id in selected:
        release = read_release(lay.release(report_id))
        last = previous.get(report_id, {}).get("status")
        if opts.force:
            reason = "forced"
        elif release is None:
            reason = "not released"
        elif release.get("built_from") != releases[report_id]:
            reason = "inputs, code or configuration changed since its release"
        elif last == IN_PROGRESS:
            reason = "its last run was interrupted"
        elif last == FAILED:
            reason = "its last run failed"
        else:
            plan.up_to_date.append(report_id)
            continue
        plan.to_process.append(report_id)
        plan.reasons[report_id] = reason
    if opts.report is None:
        if built_from(lay.validated) != validated:
            plan.stale_layers.append("validated")
        if built_from(lay.computed) != computed:
            plan.stale_layers.append("computed")
        plan.removed = sorted(released_ids(lay, opts.national_name) - set(inputs))
        national = read_release(lay.exports / opts.national_name) or {}
        if releases and national.get("built_from") != expected_national(releases, code, publisher_name(opts)):
            plan.stale_layers.append("national")
    return plan


def read_state(curated_dir: Path) -> dict:
    return read_record(layout(curated_dir).state_file) or {}


def write_state(curated_dir: Path, state: dict) -> None:
    write_text_atomic(layout(curated_dir).state_file, canonical_json(state))


def remove_temporaries(*folders: Path) -> None:
    """Remove what a killed run left half-written (temporary files and staging folders).

    Called under the lock, so no other command is writing them.
    """
    for folder in folders:
        for path in sorted(_temporaries(folder)):
            log.info("removing %s left by an interrupted run", path)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _temporaries(folder: Path) -> list[Path]:
    """The temporary files and staging folders (``.tmp*``, ``.*.tmp``) under ``folder``
    (os.walk: a thousand releases are walked in a tenth of pathlib's time). A
    moved-aside release (``.old-<id>.*``) is left to publish, which puts it back."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            if name.startswith(".") and (name.endswith(".tmp") or name.startswith(".tmp")):
                found.append(Path(root) / name)
        dirs[:] = [d for d in dirs if not (d.startswith(".tmp") or d.endswith(".tmp"))]
    return found


def library_versions() -> dict[str, str | None]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_pipeline(opts: Options) -> int:
    """Run every stage over the reports that need it; return the worst exit code met."""
    started = time.perf_counter()
    now = utc_now()
    try:
        with run_lock(Path(opts.curated)):
            return _run_locked(opts, now, started)
    except RunLocked as exc:
        log.error("%s: not starting (exit code %d)", exc, exitcodes.LOCKED)
        return exitcodes.LOCKED


def _check_options(opts: Options) -> str | None:
    if not Path(opts.raw).is_dir():
        return f"raw folder {opts.raw} does not exist"
    if opts.config is not None and not Path(opts.config).is_file():
        return f"configuration file {opts.config} does not exist"
    return None


def _run_locked(opts: Options, now: dt.datetime, started: float) -> int:
    lay = layout(opts.curated, opts.exports)
    problem = _check_options(opts)
    if problem:
        log.error("%s", problem)
        return exitcodes.USAGE
    remove_temporaries(lay.curated, lay.exports)
    state = read_state(lay.curated)
    plan = plan_run(opts, state)
    if opts.report is not None and opts.report not in plan.inputs:
        log.error("no report %s in %s (expected %s)", opts.report, opts.raw, Path(opts.raw) / f"{opts.report}.txt")
        return exitcodes.USAGE
    for entry in plan.refused:
        log.error(entry.message(), extra={"fields": {"file": str(entry.path), "code": entry.code}})
    refused_code = exitcodes.INPUT_ERROR if plan.refused else exitcodes.OK
    if plan.nothing_to_do:
        log.info("%d report(s) up to date: nothing to do", len(plan.up_to_date))
        write_manifest(lay, now, opts, plan, {}, {}, refused_code, started)
        return refused_code

    from pipeline.stages import run_stages

    for report_id in plan.to_process:
        log.info("processing %s: %s", report_id, plan.reasons[report_id])
    if plan.stale_layers:
        log.info(
            "rebuilding the %s layer(s): their record differs from the current inputs", ", ".join(plan.stale_layers)
        )
    if plan.up_to_date:
        log.info("%d report(s) up to date", len(plan.up_to_date))
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    reports_state = dict(state.get("reports", {}))
    for report_id in plan.to_process:
        reports_state[report_id] = {"status": IN_PROGRESS, "last_run": stamp, "exit_code": None, "stage": None}
    write_state(lay.curated, {"reports": reports_state})
    fault_point("run.after_marking_in_progress")

    code, stages, per_report = run_stages(opts, plan)
    code = max(code, refused_code)
    fault_point("run.before_recording_state")
    for report_id in plan.to_process:
        outcome = per_report[report_id]
        reports_state[report_id] = {
            "status": outcome["status"],
            "last_run": stamp,
            "exit_code": outcome["exit_code"],
            "stage": outcome.get("failed_stage"),
        }
    for report_id in set(reports_state) - set(plan.inputs):
        del reports_state[report_id]
    write_state(lay.curated, {"reports": reports_state})
    write_manifest(lay, now, opts, plan, stages, per_report, code, started)
    log.info(
        "run finished with exit code %d (%s) in %.2f s",
        code,
        exitcodes.MEANINGS.get(code, "?"),
        time.perf_counter() - started,
    )
    return code


def write_manifest(
    lay: Layout, now: dt.datetime, opts: Options, plan: Plan, stages: dict, per_report: dict, code: int, started: float
) -> None:
    """The run manifest: a log of what this run saw and did (never read to decide anything)."""
    manifest = {
        "run_id": now.strftime("%Y%m%dT%H%M%S%fZ"),
        "started_utc": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "duration_s": round(time.perf_counter() - started, 3),
        "exit_code": code,
        "options": {k: (str(v) if v is not None else None) for k, v in vars(opts).items()},
        "pipeline_version": __version__,
        "code_fingerprints": plan.code,
        "python": platform.python_version(),
        "libraries": library_versions(),
        "config": {
            "file": str(opts.config) if opts.config else "(shipped) pipeline/config/rates.toml",
            "sha256": config_sha256(opts.config),
        },
        "inputs": plan.inputs,
        "refused": [{"file": str(r.path), "code": r.code, "problem": r.problem} for r in plan.refused],
        "up_to_date": plan.up_to_date,
        "processed": plan.to_process,
        "reasons": plan.reasons,
        "stale_layers": plan.stale_layers,
        "removed": plan.removed,
        "stages": stages,
        "reports": per_report,
    }
    path = lay.runs / f"{manifest['run_id']}.json"
    write_text_atomic(path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
