"""The national package (pipeline.national, published by pipeline.publish): every released report's rows."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import zipfile
from pathlib import Path

import frictionless
import pytest
from test_publish import (  # noqa: F401 (fixtures)
    ROWS,
    curated_writer,
    first_release,
    frame,
    frames,
    read_tree,
    write_and_publish,
    write_curated,
)

from pipeline import exitcodes, gate
from pipeline.batch import Options, plan_run, run_pipeline
from pipeline.inputs import list_inputs
from pipeline.publish import publish_packages
from pipeline.settings import DEFAULT_NATIONAL_NAME

NATIONAL = DEFAULT_NATIONAL_NAME


def csv_rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_national_package_validates_and_holds_the_union_of_the_reports_rows(tmp_path, first_release):  # noqa: F811
    _, exports = first_release.copy(tmp_path)
    national = exports / NATIONAL
    report = frictionless.validate(str(national / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "type", "message"])
    descriptor = json.loads((national / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["reports"] == ["pan-a", "pan-b"]
    for resource in descriptor["resources"]:
        whole = (national / resource["path"]).read_bytes()
        parts = [(exports / r / resource["path"]).read_bytes() for r in ("pan-a", "pan-b")]
        if resource["format"] == "csv":
            header = parts[0].partition(b"\n")[0] + b"\n"
            assert whole == header + b"".join(p.partition(b"\n")[2] for p in parts)
        else:
            assert json.loads(whole) == json.loads(parts[0]) + json.loads(parts[1])
    assert descriptor["title_ar"] and descriptor["description_ar"].count("تقرير") >= 1
    ckan = json.loads((national / "ckan.json").read_text(encoding="utf-8"))
    assert ckan["name"] == NATIONAL and {"key": "reports", "value": "pan-a,pan-b"} in ckan["extras"]
    dictionary = csv_rows(national / "data-dictionary.csv")
    assert dictionary[0][:4] == ["table", "table_title", "table_title_ar", "field"] and len(dictionary) > 50
    record = json.loads((national / "release.json").read_text(encoding="utf-8"))
    assert set(record["validated_rows"]) == {"pan-a", "pan-b"} and record["left_out"] == {}


def test_only_the_rows_that_changed_are_validated_again(tmp_path, write_curated, monkeypatch):  # noqa: F811
    curated = write_curated(tmp_path / "curated", frames())
    exports = tmp_path / "exports"
    validated: list[list[str]] = []
    real = gate.validate_rows
    monkeypatch.setattr(gate, "validate_rows", lambda r, c, ids: validated.append(list(ids)) or real(r, c, ids))
    assert publish_packages(curated, exports) == exitcodes.OK
    assert validated == [["pan-a", "pan-b"]]
    before_a = read_tree(exports / "pan-a")

    axes = [dict(r, name="Axe B renommé") if r["report_id"] == "pan-b" else r for r in ROWS["axes"]]
    write_curated(curated, {**frames(), "axes": frame("axes", axes)})
    assert publish_packages(curated, exports, report_ids={"pan-b"}) == exitcodes.OK
    assert validated[1:] == [["pan-b"]]
    assert read_tree(exports / "pan-a") == before_a
    assert "Axe B renommé" in (exports / NATIONAL / "data" / "axes.csv").read_text(encoding="utf-8")

    shutil.rmtree(exports / NATIONAL)  # its record is gone: every report's rows are validated again
    assert publish_packages(curated, exports, report_ids=set()) == exitcodes.OK
    assert validated[2:] == [["pan-a", "pan-b"]]
    assert json.loads((exports / NATIONAL / "datapackage.json").read_text(encoding="utf-8"))["reports"] == [
        "pan-a",
        "pan-b",
    ]


def test_a_report_may_not_take_the_national_package_name(tmp_path):
    (tmp_path / f"{NATIONAL}.txt").write_text("x", encoding="utf-8")
    (tmp_path / "pan-a.txt").write_text("x", encoding="utf-8")
    reports, refused = list_inputs(tmp_path)
    assert [r.report_id for r in reports] == ["pan-a"]
    assert [(r.path.name, r.code) for r in refused] == [(f"{NATIONAL}.txt", "invalid_report_id")]
    assert "national package" in refused[0].problem


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory, seed_raw):
    work = tmp_path_factory.mktemp("national-run")
    shutil.copytree(seed_raw, work / "raw")
    opts = Options(work / "raw", work / "curated", work / "exports")
    assert run_pipeline(opts) == exitcodes.OK
    return work, opts


def test_a_missing_national_package_is_rebuilt_and_nothing_else(seed_run):
    work, opts = seed_run
    releases = {p.parent.name: p.read_bytes() for p in (work / "exports").glob("*/release.json")}
    assert set(releases) == {NATIONAL, "ma-pan-2021-2023-autoevaluation-2023-07"}
    assert plan_run(opts, {}).nothing_to_do
    shutil.rmtree(work / "exports" / NATIONAL)
    plan = plan_run(opts, {})
    assert plan.stale_layers == ["national"] and plan.to_process == []
    assert run_pipeline(opts) == exitcodes.OK
    after = {p.parent.name: p.read_bytes() for p in (work / "exports").glob("*/release.json")}
    assert after == releases
    assert plan_run(opts, {}).nothing_to_do


def national_tree(exports) -> dict[str, bytes]:
    return read_tree(exports / NATIONAL)


#: The reports of ROWS with pan-b a later report of pan-a's plan: pan-b's page shows pan-a.
SAME_PLAN = [
    dict(r, plan_period="2021-2023", as_of="2024-01") if r["report_id"] == "pan-b" else r for r in ROWS["reports"]
]


@pytest.mark.parametrize(
    ("reports", "changed", "rendered"),
    [
        (ROWS["reports"], "pan-b", "1 report(s) rendered, 0 more for the pages that show them, 1 taken"),
        (SAME_PLAN, "pan-b", "1 report(s) rendered, 1 more for the pages that show them, 1 taken"),
        (SAME_PLAN, "pan-a", "2 report(s) rendered, 0 more for the pages that show them, 0 taken"),
    ],
    ids=["other-plans", "later-of-a-plan", "earlier-of-a-plan"],
)
def test_a_changed_report_is_spliced_into_the_national_package_as_a_rebuild_would_write_it(
    tmp_path,
    first_release,  # noqa: F811
    write_curated,  # noqa: F811
    caplog,
    reports,
    changed,
    rendered,
):
    before = {**frames(), "reports": frame("reports", reports)}
    curated, exports = first_release.copy(tmp_path, before, "frames" if reports is ROWS["reports"] else "same-plan")
    axes = [dict(r, name="Axe renommé") if r["report_id"] == changed else r for r in ROWS["axes"]]
    write_curated(curated, {**before, "axes": frame("axes", axes)})
    with caplog.at_level(logging.INFO, logger="pipeline.publish"):
        assert publish_packages(curated, exports, report_ids={changed}) == exitcodes.OK
    assert f"{rendered} from the national package" in caplog.text
    from_scratch = tmp_path / "from-scratch"
    assert publish_packages(curated, from_scratch) == exitcodes.OK
    assert read_tree(exports) == read_tree(from_scratch)
    national = exports / NATIONAL
    with zipfile.ZipFile(national / f"{NATIONAL}.zip") as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            assert archive.read(name) == (national / name).read_bytes(), name
    assert frictionless.validate(str(national / "datapackage.json")).valid


def test_a_national_file_not_as_recorded_is_not_reused(tmp_path, first_release, caplog):  # noqa: F811
    curated, exports = first_release.copy(tmp_path)
    before = national_tree(exports)
    path = exports / NATIONAL / "data" / "axes.csv"
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"pan-a", b"pan-x"))
    with caplog.at_level(logging.INFO, logger="pipeline.publish"):
        assert publish_packages(curated, exports, report_ids={"pan-b"}) == exitcodes.OK
    assert "data/axes.csv is not as recorded: every report is rendered again" in caplog.text
    assert national_tree(exports) == before


@pytest.mark.parametrize("tampered", ["data/axes.csv", f"{NATIONAL}.zip"])
def test_a_national_file_changed_but_not_its_size_is_found_as_its_rows_are_copied(
    long_plan,
    long_plan_rebuilt,
    write_curated,  # noqa: F811
    caplog,
    tampered,
):
    """The previous national files are verified as they are copied (in a process of
    their own from four reports): one changed by hand, its size kept, is not used, and
    the national package is what a rebuild gives."""
    curated, exports = long_plan
    path = exports / NATIONAL / tampered
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    write_curated(curated, frames(**renamed_axis(long_plan_rows(LONG_PLAN_COUNT), "pan-11")))
    with caplog.at_level(logging.INFO, logger="pipeline.publish"):
        assert publish_packages(curated, exports, report_ids={"pan-11"}) == exitcodes.OK
    assert f"{tampered} is not as recorded: every report is rendered again" in caplog.text
    assert_as_rebuilt(curated, exports, long_plan_rebuilt("pan-11"))


def test_one_report_changed_among_several_gives_what_a_run_from_scratch_gives(tmp_path, caplog):
    """Every stage incremental (validate, compute, publish, the national package spliced
    from runs of kept reports): the outputs equal those of a cold run on the same inputs."""
    from pipeline.synth import write_reports

    work, scratch = tmp_path / "work", tmp_path / "scratch"
    write_reports(work / "raw", 5, 8, 0.3)
    for extra in (work / "raw").glob("*.truth.json"):
        extra.unlink()
    opts = Options(work / "raw", work / "curated", work / "exports")
    run_pipeline(opts)
    changed = sorted((work / "raw").glob("*.txt"))[3]
    changed.write_text(changed.read_text(encoding="utf-8").replace("Activité", "Activite", 2), encoding="utf-8")
    with caplog.at_level(logging.INFO):
        run_pipeline(opts)
    assert "1 report(s) validated again, 4 kept as validated" in caplog.text
    assert "compute: incremental" in caplog.text
    assert "taken from the national package" in caplog.text
    assert_same_outputs(work, scratch)
    removed = sorted((work / "raw").glob("*.txt"))[1]
    removed.unlink()
    run_pipeline(opts)
    assert removed.stem not in json.loads((work / "exports" / NATIONAL / "release.json").read_text())["validated_rows"]
    assert_same_outputs(work, tmp_path / "scratch-after-removal")


def assert_same_outputs(work, scratch) -> None:
    """A cold run on a copy of ``work/raw`` in ``scratch`` writes the same exports and
    curated tables as ``work``'s runs did (the retracted releases aside)."""
    shutil.copytree(work / "raw", scratch / "raw")
    run_pipeline(Options(scratch / "raw", scratch / "curated", scratch / "exports"))
    exports = {k: v for k, v in read_tree(work / "exports").items() if not k.startswith("_retracted/")}
    assert exports == read_tree(scratch / "exports")
    for layer in ("validated", "computed"):
        mine, theirs = read_tree(work / "curated" / layer), read_tree(scratch / "curated" / layer)
        assert {k: v for k, v in mine.items() if not k.endswith(".duckdb")} == {
            k: v for k, v in theirs.items() if not k.endswith(".duckdb")
        }


def test_a_package_refused_at_its_release_is_left_out_of_the_national_files_written_meanwhile(
    tmp_path,
    write_curated,  # noqa: F811
    monkeypatch,
):
    """The national data files are written while the reports are released, for the
    reports expected in it; one refused then is left out and the files written again."""
    from pipeline import publish

    curated = write_curated(tmp_path / "curated", frames())
    exports = tmp_path / "exports"
    real = publish.check_staged_files
    refusal = [{"resource": None, "type": "test-refusal", "row": None, "field": None, "message": "refused"}]
    monkeypatch.setattr(
        publish,
        "check_staged_files",
        lambda folder, *a: refusal if folder.name.startswith(".tmp-pan-a.") else real(folder, *a),
    )
    assert publish_packages(curated, exports) == exitcodes.RELEASE_REFUSED
    record = json.loads((exports / NATIONAL / "release.json").read_text(encoding="utf-8"))
    assert record["left_out"] == {"pan-a": "refused"} and list(record["validated_rows"]) == ["pan-b"]
    assert b"pan-a" not in (exports / NATIONAL / "data" / "axes.csv").read_bytes()
    assert frictionless.validate(str(exports / NATIONAL / "datapackage.json")).valid
    assert not list(exports.glob(".*")) and not (exports / "pan-a").exists()


def long_plan_rows(count: int) -> dict[str, list[dict]]:
    """pan-a's rows for ``count`` reports of one plan, a month apart: more than a page
    shows (the last eight), so a page shows reports whose own pages show others."""
    out: dict[str, list[dict]] = {}
    for table, rows in ROWS.items():
        out[table] = []
        for i in range(1, count + 1):
            for row in rows:
                if row["report_id"] == "pan-a":
                    out[table].append(dict(row, report_id=f"pan-{i:02d}"))
    out["reports"] = [dict(r, as_of=f"2023-{i:02d}") for i, r in enumerate(out["reports"], start=1)]
    return out


#: The reports of the long plan the tests below publish (pan-01 to pan-11).
LONG_PLAN_COUNT = 11


def renamed_axis(rows: dict[str, list[dict]], report_id: str) -> dict[str, list[dict]]:
    """``rows`` with the axes of ``report_id`` renamed: the change the long-plan tests make."""
    axes = [dict(r, name="Axe renommé") if r["report_id"] == report_id else r for r in rows["axes"]]
    return {**rows, "axes": axes}


def publish_from_scratch(layers, root: Path, rows: dict[str, list[dict]]) -> tuple[Path, Path]:
    """``root/curated`` written from ``rows``, then published into ``root/exports``."""
    return write_and_publish(curated_writer(layers), root, frames(**rows))


@pytest.fixture(scope="module")
def long_plan_release(tmp_path_factory, layers) -> Path:
    """The long plan's curated layers and their first release (``curated/``,
    ``exports/``), written and published once per module and xdist worker: the starting
    state every long-plan test used to build again for itself. Read only: a test changes
    a copy (:func:`long_plan`). A copy starts where a publish of its own would: the
    release records hold paths relative to their folder, sizes and SHA-256s (no absolute
    path, inode or time), and ``copytree`` keeps the files' modes and times."""
    root = tmp_path_factory.mktemp("long-plan")
    publish_from_scratch(layers, root, long_plan_rows(LONG_PLAN_COUNT))
    return root


@pytest.fixture
def long_plan(long_plan_release, tmp_path) -> tuple[Path, Path]:
    """A private copy of :func:`long_plan_release`: its ``curated`` and ``exports`` folders."""
    curated = shutil.copytree(long_plan_release / "curated", tmp_path / "curated")
    return curated, shutil.copytree(long_plan_release / "exports", tmp_path / "exports")


@pytest.fixture(scope="module")
def long_plan_rebuilt(tmp_path_factory, layers):
    """``rebuilt(report_id)``: the files of the curated layers of the long plan with the
    axes of ``report_id`` renamed, and of their publish from scratch, each built once per
    module and xdist worker (several tests compare their update with the same rebuild).
    :func:`assert_as_rebuilt` checks a test's curated layers are those files before it
    takes the rebuild's release as its own."""
    rebuilds: dict[str, tuple[dict[str, bytes], dict[str, bytes]]] = {}

    def rebuilt(report_id: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
        if report_id not in rebuilds:
            rows = renamed_axis(long_plan_rows(LONG_PLAN_COUNT), report_id)
            curated, exports = publish_from_scratch(layers, tmp_path_factory.mktemp(f"rebuilt-{report_id}"), rows)
            rebuilds[report_id] = read_tree(curated), read_tree(exports)
        return rebuilds[report_id]

    return rebuilt


def assert_as_rebuilt(curated: Path, exports: Path, rebuilt: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    """``exports`` is what a publish from scratch of ``curated`` writes: ``curated`` holds
    the very files the rebuild ``rebuilt`` (from ``long_plan_rebuilt``) was published
    from, and ``exports`` the files it wrote."""
    curated_files, released_files = rebuilt
    assert read_tree(curated) == curated_files
    assert read_tree(exports) == released_files


@pytest.mark.parametrize("changed", ["pan-11", "pan-05"])
def test_in_a_long_plan_a_change_releases_the_pages_that_show_it_as_a_rebuild_would(
    long_plan,
    long_plan_rebuilt,
    write_curated,  # noqa: F811
    changed,
):
    curated, exports = long_plan
    before = read_tree(exports)
    write_curated(curated, frames(**renamed_axis(long_plan_rows(LONG_PLAN_COUNT), changed)))
    assert publish_packages(curated, exports, report_ids={changed}) == exitcodes.OK
    assert_as_rebuilt(curated, exports, long_plan_rebuilt(changed))
    after = read_tree(exports)
    number = int(changed[-2:])
    for i in range(1, LONG_PLAN_COUNT + 1):
        report_id = f"pan-{i:02d}"
        same = before[f"{report_id}/release.json"] == after[f"{report_id}/release.json"]
        assert same == (not number <= i < number + 8), report_id  # its page shows the change, or not


def test_a_report_whose_rows_are_refused_is_left_out_of_the_national_files_written_meanwhile(
    long_plan,
    write_curated,  # noqa: F811
    monkeypatch,
):
    """The national data files are written (in a process of their own from four
    reports) while the changed report's rows are validated: a refusal keeps that
    report's previous release, leaves it out of the national package, and the pages
    that show it are released as without the refusal."""
    curated, exports = long_plan
    before = read_tree(exports)
    refusal = {"resource": "axes", "type": "test-refusal", "row": 2, "field": None, "message": "refused"}
    real = gate.validate_rows
    monkeypatch.setattr(
        gate,
        "validate_rows",
        lambda r, c, ids: {**real(r, c, ids), **{i: [refusal] for i in ids if i == "pan-05"}},
    )
    write_curated(curated, frames(**renamed_axis(long_plan_rows(LONG_PLAN_COUNT), "pan-05")))
    assert publish_packages(curated, exports, report_ids={"pan-05"}) == exitcodes.RELEASE_REFUSED
    after = read_tree(exports)
    assert {k: v for k, v in after.items() if k.startswith("pan-05/")} == {
        k: v for k, v in before.items() if k.startswith("pan-05/")
    }
    assert (
        json.loads((exports / "pan-05.errors.json").read_text(encoding="utf-8"))["errors"][0]["type"] == "test-refusal"
    )
    for i in range(6, LONG_PLAN_COUNT + 1):
        assert after[f"pan-{i:02d}/release.json"] != before[f"pan-{i:02d}/release.json"]
    record = json.loads((exports / NATIONAL / "release.json").read_text(encoding="utf-8"))
    assert record["left_out"] == {"pan-05": "refused"} and "pan-05" not in record["validated_rows"]
    assert b"pan-05" not in (exports / NATIONAL / "data" / "axes.csv").read_bytes()
    assert frictionless.validate(str(exports / NATIONAL / "datapackage.json")).valid


def test_a_page_released_again_keeps_its_package_and_workbook_once_verified(
    long_plan,
    long_plan_rebuilt,
    write_curated,  # noqa: F811
    monkeypatch,
):
    """The later reports of a plan are released again for their pages only: their
    package, zip and workbook are the released bytes (not built again), once each
    matches its record; one changed by hand, its size kept, is built again. The
    releases are those a rebuild gives."""
    from pipeline import workbook
    from pipeline.workers import WORKERS_VAR

    monkeypatch.setenv(WORKERS_VAR, "1")
    built: list[str] = []
    real = workbook.build_workbook
    monkeypatch.setattr(workbook, "build_workbook", lambda r, *a: built.append(r) or real(r, *a))
    curated, exports = long_plan
    tampered = exports / "pan-09" / "pan-09.xlsx"
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.chmod(0o644)
    tampered.write_bytes(bytes(data))
    write_curated(curated, frames(**renamed_axis(long_plan_rows(LONG_PLAN_COUNT), "pan-05")))
    assert publish_packages(curated, exports, report_ids={"pan-05"}) == exitcodes.OK
    assert sorted(built) == ["pan-05", "pan-09"]
    assert_as_rebuilt(curated, exports, long_plan_rebuilt("pan-05"))


def test_the_pages_of_a_changed_report_show_its_plans_blocked_report_as_a_rebuild_would(tmp_path, layers):
    """pan-02's rates could not be computed (not released), yet pan-03's page shows it,
    the reports of its plan: rendered for that page when only pan-03 changed."""
    from test_publish import COMPUTED, CURATED, RATES_CONFIG

    error = frame(
        "findings",
        [
            {
                "report_id": "pan-02",
                "stage": "compute",
                "finding_no": 1,
                "severity": "error",
                "code": "x",
                "message": "x",
            }
        ],
    )

    def write(curated, rows) -> None:
        tables = frames(**rows)
        validated = layers.validated(curated, {t: tables[t] for t in CURATED})
        layers.computed(curated, {t: tables[t] for t in COMPUTED}, RATES_CONFIG, validated, findings=error)

    rows = long_plan_rows(3)
    curated, exports = tmp_path / "curated", tmp_path / "exports"
    write(curated, rows)
    assert publish_packages(curated, exports) == exitcodes.INPUT_ERROR
    axes = [dict(r, name="Axe renommé") if r["report_id"] == "pan-03" else r for r in rows["axes"]]
    write(curated, {**rows, "axes": axes})
    assert publish_packages(curated, exports, report_ids={"pan-03"}) == exitcodes.OK
    assert "pan-02" in (exports / "pan-03" / "index.html").read_text(encoding="utf-8")
    from_scratch = tmp_path / "from-scratch"
    assert publish_packages(curated, from_scratch) == exitcodes.INPUT_ERROR
    assert read_tree(exports) == read_tree(from_scratch)
