"""The release's Excel workbook: ``exports/<report_id>/<report_id>.xlsx``, for spreadsheet users.

A French spreadsheet opening the package's CSV reads ``.`` decimals as text, turns
``as_of`` ("2023-07") into a date and shows English status codes. The workbook holds
the same rows as the CSV files with every cell typed (numbers as numbers, integers as
integers, booleans as booleans, text as text: ``as_of`` stays "2023-07"), so that the
spreadsheet's locale no longer matters:

* a first sheet, « À propos », describes the package (title, report, source SHA-256,
  licence, publisher) and lists the sheets;
* then one sheet per table, named after its CSV file, with the French field titles
  as a frozen, filterable header row; statuses are shown in French
  (:data:`STATUS_LABELS`); the values are the CSV's (computed figures rounded as
  published) and percentages are displayed with one decimal.

:func:`build_workbook` is pure (DataFrames in, bytes out) and deterministic: the
workbook's creation date is fixed and XlsxWriter writes its zip entries with a fixed
timestamp, so that the same data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import xlsxwriter

from pipeline import __version__
from pipeline.publish import (
    LICENCE,
    NEUTRALISATION_NOTE,
    neutralise_formula,
    package_title,
    package_title_ar,
    select_report_rows,
    table_records,
)
from pipeline.settings import DEFAULT_PUBLISHER
from schemas import ALL_RESOURCES, STATUS_BANDS, table_fields

#: French labels of the status codes, as the template's checklist words them
#: (« Non entamée », « Progression limitée »…); ``unknown`` is the pipeline's own.
STATUS_LABELS: dict[str, str] = {
    "not_started": "Non entamée",
    "limited": "Progression limitée",
    "substantial": "Progression significative",
    "complete": "Complétée",
    "unknown": "Inconnu",
}
#: Columns holding a status code, shown with its French label.
STATUS_FIELDS = frozenset({"status"})
#: The workbook's creation and modification date: fixed, so that the bytes depend on the data only.
WORKBOOK_DATE = dt.datetime(2000, 1, 1, 0, 0, 0)
#: The first sheet's name.
ABOUT_SHEET = "À propos"
#: Excel's limit on the characters of one cell; longer text is cut and the cut marked.
EXCEL_CELL_MAX_CHARS = 32767
TRUNCATION_MARK = " […]"
#: Display formats (the stored value keeps its full precision).
INTEGER_FORMAT = "0"
PERCENT_FORMAT = "0.0"
NUMBER_FORMAT = "General"
TEXT_FORMAT = "@"
#: Units whose values are shown with one decimal.
ONE_DECIMAL_UNITS = frozenset({"%", "points de %"})
#: Column widths, in characters.
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60
#: Rows looked at to size a column.
WIDTH_SAMPLE_ROWS = 200
HEADER_COLOUR = "#DDEBF7"


def status_label(code: str | None) -> str | None:
    """The French label of a status code; an unexpected code is shown as it is."""
    return None if code is None else STATUS_LABELS.get(code, code)


def report_metadata(report_id: str, frames: dict[str, pd.DataFrame]) -> dict:
    """The report's row as a dict (missing values as None).

    Raises:
        ValueError: if ``frames["reports"]`` does not hold exactly one row for ``report_id``.
    """
    rows = select_report_rows(frames["reports"], "reports", report_id)
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} rows for report {report_id!r} in the reports table, expected 1")
    return {k: None if pd.isna(v) else v for k, v in rows.iloc[0].items()}


def sheet_tables(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The tables given a sheet: those of the package present in ``frames``, in package order."""
    return [t for t in ALL_RESOURCES if t in frames]


def sheet_rows(rows: pd.DataFrame, table: str) -> list[list[object]]:
    """The cells of ``table``'s rows: the CSV's values, typed, with statuses in French.

    The values are those of the package (:func:`pipeline.publish.table_records`:
    typed by the schema, text neutralised against formulas), so that each sheet reads
    back equal to its CSV apart from the status labels.
    """
    records = table_records(rows, table)
    return [
        [status_label(value) if name in STATUS_FIELDS else value for name, value in record.items()]
        for record in records
    ]


def column_format_name(field: dict) -> str:
    """The display format of a field's cells: integer, one decimal, general number, text."""
    if field["type"] == "integer":
        return INTEGER_FORMAT
    if field["type"] == "number":
        return PERCENT_FORMAT if field.get("unit") in ONE_DECIMAL_UNITS else NUMBER_FORMAT
    return TEXT_FORMAT


def column_width(header: str, values: list[object]) -> int:
    """A column's width: its longest header word or sampled value, within bounds."""
    longest_word = max((len(w) for w in header.split()), default=0)
    longest_value = max((len(str(v)) for v in values[:WIDTH_SAMPLE_ROWS] if v is not None), default=0)
    return max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, max(longest_word + 2, longest_value + 1)))


def fit_cell_text(text: str) -> tuple[str, bool]:
    """``text`` cut to Excel's cell limit (the cut marked), and whether it was cut."""
    if len(text) <= EXCEL_CELL_MAX_CHARS:
        return text, False
    return text[: EXCEL_CELL_MAX_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK, True


def about_lines(report: dict, publisher: str) -> list[tuple[str, str | None]]:
    """The package's description on the first sheet: (label, value) pairs."""
    return [
        ("Titre", package_title(report)),
        ("Titre en arabe", package_title_ar(report)),
        ("Rapport source", report.get("title")),
        ("Période du plan", report.get("plan_period")),
        ("Chiffres arrêtés à", report.get("as_of")),
        ("Fichier source", report.get("source_file")),
        ("Empreinte SHA-256 de la source", report.get("source_sha256")),
        ("Licence", f"{LICENCE['title']} ({LICENCE['name']}) : {LICENCE['path']}"),
        ("Éditeur", publisher),
        ("Produit par", f"pgo-pipeline {__version__}"),
    ]


def about_notes() -> list[str]:
    """How to read the sheets, in French."""
    statuses = " ; ".join(
        f"{code} → « {label} » ({STATUS_BANDS[code][0]:g}-{STATUS_BANDS[code][1]:g} %)" for code, label in STATUS_LABELS.items()
    )
    return [
        "Chaque feuille porte le nom du fichier CSV du paquet de données (data/<feuille>.csv) et en "
        "contient les mêmes lignes, dans le même ordre ; la première ligne donne le titre français de "
        "chaque colonne.",
        "Les nombres sont enregistrés comme nombres, avec les valeurs des fichiers CSV ; les pourcentages "
        "sont affichés avec une décimale. Les textes restent du texte (ainsi « 2023-07 » n'est pas une date).",
        f"Les statuts sont affichés en français : {statuses}.",
        "Une cellule vide est une valeur manquante.",
        NEUTRALISATION_NOTE,
    ]


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "header": workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": HEADER_COLOUR, "bottom": 1}),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "label": workbook.add_format({"bold": True, "valign": "top"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top", "num_format": TEXT_FORMAT}),
        INTEGER_FORMAT: workbook.add_format({"num_format": INTEGER_FORMAT}),
        PERCENT_FORMAT: workbook.add_format({"num_format": PERCENT_FORMAT}),
        NUMBER_FORMAT: workbook.add_format({"num_format": NUMBER_FORMAT}),
        TEXT_FORMAT: workbook.add_format({"num_format": TEXT_FORMAT}),
    }


def _write_cell(sheet, row: int, col: int, value: object, field_type: str, fmt) -> bool:
    """Write one typed cell; returns True when its text had to be cut."""
    if value is None:
        return False
    if field_type == "boolean":
        sheet.write_boolean(row, col, bool(value), fmt)
    elif field_type in ("integer", "number"):
        sheet.write_number(row, col, value, fmt)
    else:
        text, cut = fit_cell_text(str(value))
        sheet.write_string(row, col, text, fmt)
        return cut
    return False


def _write_table_sheet(workbook, formats: dict, table: str, rows: list[list[object]]) -> int:
    """One table's sheet; returns the number of text cells cut to Excel's limit."""
    sheet = workbook.add_worksheet(table)
    fields = table_fields(table)
    cut = 0
    for col, field in enumerate(fields):
        header = field["title"]
        sheet.write_string(0, col, header, formats["header"])
        fmt = formats[column_format_name(field)]
        sheet.set_column(col, col, column_width(header, [r[col] for r in rows]), fmt)
        for row_no, row in enumerate(rows, start=1):
            cut += _write_cell(sheet, row_no, col, row[col], field["type"], fmt)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(fields) - 1)
    return cut


def _write_about_sheet(sheet, formats: dict, report: dict, publisher: str, contents: list[tuple[str, int]]) -> None:
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 52)
    sheet.set_column(2, 2, 90)
    sheet.set_column(3, 3, 10)
    sheet.write_string(0, 0, neutralise_formula(package_title(report)), formats["title"])
    row = 2
    for label, value in about_lines(report, publisher):
        sheet.write_string(row, 0, label, formats["label"])
        if value:
            sheet.write_string(row, 1, neutralise_formula(str(value)), formats[TEXT_FORMAT])
        row += 1
    row += 1
    for col, header in enumerate(("Feuille", "Contenu", "Description", "Lignes")):
        sheet.write_string(row, col, header, formats["header"])
    for table, count in contents:
        row += 1
        sheet.write_string(row, 0, table, formats[TEXT_FORMAT])
        sheet.write_string(row, 1, ALL_RESOURCES[table]["title"], formats["wrap"])
        sheet.write_string(row, 2, ALL_RESOURCES[table]["description"], formats["wrap"])
        sheet.write_number(row, 3, count, formats[INTEGER_FORMAT])
    row += 2
    sheet.write_string(row, 0, "À savoir", formats["label"])
    for note in about_notes():
        sheet.write_string(row, 1, note, formats["wrap"])
        row += 1


def build_workbook(report_id: str, frames: dict[str, pd.DataFrame], publisher: str = DEFAULT_PUBLISHER) -> bytes:
    """The ``.xlsx`` bytes of ``report_id``'s workbook: a description sheet, then one sheet per table.

    Args:
        report_id: the report; ``frames["reports"]`` must hold exactly one row for it.
        frames: curated and computed tables by name (all reports or this one's); a
            table absent from it gets no sheet.
        publisher: who publishes the dataset, named on the first sheet.

    Raises:
        ValueError: if ``frames["reports"]`` does not hold exactly one row for ``report_id``.
    """
    report = report_metadata(report_id, frames)
    tables = sheet_tables(frames)
    rows = {t: sheet_rows(select_report_rows(frames[t], t, report_id), t) for t in tables}

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties(
        {
            "title": neutralise_formula(package_title(report)),
            "subject": "Plan d'action national pour un gouvernement ouvert : auto-évaluation",
            "author": neutralise_formula(publisher),
            "keywords": "PGO, gouvernement ouvert, Maroc",
            "comments": f"Source : {report.get('source_file')} (SHA-256 {report.get('source_sha256')})",
            "created": WORKBOOK_DATE,
        }
    )
    formats = _formats(workbook)
    about = workbook.add_worksheet(ABOUT_SHEET)
    cut = sum(_write_table_sheet(workbook, formats, table, rows[table]) for table in tables)
    _write_about_sheet(about, formats, report, publisher, [(t, len(rows[t])) for t in tables])
    if cut:
        about.write_string(1, 0, f"{cut} cellule(s) de texte dépassant {EXCEL_CELL_MAX_CHARS} caractères sont coupées (marque{TRUNCATION_MARK}) : le texte entier est dans les fichiers CSV.")
    workbook.close()
    return buffer.getvalue()
