"""notebooks/progress.ipynb runs against a database built from the seed report, and is
committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.report_page import format_number

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


def test_notebook_reads_the_computed_layer_database_by_default(executed):
    """Without PGO_DB, the first cell opens ../curated/computed/pgo.duckdb from notebooks/
    (``executed`` runs it so; the what-moved test gives PGO_DB)."""
    from pipeline.layers import layout

    assert layout(Path("curated")).database == Path("curated/computed/pgo.duckdb")
    first = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code")
    assert '"../curated/computed/pgo.duckdb"' in first.source
    assert executed["first_cell"].splitlines() == [
        "base : ../curated/computed/pgo.duckdb",
        "rapport : ma-pan-2021-2023-autoevaluation-2023-07",
    ]


#: Appended to the notebook by the test (never committed): what its three charts hold,
#: read back from the matplotlib figures it keeps (fig_rates, fig_commitments, fig_statuses).
INSPECT_CHARTS = r"""
import json
from matplotlib.colors import to_hex


def _labels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def _lines(ax):
    return {l.get_label(): [[float(x), float(y)] for x, y in zip(l.get_xdata(), l.get_ydata()) if x == x]
            for l in ax.lines if not l.get_label().startswith("_")}


def _chart(fig):
    ax = fig.axes[0]
    return {
        "labels": _labels(ax),
        "legend": [t.get_text() for t in ax.get_legend().get_texts()],
        "lines": _lines(ax),
        "bands": {c.get_label(): [[[float(v) for v in point] for point in seg] for seg in c.get_segments()]
                  for c in ax.collections},
        "bars": {c.get_label(): [[float(p.get_x()), float(p.get_width()), to_hex(p.get_facecolor())] for p in c.patches]
                 for c in ax.containers},
        "patches": len(ax.patches),
        "texts": [t.get_text() for t in ax.texts],
        "title": ax.get_title(loc="left"),
        "xlim": [float(v) for v in ax.get_xlim()],
    }


print("CHARTS " + json.dumps({"rates": _chart(fig_rates), "commitments": _chart(fig_commitments),
                               "statuses": _chart(fig_statuses)}))
"""

#: The template's words for the statuses, in the checklist's order, then the pipeline's own.
FRENCH_STATUSES = ["Non entamée", "Progression limitée", "Progression significative", "Complétée", "Inconnu"]


@pytest.fixture(scope="module")
def executed(seed_database, tmp_path_factory):
    """The notebook run on the seed database, found where it looks without PGO_DB
    (``../curated/computed/pgo.duckdb`` from its folder), with the charts' contents
    read back."""
    root = tmp_path_factory.mktemp("notebook")
    (root / "notebooks").mkdir()
    (root / "curated" / "computed").mkdir(parents=True)
    (root / "curated" / "computed" / "pgo.duckdb").symlink_to(seed_database)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(INSPECT_CHARTS))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PGO_DB", raising=False)
        mp.delenv("PGO_REPORT", raising=False)
        mp.setenv("MPLBACKEND", "Agg")
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(root / "notebooks")}}
        ).execute()
    first = next(c for c in nb.cells if c.cell_type == "code")
    outputs = [o for c in nb.cells[:-1] if c.cell_type == "code" for o in c.outputs]
    stream = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    [charts] = [
        line[len("CHARTS ") :]
        for line in "".join(o.get("text", "") for o in nb.cells[-1].outputs).splitlines()
        if line.startswith("CHARTS ")
    ]
    return {
        "outputs": outputs,
        "stream": stream,
        "shown": shown,
        "charts": json.loads(charts),
        "first_cell": "".join(o.get("text", "") for o in first.outputs if o.output_type == "stream"),
    }


@pytest.fixture(scope="module")
def seed_figures(seed_database):
    con = duckdb.connect(str(seed_database), read_only=True)
    try:
        return {
            "axes": con.execute("SELECT axis_no, name FROM axes ORDER BY axis_no").fetchall(),
            "plan": con.execute(
                "SELECT published_rate_pct, rate_pct, rate_min_pct, rate_max_pct FROM reconciliation "
                "WHERE scope = 'plan'"
            ).fetchone(),
            "statuses": con.execute(
                "SELECT scope_no, status, activity_count FROM status_summary WHERE scope = 'axis' ORDER BY scope_no"
            ).fetchall(),
            "outside": con.execute(
                "SELECT scope_no, published_rate_pct FROM reconciliation "
                "WHERE scope = 'commitment' AND NOT within_bounds ORDER BY scope_no"
            ).fetchall(),
            "commitments": con.execute("SELECT count(*) FROM commitments").fetchone()[0],
        }
    finally:
        con.close()


def _flat(label: str) -> str:
    return " ".join(label.split())


def test_notebook_runs_read_only_on_the_seed_database(executed):
    outputs = executed["outputs"]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
    text = executed["stream"]
    assert "rapport : ma-pan-2021-2023-autoevaluation-2023-07" in text
    assert "Aucun rapport antérieur du même plan dans la base : rien à comparer." in text  # the seed stands alone
    assert "taux d'engagement publiés : 21, dans l'intervalle calculé : 15, hors de l'intervalle : 6" in text
    assert (
        "commitment_mean : le taux global publié (82 %) place le taux non publié de l'engagement 22 entre 85 et 100 %"
        in text
    )
    assert (
        "activity_weighted : aucune valeur du taux de l'engagement 22 ne redonne le taux global publié (82 %)" in text
    )


def test_every_chart_follows_a_markdown_cell_in_french_saying_what_it_shows():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    charts = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "plt.show()" in c.source]
    assert len(charts) == 4
    says = [
        ("taux calculé", "intervalle calculé", "taux publié", "axe"),
        ("engagement", "intervalle calculé"),
        ("part de ses activités", "statut"),
        ("rapport antérieur", "progressé ou reculé", "taux publié"),
    ]
    for i, words in zip(charts, says):
        before = nb.cells[i - 1]
        assert before.cell_type == "markdown" and before.source.startswith("## "), i
        for word in words:
            assert word in before.source, (word, before.source)


def test_plan_computed_rate_and_interval_beside_the_published_rate(executed, seed_figures):
    published, rate, low, high = seed_figures["plan"]
    assert published == 82.0
    headline = (
        f"plan : taux calculé {format_number(rate)} % (intervalle {format_number(low)} – {format_number(high)} %), "
        "taux publié 82 % (dans l'intervalle calculé)"
    )
    assert headline in executed["stream"]
    chart = executed["charts"]["rates"]
    assert chart["title"].endswith(headline)
    assert chart["labels"][0] == "Ensemble du plan"
    assert chart["lines"]["taux calculé"][0] == pytest.approx([rate, 0])
    assert chart["lines"]["taux publié"][0] == pytest.approx([published, 0])
    [start, end] = chart["bands"]["intervalle calculé"][0]
    assert start + end == pytest.approx([low, 0, high, 0])
    assert f"calculé {format_number(rate)} %" in chart["texts"] and "publié 82 %" in chart["texts"]


def test_rates_are_points_with_intervals_not_bars(executed, seed_figures):
    for name in ("rates", "commitments"):
        chart = executed["charts"][name]
        assert chart["patches"] == 0 and chart["bars"] == {}, name
        assert chart["xlim"] == [0, 100]
        assert chart["legend"][:3] == ["intervalle calculé", "taux calculé", "taux publié"]
    commitments = executed["charts"]["commitments"]
    assert len(commitments["labels"]) == seed_figures["commitments"]
    outside = commitments["lines"]["taux publié hors de l'intervalle"]
    assert [x for x, _ in outside] == [p for _, p in seed_figures["outside"]]
    assert [commitments["labels"][int(y)].split(".")[0] for _, y in outside] == [
        str(n) for n, _ in seed_figures["outside"]
    ]


def test_axes_are_named_whole_and_wrapped_between_words(executed, seed_figures):
    names = dict(seed_figures["axes"])
    assert len(names) == 5
    for chart, first in (("rates", 1), ("statuses", 0)):
        labels = executed["charts"][chart]["labels"][first:]
        assert len(labels) == len(names), chart
        for (no, name), label in zip(sorted(names.items()), labels):
            assert _flat(label).startswith(f"Axe {no} · {name}"), (chart, label)
            assert all(len(line) <= 34 for line in label.split("\n")), label
    assert any("\n" in label for label in executed["charts"]["rates"]["labels"])  # a long name is wrapped
    for name in names.values():
        assert name in executed["shown"]  # the table under the chart names the axes too


def test_statuses_per_axis_are_shares_in_french_with_okabe_ito_colours(executed, seed_figures):
    chart = executed["charts"]["statuses"]
    assert chart["legend"] == FRENCH_STATUSES
    assert list(chart["bars"]) == FRENCH_STATUSES
    for label in FRENCH_STATUSES:
        assert label in executed["shown"]
    counts: dict[int, dict[str, int]] = {}
    for no, status, count in seed_figures["statuses"]:
        counts.setdefault(int(no), {})[status] = int(count)
    codes = ["not_started", "limited", "substantial", "complete", "unknown"]
    okabe_ito = {"#d55e00", "#e69f00", "#56b4e9", "#009e73", "#999999"}
    for row, no in enumerate(sorted(counts)):
        total = sum(counts[no].values())
        widths = [chart["bars"][label][row][1] for label in FRENCH_STATUSES]
        assert sum(widths) == pytest.approx(100)
        assert widths == pytest.approx([100 * counts[no].get(code, 0) / total for code in codes])
        assert f"({total} activités)" in chart["labels"][row]
    colours = {label: {bar[2] for bar in bars} for label, bars in chart["bars"].items()}
    assert all(len(c) == 1 for c in colours.values())
    assert {c.pop() for c in colours.values()} == okabe_ito
