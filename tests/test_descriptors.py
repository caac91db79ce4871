"""Frictionless descriptors generated from schemas/: exact output for small tables, and
every table's descriptor accepted by frictionless with the columns of its definition."""

from __future__ import annotations

import frictionless
import pytest

from schemas import ALL_RESOURCES
from schemas.descriptors import CSV_DIALECT, MISSING_VALUES, resource_descriptor, table_schema

REPORT_ID_FIELD = {
    "name": "report_id",
    "type": "string",
    "title": "Identifiant du rapport",
    "title_ar": "معرّف التقرير",
    "description": "Identifiant du rapport : nom du fichier source sans l'extension "
    "(lettres minuscules, chiffres et tirets, 100 caractères au plus).",
    "description_ar": "معرّف التقرير: اسم الملف المصدر دون الامتداد (حروف لاتينية صغيرة وأرقام وشرطات، 100 حرف على الأكثر).",
    "constraints": {"required": True, "pattern": r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 100},
}


def test_table_schema_of_axes_is_written_out_in_full():
    assert table_schema("axes") == {
        "fields": [
            REPORT_ID_FIELD,
            {
                "name": "axis_no",
                "type": "integer",
                "title": "Numéro de l'axe",
                "title_ar": "رقم المحور",
                "description": "Rang de l'axe dans la présentation du plan d'action (à partir de 1).",
                "description_ar": "ترتيب المحور في عرض خطة العمل (ابتداءً من 1).",
                "constraints": {"required": True, "minimum": 1},
            },
            {
                "name": "name",
                "type": "string",
                "title": "Nom",
                "title_ar": "الاسم",
                "description": "Nom de l'axe tel qu'imprimé.",
                "description_ar": "اسم المحور كما ورد في التقرير.",
                "constraints": {"required": True},
            },
            {
                "name": "source_line",
                "type": "integer",
                "title": "Ligne source",
                "title_ar": "سطر المصدر",
                "description": "Numéro (à partir de 1) de la ligne du fichier source d'où vient l'enregistrement.",
                "description_ar": "رقم السطر (ابتداءً من 1) في الملف المصدر الذي جاء منه السجل.",
                "constraints": {"required": True, "minimum": 1},
            },
        ],
        "primaryKey": ["report_id", "axis_no"],
        "foreignKeys": [{"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}}],
        "missingValues": [""],
    }


def test_single_field_primary_key_is_unique_and_nullable_fields_are_not_required():
    fields = {f["name"]: f for f in table_schema("reports")["fields"]}
    assert fields["report_id"]["constraints"] == {**REPORT_ID_FIELD["constraints"], "unique": True}
    assert fields["plan_period"]["constraints"] == {"pattern": r"^\d{4}-\d{4}$"}
    assert fields["source_encoding"].get("constraints") is None
    assert fields["line_count"]["constraints"] == {"required": True, "minimum": 0}


def test_enum_override_and_unit_are_carried_over():
    activities = {f["name"]: f for f in table_schema("activities")["fields"]}
    assert activities["status"]["constraints"] == {
        "required": True,
        "enum": ["not_started", "limited", "substantial", "complete", "unknown"],
    }
    assert activities["band_min_pct"]["unit"] == "%"
    rates = {f["name"]: f for f in table_schema("published_rates")["fields"]}
    assert rates["rate_pct"]["description"] == "Taux d'avancement publié, en pourcentage."
    assert rates["rate_pct"]["constraints"] == {"required": True, "minimum": 0, "maximum": 100}
    findings = {f["name"]: f for f in table_schema("findings")["fields"]}
    assert findings["report_id"]["constraints"] == {"required": True}


def test_composite_foreign_keys_name_the_other_resource():
    assert table_schema("commitments")["foreignKeys"] == [
        {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
        {"fields": ["report_id", "axis_no"], "reference": {"resource": "axes", "fields": ["report_id", "axis_no"]}},
    ]


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_every_table_schema_has_the_defined_columns_and_is_valid_for_frictionless(table):
    descriptor = table_schema(table)
    assert [f["name"] for f in descriptor["fields"]] == ALL_RESOURCES[table]["fields"]
    assert descriptor["primaryKey"] == ALL_RESOURCES[table]["primary_key"]
    assert descriptor["missingValues"] == MISSING_VALUES
    report = frictionless.Schema.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["type", "message"])


def test_csv_resource_is_the_tabular_one_named_after_the_table():
    resource = resource_descriptor("axes", "data/axes.csv", "csv")
    assert resource == {
        "name": "axes",
        "type": "table",
        "path": "data/axes.csv",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": "Axes du plan d'action",
        "title_ar": "محاور خطة العمل",
        "description": "Axes thématiques du plan d'action, dans l'ordre de leur présentation.",
        "description_ar": "المحاور الموضوعاتية لخطة العمل، بترتيب عرضها.",
        "dialect": CSV_DIALECT,
        "schema": table_schema("axes"),
    }


def test_json_resource_has_its_own_name_and_the_same_schema():
    resource = resource_descriptor("axes", "data/axes.json", "json")
    assert resource["name"] == "axes-json"
    assert resource["type"] == "json"
    assert (resource["format"], resource["mediatype"]) == ("json", "application/json")
    assert resource["title"] == "Axes du plan d'action (JSON)"
    assert "dialect" not in resource
    assert resource["schema"] == table_schema("axes")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unsupported format 'xlsx'"):
        resource_descriptor("axes", "data/axes.xlsx", "xlsx")
