"""notebooks/progress.ipynb runs against a database built from the seed report, and is
committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "progress.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.fixture(scope="module")
def seed_database(seed_computed) -> Path:
    return seed_computed / "computed" / "pgo.duckdb"


def test_notebook_reads_the_computed_layer_database_by_default(seed_database, tmp_path, monkeypatch):
    """Without PGO_DB, the first cell opens ../curated/computed/pgo.duckdb from notebooks/."""
    from pipeline.layers import layout

    assert layout(Path("curated")).database == Path("curated/computed/pgo.duckdb")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "curated" / "computed").mkdir(parents=True)
    (tmp_path / "curated" / "computed" / "pgo.duckdb").symlink_to(seed_database)
    monkeypatch.delenv("PGO_DB", raising=False)
    monkeypatch.delenv("PGO_REPORT", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells = [next(c for c in nb.cells if c.cell_type == "code")]
    assert '"../curated/computed/pgo.duckdb"' in nb.cells[0].source
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.splitlines() == ["base : ../curated/computed/pgo.duckdb", "rapport : ma-pan-2021-2023-autoevaluation-2023-07"]


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
