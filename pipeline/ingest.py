"""Ingestion stage: every ``raw/*.txt`` report into the curated Parquet tables.

Load (read bytes, check the name, decode), process (:func:`pipeline.parse.parse_report`),
save (one Parquet file per table, all reports together, written atomically). A file
that cannot be read as a report gets an ``error`` finding and a clear log line naming
the file; the other reports still go through and the exit code says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline import exitcodes
from pipeline.findings import Finding, findings_frame
from pipeline.fingerprint import code_fingerprint, file_sha256
from pipeline.io import read_table, write_table, write_text_atomic
from pipeline.parse import parse_report
from pipeline.text import ReportInputError, decode_report
from schemas import RESOURCES, TABLES, arrow_schema

log = logging.getLogger("pipeline.ingest")

REPORT_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def report_files(raw_dir: Path) -> list[Path]:
    """The report files of ``raw_dir``: every ``*.txt``, in name order."""
    return sorted(p for p in Path(raw_dir).glob("*.txt") if p.is_file())


def check_report_id(path: Path) -> str:
    """The report_id of a file (its name without ``.txt``), or :class:`ReportInputError`."""
    report_id = path.name[: -len(".txt")]
    if not REPORT_ID_RE.fullmatch(report_id):
        raise ReportInputError(
            path,
            "invalid_report_id",
            f"file name '{path.name}' is not a valid report_id: use lowercase letters, digits and '-' only",
        )
    return report_id


def ingest_file(path: Path) -> dict[str, pd.DataFrame]:
    """Read, decode and parse one report file into its rows of every curated table.

    A file that cannot be a report yields only a ``findings`` row (severity ``error``).
    """
    path = Path(path)
    try:
        report_id = check_report_id(path)
        data = path.read_bytes()
        text, encoding = decode_report(data, str(path))
    except ReportInputError as exc:
        return _failed_file(path, exc)
    return parse_report(
        text,
        report_id,
        source_file=path.name,
        source_sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
    )


def _failed_file(path: Path, exc: ReportInputError) -> dict[str, pd.DataFrame]:
    finding = Finding("error", exc.code, f"{path.name}: {exc.problem}", "reports", None, exc.line)
    tables = {t: arrow_schema(t).empty_table().to_pandas() for t in TABLES}
    tables["findings"] = findings_frame(path.name[: -len(".txt")] or path.name, "ingest", [finding])
    return tables


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


#: From this many reports on, they are parsed in worker processes (one per core).
PARALLEL_FROM = 8


def _ingest_one(job: tuple) -> tuple[dict[str, pd.DataFrame], dict]:
    """One report's tables, from its cache when the fingerprint matches, else parsed and
    cached; and what happened (``cached`` or ``parsed``, seconds)."""
    path, part_dir, fingerprint, selected, force = job
    started = time.perf_counter()
    tables, how = None, "cached"
    if not force or not selected:
        tables = load_partition(part_dir, fingerprint) if selected else load_partition_any(part_dir)
    if tables is None:
        tables, how = ingest_file(path), "parsed"
        save_partition(part_dir, tables, fingerprint)
    return tables, {"how": how, "duration_s": round(time.perf_counter() - started, 4)}


def _map(fn, jobs: list) -> list:
    """``map`` over worker processes when there are enough jobs to pay for them."""
    progress = {"desc": "ingest", "unit": "report", "total": len(jobs), "disable": not sys.stderr.isatty()}
    workers = min(os.cpu_count() or 1, len(jobs))
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return [fn(job) for job in tqdm(jobs, **progress)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(tqdm(pool.map(fn, jobs, chunksize=max(1, len(jobs) // (workers * 8))), **progress))


def load_partition_any(part_dir: Path) -> dict[str, pd.DataFrame] | None:
    """A report's cached tables whatever they were made from (for runs limited to other reports)."""
    if not (part_dir / "meta.json").exists():
        return None
    return {t: read_table(part_dir / f"{t}.parquet", t) for t in TABLES}


def _remove_stale_partitions(curated_dir: Path, files: list[Path]) -> None:
    base = curated_dir / PARTITIONS
    if not base.is_dir():
        return
    keep = {p.name[: -len(".txt")] for p in files}
    for part in base.iterdir():
        if part.is_dir() and part.name not in keep:
            log.info("report %s is no longer in raw/: its cached tables are removed", part.name)
            shutil.rmtree(part, ignore_errors=True)


def report_outcome(tables: dict[str, pd.DataFrame]) -> int:
    """Exit code for one file's result: INPUT_ERROR when it could not be ingested."""
    return exitcodes.OK if len(tables["reports"]) else exitcodes.INPUT_ERROR


PARTITIONS = "partitions"


def _partition_dir(curated_dir: Path, path: Path) -> Path:
    return curated_dir / PARTITIONS / path.name[: -len(".txt")]


def load_partition(part_dir: Path, fingerprint: str) -> dict[str, pd.DataFrame] | None:
    """A report's cached tables, if they were made from the same input and code."""
    meta = part_dir / "meta.json"
    try:
        if json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") != fingerprint:
            return None
        return {t: read_table(part_dir / f"{t}.parquet", t) for t in TABLES}
    except (OSError, ValueError):
        return None


def save_partition(part_dir: Path, tables: dict[str, pd.DataFrame], fingerprint: str) -> None:
    """Cache a report's tables; meta.json goes last, so a partial partition never matches."""
    (part_dir / "meta.json").unlink(missing_ok=True)
    for table in TABLES:
        write_table(tables[table], table, part_dir / f"{table}.parquet")
    write_text_atomic(part_dir / "meta.json", json.dumps({"fingerprint": fingerprint}) + "\n")


def ingest_reports(
    raw_dir: Path, curated_dir: Path, *, only: set[str] | None = None, force: bool = False, record: dict | None = None
) -> int:
    """Ingest every report of ``raw_dir`` into ``curated_dir``; return the exit code.

    Each report's tables are cached under ``curated/partitions/<report_id>/`` with the
    fingerprint of its bytes and of the code; a report whose fingerprint is unchanged
    is read back instead of parsed again, unless ``force``. With ``only``, the other
    reports are taken from their cache as they are (or parsed when they have none).
    ``record``, when given, receives per report what happened, for the run manifest.
    """
    raw_dir, curated_dir = Path(raw_dir), Path(curated_dir)
    if not raw_dir.is_dir():
        log.error("raw folder %s does not exist", raw_dir)
        return exitcodes.USAGE
    files = report_files(raw_dir)
    if not files:
        log.warning("no report (*.txt) in %s", raw_dir)
    code_fp = code_fingerprint()
    _remove_stale_partitions(curated_dir, files)
    code = exitcodes.OK
    jobs = []
    for path in files:
        selected = only is None or path.name[: -len(".txt")] in only
        jobs.append((path, _partition_dir(curated_dir, path), f"{file_sha256(path)}:{code_fp}", selected, force))
    parts = []
    for path, (tables, done) in zip(files, _map(_ingest_one, jobs)):
        parts.append(tables)
        outcome = report_outcome(tables)
        if record is not None:
            record[path.name[: -len(".txt")]] = {**done, "status": "ok" if outcome == exitcodes.OK else "failed"}
        code = max(code, outcome)
        if outcome != exitcodes.OK:
            for row in tables["findings"].itertuples():
                if row.severity == "error":
                    where = f"{path}:{int(row.source_line)}" if pd.notna(row.source_line) else str(path)
                    log.error("%s: %s (%s)", where, row.message, row.code)
        else:
            counts = {t: len(tables[t]) for t in ("commitments", "activities", "indicators", "findings")}
            log.info("%s: %s", path.name, ", ".join(f"{n} {t}" for t, n in counts.items()))
    combined = combine(parts)
    for table, df in combined.items():
        write_table(df, table, curated_dir / f"{table}.parquet")
    log.info("ingested %d of %d report(s) into %s", len(combined["reports"]), len(files), curated_dir)
    return code
