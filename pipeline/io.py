"""Reading and writing at the edges: atomic file writes and typed Parquet I/O.

Every output is written to a temporary path in its own directory and renamed into
place, so a reader never sees a half-written file and a killed run leaves the
previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas import TABLES, arrow_schema

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str = ""):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes private files; outputs are for readers
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """Cast a DataFrame to the table's declared Arrow schema (columns in schema order)."""
    schema = arrow_schema(table)
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False).replace_schema_metadata(
        schema.metadata
    )


def write_table(df: pd.DataFrame, table: str, path: Path) -> None:
    """Write ``df`` as ``table`` to Parquet at ``path``, atomically and deterministically."""
    arrow_table = to_arrow(df, table)
    with atomic_path(path) as tmp:
        pq.write_table(arrow_table, tmp, compression="zstd", write_statistics=True)


def read_table(path: Path, table: str) -> pd.DataFrame:
    """Read a curated Parquet table; a missing file reads as an empty table."""
    path = Path(path)
    if not path.exists():
        return arrow_schema(table).empty_table().to_pandas()
    return pq.read_table(path, schema=arrow_schema(table)).to_pandas()


def read_curated(curated_dir: Path) -> dict[str, pd.DataFrame]:
    """All curated tables of ``curated_dir``, keyed by table name."""
    return {t: read_table(Path(curated_dir) / f"{t}.parquet", t) for t in TABLES}
