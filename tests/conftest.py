"""Fixtures shared by the test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import exitcodes
from pipeline.ingest import ingest_reports

SEED = Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"


@pytest.fixture(scope="module")
def seed_ingested(tmp_path_factory) -> Path:
    """A curated folder with the seed report freshly ingested (one per test module)."""
    raw = tmp_path_factory.mktemp("raw")
    shutil.copy(SEED, raw / SEED.name)
    curated = tmp_path_factory.mktemp("curated")
    assert ingest_reports(raw, curated) == exitcodes.OK
    return curated
