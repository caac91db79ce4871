"""Table definitions for pgo-pipeline: one field dictionary, one resource dictionary.

Everything that needs a table's columns asks this package: :func:`table_fields` gives
the resolved fields of a table (its field-dictionary entries with the table's
overrides and nullability applied), :func:`arrow_schema` the Arrow schema the
curated Parquet files are written with.
"""

from __future__ import annotations

import copy

import pyarrow as pa

from schemas.fields import FIELDS, STATUS_BANDS, STATUS_VALUES
from schemas.resources import COMPUTED_RESOURCES, COMPUTED_TABLES, RESOURCES, TABLES

ALL_RESOURCES: dict[str, dict] = {**RESOURCES, **COMPUTED_RESOURCES}

__all__ = [
    "ALL_RESOURCES",
    "COMPUTED_RESOURCES",
    "COMPUTED_TABLES",
    "FIELDS",
    "RESOURCES",
    "STATUS_BANDS",
    "STATUS_VALUES",
    "TABLES",
    "arrow_schema",
    "empty_frame",
    "table_fields",
]

_ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}


def table_fields(table: str) -> list[dict]:
    """Resolved fields of ``table``, in column order.

    Each is a copy of the field-dictionary entry with ``name`` and ``nullable`` set
    and the resource's ``field_overrides`` applied (an override replaces a key whole).
    """
    resource = ALL_RESOURCES[table]
    required = set(resource["required"]) | set(resource["primary_key"])
    out = []
    for name in resource["fields"]:
        field = copy.deepcopy(FIELDS[name])
        field.update(copy.deepcopy(resource.get("field_overrides", {}).get(name, {})))
        field["name"] = name
        field["nullable"] = name not in required
        field.setdefault("constraints", {})
        out.append(field)
    return out


def arrow_schema(table: str) -> pa.Schema:
    """Explicit Arrow schema of a curated or computed table, with French titles as field metadata."""
    resource = ALL_RESOURCES[table]
    return pa.schema(
        [
            pa.field(
                f["name"],
                _ARROW_TYPES[f["type"]],
                nullable=f["nullable"],
                metadata={"title": f["title"], "description": f["description"]},
            )
            for f in table_fields(table)
        ],
        metadata={"table": table, "title": resource["title"], "description": resource["description"]},
    )


def empty_frame(table: str):
    """An empty pandas DataFrame with the table's columns and dtypes."""
    return arrow_schema(table).empty_table().to_pandas()
