"""Table definitions for pgo-pipeline: one field dictionary, one resource dictionary.

The definitions are dictionaries (:mod:`schemas.fields`, :mod:`schemas.resources`),
turned at import time into the checked objects of :mod:`schemas.classes`
(:data:`PACKAGE`): everything that needs a table's columns asks them.
:func:`get_resource` gives a table's :class:`~schemas.classes.Resource` (its Arrow,
pandera, frictionless, DuckDB and Markdown forms); :func:`table_fields` the resolved
fields of a table as dictionaries (its field-dictionary entries with the table's
overrides and nullability applied); :func:`arrow_schema` the Arrow schema the curated
Parquet files are written with; :func:`check_computed_table` runs a computed table's
checks.
"""

from __future__ import annotations

from schemas.classes import DefinitionError, Field, ForeignKey, Package, Resource
from schemas.fields import FIELDS, STATUS_BANDS, STATUS_VALUES
from schemas.resources import COMPUTED_RESOURCES, COMPUTED_TABLES, RESOURCES, TABLES

#: Every table, checked: built (and checked) once, at import.
PACKAGE: Package = Package.from_dicts(FIELDS, RESOURCES, COMPUTED_RESOURCES)

#: The definitions as written (curated then computed tables), for readers of dictionaries.
ALL_RESOURCES: dict[str, dict] = {**RESOURCES, **COMPUTED_RESOURCES}

__all__ = [
    "ALL_RESOURCES",
    "COMPUTED_RESOURCES",
    "COMPUTED_TABLES",
    "FIELDS",
    "PACKAGE",
    "RESOURCES",
    "STATUS_BANDS",
    "STATUS_VALUES",
    "TABLES",
    "DefinitionError",
    "Field",
    "ForeignKey",
    "Package",
    "Resource",
    "arrow_schema",
    "check_computed_table",
    "empty_frame",
    "get_resource",
    "table_fields",
]


def get_resource(table: str) -> Resource:
    """The :class:`~schemas.classes.Resource` of a curated or computed table."""
    return PACKAGE.get_resource(table)


def table_fields(table: str) -> list[dict]:
    """Resolved fields of ``table``, in column order, as dictionaries.

    Each has the field-dictionary entry's keys with ``name`` and ``nullable`` set,
    ``constraints`` always present, and the resource's ``field_overrides`` applied (an
    override replaces a key whole). See :meth:`schemas.classes.Field.to_dict`.
    """
    return [f.to_dict() for f in get_resource(table).fields]


def arrow_schema(table: str):
    """Explicit Arrow schema of a curated or computed table, with French titles as field metadata."""
    return get_resource(table).to_pyarrow()


def empty_frame(table: str):
    """An empty pandas DataFrame with the table's columns and dtypes."""
    return get_resource(table).empty_frame()


def check_computed_table(table: str, df, *, raise_on_failure: bool = False) -> list:
    """The failures of a computed table's checks, as ``(report_id, Finding)`` pairs
    (:func:`schemas.checks.check_computed_table`, imported on first use: it needs pandera)."""
    from schemas.checks import check_computed_table as run

    return run(table, df, raise_on_failure=raise_on_failure)
