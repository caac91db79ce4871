"""Ingestion stage: every ``raw/*.txt`` report into the curated Parquet tables.

Load (read bytes, check the name, decode), process (:func:`pipeline.parse.parse_report`),
save (one Parquet file per table, all reports together, written atomically). A file
that cannot be read as a report gets an ``error`` finding and a clear log line naming
the file; the other reports still go through and the exit code says so.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline import exitcodes
from pipeline.findings import Finding, findings_frame
from pipeline.io import write_table
from pipeline.parse import parse_report
from pipeline.text import ReportInputError, decode_report
from schemas import TABLES, arrow_schema

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
    from schemas import RESOURCES

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


def report_outcome(tables: dict[str, pd.DataFrame]) -> int:
    """Exit code for one file's result: INPUT_ERROR when it could not be ingested."""
    return exitcodes.OK if len(tables["reports"]) else exitcodes.INPUT_ERROR


def ingest_reports(raw_dir: Path, curated_dir: Path) -> int:
    """Ingest every report of ``raw_dir`` into ``curated_dir``; return the exit code."""
    raw_dir, curated_dir = Path(raw_dir), Path(curated_dir)
    if not raw_dir.is_dir():
        log.error("raw folder %s does not exist", raw_dir)
        return exitcodes.USAGE
    files = report_files(raw_dir)
    if not files:
        log.warning("no report (*.txt) in %s", raw_dir)
    code = exitcodes.OK
    parts = []
    for path in tqdm(files, desc="ingest", unit="report", disable=not sys.stderr.isatty()):
        tables = ingest_file(path)
        parts.append(tables)
        outcome = report_outcome(tables)
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
