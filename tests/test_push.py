"""Tests for pipeline.push (``pgo push``) and the bilingual metadata it carries.

Two parts:

* without a portal (every ``make test``): the Arabic beside the French in ``schemas/``,
  the package's title and metadata, the payload's validation, the plan computed
  against portal states given as dicts, and the command's refusals;
* the round trip against a real CKAN 2.9.11 (marker ``ckan``, run by ``make test-ckan``,
  which sets the portal up and passes it in ``PGO_CKAN_URL``, ``PGO_CKAN_ORG`` and
  ``CKAN_API_TOKEN``): push the seed's release, read it back, download every file,
  push again, push a changed release, fail on purpose.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import exitcodes
from pipeline.publish import (
    DATA_DICTIONARY_COLUMNS,
    ckan_dataset,
    package_descriptor,
    package_title,
    publish_packages,
    render_data_dictionary_csv,
)
from pipeline.push import (
    PATH_KEY,
    PushError,
    load_release,
    missing_arabic,
    plan_push,
    push_packages,
    validate_payload,
)
from schemas import ALL_RESOURCES, table_fields

REPO = Path(__file__).resolve().parents[1]
SEED_ID = "ma-pan-2021-2023-autoevaluation-2023-07"
ARABIC = re.compile(r"[\u0600-\u06ff]")
LATIN_WORD = re.compile(r"[A-Za-zÀ-ÿ]{4,}")


def _arabic_text(text: object) -> bool:
    return isinstance(text, str) and bool(ARABIC.search(text))


# --- Arabic beside the French in schemas/ ------------------------------------------------


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_every_table_has_its_arabic_title_and_description(table):
    resource = ALL_RESOURCES[table]
    for key in ("title_ar", "description_ar"):
        assert _arabic_text(resource.get(key)), f"table {table} has no Arabic {key} in schemas/resources.py"
    # a title in Arabic, not a transliteration or a copy of the French one
    assert not LATIN_WORD.search(resource["title_ar"]), resource["title_ar"]
    assert resource["title_ar"] != resource["title"]


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_every_field_has_its_arabic_title_and_description(table):
    for field in table_fields(table):
        for key in ("title_ar", "description_ar"):
            assert _arabic_text(field.get(key)), f"{table}.{field['name']} has no Arabic {key} in schemas/fields.py"
        assert field["title_ar"] != field["title"]


def test_a_field_override_of_the_french_description_overrides_the_arabic_one_too():
    for table, resource in ALL_RESOURCES.items():
        for name, override in resource.get("field_overrides", {}).items():
            for french, arabic in (("description", "description_ar"), ("title", "title_ar")):
                assert (french in override) == (arabic in override), (
                    f"{table}.{name}: override {french} and {arabic} together"
                )


def test_the_arabic_vocabulary_is_the_administrations():
    assert ALL_RESOURCES["commitments"]["title_ar"] == "الالتزامات"
    assert ALL_RESOURCES["activities"]["title_ar"] == "الأنشطة"
    assert ALL_RESOURCES["indicators"]["title_ar"] == "المؤشرات"
    titles = {f["name"]: f["title_ar"] for f in table_fields("activities")}
    assert titles["status"] == "الحالة"


# --- The package's metadata ---------------------------------------------------------------

REPORT = {
    "report_id": SEED_ID,
    "title": "Rapport d'auto-évaluation du Plan d'Action National du Gouvernement Ouvert 2021 – 2022",
    "plan_period": "2021-2023",
    "as_of": "2023-07",
    "language": "fr",
    "source_file": f"{SEED_ID}.txt",
    "source_sha256": "0" * 64,
}


def test_the_title_takes_the_period_the_pipeline_retains_and_the_cover_wording_is_kept():
    assert (
        package_title(REPORT) == "Rapport d'auto-évaluation du Plan d'Action National du Gouvernement Ouvert 2021-2023"
    )
    assert package_title({**REPORT, "title": "Rapport A"}) == "Rapport A"
    assert package_title({**REPORT, "plan_period": None}) == REPORT["title"]
    descriptor = package_descriptor(REPORT, [], "2023.7.0+000000000000", None, "Éditeur")
    assert descriptor["title"].endswith("2021-2023")
    assert descriptor["title_ar"] == "تقرير التقييم الذاتي لخطة العمل الوطنية للحكومة المنفتحة 2021-2023"
    assert descriptor["report"] == {"title": REPORT["title"], "plan_period": "2021-2023", "as_of": "2023-07"}
    assert "« 2021 – 2022 »" in descriptor["description"] and "plan_period_inconsistent" in descriptor["description"]
    assert "«2021 – 2022»" in descriptor["description_ar"]
    assert descriptor["languages"] == ["fr", "ar"]
    ckan = ckan_dataset({**descriptor, "sources": [{"path": f"{SEED_ID}.txt", "hash": "sha256:" + "0" * 64}]})
    extras = {e["key"]: e["value"] for e in ckan["extras"]}
    assert extras["report_title"] == REPORT["title"]
    assert extras["plan_period"] == "2021-2023"
    assert extras["language"] == "fr,ar"


def test_no_period_note_when_the_cover_agrees():
    descriptor = package_descriptor({**REPORT, "title": "Rapport 2021-2023"}, [], "0.0.0+0", None, "Éditeur")
    assert "plan_period_inconsistent" not in descriptor["description"]


@pytest.fixture(scope="module")
def seed_release(tmp_path_factory, seed_computed) -> Path:
    """The seed's release, published from the computed layer (exports folder)."""
    exports = tmp_path_factory.mktemp("exports")
    assert publish_packages(seed_computed, exports) == exitcodes.OK
    return exports


def test_the_seed_package_is_bilingual_everywhere(seed_release):
    descriptor = json.loads((seed_release / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["title"] == "Rapport d'auto-évaluation du Plan d'Action National du Gouvernement Ouvert 2021-2023"
    assert "2021 – 2022" in descriptor["report"]["title"]
    for resource in descriptor["resources"]:
        assert _arabic_text(resource["title_ar"]) and _arabic_text(resource["description_ar"]), resource["name"]
        for field in resource["schema"]["fields"]:
            assert _arabic_text(field["title_ar"]), (resource["name"], field["name"])
    assert any(_arabic_text(k) for k in descriptor["keywords"])
    assert missing_arabic(load_release(seed_release, SEED_ID)) == []


def test_ckan_json_lists_the_csv_files_the_dictionary_the_zip_and_the_descriptor(seed_release):
    ckan = json.loads((seed_release / SEED_ID / "ckan.json").read_text(encoding="utf-8"))
    urls = [r["url"] for r in ckan["resources"]]
    tables = list(ALL_RESOURCES)
    assert urls == [f"data/{t}.csv" for t in tables] + ["data-dictionary.csv", f"{SEED_ID}.zip", "datapackage.json"]
    assert not any(u.endswith(".json") and u.startswith("data/") for u in urls)  # the JSON copies are in the zip
    assert ckan["title_translated"]["fr"] == ckan["title"]
    assert _arabic_text(ckan["title_translated"]["ar"]) and _arabic_text(ckan["notes_translated"]["ar"])
    extras = {e["key"]: e["value"] for e in ckan["extras"]}
    assert extras["title_ar"] == ckan["title_translated"]["ar"]
    assert extras["notes_ar"] == ckan["notes_translated"]["ar"]
    for resource in ckan["resources"]:
        assert _arabic_text(resource["name_ar"]) and _arabic_text(resource["description_ar"]), resource["url"]
    assert "owner_org" not in ckan  # given at push time (--org)


def test_the_data_dictionary_has_one_row_per_column_in_both_languages(seed_release):
    descriptor = json.loads((seed_release / SEED_ID / "datapackage.json").read_text(encoding="utf-8"))
    data = render_data_dictionary_csv(descriptor)
    assert data == render_data_dictionary_csv(copy.deepcopy(descriptor))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == DATA_DICTIONARY_COLUMNS
    assert len(rows) == sum(len(table_fields(t)) for t in ALL_RESOURCES)
    status = next(r for r in rows if r["table"] == "activities" and r["field"] == "status")
    assert (status["title"], status["title_ar"], status["required"]) == ("Statut", "الحالة", "true")
    assert json.loads(status["constraints"])["enum"][0] == "not_started"
    ckan = json.loads((seed_release / SEED_ID / "ckan.json").read_text(encoding="utf-8"))
    entry = next(r for r in ckan["resources"] if r["url"] == "data-dictionary.csv")
    assert entry["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()


# --- Reading and validating a release -------------------------------------------------------


def test_the_seed_payload_is_valid(seed_release):
    release = load_release(seed_release, SEED_ID)
    assert validate_payload(release, "pgo-maroc") == []
    paths = [r[PATH_KEY] for r in release.resources]
    assert paths[: len(ALL_RESOURCES) + 1] == [f"data/{t}.csv" for t in ALL_RESOURCES] + ["data-dictionary.csv"]
    assert paths[-2:] == [f"{SEED_ID}.zip", "datapackage.json"]
    # the files released beside the package (workbook, report page), when the release holds them
    companions = paths[len(ALL_RESOURCES) + 1 : -2]
    record_files = json.loads((seed_release / SEED_ID / "release.json").read_text(encoding="utf-8"))["files"]
    assert companions == [p for p in (f"{SEED_ID}.xlsx", "index.html") if p in record_files]
    record = json.loads((seed_release / SEED_ID / "release.json").read_text(encoding="utf-8"))
    for resource in release.resources:
        expected = record["files"].get(resource[PATH_KEY], {}).get("sha256")
        if expected:
            assert resource["hash"] == f"sha256:{expected}"


def _copy_release(seed_release: Path, tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    shutil.copytree(seed_release, exports)
    return exports


def test_a_file_that_differs_from_release_json_is_refused(seed_release, tmp_path):
    exports = _copy_release(seed_release, tmp_path)
    path = exports / SEED_ID / "data" / "axes.csv"
    path.write_bytes(path.read_bytes().replace(b"1", b"2", 1))
    with pytest.raises(PushError) as info:
        load_release(exports, SEED_ID)
    assert info.value.code == exitcodes.INPUT_ERROR
    with pytest.raises(PushError, match="no complete release"):
        load_release(exports, "pan-absent")


def test_validation_names_what_the_portal_would_refuse_or_what_lacks_arabic(seed_release):
    release = load_release(seed_release, SEED_ID)
    release.dataset["license_id"] = "cc-by"
    release.dataset["tags"].append({"name": "x"})
    release.dataset["extras"] = [
        e if e["key"] != "language" else {"key": "language", "value": "fr"} for e in release.dataset["extras"]
    ]
    release.resources[0]["name_ar"] = ""
    field = release.descriptor["resources"][1]["schema"]["fields"][2]
    del field["title_ar"]
    problems = validate_payload(release, "Not A Name")
    text = "\n".join(problems)
    assert "licence 'cc-by'" in text
    assert "tag 'x'" in text
    assert "language 'ar' missing" in text
    assert "organisation 'Not A Name'" in text
    assert "missing Arabic text: resource data/reports.csv: name_ar" in problems
    assert f"missing Arabic text: datapackage.json: field axes.{field['name']}: title_ar" in problems
    release.dataset["name"] = "A" * 101
    assert any(p.startswith("name ") for p in validate_payload(release, "pgo"))


# --- The plan, against portal states given as dicts ---------------------------------------------


def _portal_copy(release, org="pgo", dataset_id="d1") -> dict:
    """The dataset as a portal holds it right after a complete push of ``release``."""
    resources = [
        {**r, "id": f"r{i}", "url_type": "upload", "url": f"http://portal/{i}"} for i, r in enumerate(release.resources)
    ]
    return {
        **release.dataset,
        "id": dataset_id,
        "owner_org": "org-id",
        "organization": {"name": org, "id": "org-id"},
        "private": False,
        "state": "active",
        "resources": resources,
    }


def test_plan_for_a_new_dataset_creates_it_private_uploads_everything_then_publishes(seed_release):
    release = load_release(seed_release, SEED_ID)
    plan = plan_push(release, "pgo", None)
    kinds = [s.kind for s in plan.steps]
    assert kinds == ["create_dataset"] + ["upload"] * len(release.resources) + ["update_dataset"]
    assert plan.steps[0].fields["private"] is True and plan.steps[0].fields["owner_org"] == "pgo"
    assert "resources" not in plan.steps[0].fields
    assert plan.steps[-1].fields == {"private": False}
    assert [s.kind for s in plan_push(release, "pgo", None, private=True).steps][-1] == "upload"


def test_plan_against_the_same_release_is_empty(seed_release):
    release = load_release(seed_release, SEED_ID)
    plan = plan_push(release, "pgo", _portal_copy(release))
    assert plan.empty and len(plan.unchanged) == len(release.resources)


def test_plan_uploads_a_changed_file_into_its_resource_and_updates_the_metadata_last(seed_release):
    release = load_release(seed_release, SEED_ID)
    pkg = _portal_copy(release)
    pkg["resources"][3]["hash"] = "sha256:" + "f" * 64
    pkg["version"] = "0.0.0+old"
    pkg["resources"][5]["name_ar"] = "قديم"
    pkg["resources"].append({"id": "gone", PATH_KEY: "data/old.csv", "hash": "sha256:0", "url_type": "upload"})
    pkg["resources"].append({"id": "by-hand", "name": "Note de l'équipe du portail", "url": "https://example.org"})
    plan = plan_push(release, "pgo", pkg)
    steps = [(s.kind, s.resource_id) for s in plan.steps]
    assert steps == [("upload", "r3"), ("update_resource", "r5"), ("delete_resource", "gone"), ("update_dataset", None)]
    assert plan.steps[1].fields == {"name_ar": release.resources[5]["name_ar"]}
    assert plan.steps[-1].fields == {"version": release.version}


def test_plan_matches_by_recorded_id_when_the_portal_drops_release_path(seed_release):
    release = load_release(seed_release, SEED_ID)
    pkg = _portal_copy(release)
    for resource in pkg["resources"]:
        del resource[PATH_KEY]
    recorded = {"resources": {r[PATH_KEY]: {"id": f"r{i}"} for i, r in enumerate(release.resources)}}
    plan = plan_push(release, "pgo", pkg, recorded)
    assert plan.empty  # a portal that drops release_path: the record ties the files to their resources
    pkg["resources"][2]["hash"] = "sha256:" + "0" * 64
    assert [(s.kind, s.resource_id) for s in plan_push(release, "pgo", pkg, recorded).steps] == [("upload", "r2")]


def test_plan_refuses_a_dataset_of_another_organisation(seed_release):
    release = load_release(seed_release, SEED_ID)
    with pytest.raises(PushError) as info:
        plan_push(release, "pgo", _portal_copy(release, org="autre"))
    assert info.value.code == exitcodes.USAGE and "autre" in info.value.message


def test_a_deleted_or_private_dataset_is_brought_back(seed_release):
    release = load_release(seed_release, SEED_ID)
    pkg = {**_portal_copy(release), "state": "deleted", "private": True}
    plan = plan_push(release, "pgo", pkg)
    assert [s.kind for s in plan.steps] == ["update_dataset"]
    assert plan.steps[0].fields == {"state": "active", "private": False}


# --- The command --------------------------------------------------------------------------------


def pgo(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CKAN_API_TOKEN", "PGO_FAULT"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=600,
    )


def test_dry_run_without_a_portal_validates_and_lists_no_missing_arabic(seed_release, tmp_path):
    result = pgo(
        "push", "--dry-run", "--org", "pgo-maroc", "--exports", str(seed_release), "--pushes", str(tmp_path / "pushes")
    )
    assert result.returncode == exitcodes.OK, result.stderr
    assert "Arabic text complete" in result.stderr and "missing Arabic" not in result.stderr
    assert "create the dataset in organisation pgo-maroc" in result.stdout
    assert "title (ar): تقرير التقييم الذاتي لخطة العمل الوطنية للحكومة المنفتحة 2021-2023" in result.stdout
    assert not (tmp_path / "pushes").exists()


def test_an_invalid_payload_exits_3_and_names_the_problem(seed_release, tmp_path):
    exports = _copy_release(seed_release, tmp_path)
    result = pgo("push", "--dry-run", "--org", "PGO Maroc", "--exports", str(exports))
    assert result.returncode == exitcodes.INPUT_ERROR
    assert "organisation 'PGO Maroc'" in result.stderr
    result = pgo("push", "--dry-run", "--org", "pgo", "--exports", str(tmp_path / "nothing-here"))
    assert result.returncode == exitcodes.INPUT_ERROR and "no release" in result.stderr


def test_the_token_comes_from_the_environment_only(seed_release, tmp_path):
    result = pgo("push", "--ckan", "http://127.0.0.1:9", "--org", "pgo", "--exports", str(seed_release))
    assert result.returncode == exitcodes.USAGE
    assert "CKAN_API_TOKEN" in result.stderr and "never on the command line" in result.stderr
    secret = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2VjcmV0"
    for option in (["--token", secret], [f"--api-key={secret}"], ["--tok", secret]):
        result = pgo("push", "--ckan", "http://127.0.0.1:9", "--org", "pgo", *option)
        assert result.returncode == exitcodes.USAGE, option
        assert secret not in result.stdout + result.stderr, option
    result = pgo("push", "--ckan", "http://127.0.0.1:9", "--org", "pgo", "--token-env", secret)
    assert result.returncode == exitcodes.USAGE and secret not in result.stderr


def test_an_unreachable_portal_exits_4_and_sends_nothing(seed_release, tmp_path):
    secret = "jeton-de-test-0123456789"
    result = pgo(
        "push",
        "--ckan",
        "http://127.0.0.1:9",
        "--org",
        "pgo",
        "--exports",
        str(seed_release),
        "--pushes",
        str(tmp_path / "pushes"),
        env={"CKAN_API_TOKEN": secret},
    )
    assert result.returncode == exitcodes.RELEASE_REFUSED
    assert "cannot be reached" in result.stderr and secret not in result.stderr
    assert not (tmp_path / "pushes").exists()


def test_push_packages_refuses_bad_options(seed_release):
    assert push_packages(seed_release, "pgo", "data.gov.ma") == exitcodes.USAGE
    assert push_packages(seed_release, "pgo", None) == exitcodes.USAGE
    assert push_packages(seed_release, "pgo", None, dry_run=True, token_env="not a name") == exitcodes.USAGE


# --- The round trip against a real CKAN (make test-ckan) -------------------------------------------

ckan = pytest.mark.ckan


@pytest.fixture(scope="module")
def portal():
    """The CKAN that `make test-ckan` started: its URL, organisation and a sysadmin's token."""
    missing = [v for v in ("PGO_CKAN_URL", "PGO_CKAN_ORG", "CKAN_API_TOKEN") if not os.environ.get(v)]
    if missing:
        pytest.fail(f"no CKAN to test against ({', '.join(missing)} not set): run `make test-ckan`")
    import ckanapi

    api = ckanapi.RemoteCKAN(
        os.environ["PGO_CKAN_URL"], apikey=os.environ["CKAN_API_TOKEN"], user_agent="pgo-pipeline tests"
    )
    yield {
        "url": os.environ["PGO_CKAN_URL"],
        "org": os.environ["PGO_CKAN_ORG"],
        "token": os.environ["CKAN_API_TOKEN"],
        "api": api,
    }
    api.close()


def _run_pipeline(raw: Path, work: Path) -> Path:
    result = pgo("run", "--raw", str(raw), "--curated", str(work / "curated"), "--exports", str(work / "exports"))
    assert result.returncode == exitcodes.OK, result.stderr
    return work / "exports"


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    """Exports folders: the seed's release; the seed changed (one activity title); a copy of
    the seed under another report id (the dataset the failures must not create)."""
    out = {}
    seed_text = (REPO / "raw" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    variants = {
        "seed": {f"{SEED_ID}.txt": seed_text},
        "changed": {
            f"{SEED_ID}.txt": seed_text.replace(
                "analyse comparative avec d'autres pays", "analyse comparée avec d'autres pays", 1
            )
        },
        "other": {f"{SEED_ID}-essai.txt": seed_text},
    }
    assert variants["changed"][f"{SEED_ID}.txt"] != seed_text
    for name, files in variants.items():
        work = tmp_path_factory.mktemp(name)
        (work / "raw").mkdir()
        for file_name, text in files.items():
            (work / "raw" / file_name).write_text(text, encoding="utf-8")
        out[name] = _run_pipeline(work / "raw", work)
    return out


def push(portal, exports: Path, pushes: Path, *args: str, token: str | None = None, env: dict | None = None):
    return pgo(
        "push",
        "--ckan",
        portal["url"],
        "--org",
        portal["org"],
        "--exports",
        str(exports),
        "--pushes",
        str(pushes),
        *args,
        env={"CKAN_API_TOKEN": portal["token"] if token is None else token, **(env or {})},
    )


def _not_on_portal(portal, name: str) -> bool:
    from ckanapi.errors import NotFound

    try:
        portal["api"].action.package_show(id=name)
    except NotFound:
        return True
    return False


def _released_bytes(exports: Path, report_id: str, path: str) -> bytes:
    if path == "data-dictionary.csv":
        return render_data_dictionary_csv(
            json.loads((exports / report_id / "datapackage.json").read_text(encoding="utf-8"))
        )
    return (exports / report_id / path).read_bytes()


def _download(portal, url: str) -> bytes:
    import requests

    response = requests.get(url, headers={"Authorization": portal["token"]}, timeout=120)
    response.raise_for_status()
    return response.content


def _check_on_portal(portal, exports: Path, report_id: str) -> dict:
    """The portal's dataset holds exactly the release: metadata, and every file byte for byte."""
    pkg = portal["api"].action.package_show(id=report_id)
    descriptor = json.loads((exports / report_id / "datapackage.json").read_text(encoding="utf-8"))
    ckan_json = json.loads((exports / report_id / "ckan.json").read_text(encoding="utf-8"))
    assert pkg["title"] == descriptor["title"]
    assert pkg["license_id"] == "odc-odbl"
    assert pkg["organization"]["name"] == portal["org"]
    assert pkg["version"] == descriptor["version"]
    assert pkg["private"] is False and pkg["state"] == "active"
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["title_ar"] == descriptor["title_ar"]
    assert extras["notes_ar"] == descriptor["description_ar"]
    assert extras["language"] == "fr,ar"
    assert "2021 – 2022" in extras["report_title"]
    assert {t["name"] for t in pkg["tags"]} >= {"gouvernement ouvert", "الحكومة المنفتحة", "2021-2023"}
    release = load_release(exports, report_id)
    assert [r[PATH_KEY] for r in pkg["resources"]] == [r[PATH_KEY] for r in release.resources]
    assert {r["url"] for r in ckan_json["resources"]} <= {r[PATH_KEY] for r in pkg["resources"]}
    for resource in pkg["resources"]:
        assert resource["url_type"] == "upload"
        assert _arabic_text(resource["name_ar"]) and _arabic_text(resource["description_ar"])
        data = _released_bytes(exports, report_id, resource[PATH_KEY])
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert int(resource["size"]) == len(data)
        assert _download(portal, resource["url"]) == data, resource[PATH_KEY]
    return pkg


@ckan
def test_a_wrong_token_fails_clearly_and_creates_nothing(portal, releases, tmp_path):
    wrong = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJub3BlIn0.bm9wZQ"
    result = push(portal, releases["other"], tmp_path, token=wrong)
    assert result.returncode == exitcodes.USAGE, result.stderr
    assert "refused the API token in $CKAN_API_TOKEN" in result.stderr and "nothing was sent" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert _not_on_portal(portal, f"{SEED_ID}-essai")
    assert not list(tmp_path.glob("*.json"))


@ckan
def test_an_unknown_organisation_fails_clearly_and_creates_nothing(portal, releases, tmp_path):
    result = pgo(
        "push",
        "--ckan",
        portal["url"],
        "--org",
        "organisation-inconnue",
        "--exports",
        str(releases["other"]),
        "--pushes",
        str(tmp_path),
        env={"CKAN_API_TOKEN": portal["token"]},
    )
    assert result.returncode == exitcodes.USAGE, result.stderr
    assert "organisation 'organisation-inconnue' does not exist" in result.stderr
    assert portal["org"] in result.stderr  # the organisations the token can publish in
    assert _not_on_portal(portal, f"{SEED_ID}-essai")


@ckan
def test_a_dry_run_prints_the_plan_and_touches_nothing(portal, releases, tmp_path):
    result = push(portal, releases["seed"], tmp_path, "--dry-run")
    assert result.returncode == exitcodes.OK, result.stderr
    assert "(dry run: nothing is sent)" in result.stdout
    assert "create the dataset in organisation" in result.stdout
    assert "upload data/activities.csv" in result.stdout
    assert "missing Arabic" not in result.stderr
    assert _not_on_portal(portal, SEED_ID)
    assert not tmp_path.joinpath(f"{SEED_ID}.json").exists()


@pytest.fixture(scope="module")
def pushes(tmp_path_factory) -> Path:
    """The push records of the round trip (one folder, as pushes/ would be)."""
    return tmp_path_factory.mktemp("pushes")


@ckan
def test_the_seed_goes_to_the_portal_and_comes_back_byte_for_byte(portal, releases, pushes):
    result = push(portal, releases["seed"], pushes)
    assert result.returncode == exitcodes.OK, result.stderr
    assert portal["token"] not in result.stdout + result.stderr
    pkg = _check_on_portal(portal, releases["seed"], SEED_ID)
    # 14 tables as CSV, the dictionary, the zip, datapackage.json (and the workbook and page when released)
    assert len(pkg["resources"]) == len(load_release(releases["seed"], SEED_ID).resources) >= 17
    record = json.loads((pushes / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    entry = record["portals"][portal["url"]]
    assert entry["complete"] is True and entry["dataset_id"] == pkg["id"]
    assert {p: r["id"] for p, r in entry["resources"].items()} == {r[PATH_KEY]: r["id"] for r in pkg["resources"]}
    release = json.loads((releases["seed"] / SEED_ID / "release.json").read_text(encoding="utf-8"))
    assert entry["resources"]["data/activities.csv"]["sha256"] == release["files"]["data/activities.csv"]["sha256"]


@ckan
def test_a_second_push_of_the_same_release_changes_nothing(portal, releases, pushes):
    before = portal["api"].action.package_show(id=SEED_ID)
    record = (pushes / f"{SEED_ID}.json").read_bytes()
    result = push(portal, releases["seed"], pushes)
    assert result.returncode == exitcodes.OK, result.stderr
    assert "nothing to push" in result.stdout and "uploaded" not in result.stderr
    after = portal["api"].action.package_show(id=SEED_ID)
    assert after["metadata_modified"] == before["metadata_modified"]
    assert [(r["id"], r["last_modified"], r["metadata_modified"]) for r in after["resources"]] == [
        (r["id"], r["last_modified"], r["metadata_modified"]) for r in before["resources"]
    ]
    assert (pushes / f"{SEED_ID}.json").read_bytes() == record


@ckan
def test_a_push_that_fails_midway_says_what_is_on_the_portal_and_the_next_completes_it(portal, releases, pushes):
    before = portal["api"].action.package_show(id=SEED_ID)
    result = push(
        portal, releases["changed"], pushes, env={"PGO_FAULT_POINT": "push.after_upload", "PGO_FAULT_ACTION": "crash"}
    )
    assert result.returncode == exitcodes.INTERNAL_ERROR, result.stderr
    assert re.search(
        r"on the portal now: dataset .* with \d+ of \d+ files of this release; missing or out of date: ", result.stderr
    )
    record = json.loads((pushes / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    assert record["portals"][portal["url"]]["complete"] is False
    half = portal["api"].action.package_show(id=SEED_ID)
    assert half["version"] == before["version"]  # the metadata changes last

    result = push(portal, releases["changed"], pushes)
    assert result.returncode == exitcodes.OK, result.stderr
    pkg = _check_on_portal(portal, releases["changed"], SEED_ID)
    assert pkg["id"] == before["id"]  # the same dataset...
    assert [r["id"] for r in pkg["resources"]] == [
        r["id"] for r in before["resources"]
    ]  # ...the same resources, none added
    assert pkg["version"] != before["version"]
    unchanged = {r["id"]: r["last_modified"] for r in before["resources"] if r[PATH_KEY] == "data/axes.csv"}
    assert {
        r["id"]: r["last_modified"] for r in pkg["resources"] if r["id"] in unchanged
    } == unchanged  # not uploaded again
    assert (
        json.loads((pushes / f"{SEED_ID}.json").read_text(encoding="utf-8"))["portals"][portal["url"]]["complete"]
        is True
    )


@ckan
def test_a_killed_first_push_leaves_a_private_dataset_that_the_next_push_completes(portal, releases, tmp_path):
    name = f"{SEED_ID}-essai"
    result = push(
        portal, releases["other"], tmp_path, env={"PGO_FAULT_POINT": "push.after_upload", "PGO_FAULT_ACTION": "kill"}
    )
    assert result.returncode == -9
    half = portal["api"].action.package_show(id=name)
    assert half["private"] is True and len(half["resources"]) == 1  # not public while incomplete
    result = push(portal, releases["other"], tmp_path)
    assert result.returncode == exitcodes.OK, result.stderr
    pkg = _check_on_portal(portal, releases["other"], name)
    assert pkg["id"] == half["id"] and pkg["resources"][0]["id"] == half["resources"][0]["id"]
    assert len(pkg["resources"]) == len(load_release(releases["other"], name).resources)


@ckan
def test_the_national_package_is_its_own_bilingual_dataset_byte_for_byte(portal, releases, tmp_path):
    from pipeline.settings import DEFAULT_NATIONAL_NAME as NATIONAL

    exports = releases["seed"]
    result = push(portal, exports, tmp_path / "pushes", "--report", NATIONAL)
    assert result.returncode == exitcodes.OK, result.stderr
    pkg = portal["api"].action.package_show(id=NATIONAL)
    descriptor = json.loads((exports / NATIONAL / "datapackage.json").read_text(encoding="utf-8"))
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert pkg["title"] == descriptor["title"] and pkg["license_id"] == "odc-odbl"
    assert extras["title_ar"] == descriptor["title_ar"] and _arabic_text(extras["notes_ar"])
    assert extras["reports"] == SEED_ID
    release = load_release(exports, NATIONAL)
    assert [r[PATH_KEY] for r in pkg["resources"]] == [r[PATH_KEY] for r in release.resources]
    for resource in pkg["resources"]:
        assert _arabic_text(resource["name_ar"]) and _arabic_text(resource["description_ar"])
        data = _released_bytes(exports, NATIONAL, resource[PATH_KEY])
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert _download(portal, resource["url"]) == data, resource[PATH_KEY]
