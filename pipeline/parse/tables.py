"""The parser's rows as typed tables: one column list per field, straight into pandas or Arrow.

What belongs here: turning the section modules' rows (one dict per row) into the
DataFrames :func:`pipeline.parse.parse_report` returns, with the dtypes that reading the
rows through the table's Arrow schema gives (``str`` for strings, ``int64`` for
integers, ``float64`` for an integer column holding nulls, …), and into the Arrow
tables the ingest stage writes (:func:`arrow_table`: the same values, without a
DataFrame built only to be taken apart again). Each column is built once from a list:
going through ``pyarrow.Table.to_pandas`` or a DataFrame of records cost more than the
rest of the parse.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.io import strings
from schemas import arrow_schema


@functools.cache
def _fields(table: str) -> tuple[tuple[str, str], ...]:
    """``(name, kind)`` of each column of ``table``: kind is ``string``, ``int``, ``float`` or ``bool``."""
    kinds = []
    for f in arrow_schema(table):
        if pa.types.is_string(f.type):
            kind = "string"
        elif pa.types.is_integer(f.type):
            kind = "int"
        elif pa.types.is_floating(f.type):
            kind = "float"
        elif pa.types.is_boolean(f.type):
            kind = "bool"
        else:
            raise TypeError(f"{table}.{f.name}: no column builder for {f.type}")
        kinds.append((f.name, kind))
    return tuple(kinds)


def _column(kind: str, values: list):
    """One column as Arrow's ``to_pandas`` gives it: a null makes an integer column ``float64``
    (NaN) and a boolean one ``object``."""
    if kind == "string":
        return strings(values)
    if kind == "float" or (kind == "int" and None in values):
        return np.array(values, dtype=np.float64)
    if kind == "int":
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=object if None in values else bool)


def _values(name: str, report_id: str, rows: list[dict]) -> list:
    """Column ``name`` of the rows (``report_id`` on every row of that column)."""
    return [report_id] * len(rows) if name == "report_id" else [row.get(name) for row in rows]


def frame(table: str, report_id: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's columns and Arrow-compatible dtypes."""
    columns = {name: _column(kind, _values(name, report_id, rows)) for name, kind in _fields(table)}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)), copy=False)


def arrow_table(table: str, report_id: str, rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table of the table's schema: what :func:`pipeline.io.to_arrow` makes
    of :func:`frame` (a NaN is null, as ``from_pandas`` reads it)."""
    schema = arrow_schema(table)
    arrays = [pa.array(_values(f.name, report_id, rows), type=f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


@functools.cache
def arrow_schema_names(table: str) -> tuple[str, ...]:
    """The table's column names, in order."""
    return tuple(arrow_schema(table).names)
