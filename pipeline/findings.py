"""Data-quality findings: what a stage met that was damaged, missing or inconsistent.

Stages collect :class:`Finding` objects while they work and turn them into rows of
the ``findings`` table with :func:`findings_frame` (or :func:`findings_table`, as Arrow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.io import strings
from schemas import arrow_schema


@dataclass(frozen=True)
class Finding:
    severity: str  # error, warning or info
    code: str
    message: str
    table_name: str | None = None
    record_key: str | None = None
    source_line: int | None = None


def record_key(**parts: object) -> str:
    """``record_key(commitment_no=3, activity_no=2)`` -> ``"commitment_no=3,activity_no=2"``."""
    return ",".join(f"{k}={v}" for k, v in parts.items())


#: Columns of ``findings`` that may be null: a column with no value at all stays ``object``.
_FINDING_TEXT_COLUMNS = ("report_id", "stage", "severity", "code", "message", "table_name", "record_key")
#: Columns of ``findings`` that are a :class:`Finding`'s fields.
_FINDING_FIELDS = ("severity", "code", "message", "table_name", "record_key", "source_line")


def _finding_values(report_id: str, stage: str, findings: list[Finding]) -> dict[str, list]:
    """Each column of the ``findings`` rows, numbered from 1 in the order given, as a list."""
    n = len(findings)
    return {
        "report_id": [report_id] * n,
        "stage": [stage] * n,
        "finding_no": list(range(1, n + 1)),
        **{name: [getattr(f, name) for f in findings] for name in _FINDING_FIELDS},
    }


def findings_frame(report_id: str, stage: str, findings: list[Finding]) -> pd.DataFrame:
    """Rows of the ``findings`` table, numbered from 1 in the order given (a text column
    with no value is ``object``, ``source_line`` is ``Int64``); built column by column,
    the parse of a report spends less time on it than on a DataFrame of records."""
    values = _finding_values(report_id, stage, findings)
    columns = {}
    for name in arrow_schema("findings").names:
        if name == "finding_no":
            columns[name] = np.array(values[name], dtype=np.int64)
        elif name == "source_line":
            columns[name] = pd.array(values[name], dtype="Int64")
        elif name in _FINDING_TEXT_COLUMNS:
            column = values[name]
            has_text = any(v is not None for v in column)
            columns[name] = strings(column) if has_text else np.array(column, dtype=object)
        else:
            raise KeyError(f"findings.{name}: no column builder")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(findings)), copy=False)


def findings_table(report_id: str, stage: str, findings: list[Finding]) -> pa.Table:
    """:func:`findings_frame`'s rows as an Arrow table of the ``findings`` schema."""
    values = _finding_values(report_id, stage, findings)
    schema = arrow_schema("findings")
    return pa.Table.from_arrays([pa.array(values[f.name], type=f.type) for f in schema], schema=schema)
