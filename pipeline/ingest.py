"""Ingestion stage: every ``raw/<report_id>.txt`` into ``curated/ingested/<report_id>/``.

Load (list the inputs, read bytes, decode), process (:func:`pipeline.parse.read_report`),
save (one Parquet file per table in the report's own partition, written from the
parsed rows' Arrow tables, then its ``provenance.json``: the input's checksum and the
ingest code). This stage writes nothing else. A file that cannot be read as a report
gets an ``error`` finding in its partition and a clear log line naming the file and
line; a ``*.txt`` entry that is no report at all (bad name, directory, FIFO, broken
link) is refused by name. The other reports still go through and the exit code says so.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline import exitcodes
from pipeline.faults import fault_point
from pipeline.findings import Finding
from pipeline.fingerprint import file_sha256, stage_code_fingerprint
from pipeline.inputs import RefusedInput, list_inputs, report_id_of, report_id_problem
from pipeline.io import read_table, to_arrow, write_table
from pipeline.layers import PROVENANCE_FILE, Layout, layout, partition_record, read_provenance, write_provenance
from pipeline.parse import ParsedReport, read_report
from pipeline.text import ReportInputError, check_report_size, decode_report
from pipeline.workers import map_jobs
from schemas import RESOURCES, TABLES, arrow_schema

log = logging.getLogger("pipeline.ingest")


def check_report_id(path: Path) -> str:
    """The report_id of a file (its name without ``.txt``), or :class:`ReportInputError`."""
    report_id = report_id_of(path)
    problem = report_id_problem(report_id)
    if problem is not None:
        raise ReportInputError(path, "invalid_report_id", f"file name '{path.name}': {problem}")
    return report_id


def read_report_bytes(path: Path) -> bytes:
    """A report file's bytes, its size checked first; :class:`ReportInputError` when it
    is too large or cannot be read (permissions, I/O error)."""
    try:
        check_report_size(path.stat().st_size, str(path))
        return path.read_bytes()
    except OSError as exc:
        raise ReportInputError(path, "file_unreadable", f"the file cannot be read ({exc.strerror or exc})") from None


def ingest_file(path: Path) -> dict[str, pd.DataFrame]:
    """Read, decode and parse one report file into its rows of every curated table, as
    DataFrames (:func:`read_report_file`).

    A file that cannot be a report yields only a ``findings`` row (severity ``error``).
    """
    return read_report_file(path).frames()


def read_report_file(path: Path) -> ParsedReport:
    """Read, decode and parse one report file; a file that cannot be a report gives no
    rows and one ``error`` finding."""
    path = Path(path)
    try:
        report_id = check_report_id(path)
        data = read_report_bytes(path)
        decoded = decode_report(data, str(path))
    except ReportInputError as exc:
        finding = Finding("error", exc.code, f"{path.name}: {exc.problem}", "reports", None, exc.line)
        return ParsedReport(report_id_of(path) or path.name, {}, [finding])
    return read_report(
        decoded.text,
        report_id,
        source_file=path.name,
        source_sha256=hashlib.sha256(data).hexdigest(),
        encoding=decoded.encoding,
        replaced_lines=decoded.replaced_lines,
    )


def combine(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Concatenate per-report tables, sorted by primary key for stable output."""
    out = {}
    for table in TABLES:
        frames = [p[table] for p in parts if len(p[table])]
        if frames:
            df = pd.concat(frames, ignore_index=True)
            df = df.sort_values(RESOURCES[table]["primary_key"], kind="stable").reset_index(drop=True)
        else:
            df = arrow_schema(table).empty_table().to_pandas()
        out[table] = df
    return out


def report_outcome(tables: dict[str, pd.DataFrame | pa.Table]) -> int:
    """Exit code for one file's result: INPUT_ERROR when it could not be ingested."""
    return exitcodes.OK if len(tables["reports"]) else exitcodes.INPUT_ERROR


def summarise(tables: dict[str, pd.DataFrame | pa.Table]) -> dict:
    """What a partition's provenance notes of its outcome: exit code, rows, error findings."""
    findings = tables["findings"]
    if isinstance(findings, pd.DataFrame):
        findings = to_arrow(findings, "findings")
    return {
        "exit_code": report_outcome(tables),
        "rows": {t: len(tables[t]) for t in TABLES},
        "errors": [
            {"code": row["code"], "message": row["message"], "source_line": row["source_line"]}
            for row in findings.select(["severity", "code", "message", "source_line"]).to_pylist()
            if row["severity"] == "error"
        ],
    }


# --- the partitions: one folder per report, written only here ------------------------------


def load_partition(part_dir: Path) -> dict[str, pd.DataFrame]:
    """A report's ingested tables (a missing table reads as empty)."""
    return {t: read_table(Path(part_dir) / f"{t}.parquet", t) for t in TABLES}


def save_partition(part_dir: Path, tables: dict[str, pd.DataFrame | pa.Table], record: dict) -> dict:
    """Write a report's tables, then its provenance (last: a partial partition never
    matches), which lists each table file's SHA-256 (what tells validate that the
    partition was rewritten).

    Returns the outcome noted in the provenance (see :func:`summarise`).
    """
    (Path(part_dir) / PROVENANCE_FILE).unlink(missing_ok=True)
    files = {}
    for table in TABLES:
        write_table(tables[table], table, Path(part_dir) / f"{table}.parquet")
        files[f"{table}.parquet"] = file_sha256(Path(part_dir) / f"{table}.parquet")
    fault_point("ingest.before_partition_provenance")
    outcome = summarise(tables)
    write_provenance(part_dir, record, outcome=outcome, files=files)
    return outcome


def _ingest_one(job: tuple) -> tuple[dict, dict]:
    """Parse one report into its partition unless the partition was built from the same
    input and code; return the partition's outcome and what happened (``cached`` or
    ``parsed``, seconds). Runs in a worker process when there are many reports."""
    path, part_dir, record, reuse = job
    started = time.perf_counter()
    provenance = read_provenance(part_dir)
    if provenance is not None and (provenance["built_from"] == record or reuse == "any"):
        return provenance.get("outcome", {}), {"how": "cached", "duration_s": round(time.perf_counter() - started, 4)}
    outcome = save_partition(part_dir, read_report_file(path).arrow_tables(), record)
    return outcome, {"how": "parsed", "duration_s": round(time.perf_counter() - started, 4)}


#: Below this many reports to parse, one process is faster than starting workers.
PARALLEL_FROM = 8


def remove_stale_partitions(lay: Layout, report_ids: set[str]) -> None:
    """Remove the partitions of reports no longer in raw/ (only this stage writes them)."""
    if not lay.partitions.is_dir():
        return
    for part in sorted(lay.partitions.iterdir()):
        if part.is_dir() and part.name not in report_ids:
            log.info("report %s is no longer in raw/: its ingested tables are removed", part.name)
            shutil.rmtree(part, ignore_errors=True)


def log_refused(refused: list[RefusedInput]) -> None:
    for entry in refused:
        log.error(entry.message(), extra={"fields": {"file": str(entry.path), "code": entry.code}})


def ingest_reports(
    raw_dir: Path, curated_dir: Path, *, only: set[str] | None = None, force: bool = False, record: dict | None = None
) -> int:
    """Ingest every report of ``raw_dir`` into ``curated/ingested/<report_id>/``; return the exit code.

    A report whose partition records the same input checksum and ingest code is not
    parsed again, unless ``force``. With ``only``, the other reports keep the partition
    they have (or are parsed when they have none). ``*.txt`` entries that are not
    reports (bad name, directory, FIFO, broken link) are refused by name (exit 3).
    ``record``, when given, receives per report what happened, for the run manifest.
    """
    raw_dir, curated_dir = Path(raw_dir), Path(curated_dir)
    if not raw_dir.is_dir():
        log.error("raw folder %s does not exist", raw_dir)
        return exitcodes.USAGE
    reports, refused = list_inputs(raw_dir)
    log_refused(refused)
    if not reports:
        log.warning("no report (*.txt) in %s", raw_dir)
    lay = layout(curated_dir)
    remove_stale_partitions(lay, {r.report_id for r in reports})
    ingest_code = stage_code_fingerprint("ingest")
    jobs = []
    for report in reports:
        selected = only is None or report.report_id in only
        reuse = "never" if force and selected else ("same" if selected else "any")
        expected = partition_record(report.report_id, file_sha256(report.path), ingest_code)
        jobs.append((report.path, lay.partition(report.report_id), expected, reuse))
    code = exitcodes.INPUT_ERROR if refused else exitcodes.OK
    ingested = 0
    for report, (outcome, done) in zip(
        reports, map_jobs(_ingest_one, jobs, parallel_from=PARALLEL_FROM, desc="ingest")
    ):
        report_code = int(outcome.get("exit_code", exitcodes.INPUT_ERROR))
        if record is not None:
            record[report.report_id] = {
                **done,
                "status": "ok" if report_code == exitcodes.OK else "failed",
                "exit_code": report_code,
            }
        code = max(code, report_code)
        if report_code != exitcodes.OK:
            for error in outcome.get("errors", []):
                where = f"{report.path}:{error['source_line']}" if error.get("source_line") else str(report.path)
                log.error("%s: %s (%s)", where, error["message"], error["code"])
            continue
        ingested += 1
        rows = outcome.get("rows", {})
        log.info("%s: %s (%s)", report.path.name, ", ".join(f"{rows.get(t, 0)} {t}" for t in COUNTED), done["how"])
    fault_point("ingest.after_partitions")
    log.info("ingested %d of %d report(s) into %s", ingested, len(reports) + len(refused), lay.partitions)
    return code


#: Tables whose row counts the log gives per report.
COUNTED = ("commitments", "activities", "indicators", "findings")
