"""The stages of a ``run`` in order, timed, and what each report came to.

Kept apart from :mod:`pipeline.batch` so that the heavy libraries (pandas, pandera,
DuckDB, frictionless) are imported only when a run has work to do. A shared layer
(validated, computed) is rebuilt when its record differs from the current inputs or
a report of the run was ingested again; each report's release is rebuilt when it is
in the plan. A stage that crashes (a bug, a full disk) stops the later ones and
gives :data:`~pipeline.exitcodes.INTERNAL_ERROR`, the log naming the stage and the
reports; a report's outcome is read back from the outputs, not assumed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import exitcodes
from pipeline.layers import layout, read_provenance, read_release

log = logging.getLogger("pipeline.run")

#: A stage result that stops the stages after it.
STOPPING = {exitcodes.USAGE, exitcodes.INTERNAL_ERROR}


def timed(name: str, stages: dict, reports: list[str], fn, *args, **kwargs) -> int:
    """Run one stage, record its exit code and duration; a crash becomes INTERNAL_ERROR."""
    started = time.perf_counter()
    try:
        code = int(fn(*args, **kwargs))
    except Exception as exc:  # a stage's bug must not lose the run's record
        log.exception(
            "stage %s crashed (reports: %s): %s",
            name,
            ", ".join(reports) or "-",
            exc,
            extra={"fields": {"stage": name, "reports": reports}},
        )
        stages[name] = {
            "exit_code": exitcodes.INTERNAL_ERROR,
            "crashed": True,
            "duration_s": round(time.perf_counter() - started, 3),
        }
        return exitcodes.INTERNAL_ERROR
    stages[name] = {"exit_code": code, "duration_s": round(time.perf_counter() - started, 3)}
    log.info("stage %s: exit code %d in %.2f s", name, code, stages[name]["duration_s"])
    return code


def run_stages(opts, plan) -> tuple[int, dict, dict]:
    """Ingest, validate, compute and publish as the plan needs; return
    (exit code, stages record, per-report outcome)."""
    from pipeline.batch import publisher_name
    from pipeline.ingest import ingest_reports

    lay = layout(opts.curated, opts.exports)
    stages: dict[str, dict] = {}
    done: dict[str, dict] = {"ingest": {}, "publish": {}}
    todo = plan.to_process
    only = None if opts.report is None else {opts.report}
    code = timed(
        "ingest",
        stages,
        todo,
        ingest_reports,
        opts.raw,
        lay.curated,
        only=only,
        force=opts.force,
        record=done["ingest"],
    )
    failed_at = "ingest" if code in STOPPING else None
    reparsed = any(d.get("how") == "parsed" for d in done["ingest"].values())
    if failed_at is None and (
        opts.force or reparsed or "validated" in plan.stale_layers or "computed" in plan.stale_layers or opts.report
    ):
        from pipeline.validate import validate_curated

        code = max(code, timed("validate", stages, todo, validate_curated, lay.curated))
        failed_at = "validate" if stages["validate"]["exit_code"] in STOPPING else None
        if failed_at is None:
            from pipeline.compute import compute_database

            code = max(code, timed("compute", stages, todo, compute_database, lay.curated, opts.config, Path(opts.raw)))
            failed_at = "compute" if stages["compute"]["exit_code"] in STOPPING else None
    if failed_at is None and (todo or plan.removed or "national" in plan.stale_layers):
        from pipeline.publish import publish_packages

        publish = timed(
            "publish",
            stages,
            todo,
            publish_packages,
            lay.curated,
            lay.exports,
            report_ids=set(todo),
            publisher=publisher_name(opts),
            national_name=opts.national_name,
            record=done["publish"],
            retract=opts.report is None,
        )
        code = max(code, publish)
        failed_at = "publish" if publish in STOPPING else None
    if failed_at is not None:
        log.error("stage %s stopped the run: the stages after it did not run", failed_at)
    return code, stages, report_outcomes(lay, plan, stages, done, failed_at)


def _quarantined_counts(validated_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted((validated_dir / "quarantine").glob("*.parquet")):
        column = pq.read_table(path, columns=["report_id"]).column("report_id")
        for entry in pc.value_counts(column).to_pylist():
            counts[entry["values"]] = counts.get(entry["values"], 0) + entry["counts"]
    return counts


def report_outcomes(lay, plan, stages: dict, done: dict, failed_at: str | None) -> dict:
    """Per processed report: ok (its release now records the current inputs) or failed,
    with the exit code and stage that explain it, row counts and released files."""
    quarantined = _quarantined_counts(lay.validated)
    out = {}
    for report_id in plan.to_process:
        partition = read_provenance(lay.partition(report_id)) or {}
        ingest = done["ingest"].get(report_id, {})
        publish = done["publish"].get(report_id, {})
        release = read_release(lay.release(report_id))
        released = release is not None and release.get("built_from") == plan.expected[report_id]
        code, stage = exitcodes.OK, None
        if ingest.get("exit_code", exitcodes.OK) != exitcodes.OK:
            code, stage = ingest["exit_code"], "ingest"
        elif failed_at is not None:
            code, stage = stages[failed_at]["exit_code"], failed_at
        elif publish.get("status") == "refused":
            code, stage = exitcodes.RELEASE_REFUSED, "publish"
        elif publish.get("status") == "blocked":
            code, stage = exitcodes.INPUT_ERROR, "compute"
        elif not released:
            code, stage = exitcodes.QUARANTINED if quarantined.get(report_id) else exitcodes.INTERNAL_ERROR, "publish"
        out[report_id] = {
            "status": "ok" if released and code == exitcodes.OK else "failed",
            "exit_code": code,
            "failed_stage": stage,
            "stages": {name: record[report_id] for name, record in done.items() if report_id in record},
            "quarantined_rows": quarantined.get(report_id, 0),
            "rows": partition.get("outcome", {}).get("rows", {}),
            "release": None
            if release is None
            else {name: f["sha256"] for name, f in release.get("files", {}).items() if name.endswith(".zip")},
        }
    return out
