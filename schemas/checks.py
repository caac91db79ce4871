"""Pandera schemas of the tables, generated from their definitions, and running them.

:func:`resource_schema` (called by :meth:`schemas.classes.Resource.to_pandera`; by table
name, :func:`build_schema`) turns a resource's fields into a pandera ``DataFrameSchema``:
one column per field with its dtype and nullability, its constraints as checks (``enum``
-> ``isin``, ``minimum``/``maximum`` -> ``in_range``, ``pattern`` -> ``str_matches``), the
table's primary key as a uniqueness constraint, text hygiene checks on free-text
columns, and the table's extra checks (a status band must be the band of the status, a
count must not carry a percent sign, …). The extra checks add to the definition; they
never restate a column.

Every check has a stable name (a finding code: it says what is wrong), a readable
French message and a severity, recorded in ``schema.metadata["checks"]``:

* ``error``: the row is quarantined;
* ``warning``: the row stays and a finding is recorded.

Running them: :func:`conform` gives a frame the table's columns and nullable dtypes,
:func:`schema_failures` turns pandera's failure cases into one record per failing row
and check (what :mod:`pipeline.validate` quarantines or reports), and
:func:`check_computed_table` does both for a computed table and returns its failures as
``compute`` findings. Checks that span tables (references, numbering) are in
:mod:`pipeline.validate`; nothing here reads a file.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pyarrow

from pipeline.findings import Finding, record_key
from pipeline.text import MOJIBAKE_RE
from schemas import STATUS_BANDS, get_resource
from schemas.classes import Field, Resource

ERROR = "error"
WARNING = "warning"
DUPLICATE_PRIMARY_KEY = "duplicate_primary_key"
#: The finding code of a computed table that breaks its definition (see :func:`check_computed_table`).
COMPUTED_TABLE_INVALID = "computed_table_invalid"

#: Tables whose text is not checked for hygiene: findings quote damaged source text.
_TEXT_EXEMPT_TABLES = {"findings"}

_LIST_MARKER_RE = re.compile(r"(?m)^[ \t]*(?:[-–—*·](?=\s)|[•●○◦▪▫■►➢→]|[\uf000-\uf8ff])")
_MARKUP_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|/>|\\[A-Za-z]+\{|\\[%'_&#$]")
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: Bidirectional-text controls (embeddings and overrides U+202A-U+202E, isolates
#: U+2066-U+2069, the marks U+200E, U+200F and U+061C). Invisible, they can reorder
#: what a reader sees (a title that displays differently from what it holds, the
#: "Trojan Source" trick). Arabic and mixed French-Arabic text display right without them.
_BIDI_CONTROL_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
#: A value with nothing readable in it: only whitespace (Unicode spaces included) or
#: zero-width characters. A required text like this is as good as missing; it would be
#: published as an empty cell, which frictionless reads as missing and refuses.
_BLANK_RE = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]*$")
#: A printed number, as the parser reads one (thousands grouped by spaces, decimal
#: point or comma), with an optional sign, approximation mark and percent sign.
_NUMBER_RE = re.compile(r"^\s*[~≈]?\s*[-−+]?\s*(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,]\d+)?\s*%?\s*[.;]?\s*$")

#: Hygiene checks of free text: (name, severity, message, what is wrong: a regular
#: expression found in the text). An error quarantines the row: such text is never
#: published. A value that is not text at all fails ``text_mojibake`` (and a required
#: column's blank check).
_TEXT_CHECKS = [
    ("text_control_characters", ERROR, "caractères de contrôle dans le texte", _CONTROL_RE),
    (
        "text_bidi_control",
        ERROR,
        "caractère invisible de contrôle du sens d'écriture "
        "(U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) dans le texte",
        _BIDI_CONTROL_RE,
    ),
    (
        "text_mojibake",
        ERROR,
        "texte mal décodé (UTF-8 lu comme Windows-1252 ou Latin-1 : « Ã© », « â€™ »)",
        MOJIBAKE_RE,
    ),
    ("text_list_marker", WARNING, "le texte commence par une puce de liste", _LIST_MARKER_RE),
    ("text_markup", WARNING, "balisage parasite (HTML, LaTeX) dans le texte", _MARKUP_RE),
]
#: A character every hygiene problem but a list marker involves: a control or bidi
#: control character, the lead of a mojibake sequence (see ``MOJIBAKE_RE``), ``<``, ``>``
#: or ``\\`` of markup. A text with none of them and no list marker passes every
#: hygiene check, and only the others are searched check by check (one long alternation
#: of the checks' patterns searches several times slower than they do apart).
_TEXT_PROBLEM_CHARACTER_RE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061cÂÃÅØâï<>\\]"
)
#: The checks a value that is not text fails (where the column has them): it is no readable text.
_NOT_TEXT_FAILS = "text_mojibake"
#: The name of the one pandera check of a text column, which stands for the column's text
#: checks (:data:`_TEXT_CHECKS` for free text, the blank check for a required text):
#: one pass over the column's distinct values; a failing value is reported under the
#: name of each check it fails (:func:`text_failures`).
TEXT_CHECKS = "text_checks"


def build_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a curated or computed ``table``: :func:`resource_schema` of its resource."""
    return get_resource(table).to_pandera()


#: The schemas of the package's own resources, built once per process (by table name,
#: with the resource they were built from: a resource that is not the package's own is
#: built each time). Nothing modifies a schema once built.
_PACKAGE_SCHEMAS: dict[str, tuple[Resource, pa.DataFrameSchema]] = {}


def resource_schema(resource: Resource) -> pa.DataFrameSchema:
    """The pandera schema of ``resource``, with its checks' metadata (:func:`build_resource_schema`),
    built once for each of the package's resources."""
    from schemas import PACKAGE

    cached = _PACKAGE_SCHEMAS.get(resource.name)
    if cached is not None and cached[0] is resource:
        return cached[1]
    schema = build_resource_schema(resource)
    if PACKAGE.resources.get(resource.name) is resource:
        _PACKAGE_SCHEMAS[resource.name] = (resource, schema)
    return schema


def build_resource_schema(resource: Resource) -> pa.DataFrameSchema:
    """The pandera schema of ``resource``, with its checks' metadata.

    ``schema.metadata["checks"]`` maps each check name to ``{"severity", "message",
    "columns"}`` (``columns``: the values to quote when reporting a failing row). The
    names of pandera's own checks are covered: ``<column>_missing`` for a null in a
    required column (and, for a text column, a blank value: only spaces or zero-width
    characters) and ``duplicate_primary_key``.
    """
    table = resource.name
    registry: dict[str, dict] = {}
    columns = {}
    text_checks = {}
    for field in resource.fields:
        checks = _constraint_checks(field, registry)
        if not field.nullable:
            _register(registry, f"{field.name}_missing", ERROR, _missing_message(field.name), [field.name])
        names = _text_check_names(table, field, registry)
        if names:
            text_checks[field.name] = names
            checks.append(pa.Check(_text_check(names), name=TEXT_CHECKS, error="contrôles du texte"))
        columns[field.name] = field.to_pandera(checks)
    frame_checks = []
    for name, severity, message, cols, fn, column in _EXTRA_CHECKS.get(table, []):
        _register(registry, name, severity, message, cols)
        check = pa.Check(fn, name=name, error=message, ignore_na=False)
        if column is None:
            frame_checks.append(check)
        else:
            columns[column].checks.append(check)
    key = list(resource.primary_key)
    _register(
        registry,
        DUPLICATE_PRIMARY_KEY,
        ERROR,
        f"clé primaire ({', '.join(key)}) en double : toutes les lignes de la clé sont mises en quarantaine",
        key,
    )
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        unique=key,
        report_duplicates="all",
        strict=True,
        name=table,
        title=resource.title,
        metadata={"table": table, "primary_key": list(key), "checks": registry, "text_checks": text_checks},
    )


def _register(registry: dict, name: str, severity: str, message: str, columns: list[str]) -> None:
    registry[name] = {"severity": severity, "message": message, "columns": list(columns)}


def _constraint_checks(field: Field, registry: dict) -> list[pa.Check]:
    name, constraints = field.name, field.constraints
    checks = []
    if "enum" in constraints:
        values = list(constraints["enum"])
        check_name = f"{name}_not_in_vocabulary"
        message = f"« {name} » hors du vocabulaire ({', '.join(values)})"
        checks.append(pa.Check.isin(values, name=check_name, error=message))
        _register(registry, check_name, ERROR, message, [name])
    low, high = constraints.get("minimum"), constraints.get("maximum")
    if low is not None or high is not None:
        check_name = f"{name}_out_of_range"
        if low is not None and high is not None:
            message = f"« {name} » hors de l'intervalle {low}-{high}"
            check = pa.Check.in_range(low, high, name=check_name, error=message)
        elif low is not None:
            message = f"« {name} » inférieur à {low}"
            check = pa.Check.ge(low, name=check_name, error=message)
        else:
            message = f"« {name} » supérieur à {high}"
            check = pa.Check.le(high, name=check_name, error=message)
        checks.append(check)
        _register(registry, check_name, ERROR, message, [name])
    if "pattern" in constraints:
        check_name = f"{name}_bad_format"
        message = f"« {name} » ne suit pas le format {constraints['pattern']}"
        checks.append(pa.Check.str_matches(constraints["pattern"], name=check_name, error=message))
        _register(registry, check_name, ERROR, message, [name])
    return checks


def _is_free_text(table: str, field: Field) -> bool:
    constraints = field.constraints
    return (
        table not in _TEXT_EXEMPT_TABLES
        and field.type == "string"
        and "enum" not in constraints
        and "pattern" not in constraints
    )


def _text_check_names(table: str, field: Field, registry: dict) -> list[str]:
    """The text checks of a column, registered: the hygiene checks of free text, and for a
    required text the blank check, which has the name of pandera's null check,
    ``<column>_missing`` (a value of only spaces or zero-width characters, see
    ``_BLANK_RE``, is as good as missing: the row is quarantined either way, and the
    reason quotes the blank value)."""
    names = []
    if _is_free_text(table, field):
        for check_name, severity, message, _ in _TEXT_CHECKS:
            _register(registry, check_name, severity, message, [])
            names.append(check_name)
    if not field.nullable and field.type == "string":
        names.append(f"{field.name}_missing")
    return names


def text_failures(names: list[str], value) -> list[str]:
    """The checks of ``names`` (a column's text checks) that ``value`` fails. A null fails
    none; a value that is not text fails ``text_mojibake`` and the blank check."""
    if value is None or value is pd.NA:
        return []
    if not isinstance(value, str):
        return [n for n in names if n == _NOT_TEXT_FAILS or n.endswith("_missing")]
    failed = []
    if _may_have_text_problem(value):
        failed = [n for n, *_, wrong in _TEXT_CHECKS if n in names and wrong.search(value)]
    if names[-1].endswith("_missing") and _BLANK_RE.fullmatch(value):
        failed.append(names[-1])
    return failed


def _may_have_text_problem(text: str) -> bool:
    """False when ``text`` passes every hygiene check without looking further."""
    return bool(_TEXT_PROBLEM_CHARACTER_RE.search(text) or _LIST_MARKER_RE.search(text))


def failing_texts(names: list[str], values: list) -> list:
    """The values of ``values`` (distinct, no null) that fail one of the text checks
    ``names``: a text is looked at check by check (:func:`text_failures`) only when the
    first look (:func:`_may_have_text_problem`) or the blank pattern finds something."""
    hygiene = names[0].startswith("text_")
    blank = _BLANK_RE.fullmatch if names[-1].endswith("_missing") else None
    return [
        v
        for v in values
        if (not isinstance(v, str) or (hygiene and _may_have_text_problem(v)) or (blank and blank(v)))
        and text_failures(names, v)
    ]


def _text_check(names: list[str]):
    """The pandera check of a column's text checks ``names``: a value passes when it fails
    none of them (each distinct value is looked at once: texts repeat)."""

    def check(values: pd.Series) -> pd.Series:
        return ~values.isin(failing_texts(names, values.dropna().unique().tolist()))

    return check


def _missing_message(name: str) -> str:
    return f"« {name} » est obligatoire mais vide"


# --- running the checks ----------------------------------------------------------------

#: pandas dtypes that Arrow's nullable types become (a null does not turn a column into floats).
_ARROW_TO_PANDAS = {pyarrow.int64(): pd.Int64Dtype(), pyarrow.bool_(): pd.BooleanDtype()}
#: pandera's names of the primary-key uniqueness check.
_UNIQUENESS_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness"}


class TableShapeError(ValueError):
    """A table that cannot be checked row by row: a column missing or extra, a value its
    column's type cannot hold (``3.5`` in an integer column), a check failing on a column."""


class ComputedTableError(RuntimeError):
    """A computed table that breaks its definition (:func:`check_computed_table`)."""

    def __init__(self, table: str, found: list[tuple[str, Finding]]):
        self.table = table
        self.found = found
        listed = "; ".join(f"{report_id}: {finding.message}" for report_id, finding in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        super().__init__(f"computed table {table}: {len(found)} failure(s): {listed}{more}")


def conform(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df`` with exactly the table's columns, in order, as nullable pandas dtypes.

    Integers become ``Int64`` and booleans ``boolean``; the index becomes 0..n-1.

    Raises:
        TableShapeError: a column is missing or extra, or a value cannot be held by its
            column's type.
    """
    return to_nullable_pandas(conform_arrow(df, table))


def loose_schema(table: str) -> pyarrow.Schema:
    """The Arrow schema of ``table`` with every column nullable (a null is the checks' business)."""
    schema = get_resource(table).to_pyarrow()
    return pyarrow.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)


def conform_arrow(df: pd.DataFrame, table: str) -> pyarrow.Table:
    """:func:`conform` stopped at its Arrow table (of :func:`loose_schema`), to concatenate before
    turning to pandas (:func:`to_nullable_pandas`).

    Raises:
        TableShapeError: as :func:`conform`.
    """
    loose = loose_schema(table)
    missing = [c for c in loose.names if c not in df.columns]
    extra = [c for c in df.columns if c not in loose.names]
    if missing or extra:
        raise TableShapeError(f"table {table}: columns missing {missing}, unexpected {extra}")
    try:
        return pyarrow.Table.from_pandas(df[loose.names], schema=loose, preserve_index=False, safe=True)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, TypeError, ValueError) as exc:
        raise TableShapeError(f"table {table}: {exc}") from exc


def conform_read_table(arrow_table: pyarrow.Table, table: str, loose: pyarrow.Schema | None = None) -> pyarrow.Table:
    """An Arrow table read from a file, conformed as :func:`conform_arrow` would conform its
    pandas form: taken as it is when it holds exactly the table's columns and types (and no
    pandas metadata), else through pandas (``conform_arrow(arrow_table.to_pandas())``).

    Raises:
        TableShapeError: as :func:`conform`.
    """
    loose = loose if loose is not None else loose_schema(table)
    schema = arrow_table.schema
    plain = not (schema.metadata and b"pandas" in schema.metadata)
    if plain and schema.names == loose.names and schema.types == loose.types:
        return pyarrow.Table.from_arrays(arrow_table.columns, schema=loose)
    return conform_arrow(arrow_table.to_pandas(), table)


def to_nullable_pandas(arrow_table: pyarrow.Table) -> pd.DataFrame:
    """An Arrow table as pandas, integers as ``Int64`` and booleans as ``boolean``."""
    return arrow_table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)


def schema_failures(schema: pa.DataFrameSchema, df: pd.DataFrame) -> list[dict]:
    """One record (``row``: position in ``df``, ``check``, ``severity``, ``reason``) per
    failing row and check of ``schema`` (a :func:`resource_schema`) on ``df`` (conformed),
    run lazily; sorted by row, check and reason.

    Raises:
        TableShapeError: a failure that concerns a column rather than rows (a wrong
            dtype, a check that crashed).
    """
    try:
        schema.validate(df, lazy=True)
        return []
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
    registry = schema.metadata["checks"]
    named = [n for case in cases.astype(object).itertuples(index=False) for n in _failure_names(schema, case)]
    quoted = _quoted_rows(df, registry, [(row, name) for row, name, reason in named if reason is None])
    records = []
    for row, name, reason in named:
        reason = quoted[row, name] if reason is None else reason
        records.append((row, name, registry[name]["severity"], reason))
    ordered = sorted(dict.fromkeys(records), key=lambda r: (r[0], r[1], r[3]))
    return [{"row": row, "check": check, "severity": sev, "reason": reason} for row, check, sev, reason in ordered]


def _failure_names(schema: pa.DataFrameSchema, case) -> list[tuple[int, str, str | None]]:
    """:func:`_failure_name` of one pandera failure case; a failure of a column's text
    checks (:data:`TEXT_CHECKS`) is one per check its value fails."""
    row, name, reason = _failure_name(schema, case)
    if name != TEXT_CHECKS:
        return [(row, name, reason)]
    registry, value = schema.metadata["checks"], case.failure_case
    out = []
    for failed in text_failures(schema.metadata["text_checks"][case.column], value):
        quoted = (
            None
            if registry[failed]["columns"]
            else f"{registry[failed]['message']} ({case.column}={format_value(value)})"
        )
        out.append((row, failed, quoted))
    return out


def _failure_name(schema: pa.DataFrameSchema, case) -> tuple[int, str, str | None]:
    """The row of one pandera failure case, the check's name in the registry (or
    :data:`TEXT_CHECKS`) and the reason, or None for a reason quoting the row's values
    (see :func:`_quoted_rows`)."""
    table, registry = schema.name, schema.metadata["checks"]
    if case.index is None or pd.isna(case.index):
        raise TableShapeError(f"table {table}: {case.check} failed on column {case.column}: {case.failure_case}")
    row = int(case.index)
    if case.check == "not_nullable":
        name = f"{case.column}_missing"
        return row, name, registry[name]["message"]
    if case.check in _UNIQUENESS_CHECKS:
        return row, DUPLICATE_PRIMARY_KEY, None
    if case.check_number is None or pd.isna(case.check_number):
        raise TableShapeError(f"table {table}: unexpected failure {case.check} on column {case.column}")
    if case.schema_context == "Column":
        name = schema.columns[case.column].checks[int(case.check_number)].name
    else:
        name = schema.checks[int(case.check_number)].name
    if name == TEXT_CHECKS:
        return row, name, None
    if registry[name]["columns"]:
        return row, name, None
    return row, name, f"{registry[name]['message']} ({case.column}={format_value(case.failure_case)})"


def _quoted_rows(df: pd.DataFrame, registry: dict, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """:func:`quote_row` of each (row, check name) of ``wanted``, the rows taken from ``df`` once."""
    rows = sorted({row for row, _ in wanted})
    columns = list(dict.fromkeys(c for _, name in wanted for c in registry[name]["columns"]))
    taken = df.iloc[rows]
    values = {c: taken[c].tolist() for c in columns}
    position = {row: i for i, row in enumerate(rows)}
    out = {}
    for row, name in wanted:
        if (row, name) not in out:
            entry = registry[name]
            out[row, name] = quote_row(entry, {c: values[c][position[row]] for c in entry["columns"]})
    return out


def format_value(value, quote: bool = True) -> str:
    """A value as a failure's reason quotes it: ``vide`` for a null, ``3`` for ``3.0``, text in quotes."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "vide"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    if isinstance(value, str):
        return repr(value) if quote else value
    return str(value)


def quote_row(entry: dict, row) -> str:
    """A check's message followed by the row's values of the check's ``columns`` (``row``: a
    Series or a mapping of column to value)."""
    values = ", ".join(f"{c}={format_value(row[c])}" for c in entry["columns"])
    return f"{entry['message']} ({values})"


def row_key(table: str, row: pd.Series) -> str | None:
    """``record_key`` of a row: its primary-key fields other than ``report_id`` (None if none)."""
    fields = [f for f in get_resource(table).primary_key if f != "report_id"]
    return record_key(**{f: format_value(row[f], quote=False) for f in fields}) if fields else None


def row_keys(table: str, rows: pd.DataFrame) -> list[str | None]:
    """:func:`row_key` of each row of ``rows`` (rows of ``table``), in order."""
    fields = [f for f in get_resource(table).primary_key if f != "report_id"]
    if not fields:
        return [None] * len(rows)
    columns = [[format_value(v, quote=False) for v in rows[f].tolist()] for f in fields]
    return [record_key(**dict(zip(fields, values))) for values in zip(*columns)]


def check_computed_table(table: str, df: pd.DataFrame, *, raise_on_failure: bool = False) -> list[tuple[str, Finding]]:
    """The checks of the computed ``table`` (its :func:`resource_schema`) on ``df``.

    A computed table that breaks its definition is a fault of the computation, not of a
    report: every failing row and check is one finding of code ``computed_table_invalid``,
    severity ``error``, whatever the check's own severity, naming the check and quoting
    the row, as ``(report_id, Finding)`` pairs in the order of the rows (the shape of
    :func:`pipeline.compute.compute_findings`' parts). ``df`` may carry plain dtypes
    (``int64``, ``float64`` for an integer column with nulls): it is conformed first.

    Raises:
        ValueError: ``table`` is not a computed table.
        TableShapeError: a column is missing or extra, or of a type its values cannot have.
        ComputedTableError: a failing row has no ``report_id`` (no report to file it
            under), or any row fails and ``raise_on_failure`` is true.
    """
    resource = get_resource(table)
    if not resource.computed:
        raise ValueError(f"{table!r} is not a computed table: curated tables are checked by pipeline.validate")
    conformed = conform(df, table)
    found = []
    for record in schema_failures(resource.to_pandera(), conformed):
        row = conformed.iloc[record["row"]]
        message = f"table calculée « {table} », contrôle {record['check']} : {record['reason']}"
        finding = Finding(ERROR, COMPUTED_TABLE_INVALID, message, table, row_key(table, row))
        if pd.isna(row["report_id"]):
            raise ComputedTableError(table, [("", finding)])
        found.append((str(row["report_id"]), finding))
    if found and raise_on_failure:
        raise ComputedTableError(table, found)
    return found


# --- extra checks, by table ------------------------------------------------------------


def _band_matches_status(df: pd.DataFrame) -> pd.Series:
    known = df["status"].isin(list(STATUS_BANDS))
    low = df["status"].map({s: b[0] for s, b in STATUS_BANDS.items()})
    high = df["status"].map({s: b[1] for s, b in STATUS_BANDS.items()})
    bands_missing = df["band_min_pct"].isna() | df["band_max_pct"].isna()
    matches = (df["band_min_pct"] == low) & (df["band_max_pct"] == high)
    return (~known | bands_missing | matches.fillna(False)).astype(bool)


def _number_is_read(df: pd.DataFrame) -> pd.Series:
    printed_number = df["raw_value"].str.match(_NUMBER_RE, na=False)
    return (~printed_number | df["value"].notna()).astype(bool)


def _not_negative(values: pd.Series) -> pd.Series:
    return (values.isna() | (values >= 0)).astype(bool)


def _percent_at_most_100(df: pd.DataFrame) -> pd.Series:
    return ~((df["unit"] == "percent").fillna(False) & (df["value"] > 100).fillna(False))


def _count_without_percent(df: pd.DataFrame) -> pd.Series:
    return ~((df["kind"] == "count").fillna(False) & (df["unit"] == "percent").fillna(False))


def _rate_with_percent(df: pd.DataFrame) -> pd.Series:
    return ~((df["kind"] == "rate").fillna(False) & df["unit"].isna() & df["value"].notna())


def _one_plan_rate(df: pd.DataFrame) -> pd.Series:
    plan = (df["scope"] == "plan").fillna(False).astype(bool)
    per_report = plan.groupby(df["report_id"], dropna=False).transform("sum")
    return ~(plan & (per_report > 1))


_BANDS_TEXT = ", ".join(f"{s} {lo:g}-{hi:g}" for s, (lo, hi) in STATUS_BANDS.items())

#: Per table: (name, severity, message, columns to quote, function, column or None).
#: A function with a column receives that column's Series, else the whole frame; it
#: returns True for each row that passes.
_EXTRA_CHECKS: dict[str, list[tuple]] = {
    "activities": [
        (
            "band_contradicts_status",
            ERROR,
            f"la tranche d'avancement n'est pas celle du statut ({_BANDS_TEXT})",
            ["status", "band_min_pct", "band_max_pct"],
            _band_matches_status,
            None,
        ),
    ],
    "indicators": [
        (
            "indicator_value_unread",
            ERROR,
            "la valeur brute est un nombre mais la valeur numérique est vide",
            ["raw_value", "value"],
            _number_is_read,
            None,
        ),
        (
            "indicator_value_negative",
            ERROR,
            "valeur d'indicateur négative",
            ["raw_value", "value"],
            _not_negative,
            "value",
        ),
        (
            "indicator_percent_above_100",
            ERROR,
            "valeur en pourcentage supérieure à 100",
            ["raw_value", "value", "unit"],
            _percent_at_most_100,
            None,
        ),
        (
            "indicator_count_in_percent",
            WARNING,
            "un nombre (« Nombre… ») exprimé en pourcentage",
            ["label", "raw_value"],
            _count_without_percent,
            None,
        ),
        (
            "indicator_rate_without_percent",
            WARNING,
            "un taux (« Taux… », « Pourcentage… ») sans signe %",
            ["label", "raw_value"],
            _rate_with_percent,
            None,
        ),
    ],
    "published_rates": [
        (
            "plan_rate_duplicated",
            ERROR,
            "plus d'un taux publié pour le plan entier dans le rapport : tous sont mis en quarantaine",
            ["scope", "scope_no", "rate_pct"],
            _one_plan_rate,
            None,
        ),
    ],
}
