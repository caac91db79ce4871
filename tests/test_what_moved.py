"""What moved between successive reports of one plan (pipeline/sql/100_what_moved.sql).

Two generated reports of one plan (an earlier one and its follow-up from
:func:`pipeline.synth.generate_followup`) go through ingest, validate and compute; the
views must hold exactly the generator's truth. With the seed alone the views exist,
are empty, and nothing else changes.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import compute_tables

from pipeline import compute, exitcodes
from pipeline.compute import DATABASE_ONLY_VIEWS, TITLE_MATCH_THRESHOLD, compute_database
from pipeline.ingest import ingest_reports
from pipeline.io import write_table
from pipeline.layers import layout
from pipeline.synth import generate_followup, generate_report, report_id_for, report_rng
from pipeline.validate import validate_curated

WHAT_MOVED_VIEWS = (
    "report_pairs",
    "activity_pairs",
    "activity_transitions",
    "commitment_trend",
    "plan_trend",
    "carried_over",
)
SEED, INDEX = 7, 3


def _earlier_with_content() -> tuple[str, str, dict]:
    """A clean generated report with a few commitments and activities to move."""
    for index in range(INDEX, INDEX + 50):
        rng = report_rng(SEED, index)
        report_id = report_id_for(rng, index)
        text, truth = generate_report(rng, report_id, 0.0)
        activities = sum(len(c["activities"]) for c in truth["commitments"])
        if len(truth["commitments"]) >= 3 and activities >= 8:
            return report_id, text, truth
    raise AssertionError("no generated report with enough content")


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory) -> tuple[Path, dict, dict]:
    raw = tmp_path_factory.mktemp("raw")
    earlier_id, earlier_text, earlier = _earlier_with_content()
    later_id = f"{earlier_id}-suivi"
    later_text, later = generate_followup(random.Random(f"followup:{SEED}"), later_id, earlier)
    for report_id, text in ((earlier_id, earlier_text), (later_id, later_text)):
        (raw / f"{report_id}.txt").write_bytes(text.encode("utf-8"))
    curated = tmp_path_factory.mktemp("curated")
    assert ingest_reports(raw, curated) == exitcodes.OK
    validate_curated(curated)  # indicators may be quarantined: activities are what counts here
    assert compute_database(curated, None, raw) == exitcodes.OK
    return curated, earlier, later


def _query(curated: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(layout(curated).database), read_only=True) as con:
        return con.sql(sql).df()


def test_the_generator_writes_a_later_report_of_the_same_plan(two_reports):
    _, earlier, later = two_reports
    assert later["plan_period"] == earlier["plan_period"]
    assert later["as_of"] > earlier["as_of"]
    followup = later["followup"]
    assert followup["earlier_report_id"] == earlier["report_id"]
    assert len(followup["dropped"]) == 1 and len(followup["retitled"]) == 1
    movements = {t["movement"] for t in followup["transitions"]}
    assert {"advanced", "went_back"} <= movements


def test_the_generator_is_deterministic():
    _, _, earlier = _earlier_with_content()
    a = generate_followup(random.Random("same"), f"{earlier['report_id']}-suivi", earlier)
    b = generate_followup(random.Random("same"), f"{earlier['report_id']}-suivi", earlier)
    assert a == b


def test_every_transition_equals_the_generators_truth(two_reports):
    curated, earlier, later = two_reports
    got = _query(
        curated,
        "SELECT plan_period, earlier_report_id, later_report_id, commitment_no, activity_no, status_before,"
        " status_after, movement FROM activity_transitions ORDER BY commitment_no, activity_no",
    )
    assert set(got["plan_period"]) == {earlier["plan_period"]}
    assert set(got["earlier_report_id"]) == {earlier["report_id"]}
    assert set(got["later_report_id"]) == {later["report_id"]}
    rows = got[["commitment_no", "activity_no", "status_before", "status_after", "movement"]].to_dict("records")
    found = [{k: (int(v) if k.endswith("_no") else v) for k, v in r.items()} for r in rows]
    assert found == later["followup"]["transitions"]


def test_the_retitled_pair_is_left_unmatched_with_a_finding(two_reports):
    curated, earlier, later = two_reports
    (retitled,) = later["followup"]["retitled"]
    unmatched = _query(
        curated, "SELECT commitment_no, activity_no, title_score FROM activity_pairs WHERE NOT is_matched"
    )
    assert [(int(r.commitment_no), int(r.activity_no)) for r in unmatched.itertuples()] == [
        (retitled["commitment_no"], retitled["activity_no"])
    ]
    assert unmatched["title_score"].iloc[0] < TITLE_MATCH_THRESHOLD
    findings = _query(curated, "SELECT * FROM findings WHERE code = 'activity_pair_unmatched'")
    assert list(findings["report_id"]) == [later["report_id"]]
    assert list(findings["severity"]) == ["info"] and list(findings["stage"]) == ["compute"]
    key = f"commitment_no={retitled['commitment_no']},activity_no={retitled['activity_no']}"
    assert findings["record_key"].iloc[0] == key
    assert retitled["later_title"] in findings["message"].iloc[0]
    dropped = later["followup"]["dropped"][0]
    pairs = _query(curated, "SELECT commitment_no, activity_no FROM activity_pairs")
    assert (dropped["commitment_no"], dropped["activity_no"]) not in set(pairs.itertuples(index=False, name=None))
    unpaired = _query(curated, "SELECT * FROM findings WHERE code = 'activity_without_counterpart'")
    assert list(unpaired["report_id"]) == [later["report_id"]]
    key = f"commitment_no={dropped['commitment_no']},activity_no={dropped['activity_no']}"
    assert unpaired["record_key"].iloc[0] == key
    assert f"présente dans le rapport {earlier['report_id']} mais pas dans celui-ci" in unpaired["message"].iloc[0]


def test_the_regression_is_flagged_on_the_later_report(two_reports):
    curated, _, later = two_reports
    expected = sorted(
        f"commitment_no={t['commitment_no']},activity_no={t['activity_no']}"
        for t in later["followup"]["transitions"]
        if t["movement"] == "went_back"
    )
    assert expected
    findings = _query(curated, "SELECT * FROM findings WHERE code = 'activity_went_back' ORDER BY record_key")
    assert sorted(findings["record_key"]) == expected
    assert set(findings["report_id"]) == {later["report_id"]} and set(findings["severity"]) == {"warning"}
    stage_findings = pd.read_parquet(layout(curated).computed / "findings.parquet")
    assert sorted(stage_findings.loc[stage_findings["code"] == "activity_went_back", "record_key"]) == expected


def test_the_trends_list_both_reports(two_reports):
    curated, earlier, later = two_reports
    plan = _query(curated, "SELECT report_id, report_order, published_rate_pct FROM plan_trend ORDER BY report_order")
    assert list(plan["report_id"]) == [earlier["report_id"], later["report_id"]]
    assert list(plan["report_order"]) == [1, 2]
    assert list(plan["published_rate_pct"]) == [earlier["global_rate_pct"], later["global_rate_pct"]]
    trend = _query(curated, "SELECT report_id, count(*) AS n FROM commitment_trend GROUP BY ALL ORDER BY report_id")
    assert list(trend["n"]) == [len(earlier["commitments"]), len(later["commitments"])]
    assert len(_query(curated, "SELECT * FROM carried_over")) == 0  # one plan: nothing carried over


def test_carried_over_pairs_commitments_of_successive_plans():
    def tables(report_id, period, titles):
        reports = pd.DataFrame({"report_id": [report_id], "plan_period": [period], "as_of": [f"{period[-4:]}-06"]})
        commitments = pd.DataFrame(
            {"report_id": report_id, "commitment_no": range(1, len(titles) + 1), "title": titles}
        )
        return reports, commitments

    r1, c1 = tables("a-pan-2018-2020", "2018-2020", ["Renforcer l'accès à l'information", "Budget citoyen"])
    r2, c2 = tables("b-pan-2021-2023", "2021-2023", ["RENFORCER L'ACCÈS À L'INFORMATION", "Justice ouverte"])
    with duckdb.connect(":memory:") as con:
        con.register("reports", pd.concat([r1, r2]))
        con.register("commitments", pd.concat([c1, c2]))
        sql = (resources.files("pipeline") / "sql" / "100_what_moved.sql").read_text(encoding="utf-8")
        view = re.search(r"CREATE VIEW carried_over AS.*?;", sql, re.S).group(0)
        rows = con.sql(view.replace("CREATE VIEW carried_over AS", "").rstrip(";")).fetchall()
    assert [(r[2], r[6], r[8]) for r in rows] == [(1, 1, 1.0)]


def test_the_threshold_is_the_same_in_sql_and_python():
    sql = (resources.files("pipeline") / "sql" / "100_what_moved.sql").read_text(encoding="utf-8")
    assert f"TITLE_MATCH_THRESHOLD = {TITLE_MATCH_THRESHOLD}" in sql
    assert set(re.findall(r">= (0\.\d+)", sql)) == {str(TITLE_MATCH_THRESHOLD)}


def test_with_the_seed_alone_the_views_exist_and_are_empty(seed_computed):
    with duckdb.connect(str(seed_computed / "computed" / "pgo.duckdb"), read_only=True) as con:
        for view in WHAT_MOVED_VIEWS:
            assert view in DATABASE_ONLY_VIEWS
            assert con.sql(f"SELECT count(*) FROM {view}").fetchall() == [(0,)], view
        undocumented = con.sql(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND table_name IN "
            f"({', '.join(repr(v) for v in WHAT_MOVED_VIEWS)})"
        ).fetchall()
        assert undocumented == []
        codes = {c for (c,) in con.sql("SELECT DISTINCT code FROM findings").fetchall()}
    assert not codes & {"activity_went_back", "activity_pair_unmatched", "activity_without_counterpart"}


def test_with_the_seed_alone_nothing_else_changes(seed_computed, monkeypatch):
    lay = layout(seed_computed)
    tables = compute.read_validated(lay)
    with_views = compute_tables(tables)
    files = compute._sql_files()
    monkeypatch.setattr(compute, "_sql_files", lambda: [f for f in files if f[0] != "100_what_moved.sql"])
    monkeypatch.setattr(compute, "fetch_what_moved", lambda con: {})
    without = compute_tables(tables)
    for name, frame in without.items():
        pd.testing.assert_frame_equal(with_views[name], frame, obj=name)


def test_the_report_page_shows_what_moved_since_the_previous_report(two_reports):
    from pipeline.publish import read_publishable_tables
    from pipeline.report_page import build_report_page

    curated, earlier, later = two_reports
    frames = read_publishable_tables(layout(curated))
    page = build_report_page(later["report_id"], frames).decode("utf-8")
    assert "<h2>Depuis le rapport précédent</h2>" in page
    counts = dict(re.findall(r'data-movement="(\w+)" data-value="(\d+)"', page))
    for movement in ("advanced", "stalled", "went_back", "unknown"):
        expected = sum(t["movement"] == movement for t in later["followup"]["transitions"])
        assert int(counts[movement]) == expected, movement
    went_back = re.findall(r'<tr data-movement="went_back" data-commitment-no="(\d+)" data-activity-no="(\d+)"', page)
    assert sorted((int(c), int(a)) for c, a in went_back) == sorted(
        (t["commitment_no"], t["activity_no"]) for t in later["followup"]["transitions"] if t["movement"] == "went_back"
    )
    assert f'data-report-id="{earlier["report_id"]}"' in page and f'data-report-id="{later["report_id"]}"' in page
    trend = page[page.index('data-chart="plan-trend"') :]
    assert trend.index("<svg") < trend.index("</figure>")  # a chart of the plan's rates per report
    first = build_report_page(earlier["report_id"], frames).decode("utf-8")
    assert 'data-chart="plan-trend"' not in first
    assert "Depuis le rapport précédent" not in first


def test_the_notebook_shows_what_moved_when_an_earlier_report_exists(two_reports, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    curated, _earlier, later = two_reports
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "progress.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    monkeypatch.setenv("PGO_DB", str(layout(curated).database))
    monkeypatch.setenv("PGO_REPORT", later["report_id"])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb_resources = {"metadata": {"path": str(notebook.parent)}}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources=nb_resources).execute()
    [section] = [i for i, c in enumerate(nb.cells) if c.source.startswith("## Depuis le rapport précédent")]
    outputs = nb.cells[section + 1].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    table = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    moved = [t for t in later["followup"]["transitions"] if t["movement"] in ("advanced", "went_back")]
    assert table.count("a reculé") == sum(t["movement"] == "went_back" for t in moved)
    assert table.count("a progressé") == sum(t["movement"] == "advanced" for t in moved)
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1  # the plan's rates, report after report


def test_the_released_page_of_the_later_report_shows_what_moved_and_follows_the_earlier_one(two_reports, tmp_path):
    from pipeline.publish import publish_packages

    curated, earlier, later = two_reports
    work = tmp_path / "curated"
    shutil.copytree(curated, work)
    exports = tmp_path / "exports"
    assert publish_packages(work, exports) == exitcodes.OK
    later_page = (exports / later["report_id"] / "index.html").read_text(encoding="utf-8")
    assert "<h2>Depuis le rapport précédent</h2>" in later_page
    assert "Depuis le rapport précédent" not in (exports / earlier["report_id"] / "index.html").read_text(
        encoding="utf-8"
    )
    release = json.loads((exports / later["report_id"] / "release.json").read_text(encoding="utf-8"))

    # The earlier report's rows change (one activity's title): its page and the later one's are released again.
    activities = pd.read_parquet(work / "validated" / "activities.parquet")
    mine = activities["report_id"] == earlier["report_id"]
    activities.loc[mine & (activities["activity_no"] == 1), "title"] = "Intitulé révisé"
    write_table(activities, "activities", work / "validated" / "activities.parquet")
    assert publish_packages(work, exports, report_ids={earlier["report_id"]}) == exitcodes.OK
    again = json.loads((exports / later["report_id"] / "release.json").read_text(encoding="utf-8"))
    assert again["rows_sha256"] == release["rows_sha256"] and again["plan_rows_sha256"] != release["plan_rows_sha256"]
