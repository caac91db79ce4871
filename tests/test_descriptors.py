"""Outputs generated from the definitions of schemas/ (frictionless descriptors, DuckDB
DDL, Arrow schemas): exact output for small tables, every table's descriptor accepted by
frictionless and its DDL by DuckDB; and definitions naming what does not exist refused
when they are loaded."""

from __future__ import annotations

import re

import duckdb
import frictionless
import pytest

from schemas import ALL_RESOURCES, PACKAGE, DefinitionError, Package, get_resource
from schemas.descriptors import CSV_DIALECT, MISSING_VALUES, resource_descriptor, table_schema

REPORT_ID_FIELD = {
    "name": "report_id",
    "type": "string",
    "title": "Identifiant du rapport",
    "title_ar": "معرّف التقرير",
    "description": "Identifiant du rapport : nom du fichier source sans l'extension "
    "(lettres minuscules, chiffres et tirets, 100 caractères au plus).",
    "description_ar": "معرّف التقرير: اسم الملف المصدر دون الامتداد (حروف لاتينية صغيرة وأرقام وشرطات، 100 حرف على "
    "الأكثر).",
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


# --- the other outputs of the same definitions: DuckDB, Arrow ----------------------------


def test_ddl_of_axes_is_written_out_in_full():
    assert get_resource("axes").to_sql() == (
        'CREATE TABLE "axes" (\n'
        '    "report_id" VARCHAR NOT NULL,\n'
        '    "axis_no" BIGINT NOT NULL,\n'
        '    "name" VARCHAR NOT NULL,\n'
        '    "source_line" BIGINT NOT NULL,\n'
        '    PRIMARY KEY ("report_id", "axis_no")\n'
        ");"
    )


def test_nullable_columns_have_no_not_null():
    ddl = get_resource("commitments").to_sql()
    assert '    "axis_no" BIGINT,\n' in ddl
    assert '    "source_line_start" BIGINT NOT NULL,\n' in ddl


def test_every_table_is_created_in_duckdb_with_its_comments():
    with duckdb.connect(":memory:") as con:
        for resource in PACKAGE.resources.values():
            con.execute(resource.to_sql())
            for statement in resource.to_sql_comments():
                con.execute(statement)
        columns = con.sql(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'reports' ORDER BY ordinal_position"
        ).fetchall()
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'axes' AND column_name = 'name'"
        ).fetchall()
    assert comment == [("Nom de l'axe tel qu'imprimé.",)]  # the description opens with the title
    assert columns[:3] == [
        ("report_id", "VARCHAR", "NO"),
        ("title", "VARCHAR", "NO"),
        ("plan_period", "VARCHAR", "YES"),
    ]
    assert [c[0] for c in columns] == ALL_RESOURCES["reports"]["fields"]


def test_arrow_schema_of_axes():
    schema = get_resource("axes").to_pyarrow()
    assert [(f.name, str(f.type), f.nullable) for f in schema] == [
        ("report_id", "string", False),
        ("axis_no", "int64", False),
        ("name", "string", False),
        ("source_line", "int64", False),
    ]
    assert schema.field("name").metadata == {b"title": b"Nom", b"description": "Nom de l'axe tel qu'imprimé.".encode()}
    assert schema.metadata[b"table"] == b"axes"


# --- the definitions are checked when they are loaded --------------------------------------

TINY_FIELDS = {
    "report_id": {"type": "string", "title": "Rapport", "description": "Identifiant."},
    "axis_no": {"type": "integer", "title": "Axe", "description": "Numéro."},
}


def tiny_resource(**changes) -> dict:
    resource = {
        "title": "Axes",
        "title_ar": "محاور",
        "description": "Axes.",
        "description_ar": "محاور.",
        "fields": ["report_id", "axis_no"],
        "required": [],
        "primary_key": ["report_id", "axis_no"],
        "foreign_keys": [],
        "field_overrides": {},
    }
    return resource | changes


def test_tiny_definitions_load():
    package = Package.from_dicts(TINY_FIELDS, {"axes": tiny_resource()}, {})
    assert package.tables == ["axes"]
    assert [f.nullable for f in package.get_resource("axes").fields] == [False, False]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"primary_key": ["report_id", "axis"]},
            "resource 'axes': primary_key names ['axis'], which are not in its fields",
        ),
        (
            {"fields": ["report_id", "axis_no", "weight"]},
            "fields names ['weight'], which are not in the field dictionary",
        ),
        ({"required": ["title"]}, "required names ['title'], which are not in its fields"),
        ({"field_overrides": {"name": {"description": "x"}}}, "field_overrides names ['name']"),
        ({"field_overrides": {"axis_no": {"type": "number"}}}, "override of 'axis_no' has keys ['type']"),
        (
            {"foreign_keys": [{"fields": ["report_id"], "reference": {"resource": "report", "fields": ["report_id"]}}]},
            "resource 'axes': foreign key ['report_id'] refers to 'report', which is not a resource",
        ),
        (
            {"foreign_keys": [{"fields": ["report_id"], "reference": {"resource": "axes", "fields": ["id"]}}]},
            "foreign key ['report_id'] refers to ['id'], which are not fields of 'axes'",
        ),
        (
            {"foreign_keys": [{"fields": ["rid"], "reference": {"resource": "axes", "fields": ["report_id"]}}]},
            "foreign key names ['rid'], which are not in its fields",
        ),
    ],
)
def test_a_key_or_name_that_does_not_exist_is_refused_when_loading(changes, message):
    with pytest.raises(DefinitionError, match=re.escape(message)):
        Package.from_dicts(TINY_FIELDS, {"axes": tiny_resource(**changes)}, {})


def test_a_field_of_unknown_type_or_constraint_is_refused():
    with pytest.raises(DefinitionError, match="field 'axis_no': type 'int' is not one of"):
        Package.from_dicts({**TINY_FIELDS, "axis_no": {**TINY_FIELDS["axis_no"], "type": "int"}}, {}, {})
    bad = {**TINY_FIELDS["axis_no"], "constraints": {"min": 1}}
    with pytest.raises(DefinitionError, match=re.escape("field 'axis_no': unknown constraints ['min']")):
        Package.from_dicts({**TINY_FIELDS, "axis_no": bad}, {}, {})
