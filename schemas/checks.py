"""Pandera schemas of the curated tables, generated from their definitions.

:func:`build_schema` turns :func:`schemas.table_fields` into a pandera
``DataFrameSchema``: one column per field with its dtype and nullability, its
constraints as checks (``enum`` -> ``isin``, ``minimum``/``maximum`` -> ``in_range``,
``pattern`` -> ``str_matches``), the table's primary key as a uniqueness constraint,
text hygiene checks on free-text columns, and the table's extra checks (a status band
must be the band of the status, a count must not carry a percent sign, …). The extra
checks add to the definition; they never restate a column.

Every check has a stable name (a finding code: it says what is wrong), a readable
French message and a severity, recorded in ``schema.metadata["checks"]``:

* ``error``: the row is quarantined;
* ``warning``: the row stays and a finding is recorded.

Checks that span tables (references, numbering) are in :mod:`pipeline.validate`;
nothing here reads a file.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from pipeline.text import looks_like_mojibake
from schemas import ALL_RESOURCES, STATUS_BANDS, table_fields

ERROR = "error"
WARNING = "warning"

#: Pandas dtypes the validated frames carry, by Table Schema type (nullable integers
#: and booleans, so that a null does not change a column's type).
PANDAS_DTYPES = {"string": "str", "integer": "Int64", "number": "float64", "boolean": "boolean"}

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
_NUMBER_RE = re.compile(
    r"^\s*[~≈]?\s*[-−+]?\s*(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,]\d+)?\s*%?\s*[.;]?\s*$"
)

#: Hygiene checks of free text: (name, severity, message, what is wrong), where what is
#: wrong is a regular expression found in the text or a function of the text returning
#: True when the text is wrong. An error quarantines the row: such text is never published.
_TEXT_CHECKS = [
    ("text_control_characters", ERROR, "caractères de contrôle dans le texte", _CONTROL_RE),
    (
        "text_bidi_control",
        ERROR,
        "caractère invisible de contrôle du sens d'écriture (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) dans le texte",
        _BIDI_CONTROL_RE,
    ),
    (
        "text_mojibake",
        ERROR,
        "texte mal décodé (UTF-8 lu comme Windows-1252 ou Latin-1 : « Ã© », « â€™ »)",
        looks_like_mojibake,
    ),
    ("text_list_marker", WARNING, "le texte commence par une puce de liste", _LIST_MARKER_RE),
    ("text_markup", WARNING, "balisage parasite (HTML, LaTeX) dans le texte", _MARKUP_RE),
]


def build_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a curated ``table``, with its checks' metadata.

    ``schema.metadata["checks"]`` maps each check name to ``{"severity", "message",
    "columns"}`` (``columns``: the values to quote when reporting a failing row). The
    names of pandera's own checks are covered: ``<column>_missing`` for a null in a
    required column (and, for a text column, a blank value: only spaces or zero-width
    characters) and ``duplicate_primary_key``.
    """
    resource = ALL_RESOURCES[table]
    registry: dict[str, dict] = {}
    columns = {}
    for field in table_fields(table):
        checks = [
            *_constraint_checks(field, registry),
            *_text_checks(table, field, registry),
            *_required_text_checks(field),
        ]
        if not field["nullable"]:
            _register(registry, f"{field['name']}_missing", ERROR, _missing_message(field["name"]), [field["name"]])
        columns[field["name"]] = pa.Column(
            PANDAS_DTYPES[field["type"]],
            checks=checks,
            nullable=field["nullable"],
            title=field["title"],
            description=field["description"],
        )
    frame_checks = []
    for name, severity, message, cols, fn, column in _EXTRA_CHECKS.get(table, []):
        _register(registry, name, severity, message, cols)
        check = pa.Check(fn, name=name, error=message, ignore_na=False)
        if column is None:
            frame_checks.append(check)
        else:
            columns[column].checks.append(check)
    key = resource["primary_key"]
    _register(
        registry,
        "duplicate_primary_key",
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
        title=resource["title"],
        metadata={"table": table, "primary_key": list(key), "checks": registry},
    )


def get_severity(schema: pa.DataFrameSchema, name: str) -> str:
    """Severity (``error`` or ``warning``) of the check ``name`` of ``schema``."""
    return schema.metadata["checks"][name]["severity"]


def list_warning_checks(schema: pa.DataFrameSchema) -> list[str]:
    """Names of the warning-level checks of ``schema``, sorted."""
    return sorted(n for n, c in schema.metadata["checks"].items() if c["severity"] == WARNING)


def _register(registry: dict, name: str, severity: str, message: str, columns: list[str]) -> None:
    registry[name] = {"severity": severity, "message": message, "columns": list(columns)}


def _constraint_checks(field: dict, registry: dict) -> list[pa.Check]:
    name, constraints = field["name"], field["constraints"]
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


def _is_free_text(table: str, field: dict) -> bool:
    constraints = field["constraints"]
    return (
        table not in _TEXT_EXEMPT_TABLES
        and field["type"] == "string"
        and "enum" not in constraints
        and "pattern" not in constraints
    )


def _text_checks(table: str, field: dict, registry: dict) -> list[pa.Check]:
    if not _is_free_text(table, field):
        return []
    checks = []
    for check_name, severity, message, wrong in _TEXT_CHECKS:
        checks.append(pa.Check(_lacks(wrong), name=check_name, error=message))
        _register(registry, check_name, severity, message, [])
    return checks


def _lacks(wrong):
    """A column check passing the values in which ``wrong`` (a regex, or a predicate
    on one text) finds nothing; a null passes."""
    if isinstance(wrong, re.Pattern):

        def check(values: pd.Series) -> pd.Series:
            return ~values.str.contains(wrong, na=False)

    else:

        def check(values: pd.Series) -> pd.Series:
            return values.map(lambda v: isinstance(v, str) and not wrong(v), na_action="ignore").fillna(True).astype(bool)

    return check


def _required_text_checks(field: dict) -> list[pa.Check]:
    """For a required text field: a blank value (see ``_BLANK_RE``) counts as missing.

    The check has the name of pandera's null check, ``<column>_missing``: the row is
    quarantined either way, and the reason quotes the blank value.
    """
    if field["nullable"] or field["type"] != "string":
        return []
    name = field["name"]
    return [pa.Check(_lacks(_BLANK_RE.fullmatch), name=f"{name}_missing", error=_missing_message(name))]


def _missing_message(name: str) -> str:
    return f"« {name} » est obligatoire mais vide"


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
