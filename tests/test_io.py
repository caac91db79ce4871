"""Atomic writes and typed Parquet I/O."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.io import atomic_path, read_table, write_table, write_text_atomic
from schemas import arrow_schema


def test_atomic_path_replaces_on_success_and_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("killed")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    write_text_atomic(target, "second")
    assert target.read_text() == "second"


def test_outputs_get_the_umask_mode_not_a_private_one(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_write_table_uses_the_declared_schema_and_reads_back(tmp_path):
    df = pd.DataFrame(
        {
            "report_id": ["r-1", "r-1"],
            "scope": ["plan", "commitment"],
            "scope_no": [0, 3],
            "rate_pct": [82, 65.5],  # integers in, doubles out: the schema decides
            "source_line": [198, 207],
        }
    )
    path = tmp_path / "published_rates.parquet"
    write_table(df, "published_rates", path)
    assert pq.read_schema(path).equals(arrow_schema("published_rates"), check_metadata=False)
    back = read_table(path, "published_rates")
    assert back["rate_pct"].tolist() == [82.0, 65.5]
    assert back["scope_no"].tolist() == [0, 3]


def test_a_missing_table_reads_as_empty_with_its_columns(tmp_path):
    df = read_table(tmp_path / "nope.parquet", "axes")
    assert df.empty and list(df.columns) == arrow_schema("axes").names


def test_the_same_rows_give_the_same_file_however_they_are_chunked(tmp_path):
    """Parquet's writer decides when to stop dictionary-encoding a column as chunks come:
    rows assembled from pieces (an incremental stage) must be written as one chunk."""
    from pipeline.findings import Finding, findings_frame

    findings = [Finding("info", "code", f"message n° {i} " + "x" * 40) for i in range(30_000)]
    whole = findings_frame("pan-a", "compute", findings)
    pieces = pd.concat([whole.iloc[:12_345], whole.iloc[12_345:]], ignore_index=True)
    write_table(whole, "findings", tmp_path / "whole.parquet")
    write_table(pieces, "findings", tmp_path / "pieces.parquet")
    assert (tmp_path / "whole.parquet").read_bytes() == (tmp_path / "pieces.parquet").read_bytes()


def test_an_arrow_table_of_the_schema_is_written_as_its_dataframe_would_be(tmp_path):
    from pipeline.findings import Finding, findings_frame, findings_table

    findings = [Finding("warning", "code", "message", "activities", "commitment_no=1", 12), Finding("info", "c", "m")]
    write_table(findings_frame("pan-a", "ingest", findings), "findings", tmp_path / "frame.parquet")
    write_table(findings_table("pan-a", "ingest", findings), "findings", tmp_path / "arrow.parquet")
    assert (tmp_path / "arrow.parquet").read_bytes() == (tmp_path / "frame.parquet").read_bytes()


def test_an_arrow_table_of_another_schema_is_refused(tmp_path):
    from pipeline.findings import findings_table

    with pytest.raises(ValueError, match="another schema"):
        write_table(findings_table("pan-a", "ingest", []), "axes", tmp_path / "axes.parquet")
    assert not (tmp_path / "axes.parquet").exists()
