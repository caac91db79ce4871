"""Data-quality findings: what a stage met that was damaged, missing or inconsistent.

Stages collect :class:`Finding` objects while they work and turn them into rows of
the ``findings`` table with :func:`findings_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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


def findings_frame(report_id: str, stage: str, findings: list[Finding]) -> pd.DataFrame:
    """Rows of the ``findings`` table, numbered from 1 in the order given."""
    columns = arrow_schema("findings").names
    rows = [
        {
            "report_id": report_id,
            "stage": stage,
            "finding_no": i,
            "severity": f.severity,
            "code": f.code,
            "message": f.message,
            "table_name": f.table_name,
            "record_key": f.record_key,
            "source_line": f.source_line,
        }
        for i, f in enumerate(findings, start=1)
    ]
    df = pd.DataFrame(rows, columns=columns)
    df["finding_no"] = df["finding_no"].astype("int64")
    df["source_line"] = df["source_line"].astype("Int64")
    return df
