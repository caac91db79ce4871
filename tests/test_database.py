"""The analysts' database as its readers meet it: a DuckDB 1.x client, the overview view, comments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

#: The DuckDB command-line client of the 1.x series (PyPI package duckdb-cli, a dev dependency).
DUCKDB_1X_CLI = Path(sys.executable).with_name("duckdb")


@pytest.fixture(scope="module")
def database(seed_computed) -> Path:
    return seed_computed / "computed" / "pgo.duckdb"


def run_1x(database: Path, sql: str) -> str:
    assert DUCKDB_1X_CLI.exists(), f"{DUCKDB_1X_CLI} missing: `pip install -e '.[dev]'` installs duckdb-cli 1.5.6"
    result = subprocess.run(
        [str(DUCKDB_1X_CLI), "-readonly", "-csv", "-noheader", str(database), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_duckdb_1x_client_opens_the_database(database):
    assert run_1x(database, "SELECT version()").startswith("v1.")
    assert run_1x(database, "SELECT count(*) FROM activities") == "147"
    assert run_1x(database, "SELECT published_rate_pct FROM reconciliation WHERE scope = 'plan'") == "82.0"


def test_the_overview_view_has_one_row_per_commitment_for_1x_clients_too(database):
    assert run_1x(database, "SELECT count(*), count(axis_name), sum(activity_count) FROM overview") == "22,22,147"
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.sql(
            "SELECT commitment_no, activity_count, not_started_count + limited_count + substantial_count"
            " + complete_count + unknown_count, is_within_bounds, rate_min_pct <= published_rate_pct"
            " AND published_rate_pct <= rate_max_pct FROM overview"
        ).fetchall()
    assert len(rows) == 22
    for commitment_no, activity_count, counted, within, between in rows:
        assert activity_count == counted, commitment_no
        assert within is None or within == between, commitment_no


def test_column_comments_say_things_once(database):
    with duckdb.connect(str(database), read_only=True) as con:
        comments = con.sql(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE comment IS NOT NULL"
        ).fetchall()
        undocumented = con.sql(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND table_name = 'overview'"
        ).fetchall()
    assert len(comments) > 100
    assert undocumented == []
    for table, column, comment in comments:
        head, _, rest = comment.partition(" : ")
        assert not (rest and rest.startswith(head)), (table, column, comment)
