"""Fingerprints that decide whether a step must run again (owid/etl style).

A report's outputs depend on its input bytes, its weights file, the rates
configuration and the code: each gets a SHA-256, and a report whose fingerprints are
unchanged since its last successful run is not processed again. Standard library
only, so that a run with nothing to do stays well under a second.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline import __version__

_PACKAGE_DIRS = [Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "schemas"]
_CODE_SUFFIXES = {".py", ".sql", ".toml"}


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_fingerprint() -> str:
    """SHA-256 over the pipeline's own code, SQL, configuration and table definitions."""
    h = hashlib.sha256(__version__.encode())
    for base in _PACKAGE_DIRS:
        for path in sorted(p for p in base.rglob("*") if p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(base.parent)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()
