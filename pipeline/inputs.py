"""What ``raw/`` offers: the report files, their weights files, and what is refused.

A report is ``raw/<report_id>.txt``: a regular file whose name, without ``.txt``, is a
valid report id (lowercase letters, digits and single ``-`` between them, at most
:data:`~schemas.fields.REPORT_ID_MAX_LENGTH` characters: CKAN's limit for a dataset
name). Anything else named ``*.txt`` is refused by name before any stage touches it:
an invalid id could name a folder outside the report's own (``...txt`` is report
``..``), and a directory, FIFO or broken symbolic link is not a report. Standard
library only: the plan of a run with nothing to do must not import pandas.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import DEFAULT_NATIONAL_NAME
from schemas.fields import REPORT_ID_MAX_LENGTH, REPORT_ID_PATTERN

REPORT_SUFFIX = ".txt"
WEIGHTS_SUFFIX = ".weights.csv"

_REPORT_ID_RE = re.compile(REPORT_ID_PATTERN)


@dataclass(frozen=True)
class ReportInput:
    """A report file of ``raw/`` and its optional weights file."""

    report_id: str
    path: Path
    weights_path: Path


@dataclass(frozen=True)
class RefusedInput:
    """A ``*.txt`` entry of ``raw/`` that is not a usable report, and why."""

    path: Path
    code: str
    problem: str

    def message(self) -> str:
        return f"{self.path}: refused: {self.problem} ({self.code})"


def report_id_of(path: Path) -> str:
    """``raw/abc.txt`` -> ``abc``."""
    return Path(path).name[: -len(REPORT_SUFFIX)]


def report_id_problem(report_id: str) -> str | None:
    """Why ``report_id`` is not a valid report id, or None when it is."""
    if len(report_id) > REPORT_ID_MAX_LENGTH:
        return f"its report id is {len(report_id)} characters long (at most {REPORT_ID_MAX_LENGTH})"
    if not _REPORT_ID_RE.fullmatch(report_id):
        return (
            f"'{report_id}' is not a valid report id: use lowercase letters, digits and single '-' "
            "between them, starting with a letter or digit"
        )
    return None


def _file_problem(path: Path) -> tuple[str, str] | None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "not_a_regular_file", "it is a broken symbolic link"
    except OSError as exc:
        return "file_unreadable", f"it cannot be examined ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "not_a_regular_file", "it is a directory, not a report file"
    if not stat.S_ISREG(mode):
        return "not_a_regular_file", "it is not a regular file (FIFO, socket or device)"
    return None


def list_inputs(
    raw_dir: Path, reserved: frozenset[str] = frozenset({DEFAULT_NATIONAL_NAME})
) -> tuple[list[ReportInput], list[RefusedInput]]:
    """The reports of ``raw_dir`` in id order, and the ``*.txt`` entries refused.

    A report may not take a ``reserved`` name (the national package's folder).
    """
    raw_dir = Path(raw_dir)
    reports, refused = [], []
    with os.scandir(raw_dir) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(REPORT_SUFFIX))
    for name in names:
        path = raw_dir / name
        report_id = report_id_of(path)
        problem = report_id_problem(report_id)
        if report_id in reserved:
            problem = f"'{report_id}' is the name of the national package: rename the report"
        if problem is not None:
            refused.append(RefusedInput(path, "invalid_report_id", problem))
            continue
        file_problem = _file_problem(path)
        if file_problem is not None:
            refused.append(RefusedInput(path, *file_problem))
            continue
        reports.append(ReportInput(report_id, path, raw_dir / f"{report_id}{WEIGHTS_SUFFIX}"))
    return reports, refused
