"""The release gate (pipeline.gate): rows validated once, errors traced to their report, descriptors checked."""

from __future__ import annotations

import copy
import json

import frictionless
import numpy as np
import pandas as pd
import pytest
from test_publish import frame, frames, write_curated  # noqa: F401 (fixture)

from pipeline import exitcodes
from pipeline.gate import (
    check_keys_carry_report_id,
    check_package_descriptor,
    count_key_rows,
    key_codes,
    schema_resources,
    split_keys,
    unproven_keys,
    validate_rows,
)
from pipeline.publish import DEFAULT_PUBLISHER, publish_packages, report_files
from pipeline.render import render_tables
from pipeline.settings import DEFAULT_NATIONAL_NAME
from schemas import ALL_RESOURCES
from schemas.descriptors import resource_descriptor


def test_every_key_of_the_schemas_carries_the_report_id():
    check_keys_carry_report_id(ALL_RESOURCES)
    lacking = copy.deepcopy({"axes": ALL_RESOURCES["axes"]})
    lacking["axes"]["primary_key"] = ["axis_no"]
    with pytest.raises(ValueError, match="axes: the primary key"):
        check_keys_carry_report_id(lacking)
    unpaired = copy.deepcopy({"commitments": ALL_RESOURCES["commitments"]})
    unpaired["commitments"]["foreign_keys"] = [
        {"fields": ["report_id", "axis_no"], "reference": {"resource": "axes", "fields": ["axis_no", "report_id"]}}
    ]
    with pytest.raises(ValueError, match="does not pair report_id"):
        check_keys_carry_report_id(unpaired)


AXES = [{"report_id": "a", "axis_no": 1, "name": "Axe", "source_line": 1}]
REPORTS = [
    {
        "report_id": r,
        "title": r,
        "language": "fr",
        "source_file": f"{r}.txt",
        "source_sha256": r * 64,
        "source_encoding": "utf-8",
        "line_count": 1,
        "commitment_count": 1,
        "activity_count": 0,
    }
    for r in ("a", "b")
]


def commitment(report_id: str, no: int, axis_no: int | None) -> dict:
    return {
        "report_id": report_id,
        "commitment_no": no,
        "title": "T",
        "axis_no": axis_no,
        "source_line_start": 1,
        "source_line_end": 2,
    }


def axis_key(table_counts):
    return next(c for c in table_counts if c.fk["reference"]["resource"] == "axes")


def test_equal_keys_get_equal_codes_across_tables_and_dtypes():
    left = pd.DataFrame({"report_id": ["a", "a", "b", "b", None], "no": pd.array([1, 2, 1, None, 1], dtype="Int64")})
    right = pd.DataFrame({"rid": ["a", "b", "c"], "n": np.array([2, 1, 1], dtype="int64")})
    rows, known = key_codes(left, ["report_id", "no"], right, ["rid", "n"])
    assert np.isin(rows, known).tolist() == [False, True, True, False, False]
    assert rows[1] == known[0] and rows[2] == known[1] and len(set(known)) == 3


def test_a_key_filled_in_part_is_left_out_only_when_every_complete_key_matches():
    tables = {
        "reports": frame("reports", REPORTS),
        "axes": frame("axes", AXES),
        "commitments": frame(
            "commitments",
            [commitment("a", 1, 1), commitment("a", 2, None), commitment("b", 1, None), commitment("b", 2, 7)],
        ),
    }
    rendered = render_tables(tables)
    counts = count_key_rows(rendered)["commitments"]
    spans = {r: [rendered["commitments"].span(r)] for r in ("a", "b")}
    kept, left_out = split_keys(counts, spans["a"])  # a: one partial row, its complete row matches axis 1
    assert axis_key(counts).fk not in kept and left_out == [(axis_key(counts).fk, 1)]
    kept, left_out = split_keys(counts, spans["b"])  # b: axis 7 does not exist: keep the key, let it fail
    assert axis_key(counts).fk in kept and left_out == []


def test_frictionless_is_given_only_the_foreign_keys_a_value_misses():
    tables = {
        "reports": frame("reports", REPORTS),
        "axes": frame("axes", AXES),
        "commitments": frame("commitments", [commitment("a", 1, 1), commitment("b", 1, 7)]),
    }
    rendered = render_tables(tables)
    counts = count_key_rows(rendered)
    spans = {r: [rendered["commitments"].span(r)] for r in ("a", "b")}
    assert unproven_keys(counts["commitments"], spans["a"]) == []  # axis 1 exists: proven by the count
    assert unproven_keys(counts["commitments"], spans["b"]) == [axis_key(counts["commitments"]).fk]
    declared = {r["name"]: r["schema"]["foreignKeys"] for r in schema_resources(rendered, counts, ["a"])}
    assert declared["commitments"] == [] and declared["axes"] == []
    declared = {r["name"]: r["schema"]["foreignKeys"] for r in schema_resources(rendered, counts, ["a", "b"])}
    assert [fk["reference"]["resource"] for fk in declared["commitments"]] == ["axes"]
    errors = validate_rows(rendered, counts, ["a", "b"])  # frictionless names the row of b
    assert list(errors) == ["b"] and [e["type"] for e in errors["b"]] == ["foreign-key"]


def test_row_errors_are_traced_to_the_report_whose_rows_they_are():
    activities = frames()["activities"].copy()
    activities.loc[activities["activity_no"] == 2, "status"] = "bogus"
    tables = {**frames(), "activities": activities}
    rendered = render_tables(tables)
    errors = validate_rows(rendered, count_key_rows(rendered), ["pan-a", "pan-b"])
    assert list(errors) == ["pan-a"]
    assert [(e["resource"], e["type"], e["field"]) for e in errors["pan-a"]] == [
        ("activities", "constraint-error", "status")
    ]
    assert validate_rows(rendered, count_key_rows(rendered), ["pan-b"]) == {}


def test_each_table_is_checked_alone_with_metadata_built_once_and_left_as_it_was():
    """Valid rows, then a duplicated primary key and a status outside its list, then valid
    rows again: each table's metadata, built once, finds the same errors every time."""
    good = render_tables(frames())
    activities = frames()["activities"]
    activities.loc[activities["activity_no"] == 2, "status"] = "bogus"
    duplicated = pd.concat([activities, activities.iloc[:1]], ignore_index=True)
    bad = render_tables({**frames(), "activities": duplicated})
    for _ in range(2):
        assert validate_rows(good, count_key_rows(good), ["pan-a", "pan-b"]) == {}
        errors = validate_rows(bad, count_key_rows(bad), ["pan-a", "pan-b"])
        assert {r["name"]: r["schema"]["foreignKeys"] for r in schema_resources(bad, count_key_rows(bad), ["pan-a"])}[
            "activities"
        ] == []
        assert sorted((e["resource"], e["type"], e["field"]) for e in errors["pan-a"]) == [
            ("activities", "constraint-error", "status"),
            ("activities", "primary-key", None),
        ]


def test_a_report_descriptor_may_differ_from_the_schema_only_where_reports_differ():
    rendered = render_tables(frames())
    files = report_files("pan-a", rendered, count_key_rows(rendered), None, DEFAULT_PUBLISHER)
    descriptor = json.loads(files["datapackage.json"])
    assert check_package_descriptor(descriptor) == []
    changed = copy.deepcopy(descriptor)
    changed["resources"][0]["schema"]["fields"][0]["type"] = "integer"
    assert [e["message"] for e in check_package_descriptor(changed)] == ["schema differs from the schema's"]
    changed = copy.deepcopy(descriptor)
    changed["resources"][1]["dialect"] = {"delimiter": ";"}
    assert [e["message"] for e in check_package_descriptor(changed)] == ["dialect differs from the schema's"]
    changed = copy.deepcopy(descriptor)
    changed["licenses"] = "libre"
    assert check_package_descriptor(changed) != []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_every_resource_descriptor_of_the_schemas_is_valid_frictionless_metadata(fmt):
    """What lets :func:`check_package_descriptor` compare a package's resources with the
    schema's instead of passing them through frictionless's metadata validation."""
    for table in ALL_RESOURCES:
        descriptor = {
            **resource_descriptor(table, f"data/{table}.{fmt}", fmt),
            "bytes": 10,
            "hash": "sha256:" + "0" * 64,
        }
        report = frictionless.Resource.validate_descriptor(descriptor)
        assert report.valid, (table, report.flatten(["type", "note"]))


def test_the_national_descriptor_is_checked_like_a_reports(tmp_path, write_curated):  # noqa: F811
    curated = write_curated(tmp_path / "curated", frames())
    assert publish_packages(curated, tmp_path / "exports") == exitcodes.OK
    path = tmp_path / "exports" / DEFAULT_NATIONAL_NAME / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    assert len(descriptor["resources"]) == 2 * len(ALL_RESOURCES) and descriptor["sources"]
    assert check_package_descriptor(descriptor) == []
    assert frictionless.Package.validate_descriptor(copy.deepcopy(descriptor)).valid  # the check agrees
    changed = copy.deepcopy(descriptor)
    changed["resources"][2]["schema"]["primaryKey"] = ["report_id"]
    assert [e["message"] for e in check_package_descriptor(changed)] == ["schema differs from the schema's"]
    changed = copy.deepcopy(descriptor)
    changed["sources"] = "un seul"
    assert check_package_descriptor(changed) != []
