"""Tests for pipeline.compute and pipeline/sql: rates worked out by hand on small inline
tables, configuration and weights checking, and the database built from the seed report."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import compute_tables

from pipeline import exitcodes
from pipeline.compute import (
    DATABASE_ONLY_VIEWS,
    INTERMEDIATE_VIEWS,
    ConfigError,
    compute_database,
    load_rates_config,
    load_weights_by_report,
    parse_rates_config,
    parse_weights,
)
from pipeline.fingerprint import stage_code_fingerprint
from schemas import COMPUTED_TABLES, TABLES, arrow_schema, get_resource, table_fields

REPO = Path(__file__).resolve().parents[1]
SEED_ID = "ma-pan-2021-2023-autoevaluation-2023-07"
R = "r1"
_DEFAULTS = {"string": "x", "integer": 1, "number": 0.0, "boolean": True}


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A curated table from ``rows``; required columns left out get a placeholder."""
    full = []
    for row in rows:
        out = dict(row)
        for f in table_fields(table):
            if f["name"] not in out and not f["nullable"]:
                out[f["name"]] = _DEFAULTS[f["type"]]
        full.append(out)
    return pa.Table.from_pylist(full, schema=arrow_schema(table)).to_pandas()


def activity(commitment_no: int, activity_no: int, status: str, report_id: str = R) -> dict:
    return {"report_id": report_id, "commitment_no": commitment_no, "activity_no": activity_no, "status": status}


def small_plan() -> dict[str, pd.DataFrame]:
    """Report r1: axes 1-3; commitments 1 (axis 1), 2 (axis 2), 3 (axis 1, no activity); axis 3 empty.

    Commitment 1: complete, limited, unknown. Commitment 2: substantial, not_started, complete.
    Published: plan 60 %, commitment 1 70 %, commitment 2 40 %, commitment 3 missing.
    """
    return {
        "reports": frame("reports", [{"report_id": R}]),
        "axes": frame("axes", [{"report_id": R, "axis_no": n} for n in (1, 2, 3)]),
        "commitments": frame(
            "commitments",
            [
                {"report_id": R, "commitment_no": 1, "axis_no": 1, "source_line_start": 10},
                {"report_id": R, "commitment_no": 2, "axis_no": 2, "source_line_start": 20},
                {"report_id": R, "commitment_no": 3, "axis_no": 1, "source_line_start": 30},
            ],
        ),
        "activities": frame(
            "activities",
            [
                activity(1, 1, "complete"),
                activity(1, 2, "limited"),
                activity(1, 3, "unknown"),
                activity(2, 1, "substantial"),
                activity(2, 2, "not_started"),
                activity(2, 3, "complete"),
            ],
        ),
        "published_rates": frame(
            "published_rates",
            [
                {"report_id": R, "scope": "plan", "scope_no": 0, "rate_pct": 60.0, "source_line": 5},
                {"report_id": R, "scope": "commitment", "scope_no": 1, "rate_pct": 70.0, "source_line": 6},
                {"report_id": R, "scope": "commitment", "scope_no": 2, "rate_pct": 40.0, "source_line": 7},
            ],
        ),
    }


def rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows as tuples with NaN/NA as None, for exact comparisons."""
    return [tuple(None if pd.isna(v) else v for v in r) for r in df[columns].itertuples(index=False)]


def approx_rows(expected: list[tuple]) -> list:
    return [tuple(v if v is None or isinstance(v, (str, bool)) else pytest.approx(v) for v in r) for r in expected]


RATES = ["rate_pct", "rate_min_pct", "rate_max_pct"]


@pytest.fixture(scope="module")
def small_plan_out() -> dict[str, pd.DataFrame]:
    """``compute_tables(small_plan())``, computed once for the tests that only read it."""
    return compute_tables(small_plan())


# --- rates worked out by hand ---------------------------------------------------------
#
# Default mapping: not_started 0, limited 30, substantial 75, complete 95; bands
# not_started 0-0, limited 1-59, substantial 60-90, complete 90-100, unknown 0-100.
# Commitment 1 (equal weights): point (95 + 30) / 2 = 62.5 (unknown left out);
#   min (90 + 1 + 0) / 3 = 91/3; max (100 + 59 + 100) / 3 = 259/3.
# Commitment 2: point (75 + 0 + 95) / 3 = 170/3; min (60 + 0 + 90) / 3 = 50; max (90 + 0 + 100) / 3 = 190/3.
# Commitment 3: no activity: no point, interval 0-100.


def test_activity_progress_takes_the_configured_value_and_the_band_edges(small_plan_out):
    out = small_plan_out["activity_progress"]
    assert rows(out, ["commitment_no", "activity_no", "axis_no", "status", "weight", *RATES]) == [
        (1, 1, 1, "complete", 1.0, 95.0, 90.0, 100.0),
        (1, 2, 1, "limited", 1.0, 30.0, 1.0, 59.0),
        (1, 3, 1, "unknown", 1.0, None, 0.0, 100.0),
        (2, 1, 2, "substantial", 1.0, 75.0, 60.0, 90.0),
        (2, 2, 2, "not_started", 1.0, 0.0, 0.0, 0.0),
        (2, 3, 2, "complete", 1.0, 95.0, 90.0, 100.0),
    ]


def test_commitment_rates_leave_unknown_out_of_the_point_and_bound_it_by_0_and_100(small_plan_out):
    out = small_plan_out["commitment_progress"]
    assert list(out.columns) == arrow_schema("commitment_progress").names
    assert rows(out, ["commitment_no", "axis_no", "activity_count", "unknown_activity_count", *RATES]) == approx_rows(
        [
            (1, 1, 3, 1, 62.5, 91 / 3, 259 / 3),
            (2, 2, 3, 0, 170 / 3, 50.0, 190 / 3),
            (3, 1, 0, 0, None, 0.0, 100.0),
        ]
    )


def test_axis_and_plan_rates_are_plain_means_of_commitment_rates_by_default(small_plan_out):
    out = small_plan_out
    # axis 1 = commitments 1 and 3: point 62.5 (3 has none); min (91/3 + 0) / 2; max (259/3 + 100) / 2.
    assert rows(out["axis_progress"], ["axis_no", "commitment_count", *RATES]) == approx_rows(
        [
            (1, 2, 62.5, 91 / 6, 559 / 6),
            (2, 1, 170 / 3, 50.0, 190 / 3),
            (3, 0, None, None, None),
        ]
    )
    # plan: point (62.5 + 170/3) / 2 = 715/12; min (91/3 + 50 + 0) / 3 = 241/9; max (259/3 + 190/3 + 100) / 3 = 749/9.
    assert rows(out["plan_progress"], ["report_id", "commitment_count", "activity_count", *RATES, "aggregation"]) == (
        approx_rows([(R, 3, 6, 715 / 12, 241 / 9, 749 / 9, "commitment_mean")])
    )


def test_activity_weighted_aggregation_is_the_weighted_mean_over_all_activities():
    config = {**load_rates_config(), "aggregation": "activity_weighted"}
    out = compute_tables(small_plan(), config)
    # plan point: (95 + 30 + 75 + 0 + 95) / 5 = 59; min (90+1+0+60+0+90) / 6; max (100+59+100+90+0+100) / 6.
    assert rows(out["plan_progress"], [*RATES, "aggregation"]) == approx_rows(
        [(59.0, 241 / 6, 449 / 6, "activity_weighted")]
    )
    # axis 1: commitment 3 has no activity, so it weighs nothing.
    assert rows(out["axis_progress"], ["axis_no", *RATES])[0] == approx_rows([(1, 62.5, 91 / 3, 259 / 3)])[0]


def test_reconciliation_puts_each_published_rate_beside_the_computed_interval(small_plan_out):
    out = small_plan_out["reconciliation"]
    assert list(out.columns) == arrow_schema("reconciliation").names
    columns = ["scope", "scope_no", "published_rate_pct", *RATES, "within_bounds", "gap_pct_points"]
    assert rows(out, columns) == approx_rows(
        [
            ("commitment", 1, 70.0, 62.5, 91 / 3, 259 / 3, True, 7.5),
            ("commitment", 2, 40.0, 170 / 3, 50.0, 190 / 3, False, 40 - 170 / 3),
            ("plan", 0, 60.0, 715 / 12, 241 / 9, 749 / 9, True, 60 - 715 / 12),
        ]
    )


def test_missing_rate_range_solves_the_published_global_rate_for_the_missing_commitment(small_plan_out):
    out = small_plan_out["missing_rate_range"]
    columns = [
        "commitment_no",
        "aggregation",
        "published_rate_pct",
        "implied_rate_min_pct",
        "implied_rate_max_pct",
        "is_consistent",
    ]
    # commitment_mean: (70 + 40 + x) / 3 in [59.5, 60.5] <=> x in [68.5, 71.5].
    # activity_weighted: commitment 3 has no activity, so the plan is (3*70 + 3*40) / 6 = 55 whatever x is: not 60.
    assert rows(out, columns) == approx_rows(
        [
            (3, "activity_weighted", 60.0, None, None, False),
            (3, "commitment_mean", 60.0, 68.5, 71.5, True),
        ]
    )


def test_missing_rate_range_is_clipped_to_0_100_and_weighted_by_activity_weight():
    tables = small_plan()
    tables["activities"] = pd.concat(
        [tables["activities"], frame("activities", [activity(3, 1, "complete"), activity(3, 2, "complete")])],
        ignore_index=True,
    )
    tables["published_rates"].loc[0, "rate_pct"] = 75.0
    out = compute_tables(tables)["missing_rate_range"]
    columns = ["aggregation", "implied_rate_min_pct", "implied_rate_max_pct", "is_consistent"]
    # commitment_mean: x in [74.5*3 - 110, 75.5*3 - 110] = [113.5, 116.5]: above 100, none.
    # activity_weighted (weights 3, 3, 2): x in [(74.5*8 - 330) / 2, (75.5*8 - 330) / 2] = [133, 137]: none.
    assert rows(out, columns) == [("activity_weighted", None, None, False), ("commitment_mean", None, None, False)]
    tables["published_rates"].loc[0, "rate_pct"] = 65.0
    out = compute_tables(tables)["missing_rate_range"]
    # commitment_mean: [64.5*3 - 110, 65.5*3 - 110] = [83.5, 86.5]; activity_weighted: [93, 97].
    assert rows(out, columns) == approx_rows(
        [("activity_weighted", 93.0, 97.0, True), ("commitment_mean", 83.5, 86.5, True)]
    )


def test_status_summary_counts_activities_per_status_for_plan_axes_and_commitments(small_plan_out):
    out = small_plan_out["status_summary"]
    counts = {(s, n, st): c for s, n, st, c in rows(out, ["scope", "scope_no", "status", "activity_count"])}
    assert len(counts) == (1 + 3 + 3) * 5
    assert [counts[("plan", 0, s)] for s in ["not_started", "limited", "substantial", "complete", "unknown"]] == [
        1,
        1,
        1,
        2,
        1,
    ]
    assert [counts[("axis", 1, s)] for s in ["not_started", "limited", "substantial", "complete", "unknown"]] == [
        0,
        1,
        0,
        1,
        1,
    ]
    assert [counts[("axis", 2, s)] for s in ["not_started", "limited", "substantial", "complete", "unknown"]] == [
        1,
        0,
        1,
        1,
        0,
    ]
    statuses = ["not_started", "limited", "substantial", "complete", "unknown"]
    assert sum(counts[("axis", 3, s)] for s in statuses) == 0
    assert sum(counts[("commitment", 3, s)] for s in statuses) == 0


def test_compute_findings_say_what_could_not_be_computed_and_what_does_not_match(small_plan_out):
    findings = small_plan_out["findings"]
    columns = ["report_id", "stage", "finding_no", "severity", "code", "table_name", "record_key", "source_line"]
    assert rows(findings, columns) == [
        (R, "compute", 1, "warning", "commitment_without_activity", "commitments", "commitment_no=3", 30),
        (R, "compute", 2, "warning", "axis_without_commitment", "axes", "axis_no=3", None),
        (
            R,
            "compute",
            3,
            "warning",
            "published_rate_outside_bounds",
            "published_rates",
            "scope=commitment,scope_no=2",
            7,
        ),
        (R, "compute", 4, "info", "missing_rate_range", "commitments", "commitment_no=3", 30),
    ]
    assert findings["message"].tolist() == [
        "engagement 3 : aucune activité ; pas de taux calculé (intervalle 0-100 %)",
        "axe 3 : aucun engagement ; pas de taux calculé",
        "engagement 2 : taux publié 40 % hors de l'intervalle calculé 50-63,3 %",
        "engagement 3 : taux non publié ; avec le taux global publié (60 %) et l'agrégation commitment_mean "
        "(moyenne simple des taux des engagements), il est compris entre 68,5 et 71,5 %",
    ]


def test_a_computed_row_that_breaks_its_definition_is_an_error_finding():
    from pipeline.compute import compute_findings

    tables = small_plan()
    computed = {k: v for k, v in compute_tables(tables).items() if k in COMPUTED_TABLES}
    broken = computed["commitment_progress"].copy()
    broken.loc[broken["commitment_no"] == 1, "rate_max_pct"] = 150.0
    findings = compute_findings({**computed, "commitment_progress": broken}, tables, "commitment_mean")
    invalid = findings[findings["code"] == "computed_table_invalid"]
    assert rows(invalid, ["report_id", "severity", "table_name", "record_key"]) == [
        (R, "error", "commitment_progress", "commitment_no=1")
    ]
    assert "rate_max_pct" in invalid["message"].iloc[0]
    assert "computed_table_invalid" not in set(compute_findings(computed, tables, "commitment_mean")["code"])


def test_compute_findings_replace_earlier_compute_findings_and_keep_the_others():
    tables = small_plan()
    tables["findings"] = frame(
        "findings",
        [
            {"report_id": R, "stage": "compute", "finding_no": 1, "severity": "info", "code": "old", "message": "m"},
            {"report_id": R, "stage": "ingest", "finding_no": 1, "severity": "warning", "code": "kept", "message": "m"},
        ],
    )
    findings = compute_tables(tables)["findings"]
    assert rows(findings, ["stage", "finding_no", "code"]) == [
        ("compute", 1, "commitment_without_activity"),
        ("compute", 2, "axis_without_commitment"),
        ("compute", 3, "published_rate_outside_bounds"),
        ("compute", 4, "missing_rate_range"),
        ("ingest", 1, "kept"),
    ]
    # The stage's own findings, written alone to curated/computed/findings.parquet.
    assert rows(compute_tables(tables)["stage_findings"], ["stage", "finding_no", "code"]) == [
        ("compute", 1, "commitment_without_activity"),
        ("compute", 2, "axis_without_commitment"),
        ("compute", 3, "published_rate_outside_bounds"),
        ("compute", 4, "missing_rate_range"),
    ]


def test_all_unknown_commitment_has_no_point_estimate_and_a_finding():
    tables = small_plan()
    tables["activities"] = frame("activities", [activity(1, 1, "unknown"), activity(2, 1, "complete")])
    out = compute_tables(tables)
    assert rows(out["commitment_progress"], ["commitment_no", "unknown_activity_count", *RATES])[0] == (
        1,
        1,
        None,
        0.0,
        100.0,
    )
    assert "commitment_status_unknown" in set(out["findings"]["code"])


def test_an_empty_database_computes_empty_tables():
    out = compute_tables({})
    for table in COMPUTED_TABLES:
        assert len(out[table]) == 0
        assert list(out[table].columns) == arrow_schema(table).names


# --- configuration ---------------------------------------------------------------------


def test_default_configuration_is_the_band_midpoints_and_the_plain_commitment_mean():
    config = load_rates_config()
    assert config["progress_pct"] == {"not_started": 0.0, "limited": 30.0, "substantial": 75.0, "complete": 95.0}
    assert config["aggregation"] == "commitment_mean"
    assert config["config_file"] == "pipeline/config/rates.toml"


def test_a_configured_mapping_changes_the_activity_values():
    text = (
        'aggregation = "commitment_mean"\n[progress_pct]\n'
        "not_started = 0\nlimited = 59\nsubstantial = 90\ncomplete = 100\n"
    )
    config = parse_rates_config(text, "high.toml")
    out = compute_tables(small_plan(), config)
    # commitment 1: (100 + 59) / 2; commitment 2: (90 + 0 + 100) / 3.
    assert rows(out["commitment_progress"], ["commitment_no", "rate_pct"])[:2] == approx_rows([(1, 79.5), (2, 190 / 3)])


GOOD = (
    'aggregation = "commitment_mean"\n\n[progress_pct]\n'
    "not_started = 0\nlimited = 30\nsubstantial = 75\ncomplete = 95\n"
)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.replace("limited = 30", "limited = 70"), 5, "limited = 70 is outside its band 1-59 %"),
        (GOOD.replace("complete = 95", "complete = 89.5"), 7, "complete = 89.5 is outside its band 90-100 %"),
        (
            GOOD.replace("commitment_mean", "median"),
            1,
            "aggregation = 'median' is not one of commitment_mean, activity_weighted",
        ),
        (GOOD + "unknown = 50\n", 8, "unknown takes no value"),
        (GOOD + "started = 50\n", 8, "'started' is not a status"),
        (GOOD.replace("substantial = 75\n", ""), 3, "[progress_pct] lacks substantial"),
        (GOOD.replace("limited = 30", 'limited = "30"'), 5, "limited = '30' is not a number"),
        ("weights = 1\n" + GOOD, 1, "unexpected key 'weights'"),
        (GOOD.replace('aggregation = "commitment_mean"\n', ""), None, "missing key 'aggregation'"),
        (GOOD.replace("limited = 30", "limited = "), None, "not valid TOML"),
    ],
)
def test_bad_configuration_is_refused_naming_file_line_and_problem(text, line, problem):
    with pytest.raises(ConfigError) as caught:
        parse_rates_config(text, "rates.toml")
    assert caught.value.path == "rates.toml"
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"rates.toml, line {line}: " if line else "rates.toml: ")


def test_compute_database_refuses_a_bad_config_file_with_usage(tmp_path, caplog):
    (tmp_path / "curated").mkdir()
    bad = tmp_path / "rates.toml"
    bad.write_text(GOOD.replace("limited = 30", "limited = 70"), encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="pipeline.compute"):
        assert compute_database(tmp_path / "curated", bad, tmp_path / "raw") == exitcodes.USAGE
    assert f"{bad}, line 5: limited = 70 is outside its band 1-59 %" in caplog.text
    assert list((tmp_path / "curated").iterdir()) == []
    assert compute_database(tmp_path / "curated", tmp_path / "missing.toml") == exitcodes.USAGE


# --- weights -----------------------------------------------------------------------------

KEYS = {(1, 1), (1, 2), (1, 3), (2, 1)}


def test_parse_weights_reads_a_valid_file():
    text = "commitment_no,activity_no,weight\n1,1,3\n\n1,3,0.5\n"
    out = parse_weights(text, "r1.weights.csv", R, KEYS)
    assert rows(out, ["report_id", "commitment_no", "activity_no", "weight"]) == [(R, 1, 1, 3.0), (R, 1, 3, 0.5)]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("commitment,activity,weight\n1,1,1\n", 1, "the header must be commitment_no,activity_no,weight"),
        ("", 1, "got an empty file"),
        ("commitment_no,activity_no,weight\n1,1,2\n9,1,1\n", 3, "report r1 has no activity 1 in commitment 9"),
        ("commitment_no,activity_no,weight\n1,4,1\n", 2, "report r1 has no activity 4 in commitment 1"),
        ("commitment_no,activity_no,weight\n1,1,0\n", 2, "weight must be a positive number (got '0')"),
        ("commitment_no,activity_no,weight\n1,1,-2\n", 2, "weight must be a positive number (got '-2')"),
        ("commitment_no,activity_no,weight\n1,1,nan\n", 2, "weight must be a positive number (got 'nan')"),
        ("commitment_no,activity_no,weight\n1,1,lourd\n", 2, "weight 'lourd' is not a number"),
        (
            "commitment_no,activity_no,weight\n1,1,1\n1,1,2\n",
            3,
            "commitment 1, activity 1 is given twice (first on line 2)",
        ),
        ("commitment_no,activity_no,weight\n1,x,1\n", 2, "activity_no 'x' is not a positive integer"),
        ("commitment_no,activity_no,weight\n1,1\n", 2, "expected 3 values, got 2"),
    ],
)
def test_bad_weights_are_refused_naming_file_line_and_problem(text, line, problem):
    with pytest.raises(ConfigError) as caught:
        parse_weights(text, "r1.weights.csv", R, KEYS)
    assert (caught.value.path, caught.value.line) == ("r1.weights.csv", line)
    assert problem in caught.value.problem


def test_load_weights_reads_the_file_of_each_report(tmp_path):
    (tmp_path / f"{R}.weights.csv").write_text("commitment_no,activity_no,weight\n1,1,3\n", encoding="utf-8")
    (tmp_path / "other.weights.csv").write_text("commitment_no,activity_no,weight\n9,9,1\n", encoding="utf-8")
    out, invalid = load_weights_by_report(tmp_path, small_plan()["activities"])
    assert rows(out, ["report_id", "commitment_no", "activity_no", "weight"]) == [(R, 1, 1, 3.0)] and invalid == {}
    assert len(load_weights_by_report(tmp_path / "no-such-dir", small_plan()["activities"])[0]) == 0


def test_a_weights_file_changes_exactly_the_rates_it_should(tmp_path):
    (tmp_path / f"{R}.weights.csv").write_text("commitment_no,activity_no,weight\n1,1,3\n1,3,2\n", encoding="utf-8")
    tables = small_plan()
    before = compute_tables(tables)
    after = compute_tables(tables, weights=load_weights_by_report(tmp_path, tables["activities"])[0])
    # Commitment 1, weights 3 (complete), 1 (limited), 2 (unknown):
    # point (3*95 + 30) / 4 = 78.75; min (3*90 + 1 + 0) / 6 = 271/6; max (3*100 + 59 + 2*100) / 6 = 559/6.
    changed = after["commitment_progress"].compare(before["commitment_progress"])
    assert list(changed.index) == [0]
    assert (
        rows(after["commitment_progress"], ["commitment_no", *RATES])[0]
        == approx_rows([(1, 78.75, 271 / 6, 559 / 6)])[0]
    )
    assert list(after["activity_progress"].compare(before["activity_progress"]).index) == [0, 2]
    # Axis 1 (commitments 1 and 3) and the plan change; axis 2 does not.
    assert list(after["axis_progress"].compare(before["axis_progress"]).index) == [0]
    assert (
        rows(after["axis_progress"], ["axis_no", *RATES])[0]
        == approx_rows([(1, 78.75, 271 / 12, (559 / 6 + 100) / 2)])[0]
    )
    assert rows(after["plan_progress"], RATES) == approx_rows(
        [((78.75 + 170 / 3) / 2, (271 / 6 + 50) / 3, (559 / 6 + 190 / 3 + 100) / 3)]
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_compute_database_flags_a_bad_weights_file_as_an_input_error(tmp_path, caplog, layers):
    curated, raw = tmp_path / "curated", tmp_path / "raw"
    raw.mkdir()
    layers.validated(curated, small_plan())
    validated = tree(curated / "validated")
    weights = raw / f"{R}.weights.csv"
    weights.write_text("commitment_no,activity_no,weight\n1,1,0\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="pipeline.compute"):
        assert compute_database(curated, None, raw) == exitcodes.INPUT_ERROR
    assert f"{weights}, line 2: weight must be a positive number (got '0')" in caplog.text
    findings = pd.read_parquet(curated / "computed" / "findings.parquet")
    assert set(findings["stage"]) == {"compute"}
    errors = findings[findings["severity"] == "error"]
    assert errors[["report_id", "code", "source_line"]].values.tolist() == [[R, "weights_file_invalid", 2]]
    with duckdb.connect(str(curated / "computed" / "pgo.duckdb"), read_only=True) as con:
        assert con.sql("SELECT report_id, code FROM findings WHERE severity = 'error'").fetchall() == [
            (R, "weights_file_invalid")
        ]
    weights.write_text("commitment_no,activity_no,weight\n1,1,3\n", encoding="utf-8")
    assert compute_database(curated, None, raw) == exitcodes.OK
    assert "weights_file_invalid" not in set(pd.read_parquet(curated / "computed" / "findings.parquet")["code"])
    record = json.loads((curated / "computed" / "rates_config.json").read_text(encoding="utf-8"))
    assert record["weights"][R]["source"] == f"{R}.weights.csv"
    assert record["weights"][R]["weighted_activity_count"] == 1
    with duckdb.connect(str(curated / "computed" / "pgo.duckdb"), read_only=True) as con:
        assert con.sql(f"SELECT value FROM run_config WHERE key = 'weights.{R}.source'").fetchall() == [
            (f"{R}.weights.csv",)
        ]
        progress = con.sql("SELECT weight FROM activity_progress WHERE commitment_no = 1 ORDER BY activity_no")
        assert progress.fetchall() == [(3.0,), (1.0,), (1.0,)]
    provenance = json.loads((curated / "computed" / "provenance.json").read_text(encoding="utf-8"))["built_from"]
    assert provenance["reports"][R]["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert provenance["compute_code"] == stage_code_fingerprint("compute")
    # One writer per file: compute read the validated layer and wrote only curated/computed/.
    assert tree(curated / "validated") == validated
    assert sorted(p.name for p in curated.iterdir()) == ["computed", "validated"]


def test_compute_needs_a_complete_validated_layer(tmp_path, caplog, layers):
    curated = tmp_path / "curated"
    layers.validated(curated, small_plan())
    (curated / "validated" / "provenance.json").unlink()  # an interrupted validation
    with caplog.at_level(logging.ERROR, logger="pipeline.compute"):
        assert compute_database(curated, None, tmp_path / "raw") == exitcodes.USAGE
    assert "has no complete validated layer" in caplog.text
    assert not (curated / "computed").exists()


# --- the database ----------------------------------------------------------------------


def _sql_models() -> dict[str, str]:
    """The SQL of pipeline/sql/ and benchmarks/, without comments and string literals."""
    files = sorted((REPO / "pipeline" / "sql").glob("*.sql")) + sorted((REPO / "benchmarks").glob("*.sql"))
    out = {}
    for path in files:
        text = re.sub(r"'(?:[^']|'')*'", "''", path.read_text(encoding="utf-8"))
        out[path.name] = re.sub(r"--[^\n]*", "", text)
    return out


def test_select_star_only_in_import_ctes():
    """`SELECT *` only as an import CTE (`activities AS (SELECT * FROM activities)`), the
    exemption sqlfluff's ambiguous.column_count leaves (see .sqlfluff)."""
    for name, sql in _sql_models().items():
        stars = [m.start() for m in re.finditer(r"SELECT\s+\*", sql)]
        ctes = re.finditer(r"\b(\w+) AS \(\n    (SELECT \* FROM (\w+))\n\)", sql)
        imports = [m.start(2) for m in ctes if m.group(1) == m.group(3)]
        assert stars == imports, name


def test_views_have_no_order_by_of_their_own():
    """ORDER BY only inside parentheses (windows, ordered aggregates): the query that reads
    a view orders it."""
    for name, sql in _sql_models().items():
        for statement in sql.split(";"):
            depth = 0
            for token in re.finditer(r"[()]|\bORDER BY\b", statement):
                depth += {"(": 1, ")": -1}.get(token.group(0), 0)
                assert token.group(0) != "ORDER BY" or depth > 0, (name, statement[:80])


def test_table_ddl_comes_from_the_schemas():
    assert get_resource("axes").to_sql() == (
        'CREATE TABLE "axes" (\n'
        '    "report_id" VARCHAR NOT NULL,\n'
        '    "axis_no" BIGINT NOT NULL,\n'
        '    "name" VARCHAR NOT NULL,\n'
        '    "source_line" BIGINT NOT NULL,\n'
        '    PRIMARY KEY ("report_id", "axis_no")\n'
        ");"
    )


@pytest.fixture(scope="module")
def seed_curated(seed_computed) -> Path:
    """The seed report ingested, validated and computed into a fresh curated folder."""
    return seed_computed


def test_database_opens_read_only_from_another_directory(seed_curated, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with duckdb.connect(str(seed_curated / "computed" / "pgo.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert set(TABLES) | {"status_bands", "activity_weights", "run_config"} == tables
        assert set(COMPUTED_TABLES) | {"commitment_rates"} | set(DATABASE_ONLY_VIEWS) | set(INTERMEDIATE_VIEWS) == views
        for view in COMPUTED_TABLES:
            columns = [r[0] for r in con.sql(f"DESCRIBE {view}").fetchall()]
            assert columns == arrow_schema(view).names
            con.sql(f"SELECT count(*) FROM {view}").fetchall()
        assert con.execute("SELECT count(*) FROM activities").fetchall() == [(147,)]
        assert con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'plan_progress' AND column_name = 'rate_pct'"
        ).fetchall() == [("Taux (%) : Taux global calculé du plan.",)]
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM activities")
    leftovers = [str(p) for p in seed_curated.rglob(".*")]
    assert leftovers == []


def test_seed_rates_match_a_plain_python_computation(seed_curated):
    from pipeline.io import read_curated, read_table

    tables = read_curated(seed_curated / "validated")
    progress = {"not_started": 0, "limited": 30, "substantial": 75, "complete": 95}
    bands = {
        "not_started": (0, 0),
        "limited": (1, 59),
        "substantial": (60, 90),
        "complete": (90, 100),
        "unknown": (0, 100),
    }
    expected = {}
    for c in tables["commitments"].itertuples():
        statuses = list(tables["activities"].query("commitment_no == @c.commitment_no")["status"])
        known = [progress[s] for s in statuses if s != "unknown"]
        expected[c.commitment_no] = (
            sum(known) / len(known) if known else None,
            sum(bands[s][0] for s in statuses) / len(statuses) if statuses else 0.0,
            sum(bands[s][1] for s in statuses) / len(statuses) if statuses else 100.0,
            c.axis_no,
        )
    computed = read_table(seed_curated / "computed" / "commitment_progress.parquet", "commitment_progress")
    assert rows(computed, ["commitment_no", *RATES]) == approx_rows([(n, *v[:3]) for n, v in sorted(expected.items())])
    axes = read_table(seed_curated / "computed" / "axis_progress.parquet", "axis_progress")
    for a in axes.itertuples():
        mine = [v for v in expected.values() if v[3] == a.axis_no]
        assert (a.rate_pct, a.rate_min_pct, a.rate_max_pct) == pytest.approx(
            tuple(sum(v[i] for v in mine) / len(mine) for i in range(3))
        )
    plan = read_table(seed_curated / "computed" / "plan_progress.parquet", "plan_progress").iloc[0]
    assert (plan.rate_pct, plan.rate_min_pct, plan.rate_max_pct) == pytest.approx(
        tuple(sum(v[i] for v in expected.values()) / 22 for i in range(3))
    )
    assert (plan.commitment_count, plan.activity_count, plan.aggregation) == (22, 147, "commitment_mean")


def test_seed_published_global_rate_follows_the_plain_mean_of_commitment_rates(seed_curated):
    """82 % = mean of the 22 commitment rates, commitment 22 (not published) being 85-100 %.

    The 21 published commitment rates add up to 1708. Plain mean: (1708 + x) / 22 in
    [81.5, 82.5] <=> x in [85, 107], so 85-100. Weighted by activity count (147
    activities, 9 in commitment 22), x would have to be at least 102.3: impossible.
    """
    from pipeline.io import read_table

    published = read_table(seed_curated / "validated" / "published_rates.parquet", "published_rates")
    by_commitment = published[published["scope"] == "commitment"]
    assert by_commitment["rate_pct"].sum() == 1708 and len(by_commitment) == 21
    out = read_table(seed_curated / "computed" / "missing_rate_range.parquet", "missing_rate_range")
    columns = [
        "commitment_no",
        "aggregation",
        "published_rate_pct",
        "implied_rate_min_pct",
        "implied_rate_max_pct",
        "is_consistent",
    ]
    assert rows(out, columns) == [
        (22, "activity_weighted", 82.0, None, None, False),
        (22, "commitment_mean", 82.0, 85.0, 100.0, True),
    ]
    assert all(round((1708 + x) / 22) == 82 for x in range(85, 101))
    assert round((1708 + 84) / 22) == 81


def test_seed_outputs_follow_the_schemas_and_are_reproducible(seed_curated, seed_raw, tmp_path):
    # The stage is run again below: on a copy, as the shared seed folder is read-only.
    seed_curated = shutil.copytree(seed_curated, tmp_path / "curated")
    computed = seed_curated / "computed"
    for table in COMPUTED_TABLES:
        assert pq.read_schema(computed / f"{table}.parquet").remove_metadata() == arrow_schema(table).remove_metadata()
    record = json.loads((computed / "rates_config.json").read_text(encoding="utf-8"))
    assert record["aggregation"] == "commitment_mean"
    assert record["progress_pct"] == {"not_started": 0.0, "limited": 30.0, "substantial": 75.0, "complete": 95.0}
    assert record["weights"] == {SEED_ID: {"source": "equal"}}
    # computed/findings.parquet holds the compute stage's findings only ...
    findings = pq.read_table(computed / "findings.parquet").to_pandas()
    assert set(findings["stage"]) == {"compute"}
    assert findings["code"].tolist() == ["published_rate_outside_bounds"] * 6 + ["missing_rate_range"]
    # ... and the database's findings table every finding: the validated layer's, then these.
    validated = pq.read_table(seed_curated / "validated" / "findings.parquet").to_pandas()
    assert set(validated["stage"]) == {"ingest", "validate"}
    key = ["report_id", "stage", "finding_no"]
    with duckdb.connect(str(computed / "pgo.duckdb"), read_only=True) as con:
        in_database = con.sql("SELECT report_id, stage, finding_no, code FROM findings ORDER BY ALL").fetchall()
    expected = pd.concat([validated, findings])[[*key, "code"]].sort_values(key)
    assert in_database == [tuple(r) for r in expected.itertuples(index=False)]
    assert len(in_database) == len(validated) + len(findings)
    assert sorted(p.name for p in computed.iterdir()) == sorted(
        [f"{t}.parquet" for t in COMPUTED_TABLES]
        + ["findings.parquet", "rates_config.json", "pgo.duckdb", "provenance.json"]
    )
    snapshot = {p.name: p.read_bytes() for p in computed.iterdir() if p.name != "pgo.duckdb"}
    assert compute_database(seed_curated, None, seed_raw) == exitcodes.OK
    assert {p.name: p.read_bytes() for p in computed.iterdir() if p.name != "pgo.duckdb"} == snapshot


def test_a_failed_build_leaves_the_previous_database_and_tables_untouched(tmp_path, monkeypatch, layers):
    from pipeline import compute
    from pipeline.layers import built_from

    curated = tmp_path / "curated"
    layers.validated(curated, small_plan())
    assert compute_database(curated, None, tmp_path / "raw") == exitcodes.OK
    before = tree(curated)

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(compute, "fetch_computed", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        compute_database(curated, None, tmp_path / "raw")
    # Every file is as it was, but the layer no longer claims to be complete: its
    # provenance, removed first, is written only after a successful build.
    after = tree(curated)
    assert "computed/provenance.json" not in after
    assert after == {k: v for k, v in before.items() if k != "computed/provenance.json"}
    assert built_from(curated / "computed") is None
    monkeypatch.undo()
    assert compute_database(curated, None, tmp_path / "raw") == exitcodes.OK
    assert tree(curated).keys() == before.keys()
    assert {k: v for k, v in tree(curated).items() if k != "computed/pgo.duckdb"} == {
        k: v for k, v in before.items() if k != "computed/pgo.duckdb"
    }


def test_compute_database_needs_the_curated_folder(tmp_path):
    assert compute_database(tmp_path / "nowhere", None, tmp_path / "raw") == exitcodes.USAGE
    assert not (tmp_path / "nowhere").exists()
