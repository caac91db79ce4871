"""The release's Excel workbook: read back with openpyxl and compared with the release's CSV.

The seed is released end to end (``publish_packages``); every sheet must hold its
CSV's rows, typed (numbers as numbers, integers as integers, booleans, text as text),
under the French field titles, with statuses in French; then the rules that small
inline tables make easy to check (formulas, long text, determinism).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline import exitcodes, workbook
from pipeline.io import to_arrow
from pipeline.layers import layout
from pipeline.publish import LICENCE, publish_packages, read_publishable_tables, select_report_rows
from pipeline.workbook import (
    ABOUT_SHEET,
    EXCEL_CELL_MAX_CHARS,
    STATUS_FIELDS,
    STATUS_LABELS,
    TRUNCATION_MARK,
    WORKBOOK_DATE,
    build_workbook,
    column_format_name,
    fields_of,
    fit_cell_text,
    report_rows,
    sheet_layout,
)
from schemas import ALL_RESOURCES, STATUS_VALUES, table_fields

SEED_ID = "ma-pan-2021-2023-autoevaluation-2023-07"


@pytest.fixture(scope="module")
def seed_release(seed_computed, tmp_path_factory) -> Path:
    exports = tmp_path_factory.mktemp("exports")
    assert publish_packages(seed_computed, exports) == exitcodes.OK
    return exports / SEED_ID


@pytest.fixture(scope="module")
def seed_workbook(seed_release) -> openpyxl.Workbook:
    return openpyxl.load_workbook(seed_release / f"{SEED_ID}.xlsx")


def csv_rows(path: Path, table: str) -> list[list[object]]:
    """The CSV's data rows, each cell typed by the schema (empty: None), statuses in French."""
    fields = table_fields(table)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == [f["name"] for f in fields]
        rows = []
        for line in reader:
            row = []
            for field, text in zip(fields, line):
                if text == "":
                    row.append(None)
                elif field["type"] == "integer":
                    row.append(int(text))
                elif field["type"] == "number":
                    row.append(float(text))
                elif field["type"] == "boolean":
                    row.append({"true": True, "false": False}[text])
                elif field["name"] in STATUS_FIELDS:
                    row.append(STATUS_LABELS[text])
                else:
                    row.append(text)
            rows.append(row)
    return rows


def test_release_holds_the_workbook_beside_the_package_not_in_it(seed_release):
    import json

    name = f"{SEED_ID}.xlsx"
    assert (seed_release / name).is_file()
    record = json.loads((seed_release / "release.json").read_text(encoding="utf-8"))
    assert record["files"][name]["bytes"] == (seed_release / name).stat().st_size
    descriptor = json.loads((seed_release / "datapackage.json").read_text(encoding="utf-8"))
    assert name not in {r["path"] for r in descriptor["resources"]}
    with zipfile.ZipFile(seed_release / f"{SEED_ID}.zip") as archive:
        assert name not in archive.namelist()


def test_one_sheet_per_table_after_the_description(seed_workbook):
    assert seed_workbook.sheetnames == [ABOUT_SHEET, *ALL_RESOURCES]


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_every_sheet_reads_back_equal_to_its_csv_values_and_types(seed_release, seed_workbook, table):
    sheet = seed_workbook[table]
    fields = table_fields(table)
    header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == [f["title"] for f in fields]
    expected = csv_rows(seed_release / "data" / f"{table}.csv", table)
    assert len(body) == len(expected)
    assert body == expected
    for cells in sheet.iter_rows(min_row=2):
        for field, cell in zip(fields, cells):
            if cell.value is None:
                continue
            kind = field["type"]
            if kind == "integer":
                assert cell.data_type == "n" and type(cell.value) is int, (table, field["name"], cell.value)
            elif kind == "number":
                assert cell.data_type == "n" and type(cell.value) in (int, float), (table, field["name"], cell.value)
            elif kind == "boolean":
                assert cell.data_type == "b" and type(cell.value) is bool, (table, field["name"], cell.value)
            else:
                assert cell.data_type == "s" and type(cell.value) is str, (table, field["name"], cell.value)


@pytest.mark.parametrize("table", list(ALL_RESOURCES))
def test_header_row_is_frozen_and_filterable(seed_workbook, table):
    sheet = seed_workbook[table]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")


def test_a_french_locale_user_sees_numbers_as_numbers_and_as_of_as_text(seed_workbook):
    """Numbers are stored as numbers (the decimal separator is the spreadsheet's own,
    not in the file): no numeric column holds text; ``as_of`` and the period stay text."""
    reports = seed_workbook["reports"]
    titles = [c.value for c in reports[1]]
    as_of = reports.cell(row=2, column=titles.index("Date d'arrêté des chiffres") + 1)
    assert as_of.data_type == "s" and as_of.value == "2023-07" and not as_of.is_date
    assert as_of.number_format == "@"
    plan = seed_workbook["plan_progress"]
    names = [f["name"] for f in table_fields("plan_progress")]
    rate = plan.cell(row=2, column=names.index("rate_pct") + 1)
    assert rate.data_type == "n" and isinstance(rate.value, float) and rate.number_format == "0.0"
    for table in ALL_RESOURCES:
        sheet = seed_workbook[table]
        for col, field in enumerate(table_fields(table), start=1):
            if field["type"] in ("integer", "number"):
                cells = [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]
                assert all(c.data_type == "n" and not c.is_date for c in cells), (table, field["name"])


def test_statuses_are_shown_in_french(seed_workbook):
    sheet = seed_workbook["activities"]
    column = [f["name"] for f in table_fields("activities")].index("status") + 1
    shown = {sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)}
    assert shown <= set(STATUS_LABELS.values())
    assert not shown & set(STATUS_VALUES)
    assert {"Complétée", "Non entamée", "Inconnu"} <= shown
    assert set(STATUS_LABELS) == set(STATUS_VALUES)


def test_description_sheet_names_the_package_source_and_licence(seed_workbook, seed_release):
    about = seed_workbook[ABOUT_SHEET]
    text = "\n".join(str(v) for row in about.iter_rows(values_only=True) for v in row if v is not None)
    with (seed_release / "data" / "reports.csv").open(encoding="utf-8", newline="") as fh:
        report = next(csv.DictReader(fh))
    assert report["source_sha256"] in text and report["source_file"] in text
    assert LICENCE["name"] in text and LICENCE["path"] in text
    assert "2021-2023" in text and "Non entamée" in text
    for table, resource in ALL_RESOURCES.items():
        assert table in text and resource["title"] in text
    assert seed_workbook.properties.created == WORKBOOK_DATE
    assert seed_workbook.properties.modified == WORKBOOK_DATE


# Small inline tables.


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    columns = [f["name"] for f in table_fields(table)]
    return to_arrow(pd.DataFrame(rows, columns=columns), table).to_pandas()


REPORT = {
    "report_id": "pan-a",
    "title": "Rapport A",
    "plan_period": "2021-2023",
    "as_of": "2023-07",
    "language": "fr",
    "source_file": "pan-a.txt",
    "source_sha256": "a" * 64,
    "source_encoding": "utf-8",
    "line_count": 100,
    "commitment_count": 1,
    "activity_count": 2,
}
ACTIVITIES = [
    {
        "report_id": "pan-a",
        "commitment_no": 1,
        "activity_no": 1,
        "title": '=HYPERLINK("http://x")',
        "status": "unknown",
        "band_min_pct": 0.0,
        "band_max_pct": 100.0,
        "is_status_checked": False,
        "actions_text": "x" * (EXCEL_CELL_MAX_CHARS + 10),
        "source_line": 3,
    },
    {
        "report_id": "pan-a",
        "commitment_no": 1,
        "activity_no": 2,
        "title": "Analyse",
        "status": "limited",
        "band_min_pct": 1.0,
        "band_max_pct": 59.0,
        "is_status_checked": True,
        "source_line": 9,
    },
]


def small_frames() -> dict[str, pd.DataFrame]:
    return {"reports": frame("reports", [REPORT]), "activities": frame("activities", ACTIVITIES)}


def test_text_is_never_a_formula_and_too_long_text_is_cut_and_said():
    book = openpyxl.load_workbook(io.BytesIO(build_workbook("pan-a", small_frames())))
    assert book.sheetnames == [ABOUT_SHEET, "reports", "activities"]
    sheet = book["activities"]
    title = sheet.cell(row=2, column=4)
    assert title.data_type == "s" and title.value == '\'=HYPERLINK("http://x")'
    actions = sheet.cell(row=2, column=9).value
    assert len(actions) == EXCEL_CELL_MAX_CHARS and actions.endswith(TRUNCATION_MARK)
    assert sheet.cell(row=3, column=9).value is None  # missing stays empty
    assert [sheet.cell(row=r, column=5).value for r in (2, 3)] == ["Inconnu", "Progression limitée"]
    note = book[ABOUT_SHEET].cell(row=2, column=1).value
    assert note.startswith("1 cellule(s) de texte")


def test_same_data_same_bytes_and_other_data_other_bytes():
    first = build_workbook("pan-a", small_frames())
    assert build_workbook("pan-a", small_frames()) == first
    assert build_workbook("pan-a", small_frames(), publisher="Ministère X") != first
    with io.BytesIO(first) as fh, zipfile.ZipFile(fh) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert dt.datetime(2001, 1, 1) > WORKBOOK_DATE


def test_a_report_needs_exactly_one_report_row():
    with pytest.raises(ValueError, match="0 rows for report 'pan-z'"):
        build_workbook("pan-z", small_frames())


# The table sheets' fast writer.


def plain_table_sheet(book, formats: dict, table: str, columns: list[list[object]]) -> None:
    """A table sheet written cell by cell with XlsxWriter's own API (what TableSheet replaces)."""
    sheet = book.add_worksheet(table)
    fields = fields_of(table)
    sheet_layout(sheet, formats, table, columns)
    for col, field in enumerate(fields):
        sheet.write_string(0, col, field["title"], formats["header"])
    for row, values in enumerate(zip(*columns), start=1):
        for col, (field, value) in enumerate(zip(fields, values)):
            fmt = formats[column_format_name(field)]
            if value is None:
                continue
            if field["type"] == "boolean":
                assert sheet.write_boolean(row, col, value, fmt) == 0
            elif field["type"] in ("integer", "number"):
                assert sheet.write_number(row, col, value, fmt) == 0
            else:
                assert sheet.write_string(row, col, value, fmt) == 0


def plain_workbook(monkeypatch, report_id: str, frames: dict[str, pd.DataFrame]) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(workbook, "write_table_sheet", plain_table_sheet)
        return build_workbook(report_id, frames)


def test_table_sheets_are_byte_for_byte_those_of_xlsxwriter_cell_by_cell(seed_computed, monkeypatch):
    """The table sheets' one-pass writer gives the bytes XlsxWriter's cell by cell writes give:
    on the seed, and on rows with booleans, missing cells, a formula-like and a cut text."""
    frames = read_publishable_tables(layout(seed_computed))
    fast = build_workbook(SEED_ID, frames)
    assert fast == plain_workbook(monkeypatch, SEED_ID, frames)
    assert build_workbook("pan-a", small_frames()) == plain_workbook(monkeypatch, "pan-a", small_frames())
    # Rows ending early (missing last cells), whole blocks of 16 rows of them: XlsxWriter's row spans.
    ragged = [
        {
            "report_id": "pan-a",
            "stage": "validate",
            "finding_no": n,
            "severity": "warning",
            "code": "c",
            "message": f"constat {n}",
            "table_name": None if n < 20 else "activities",
            "record_key": None if n < 20 or n % 3 else f"activity_no={n}",
            "source_line": n if n % 5 == 0 else None,
        }
        for n in range(1, 40)
    ]
    frames = {"reports": frame("reports", [REPORT]), "findings": frame("findings", ragged)}
    assert build_workbook("pan-a", frames) == plain_workbook(monkeypatch, "pan-a", frames)
    with zipfile.ZipFile(io.BytesIO(fast)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 1 + len(ALL_RESOURCES)
        assert all(b"<sheetData><row " in archive.read(n) for n in sheets)


def test_report_rows_skips_the_work_only_when_it_is_done():
    """Given the rows publish hands a report (its own, in schema order, sorted by key), the
    frame is used as it is; otherwise the rows are selected and sorted as publish does."""
    mine = frame("activities", ACTIVITIES)
    assert report_rows(mine, "activities", "pan-a") is mine
    other = [{**a, "report_id": "pan-b"} for a in ACTIVITIES]
    for rows in (ACTIVITIES[::-1], ACTIVITIES + other, other + ACTIVITIES[::-1]):
        df = frame("activities", rows)
        selected = report_rows(df, "activities", "pan-a")
        assert selected is not df
        pd.testing.assert_frame_equal(selected, select_report_rows(df, "activities", "pan-a"))
        assert selected["activity_no"].tolist() == [1, 2]
    reordered = mine[list(reversed(mine.columns))]
    assert list(report_rows(reordered, "activities", "pan-a").columns) == list(mine.columns)


def test_text_is_cut_in_excel_units_never_inside_a_character():
    """Excel counts UTF-16 units: an emoji counts two, and a cut never splits one."""
    text = "é" + "\U0001f600" * EXCEL_CELL_MAX_CHARS
    cut, was_cut = fit_cell_text(text)
    assert was_cut and cut.endswith(TRUNCATION_MARK)
    assert len(cut.encode("utf-16-le")) // 2 <= EXCEL_CELL_MAX_CHARS
    assert len(cut.encode("utf-16-le")) // 2 >= EXCEL_CELL_MAX_CHARS - 1
    assert cut.encode("utf-8").decode("utf-8") == cut  # no lone surrogate
    assert fit_cell_text("\U0001f600" * (EXCEL_CELL_MAX_CHARS // 2)) == (
        "\U0001f600" * (EXCEL_CELL_MAX_CHARS // 2),
        False,
    )


def test_the_slices_publish_hands_a_release_give_the_workbook_of_the_whole_tables(seed_computed):
    """Marked as one report's rows (:data:`pipeline.workbook.ROWS_OF_REPORT`), the slices
    are taken as they are; the whole tables are filtered and sorted: same workbook."""
    from pipeline.publish import _report_frames, render_tables

    frames = read_publishable_tables(layout(seed_computed))
    rendered = render_tables(frames)
    slices = _report_frames(rendered, [SEED_ID])
    assert all(df.attrs[workbook.ROWS_OF_REPORT] == SEED_ID for df in slices.values())
    whole = {t: r.rows for t, r in rendered.items()}
    assert workbook.build_workbook(SEED_ID, slices) == workbook.build_workbook(SEED_ID, whole)
    assert workbook.report_rows(whole["activities"], "activities", "autre").empty
