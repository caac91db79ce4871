"""Fixtures and helpers shared by the test modules.

The seed report through the stages (``seed_raw``, ``seed_ingested``, ``seed_computed``),
and ``layers``: writes a layer from in-memory tables the way its stage leaves it (its
files, then its ``provenance.json``), so that a stage's test can start from the layer
below without running the stages before it. :func:`frame` (``from conftest import
frame``) builds a table's rows inline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from pipeline import exitcodes
from pipeline.ingest import ingest_reports

# The property tests draw the same examples on every run (CI must not turn red by
# chance); HYPOTHESIS_PROFILE=explore draws new ones, to hunt for bugs by hand.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
from pipeline.layers import (
    computed_record,
    layout,
    partition_record,
    validated_entry,
    validated_record,
    write_provenance,
)
from pipeline.io import write_table
from schemas import COMPUTED_TABLES, TABLES, empty_frame, get_resource

SEED = Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem

#: Code fingerprints the hand-made layers record (a stage's real one is a SHA-256).
TEST_CODE = "test-code"


def frame(table: str, rows: list[tuple]) -> pd.DataFrame:
    """A DataFrame of ``table`` from rows given as tuples, in the table's column order
    (plain pandas dtypes: ``conform_table`` gives the nullable ones)."""
    return pd.DataFrame(rows, columns=get_resource(table).field_names)


def compute_tables(tables: dict[str, pd.DataFrame], config: dict | None = None, weights: pd.DataFrame | None = None):
    """The compute stage's SQL on an in-memory database: computed tables and findings
    (``config`` defaults to the packaged configuration, ``weights`` to equal weights)."""
    import duckdb

    from pipeline.compute import _empty_weights, load_rates_config, populate

    config = load_rates_config() if config is None else config
    weights = _empty_weights() if weights is None else weights
    with duckdb.connect(":memory:", config={"threads": 1}) as con:
        return populate(con, tables, config, weights)


def _report_ids(tables: dict[str, pd.DataFrame]) -> list[str]:
    ids: set[str] = set()
    for df in tables.values():
        if len(df):
            ids |= set(df["report_id"].dropna())
    return sorted(ids)


class Layers:
    """Write the layers of a curated folder from tables, as their stage would."""

    @staticmethod
    def ingested(curated: Path, tables: dict[str, pd.DataFrame]) -> dict[str, dict]:
        """One partition per report_id found in ``tables`` (every table written, empty if
        absent), by the ingest stage's own writer; returns each partition's record."""
        from pipeline.ingest import save_partition

        lay = layout(curated)
        records = {}
        for report_id in _report_ids(tables):
            mine = {}
            for table in TABLES:
                df = tables.get(table, empty_frame(table))
                mine[table] = df[df["report_id"] == report_id].reset_index(drop=True)
            sha = hashlib.sha256(report_id.encode("utf-8")).hexdigest()
            records[report_id] = partition_record(report_id, sha, TEST_CODE)
            save_partition(lay.partition(report_id), mine, records[report_id])
        return records

    @staticmethod
    def validated(curated: Path, tables: dict[str, pd.DataFrame]) -> dict:
        """``curated/validated/``: every table of ``tables`` (absent ones empty), then its
        provenance listing the reports of the ``reports`` table; returns that record."""
        lay = layout(curated)
        for table in TABLES:
            write_table(tables.get(table, empty_frame(table)), table, lay.validated / f"{table}.parquet")
        reports = tables.get("reports", empty_frame("reports"))
        entries = {
            r: validated_entry(partition_record(r, hashlib.sha256(r.encode("utf-8")).hexdigest(), TEST_CODE))
            for r in sorted(reports["report_id"].dropna())
        }
        record = validated_record(entries, TEST_CODE)
        write_provenance(lay.validated, record)
        return record

    @staticmethod
    def computed(
        curated: Path,
        tables: dict[str, pd.DataFrame],
        rates_config: dict | None,
        validated: dict,
        findings: pd.DataFrame | None = None,
    ) -> dict:
        """``curated/computed/``: the computed tables of ``tables`` (no file for an absent
        one), ``findings.parquet`` (``findings``: the compute stage's own, default none),
        ``rates_config.json`` (unless None), then its provenance built on ``validated``
        (the validated layer's record); returns that record."""
        lay = layout(curated)
        lay.computed.mkdir(parents=True, exist_ok=True)
        for table in COMPUTED_TABLES:
            if table in tables:
                write_table(tables[table], table, lay.computed / f"{table}.parquet")
        findings = empty_frame("findings") if findings is None else findings
        write_table(findings, "findings", lay.computed / "findings.parquet")
        if rates_config is not None:
            (lay.computed / "rates_config.json").write_text(json.dumps(rates_config), encoding="utf-8")
        weights = {r: None for r in validated.get("reports", {})}
        record = computed_record(validated, weights, None, TEST_CODE)
        write_provenance(lay.computed, record)
        return record


@pytest.fixture(scope="session")
def layers() -> Layers:
    return Layers()


@pytest.fixture(scope="module")
def seed_raw(tmp_path_factory) -> Path:
    """A raw folder holding the seed report only."""
    raw = tmp_path_factory.mktemp("raw")
    shutil.copy(SEED, raw / SEED.name)
    return raw


@pytest.fixture(scope="module")
def seed_ingested(tmp_path_factory, seed_raw) -> Path:
    """A curated folder with the seed report freshly ingested (one per test module)."""
    curated = tmp_path_factory.mktemp("curated")
    assert ingest_reports(seed_raw, curated) == exitcodes.OK
    return curated


@pytest.fixture(scope="module")
def seed_computed(tmp_path_factory, seed_raw) -> Path:
    """A curated folder (of its own) with the seed report ingested, validated and computed."""
    from pipeline.compute import compute_database
    from pipeline.validate import validate_curated

    curated = tmp_path_factory.mktemp("seed") / "curated"
    assert ingest_reports(seed_raw, curated) == exitcodes.OK
    assert validate_curated(curated) == exitcodes.OK
    assert compute_database(curated, None, seed_raw) == exitcodes.OK
    return curated
