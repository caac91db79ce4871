"""Fingerprints that decide whether a step must run again (owid/etl style).

A stage's output depends on its inputs' bytes and on the code and configuration of
that stage: each gets a SHA-256, recorded in the output itself (see
:mod:`pipeline.layers`). Each stage has its own code fingerprint, over the modules it
runs, so that a change to the publishing code republishes without parsing again.
Standard library only, so that a run with nothing to do stays well under a second.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from pipeline import __version__

_ROOT = Path(__file__).resolve().parent.parent
_CODE_SUFFIXES = {".py", ".sql", ".toml"}

#: What each stage's outputs are made by: paths (files or folders) under the project root.
#: ``schemas/`` is in every stage: it defines the tables they all read and write.
STAGE_CODE: dict[str, tuple[str, ...]] = {
    "ingest": (
        "pipeline/ingest.py",
        "pipeline/inputs.py",
        "pipeline/parse.py",
        "pipeline/parse",
        "pipeline/text.py",
        "pipeline/findings.py",
        "pipeline/io.py",
        "schemas",
    ),
    "validate": ("pipeline/validate.py", "pipeline/findings.py", "pipeline/io.py", "pipeline/text.py", "schemas"),
    "compute": ("pipeline/compute.py", "pipeline/sql", "pipeline/findings.py", "pipeline/io.py", "schemas"),
    "publish": (
        "pipeline/publish.py",
        "pipeline/render.py",
        "pipeline/gate.py",
        "pipeline/national.py",
        "pipeline/splice.py",
        "pipeline/workbook.py",
        "pipeline/report_page.py",
        "pipeline/io.py",
        "schemas",
    ),
}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist, is not a regular file or
    cannot be read (the stage that reads it then says why)."""
    path = Path(path)
    h = hashlib.sha256()
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _code_files(parts: tuple[str, ...], root: Path) -> list[Path]:
    files: set[Path] = set()
    for part in parts:
        path = root / part
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("*") if p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts)
    return sorted(files)


def code_fingerprint_of(parts: tuple[str, ...], root: Path = _ROOT) -> str:
    """SHA-256 over the pipeline version and the named code files (path and bytes)."""
    h = hashlib.sha256(__version__.encode())
    for path in _code_files(parts, root):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def stage_code_fingerprint(stage: str) -> str:
    """The code fingerprint of one stage (see :data:`STAGE_CODE`)."""
    return code_fingerprint_of(STAGE_CODE[stage])


def code_fingerprints() -> dict[str, str]:
    """Every stage's code fingerprint, by stage."""
    return {stage: stage_code_fingerprint(stage) for stage in STAGE_CODE}


#: The rates configuration shipped with the code, used when none is given.
DEFAULT_RATES_CONFIG = Path(__file__).resolve().parent / "config" / "rates.toml"


def config_sha256(path: Path | None = None) -> str | None:
    """SHA-256 of the rates configuration in use (the shipped one when ``path`` is None)."""
    return file_sha256(DEFAULT_RATES_CONFIG if path is None else path)
