"""The pandera schemas are generated from the table definitions, and their checks do what they say;
a computed table is checked against its definition (``schemas.check_computed_table``)."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.findings import Finding
from schemas import STATUS_VALUES, TABLES, check_computed_table, table_fields
from schemas.checks import (
    _TEXT_CHECKS,
    TEXT_CHECKS,
    ComputedTableError,
    TableShapeError,
    build_schema,
    failing_texts,
    text_failures,
)
from schemas.pandera_dtypes import Text


def checks_by_name(schema, column: str) -> dict:
    """A column's checks by name, the checks its text check stands for included."""
    checks = {c.name: c for c in schema.columns[column].checks}
    text = checks.pop(TEXT_CHECKS, None)
    return {**checks, **dict.fromkeys(schema.metadata["text_checks"].get(column, []), text)}


def failing_rows(schema, df: pd.DataFrame) -> dict[str, list[int]]:
    """Check name (or pandera's own check) -> sorted row positions that fail it."""
    try:
        schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as err:
        out: dict[str, set[int]] = {}
        for case in err.failure_cases.itertuples():
            if case.check_number is not None and not pd.isna(case.check_number):
                owner = schema.columns[case.column].checks if case.schema_context == "Column" else schema.checks
                name = owner[int(case.check_number)].name
            else:
                name = case.check
            names = [name]
            if name == TEXT_CHECKS:
                names = text_failures(schema.metadata["text_checks"][case.column], case.failure_case)
            for name in names:
                out.setdefault(name, set()).add(int(case.index))
        return {k: sorted(v) for k, v in out.items()}
    return {}


@pytest.mark.parametrize("table", TABLES)
def test_columns_come_from_the_table_definition(table):
    schema = build_schema(table)
    fields = table_fields(table)
    assert list(schema.columns) == [f["name"] for f in fields]
    assert {n: c.nullable for n, c in schema.columns.items()} == {f["name"]: f["nullable"] for f in fields}
    dtypes = {"string": Text(), "integer": "Int64", "number": "float64", "boolean": "boolean"}
    expected = {f["name"]: pa.Column(dtypes[f["type"]]).dtype for f in fields}
    assert {n: c.dtype for n, c in schema.columns.items()} == expected
    assert schema.strict is True


def test_constraints_become_checks():
    activities = build_schema("activities")
    status = checks_by_name(activities, "status")["status_not_in_vocabulary"]
    assert status.statistics == {"allowed_values": STATUS_VALUES}
    band = checks_by_name(activities, "band_min_pct")["band_min_pct_out_of_range"]
    assert (band.statistics["min_value"], band.statistics["max_value"]) == (0, 100)
    line = checks_by_name(activities, "source_line")["source_line_out_of_range"]
    assert line.statistics == {"min_value": 1}
    report_id = checks_by_name(activities, "report_id")["report_id_bad_format"]
    assert report_id.statistics == {"pattern": r"^[a-z0-9]+(?:-[a-z0-9]+)*$"}


def test_field_overrides_are_applied():
    """published_rates.rate_pct gets its 0-100 range from the resource's override."""
    rate = checks_by_name(build_schema("published_rates"), "rate_pct")["rate_pct_out_of_range"]
    assert (rate.statistics["min_value"], rate.statistics["max_value"]) == (0, 100)
    assert "report_id_bad_format" not in build_schema("findings").metadata["checks"]


def test_primary_key_is_unique_and_required():
    schema = build_schema("activities")
    assert schema.unique == ["report_id", "commitment_no", "activity_no"]
    assert schema.report_duplicates == "all"
    assert not any(schema.columns[c].nullable for c in schema.unique)


def test_every_check_has_a_name_severity_and_message():
    for table in TABLES:
        schema = build_schema(table)
        registry = schema.metadata["checks"]
        named = [name for column in schema.columns for name in checks_by_name(schema, column)]
        assert set(named + [c.name for c in schema.checks]) <= set(registry)
        for entry in registry.values():
            assert entry["severity"] in ("error", "warning")
            assert entry["message"]


def severities(table: str) -> dict[str, str]:
    return {name: entry["severity"] for name, entry in build_schema(table).metadata["checks"].items()}


def test_warning_checks_are_distinguishable():
    warnings = sorted(name for name, severity in severities("indicators").items() if severity == "warning")
    assert warnings == [
        "indicator_count_in_percent",
        "indicator_rate_without_percent",
        "text_list_marker",
        "text_markup",
    ]
    assert "warning" not in severities("findings").values()
    assert severities("activities")["band_contradicts_status"] == "error"
    assert severities("activities")["text_control_characters"] == "error"


def test_text_checks_cover_free_text_only():
    commitments = build_schema("commitments")
    assert "text_markup" in checks_by_name(commitments, "problem")
    assert "text_markup" not in checks_by_name(commitments, "report_id")
    activities = build_schema("activities")
    assert "text_markup" not in checks_by_name(activities, "status")
    findings = build_schema("findings")
    assert all("text_markup" not in checks_by_name(findings, column) for column in findings.columns)


def activity_rows(**changes) -> pd.DataFrame:
    rows = [
        ("r-1", 1, 1, "Formation", "complete", 90.0, 100.0, True, "Ateliers tenus\nGuide publié", 10),
        ("r-1", 1, 2, "Portail", "limited", 1.0, 59.0, True, None, 20),
        ("r-1", 1, 3, "Étude", "unknown", 0.0, 100.0, False, None, 30),
    ]
    cols = [f["name"] for f in table_fields("activities")]
    df = pd.DataFrame(rows, columns=cols)
    for (row, col), value in changes.items():
        df.loc[row, col] = value
    return df.astype(
        {"commitment_no": "Int64", "activity_no": "Int64", "source_line": "Int64", "is_status_checked": "boolean"}
    )


def test_valid_activities_pass():
    assert failing_rows(build_schema("activities"), activity_rows()) == {}


def test_activity_status_and_band_checks():
    df = activity_rows()
    df.loc[0, "status"] = "started"
    df.loc[1, ["band_min_pct", "band_max_pct"]] = [60.0, 90.0]
    df.loc[2, "band_max_pct"] = 120.0
    assert failing_rows(build_schema("activities"), df) == {
        "status_not_in_vocabulary": [0],
        "band_contradicts_status": [1, 2],
        "band_max_pct_out_of_range": [2],
    }


def test_duplicate_key_fails_every_row_sharing_it():
    df = activity_rows()
    df.loc[2, "activity_no"] = 1
    assert failing_rows(build_schema("activities"), df) == {"multiple_fields_uniqueness": [0, 2]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Formation des formateurs", {}),
        ("Formation - suite", {}),
        ("- Formation", {"text_list_marker": [0]}),
        ("•Formation", {"text_list_marker": [0]}),
        ("Ateliers\n- Guide", {"text_list_marker": [0]}),
        ("Formation <u>des</u> formateurs", {"text_markup": [0]}),
        ("Formation />", {"text_markup": [0]}),
        (r"Taux de 50\%", {"text_markup": [0]}),
        (r"\textbf{Formation}", {"text_markup": [0]}),
        ("a < b et c > d", {}),
        ("Ateliers\nGuide", {}),
        ("Formation\x07", {"text_control_characters": [0]}),
        ("Formation\tdes", {"text_control_characters": [0]}),
        ("ActivitÃ©", {"text_mojibake": [0]}),
        ("Ateliers\u202e", {"text_bidi_control": [0]}),
        ("- Formation <b>x</b>\x07", {"text_list_marker": [0], "text_markup": [0], "text_control_characters": [0]}),
    ],
)
def test_text_hygiene(text, expected):
    df = activity_rows()
    df.loc[0, "actions_text"] = text
    assert failing_rows(build_schema("activities"), df) == expected


def indicator_rows(*rows) -> pd.DataFrame:
    cols = [f["name"] for f in table_fields("indicators")]
    data = [
        ("r-1", 1, i, label, raw, value, unit, kind, 10 + i)
        for i, (label, raw, value, unit, kind) in enumerate(rows, start=1)
    ]
    return pd.DataFrame(data, columns=cols).astype(
        {"commitment_no": "Int64", "indicator_no": "Int64", "source_line": "Int64", "value": "float64"}
    )


def test_indicator_checks():
    df = indicator_rows(
        ("Nombre de rapports", "7", 7.0, None, "count"),  # 0: fine
        ("Taux de réalisation", "60%", 60.0, "percent", "rate"),  # 1: fine
        ("Nombre de sessions", "-3", -3.0, None, "count"),  # 2: negative
        ("Taux de couverture", "120%", 120.0, "percent", "rate"),  # 3: above 100 %
        ("Nombre d'administrations", "100%", 100.0, "percent", "count"),  # 4: count in percent
        ("Taux de traitement", "54", 54.0, None, "rate"),  # 5: rate without percent
        ("Nombre de visites", "1 428 574", None, None, "count"),  # 6: number not read
        ("Autre indicateur", "en cours", None, None, "other"),  # 7: text: fine
        ("Taux de satisfaction", "élevé", None, None, "rate"),  # 8: not a number: no percent expected
        ("Nombre de guides", "1500", 1500.0, None, "count"),  # 9: fine, above 100 but not a percent
    )
    assert failing_rows(build_schema("indicators"), df) == {
        "indicator_value_negative": [2],
        "indicator_percent_above_100": [3],
        "indicator_count_in_percent": [4],
        "indicator_rate_without_percent": [5],
        "indicator_value_unread": [6],
    }


def test_published_rates_checks():
    cols = [f["name"] for f in table_fields("published_rates")]
    rows = [
        ("r-1", "plan", 0, 82.0, 5),
        ("r-1", "plan", 1, 80.0, 6),
        ("r-1", "commitment", 1, 120.0, 7),
        ("r-1", "region", 2, 50.0, 8),
        ("r-2", "plan", 0, 70.0, 5),
    ]
    df = pd.DataFrame(rows, columns=cols).astype({"scope_no": "Int64", "source_line": "Int64"})
    assert failing_rows(build_schema("published_rates"), df) == {
        "plan_rate_duplicated": [0, 1],
        "rate_pct_out_of_range": [2],
        "scope_not_in_vocabulary": [3],
    }


# --- computed tables -------------------------------------------------------------------


def axis_progress(*rows) -> pd.DataFrame:
    """axis_progress rows as DuckDB gives them: plain int64 and float64 columns."""
    cols = ["report_id", "axis_no", "commitment_count", "rate_pct", "rate_min_pct", "rate_max_pct"]
    return pd.DataFrame(rows, columns=cols).astype({"axis_no": "int64", "commitment_count": "int64"})


def test_a_valid_computed_table_has_no_failure():
    df = axis_progress(
        ("r-1", 1, 2, 50.0, 30.0, 70.0),
        ("r-1", 2, 0, None, 0.0, 100.0),  # no commitment: no rate, interval 0-100
    )
    assert check_computed_table("axis_progress", df) == []


def test_a_computed_table_breaking_its_definition_gives_one_finding_per_row_and_check():
    df = axis_progress(
        ("r-1", 1, 2, 50.0, 30.0, 70.0),
        ("r-1", 2, 1, 120.0, 30.0, 70.0),  # rate above 100
        ("r-2", 1, 1, 40.0, 30.0, 70.0),
        ("r-2", 1, 1, 40.0, 30.0, 70.0),  # key repeated
    )
    duplicate = "clé primaire (report_id, axis_no) en double : toutes les lignes de la clé sont mises en quarantaine"
    assert check_computed_table("axis_progress", df) == [
        (
            "r-1",
            Finding(
                "error",
                "computed_table_invalid",
                "table calculée « axis_progress », contrôle rate_pct_out_of_range : "
                "« rate_pct » hors de l'intervalle 0-100 (rate_pct=120)",
                "axis_progress",
                "axis_no=2",
            ),
        ),
        *[
            (
                "r-2",
                Finding(
                    "error",
                    "computed_table_invalid",
                    f"table calculée « axis_progress », contrôle duplicate_primary_key : "
                    f"{duplicate} (report_id='r-2', axis_no=1)",
                    "axis_progress",
                    "axis_no=1",
                ),
            )
        ]
        * 2,
    ]


def test_an_integer_column_with_nulls_read_as_floats_is_conformed_first():
    """DuckDB gives an integer column holding a null as float64; its values are still integers."""
    cols = [f["name"] for f in table_fields("commitment_progress")]
    df = pd.DataFrame([("r-1", 1, 1.0, 3, 0, 50.0, 40.0, 60.0), ("r-1", 2, None, 0, 0, None, 0.0, 100.0)], columns=cols)
    assert df["axis_no"].dtype == "float64"
    assert check_computed_table("commitment_progress", df) == []


def test_a_computed_table_failure_can_raise():
    df = axis_progress(("r-1", 1, 2, 50.0, 80.0, -5.0))
    with pytest.raises(ComputedTableError, match=r"computed table axis_progress: 1 failure\(s\): r-1: .*rate_max_pct"):
        check_computed_table("axis_progress", df, raise_on_failure=True)


def test_computed_table_check_refuses_what_it_cannot_check():
    with pytest.raises(ValueError, match="'activities' is not a computed table"):
        check_computed_table("activities", pd.DataFrame())
    with pytest.raises(TableShapeError, match=r"columns missing \['rate_max_pct'\], unexpected \[\]"):
        check_computed_table("axis_progress", axis_progress().drop(columns="rate_max_pct"))
    no_report = axis_progress((None, 1, 2, 50.0, 30.0, 70.0))
    with pytest.raises(ComputedTableError, match="report_id_missing"):
        check_computed_table("axis_progress", no_report)


def test_a_text_failing_several_checks_is_reported_under_each_and_a_blank_title_as_missing():
    """A column's text checks run as one pandera check; the records say which ones failed."""
    from schemas.checks import schema_failures

    df = activity_rows()
    df.loc[0, "actions_text"] = "<b>Ateliers</b>\x07"
    df.loc[1, "title"] = " \u200b "
    records = [(r["row"], r["check"], r["severity"]) for r in schema_failures(build_schema("activities"), df)]
    assert records == [
        (0, "text_control_characters", "error"),
        (0, "text_markup", "warning"),
        (1, "title_missing", "error"),
    ]
    assert text_failures(["text_mojibake", "title_missing"], 3) == ["text_mojibake", "title_missing"]
    assert text_failures(["text_markup"], None) == []


#: Pieces of text each hygiene check finds, and ordinary text around them.
_HYGIENE_PIECES = ["<b>", "</u>", "/>", "\\textbf{", "\\%", "Ã©", "â€™", "ï»¿", "\x85", "\x07", "\t", "\u202e", "- "]
_HYGIENE_PIECES += ["\n• ", "\uf0b7", "a", "é", " ", "\n", "<", ">", "-", "*"]


@given(st.lists(st.sampled_from(_HYGIENE_PIECES), max_size=6).map("".join) | st.text(max_size=12))
def test_a_text_the_first_look_passes_passes_every_hygiene_check(text):
    """``failing_texts`` searches check by check only the texts with a character a problem
    involves or a list marker: it finds what the checks one by one find."""
    names = [name for name, *_ in _TEXT_CHECKS]
    one_by_one = [name for name, *_, wrong in _TEXT_CHECKS if wrong.search(text)]
    assert text_failures(names, text) == one_by_one
    assert failing_texts(names, [text]) == ([text] if one_by_one else [])
