"""The stages in order, timed, with what each produced: the body of a ``run``.

Kept apart from :mod:`pipeline.batch` so that the heavy libraries (pandas, pandera,
DuckDB, frictionless) are imported only when a run has work to do.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import exitcodes
from pipeline.fingerprint import file_sha256

log = logging.getLogger("pipeline.run")

COUNTED_TABLES = ["axes", "commitments", "activities", "indicators", "published_rates", "findings"]


def _timed(name: str, stages: dict, fn, *args, **kwargs) -> int:
    started = time.perf_counter()
    try:
        code = fn(*args, **kwargs)
    except Exception:  # a stage bug must not lose the other stages' record
        log.exception("stage %s failed unexpectedly", name)
        stages[name] = {"exit_code": exitcodes.INPUT_ERROR, "crashed": True, "duration_s": round(time.perf_counter() - started, 3)}
        return exitcodes.INPUT_ERROR
    stages[name] = {"exit_code": int(code), "duration_s": round(time.perf_counter() - started, 3)}
    log.info("stage %s: exit code %d in %.2f s", name, code, stages[name]["duration_s"])
    return code


def run_stages(opts, to_process: list[str]) -> tuple[int, dict, dict]:
    """Ingest, validate, compute and publish; return (exit code, stages record, per-report record)."""
    from pipeline.ingest import ingest_reports

    curated, exports = Path(opts.curated), Path(opts.exports)
    stages: dict[str, dict] = {}
    only = None if opts.report is None else {opts.report}
    ingested: dict[str, dict] = {}
    published: dict[str, dict] = {}
    code = _timed("ingest", stages, ingest_reports, opts.raw, curated, only=only, force=opts.force, record=ingested)
    if code == exitcodes.USAGE or stages["ingest"].get("crashed"):
        return code, stages, {}

    from pipeline.validate import validate_curated

    validate_code = _timed("validate", stages, validate_curated, curated)
    if validate_code == exitcodes.USAGE or stages["validate"].get("crashed"):
        log.error("validation could not run: nothing is computed or published")
        return max(code, validate_code), stages, _per_report(curated, exports, to_process, {"ingest": ingested})
    code = max(code, validate_code)

    from pipeline.compute import compute_database

    compute_code = _timed("compute", stages, compute_database, curated, opts.config, Path(opts.raw))
    if compute_code == exitcodes.USAGE or stages["compute"].get("crashed"):
        log.error("rates could not be computed (configuration or weights file): nothing is published")
        return exitcodes.USAGE, stages, _per_report(curated, exports, to_process, {"ingest": ingested})
    code = max(code, compute_code)

    from pipeline.publish import DEFAULT_PUBLISHER, publish_packages

    publisher = opts.publisher or DEFAULT_PUBLISHER
    code = max(code, _timed("publish", stages, publish_packages, curated, exports, report_ids=set(to_process), publisher=publisher, record=published))
    return code, stages, _per_report(curated, exports, to_process, {"ingest": ingested, "publish": published})


def _per_report(curated: Path, exports: Path, report_ids: list[str], per_stage: dict[str, dict]) -> dict:
    """Per processed report: status, what each per-report stage did (status, seconds),
    row and finding counts, quarantined rows, released outputs with hashes."""
    from pipeline.io import read_table

    tables = {t: read_table(curated / f"{t}.parquet", t) for t in ["reports", *COUNTED_TABLES]}
    findings = tables["findings"]
    quarantined: dict[str, int] = {}
    for path in sorted((curated / "quarantine").glob("*.parquet")):
        for report_id, n in pq.read_table(path, columns=["report_id"]).to_pandas()["report_id"].value_counts().items():
            quarantined[report_id] = quarantined.get(report_id, 0) + int(n)
    out = {}
    for report_id in report_ids:
        ingested = bool((tables["reports"]["report_id"] == report_id).any())
        mine = findings[findings["report_id"] == report_id]
        zip_path = exports / f"{report_id}.zip"
        released = zip_path.exists()
        out[report_id] = {
            "status": "ok" if ingested and released else "failed",
            "stages": {stage: done[report_id] for stage, done in per_stage.items() if report_id in done},
            "quarantined_rows": quarantined.get(report_id, 0),
            "rows": {t: int((tables[t]["report_id"] == report_id).sum()) for t in COUNTED_TABLES},
            "findings": {f"{stage}/{severity}": int(n) for (stage, severity), n in mine.groupby(["stage", "severity"]).size().items()},
            "outputs": {str(zip_path): file_sha256(zip_path)} if released else {},
        }
    return out


def output_hashes(curated: Path) -> dict[str, str | None]:
    """SHA-256 of the curated tables and the database, for the run manifest."""
    paths = sorted(Path(curated).glob("*.parquet")) + sorted(Path(curated).glob("quarantine/*.parquet")) + [Path(curated) / "pgo.duckdb"]
    return {str(p): file_sha256(p) for p in paths if p.exists()}
