"""Validation stage: check every curated table, quarantine failing rows, record warnings.

The checks of one table are the pandera schemas of :mod:`schemas.checks`, run lazily
so that every failure of every table is collected in one pass. The checks across
tables are plain pandas functions here: references (a row whose parent is missing or
quarantined is quarantined too, so a quarantined commitment takes its activities and
indicators with it) and contiguous numbering (a gap is a warning). All of them yield
the same failure records: ``table``, ``row`` (position in the table), ``check``,
``severity`` and a readable ``reason``.

A row failing an ``error`` check goes to ``curated/validated/quarantine/<table>.parquet``
with the names and reasons of its failed checks; a ``warning`` leaves the row in place
and becomes a ``findings`` row of stage ``validate``. Nothing is dropped: validated plus
quarantine hold every ingested row. A duplicated primary key quarantines every row
sharing it, since nothing says which one is right.

:func:`validate_tables` is pure (tables in, :class:`ValidationResult` out);
:func:`validate_curated` does the I/O: it reads the ingested partitions (which it never
writes, so validating twice changes nothing and loses nothing), writes its own layer,
``curated/validated/``, file by file atomically with its provenance last, and prints a
summary.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import exitcodes
from pipeline.faults import fault_point
from pipeline.findings import record_key
from pipeline.fingerprint import file_sha256, sha256_hex, stage_code_fingerprint
from pipeline.io import to_arrow, write_bytes_atomic
from pipeline.layers import (
    PROVENANCE_FILE,
    built_from,
    layout,
    read_provenance,
    validated_entry,
    validated_record,
    write_provenance,
)
from pipeline.logs import is_json_logging
from schemas import TABLES, arrow_schema, get_resource
from schemas.checks import (
    ERROR,
    WARNING,
    TableShapeError,
    build_schema,
    conform,
    conform_read_table,
    format_value,
    loose_schema,
    row_keys,
    schema_failures,
    to_nullable_pandas,
)

log = logging.getLogger("pipeline.validate")

STAGE = "validate"
QUARANTINE_DIR = "quarantine"
REPORT_FILE = "validation.json"
CHECK_COLUMN = "quarantine_check"
REASON_COLUMN = "quarantine_reason"
#: The failure records' columns and their dtypes.
FAILURE_DTYPES = {"table": "str", "row": "int64", "check": "str", "severity": "str", "reason": "str"}
#: Columns :func:`validate_tables` adds to the failure records, to name the row.
LOCATION_COLUMNS = ["report_id", "record_key"]

#: Tables numbered from 1 within their parent, and the numbered column.
NUMBERED = {"commitments": "commitment_no", "activities": "activity_no"}
NUMBERING_GAP = "numbering_gap"


class ValidationConfigError(ValueError):
    """A table that cannot be validated at all: columns missing or extra, values of the wrong type."""


@dataclass(frozen=True)
class ValidationResult:
    """What validation made of the curated tables.

    Attributes:
        clean: per table, the rows that passed every error-level check.
        quarantined: per table, the rows that did not, with ``quarantine_check`` and
            ``quarantine_reason`` (``"; "``-joined when several checks failed).
        findings: the ``findings`` rows of stage ``validate`` (one per warning).
        failures: every failure record (``table``, ``row``, ``check``, ``severity``,
            ``reason``, and the row's ``report_id`` and ``record_key`` without it);
            ``row`` is the position of the row in the table given.
        rows_in: per table, the number of rows validated.
    """

    clean: dict[str, pd.DataFrame]
    quarantined: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    failures: pd.DataFrame
    rows_in: dict[str, int]

    @property
    def exit_code(self) -> int:
        return exitcodes.QUARANTINED if any(len(q) for q in self.quarantined.values()) else exitcodes.OK

    def findings_table(self) -> pd.DataFrame:
        """The whole ``findings`` table: the clean findings given, then the new ones."""
        return pd.concat([self.clean["findings"], self.findings], ignore_index=True)

    def summary(self, with_report_id: bool = True) -> list[dict]:
        """:func:`summarise_failures` of :func:`count_failures`."""
        return summarise_failures(count_failures(self.failures), with_report_id)


@dataclass(frozen=True)
class ValidatedLayer:
    """The files of ``curated/validated/`` as Arrow tables, each sorted by its key.

    Attributes:
        clean: per table, the rows that passed (``findings``: with this stage's findings).
        quarantined: per table, the quarantined rows (a table with none: no file).
        failure_counts: :func:`count_failures` of the failure records: what
            ``validation.json`` summarises, kept per report so that a report validated
            again replaces its own lines only.
    """

    clean: dict[str, pa.Table]
    quarantined: dict[str, pa.Table]
    failure_counts: pa.Table

    @property
    def exit_code(self) -> int:
        return exitcodes.QUARANTINED if any(q.num_rows for q in self.quarantined.values()) else exitcodes.OK

    def warning_findings(self) -> int:
        return pc.sum(pc.equal(self.clean["findings"]["stage"], STAGE)).as_py() or 0

    def rows_in(self) -> dict[str, int]:
        """Rows given to validation per table: clean (``findings``: without this stage's) and quarantined."""
        clean = {t: self.clean[t].num_rows for t in TABLES}
        clean["findings"] -= self.warning_findings()
        return {t: clean[t] + self.quarantined[t].num_rows for t in TABLES}

    def summary(self, with_report_id: bool = True) -> list[dict]:
        return summarise_failures(self.failure_counts.to_pandas(), with_report_id)

    def report(self) -> dict:
        """The content of ``validation.json``."""
        rows_in = self.rows_in()
        return {
            "tables": {
                t: {
                    "rows_in": rows_in[t],
                    "rows_clean": self.clean[t].num_rows - (self.warning_findings() if t == "findings" else 0),
                    "rows_quarantined": self.quarantined[t].num_rows,
                }
                for t in sorted(TABLES)
            },
            "failures": self.summary(),
            "exit_code": self.exit_code,
        }


#: Columns of the failure counts: one row per report, table, check and severity.
FAILURE_COUNT_KEY = ["table", "check", "severity", "report_id"]
FAILURE_COUNTS_FILE = "failure_counts.parquet"
FAILURE_COUNTS_SCHEMA = pa.schema(
    [
        *(pa.field(c, pa.string()) for c in FAILURE_COUNT_KEY),
        pa.field("rows_failed", pa.int64()),
        pa.field("record_key", pa.string()),
        pa.field("reason", pa.string()),
    ]
)


def count_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """Per report, table, check and severity: the rows failed and the first failure's
    ``record_key`` and ``reason`` (the example), sorted by those four columns."""
    if failures.empty:
        return FAILURE_COUNTS_SCHEMA.empty_table().to_pandas()
    grouped = failures.groupby(FAILURE_COUNT_KEY, sort=True)
    counts = grouped["row"].nunique().rename("rows_failed")
    first = failures.drop_duplicates(FAILURE_COUNT_KEY).set_index(FAILURE_COUNT_KEY)[["record_key", "reason"]]
    out = counts.to_frame().join(first).reset_index()
    return out.astype({"rows_failed": "int64"})[FAILURE_COUNTS_SCHEMA.names]


def summarise_failures(counts: pd.DataFrame, with_report_id: bool = True) -> list[dict]:
    """One entry per table, check and severity of :func:`count_failures`' rows: rows
    failed and an example, that of the first report's first failing row, sorted.

    The example is ``report_id=…,<key>: <reason>`` (without the ``report_id`` part when
    ``with_report_id`` is false).
    """
    out = []
    for (table, check, severity), group in counts.groupby(["table", "check", "severity"], sort=True):
        first = group.sort_values("report_id", kind="stable").iloc[0]
        key = record_key(report_id=first["report_id"]) if with_report_id else ""
        if first["record_key"]:
            key = f"{key},{first['record_key']}" if key else first["record_key"]
        out.append(
            {
                "table": table,
                "check": check,
                "severity": severity,
                "rows_failed": int(group["rows_failed"].sum()),
                "example": f"{key}: {first['reason']}" if key else first["reason"],
            }
        )
    return out


# --- pure functions ----------------------------------------------------------------------


def conform_table(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df`` with exactly the table's columns, in order, as nullable pandas dtypes
    (:func:`schemas.checks.conform`): integers become ``Int64`` and booleans ``boolean``
    so that a null does not turn a column into floats; the index becomes 0..n-1.

    Raises:
        ValidationConfigError: a column is missing or extra, or a value cannot be
            held by its column's type (``3.5`` in an integer column).
    """
    try:
        return conform(df, table)
    except TableShapeError as exc:
        raise ValidationConfigError(str(exc)) from exc


def drop_stage_findings(findings: pd.DataFrame, stage: str = STAGE) -> pd.DataFrame:
    """``findings`` without the rows of ``stage`` (they are about to be produced again)."""
    return findings[(findings["stage"] != stage).fillna(True)].reset_index(drop=True)


def check_schema(df: pd.DataFrame, table: str, schema=None) -> pd.DataFrame:
    """Failure records of the pandera checks of ``table`` on ``df`` (conformed), lazily
    (:func:`schemas.checks.schema_failures`), sorted by row, check and reason.

    Raises:
        ValidationConfigError: a failure that concerns a column rather than rows
            (a wrong dtype, a check that crashed).
    """
    schema = schema if schema is not None else build_schema(table)
    try:
        records = schema_failures(schema, df)
    except TableShapeError as exc:
        raise ValidationConfigError(str(exc)) from exc
    return _failure_frame([{"table": table, **record} for record in records])


def check_references(
    table: str, df: pd.DataFrame, tables: dict[str, pd.DataFrame], quarantined_rows: dict[str, set[int]]
) -> pd.DataFrame:
    """Failure records of the foreign keys of ``table`` (check ``foreign_key_<parent>``).

    A row whose key fields are all set must find its parent among the parent's rows
    that are not quarantined; the reason says whether the parent is missing or was
    quarantined. A key with a null field is not checked (the field is optional).

    Args:
        table: the child table.
        df: its rows (conformed).
        tables: every table (conformed), parents included.
        quarantined_rows: per parent table, the positions of its quarantined rows.
    """
    records = []
    for fk in get_resource(table).foreign_keys:
        fields, parent_name, parent_fields = list(fk.fields), fk.resource, list(fk.reference_fields)
        parent = tables[parent_name]
        bad = quarantined_rows.get(parent_name, set())
        kept = parent.loc[[i for i in range(len(parent)) if i not in bad], parent_fields]
        child_keys = pd.MultiIndex.from_frame(df[fields])
        complete = df[fields].notna().all(axis=1).to_numpy()
        found = child_keys.isin(pd.MultiIndex.from_frame(kept)) if len(kept) else np.zeros(len(df), dtype=bool)
        exists = (
            child_keys.isin(pd.MultiIndex.from_frame(parent[parent_fields]))
            if len(parent)
            else np.zeros(len(df), dtype=bool)
        )
        for row in np.flatnonzero(complete & ~found):
            key = ", ".join(f"{p}={format_value(df.at[row, f], quote=False)}" for f, p in zip(fields, parent_fields))
            if exists[row]:
                reason = f"la ligne de {parent_name} ({key}) dont elle dépend est en quarantaine"
            else:
                reason = f"aucune ligne de {parent_name} ({key}) : référence orpheline"
            check = foreign_key_check(parent_name)
            records.append({"table": table, "row": int(row), "check": check, "severity": ERROR, "reason": reason})
    return _failure_frame(records)


def check_numbering(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Warning records (check ``numbering_gap``) where numbers within a parent skip some.

    Numbers must run 1, 2, 3, … within their parent (the other primary-key fields).
    The record points at the first row after each gap and names the missing numbers.
    """
    column = NUMBERED.get(table)
    if column is None:
        return _empty_failures()
    parent = [f for f in get_resource(table).primary_key if f != column]
    numbers = _distinct_numbers(df, parent, column)
    number = numbers[column].to_numpy(dtype="int64")
    previous = numbers.groupby(parent, sort=False)[column].shift().fillna(0).to_numpy(dtype="int64")
    expected = np.maximum(previous + 1, 1)
    gap = number > expected
    shown = [p for p in parent if p != "report_id"]
    records = []
    for found in numbers[gap].assign(first=expected[gap]).to_dict("records"):
        reason = _gap_reason(column, {p: found[p] for p in shown}, int(found["first"]), int(found[column]))
        records.append(_record(table, int(found["row"]), NUMBERING_GAP, WARNING, reason))
    return _failure_frame(records)


def _gap_reason(column: str, scope: dict, first: int, number: int) -> str:
    """The reason of a gap before ``number``: the numbers from ``first`` on are missing."""
    missing = ", ".join(str(n) for n in range(first, number))
    where = ", ".join(f"{p}={format_value(v, quote=False)}" for p, v in scope.items())
    scope_text = f" ({where})" if where else ""
    return f"numérotation de {column} non contiguë{scope_text} : {missing} manque(nt) avant {number}"


def _distinct_numbers(df: pd.DataFrame, parent: list[str], column: str) -> pd.DataFrame:
    """Each (parent, number) of ``df`` once, with its first row (``row``), sorted by parent and number.

    Rows with a null key field are left out.
    """
    keys = [*parent, column]
    usable = df.loc[df[keys].notna().all(axis=1), keys]
    numbers = usable.assign(row=usable.index).drop_duplicates(keys)
    return numbers.sort_values(keys, kind="stable").reset_index(drop=True)


REPORT_COUNTS_MISMATCH = "report_counts_mismatch"
#: Count columns of ``reports`` and the table whose rows they count.
REPORT_COUNTS = {"commitment_count": "commitments", "activity_count": "activities"}


def check_report_counts(table: str, df: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Warning records (check ``report_counts_mismatch``) where a report's counts disagree with its rows."""
    if table != "reports":
        return _empty_failures()
    records = []
    for column, counted in REPORT_COUNTS.items():
        actual = df["report_id"].map(tables[counted].groupby("report_id").size()).fillna(0).to_numpy(dtype="int64")
        stated = df[column]
        for row in np.flatnonzero(stated.notna().to_numpy(dtype=bool)):
            if int(stated.iat[row]) != int(actual[row]):
                reason = f"{column} = {int(stated.iat[row])} mais {int(actual[row])} ligne(s) dans « {counted} »"
                records.append(_record(table, int(row), REPORT_COUNTS_MISMATCH, WARNING, reason))
    return _failure_frame(records)


def foreign_key_check(parent: str) -> str:
    """Name of the check of a reference to ``parent``."""
    return f"foreign_key_{parent}"


#: The checks across tables, as the data dictionary describes them: name -> (severity, message).
CROSS_TABLE_CHECKS: dict[str, tuple[str, str]] = {
    REPORT_COUNTS_MISMATCH: (
        WARNING,
        "le nombre d'engagements ou d'activités d'un rapport ne correspond pas à ses lignes",
    ),
    NUMBERING_GAP: (
        WARNING,
        "des numéros manquent dans une suite (engagements d'un rapport, activités d'un engagement)",
    ),
}


def validation_checks() -> dict[str, tuple[str, str]]:
    """Every check of this stage, name -> (severity, message): the pandera checks of each
    curated table (the first table's message for a name several tables share), the
    references (``foreign_key_<parent>``) and :data:`CROSS_TABLE_CHECKS`.

    A warning's name is the code of its ``findings`` row; an error's is the
    ``quarantine_check`` of the rows it quarantines.
    """
    checks: dict[str, tuple[str, str]] = {}
    for table in TABLES:
        for name, meta in build_schema(table).metadata["checks"].items():
            checks.setdefault(name, (meta["severity"], meta["message"]))
    for name, entry in CROSS_TABLE_CHECKS.items():
        checks.setdefault(name, entry)
    for table in TABLES:
        for fk in get_resource(table).foreign_keys:
            message = f"la ligne renvoie à un enregistrement absent de « {fk.resource} »"
            checks.setdefault(foreign_key_check(fk.resource), (ERROR, message))
    return checks


def collect_quarantined(df: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` with an error-level failure, with their check names and reasons."""
    errors = failures[failures["severity"] == ERROR]
    if errors.empty:
        return df.iloc[0:0].assign(**{CHECK_COLUMN: pd.Series(dtype="str"), REASON_COLUMN: pd.Series(dtype="str")})
    per_row = errors.groupby("row", sort=True).agg(
        check=("check", lambda s: "; ".join(dict.fromkeys(s))),
        reason=("reason", lambda s: "; ".join(dict.fromkeys(s))),
    )
    out = df.loc[per_row.index].reset_index(drop=True)
    out[CHECK_COLUMN] = pd.array(per_row["check"].tolist(), dtype="str")
    out[REASON_COLUMN] = pd.array(per_row["reason"].tolist(), dtype="str")
    return out


def make_warning_findings(failures: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``findings`` rows (stage ``validate``) for the warning records, numbered from 1 per report.

    A row without a ``report_id`` gets no finding: it is quarantined for that already.
    """
    warnings = failures[failures["severity"] == WARNING]
    found = [
        (str(report_id), rec.check, rec.reason, rec.table, key, line)
        for rec, (report_id, key, line) in zip(warnings.itertuples(index=False), _row_details(warnings, tables))
        if not pd.isna(report_id)
    ]
    if not found:
        return conform_table(arrow_schema("findings").empty_table().to_pandas(), "findings")
    found.sort(key=lambda entry: entry[0])  # stable: a report's findings keep their order
    return conform_table(_warning_frame(found), "findings")


def _warning_frame(found: list[tuple]) -> pd.DataFrame:
    """The ``findings`` rows of (report_id, code, message, table, record_key, source_line)
    entries sorted by report: what :func:`pipeline.findings.findings_frame` gives per report."""
    report_ids, codes, messages, table_names, keys, lines = (list(column) for column in zip(*found))
    numbers = [n for _, same in itertools.groupby(report_ids) for n in range(1, len(list(same)) + 1)]
    return pd.DataFrame(
        {
            "report_id": report_ids,
            "stage": STAGE,
            "finding_no": pd.array(numbers, dtype="int64"),
            "severity": WARNING,
            "code": codes,
            "message": messages,
            "table_name": table_names,
            "record_key": keys,
            "source_line": pd.array(lines, dtype="Int64"),
        }
    )


def validate_tables(tables: dict[str, pd.DataFrame]) -> ValidationResult:
    """Validate the curated tables together; nothing is read or written.

    Findings of an earlier validation (stage ``validate``) are left out of the input:
    this run produces them again.

    Raises:
        ValidationConfigError: a table is missing or cannot be validated at all.
    """
    absent = [t for t in TABLES if t not in tables]
    if absent:
        raise ValidationConfigError(f"tables missing: {absent}")
    conformed = {t: conform_table(tables[t], t) for t in TABLES}
    conformed["findings"] = drop_stage_findings(conformed["findings"])
    quarantined_rows: dict[str, set[int]] = {}
    per_table = []
    for table in TABLES:
        df = conformed[table]
        failures = pd.concat(
            [
                check_schema(df, table),
                check_references(table, df, conformed, quarantined_rows),
                check_numbering(table, df),
                check_report_counts(table, df, conformed),
            ],
            ignore_index=True,
        )
        quarantined_rows[table] = set(failures.loc[failures["severity"] == ERROR, "row"].tolist())
        per_table.append(failures)
    failures = pd.concat(per_table, ignore_index=True)
    clean, quarantined = {}, {}
    for table in TABLES:
        df = conformed[table]
        mine = failures[failures["table"] == table]
        bad = sorted(quarantined_rows[table])
        clean[table] = df.drop(index=bad).reset_index(drop=True)
        quarantined[table] = collect_quarantined(df, mine)
    failures = locate_failures(failures, conformed)
    return ValidationResult(
        clean=clean,
        quarantined=quarantined,
        findings=make_warning_findings(failures, conformed),
        failures=failures,
        rows_in={t: len(conformed[t]) for t in TABLES},
    )


def locate_failures(failures: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``failures`` with the ``report_id`` and ``record_key`` (other key fields) of each row."""
    details = _row_details(failures, tables)
    return failures.assign(
        report_id=pd.array([format_value(report_id, quote=False) for report_id, _, _ in details], dtype="str"),
        record_key=pd.array([key or "" for _, key, _ in details], dtype="str"),
    )


def _row_details(failures: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """Per failure record, in order: its row's ``report_id``, :func:`~schemas.checks.row_key`
    and source line (or None), the rows of each table taken at once."""
    details: list[tuple] = [()] * len(failures)
    rows_at = failures["row"].to_numpy()
    for table, positions in failures.groupby("table", sort=False).indices.items():
        rows = tables[table].iloc[rows_at[positions]]
        found = zip(rows["report_id"].tolist(), row_keys(table, rows), _source_lines(table, rows))
        for position, detail in zip(positions, found):
            details[position] = detail
    return details


def format_summary(layer: ValidatedLayer, example_width: int = 100) -> str:
    """A small text table of the failures for the terminal (examples cut at ``example_width``)."""
    quarantined = sum(q.num_rows for q in layer.quarantined.values())
    rows_in = layer.rows_in()
    head = (
        f"validation: {sum(rows_in.values())} rows in {len(rows_in)} tables, "
        f"{quarantined} quarantined, {layer.warning_findings()} warning finding(s)"
    )
    entries = layer.summary(with_report_id=False)
    if not entries:
        return head
    rows = [("table", "check", "severity", "rows", "example")]
    for e in entries:
        example = e["example"]
        if len(example) > example_width:
            example = example[: example_width - 1] + "…"
        rows.append((e["table"], e["check"], e["severity"], str(e["rows_failed"]), example))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [head]
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]), r[3].rjust(widths[3]), r[4]]
        lines.append("  ".join(cells))
    return "\n".join(lines)


# --- I/O -------------------------------------------------------------------------------


def read_partitions(curated_dir: Path) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Every complete ingested partition's tables, combined (:func:`read_partition_tables`),
    and each one's record (:func:`list_partitions`)."""
    folders, entries = list_partitions(layout(curated_dir))
    return read_partition_tables(folders), entries


def list_partitions(lay) -> tuple[list[Path], dict[str, dict]]:
    """The complete ingested partitions, in order, and each one's validated-layer entry.

    A partition without a provenance record was not finished (a killed ingest): it is
    left out with a warning; the next ``run`` ingests it again.
    """
    folders = sorted(p for p in lay.partitions.iterdir() if p.is_dir()) if lay.partitions.is_dir() else []
    complete, entries = [], {}
    for folder in folders:
        record = built_from(folder)
        if record is None:
            log.warning("%s has no provenance record (an interrupted ingest): left out", folder)
            continue
        complete.append(folder)
        entries[folder.name] = validated_entry(record)
    return complete, entries


def stamp_partition(folder: Path) -> str | None:
    """The SHA-256 of a partition's provenance record, which lists its files' SHA-256
    (:func:`pipeline.ingest.save_partition`): what changes when ingest rewrites it."""
    return file_sha256(folder / PROVENANCE_FILE)


def read_partition_tables(folders: list[Path]) -> dict[str, pd.DataFrame]:
    """The tables of ``folders`` combined: read (:func:`read_partition_table`) by
    :data:`READ_THREADS` threads and taken in order, so the first unreadable partition is
    the one reported; each table is then turned to pandas once and sorted by primary key
    (:func:`pipeline.ingest.combine`).

    Raises:
        ValidationConfigError: a partition's table has columns missing or extra, or values
            of the wrong type.
        OSError, pyarrow.ArrowException: a partition's table cannot be read.
    """
    from pipeline.ingest import combine

    loose = {t: loose_schema(t) for t in TABLES}
    pieces: dict[str, list[pa.Table]] = {t: [loose[t].empty_table()] for t in TABLES}
    pool = ThreadPoolExecutor(max_workers=READ_THREADS)
    try:
        for tables in pool.map(partial(_read_partition, loose=loose), folders):
            for table in TABLES:
                pieces[table].append(tables[table])
    finally:
        pool.shutdown(cancel_futures=True)
    return combine([{t: to_nullable_pandas(pa.concat_tables(pieces[t])) for t in TABLES}])


#: Threads reading the partitions (the work is in Arrow, which releases the GIL).
READ_THREADS = min(4, os.cpu_count() or 1)


def _read_partition(folder: Path, loose: dict[str, pa.Schema]) -> dict[str, pa.Table]:
    return {t: read_partition_table(folder / f"{t}.parquet", t, loose[t]) for t in TABLES}


def read_partition_table(path: Path, table: str, loose: pa.Schema | None = None) -> pa.Table:
    """One partition's ``table`` as Arrow, conformed (:func:`schemas.checks.conform_read_table`);
    a missing file reads as an empty table.

    Raises:
        ValidationConfigError: columns missing or extra, values of the wrong type.
        OSError, pyarrow.ArrowException: the file cannot be read.
    """
    if path.is_file():
        arrow_table = _read_parquet_file(path)
    elif path.exists():
        arrow_table = pq.read_table(path)
    else:
        arrow_table = arrow_schema(table).empty_table()
    try:
        return conform_read_table(arrow_table, table, loose)
    except TableShapeError as exc:
        raise ValidationConfigError(str(exc)) from exc


def _read_parquet_file(path: Path) -> pa.Table:
    """A Parquet file's table: read directly (the fast way), or else by
    ``pyarrow.parquet.read_table``, whose errors are the ones reported."""
    try:
        with pq.ParquetFile(path) as parquet_file:
            return parquet_file.read(use_threads=False)
    except (OSError, pa.ArrowException):
        return pq.read_table(path)


# --- the layer as Arrow tables: built, read back, merged -----------------------------------


def layer_of(result: ValidationResult) -> ValidatedLayer:
    """The validated layer's tables of ``result``, sorted (:func:`sort_layer`)."""
    clean = {t: to_arrow(result.clean[t], t) for t in TABLES if t != "findings"}
    clean["findings"] = to_arrow(result.findings_table(), "findings")
    quarantined = {t: to_quarantine_arrow(result.quarantined[t], t) for t in TABLES}
    counts = pa.Table.from_pandas(count_failures(result.failures), schema=FAILURE_COUNTS_SCHEMA, preserve_index=False)
    counts = counts.replace_schema_metadata(None)
    return sort_layer(ValidatedLayer(clean, quarantined, counts))


def sort_layer(layer: ValidatedLayer) -> ValidatedLayer:
    """Every table of ``layer`` sorted (stable) by its key, in one chunk: a report's rows
    land in the same places whether validated alone or with every other report."""

    def by(columns: list[str]):
        return [(c, "ascending") for c in columns]

    return ValidatedLayer(
        {t: x.sort_by(by(get_resource(t).primary_key)).combine_chunks() for t, x in layer.clean.items()},
        {t: x.sort_by(by(get_resource(t).primary_key)).combine_chunks() for t, x in layer.quarantined.items()},
        layer.failure_counts.sort_by(by(FAILURE_COUNT_KEY)).combine_chunks(),
    )


def merge_layers(old: ValidatedLayer, new: ValidatedLayer, kept: set[str]) -> ValidatedLayer:
    """The rows of ``old``'s reports in ``kept`` and every row of ``new``, sorted.

    Validation is per report (every key, so every reference and count, holds
    ``report_id``), so a report's rows are the same validated alone or with the others.
    A table's rows are put together from whole runs of reports (:func:`merge_by_report`);
    the failure counts, whose key does not start with ``report_id``, are sorted.
    """
    value_set = pa.array(sorted(kept), pa.string())

    def merge(before: pa.Table, after: pa.Table) -> pa.Table:
        before = before.filter(pc.is_in(before["report_id"], value_set=value_set))
        return pa.concat_tables([before.select(after.schema.names).cast(after.schema), after])

    def merge_sorted(before: pa.Table, after: pa.Table, key: list[str]) -> pa.Table:
        before = before.select(after.schema.names).cast(after.schema)
        merged = merge_by_report(before, after, kept)
        if merged is None:
            merged = merge(before, after).sort_by([(c, "ascending") for c in key])
        return merged.combine_chunks()

    key = {t: get_resource(t).primary_key for t in TABLES}
    counts = merge(old.failure_counts, new.failure_counts).sort_by([(c, "ascending") for c in FAILURE_COUNT_KEY])
    return ValidatedLayer(
        {t: merge_sorted(old.clean[t], new.clean[t], key[t]) for t in TABLES},
        {t: merge_sorted(old.quarantined[t], new.quarantined[t], key[t]) for t in TABLES},
        counts.combine_chunks(),
    )


def report_runs(table: pa.Table) -> list[tuple[str | None, int, int]] | None:
    """``(report_id, start, stop)`` of each report's rows in ``table``, in order; None
    unless each report's rows are one run and the runs are in ascending order, the rows
    without a report last (as a sort by a key starting with ``report_id`` leaves them)."""
    if not table.num_rows:
        return []
    encoded = pc.run_end_encode(table["report_id"].combine_chunks())
    reports, ends = encoded.values.to_pylist(), encoded.run_ends.to_pylist()
    named = [r for r in reports if r is not None]
    if named != sorted(set(named)) or None in reports[: len(named)]:
        return None
    return list(zip(reports, [0, *ends[:-1]], ends))


def merge_by_report(before: pa.Table, after: pa.Table, kept: set[str]) -> pa.Table | None:
    """The rows of ``before``'s reports in ``kept`` and every row of ``after``, each
    sorted by a key that starts with ``report_id``, in the order a stable sort of them
    together by that key gives: whole runs of reports, sliced (no row is sorted or
    copied one by one). None when that cannot be done: a report's rows not in one run,
    or a report in both."""
    old, new = report_runs(before), report_runs(after)
    if old is None or new is None:
        return None
    pieces = [(r, before, start, stop) for r, start, stop in old if r in kept] + [(r, after, *s) for r, *s in new]
    named = [r for r, *_ in pieces if r is not None]
    if len(named) != len(set(named)):
        return None
    pieces.sort(key=lambda piece: (piece[0] is None, piece[0] or ""))
    slices: list[tuple[pa.Table, int, int]] = []
    for _, table, start, stop in pieces:
        if slices and slices[-1][0] is table and slices[-1][2] == start:
            slices[-1] = (table, slices[-1][1], stop)
        else:
            slices.append((table, start, stop))
    return pa.concat_tables([after.slice(0, 0), *(table.slice(start, stop - start) for table, start, stop in slices)])


def read_layer(validated_dir: Path, files: dict[str, str]) -> ValidatedLayer | None:
    """The validated layer written by :func:`write_outputs`, each file checked against
    the SHA-256 its provenance lists (``files``); None when one is missing or differs."""

    def read(name: str) -> pa.Table | None:
        try:
            data = (validated_dir / name).read_bytes()
        except OSError:
            return None
        return pq.read_table(pa.BufferReader(data)) if sha256_hex(data) == files.get(name) else None

    wanted = [f"{t}.parquet" for t in TABLES] + [FAILURE_COUNTS_FILE]
    wanted += [name for name in files if name.startswith(f"{QUARANTINE_DIR}/")]
    read_back = {name: read(name) for name in wanted}
    if any(x is None for x in read_back.values()):
        return None
    empty = {t: quarantine_schema(t).empty_table() for t in TABLES}
    return ValidatedLayer(
        {t: read_back[f"{t}.parquet"] for t in TABLES},
        {t: read_back.get(f"{QUARANTINE_DIR}/{t}.parquet", empty[t]) for t in TABLES},
        read_back[FAILURE_COUNTS_FILE],
    )


def reports_in(layer: ValidatedLayer) -> set[str | None]:
    """Every ``report_id`` value in ``layer``'s tables (None for a row without one)."""
    tables = [*layer.clean.values(), *layer.quarantined.values(), layer.failure_counts]
    return {value for x in tables for value in pc.unique(x["report_id"]).to_pylist()}


def reuse_plan(
    validated_dir: Path, entries: dict[str, dict], stamps: dict[str, str], code: str
) -> tuple[dict[str, str], dict[str, dict], set[str]] | None:
    """What the previous layer's provenance allows, when it was made by this code: its
    files' SHA-256s, the reports it records and the reports to validate again (a report's
    record or its partition's :func:`stamp_partition` changed). None: validate every report."""
    provenance = read_provenance(validated_dir)
    previous = None if provenance is None else provenance["built_from"]
    if previous is None or previous.get("validate_code") != code:
        return None
    recorded = previous.get("reports", {})
    stamped = provenance.get("partition_stamps", {})
    changed = {r for r, entry in entries.items() if recorded.get(r) != entry or stamped.get(r) != stamps[r]}
    return provenance.get("files", {}), recorded, changed


def reusable_layer(validated_dir: Path, files: dict[str, str], recorded: dict[str, dict]) -> ValidatedLayer | None:
    """The previous validated layer when it can be reused: complete, its files as written
    (``files``: their SHA-256s), every row of a report it records (``recorded``)."""
    layer = read_layer(validated_dir, files)
    if layer is None or not reports_in(layer) <= set(recorded):
        return None
    return layer


def validate_partitions(
    lay, entries: dict[str, dict], folders: list[Path], stamps: dict[str, str], code: str
) -> ValidatedLayer:
    """The validated layer of the partitions ``folders``: the reports that changed since
    the previous layer validated again, the others' rows kept (:func:`reuse_plan`,
    :func:`reusable_layer`); every report validated when that layer cannot be reused.

    The previous layer is read (Arrow, which works without the GIL) while the changed
    reports are validated.
    """
    plan = reuse_plan(lay.validated, entries, stamps, code)
    if plan is not None:
        files, recorded, changed = plan
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(reusable_layer, lay.validated, files, recorded)
            new = layer_of(validate_tables(read_partition_tables([f for f in folders if f.name in changed])))
            previous = reading.result()
        if previous is not None:
            log.info(
                "validation: %d report(s) validated again, %d kept as validated",
                len(changed),
                len(entries) - len(changed),
            )
            return merge_layers(previous, new, set(entries) - changed)
    return layer_of(validate_tables(read_partition_tables(folders)))


def validate_curated(curated_dir: Path) -> int:
    """Validate the ingested partitions into ``curated/validated/``; return the exit code.

    Reads ``curated/ingested/*/`` (never written here), writes the clean tables, the
    quarantined rows, the findings (the ingested ones that passed, then this stage's),
    the failure counts, ``validation.json`` and, last, ``provenance.json``; prints a
    summary. Only the reports whose partition changed since the previous validated
    layer are validated again (:func:`validate_partitions`).

    Returns:
        ``exitcodes.OK`` when clean or with warnings only, ``exitcodes.QUARANTINED``
        when rows were quarantined, ``exitcodes.USAGE`` when there is nothing to
        validate or a table cannot be validated (nothing is written then).
    """
    lay = layout(curated_dir)
    if not lay.partitions.is_dir():
        log.error("no ingested report in %s: run the ingest stage first", lay.partitions)
        return exitcodes.USAGE
    code = stage_code_fingerprint(STAGE)
    try:
        folders, entries = list_partitions(lay)
        stamps = {folder.name: stamp_partition(folder) for folder in folders}
        layer = validate_partitions(lay, entries, folders, stamps, code)
    except (ValidationConfigError, OSError, pa.ArrowException) as exc:
        log.error("cannot validate %s: %s", lay.partitions, exc)
        return exitcodes.USAGE
    write_outputs(lay.validated, layer, validated_record(entries, code), stamps)
    if is_json_logging():
        for entry in layer.summary():
            log.info(
                "validation: %s.%s failed on %d row(s)",
                entry["table"],
                entry["check"],
                entry["rows_failed"],
                extra={"fields": entry},
            )
    else:
        print(format_summary(layer))
    quarantined = {t: q.num_rows for t, q in layer.quarantined.items() if q.num_rows}
    if quarantined:
        log.warning(
            "rows quarantined in %s: %s",
            lay.validated / QUARANTINE_DIR,
            ", ".join(f"{t} {n}" for t, n in quarantined.items()),
        )
    log.info("validation: exit code %d, report in %s", layer.exit_code, lay.validated / REPORT_FILE)
    return layer.exit_code


def quarantine_schema(table: str) -> pa.Schema:
    """A quarantine file's schema: the table's columns (all nullable) and the two quarantine columns."""
    base = arrow_schema(table)
    return pa.schema(
        [
            *(f.with_nullable(True) for f in base),
            pa.field(CHECK_COLUMN, pa.string(), metadata={"title": "Contrôles échoués"}),
            pa.field(REASON_COLUMN, pa.string(), metadata={"title": "Raisons de la quarantaine"}),
        ],
        metadata=base.metadata,
    )


def to_quarantine_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """Quarantined rows as Arrow (:func:`quarantine_schema`)."""
    schema = quarantine_schema(table)
    if df.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False).replace_schema_metadata(
        schema.metadata
    )


def write_outputs(validated_dir: Path, layer: ValidatedLayer, record: dict, stamps: dict[str, str]) -> None:
    """Write the clean tables, quarantine files, failure counts and ``validation.json``,
    then the provenance: ``record``, each partition's :func:`stamp_partition` and each
    file's SHA-256 (what the next run checks before it reuses the layer).

    The provenance record is removed first and written last, so a kill in between
    leaves the layer out of date (redone by the next run), never half-new and claimed.
    A table without quarantined rows has no quarantine file.
    """
    validated_dir = Path(validated_dir)
    qdir = validated_dir / QUARANTINE_DIR
    (validated_dir / PROVENANCE_FILE).unlink(missing_ok=True)
    outputs = {validated_dir / f"{t}.parquet": _parquet_bytes(layer.clean[t]) for t in TABLES if t != "findings"}
    outputs[validated_dir / "findings.parquet"] = _parquet_bytes(layer.clean["findings"])
    for table in TABLES:
        if layer.quarantined[table].num_rows:
            outputs[qdir / f"{table}.parquet"] = _parquet_bytes(layer.quarantined[table])
        else:
            (qdir / f"{table}.parquet").unlink(missing_ok=True)
    outputs[validated_dir / FAILURE_COUNTS_FILE] = _parquet_bytes(layer.failure_counts)
    report = json.dumps(layer.report(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    outputs[validated_dir / REPORT_FILE] = report.encode("utf-8")
    for i, (path, data) in enumerate(outputs.items()):
        write_bytes_atomic(path, data)
        if i == 0:
            fault_point("validate.between_renames")
    if qdir.is_dir() and not any(qdir.iterdir()):
        qdir.rmdir()
    fault_point("validate.before_provenance")
    files = {path.relative_to(validated_dir).as_posix(): sha256_hex(data) for path, data in outputs.items()}
    write_provenance(validated_dir, record, partition_stamps=stamps, files=dict(sorted(files.items())))


# --- helpers ---------------------------------------------------------------------------


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()


def _empty_failures() -> pd.DataFrame:
    return _failure_frame([])


def _failure_frame(records: list[dict]) -> pd.DataFrame:
    """``records`` as a frame of :data:`FAILURE_DTYPES`, built column by column (a
    frame of records cast afterwards costs twice as much, paid for every table checked)."""
    return pd.DataFrame({c: pd.Series([r[c] for r in records], dtype=t) for c, t in FAILURE_DTYPES.items()})


def _record(table: str, row: int, check: str, severity: str, reason: str) -> dict:
    return {"table": table, "row": row, "check": check, "severity": severity, "reason": reason}


def _source_lines(table: str, rows: pd.DataFrame) -> list[int | None]:
    """The source line of each row: its first of ``source_line``, ``source_line_start`` that is set."""
    columns = [c for c in ("source_line", "source_line_start") if c in get_resource(table).field_names]
    values = zip(*(rows[c].tolist() for c in columns)) if columns else [()] * len(rows)
    return [next((int(v) for v in row if not pd.isna(v)), None) for row in values]


__all__ = [
    "ValidationConfigError",
    "ValidationResult",
    "check_numbering",
    "check_references",
    "check_schema",
    "collect_quarantined",
    "conform_table",
    "drop_stage_findings",
    "format_summary",
    "layer_of",
    "locate_failures",
    "make_warning_findings",
    "merge_layers",
    "read_partitions",
    "validate_curated",
    "validate_tables",
    "validation_checks",
    "write_outputs",
]
