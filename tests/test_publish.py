"""Publish stage: packages built from small inline tables (values worked out by hand),
the release rules on disk (validation, refusal, atomic swap, determinism), and the
seed report end to end (frictionless validation, row counts, values)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import frictionless
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import exitcodes
from pipeline import publish as publish_module
from pipeline.fingerprint import stage_code_fingerprint
from pipeline.io import read_table, to_arrow, write_table
from pipeline.layers import built_from, release_inputs
from pipeline.publish import (
    FORMULA_PREFIXES,
    PUBLISHED_DECIMALS,
    build_package,
    check_json_copies,
    ckan_dataset,
    neutralise_formula,
    publish_packages,
    recover_interrupted_release,
    render_csv,
    round_half_up,
    table_records,
    validate_package_dir,
    zip_package,
)
from pipeline.settings import DEFAULT_NATIONAL_NAME, DEFAULT_PUBLISHER
from schemas import ALL_RESOURCES, COMPUTED_TABLES, TABLES, table_fields

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"

RATES_CONFIG = {
    "aggregation": "commitment_mean",
    "progress_pct": {"not_started": 0.0, "limited": 30.0, "substantial": 75.0, "complete": 95.0},
    "weights": {"pan-a": {"source": "equal"}, "pan-b": {"source": "pan-b.weights.csv"}},
}

# Two reports; pan-a has everything, pan-b only its report row and one axis. Rows are
# given out of primary-key order on purpose. Text cells starting with =, +, -, @ or a
# tab must come out with a leading apostrophe.
ROWS: dict[str, list[dict]] = {
    "reports": [
        {
            "report_id": "pan-b",
            "title": "Rapport B",
            "language": "fr",
            "source_file": "pan-b.txt",
            "source_sha256": "b" * 64,
            "source_encoding": "utf-8",
            "line_count": 10,
            "commitment_count": 0,
            "activity_count": 0,
        },
        {
            "report_id": "pan-a",
            "title": "Rapport A",
            "plan_period": "2021-2023",
            "as_of": "2023-07",
            "language": "fr",
            "source_file": "pan-a.txt",
            "source_sha256": "a" * 64,
            "source_encoding": "utf-8",
            "line_count": 100,
            "commitment_count": 2,
            "activity_count": 3,
        },
    ],
    "axes": [
        {"report_id": "pan-a", "axis_no": 2, "name": "Justice ouverte", "source_line": 20},
        {"report_id": "pan-b", "axis_no": 1, "name": "Axe B", "source_line": 5},
        {"report_id": "pan-a", "axis_no": 1, "name": "Transparence", "source_line": 10},
    ],
    "commitments": [
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "title": "Justice",
            "axis_no": 2,
            "problem": "p",
            "solution": "s",
            "expected_result": "r",
            "source_line_start": 41,
            "source_line_end": 50,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "title": "Publier les budgets",
            "axis_no": 1,
            "responsible_body": "Ministère des Finances",
            "problem": '=HYPERLINK("http://x")',
            "solution": "+ plus",
            "source_line_start": 30,
            "source_line_end": 40,
        },
    ],
    "activities": [
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "activity_no": 1,
            "title": "\tTabulée",
            "status": "limited",
            "band_min_pct": 1.0,
            "band_max_pct": 59.0,
            "is_status_checked": True,
            "actions_text": "ok",
            "source_line": 42,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "activity_no": 2,
            "title": "Rapport",
            "status": "unknown",
            "band_min_pct": 0.0,
            "band_max_pct": 100.0,
            "is_status_checked": False,
            "source_line": 33,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "activity_no": 1,
            "title": "Analyse",
            "status": "complete",
            "band_min_pct": 90.0,
            "band_max_pct": 100.0,
            "is_status_checked": True,
            "actions_text": "@cmd\nsuite, avec virgule",
            "source_line": 31,
        },
    ],
    "indicators": [
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "indicator_no": 1,
            "label": "Taux de publication",
            "raw_value": "100%",
            "value": 100.0,
            "unit": "percent",
            "kind": "rate",
            "source_line": 45,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "indicator_no": 1,
            "label": "Nombre de rapports",
            "raw_value": "-5",
            "value": -5.0,
            "kind": "count",
            "source_line": 35,
        },
    ],
    "published_rates": [
        {"report_id": "pan-a", "scope": "plan", "scope_no": 0, "rate_pct": 82.0, "source_line": 5},
        {"report_id": "pan-a", "scope": "commitment", "scope_no": 2, "rate_pct": 50.0, "source_line": 9},
        {"report_id": "pan-a", "scope": "commitment", "scope_no": 1, "rate_pct": 65.0, "source_line": 8},
    ],
    "findings": [
        {
            "report_id": "Bad Name",
            "stage": "ingest",
            "finding_no": 1,
            "severity": "error",
            "code": "report_id_invalid",
            "message": "nom de fichier invalide",
        },
        {
            "report_id": "pan-a",
            "stage": "ingest",
            "finding_no": 1,
            "severity": "warning",
            "code": "check_mark_missing",
            "message": "coche absente",
            "table_name": "activities",
            "record_key": "commitment_no=1,activity_no=2",
            "source_line": 33,
        },
    ],
    "commitment_progress": [
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "axis_no": 1,
            "activity_count": 2,
            "unknown_activity_count": 1,
            "rate_pct": 95.0,
            "rate_min_pct": 45.0,
            "rate_max_pct": 97.5,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "axis_no": 2,
            "activity_count": 1,
            "unknown_activity_count": 0,
            "rate_pct": 30.0,
            "rate_min_pct": 1.0,
            "rate_max_pct": 59.0,
        },
    ],
    "axis_progress": [
        {
            "report_id": "pan-a",
            "axis_no": 1,
            "commitment_count": 1,
            "rate_pct": 95.0,
            "rate_min_pct": 45.0,
            "rate_max_pct": 97.5,
        },
        {
            "report_id": "pan-a",
            "axis_no": 2,
            "commitment_count": 1,
            "rate_pct": 30.0,
            "rate_min_pct": 1.0,
            "rate_max_pct": 59.0,
        },
    ],
    "plan_progress": [
        {
            "report_id": "pan-a",
            "commitment_count": 2,
            "activity_count": 3,
            "rate_pct": 62.5,
            "rate_min_pct": 23.0,
            "rate_max_pct": 78.25,
            "aggregation": "commitment_mean",
        },
    ],
    "reconciliation": [
        {
            "report_id": "pan-a",
            "scope": "plan",
            "scope_no": 0,
            "published_rate_pct": 82.0,
            "rate_pct": 62.5,
            "rate_min_pct": 23.0,
            "rate_max_pct": 78.25,
            "within_bounds": False,
            "gap_pct_points": 19.5,
        },
        {
            "report_id": "pan-a",
            "scope": "commitment",
            "scope_no": 1,
            "published_rate_pct": 65.0,
            "rate_pct": 95.0,
            "rate_min_pct": 45.0,
            "rate_max_pct": 97.5,
            "within_bounds": True,
            "gap_pct_points": -30.0,
        },
    ],
}
CURATED = ["reports", "axes", "commitments", "activities", "indicators", "published_rates", "findings"]
COMPUTED = ["commitment_progress", "axis_progress", "plan_progress", "reconciliation"]


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """``rows`` as ``table`` with the dtypes read_table gives (missing columns null)."""
    columns = [f["name"] for f in table_fields(table)]
    return to_arrow(pd.DataFrame(rows, columns=columns), table).to_pandas()


def frames(tables=CURATED + COMPUTED, **changes: list[dict]) -> dict[str, pd.DataFrame]:
    return {t: frame(t, changes.get(t, ROWS[t])) for t in tables}


def curated_writer(layers):
    """``write(curated, tables, rates_config)``: the validated layer from the curated tables
    of ``tables``, then a complete computed layer from its computed ones (a plain function,
    for the fixtures of a wider scope than :func:`write_curated`)."""

    def write(curated: Path, tables: dict[str, pd.DataFrame], rates_config: dict | None = RATES_CONFIG) -> Path:
        validated = layers.validated(curated, {t: df for t, df in tables.items() if t in TABLES})
        layers.computed(curated, {t: df for t, df in tables.items() if t in COMPUTED_TABLES}, rates_config, validated)
        return curated

    return write


@pytest.fixture
def write_curated(layers):
    """:func:`curated_writer`, as a fixture."""
    return curated_writer(layers)


def write_and_publish(write, root: Path, tables: dict[str, pd.DataFrame]) -> tuple[Path, Path]:
    """``root/curated`` written from ``tables`` (``write``: :func:`curated_writer`'s), then
    published from scratch into ``root/exports``."""
    curated = write(root / "curated", tables)
    assert publish_packages(curated, root / "exports") == exitcodes.OK
    return curated, root / "exports"


def same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return a.keys() == b.keys() and all(a[t].equals(b[t]) for t in a)


class FirstReleases:
    """Curated layers written from tables and their first publish from scratch, each
    built once (per test module and xdist worker) under a name: a test that starts from
    one takes a copy of it (:meth:`copy`) instead of writing and publishing it again. A
    copy starts where a publish of its own would: the release records hold paths
    relative to their folder, sizes and SHA-256s (no absolute path, inode or time), and
    ``copytree`` keeps the files' modes and times."""

    def __init__(self, root: Path, write) -> None:
        self.root, self.write = root, write
        self.tables: dict[str, dict[str, pd.DataFrame]] = {}

    def copy(self, dest: Path, tables: dict[str, pd.DataFrame] | None = None, name: str = "frames"):
        """``dest/curated`` and ``dest/exports``: a copy of the first release of ``tables``
        (default :func:`frames`), built the first time ``name`` is asked for."""
        tables = frames() if tables is None else tables
        folder = self.root / name
        if name not in self.tables:
            write_and_publish(self.write, folder, tables)
            self.tables[name] = tables
        assert same_tables(self.tables[name], tables), f"{name} names other tables"
        curated = shutil.copytree(folder / "curated", dest / "curated")
        return curated, shutil.copytree(folder / "exports", dest / "exports")


@pytest.fixture(scope="module")
def first_release(tmp_path_factory, layers) -> FirstReleases:
    """The first releases the tests of a module start from (:class:`FirstReleases`)."""
    return FirstReleases(tmp_path_factory.mktemp("first-releases"), curated_writer(layers))


def read_tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# Neutralising spreadsheet formulas.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+212 5", "'+212 5"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("'=x", "'=x"),
        ("", ""),
    ],
)
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


@given(st.text())
def test_neutralised_text_never_starts_a_formula_and_keeps_the_text(text):
    out = neutralise_formula(text)
    assert not out.startswith(FORMULA_PREFIXES)
    assert out in (text, "'" + text)


# Pure builders.


def test_table_records_types_values_and_neutralises_text_only():
    rows = frame("indicators", ROWS["indicators"])
    assert table_records(rows, "indicators") == [
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "indicator_no": 1,
            "label": "Taux de publication",
            "raw_value": "100%",
            "value": 100.0,
            "unit": "percent",
            "kind": "rate",
            "source_line": 45,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "indicator_no": 1,
            "label": "Nombre de rapports",
            "raw_value": "'-5",
            "value": -5.0,
            "unit": None,
            "kind": "count",
            "source_line": 35,
        },
    ]


def test_nullable_integer_column_stays_integer_and_empty_text_is_missing():
    findings = frame("findings", ROWS["findings"] + [{**ROWS["findings"][1], "finding_no": 2, "record_key": ""}])
    assert findings["source_line"].dtype == "float64"  # a null in the column
    records = table_records(findings, "findings")
    assert [r["source_line"] for r in records] == [None, 33, 33]
    assert isinstance(records[1]["source_line"], int)
    assert [r["record_key"] for r in records] == [None, "commitment_no=1,activity_no=2", None]


def test_render_csv_header_quoting_missing_booleans_and_rounded_computed_numbers():
    rows = frame("reconciliation", ROWS["reconciliation"])
    assert render_csv(table_records(rows, "reconciliation"), "reconciliation").decode("utf-8") == (
        "report_id,scope,scope_no,published_rate_pct,rate_pct,rate_min_pct,rate_max_pct,within_bounds,gap_pct_points\n"
        "pan-a,plan,0,82.0,62.5,23.0,78.3,false,19.5\n"
        "pan-a,commitment,1,65.0,95.0,45.0,97.5,true,-30.0\n"
    )


def test_package_holds_only_the_report_rows_sorted_by_primary_key():
    files = build_package("pan-a", frames(), RATES_CONFIG)
    assert sorted(files) == sorted(
        ["datapackage.json", "ckan.json"] + [f"data/{t}.{fmt}" for t in CURATED + COMPUTED for fmt in ("csv", "json")]
    )
    assert files["data/axes.csv"].decode("utf-8") == (
        "report_id,axis_no,name,source_line\npan-a,1,Transparence,10\npan-a,2,Justice ouverte,20\n"
    )
    assert files["data/published_rates.csv"].decode("utf-8") == (
        "report_id,scope,scope_no,rate_pct,source_line\n"
        "pan-a,commitment,1,65.0,8\npan-a,commitment,2,50.0,9\npan-a,plan,0,82.0,5\n"
    )
    assert files["data/findings.csv"].decode("utf-8") == (
        "report_id,stage,finding_no,severity,code,message,table_name,record_key,source_line\n"
        'pan-a,ingest,1,warning,check_mark_missing,coche absente,activities,"commitment_no=1,activity_no=2",33\n'
    )
    commitments = files["data/commitments.csv"].decode("utf-8").splitlines()
    assert commitments[1] == (
        'pan-a,1,Publier les budgets,1,Ministère des Finances,"\'=HYPERLINK(""http://x"")",\'+ plus,,30,40'
    )
    assert commitments[2] == "pan-a,2,Justice,2,,p,s,r,41,50"


def test_json_resource_is_an_array_of_objects_in_schema_order():
    files = build_package("pan-a", frames(), RATES_CONFIG)
    activities = json.loads(files["data/activities.json"])
    assert activities == [
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "activity_no": 1,
            "title": "Analyse",
            "status": "complete",
            "band_min_pct": 90.0,
            "band_max_pct": 100.0,
            "is_status_checked": True,
            "actions_text": "'@cmd\nsuite, avec virgule",
            "source_line": 31,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 1,
            "activity_no": 2,
            "title": "Rapport",
            "status": "unknown",
            "band_min_pct": 0.0,
            "band_max_pct": 100.0,
            "is_status_checked": False,
            "actions_text": None,
            "source_line": 33,
        },
        {
            "report_id": "pan-a",
            "commitment_no": 2,
            "activity_no": 1,
            "title": "'\tTabulée",
            "status": "limited",
            "band_min_pct": 1.0,
            "band_max_pct": 59.0,
            "is_status_checked": True,
            "actions_text": "ok",
            "source_line": 42,
        },
    ]
    assert list(activities[0]) == ALL_RESOURCES["activities"]["fields"]
    assert files["data/axes.json"].decode("utf-8") == (
        '[\n  {\n    "report_id": "pan-a",\n    "axis_no": 1,\n'
        '    "name": "Transparence",\n    "source_line": 10\n  },\n'
        '  {\n    "report_id": "pan-a",\n    "axis_no": 2,\n'
        '    "name": "Justice ouverte",\n    "source_line": 20\n  }\n]\n'
    )


def test_no_published_text_cell_starts_a_formula():
    files = build_package("pan-a", frames(), RATES_CONFIG)
    neutralised = 0
    for table in CURATED + COMPUTED:
        text_fields = {f["name"] for f in table_fields(table) if f["type"] == "string"}
        for row in csv.DictReader(io.StringIO(files[f"data/{table}.csv"].decode("utf-8"))):
            for name in text_fields:
                assert not row[name].startswith(FORMULA_PREFIXES), (table, name, row[name])
                neutralised += row[name].startswith("'")
        for row in json.loads(files[f"data/{table}.json"]):
            for name in text_fields:
                assert not (row[name] or "").startswith(FORMULA_PREFIXES), (table, name, row[name])
    # commitment 1's problem and solution, activity titles and actions_text, raw_value -5
    assert neutralised == 5


def test_package_metadata_in_french_derived_from_the_input():
    files = build_package("pan-a", frames(), RATES_CONFIG)
    descriptor = json.loads(files["datapackage.json"])
    assert descriptor["name"] == "pan-a"
    assert descriptor["title"] == "Rapport A"
    assert re.fullmatch(r"2023\.7\.0\+[0-9a-f]{12}", descriptor["version"])
    assert descriptor["licenses"] == [
        {
            "name": "ODbL-1.0",
            "path": "https://opendatacommons.org/licenses/odbl/1-0/",
            "title": "Open Data Commons Open Database License 1.0",
        }
    ]
    assert descriptor["sources"] == [
        {"title": "Rapport d'auto-évaluation : Rapport A", "path": "pan-a.txt", "hash": "sha256:" + "a" * 64}
    ]
    assert descriptor["contributors"] == [
        {"title": "Plateforme nationale du gouvernement ouvert (Maroc)", "role": "publisher"}
    ]
    assert descriptor["publisher"] == DEFAULT_PUBLISHER == publish_module.DEFAULT_PUBLISHER  # still re-exported
    assert descriptor["languages"] == ["fr", "ar"]
    assert "2021-2023" in descriptor["keywords"]
    assert descriptor["rates_method"] == {
        "aggregation": "commitment_mean",
        "progress_pct": RATES_CONFIG["progress_pct"],
        "weights": {"pan-a": {"source": "equal"}},
    }
    assert "apostrophe" in descriptor["description"]
    names = [r["name"] for r in descriptor["resources"]]
    assert names == CURATED + COMPUTED + [f"{t}-json" for t in CURATED + COMPUTED]
    csv_resource = descriptor["resources"][names.index("activities")]
    assert csv_resource["bytes"] == len(files["data/activities.csv"])
    assert csv_resource["schema"]["foreignKeys"] == [
        {
            "fields": ["report_id", "commitment_no"],
            "reference": {"resource": "commitments", "fields": ["report_id", "commitment_no"]},
        }
    ]


def test_version_follows_the_data_and_a_report_without_as_of_gets_zero():
    version_a = json.loads(build_package("pan-a", frames(), RATES_CONFIG)["datapackage.json"])["version"]
    changed = frames(axes=[{**ROWS["axes"][0], "name": "Justice"}] + ROWS["axes"][1:])
    version_changed = json.loads(build_package("pan-a", changed, RATES_CONFIG)["datapackage.json"])["version"]
    assert version_a != version_changed
    assert version_a.split("+")[0] == version_changed.split("+")[0] == "2023.7.0"
    version_b = json.loads(build_package("pan-b", frames(), RATES_CONFIG)["datapackage.json"])["version"]
    assert version_b.startswith("0.0.0+")


def test_absent_computed_tables_and_their_foreign_keys_are_left_out():
    files = build_package("pan-a", frames(CURATED + ["plan_progress"]), None)
    descriptor = json.loads(files["datapackage.json"])
    assert [r["name"] for r in descriptor["resources"] if r["format"] == "csv"] == CURATED + ["plan_progress"]
    assert "data/reconciliation.csv" not in files
    assert descriptor["rates_method"] == {"aggregation": "commitment_mean"}
    curated_only = json.loads(build_package("pan-a", frames(CURATED), None)["datapackage.json"])
    assert "rates_method" not in curated_only


def test_commitment_without_axis_is_released_with_the_key_left_out(tmp_path, write_curated):
    commitments = [ROWS["commitments"][0], {**ROWS["commitments"][1], "axis_no": None}]
    curated = write_curated(tmp_path / "curated", frames(commitments=commitments))
    exports = tmp_path / "exports"
    assert publish_packages(curated, exports, report_ids={"pan-a"}) == exitcodes.OK
    descriptor = json.loads((exports / "pan-a" / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "commitments")
    assert [fk["reference"]["resource"] for fk in resource["schema"]["foreignKeys"]] == ["reports"]
    assert resource["description"].endswith(
        "La clé étrangère (report_id, axis_no) vers axes n'est pas déclarée dans ce paquet : "
        "1 enregistrement(s) ne la renseignent qu'en partie."
    )
    assert frictionless.validate(str(exports / "pan-a" / "datapackage.json")).valid


def test_build_package_needs_exactly_one_report_row():
    with pytest.raises(ValueError, match="0 rows for report 'pan-z'"):
        build_package("pan-z", frames(), RATES_CONFIG)


def test_ckan_dataset_for_package_create():
    descriptor = json.loads(build_package("pan-a", frames(), RATES_CONFIG)["datapackage.json"])
    dataset = ckan_dataset(descriptor)
    assert (dataset["name"], dataset["title"], dataset["license_id"]) == ("pan-a", "Rapport A", "odc-odbl")
    assert dataset["notes"] == descriptor["description"]
    assert {"name": "gouvernement ouvert"} in dataset["tags"]
    assert all(re.fullmatch(r"[\w \-.]{2,100}", t["name"]) for t in dataset["tags"])  # CKAN tag rule
    first = dataset["resources"][0]
    assert (first["name"], first["format"], first["url"]) == ("Rapports (CSV)", "CSV", "data/reports.csv")
    assert first["description"] == ALL_RESOURCES["reports"]["description"]
    # The JSON copies stay in the zip; on the portal, JSON is the package descriptor only.
    assert [r["url"] for r in dataset["resources"] if r["format"] == "JSON"] == ["datapackage.json"]
    assert {"key": "source_sha256", "value": "a" * 64} in dataset["extras"]


def test_zip_is_deterministic_sorted_and_timestamp_free():
    files = build_package("pan-a", frames(), RATES_CONFIG)
    data = zip_package(files)
    assert data == zip_package(dict(reversed(list(files.items()))))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == sorted(files)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.read("data/axes.csv") == files["data/axes.csv"]


# Release on disk.


RELEASE = ["ckan.json", "data", "datapackage.json", "index.html", "release.json"]


def test_publish_writes_valid_packages_with_the_curated_values(tmp_path, first_release):
    _, exports = first_release.copy(tmp_path)
    assert sorted(p.name for p in exports.iterdir()) == sorted([DEFAULT_NATIONAL_NAME, "pan-a", "pan-b"])
    for report_id in ("pan-a", "pan-b"):
        assert sorted(p.name for p in (exports / report_id).iterdir()) == sorted(
            RELEASE + [f"{report_id}.zip", f"{report_id}.xlsx"]
        )
    report = frictionless.validate(str(exports / "pan-a" / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "message"])
    rows = {task.name: task.stats.get("rows", 0) for task in report.tasks if task.type == "table"}
    assert rows == {
        "reports": 1,
        "axes": 2,
        "commitments": 2,
        "activities": 3,
        "indicators": 2,
        "published_rates": 3,
        "findings": 1,
        "commitment_progress": 2,
        "axis_progress": 2,
        "plan_progress": 1,
        "reconciliation": 2,
        "activity_progress": 0,
        "status_summary": 0,
        "missing_rate_range": 0,
    }
    with (exports / "pan-a" / "data" / "indicators.csv").open(encoding="utf-8", newline="") as f:
        indicators = list(csv.DictReader(f))
    assert indicators[0] == {
        "report_id": "pan-a",
        "commitment_no": "1",
        "indicator_no": "1",
        "label": "Nombre de rapports",
        "raw_value": "'-5",
        "value": "-5.0",
        "unit": "",
        "kind": "count",
        "source_line": "35",
    }
    plan = json.loads((exports / "pan-a" / "data" / "plan_progress.json").read_text(encoding="utf-8"))
    assert plan == [
        {
            "report_id": "pan-a",
            "commitment_count": 2,
            "activity_count": 3,
            "rate_pct": 62.5,
            "rate_min_pct": 23.0,
            "rate_max_pct": 78.3,
            "aggregation": "commitment_mean",
        }
    ]
    b = json.loads((exports / "pan-b" / "data" / "axes.json").read_text(encoding="utf-8"))
    assert b == [{"report_id": "pan-b", "axis_no": 1, "name": "Axe B", "source_line": 5}]
    package = {
        k: v
        for k, v in read_tree(exports / "pan-a").items()
        if k not in ("pan-a.zip", "pan-a.xlsx", "index.html", "release.json")
    }
    with zipfile.ZipFile(exports / "pan-a" / "pan-a.zip") as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == package
    assert not list(exports.glob(".*"))


def test_release_record_lists_every_file_and_what_it_was_built_from(tmp_path, write_curated):
    curated = write_curated(tmp_path / "curated", frames())
    exports = tmp_path / "exports"
    assert publish_packages(curated, exports, publisher="Ministère X") == exitcodes.OK
    release = json.loads((exports / "pan-a" / "release.json").read_text(encoding="utf-8"))
    assert release["report_id"] == "pan-a"
    expected = release_inputs(
        built_from(curated / "computed"), "pan-a", stage_code_fingerprint("publish"), "Ministère X"
    )
    assert release["built_from"] == expected
    assert expected["publisher"] == "Ministère X" and "source_sha256" in expected
    files = {k: v for k, v in read_tree(exports / "pan-a").items() if k != "release.json"}
    assert release["files"] == {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in sorted(files.items())
    }
    assert "pan-a.zip" in release["files"]


def test_republishing_the_same_input_gives_identical_bytes(tmp_path, first_release):
    curated, first = first_release.copy(tmp_path)  # published from the same tables
    second = tmp_path / "second"
    assert publish_packages(curated, second) == exitcodes.OK
    assert read_tree(first) == read_tree(second)
    assert publish_packages(curated, first) == exitcodes.OK  # over an existing release
    assert read_tree(first) == read_tree(second)


def test_report_ids_limits_what_is_published(tmp_path, write_curated):
    curated = write_curated(tmp_path / "curated", frames())
    exports = tmp_path / "exports"
    assert publish_packages(curated, exports, report_ids={"pan-b", "pan-z"}) == exitcodes.OK
    assert sorted(p.name for p in exports.iterdir()) == sorted([DEFAULT_NATIONAL_NAME, "pan-b"])
    national = json.loads((exports / DEFAULT_NATIONAL_NAME / "datapackage.json").read_text(encoding="utf-8"))
    assert national["reports"] == ["pan-b"]
    assert sorted(p.name for p in (exports / "pan-b").iterdir()) == sorted(RELEASE + ["pan-b.zip", "pan-b.xlsx"])


def test_releases_of_reports_no_longer_computed_are_retracted(tmp_path, write_curated, first_release, caplog):
    curated, exports = first_release.copy(tmp_path)
    released_b = read_tree(exports / "pan-b")
    only_a = {t: df[df["report_id"] != "pan-b"] for t, df in frames().items()}
    write_curated(curated, only_a)
    assert publish_packages(curated, exports, report_ids={"pan-a"}) == exitcodes.OK  # a partial publish keeps it
    assert (exports / "pan-b").is_dir()
    with caplog.at_level(logging.WARNING, logger="pipeline.publish"):
        assert publish_packages(curated, exports) == exitcodes.OK
    assert "report pan-b is no longer in raw/" in caplog.text
    assert sorted(p.name for p in exports.iterdir()) == sorted(["_retracted", DEFAULT_NATIONAL_NAME, "pan-a"])
    assert read_tree(exports / "_retracted" / "pan-b") == released_b


def test_invalid_package_is_refused_and_the_previous_release_stays(tmp_path, caplog, first_release):
    curated, exports = first_release.copy(tmp_path)
    released = read_tree(exports)

    broken = [dict(r) for r in ROWS["activities"]]
    broken[1]["status"] = "bogus"  # activity (1, 2): third CSV line, row number 3
    write_table(frame("activities", broken), "activities", curated / "validated" / "activities.parquet")
    with caplog.at_level(logging.ERROR, logger="pipeline.publish"):
        assert publish_packages(curated, exports) == exitcodes.RELEASE_REFUSED

    errors_file = exports / "pan-a.errors.json"
    recorded = json.loads(errors_file.read_text(encoding="utf-8"))
    assert recorded["report_id"] == "pan-a" and recorded["released"] is False
    assert [(e["resource"], e["type"], e["row"], e["field"]) for e in recorded["errors"]] == [
        ("activities", "constraint-error", 3, "status")
    ]
    assert "package pan-a refused" in caplog.text and "constraint-error" in caplog.text
    after = read_tree(exports)
    after.pop("pan-a.errors.json")
    national = f"{DEFAULT_NATIONAL_NAME}/"
    assert {k: v for k, v in after.items() if not k.startswith(national)} == {
        k: v for k, v in released.items() if not k.startswith(national)
    }
    record = json.loads(after[f"{national}release.json"])
    assert record["left_out"] == {"pan-a": "refused"} and list(record["validated_rows"]) == ["pan-b"]
    assert not list(exports.glob(".*"))

    write_table(frame("activities", ROWS["activities"]), "activities", curated / "validated" / "activities.parquet")
    assert publish_packages(curated, exports) == exitcodes.OK
    assert not errors_file.exists()


def test_foreign_key_violation_is_refused(tmp_path, write_curated):
    orphan = {**ROWS["activities"][0], "commitment_no": 9}
    curated = write_curated(tmp_path / "curated", frames(activities=ROWS["activities"] + [orphan]))
    exports = tmp_path / "exports"
    assert publish_packages(curated, exports, report_ids={"pan-a"}) == exitcodes.RELEASE_REFUSED
    errors = json.loads((exports / "pan-a.errors.json").read_text(encoding="utf-8"))["errors"]
    assert [(e["resource"], e["type"], e["row"]) for e in errors] == [("activities", "foreign-key", 5)]
    assert not (exports / "pan-a").exists()
    assert sorted(p.name for p in exports.iterdir()) == ["pan-a.errors.json"]


def test_a_report_whose_rates_could_not_be_computed_is_not_released(tmp_path, layers, caplog):
    tables = frames()
    validated = layers.validated(tmp_path / "curated", {t: df for t, df in tables.items() if t in TABLES})
    error = frame(
        "findings",
        [
            {
                "report_id": "pan-a",
                "stage": "compute",
                "finding_no": 1,
                "severity": "error",
                "code": "weights_file_invalid",
                "message": "pan-a.weights.csv: illisible",
            }
        ],
    )
    computed = {t: df for t, df in tables.items() if t in COMPUTED_TABLES}
    layers.computed(tmp_path / "curated", computed, RATES_CONFIG, validated, findings=error)
    exports = tmp_path / "exports"
    with caplog.at_level(logging.ERROR, logger="pipeline.publish"):
        assert publish_packages(tmp_path / "curated", exports) == exitcodes.INPUT_ERROR
    assert "report pan-a is not released: pan-a.weights.csv: illisible" in caplog.text
    assert sorted(p.name for p in exports.iterdir()) == sorted([DEFAULT_NATIONAL_NAME, "pan-b"])


@pytest.mark.parametrize("computed", ["missing", "interrupted"])
def test_publish_needs_a_complete_computed_layer(tmp_path, caplog, write_curated, computed):
    """Without a computed layer whose provenance is written (compute never ran, or was
    interrupted), nothing is published and the releases in place stay as they are."""
    curated = write_curated(tmp_path / "curated", frames())
    exports = tmp_path / "exports"
    assert publish_packages(curated, exports) == exitcodes.OK
    released = read_tree(exports)
    write_table(
        frame("axes", [{**ROWS["axes"][0], "name": "Autre nom"}] + ROWS["axes"][1:]),
        "axes",
        curated / "validated" / "axes.parquet",
    )
    if computed == "missing":
        shutil.rmtree(curated / "computed")
    else:
        (curated / "computed" / "provenance.json").unlink()
    with caplog.at_level(logging.ERROR, logger="pipeline.publish"):
        assert publish_packages(curated, exports) == exitcodes.USAGE
    assert "has no complete computed layer" in caplog.text
    assert read_tree(exports) == released
    assert publish_packages(curated, tmp_path / "elsewhere") == exitcodes.USAGE
    assert not (tmp_path / "elsewhere").exists()


def test_json_copy_must_hold_exactly_the_validated_csv_rows(tmp_path):
    package = tmp_path / "pan-a"
    for path, data in build_package("pan-a", frames(), RATES_CONFIG).items():
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_bytes(data)
    assert validate_package_dir(package) == []
    activities = json.loads((package / "data" / "activities.json").read_text(encoding="utf-8"))
    activities[0]["status"] = "bogus"
    (package / "data" / "activities.json").write_text(json.dumps(activities), encoding="utf-8")
    csv_rows = {t: len(ROWS[t]) for t in CURATED + COMPUTED}
    csv_rows.update(reports=1, axes=2, findings=1)
    errors = check_json_copies(package, csv_rows)
    assert [(e["resource"], e["type"], e["row"], e["field"]) for e in errors] == [
        ("activities-json", "json-differs-from-csv", 2, "status")
    ]


def test_interrupted_release_is_tidied(tmp_path):
    exports = tmp_path / "exports"
    (exports / ".old-pan-a.x1").mkdir(parents=True)
    (exports / ".old-pan-a.x1" / "datapackage.json").write_text("{}")
    (exports / ".tmp-pan-a.x2").mkdir()
    (exports / ".tmp-pan-a-b.x3").mkdir()
    recover_interrupted_release(exports, "pan-a")
    assert sorted(p.name for p in exports.iterdir()) == [".tmp-pan-a-b.x3", "pan-a"]
    assert (exports / "pan-a" / "datapackage.json").read_text() == "{}"


# The seed report, end to end.


@pytest.fixture(scope="module")
def seed_exports(seed_computed, tmp_path_factory) -> tuple[Path, Path]:
    exports = tmp_path_factory.mktemp("exports")
    assert publish_packages(seed_computed, exports) == exitcodes.OK
    return seed_computed, exports / SEED.stem


def _parse_csv_cell(text: str, field_type: str):
    if text == "":
        return None
    return {"integer": int, "number": float, "boolean": lambda v: {"true": True, "false": False}[v]}.get(
        field_type, str
    )(text)


def _curated_table(curated: Path, table: str) -> pd.DataFrame:
    """What the package of ``table`` comes from: the validated or computed layer; for
    ``findings``, both (the database's findings table holds the same)."""
    if table in COMPUTED_TABLES:
        return read_table(curated / "computed" / f"{table}.parquet", table)
    df = read_table(curated / "validated" / f"{table}.parquet", table)
    if table == "findings":
        df = pd.concat([df, read_table(curated / "computed" / "findings.parquet", table)], ignore_index=True)
    return df


def _curated_rows(curated: Path, table: str) -> list[dict]:
    df = _curated_table(curated, table)
    df = df[df["report_id"] == SEED.stem].sort_values(ALL_RESOURCES[table]["primary_key"])
    out = []
    for record in df.astype(object).to_dict("records"):
        row = {}
        for f in table_fields(table):
            value = record[f["name"]]
            value = None if pd.isna(value) else value
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                value = "'" + value
            if value is not None and f["type"] == "number" and table in COMPUTED_TABLES:
                value = round_half_up(float(value), PUBLISHED_DECIMALS)
            row[f["name"]] = (
                None if value is None else {"integer": int, "number": float}.get(f["type"], lambda v: v)(value)
            )
        out.append(row)
    return out


def test_seed_package_passes_frictionless_with_curated_row_counts(seed_exports):
    curated, package = seed_exports
    report = frictionless.validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "message"])
    rows = {task.name: task.stats.get("rows", 0) for task in report.tasks if task.type == "table"}
    assert set(rows) == set(ALL_RESOURCES)
    for table, count in rows.items():
        df = _curated_table(curated, table)
        assert count == int((df["report_id"] == SEED.stem).sum()), table
    assert rows["commitments"] == 22
    stages = {r["stage"] for r in json.loads((package / "data" / "findings.json").read_text(encoding="utf-8"))}
    assert stages == {"ingest", "validate", "compute"}
    with duckdb.connect(str(curated / "computed" / "pgo.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM findings").fetchall() == [(rows["findings"],)]
    assert sorted(p.name for p in package.iterdir()) == sorted(RELEASE + [f"{SEED.stem}.zip", f"{SEED.stem}.xlsx"])


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_seed_csv_and_json_values_equal_the_curated_tables(seed_exports, table):
    curated, package = seed_exports
    expected = _curated_rows(curated, table)
    types = {f["name"]: f["type"] for f in table_fields(table)}
    with (package / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        from_csv = [{k: _parse_csv_cell(v, types[k]) for k, v in row.items()} for row in csv.DictReader(f)]
    from_json = json.loads((package / "data" / f"{table}.json").read_text(encoding="utf-8"))
    assert from_csv == expected
    assert from_json == expected


def test_swap_directory_replaces_a_release_without_a_moment_where_it_is_missing(tmp_path):
    from pipeline.publish import exchange_paths, swap_directory

    target, new = tmp_path / "pan-a", tmp_path / ".tmp-pan-a.1"
    for folder, text in ((target, "old"), (new, "new")):
        folder.mkdir()
        (folder / "datapackage.json").write_text(text, encoding="utf-8")
    swap_directory(new, target)
    assert (target / "datapackage.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pan-a"]
    # The exchange is one system call where the system offers it (Linux): both paths exist throughout.
    other = tmp_path / ".tmp-pan-a.2"
    other.mkdir()
    (other / "datapackage.json").write_text("newer", encoding="utf-8")
    if exchange_paths(other, target):
        assert (target / "datapackage.json").read_text(encoding="utf-8") == "newer"
        assert (other / "datapackage.json").read_text(encoding="utf-8") == "new"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (78.25, 1, 78.3),
        (81.7357142857143, 1, 81.7),
        (-2.857142857142861, 1, -2.9),
        (-0.04, 1, 0.0),
        (90.0, 1, 90.0),
        (0.05, 1, 0.1),
    ],
)
def test_round_half_up(value, decimals, expected):
    rounded = round_half_up(value, decimals)
    assert rounded == expected and str(rounded) == str(expected)
