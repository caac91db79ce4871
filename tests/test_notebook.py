"""notebooks/progress.ipynb runs against a database built from the seed report, and is
committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline import exitcodes

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "progress.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.fixture(scope="module")
def seed_database(tmp_path_factory) -> Path:
    from pipeline.compute import compute_database
    from pipeline.ingest import ingest_reports

    curated = tmp_path_factory.mktemp("nb") / "curated"
    assert ingest_reports(REPO / "raw", curated) == exitcodes.OK
    assert compute_database(curated, None, REPO / "raw") == exitcodes.OK
    return curated / "pgo.duckdb"


def test_notebook_runs_read_only_on_the_seed_database(seed_database, monkeypatch):
    monkeypatch.setenv("PGO_DB", str(seed_database))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("PGO_REPORT", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "rapport : ma-pan-2021-2023-autoevaluation-2023-07" in text
    assert "taux d'engagement publiés : 21, dans l'intervalle calculé : 15, hors de l'intervalle : 6" in text
    assert "commitment_mean : le taux global publié (82 %) place le taux non publié de l'engagement 22 entre 85 et 100 %" in text
    assert "activity_weighted : aucune valeur du taux de l'engagement 22 ne redonne le taux global publié (82 %)" in text
