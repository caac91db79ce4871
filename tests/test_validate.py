"""The validation stage: bad rows injected into otherwise valid tables are quarantined, warnings become findings.

Each test starts from the small valid set of tables of :func:`valid_tables`, changes
one thing, and states the rows expected in quarantine with their check and reason.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import frame

from pipeline import exitcodes
from pipeline.fingerprint import stage_code_fingerprint
from pipeline.io import read_table
from pipeline.layers import PROVENANCE_FILE, validated_entry, validated_record
from pipeline.validate import (
    CHECK_COLUMN,
    FAILURE_COUNTS_FILE,
    REASON_COLUMN,
    ValidationConfigError,
    check_numbering,
    conform_table,
    format_summary,
    layer_of,
    merge_by_report,
    read_partitions,
    validate_curated,
    validate_tables,
)
from schemas import TABLES, arrow_schema, get_resource

RID = "ma-test-2023"


def valid_tables() -> dict[str, pd.DataFrame]:
    """One report, one axis, two commitments of four activities and two indicators in all."""
    return {
        "reports": frame(
            "reports",
            [
                (
                    RID,
                    "Rapport d'auto-évaluation",
                    "2021-2023",
                    "2023-07",
                    "fr",
                    f"{RID}.txt",
                    "0" * 64,
                    "utf-8",
                    100,
                    2,
                    4,
                )
            ],
        ),
        "axes": frame("axes", [(RID, 1, "Transparence", 10)]),
        "commitments": frame(
            "commitments",
            [
                (
                    RID,
                    1,
                    "Publication des budgets",
                    1,
                    "Ministère du budget",
                    "Peu de données",
                    "Publier",
                    "Budgets ouverts",
                    20,
                    39,
                ),
                (RID, 2, "Accès à l'information", 1, None, None, None, None, 40, 60),
            ],
        ),
        "activities": frame(
            "activities",
            [
                (RID, 1, 1, "Former les agents", "complete", 90.0, 100.0, True, "Ateliers tenus\nGuide publié", 22),
                (RID, 1, 2, "Ouvrir le portail", "limited", 1.0, 59.0, True, None, 25),
                (RID, 2, 1, "Rédiger le décret", "not_started", 0.0, 0.0, True, None, 42),
                (RID, 2, 2, "Suivre les demandes", "unknown", 0.0, 100.0, False, None, 45),
            ],
        ),
        "indicators": frame(
            "indicators",
            [
                (RID, 1, 1, "Nombre de rapports publiés", "7", 7.0, None, "count", 30),
                (RID, 2, 1, "Taux de demandes traitées", "60%", 60.0, "percent", "rate", 50),
            ],
        ),
        "published_rates": frame(
            "published_rates",
            [(RID, "plan", 0, 82.0, 5), (RID, "commitment", 1, 65.0, 6), (RID, "commitment", 2, 50.0, 7)],
        ),
        "findings": frame(
            "findings",
            [
                (
                    RID,
                    "ingest",
                    1,
                    "warning",
                    "check_mark_missing",
                    "aucune case cochée",
                    "activities",
                    "commitment_no=2,activity_no=2",
                    45,
                )
            ],
        ),
    }


def keys(df: pd.DataFrame, *columns: str) -> list[tuple]:
    return [
        tuple(v if isinstance(v, str) else int(v) for v in row) for row in df[list(columns)].itertuples(index=False)
    ]


def quarantine_of(result, table: str, *key: str) -> list[tuple]:
    q = result.quarantined[table]
    return [(*k, c, r) for k, c, r in zip(keys(q, *key), q[CHECK_COLUMN], q[REASON_COLUMN])]


def assert_rows_add_up(result, tables):
    for table in TABLES:
        expected_in = len(tables[table]) if table != "findings" else int((tables[table]["stage"] != "validate").sum())
        assert result.rows_in[table] == expected_in
        assert len(result.clean[table]) + len(result.quarantined[table]) == expected_in, table


def quarantined_counts(result) -> dict[str, int]:
    return {t: len(q) for t, q in result.quarantined.items() if len(q)}


# --- pure validation ---------------------------------------------------------------------


def test_valid_tables_pass_untouched():
    tables = valid_tables()
    result = validate_tables(tables)
    assert result.exit_code == exitcodes.OK
    assert quarantined_counts(result) == {}
    assert result.findings.empty
    assert result.failures.empty
    assert_rows_add_up(result, tables)
    assert keys(result.clean["activities"], "commitment_no", "activity_no") == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert result.summary() == []


def test_unknown_status_is_quarantined():
    tables = valid_tables()
    tables["activities"].loc[1, "status"] = "started"
    result = validate_tables(tables)
    assert result.exit_code == exitcodes.QUARANTINED
    assert quarantine_of(result, "activities", "commitment_no", "activity_no") == [
        (
            1,
            2,
            "status_not_in_vocabulary",
            "« status » hors du vocabulaire (not_started, limited, substantial, complete, unknown) (status='started')",
        )
    ]
    assert quarantined_counts(result) == {"activities": 1}
    assert keys(result.clean["activities"], "commitment_no", "activity_no") == [(1, 1), (2, 1), (2, 2)]
    assert_rows_add_up(result, tables)


def test_band_contradicting_the_status_is_quarantined():
    tables = valid_tables()
    tables["activities"].loc[1, ["band_min_pct", "band_max_pct"]] = [60.0, 90.0]
    result = validate_tables(tables)
    assert quarantine_of(result, "activities", "commitment_no", "activity_no") == [
        (
            1,
            2,
            "band_contradicts_status",
            "la tranche d'avancement n'est pas celle du statut (not_started 0-0, limited 1-59, substantial 60-90, "
            "complete 90-100, unknown 0-100) (status='limited', band_min_pct=60, band_max_pct=90)",
        )
    ]
    assert_rows_add_up(result, tables)


def test_band_outside_0_100_fails_both_checks_in_one_row():
    tables = valid_tables()
    tables["activities"].loc[3, "band_max_pct"] = 120.0
    result = validate_tables(tables)
    [(c, a, check, reason)] = quarantine_of(result, "activities", "commitment_no", "activity_no")
    assert (c, a) == (2, 2)
    assert check == "band_contradicts_status; band_max_pct_out_of_range"
    assert reason.endswith("; « band_max_pct » hors de l'intervalle 0-100 (band_max_pct=120)")
    assert_rows_add_up(result, tables)


def test_negative_indicator_value_is_quarantined():
    tables = valid_tables()
    tables["indicators"].loc[0, ["raw_value", "value"]] = ["-3", -3.0]
    result = validate_tables(tables)
    assert quarantine_of(result, "indicators", "commitment_no", "indicator_no") == [
        (1, 1, "indicator_value_negative", "valeur d'indicateur négative (raw_value='-3', value=-3)")
    ]
    assert_rows_add_up(result, tables)


def test_percent_above_100_is_quarantined():
    tables = valid_tables()
    tables["indicators"].loc[1, ["raw_value", "value"]] = ["120%", 120.0]
    result = validate_tables(tables)
    assert quarantine_of(result, "indicators", "commitment_no", "indicator_no") == [
        (
            2,
            1,
            "indicator_percent_above_100",
            "valeur en pourcentage supérieure à 100 (raw_value='120%', value=120, unit='percent')",
        )
    ]
    assert_rows_add_up(result, tables)


def test_printed_number_without_numeric_value_is_quarantined():
    tables = valid_tables()
    tables["indicators"].loc[0, "value"] = None
    result = validate_tables(tables)
    assert quarantine_of(result, "indicators", "commitment_no", "indicator_no") == [
        (
            1,
            1,
            "indicator_value_unread",
            "la valeur brute est un nombre mais la valeur numérique est vide (raw_value='7', value=vide)",
        )
    ]


def test_duplicate_key_quarantines_every_row_sharing_it():
    tables = valid_tables()
    copy = tables["activities"].iloc[[2]].assign(title="Rédiger le décret (bis)", source_line=43)
    tables["activities"] = pd.concat([tables["activities"], copy], ignore_index=True)
    result = validate_tables(tables)
    reason = (
        "clé primaire (report_id, commitment_no, activity_no) en double : toutes les lignes de la clé sont mises "
        f"en quarantaine (report_id='{RID}', commitment_no=2, activity_no=1)"
    )
    assert quarantine_of(result, "activities", "commitment_no", "activity_no", "source_line") == [
        (2, 1, 42, "duplicate_primary_key", reason),
        (2, 1, 43, "duplicate_primary_key", reason),
    ]
    assert len(result.clean["activities"]) == 3
    assert_rows_add_up(result, tables)


def test_orphan_activity_is_quarantined():
    tables = valid_tables()
    orphan = frame("activities", [(RID, 9, 1, "Activité perdue", "complete", 90.0, 100.0, True, None, 90)])
    tables["activities"] = pd.concat([tables["activities"], orphan], ignore_index=True)
    result = validate_tables(tables)
    assert quarantine_of(result, "activities", "commitment_no", "activity_no") == [
        (
            9,
            1,
            "foreign_key_commitments",
            f"aucune ligne de commitments (report_id={RID}, commitment_no=9) : référence orpheline",
        )
    ]
    assert quarantined_counts(result) == {"activities": 1}
    assert_rows_add_up(result, tables)


def test_quarantined_commitment_takes_its_activities_and_indicators():
    tables = valid_tables()
    tables["commitments"].loc[1, "axis_no"] = 7
    result = validate_tables(tables)
    assert quarantine_of(result, "commitments", "commitment_no") == [
        (2, "foreign_key_axes", f"aucune ligne de axes (report_id={RID}, axis_no=7) : référence orpheline")
    ]
    cascade = f"la ligne de commitments (report_id={RID}, commitment_no=2) dont elle dépend est en quarantaine"
    assert quarantine_of(result, "activities", "commitment_no", "activity_no") == [
        (2, 1, "foreign_key_commitments", cascade),
        (2, 2, "foreign_key_commitments", cascade),
    ]
    assert quarantine_of(result, "indicators", "commitment_no", "indicator_no") == [
        (2, 1, "foreign_key_commitments", cascade)
    ]
    assert quarantined_counts(result) == {"commitments": 1, "activities": 2, "indicators": 1}
    assert_rows_add_up(result, tables)


def test_quarantined_report_takes_every_row_of_the_report():
    tables = valid_tables()
    tables["reports"].loc[0, "source_sha256"] = "not-a-hash"
    result = validate_tables(tables)
    assert result.quarantined["reports"][CHECK_COLUMN].tolist() == ["source_sha256_bad_format"]
    assert quarantined_counts(result) == {
        "reports": 1,
        "axes": 1,
        "commitments": 2,
        "activities": 4,
        "indicators": 2,
        "published_rates": 3,
    }
    assert len(result.clean["findings"]) == 1
    assert_rows_add_up(result, tables)


def test_commitment_without_axis_is_not_an_orphan():
    tables = valid_tables()
    tables["commitments"].loc[1, "axis_no"] = None
    result = validate_tables(tables)
    assert quarantined_counts(result) == {}


def test_gap_in_activity_numbering_is_a_warning():
    tables = valid_tables()
    tables["activities"].loc[1, "activity_no"] = 4
    result = validate_tables(tables)
    assert result.exit_code == exitcodes.OK
    assert quarantined_counts(result) == {}
    assert result.findings[
        ["report_id", "stage", "finding_no", "severity", "code", "message", "table_name", "record_key", "source_line"]
    ].values.tolist() == [
        [
            RID,
            "validate",
            1,
            "warning",
            "numbering_gap",
            "numérotation de activity_no non contiguë (commitment_no=1) : 2, 3 manque(nt) avant 4",
            "activities",
            "commitment_no=1,activity_no=4",
            25,
        ]
    ]
    assert_rows_add_up(result, tables)


def test_gap_in_commitment_numbering_is_a_warning():
    tables = valid_tables()
    for table in ("commitments", "activities", "indicators"):
        df = tables[table]
        df.loc[df["commitment_no"] == 1, "commitment_no"] = 3
    result = validate_tables(tables)
    assert quarantined_counts(result) == {}
    assert result.findings[["code", "message", "record_key", "source_line"]].values.tolist() == [
        ["numbering_gap", "numérotation de commitment_no non contiguë : 1 manque(nt) avant 2", "commitment_no=2", 40]
    ]


def test_numbering_gaps_point_at_the_first_row_after_each_gap():
    """Per parent, in key order: a zero or a repeated number is no gap, a null one is left out."""

    def activity(report_id, commitment_no, activity_no):
        return (report_id, commitment_no, activity_no, "Former", "complete", 90.0, 100.0, True, None, 22)

    rows = [
        activity(RID, 2, 5),
        activity(RID, 1, 0),
        activity(RID, 1, 3),
        activity(RID, 1, 3),
        activity(RID, 1, 1),
        activity(RID, 2, None),
        activity("ma-autre-2024", 1, 2),
    ]
    records = check_numbering("activities", conform_table(frame("activities", rows), "activities"))
    gap = "numérotation de activity_no non contiguë (commitment_no={}) : {} manque(nt) avant {}"
    assert records[["row", "check", "severity", "reason"]].values.tolist() == [
        [6, "numbering_gap", "warning", gap.format(1, "1", 2)],
        [2, "numbering_gap", "warning", gap.format(1, "2", 3)],
        [0, "numbering_gap", "warning", gap.format(2, "1, 2, 3, 4", 5)],
    ]


def test_report_counts_that_disagree_with_the_rows_are_a_warning():
    tables = valid_tables()
    tables["reports"].loc[0, "activity_count"] = 5
    result = validate_tables(tables)
    assert quarantined_counts(result) == {}
    assert result.findings[["code", "message", "table_name"]].values.tolist() == [
        ["report_counts_mismatch", "activity_count = 5 mais 4 ligne(s) dans « activities »", "reports"]
    ]


def test_count_in_percent_and_rate_without_percent_are_warnings():
    tables = valid_tables()
    tables["indicators"].loc[0, ["raw_value", "unit"]] = ["7%", "percent"]
    tables["indicators"].loc[1, ["raw_value", "unit"]] = ["60", None]
    result = validate_tables(tables)
    assert result.exit_code == exitcodes.OK
    assert quarantined_counts(result) == {}
    assert result.findings[
        ["finding_no", "code", "message", "table_name", "record_key", "source_line"]
    ].values.tolist() == [
        [
            1,
            "indicator_count_in_percent",
            "un nombre (« Nombre… ») exprimé en pourcentage (label='Nombre de rapports publiés', raw_value='7%')",
            "indicators",
            "commitment_no=1,indicator_no=1",
            30,
        ],
        [
            2,
            "indicator_rate_without_percent",
            "un taux (« Taux… », « Pourcentage… ») sans signe % (label='Taux de demandes traitées', raw_value='60')",
            "indicators",
            "commitment_no=2,indicator_no=1",
            50,
        ],
    ]
    assert result.summary() == [
        {
            "table": "indicators",
            "check": "indicator_count_in_percent",
            "severity": "warning",
            "rows_failed": 1,
            "example": f"report_id={RID},commitment_no=1,indicator_no=1: "
            "un nombre (« Nombre… ») exprimé en pourcentage "
            "(label='Nombre de rapports publiés', raw_value='7%')",
        },
        {
            "table": "indicators",
            "check": "indicator_rate_without_percent",
            "severity": "warning",
            "rows_failed": 1,
            "example": f"report_id={RID},commitment_no=2,indicator_no=1: "
            "un taux (« Taux… », « Pourcentage… ») sans signe % "
            "(label='Taux de demandes traitées', raw_value='60')",
        },
    ]


def test_second_plan_rate_quarantines_both():
    tables = valid_tables()
    tables["published_rates"] = pd.concat(
        [tables["published_rates"], frame("published_rates", [(RID, "plan", 1, 80.0, 8)])], ignore_index=True
    )
    result = validate_tables(tables)
    assert [row[:3] for row in quarantine_of(result, "published_rates", "scope", "scope_no")] == [
        ("plan", 0, "plan_rate_duplicated"),
        ("plan", 1, "plan_rate_duplicated"),
    ]
    assert_rows_add_up(result, tables)


def test_published_rate_above_100_and_unknown_scope():
    tables = valid_tables()
    tables["published_rates"].loc[1, "rate_pct"] = 165.0
    tables["published_rates"].loc[2, "scope"] = "region"
    result = validate_tables(tables)
    assert quarantine_of(result, "published_rates", "scope", "scope_no") == [
        ("commitment", 1, "rate_pct_out_of_range", "« rate_pct » hors de l'intervalle 0-100 (rate_pct=165)"),
        (
            "region",
            2,
            "scope_not_in_vocabulary",
            "« scope » hors du vocabulaire (plan, axis, commitment) (scope='region')",
        ),
    ]


def test_text_hygiene_control_characters_quarantine_markup_warns():
    tables = valid_tables()
    tables["axes"].loc[0, "name"] = "Transpa\x00rence"
    tables["activities"].loc[0, "title"] = "- Former les agents"
    tables["commitments"].loc[0, "problem"] = "Peu de <u>données</u>"
    result = validate_tables(tables)
    assert quarantine_of(result, "axes", "axis_no") == [
        (1, "text_control_characters", "caractères de contrôle dans le texte (name='Transpa\\x00rence')")
    ]
    assert quarantined_counts(result) == {"axes": 1, "commitments": 2, "activities": 4, "indicators": 2}
    assert result.findings[["code", "table_name", "record_key", "message"]].values.tolist() == [
        [
            "text_markup",
            "commitments",
            "commitment_no=1",
            "balisage parasite (HTML, LaTeX) dans le texte (problem='Peu de <u>données</u>')",
        ],
        [
            "text_list_marker",
            "activities",
            "commitment_no=1,activity_no=1",
            "le texte commence par une puce de liste (title='- Former les agents')",
        ],
    ]


def test_missing_required_value_is_quarantined():
    tables = valid_tables()
    tables["activities"].loc[2, "title"] = None
    result = validate_tables(tables)
    assert quarantine_of(result, "activities", "commitment_no", "activity_no") == [
        (2, 1, "title_missing", "« title » est obligatoire mais vide")
    ]


def test_every_failure_of_every_table_is_collected_in_one_pass():
    tables = valid_tables()
    tables["activities"].loc[0, "status"] = "started"
    tables["activities"].loc[1, "band_min_pct"] = 5.0
    tables["indicators"].loc[1, "value"] = -60.0
    tables["published_rates"].loc[0, "rate_pct"] = -1.0
    tables["findings"].loc[0, "severity"] = "fatal"
    result = validate_tables(tables)
    assert sorted(zip(result.failures["table"], result.failures["check"])) == [
        ("activities", "band_contradicts_status"),
        ("activities", "status_not_in_vocabulary"),
        ("findings", "severity_not_in_vocabulary"),
        ("indicators", "indicator_value_negative"),
        ("published_rates", "rate_pct_out_of_range"),
    ]
    assert quarantined_counts(result) == {"activities": 2, "findings": 1, "indicators": 1, "published_rates": 1}
    assert_rows_add_up(result, tables)


def test_earlier_validate_findings_are_replaced():
    tables = valid_tables()
    old = frame(
        "findings", [(RID, "validate", 1, "warning", "numbering_gap", "ancien constat", "activities", None, None)]
    )
    tables["findings"] = pd.concat([tables["findings"], old], ignore_index=True)
    result = validate_tables(tables)
    assert result.rows_in["findings"] == 1
    assert result.findings_table()[["stage", "code"]].values.tolist() == [["ingest", "check_mark_missing"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t["activities"].drop(columns=["status"]), "columns missing ['status']"),
        (lambda t: t["activities"].assign(extra=1), "unexpected ['extra']"),
        (lambda t: t["activities"].assign(activity_no=[1.0, 2.5, 1.0, 2.0]), "activities"),
    ],
)
def test_tables_that_cannot_be_validated_raise(change, message):
    tables = valid_tables()
    tables["activities"] = change(tables)
    with pytest.raises(ValidationConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_tables(tables)


def test_missing_table_raises():
    tables = valid_tables()
    del tables["axes"]
    with pytest.raises(ValidationConfigError, match="axes"):
        validate_tables(tables)


def test_summary_for_the_terminal():
    tables = valid_tables()
    tables["activities"].loc[1, "status"] = "started"
    text = format_summary(layer_of(validate_tables(tables)), example_width=60)
    assert text.splitlines() == [
        "validation: 14 rows in 7 tables, 1 quarantined, 0 warning finding(s)",
        "table       check                     severity  rows  example",
        "activities  status_not_in_vocabulary  error        1  "
        "commitment_no=1,activity_no=2: « status » hors du vocabulai…",
    ]


# --- the stage on disk -------------------------------------------------------------------


def file_hashes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def bad_tables() -> dict[str, pd.DataFrame]:
    """One unknown status (quarantined) and one rate without a percent sign (a warning)."""
    tables = valid_tables()
    tables["activities"].loc[1, "status"] = "started"
    tables["indicators"].loc[1, ["raw_value", "unit"]] = ["60", None]
    return tables


@pytest.fixture
def bad_curated(tmp_path, layers) -> Path:
    """A curated folder whose one ingested partition holds :func:`bad_tables`."""
    curated = tmp_path / "curated"
    layers.ingested(curated, bad_tables())
    return curated


def validated(curated: Path) -> Path:
    return curated / "validated"


def test_stage_writes_clean_tables_quarantine_findings_and_report(bad_curated, capsys):
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    assert "activities  status_not_in_vocabulary" in capsys.readouterr().out
    out = validated(bad_curated)
    assert sorted(file_hashes(out)) == sorted(
        [f"{t}.parquet" for t in TABLES]
        + ["quarantine/activities.parquet", FAILURE_COUNTS_FILE, "validation.json", PROVENANCE_FILE]
    )

    activities = read_table(out / "activities.parquet", "activities")
    assert keys(activities, "commitment_no", "activity_no") == [(1, 1), (2, 1), (2, 2)]

    quarantine = pq.read_table(out / "quarantine" / "activities.parquet")
    expected_schema = pa.schema(
        [
            *(f.with_nullable(True) for f in arrow_schema("activities")),
            pa.field(CHECK_COLUMN, pa.string()),
            pa.field(REASON_COLUMN, pa.string()),
        ]
    )
    assert quarantine.schema.equals(expected_schema, check_metadata=False)
    assert quarantine.to_pydict()[CHECK_COLUMN] == ["status_not_in_vocabulary"]
    assert quarantine.to_pydict()["activity_no"] == [2]
    assert sorted(p.name for p in (out / "quarantine").iterdir()) == ["activities.parquet"]

    findings = read_table(out / "findings.parquet", "findings")
    assert findings[["stage", "finding_no", "code", "record_key"]].values.tolist() == [
        ["ingest", 1, "check_mark_missing", "commitment_no=2,activity_no=2"],
        ["validate", 1, "indicator_rate_without_percent", "commitment_no=2,indicator_no=1"],
    ]

    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 1
    assert report["tables"]["activities"] == {"rows_in": 4, "rows_clean": 3, "rows_quarantined": 1}
    assert report["tables"]["findings"] == {"rows_in": 1, "rows_clean": 1, "rows_quarantined": 0}
    assert [(f["table"], f["check"], f["severity"], f["rows_failed"]) for f in report["failures"]] == [
        ("activities", "status_not_in_vocabulary", "error", 1),
        ("indicators", "indicator_rate_without_percent", "warning", 1),
    ]
    assert report["failures"][0]["example"].startswith(f"report_id={RID},commitment_no=1,activity_no=2: « status »")


def test_provenance_records_the_partitions_validated_and_the_validate_code(bad_curated):
    partition = json.loads((bad_curated / "ingested" / RID / PROVENANCE_FILE).read_text(encoding="utf-8"))["built_from"]
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    record = json.loads((validated(bad_curated) / PROVENANCE_FILE).read_text(encoding="utf-8"))
    assert record["built_from"] == validated_record(
        {RID: validated_entry(partition)}, stage_code_fingerprint("validate")
    )
    assert record["built_from"]["reports"][RID]["source_sha256"] == partition["source_sha256"]


def test_running_twice_changes_nothing_and_loses_nothing(bad_curated):
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    first = file_hashes(bad_curated)
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    assert file_hashes(bad_curated) == first


def test_validate_never_writes_the_ingested_partitions(bad_curated):
    """One writer per file: the partitions are ingest's; validate only reads them."""
    before = file_hashes(bad_curated / "ingested")
    stamps = {p: p.stat().st_mtime_ns for p in (bad_curated / "ingested").rglob("*")}
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    assert file_hashes(bad_curated / "ingested") == before
    assert {p: p.stat().st_mtime_ns for p in (bad_curated / "ingested").rglob("*")} == stamps
    assert sorted(p.name for p in bad_curated.iterdir()) == ["ingested", "validated"]


def test_validated_and_quarantined_rows_add_up_to_the_ingested_rows(tmp_path, layers):
    """Nothing is dropped: each ingested row is either validated or quarantined, unchanged."""
    from pipeline.ingest import load_partition

    tables = bad_tables()
    tables["activities"].loc[2, ["band_min_pct", "band_max_pct"]] = [60.0, 90.0]  # a second one, another check
    tables["published_rates"].loc[0, "rate_pct"] = 165.0
    curated = tmp_path / "curated"
    layers.ingested(curated, tables)
    ingested = load_partition(curated / "ingested" / RID)
    assert validate_curated(curated) == exitcodes.QUARANTINED
    out = validated(curated)
    for table in TABLES:
        clean = pd.read_parquet(out / f"{table}.parquet")
        quarantine_path = out / "quarantine" / f"{table}.parquet"
        quarantine = pd.read_parquet(quarantine_path) if quarantine_path.exists() else clean.iloc[0:0]
        if table == "findings":
            clean = clean[clean["stage"] != "validate"]
        key = arrow_schema(table).names
        together = (
            pd.concat([clean, quarantine[key]], ignore_index=True).astype(object).where(lambda d: d.notna(), None)
        )
        expected = ingested[table].astype(object).where(lambda d: d.notna(), None)
        assert len(together) == len(expected), table
        assert sorted(map(tuple, together.values.tolist()), key=repr) == sorted(
            map(tuple, expected.values.tolist()), key=repr
        ), table
    assert len(pd.read_parquet(out / "quarantine" / "activities.parquet")) == 2
    assert len(pd.read_parquet(out / "quarantine" / "published_rates.parquet")) == 1


def test_a_row_fixed_at_the_source_replaces_its_quarantined_version(bad_curated, layers):
    """Ingestion rewrites the partition with the fixed row; the old quarantine must not come back."""
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    tables = valid_tables()
    tables["indicators"].loc[1, ["raw_value", "unit"]] = ["60", None]
    layers.ingested(bad_curated, tables)
    assert validate_curated(bad_curated) == exitcodes.OK
    assert not (validated(bad_curated) / "quarantine").exists()
    activities = read_table(validated(bad_curated) / "activities.parquet", "activities")
    assert activities[["activity_no", "status"]].values.tolist()[:2] == [[1, "complete"], [2, "limited"]]
    assert len(activities) == 4


def test_quarantine_is_an_output_only_editing_it_changes_nothing(bad_curated):
    """Validate reads the partitions alone: a hand-edited quarantine file is rebuilt as it was."""
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    first = file_hashes(validated(bad_curated))
    quarantine = validated(bad_curated) / "quarantine" / "activities.parquet"
    fixed = pq.read_table(quarantine).to_pandas()
    fixed["status"] = "limited"
    pq.write_table(pa.Table.from_pandas(fixed, preserve_index=False), quarantine)
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    assert file_hashes(validated(bad_curated)) == first
    activities = read_table(validated(bad_curated) / "activities.parquet", "activities")
    assert sorted(keys(activities, "commitment_no", "activity_no")) == [(1, 1), (2, 1), (2, 2)]


def test_quarantine_rows_keep_every_ingested_value(bad_curated):
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    quarantine = pq.read_table(validated(bad_curated) / "quarantine" / "activities.parquet").to_pylist()
    ingested = pq.read_table(bad_curated / "ingested" / RID / "activities.parquet").to_pylist()
    assert [{k: v for k, v in row.items() if k not in (CHECK_COLUMN, REASON_COLUMN)} for row in quarantine] == [
        ingested[1]
    ]
    assert ingested[1]["status"] == "started"


def test_reports_taken_out_of_the_ingested_layer_leave_the_validated_one(bad_curated, layers):
    other = {t: df.assign(report_id="ma-autre-2024") for t, df in valid_tables().items()}
    other["reports"]["source_file"] = "ma-autre-2024.txt"
    layers.ingested(bad_curated, other)
    assert validate_curated(bad_curated) == exitcodes.QUARANTINED
    reports = read_table(validated(bad_curated) / "reports.parquet", "reports")
    assert sorted(reports["report_id"]) == ["ma-autre-2024", RID]
    shutil.rmtree(bad_curated / "ingested" / RID)
    assert validate_curated(bad_curated) == exitcodes.OK
    for table in TABLES:
        assert set(read_table(validated(bad_curated) / f"{table}.parquet", table)["report_id"]) == {"ma-autre-2024"}, (
            table
        )
    assert not (validated(bad_curated) / "quarantine").exists()
    record = json.loads((validated(bad_curated) / PROVENANCE_FILE).read_text(encoding="utf-8"))["built_from"]
    assert list(record["reports"]) == ["ma-autre-2024"]


def test_a_partition_without_provenance_is_left_out_with_a_warning(bad_curated, layers, caplog):
    """A partition whose ingest was interrupted (no provenance.json yet) is not validated."""
    other = {t: df.assign(report_id="ma-autre-2024") for t, df in valid_tables().items()}
    layers.ingested(bad_curated, other)
    (bad_curated / "ingested" / RID / PROVENANCE_FILE).unlink()
    with caplog.at_level(logging.WARNING, logger="pipeline.validate"):
        assert validate_curated(bad_curated) == exitcodes.OK
    assert f"{bad_curated / 'ingested' / RID} has no provenance record" in caplog.text
    assert set(read_table(validated(bad_curated) / "activities.parquet", "activities")["report_id"]) == {
        "ma-autre-2024"
    }
    record = json.loads((validated(bad_curated) / PROVENANCE_FILE).read_text(encoding="utf-8"))["built_from"]
    assert list(record["reports"]) == ["ma-autre-2024"]


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_nothing_to_validate_is_a_usage_error(tmp_path, make):
    curated = make(tmp_path)
    before = file_hashes(tmp_path)
    assert validate_curated(curated) == exitcodes.USAGE
    assert file_hashes(tmp_path) == before
    assert not (curated / "validated").exists()


AXES_ROW = {"report_id": [RID], "axis_no": [1], "name": ["Transparence"], "source_line": [10]}


@pytest.mark.parametrize(
    "columns",
    [
        {"report_id": [RID]},  # columns missing
        {**AXES_ROW, "extra": [1]},  # a column too many
        {**AXES_ROW, "axis_no": ["un"]},  # text in an integer column
    ],
)
def test_unreadable_table_is_a_usage_error_and_writes_nothing(tmp_path, layers, columns):
    curated = tmp_path / "curated"
    layers.ingested(curated, valid_tables())
    pq.write_table(pa.table(columns), curated / "ingested" / RID / "axes.parquet")
    before = file_hashes(curated)
    assert validate_curated(curated) == exitcodes.USAGE
    assert file_hashes(curated) == before
    assert not (curated / "validated").exists()


def two_partitions(curated: Path, layers) -> dict[str, pd.DataFrame]:
    """Partitions of :func:`valid_tables` and of a second report; returns the second's tables."""
    other = {t: df.assign(report_id="ma-autre-2024") for t, df in valid_tables().items()}
    other["reports"]["source_file"] = "ma-autre-2024.txt"
    layers.ingested(curated, valid_tables())
    layers.ingested(curated, other)
    return other


def test_partitions_are_combined_in_key_order_with_nullable_dtypes(tmp_path, layers):
    curated = tmp_path / "curated"
    other = two_partitions(curated, layers)
    tables, entries = read_partitions(curated)
    assert sorted(entries) == ["ma-autre-2024", RID]
    for table in TABLES:
        both = conform_table(pd.concat([other[table], valid_tables()[table]], ignore_index=True), table)
        key = list(get_resource(table).primary_key)
        pd.testing.assert_frame_equal(tables[table], both.sort_values(key).reset_index(drop=True), obj=table)


def test_a_partition_file_with_other_column_order_or_integer_width_reads_the_same(tmp_path, layers):
    curated = tmp_path / "curated"
    two_partitions(curated, layers)
    expected, _ = read_partitions(curated)
    path = curated / "ingested" / RID / "activities.parquet"
    table = pq.read_table(path)
    table = table.set_column(2, "activity_no", table["activity_no"].cast(pa.int32()))
    pq.write_table(table.select(list(reversed(table.column_names))), path)
    tables, _ = read_partitions(curated)
    for name in TABLES:
        pd.testing.assert_frame_equal(tables[name], expected[name], obj=name)


def test_a_partition_file_that_is_no_parquet_is_a_usage_error_naming_it(tmp_path, layers, caplog):
    curated = tmp_path / "curated"
    two_partitions(curated, layers)
    path = curated / "ingested" / RID / "indicators.parquet"
    path.write_bytes(b"not parquet")
    before = file_hashes(curated)
    with caplog.at_level(logging.ERROR, logger="pipeline.validate"):
        assert validate_curated(curated) == exitcodes.USAGE
    assert f"Could not open Parquet input source '{path}'" in caplog.text
    assert file_hashes(curated) == before
    assert not (curated / "validated").exists()


# --- the seed ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_curated(seed_ingested, tmp_path_factory) -> Path:
    """A copy of the shared ingested seed, validated (``seed_ingested`` is read-only)."""
    curated = tmp_path_factory.mktemp("validated-seed") / "curated"
    shutil.copytree(seed_ingested, curated)
    assert validate_curated(curated) == exitcodes.OK
    return curated


def test_seed_passes_without_quarantine(seed_curated):
    assert not (seed_curated / "validated" / "quarantine").exists()
    report = json.loads((seed_curated / "validated" / "validation.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 0
    assert {t: (v["rows_in"], v["rows_quarantined"]) for t, v in report["tables"].items()} == {
        "reports": (1, 0),
        "axes": (5, 0),
        "commitments": (22, 0),
        "activities": (147, 0),
        "indicators": (79, 0),
        "published_rates": (22, 0),
        "findings": (report["tables"]["findings"]["rows_in"], 0),
    }


def test_seed_inconsistencies_are_warnings(seed_curated):
    findings = read_table(seed_curated / "validated" / "findings.parquet", "findings")
    mine = findings[findings["stage"] == "validate"]
    assert mine[["finding_no", "code", "record_key"]].values.tolist() == [
        [1, "indicator_count_in_percent", "commitment_no=2,indicator_no=2"],
        [2, "indicator_rate_without_percent", "commitment_no=2,indicator_no=3"],
        [3, "indicator_rate_without_percent", "commitment_no=8,indicator_no=3"],
        [4, "indicator_rate_without_percent", "commitment_no=9,indicator_no=2"],
        [5, "indicator_rate_without_percent", "commitment_no=10,indicator_no=4"],
        [6, "indicator_rate_without_percent", "commitment_no=16,indicator_no=5"],
    ]
    assert (findings["stage"] == "ingest").sum() > 0


# --- incremental validation: the same layer as validating every report -----------------


def _validated_files(curated: Path) -> dict[str, bytes]:
    return file_hashes(validated(curated))


def _validate_from_scratch(curated: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(curated / "ingested", fresh / "ingested")
    validate_curated(fresh)
    return _validated_files(fresh)


@pytest.fixture(scope="module")
def generated_base(tmp_path_factory) -> Path:
    """Six generated reports, damaged (rows quarantined, warnings), ingested and validated."""
    from pipeline.ingest import ingest_reports
    from pipeline.synth import write_reports

    base = tmp_path_factory.mktemp("generated")
    write_reports(base / "raw", 6, 21, 0.6)
    for extra in (base / "raw").glob("*.truth.json"):
        extra.unlink()
    ingest_reports(base / "raw", base / "curated")
    validate_curated(base / "curated")
    return base


@pytest.fixture
def generated_curated(generated_base, tmp_path):
    """A private copy of :func:`generated_base`: (raw, curated)."""
    shutil.copytree(generated_base, tmp_path / "generated")
    return tmp_path / "generated" / "raw", tmp_path / "generated" / "curated"


def test_a_changed_report_alone_is_validated_again_and_the_layer_is_as_from_scratch(
    generated_curated, tmp_path, caplog
):
    from pipeline.ingest import ingest_reports

    raw, curated = generated_curated
    assert _validated_files(curated) == _validate_from_scratch(curated, tmp_path)
    changed = sorted(raw.glob("*.txt"))[2]
    changed.write_text(changed.read_text(encoding="utf-8").replace("Activité", "Activite", 3), encoding="utf-8")
    ingest_reports(raw, curated)
    with caplog.at_level(logging.INFO, logger="pipeline.validate"):
        validate_curated(curated)
    assert "1 report(s) validated again, 5 kept as validated" in caplog.text
    assert _validated_files(curated) == _validate_from_scratch(curated, tmp_path)


def test_a_removed_report_leaves_the_layer_as_from_scratch(generated_curated, tmp_path):
    _, curated = generated_curated
    report = json.loads((validated(curated) / "validation.json").read_text(encoding="utf-8"))
    assert report["failures"], "the generated reports are damaged: something to keep and to drop"
    shutil.rmtree(sorted((curated / "ingested").iterdir())[0])
    validate_curated(curated)
    after = _validated_files(curated)
    assert len(json.loads(after[PROVENANCE_FILE])["built_from"]["reports"]) == 5
    assert after == _validate_from_scratch(curated, tmp_path)


def test_an_edited_validated_file_is_not_reused(generated_curated, tmp_path):
    _, curated = generated_curated
    before = _validated_files(curated)
    path = validated(curated) / "activities.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    validate_curated(curated)
    assert _validated_files(curated) == before


def _rows(pairs: list[tuple[str | None, int]]) -> pa.Table:
    return pa.table(
        {"report_id": pa.array([r for r, _ in pairs], pa.string()), "no": pa.array([n for _, n in pairs], pa.int64())}
    )


@pytest.mark.parametrize(
    ("before", "after", "kept"),
    [
        ([("a", 1), ("a", 2), ("b", 1), ("c", 1), ("d", 1)], [("b", 1), ("b", 2)], {"a", "c", "d"}),
        ([("a", 1), ("b", 1), ("c", 1)], [("a", 1), ("d", 1), ("e", 1), (None, 1), (None, 2)], {"b", "c"}),
        ([("a", 1), ("c", 1), ("c", 1)], [("b", 2), ("b", 2)], {"a"}),  # "b" gone from before; duplicate keys
        ([], [("a", 1)], set()),
    ],
    ids=["one-changed", "several-and-rows-without-report", "a-report-dropped", "nothing-kept"],
)
def test_a_layer_merged_by_runs_of_reports_is_the_layer_sorted_by_key(before, after, kept):
    """The kept rows of the previous layer and the new rows put together report by
    report are the rows a stable sort by the key gives (and in one chunk once combined)."""
    old, new = _rows(before), _rows(after)
    kept_rows = old.filter(pc.is_in(old["report_id"], value_set=pa.array(sorted(kept), pa.string())))
    expected = pa.concat_tables([kept_rows, new]).sort_by([("report_id", "ascending"), ("no", "ascending")])
    assert merge_by_report(old, new, kept).combine_chunks().equals(expected.combine_chunks())


@pytest.mark.parametrize(
    ("before", "after", "kept"),
    [
        ([("b", 1), ("a", 1)], [("c", 1)], {"a", "b"}),  # not in report order
        ([("a", 1), ("b", 1), ("a", 2)], [("c", 1)], {"a", "b"}),  # a report in two runs
        ([("a", 1)], [("a", 2)], {"a"}),  # a report on both sides
    ],
    ids=["unsorted", "split-report", "both-sides"],
)
def test_a_layer_that_cannot_be_merged_by_runs_of_reports_says_so(before, after, kept):
    assert merge_by_report(_rows(before), _rows(after), kept) is None
