"""Hostile and odd values: a clear error, nothing lost, nothing wrong published.

Each test gives a tiny input inline and states the expected output plainly: blank
required text and invisible or garbled text are quarantined by validation (the other
rows kept), weights files out of bounds or unreadable are refused naming the file and
the line, and text a spreadsheet would run as a formula is published with a leading
apostrophe, metadata included.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import frame

from pipeline.compute import (
    MAX_WEIGHT,
    MIN_WEIGHT,
    ConfigError,
    add_weights_errors,
    load_weights_by_report,
    parse_weights,
)
from pipeline.publish import (
    FORMULA_PREFIXES,
    NEUTRALISATION_NOTE,
    ckan_dataset,
    neutralise_formula,
    package_descriptor,
    render_csv,
    table_records,
)
from pipeline.validate import CHECK_COLUMN, REASON_COLUMN, check_schema, conform_table, validate_tables
from schemas import TABLES, table_fields

RID = "ma-hostile-2023"
ARABIC = "خطة العمل الوطنية للحكومة المنفتحة"


def valid_tables() -> dict[str, pd.DataFrame]:
    """One report: one axis, one commitment, two activities, two indicators, one rate, one finding."""
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
                    1,
                    2,
                )
            ],
        ),
        "axes": frame("axes", [(RID, 1, "Transparence", 10)]),
        "commitments": frame(
            "commitments",
            [(RID, 1, "Publication des budgets", 1, "Ministère du budget", None, None, None, 20, 40)],
        ),
        "activities": frame(
            "activities",
            [
                (RID, 1, 1, "Former les agents", "complete", 90.0, 100.0, True, None, 22),
                (RID, 1, 2, "Ouvrir le portail", "limited", 1.0, 59.0, True, None, 25),
            ],
        ),
        "indicators": frame(
            "indicators",
            [
                (RID, 1, 1, "Nombre de rapports publiés", "7", 7.0, None, "count", 30),
                (RID, 1, 2, "Nombre de portails", "1", 1.0, None, "count", 31),
            ],
        ),
        "published_rates": frame("published_rates", [(RID, "plan", 0, 82.0, 5)]),
        "findings": frame(
            "findings",
            [(RID, "ingest", 1, "warning", "check_mark_missing", "aucune case cochée", "activities", None, 45)],
        ),
    }


def quarantine_of(result, table: str, key: str) -> list[tuple]:
    """(key, checks, reasons) of each quarantined row of ``table``."""
    q = result.quarantined[table]
    return [(int(k), c, r) for k, c, r in zip(q[key], q[CHECK_COLUMN], q[REASON_COLUMN])]


def kept(result, table: str, key: str) -> list[int]:
    return [int(k) for k in result.clean[table][key]]


# --- 1. blank required text is missing ----------------------------------------------------


def test_valid_tables_are_all_kept():
    result = validate_tables(valid_tables())
    assert {t: len(q) for t, q in result.quarantined.items() if len(q)} == {}


@pytest.mark.parametrize("blank", ["", " ", " \n\u3000 ", "\u00a0", "\u200b"])
def test_blank_indicator_label_is_quarantined_and_the_other_kept(blank):
    """« • : 7 » gives an indicator with an empty label."""
    tables = valid_tables()
    tables["indicators"].loc[0, "label"] = blank
    result = validate_tables(tables)
    assert quarantine_of(result, "indicators", "indicator_no") == [
        (1, "label_missing", f"« label » est obligatoire mais vide (label={blank!r})")
    ]
    assert kept(result, "indicators", "indicator_no") == [2]
    assert kept(result, "activities", "activity_no") == [1, 2]


def test_blank_activity_title_is_quarantined_and_the_rest_released():
    """« Activité 2 : » gives an activity with an empty title."""
    tables = valid_tables()
    tables["activities"].loc[1, "title"] = ""
    result = validate_tables(tables)
    assert quarantine_of(result, "activities", "activity_no") == [
        (2, "title_missing", "« title » est obligatoire mais vide (title='')")
    ]
    assert kept(result, "activities", "activity_no") == [1]
    assert kept(result, "commitments", "commitment_no") == [1]
    assert kept(result, "indicators", "indicator_no") == [1, 2]


def test_a_null_required_text_keeps_its_reason_without_a_value():
    tables = valid_tables()
    tables["activities"].loc[1, "title"] = None
    result = validate_tables(tables)
    assert quarantine_of(result, "activities", "activity_no") == [
        (2, "title_missing", "« title » est obligatoire mais vide")
    ]


def test_blank_optional_text_is_not_quarantined():
    tables = valid_tables()
    tables["commitments"].loc[0, "problem"] = " "
    result = validate_tables(tables)
    assert kept(result, "commitments", "commitment_no") == [1]


REQUIRED_TEXT = [
    (table, f["name"]) for table in TABLES for f in table_fields(table) if f["type"] == "string" and not f["nullable"]
]


def test_every_table_has_required_text_to_check():
    assert sorted({t for t, _ in REQUIRED_TEXT}) == sorted(TABLES)


@pytest.mark.parametrize(("table", "column"), REQUIRED_TEXT)
def test_every_required_text_column_refuses_blank(table, column):
    df = conform_table(valid_tables()[table], table)
    df.loc[0, column] = "   "
    failures = check_schema(df, table)
    assert (0, f"{column}_missing", "error") in set(zip(failures["row"], failures["check"], failures["severity"]))


# --- 4. invisible and garbled text is never published -------------------------------------


@pytest.mark.parametrize(
    "control",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_bidi_control_quarantines_the_row(control):
    tables = valid_tables()
    tables["activities"].loc[1, "title"] = f"Ouvrir {control}le portail"
    result = validate_tables(tables)
    assert [(k, c) for k, c, _ in quarantine_of(result, "activities", "activity_no")] == [(2, "text_bidi_control")]
    assert kept(result, "activities", "activity_no") == [1]


def test_bidi_override_reason_shows_the_hidden_character():
    tables = valid_tables()
    tables["axes"].loc[0, "name"] = "Transparence \u202etxt.exe"
    result = validate_tables(tables)
    [(_, check, reason)] = quarantine_of(result, "axes", "axis_no")
    assert check == "text_bidi_control"
    assert "\\u202e" in reason


def test_arabic_text_passes_the_hygiene_checks():
    tables = valid_tables()
    tables["activities"].loc[0, "title"] = ARABIC
    tables["commitments"].loc[0, "title"] = f"Publication des budgets ({ARABIC})"
    result = validate_tables(tables)
    assert result.failures.empty
    assert result.clean["activities"]["title"].tolist() == [ARABIC, "Ouvrir le portail"]


def test_mojibake_quarantines_the_row_and_keeps_the_others():
    tables = valid_tables()
    tables["indicators"].loc[1, "label"] = "Nombre de portails de lâ€™administration crÃ©Ã©s"
    result = validate_tables(tables)
    assert [(k, c) for k, c, _ in quarantine_of(result, "indicators", "indicator_no")] == [(2, "text_mojibake")]
    assert kept(result, "indicators", "indicator_no") == [1]


def test_accented_french_is_not_mojibake():
    tables = valid_tables()
    tables["indicators"].loc[1, "label"] = "Nombre d'élèves formés à l'Économie numérique, « déjà » créés"
    result = validate_tables(tables)
    assert result.failures.empty


def test_findings_may_quote_damaged_text():
    """A finding quotes the source as it is, so it is not held to the hygiene checks."""
    tables = valid_tables()
    tables["findings"].loc[0, "message"] = "ligne illisible : « crÃ©Ã© \u202e »"
    result = validate_tables(tables)
    assert result.failures.empty


# --- 2. weights: bounded, readable --------------------------------------------------------

HEADER = "commitment_no,activity_no,weight\n"
KEYS = {(1, 1), (1, 2)}


def test_weight_bounds_are_documented_constants():
    assert (MIN_WEIGHT, MAX_WEIGHT) == (1e-6, 1_000_000)
    # the sum of weight x rate of many activities at MAX_WEIGHT stays far from overflow
    assert math.isfinite(MAX_WEIGHT * 100 * 10**9)


def test_weights_at_the_bounds_are_accepted():
    out = parse_weights(HEADER + f"1,1,{MAX_WEIGHT}\n1,2,0.000001\n", "r.weights.csv", RID, KEYS)
    assert out["weight"].tolist() == [1_000_000.0, 0.000001]


@pytest.mark.parametrize(
    ("weight", "problem"),
    [
        ("1e307", "weight must be between 0.000001 and 1000000 (got '1e307')"),
        ("1e308", "weight must be between 0.000001 and 1000000 (got '1e308')"),
        ("1000000.5", "weight must be between 0.000001 and 1000000 (got '1000000.5')"),
        ("inf", "weight must be between 0.000001 and 1000000 (got 'inf')"),
        ("1e-320", "weight must be between 0.000001 and 1000000 (got '1e-320')"),
        ("-inf", "weight must be a positive number (got '-inf')"),
        ("0", "weight must be a positive number (got '0')"),
        ("NaN", "weight must be a positive number (got 'NaN')"),
    ],
)
def test_weights_out_of_bounds_are_refused_naming_file_and_line(weight, problem):
    with pytest.raises(ConfigError) as caught:
        parse_weights(HEADER + f"1,1,2\n1,2,{weight}\n", "r.weights.csv", RID, KEYS)
    assert (caught.value.path, caught.value.line, caught.value.problem) == ("r.weights.csv", 3, problem)
    assert str(caught.value) == f"r.weights.csv, line 3: {problem}"


def test_a_csv_cell_too_long_for_the_reader_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        parse_weights(HEADER + "1,1," + "9" * 200_000 + "\n", "r.weights.csv", RID, KEYS)
    assert (caught.value.path, caught.value.line) == ("r.weights.csv", 2)
    assert caught.value.problem.startswith("unreadable CSV")


def activities(*report_ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        [(r, 1, a) for r in report_ids for a in (1, 2)], columns=["report_id", "commitment_no", "activity_no"]
    )


@pytest.mark.parametrize(
    "refused",
    [
        "read_bytes",  # the file's mode is 000
        "stat",  # its folder cannot be searched: even Path.is_file() raises
    ],
)
def test_unreadable_weights_file_is_that_reports_error_and_the_others_are_read(tmp_path, monkeypatch, refused):
    locked = tmp_path / "locked.weights.csv"
    locked.write_text(HEADER + "1,1,2\n", encoding="utf-8")
    (tmp_path / "open.weights.csv").write_text(HEADER + "1,2,3\n", encoding="utf-8")
    real = getattr(Path, refused)

    def denied(path: Path, *args, **kwargs):  # simulated: the tests may run as root, who reads anything
        if path.name == locked.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, refused, denied)
    weights, invalid = load_weights_by_report(tmp_path, activities("locked", "open"))
    assert weights[["report_id", "commitment_no", "activity_no", "weight"]].values.tolist() == [["open", 1, 2, 3.0]]
    assert list(invalid) == ["locked"]
    assert str(invalid["locked"]) == f"{locked}: cannot be read (Permission denied)"


def test_weights_path_that_is_not_a_file_is_that_reports_error(tmp_path):
    (tmp_path / "folder.weights.csv").mkdir()
    (tmp_path / "dangling.weights.csv").symlink_to(tmp_path / "nowhere.csv")
    weights, invalid = load_weights_by_report(tmp_path, activities("folder", "dangling", "none"))
    assert weights.empty
    assert {r: e.problem for r, e in invalid.items()} == {
        "dangling": "is not a regular file",
        "folder": "is not a regular file",
    }


def test_an_invalid_weights_file_becomes_an_error_finding():
    """The error finding is what keeps the report from being released (exit 3)."""
    error = ConfigError("raw/r.weights.csv", "weight must be between 0.000001 and 1000000 (got '1e308')", 2)
    findings = frame("findings", [])
    out = add_weights_errors(findings, {RID: error})
    assert out[["report_id", "stage", "severity", "code", "source_line"]].values.tolist() == [
        [RID, "compute", "error", "weights_file_invalid", 2]
    ]
    assert out["message"].iloc[0].startswith("raw/r.weights.csv, line 2: weight must be between")


# --- 3. formulas are neutralised, the text otherwise unchanged ----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2+3 millions de visites", "'-2+3 millions de visites"),
        ("=1+1", "'=1+1"),
        ("+212 5", "'+212 5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\uff1d1+1", "'\uff1d1+1"),  # ＝ full width
        ("\ufe661+1", "'\ufe661+1"),  # ﹦ small
        ("\uff0b1", "'\uff0b1"),  # ＋
        ("\uff0d1", "'\uff0d1"),  # －
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),  # ＠
        ("a-2+3", "a-2+3"),
        (ARABIC, ARABIC),
    ],
)
def test_neutralise_formula_prefixes_and_keeps_the_text(text, expected):
    assert neutralise_formula(text) == expected
    assert neutralise_formula(expected) == expected


def test_a_title_starting_with_minus_is_published_with_its_minus():
    axes = frame("axes", [(RID, 1, "-2+3 millions", 10), (RID, 2, "\uff1dSOMME(A1)", 11)])
    records = table_records(axes, "axes")
    assert [r["name"] for r in records] == ["'-2+3 millions", "'\uff1dSOMME(A1)"]
    assert render_csv(records, "axes").decode("utf-8") == (
        f"report_id,axis_no,name,source_line\n{RID},1,'-2+3 millions,10\n{RID},2,'\uff1dSOMME(A1),11\n"
    )


def test_the_note_names_every_prefix():
    for prefix in FORMULA_PREFIXES:
        if prefix.isprintable():
            assert prefix in NEUTRALISATION_NOTE, prefix
    assert "tabulation" in NEUTRALISATION_NOTE and "retour chariot" in NEUTRALISATION_NOTE
    assert "« -2+3 » est publié « '-2+3 »" in NEUTRALISATION_NOTE


REPORT = {
    "report_id": RID,
    "title": '=HYPERLINK("http://exemple.invalid","Rapport")',
    "plan_period": "2021-2023",
    "as_of": "2023-07",
    "language": "fr",
    "source_file": f"{RID}.txt",
    "source_sha256": "0" * 64,
}


def test_package_and_ckan_titles_and_publisher_are_neutralised():
    descriptor = package_descriptor(REPORT, [], "2023.7.0+000000000000", None, "@Éditeur")
    assert descriptor["title"] == "'" + REPORT["title"]
    assert descriptor["publisher"] == "'@Éditeur"
    assert descriptor["contributors"] == [{"title": "'@Éditeur", "role": "publisher"}]
    assert not descriptor["description"].startswith(FORMULA_PREFIXES)
    assert NEUTRALISATION_NOTE in descriptor["description"]
    ckan = ckan_dataset({**descriptor, "sources": [{"path": f"{RID}.txt", "hash": "sha256:" + "0" * 64}]})
    assert (ckan["title"], ckan["author"]) == ("'" + REPORT["title"], "'@Éditeur")
    assert ckan["notes"] == descriptor["description"]


def test_ckan_neutralises_a_descriptor_it_did_not_build():
    descriptor = {
        "name": RID,
        "title": "-2+3",
        "description": "+ description",
        "version": "0.0.0+0",
        "publisher": "\uff20moi",
        "keywords": [],
        "languages": ["fr"],
        "sources": [{"path": f"{RID}.txt", "hash": "sha256:" + "0" * 64}],
        "resources": [],
    }
    ckan = ckan_dataset(descriptor)
    assert (ckan["title"], ckan["notes"], ckan["author"]) == ("'-2+3", "'+ description", "'\uff20moi")
