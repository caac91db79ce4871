"""Compute stage: progress rates in DuckDB, from the curated tables to ``curated/pgo.duckdb``.

What belongs here: reading and checking the rates configuration
(``pipeline/config/rates.toml`` by default) and the optional activity weights files
(``raw/<report_id>.weights.csv``), loading the curated tables into DuckDB with DDL and
comments generated from :mod:`schemas`, running the views of ``pipeline/sql/`` in name
order, turning what could not be computed into ``compute`` findings, and writing the
results atomically: the database, the computed tables as Parquet for the publish stage,
and ``curated/rates_config.json`` (the configuration used). The rate arithmetic itself
lives in the ``.sql`` files.

The database is built in a temporary file beside ``pgo.duckdb`` and renamed into place,
so a reader never opens a half-built database; every table is loaded (no view reads a
Parquet path), so the file opens from any working directory. When only a few reports
changed since the last build, the temporary file is a copy of the previous database in
which only their rows are replaced, and only they and the reports that follow them in
their plans are computed again (see "incremental update" below): the outputs are those
of a full build.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import math
import re
import shutil
import tomllib
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import exitcodes
from pipeline.faults import fault_point
from pipeline.findings import Finding, findings_frame, record_key
from pipeline.fingerprint import config_sha256, file_sha256, stage_code_fingerprint
from pipeline.io import atomic_path, read_table, to_arrow, write_table, write_text_atomic
from pipeline.layers import PROVENANCE_FILE, Layout, built_from, computed_record, layout, write_provenance
from schemas import (
    ALL_RESOURCES,
    COMPUTED_TABLES,
    STATUS_BANDS,
    TABLES,
    arrow_schema,
    check_computed_table,
    empty_frame,
    get_resource,
)
from schemas.classes import comment_text
from schemas.fields import FIELDS

log = logging.getLogger("pipeline.compute")

STAGE = "compute"
DATABASE_NAME = "pgo.duckdb"
#: The oldest DuckDB whose clients must open the database (the 1.x CLI and tools).
STORAGE_VERSION = "v1.4.0"
RATES_CONFIG_NAME = "rates_config.json"
WEIGHTS_SUFFIX = ".weights.csv"
WEIGHTS_HEADER = ["commitment_no", "activity_no", "weight"]
DEFAULT_CONFIG_LABEL = "pipeline/config/rates.toml"
#: Ways of combining commitment rates into axis and plan rates (see rates.toml).
AGGREGATIONS = {
    "commitment_mean": "moyenne simple des taux des engagements",
    "activity_weighted": "moyenne des activités pondérée par leur poids",
}
#: Statuses that take a point value; ``unknown`` only has its band.
POINT_STATUSES = [s for s in STATUS_BANDS if s != "unknown"]


class ConfigError(ValueError):
    """A rates configuration or weights file that cannot be used.

    Its text names the file, the line when there is one, and the problem.
    """

    def __init__(self, path: str | Path, problem: str, line: int | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {problem}")


# --- rates configuration ---------------------------------------------------------


def _key_line(text: str, key: str, section: str | None = None) -> int | None:
    """Line (from 1) where ``key = ...`` is set in ``section`` of a TOML text (None: top level)."""
    current = None
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[([^\[\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and pattern.match(line):
            return number
    return None


def _section_line(text: str, section: str) -> int | None:
    """Line (from 1) of the ``[section]`` header of a TOML text."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\[\s*{re.escape(section)}\s*\]", line):
            return number
    return _key_line(text, section)


def parse_rates_config(text: str, label: str) -> dict:
    """Check a rates configuration text and return it as a dict.

    Returns ``{"config_file", "config_sha256", "aggregation", "progress_pct"}``, where
    ``progress_pct`` maps each status but ``unknown`` to the progress (%) it stands for.

    Raises:
        ConfigError: the text is not TOML, lacks a key, has an unexpected one, names an
            unknown aggregation or status, or gives a status a value outside its band.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, f"not valid TOML: {exc}") from None
    for key in data:
        if key not in ("aggregation", "progress_pct"):
            raise ConfigError(
                label, f"unexpected key '{key}' (expected aggregation and [progress_pct])", _key_line(text, key)
            )
    if "aggregation" not in data:
        raise ConfigError(label, f"missing key 'aggregation' (one of {', '.join(AGGREGATIONS)})")
    aggregation = data["aggregation"]
    if aggregation not in AGGREGATIONS:
        raise ConfigError(
            label,
            f"aggregation = {aggregation!r} is not one of {', '.join(AGGREGATIONS)}",
            _key_line(text, "aggregation"),
        )
    mapping = data.get("progress_pct")
    if not isinstance(mapping, dict):
        raise ConfigError(
            label, "missing table [progress_pct] (progress % of each status)", _section_line(text, "progress_pct")
        )
    progress = {}
    for status, value in mapping.items():
        line = _key_line(text, status, "progress_pct")
        if status == "unknown":
            raise ConfigError(
                label,
                "unknown takes no value: an activity of unknown status is left out of the point estimate "
                "and counts as 0 in the minimum and 100 in the maximum",
                line,
            )
        if status not in POINT_STATUSES:
            raise ConfigError(label, f"'{status}' is not a status (expected {', '.join(POINT_STATUSES)})", line)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(label, f"{status} = {value!r} is not a number", line)
        low, high = STATUS_BANDS[status]
        if not low <= value <= high:
            raise ConfigError(label, f"{status} = {value:g} is outside its band {low:g}-{high:g} %", line)
        progress[status] = float(value)
    missing = [s for s in POINT_STATUSES if s not in progress]
    if missing:
        raise ConfigError(label, f"[progress_pct] lacks {', '.join(missing)}", _section_line(text, "progress_pct"))
    return {
        "config_file": label,
        "config_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "aggregation": aggregation,
        "progress_pct": {s: progress[s] for s in POINT_STATUSES},
    }


def load_rates_config(path: Path | None = None) -> dict:
    """Read and check the rates configuration: ``path``, or the packaged default.

    Raises:
        ConfigError: the file cannot be read or its content is not a valid configuration.
    """
    if path is None:
        text = resources.files("pipeline").joinpath("config", "rates.toml").read_text(encoding="utf-8")
        return parse_rates_config(text, DEFAULT_CONFIG_LABEL)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "is not UTF-8 text") from None
    return parse_rates_config(text, str(path))


def status_bands_frame(config: dict) -> pd.DataFrame:
    """One row per status: the configured progress (None for unknown) and its band edges."""
    rows = [
        {
            "status": status,
            "rate_pct": config["progress_pct"].get(status),
            "rate_min_pct": float(low),
            "rate_max_pct": float(high),
        }
        for status, (low, high) in STATUS_BANDS.items()
    ]
    return pd.DataFrame(rows).astype({"rate_pct": "float64"})


# --- activity weights --------------------------------------------------------------


def _empty_weights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_id": pd.Series([], dtype="str"),
            "commitment_no": pd.Series([], dtype="int64"),
            "activity_no": pd.Series([], dtype="int64"),
            "weight": pd.Series([], dtype="float64"),
        }
    )


#: Largest activity weight accepted. A commitment's rate is a sum of weight × rate over
#: a sum of weights, in DOUBLE: weights near 1e308 overflow to infinity and give NaN or
#: infinite rates (or DuckDB's "Out of range float"). A million to one is far beyond any
#: real ratio between two activities of a plan.
MAX_WEIGHT = 1_000_000
#: Smallest activity weight accepted. Tinier positive weights (down to subnormal numbers
#: such as 5e-324) lose precision in weight × rate, so a rate would come out wrong.
#: With MAX_WEIGHT this bounds the ratio of two weights to 1e12, well within a double's
#: 15 significant digits.
MIN_WEIGHT = 1e-6


def _positive_int(value: str, column: str, label: str, line: int) -> int:
    if not re.fullmatch(r"\d+", value) or int(value) < 1:
        raise ConfigError(label, f"{column} {value!r} is not a positive integer", line)
    return int(value)


def _weight(value: str, label: str, line: int) -> float:
    """The weight written ``value`` on ``line`` of the weights file ``label``.

    Raises:
        ConfigError: not a number, not positive (zero, negative, NaN), or outside
            MIN_WEIGHT-MAX_WEIGHT (infinity included).
    """
    try:
        weight = float(value)
    except ValueError:
        raise ConfigError(label, f"weight {value!r} is not a number", line) from None
    if math.isnan(weight) or weight <= 0:
        raise ConfigError(label, f"weight must be a positive number (got {value!r})", line)
    if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise ConfigError(
            label, f"weight must be between {_plain(MIN_WEIGHT)} and {_plain(MAX_WEIGHT)} (got {value!r})", line
        )
    return weight


def _plain(number: float) -> str:
    """``number`` written out without exponent: 1e-06 -> ``0.000001``, 1e6 -> ``1000000``."""
    return f"{number:f}".rstrip("0").rstrip(".")


def read_weights_text(path: Path) -> str | None:
    """The text of the weights file ``path``, or None when there is none.

    Raises:
        ConfigError: ``path`` exists but is not a regular file (a directory, a broken
            link: equal weights would silently replace the intended ones), cannot be
            read (permissions or any other OSError), or is not UTF-8 text.
    """
    path = Path(path)
    try:
        if not path.is_file():
            if path.is_symlink() or path.exists():
                raise ConfigError(path, "is not a regular file")
            return None
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(path, "is not UTF-8 text") from None


def _csv_lines(text: str, label: str):
    """``(line, row)`` for each CSV row of ``text`` (``line``: where the row ends).

    Raises:
        ConfigError: CSV the reader refuses, or a cell longer than
            :data:`MAX_WEIGHTS_CELL_CHARS`, naming the line.
    """
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConfigError(label, f"unreadable CSV ({exc})", reader.line_num) from None
        longest = max((len(cell) for cell in row), default=0)
        if longest > MAX_WEIGHTS_CELL_CHARS:
            problem = f"unreadable CSV (a cell of {longest} characters, at most {MAX_WEIGHTS_CELL_CHARS})"
            raise ConfigError(label, problem, reader.line_num)
        yield reader.line_num, row


#: Longest cell of a weights file: the csv module's own limit is process-wide and other
#: libraries raise it, so the refusal of a runaway cell must not depend on it.
MAX_WEIGHTS_CELL_CHARS = 1000


def parse_weights(text: str, label: str, report_id: str, activity_keys: set[tuple[int, int]]) -> pd.DataFrame:
    """Check the text of one weights file and return its rows.

    Args:
        text: CSV with the header ``commitment_no,activity_no,weight``.
        label: the file's name, for error messages.
        report_id: the report the file belongs to.
        activity_keys: the report's (commitment_no, activity_no) pairs.

    Raises:
        ConfigError: bad header or row, a weight that is not a positive number between
            MIN_WEIGHT and MAX_WEIGHT, a pair given twice, or a pair that is not an
            activity of the report.
    """
    lines = _csv_lines(text, label)
    header = next(lines, (1, None))[1]
    if header is None or [h.strip() for h in header] != WEIGHTS_HEADER:
        got = ",".join(header) if header else "an empty file"
        raise ConfigError(label, f"the header must be {','.join(WEIGHTS_HEADER)} (got {got})", 1)
    rows, first_line = [], {}
    for line, row in lines:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(WEIGHTS_HEADER):
            raise ConfigError(label, f"expected 3 values, got {len(row)}", line)
        commitment_no = _positive_int(row[0].strip(), "commitment_no", label, line)
        activity_no = _positive_int(row[1].strip(), "activity_no", label, line)
        weight = _weight(row[2].strip(), label, line)
        key = (commitment_no, activity_no)
        if key in first_line:
            problem = (
                f"commitment {commitment_no}, activity {activity_no} is given twice (first on line {first_line[key]})"
            )
            raise ConfigError(label, problem, line)
        if key not in activity_keys:
            raise ConfigError(
                label, f"report {report_id} has no activity {activity_no} in commitment {commitment_no}", line
            )
        first_line[key] = line
        rows.append(
            {"report_id": report_id, "commitment_no": commitment_no, "activity_no": activity_no, "weight": weight}
        )
    return pd.DataFrame(rows, columns=["report_id", *WEIGHTS_HEADER]).astype(
        {"report_id": "str", "commitment_no": "int64", "activity_no": "int64", "weight": "float64"}
    )


def weights_path(raw_dir: Path, report_id: str) -> Path:
    return Path(raw_dir) / f"{report_id}{WEIGHTS_SUFFIX}"


def load_weights_by_report(raw_dir: Path, activities: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, ConfigError]]:
    """The activity weights of every report of ``activities`` that has a weights file, and
    the error of each unusable one: the weights of the reports whose file is
    valid, and the error of each report whose file is not (invalid, unreadable or not
    a regular file: see :func:`read_weights_text` and :func:`parse_weights`)."""
    raw_dir = Path(raw_dir)
    report_ids = sorted(activities["report_id"].unique())
    invalid: dict[str, ConfigError] = {}
    for stray in sorted(raw_dir.glob(f"*{WEIGHTS_SUFFIX}")):
        stray_id = stray.name[: -len(WEIGHTS_SUFFIX)]
        if stray_id not in report_ids:
            log.warning("%s: no activities of report %s: weights file ignored", stray, stray_id)
    frames = []
    for report_id in report_ids:
        path = weights_path(raw_dir, report_id)
        try:
            text = read_weights_text(path)
            if text is None:
                continue
            mine = activities[activities["report_id"] == report_id]
            keys = set(zip(mine["commitment_no"].astype(int), mine["activity_no"].astype(int)))
            frames.append(parse_weights(text, str(path), report_id, keys))
        except ConfigError as exc:
            invalid[report_id] = exc
    if not frames:
        return _empty_weights(), invalid
    return pd.concat(frames, ignore_index=True), invalid


def add_weights_errors(findings: pd.DataFrame, invalid: dict[str, ConfigError]) -> pd.DataFrame:
    """One ``error`` finding (``weights_file_invalid``) per report whose weights file is unusable.

    Such a report keeps its curated rows in the database, with rates at equal
    weights, but the error keeps it from being published.
    """
    if not invalid:
        return findings
    frames = [findings] if len(findings) else []
    for report_id, exc in sorted(invalid.items()):
        mine = findings[(findings["report_id"] == report_id) & (findings["stage"] == STAGE)]
        first = int(mine["finding_no"].max()) if len(mine) else 0
        message = f"{exc} ; rapport non publié tant que le fichier de poids n'est pas corrigé"
        row = findings_frame(
            report_id, STAGE, [Finding("error", "weights_file_invalid", message, "activities", None, exc.line)]
        )
        row["finding_no"] += first
        frames.append(row)
    merged = pd.concat(frames, ignore_index=True)
    return merged.sort_values(ALL_RESOURCES["findings"]["primary_key"], kind="stable").reset_index(drop=True)


def describe_weights(raw_dir: Path, report_ids: list[str], weights: pd.DataFrame) -> dict[str, dict]:
    """Where each report's activity weights come from: ``equal``, or a file with its SHA-256."""
    counts = weights["report_id"].value_counts().to_dict()
    out = {}
    for report_id in sorted(report_ids):
        path = weights_path(raw_dir, report_id)
        given = int(counts.get(report_id, 0))
        if given and path.is_file():
            out[report_id] = {
                "source": path.name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "weighted_activity_count": given,
            }
        else:
            out[report_id] = {"source": "equal"}
    return out


# --- what was used -----------------------------------------------------------------


def rates_config_record(config: dict, weight_sources: dict[str, dict]) -> dict:
    """The configuration used, as recorded in rates_config.json and the run_config table."""
    return {
        "config_file": config["config_file"],
        "config_sha256": config["config_sha256"],
        "aggregation": config["aggregation"],
        "aggregation_description": AGGREGATIONS[config["aggregation"]],
        "progress_pct": dict(config["progress_pct"]),
        "status_bands_pct": {s: [float(low), float(high)] for s, (low, high) in STATUS_BANDS.items()},
        "unknown_status": "hors de l'estimation ponctuelle ; 0 % dans le minimum, 100 % dans le maximum",
        "weights": weight_sources,
    }


def _flatten(record: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value if isinstance(value, str) else json.dumps(value)))
    return rows


def run_config_frame(record: dict) -> pd.DataFrame:
    """``record`` as (key, value) rows, nested keys joined with dots."""
    return pd.DataFrame(_flatten(record), columns=["key", "value"]).astype("str")


# --- the database ------------------------------------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_files() -> list[tuple[str, str]]:
    folder = resources.files("pipeline").joinpath("sql")
    files = sorted((p.name, p) for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, p.read_text(encoding="utf-8")) for name, p in files]


def sql_script(statements) -> str:
    """``statements`` (each with or without its closing ``;``) as one script: DuckDB runs it
    in one call, statement after statement, as it would run them one call each."""
    return "".join(statement.rstrip().removesuffix(";") + ";\n" for statement in statements)


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    con.register("_input", data)
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _input')
    finally:
        con.unregister("_input")


def _arrow_frame(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def build_database(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, pd.DataFrame],
    record: dict,
    status_bands: pd.DataFrame,
    weights: pd.DataFrame,
) -> None:
    """Load the curated tables and the configuration into ``con`` and create the views.

    Args:
        con: an empty DuckDB connection (in memory or on a file).
        tables: curated tables by name; a missing one is loaded empty.
        record: the configuration used (:func:`rates_config_record`).
        status_bands: :func:`status_bands_frame` of the configuration.
        weights: :func:`load_weights_by_report`'s weights.
    """
    with transaction(con):
        con.execute(
            sql_script(s for t in TABLES for s in (get_resource(t).to_sql(), *get_resource(t).to_sql_comments()))
        )
        for table in TABLES:
            _insert(con, table, to_arrow(tables.get(table, empty_frame(table)), table))
        con.register("status_bands_input", _arrow_frame(status_bands))
        con.register("activity_weights_input", _arrow_frame(weights))
        con.register("run_config_input", _arrow_frame(run_config_frame(record)))
        try:
            for name, sql in _sql_files():
                try:
                    con.execute(sql)
                except duckdb.Error as exc:
                    raise RuntimeError(f"pipeline/sql/{name}: {exc}") from exc
        finally:
            for name in ("status_bands_input", "activity_weights_input", "run_config_input"):
                con.unregister(name)
        con.execute(sql_script(s for table in COMPUTED_TABLES for s in get_resource(table).to_sql_comments("VIEW")))
        fields = field_comment_statements(con, DATABASE_ONLY_VIEWS + INTERMEDIATE_VIEWS)
        if fields:
            con.execute(sql_script(fields))


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """The statements of the block in one transaction, rolled back if it raises: DuckDB
    writes the tables and the catalogue once rather than after each statement."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


#: Views of the database that are not published (their SQL comments their own columns).
DATABASE_ONLY_VIEWS = (
    "overview",
    "report_pairs",
    "activity_pairs",
    "activity_transitions",
    "commitment_trend",
    "plan_trend",
    "carried_over",
    "unpaired_activities",
)
#: Similarity (DuckDB's ``jaro_winkler_similarity`` of the lower-cased, trimmed titles)
#: from which two titles agree, for pairing the activities of successive reports of a
#: plan and for ``carried_over``. ``pipeline/sql/100_what_moved.sql`` writes the same
#: value (a test keeps them equal).
TITLE_MATCH_THRESHOLD = 0.85
#: Intermediate views (``int_*``): steps that several views of ``pipeline/sql/`` share.
INTERMEDIATE_VIEWS = ("int_published_commitment_rates", "int_plans_with_several_reports")
#: The views of "what moved" that compute reads back for its findings.
WHAT_MOVED_VIEWS = ("activity_pairs", "activity_transitions", "unpaired_activities")
#: The order in which Python reads the views of "what moved" (a view has no ORDER BY):
#: findings are numbered, and the report page lists the movements, in this order.
#: ``unpaired_activities``: by the report the activity is in, then its numbers.
VIEW_ORDER = {
    "report_pairs": "plan_period, later_as_of, later_report_id",
    "activity_pairs": "plan_period, later_report_id, commitment_no, activity_no",
    "activity_transitions": "plan_period, later_report_id, commitment_no, activity_no",
    "unpaired_activities": (
        "plan_period, later_report_id, CASE side WHEN 'earlier' THEN earlier_report_id ELSE later_report_id END, "
        "commitment_no, activity_no"
    ),
}


def read_view(con: duckdb.DuckDBPyConnection, view: str, where: str = "") -> pd.DataFrame:
    """The rows of ``view`` (those of the SQL condition ``where`` if given), in the order
    of :data:`VIEW_ORDER`."""
    condition = f" WHERE {where}" if where else ""
    return con.sql(f'SELECT * FROM "{view}"{condition} ORDER BY {VIEW_ORDER[view]}').df()


def field_comment_statements(con: duckdb.DuckDBPyConnection, views: tuple[str, ...]) -> list[str]:
    """``COMMENT ON COLUMN`` for the columns of ``views`` that the SQL left without one
    and that the field dictionary defines (``report_id``, ``title``…)."""
    rows = con.sql(
        "SELECT table_name, column_name FROM duckdb_columns() "
        f"WHERE comment IS NULL AND table_name IN ({', '.join(_literal(v) for v in views)}) ORDER BY ALL"
    ).fetchall()
    statements = []
    for view, column in rows:
        if column in FIELDS:
            text = comment_text(FIELDS[column]["title"], FIELDS[column]["description"])
            statements.append(f'COMMENT ON COLUMN "{view}"."{column}" IS {_literal(text)}')
    return statements


#: The file of the "what moved" views, and those of them that need only the curated
#: ``reports``, ``commitments`` and ``activities`` tables.
WHAT_MOVED_SQL = "100_what_moved.sql"
PAIRING_VIEWS = ("report_pairs", "activity_pairs", "activity_transitions")


def pairing_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """:data:`PAIRING_VIEWS` computed in memory from ``tables`` (``reports``,
    ``commitments``, ``activities``; an absent one is empty), by the database's own SQL.
    For readers of the released tables (the report page), which hold no such view."""
    sql = dict(_sql_files())[WHAT_MOVED_SQL]
    chunks = re.split(r"(?=^CREATE VIEW )", sql, flags=re.M)
    named = ((re.match(r"CREATE VIEW (\w+)", chunk), chunk) for chunk in chunks)
    wanted = [chunk for match, chunk in named if match and match.group(1) in PAIRING_VIEWS]
    with duckdb.connect(":memory:", config={"threads": 1}) as con:
        for table in ("reports", "commitments", "activities"):
            con.execute(get_resource(table).to_sql())
            _insert(con, table, to_arrow(tables.get(table, empty_frame(table)), table))
        for chunk in wanted:
            con.execute(chunk)
        return {view: read_view(con, view) for view in PAIRING_VIEWS}


def sql_list(values) -> str:
    """``values`` as a parenthesised SQL list of string literals, sorted; ``(NULL)`` when
    empty, which no ``IN`` matches."""
    return "(" + ", ".join(_literal(v) for v in sorted(values)) + ")" if values else "(NULL)"


def fetch_computed(con: duckdb.DuckDBPyConnection, report_ids: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every computed table, read from its view with the columns and types of :mod:`schemas`,
    sorted by its primary key; only the rows of ``report_ids`` when given."""
    where = "" if report_ids is None else f" WHERE report_id IN {sql_list(report_ids)}"
    out = {}
    for table in COMPUTED_TABLES:
        schema = arrow_schema(table)
        columns = ", ".join(f'"{c}"' for c in schema.names)
        order = ", ".join(f'"{c}"' for c in ALL_RESOURCES[table]["primary_key"])
        data = con.sql(f'SELECT {columns} FROM "{table}"{where} ORDER BY {order}').to_arrow_table()
        out[table] = data.cast(schema).to_pandas()
    return out


# --- findings ----------------------------------------------------------------------


def _pct(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _scope_label(scope: str, scope_no: int) -> str:
    return {"plan": "plan", "axis": f"axe {scope_no}", "commitment": f"engagement {scope_no}"}[scope]


def _commitment_findings(progress: pd.DataFrame, start_line: dict):
    for r in progress.itertuples():
        key = record_key(commitment_no=r.commitment_no)
        line = start_line.get((r.report_id, r.commitment_no))
        if r.activity_count == 0:
            message = f"engagement {r.commitment_no} : aucune activité ; pas de taux calculé (intervalle 0-100 %)"
            yield r.report_id, Finding("warning", "commitment_without_activity", message, "commitments", key, line)
        elif r.unknown_activity_count == r.activity_count:
            message = f"engagement {r.commitment_no} : aucune activité de statut connu ; pas de taux calculé"
            yield r.report_id, Finding("warning", "commitment_status_unknown", message, "commitments", key, line)


def _axis_findings(progress: pd.DataFrame):
    for r in progress[progress["commitment_count"] == 0].itertuples():
        message = f"axe {r.axis_no} : aucun engagement ; pas de taux calculé"
        yield r.report_id, Finding("warning", "axis_without_commitment", message, "axes", record_key(axis_no=r.axis_no))


def _reconciliation_findings(reconciliation: pd.DataFrame, rate_line: dict):
    for r in reconciliation.itertuples():
        key = record_key(scope=r.scope, scope_no=r.scope_no)
        line = rate_line.get((r.report_id, r.scope, r.scope_no))
        published = f"{_scope_label(r.scope, r.scope_no)} : taux publié {_pct(r.published_rate_pct)} %"
        if pd.isna(r.rate_min_pct):
            message = f"{published} sans taux calculé correspondant"
            yield r.report_id, Finding("warning", "published_rate_not_computed", message, "published_rates", key, line)
        elif not r.within_bounds:
            message = f"{published} hors de l'intervalle calculé {_pct(r.rate_min_pct)}-{_pct(r.rate_max_pct)} %"
            yield (
                r.report_id,
                Finding("warning", "published_rate_outside_bounds", message, "published_rates", key, line),
            )


def _missing_rate_findings(ranges: pd.DataFrame, aggregation: str, start_line: dict, rate_line: dict):
    for r in ranges[ranges["aggregation"] == aggregation].itertuples():
        plan = f"taux global publié ({_pct(r.published_rate_pct)} %)"
        if r.is_consistent:
            message = (
                f"engagement {r.commitment_no} : taux non publié ; avec le {plan} et l'agrégation {aggregation} "
                f"({AGGREGATIONS[aggregation]}), il est compris entre {_pct(r.implied_rate_min_pct)} "
                f"et {_pct(r.implied_rate_max_pct)} %"
            )
            key, line = record_key(commitment_no=r.commitment_no), start_line.get((r.report_id, r.commitment_no))
            yield r.report_id, Finding("info", "missing_rate_range", message, "commitments", key, line)
        elif r.is_consistent is not None and not pd.isna(r.is_consistent):
            message = (
                f"aucune valeur du taux non publié de l'engagement {r.commitment_no} ne redonne le {plan} "
                f"avec l'agrégation {aggregation} : les taux publiés ne suivent pas cette agrégation"
            )
            key, line = record_key(scope="plan", scope_no=0), rate_line.get((r.report_id, "plan", 0))
            yield r.report_id, Finding("warning", "aggregation_inconsistent", message, "published_rates", key, line)


def _score(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _what_moved_findings(pairs: pd.DataFrame | None, transitions: pd.DataFrame | None):
    """``activity_went_back`` and ``activity_pair_unmatched``, on the later report."""
    if transitions is not None:
        for r in transitions[transitions["movement"] == "went_back"].itertuples():
            message = (
                f"engagement {r.commitment_no}, activité {r.activity_no} : statut en recul depuis le rapport "
                f"{r.earlier_report_id} ({r.status_before} -> {r.status_after})"
            )
            key = record_key(commitment_no=r.commitment_no, activity_no=r.activity_no)
            line = None if pd.isna(r.source_line) else int(r.source_line)
            yield r.later_report_id, Finding("warning", "activity_went_back", message, "activities", key, line)
    if pairs is not None:
        for r in pairs[~pairs["is_matched"].astype(bool)].itertuples():
            commitment_score = 0.0 if pd.isna(r.commitment_title_score) else r.commitment_title_score
            if commitment_score < TITLE_MATCH_THRESHOLD:
                why = f"intitulés des engagements trop différents (similarité {_score(commitment_score)})"
            else:
                why = f"intitulés des activités trop différents (similarité {_score(r.title_score)})"
            message = (
                f"engagement {r.commitment_no}, activité {r.activity_no} : non appariée avec le rapport "
                f"{r.earlier_report_id} ({why}, seuil {_score(TITLE_MATCH_THRESHOLD)}) ; "
                f"« {r.earlier_title} » / « {r.later_title} »"
            )
            key = record_key(commitment_no=r.commitment_no, activity_no=r.activity_no)
            line = None if pd.isna(r.source_line) else int(r.source_line)
            yield r.later_report_id, Finding("info", "activity_pair_unmatched", message, "activities", key, line)


#: Where an unpaired activity is, as the finding says it.
_SIDE_TEXT = {
    "earlier": "présente dans le rapport {earlier} mais pas dans celui-ci",
    "later": "absente du rapport {earlier}",
}


def _unpaired_findings(unpaired: pd.DataFrame | None):
    """``activity_without_counterpart`` on the later report: an activity with no activity of
    the same numbers in the other report of the pair (dropped, added or renumbered)."""
    if unpaired is None:
        return
    for r in unpaired.itertuples():
        where = _SIDE_TEXT[r.side].format(earlier=r.earlier_report_id)
        message = f"engagement {r.commitment_no}, activité {r.activity_no} « {r.title} » : {where} ; non comparée"
        key = record_key(commitment_no=r.commitment_no, activity_no=r.activity_no)
        line = None if r.side == "earlier" or pd.isna(r.source_line) else int(r.source_line)
        yield r.later_report_id, Finding("info", "activity_without_counterpart", message, "activities", key, line)


def fetch_what_moved(con: duckdb.DuckDBPyConnection, plans: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """The views of :data:`WHAT_MOVED_VIEWS`, as read for the findings; only the rows of
    the plan periods ``plans`` when given."""
    where = "" if plans is None else f"plan_period IN {sql_list(plans)}"
    return {view: read_view(con, view, where) for view in WHAT_MOVED_VIEWS}


def _computed_table_findings(computed: dict[str, pd.DataFrame]) -> list[tuple[str, Finding]]:
    """``computed_table_invalid`` (error): a computed table's row breaks its definition in
    :mod:`schemas` (the pandera checks validation runs on the curated tables)."""
    return [
        pair for table in COMPUTED_TABLES if table in computed for pair in check_computed_table(table, computed[table])
    ]


def compute_findings(
    computed: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], aggregation: str
) -> pd.DataFrame:
    """The ``compute`` findings of every report: what could not be computed or does not match.

    - ``commitment_without_activity``, ``commitment_status_unknown``, ``axis_without_commitment``
      (warning): no point estimate for that scope.
    - ``published_rate_outside_bounds`` (warning): a published rate outside the computed interval.
    - ``published_rate_not_computed`` (warning): a published rate with no computed counterpart.
    - ``missing_rate_range`` (info): the values of a missing commitment rate that the
      published global rate allows under the configured aggregation, or
      ``aggregation_inconsistent`` (warning) when it allows none.
    - ``activity_went_back`` (warning) and ``activity_pair_unmatched`` (info), on the later
      of two successive reports of a plan, when ``computed`` holds the views
      ``activity_transitions`` and ``activity_pairs`` (:func:`fetch_what_moved`).

    Findings are numbered per report in that order.
    """
    commitments = tables.get("commitments")
    published = tables.get("published_rates")
    start_line, rate_line = {}, {}
    if commitments is not None:
        start_line = {(r.report_id, r.commitment_no): r.source_line_start for r in commitments.itertuples()}
    if published is not None:
        rate_line = {(r.report_id, r.scope, r.scope_no): r.source_line for r in published.itertuples()}
    found = [
        *_commitment_findings(computed["commitment_progress"], start_line),
        *_axis_findings(computed["axis_progress"]),
        *_reconciliation_findings(computed["reconciliation"], rate_line),
        *_missing_rate_findings(computed["missing_rate_range"], aggregation, start_line, rate_line),
        *_what_moved_findings(computed.get("activity_pairs"), computed.get("activity_transitions")),
        *_unpaired_findings(computed.get("unpaired_activities")),
        *_computed_table_findings(computed),
    ]
    by_report: dict[str, list[Finding]] = {}
    for report_id, finding in found:
        by_report.setdefault(report_id, []).append(finding)
    frames = [findings_frame(report_id, STAGE, items) for report_id, items in sorted(by_report.items())]
    if not frames:
        return findings_frame("", STAGE, [])
    return pd.concat(frames, ignore_index=True)


def merge_findings(findings: pd.DataFrame, stage_findings: pd.DataFrame, stage: str = STAGE) -> pd.DataFrame:
    """``findings`` with its rows of ``stage`` replaced by ``stage_findings``, sorted by key."""
    kept = findings[findings["stage"] != stage]
    frames = [f for f in (kept, stage_findings) if len(f)]
    if not frames:
        return findings.iloc[0:0].reset_index(drop=True)
    merged = pd.concat(frames, ignore_index=True)
    key = ALL_RESOURCES["findings"]["primary_key"]
    return merged.sort_values(key, kind="stable").reset_index(drop=True)


# --- the stage ---------------------------------------------------------------------


def populate(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, pd.DataFrame],
    config: dict,
    weights: pd.DataFrame,
    weight_sources: dict[str, dict] | None = None,
    invalid_weights: dict[str, ConfigError] | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the whole database in ``con`` and return the computed tables and the findings.

    The returned dict has every computed table, ``stage_findings`` (this stage's own:
    what could not be computed, and one error per unusable weights file) and
    ``findings`` (the tables' findings without earlier ``compute`` ones, then this
    stage's), which is also the database's ``findings`` table.
    """
    if weight_sources is None:
        report_ids = list(tables.get("reports", empty_frame("reports"))["report_id"])
        weight_sources = {r: {"source": "equal"} for r in sorted(report_ids)}
    record = rates_config_record(config, weight_sources)
    findings = tables.get("findings", empty_frame("findings"))
    loaded = {**tables, "findings": findings[findings["stage"] != STAGE].reset_index(drop=True)}
    build_database(con, loaded, record, status_bands_frame(config), weights)
    computed = fetch_computed(con)
    computed.update(fetch_what_moved(con))
    new = add_weights_errors(compute_findings(computed, tables, config["aggregation"]), invalid_weights or {})
    if len(new):
        _insert(con, "findings", to_arrow(new, "findings"))
    computed["stage_findings"] = new
    computed["findings"] = merge_findings(findings, new)
    return computed


@contextlib.contextmanager
def open_database_file(path: Path):
    """A connection whose current database is the file ``path``, in the storage format of
    :data:`STORAGE_VERSION`; checkpointed and detached on success, its WAL removed in any case.

    DuckDB 1.4 and every later client opens the file (DuckDB 2's default format is
    refused by 1.x).
    """
    wal = path.with_name(path.name + ".wal")
    try:
        with duckdb.connect(":memory:", config={"threads": 1}) as con:
            con.execute(f"ATTACH {_literal(str(path))} AS pgo (STORAGE_VERSION '{STORAGE_VERSION}')")
            con.execute("USE pgo")
            yield con
            con.execute("CHECKPOINT pgo")
            con.execute("USE memory")
            con.execute("DETACH pgo")
    finally:
        wal.unlink(missing_ok=True)


def build_database_file(
    tmp: Path,
    tables: dict[str, pd.DataFrame],
    config: dict,
    weights: pd.DataFrame,
    weight_sources: dict[str, dict],
    invalid_weights: dict[str, ConfigError] | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the database in the file ``tmp`` (replaced if it exists), closed and checkpointed
    (see :func:`open_database_file`)."""
    tmp.unlink(missing_ok=True)
    with open_database_file(tmp) as con:
        return populate(con, tables, config, weights, weight_sources, invalid_weights)


def write_outputs(computed_dir: Path, out: dict[str, pd.DataFrame], record: dict) -> None:
    """The computed tables, this stage's findings and the configuration used, each atomically."""
    for table in COMPUTED_TABLES:
        write_table(out[table], table, computed_dir / f"{table}.parquet")
    write_table(out["stage_findings"], "findings", computed_dir / "findings.parquet")
    write_text_atomic(computed_dir / RATES_CONFIG_NAME, json.dumps(record, ensure_ascii=False, indent=2) + "\n")


def _log_plan_rates(plan: pd.DataFrame) -> None:
    def show(value: float) -> str:
        return "-" if pd.isna(value) else f"{value:.1f}"

    for r in plan.itertuples():
        log.info(
            "%s: plan rate %s %% (interval %s-%s %%, %s)",
            r.report_id,
            show(r.rate_pct),
            show(r.rate_min_pct),
            show(r.rate_max_pct),
            r.aggregation,
        )


def read_validated(lay: Layout) -> dict[str, pd.DataFrame]:
    """The validated layer's tables (a missing file reads as empty)."""
    return {t: read_table(lay.validated / f"{t}.parquet", t) for t in TABLES}


def _log_invalid_weights(invalid: dict[str, ConfigError]) -> None:
    for exc in invalid.values():
        log.error("activity weights: %s (this report is not published)", exc)


class Build(NamedTuple):
    """What a build of the computed layer gives :func:`compute_database` to write and say."""

    #: Every computed table and ``stage_findings`` (see :func:`populate`).
    out: dict[str, pd.DataFrame]
    #: Where each report's weights come from (:func:`describe_weights`).
    sources: dict[str, dict]
    #: The error of each report whose weights file is unusable.
    invalid: dict[str, ConfigError]
    #: The reports whose rows were computed (every one in a full build).
    recomputed: set[str]


def rebuild(tmp: Path, lay: Layout, config: dict, raw_dir: Path) -> Build:
    """The whole database built in ``tmp`` from every validated table."""
    tables = read_validated(lay)
    weights, invalid = load_weights_by_report(raw_dir, tables["activities"])
    _log_invalid_weights(invalid)
    sources = describe_weights(raw_dir, list(tables["reports"]["report_id"]), weights)
    out = build_database_file(tmp, tables, config, weights, sources, invalid)
    return Build(out, sources, invalid, set(tables["reports"]["report_id"]))


# --- incremental update --------------------------------------------------------------
#
# Every computed row belongs to one report and is computed from that report's rows
# alone, except the "what moved" views, which pair each report of a plan
# (``reports.plan_period``) with the one before it, and their findings, filed under the
# later report of the pair. When a few reports changed since the last build, the
# previous database is copied, the rows of the changed reports are replaced, and the
# changed reports and the reports that follow one of them in their plan (before or
# after the change: a report added, removed or dated otherwise gives its neighbours new
# pairs) are computed again; the result is the database and the tables a full build
# would give.

#: The computed layer's files that an update starts from (besides the database).
PREVIOUS_OUTPUTS = (*(f"{t}.parquet" for t in COMPUTED_TABLES), "findings.parquet", RATES_CONFIG_NAME)
#: Above this share of changed reports, a full build is as quick and leaves no deleted
#: rows in the database file.
MAX_UPDATE_SHARE = 0.5
#: Tables of the rates configuration (pipeline/sql/000_rate_config.sql) rewritten by an update.
WEIGHTS_TABLE = "activity_weights"
RUN_CONFIG_TABLE = "run_config"
#: The curated tables whose source lines the findings cite.
LINE_TABLES = ("commitments", "published_rates")


def refusal_to_update(lay: Layout, previous: dict | None, record: dict) -> str | None:
    """Why the previous computed layer cannot be updated into the one of ``record``
    (None: it can): missing or incomplete, made by other code or another configuration,
    or its database touched since."""
    if previous is None:
        return "no complete computed layer"
    if previous.get("compute_code") != record["compute_code"]:
        return "the compute code changed"
    if previous.get("config_sha256") != record["config_sha256"]:
        return "the rates configuration changed"
    missing = [name for name in (DATABASE_NAME, *PREVIOUS_OUTPUTS) if not (lay.computed / name).is_file()]
    if missing:
        return f"{missing[0]} is missing"
    if lay.database.with_name(DATABASE_NAME + ".wal").exists():
        return "the database has a write-ahead log (opened for writing since)"
    if lay.database.stat().st_mtime_ns > (lay.computed / PROVENANCE_FILE).stat().st_mtime_ns:
        return "the database is newer than the layer's provenance (modified or copied since)"
    return None


def changed_reports(previous: dict[str, dict], current: dict[str, dict]) -> set[str]:
    """The reports whose record entry is new, different or gone."""
    return {r for r in previous.keys() | current.keys() if previous.get(r) != current.get(r)}


def plan_update(previous: dict, record: dict) -> set[str] | None:
    """The reports whose rows an update replaces, or None when they are more than
    :data:`MAX_UPDATE_SHARE` of all reports."""
    changed = changed_reports(previous["reports"], record["reports"])
    total = len(previous["reports"].keys() | record["reports"].keys())
    if len(changed) > MAX_UPDATE_SHARE * total:
        log.info("compute: full rebuild, %d of %d report(s) changed", len(changed), total)
        return None
    return changed


def read_followers(con: duckdb.DuckDBPyConnection, report_ids: set[str]) -> set[str]:
    """The reports that follow one of ``report_ids`` in its plan (``report_pairs``)."""
    rows = con.sql(f"SELECT later_report_id FROM report_pairs WHERE earlier_report_id IN {sql_list(report_ids)}")
    return {report_id for (report_id,) in rows.fetchall()}


def read_plan_periods(con: duckdb.DuckDBPyConnection, report_ids: set[str]) -> set[str]:
    """The plan periods of ``report_ids`` (those still in the ``reports`` table)."""
    rows = con.sql(f"SELECT DISTINCT plan_period FROM reports WHERE report_id IN {sql_list(report_ids)}")
    return {plan for (plan,) in rows.fetchall() if plan is not None}


def read_validated_columns(lay: Layout, table: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of a validated table, every row (a missing file reads as empty)."""
    path = lay.validated / f"{table}.parquet"
    schema = arrow_schema(table)
    if not path.exists():
        return schema.empty_table().select(columns).to_pandas()
    return pq.read_table(path, columns=columns, schema=schema).to_pandas()


def _report_filter(report_ids: set[str]) -> pc.Expression:
    return pc.field("report_id").isin(pa.array(sorted(report_ids), pa.string()))


def read_report_rows(path: Path, table: str, report_ids: set[str], keep: bool = True) -> pa.Table:
    """The rows of the Parquet ``table`` at ``path`` that belong to ``report_ids`` (or, with
    ``keep`` false, to no report of them), with the table's schema; a missing file reads as empty."""
    schema = arrow_schema(table)
    if not path.exists():
        return schema.empty_table()
    selected = _report_filter(report_ids)
    return pq.read_table(path, schema=schema, filters=selected if keep else ~selected)


def replace_report_rows(
    con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], weights: pd.DataFrame, report_ids: set[str]
) -> None:
    """Replace the rows of ``report_ids`` in every curated table and in ``activity_weights``
    (in one :func:`transaction`)."""
    with transaction(con):
        con.execute(
            sql_script(f'DELETE FROM "{t}" WHERE report_id IN {sql_list(report_ids)}' for t in (*TABLES, WEIGHTS_TABLE))
        )
        for table in TABLES:
            if tables[table].num_rows:
                _insert(con, table, tables[table])
        mine = weights[weights["report_id"].isin(report_ids)]
        if len(mine):
            _insert(con, WEIGHTS_TABLE, _arrow_frame(mine))


def replace_run_config(con: duckdb.DuckDBPyConnection, record: dict) -> None:
    """The ``run_config`` table rewritten from ``record`` (:func:`rates_config_record`)."""
    con.execute(f'DELETE FROM "{RUN_CONFIG_TABLE}"')
    _insert(con, RUN_CONFIG_TABLE, _arrow_frame(run_config_frame(record)))


def fetch_what_moved_of(con: duckdb.DuckDBPyConnection, report_ids: set[str]) -> dict[str, pd.DataFrame]:
    """The views of :data:`WHAT_MOVED_VIEWS` whose later report is one of ``report_ids``
    (filtered on their plans first, which the views' windows are partitioned by)."""
    plans = read_plan_periods(con, report_ids)
    where = f"plan_period IN {sql_list(plans)} AND later_report_id IN {sql_list(report_ids)}"
    return {view: read_view(con, view, where) for view in WHAT_MOVED_VIEWS}


def sort_by_key(data: pa.Table, table: str) -> pd.DataFrame:
    """``data`` sorted by ``table``'s primary key, as a DataFrame (as :func:`fetch_computed` reads it)."""
    return data.sort_by([(c, "ascending") for c in ALL_RESOURCES[table]["primary_key"]]).to_pandas()


def merge_outputs(
    computed_dir: Path, computed: dict[str, pd.DataFrame], stage_findings: pd.DataFrame, report_ids: set[str]
) -> dict[str, pd.DataFrame]:
    """Each computed table and ``stage_findings``: the previous file's rows of the reports
    not in ``report_ids``, and the new rows of those reports, sorted by primary key."""
    new = {**{t: computed[t] for t in COMPUTED_TABLES}, "stage_findings": stage_findings}
    out = {}
    for name, frame in new.items():
        table = "findings" if name == "stage_findings" else name
        kept = read_report_rows(computed_dir / f"{table}.parquet", table, report_ids, keep=False)
        out[name] = sort_by_key(pa.concat_tables([kept, to_arrow(frame, table)]), table)
    return out


def update(tmp: Path, lay: Layout, changed: set[str], config: dict, raw_dir: Path) -> Build:
    """The previous database copied to ``tmp``, the rows of the ``changed`` reports
    replaced, and those reports and their followers computed again; the computed tables
    merged with the previous files."""
    keys = read_validated_columns(lay, "activities", ["report_id", "commitment_no", "activity_no"])
    weights, invalid = load_weights_by_report(raw_dir, keys)
    _log_invalid_weights(invalid)
    report_ids = read_validated_columns(lay, "reports", ["report_id"])["report_id"]
    sources = describe_weights(raw_dir, list(report_ids), weights)
    tables = {t: read_report_rows(lay.validated / f"{t}.parquet", t, changed) for t in TABLES}
    tables["findings"] = tables["findings"].filter(pc.field("stage") != STAGE)
    shutil.copyfile(lay.database, tmp)
    with ThreadPoolExecutor(max_workers=1) as pool, open_database_file(tmp) as con:
        followers = read_followers(con, changed)
        replace_report_rows(con, tables, weights, changed)
        recomputed = changed | followers | read_followers(con, changed)
        con.execute(f"DELETE FROM findings WHERE stage = '{STAGE}' AND report_id IN {sql_list(recomputed)}")
        replace_run_config(con, rates_config_record(config, sources))
        computed = fetch_computed(con, recomputed)
        computed.update(fetch_what_moved_of(con, recomputed))
        lines = {t: read_report_rows(lay.validated / f"{t}.parquet", t, recomputed).to_pandas() for t in LINE_TABLES}
        mine = {r: exc for r, exc in invalid.items() if r in recomputed}
        new = add_weights_errors(compute_findings(computed, lines, config["aggregation"]), mine)
        if len(new):
            _insert(con, "findings", to_arrow(new, "findings"))
        plans = read_plan_periods(con, recomputed)
        # Arrow and DuckDB both work without the GIL: the merge runs while the database
        # is checkpointed and closed.
        merged = pool.submit(merge_outputs, lay.computed, computed, new, recomputed)
    log.info(
        "compute: incremental, %d report(s) of %d plan(s) recomputed (%d changed)",
        len(recomputed),
        len(plans),
        len(changed),
    )
    return Build(merged.result(), sources, invalid, recomputed)


def compute_database(curated_dir: Path, config_path: Path | None = None, raw_dir: Path = Path("raw")) -> int:
    """``python -m pipeline compute``: rates from ``curated/validated/`` into ``curated/computed/``.

    Writes the computed tables as Parquet, this stage's findings (``findings.parquet``:
    what could not be computed, unusable weights files), the configuration used
    (``rates_config.json``), then the database ``pgo.duckdb``, built last from the
    validated tables and every finding, and finally ``provenance.json``.

    When the previous computed layer is complete and was made by the same code and
    configuration, only the reports whose inputs changed, and the reports that follow
    them in their plans, are computed again (:func:`update`); the outputs are those of a
    full build.

    Returns:
        :data:`pipeline.exitcodes.OK`; :data:`~pipeline.exitcodes.INPUT_ERROR` when a
        weights file is unusable (its report is computed at equal weights and not
        published); :data:`~pipeline.exitcodes.USAGE` when the configuration is
        unusable or nothing was validated (nothing is written then).
    """
    lay = layout(curated_dir)
    try:
        config = load_rates_config(config_path)
    except ConfigError as exc:
        log.error("rates configuration: %s", exc)
        return exitcodes.USAGE
    validated = built_from(lay.validated)
    if validated is None:
        log.error("%s has no complete validated layer: run `pgo validate` (or `pgo run`) first", lay.validated)
        return exitcodes.USAGE
    report_ids = sorted(validated.get("reports", {}))
    weights_sha = {r: file_sha256(weights_path(raw_dir, r)) for r in report_ids}
    record = computed_record(validated, weights_sha, config_sha256(config_path), stage_code_fingerprint(STAGE))
    previous = built_from(lay.computed)
    refusal = refusal_to_update(lay, previous, record)
    changed = None if refusal else plan_update(previous, record)
    if refusal:
        log.info("compute: full rebuild (%s)", refusal)
    (lay.computed / PROVENANCE_FILE).unlink(missing_ok=True)
    with atomic_path(lay.database) as tmp:
        build = rebuild(tmp, lay, config, raw_dir) if changed is None else update(tmp, lay, changed, config, raw_dir)
        fault_point("compute.after_tables")
        write_outputs(lay.computed, build.out, rates_config_record(config, build.sources))
        fault_point("compute.before_database_rename")
    fault_point("compute.before_provenance")
    write_provenance(lay.computed, record)
    _log_plan_rates(build.out["plan_progress"][build.out["plan_progress"]["report_id"].isin(build.recomputed)])
    count = len(build.out["stage_findings"])
    log.info(
        "compute: %d computed tables, %d %s findings, database %s", len(COMPUTED_TABLES), count, STAGE, lay.database
    )
    return exitcodes.INPUT_ERROR if build.invalid else exitcodes.OK
