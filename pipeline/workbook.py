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

A release must publish 1,000 reports in under a minute on two cores, and XlsxWriter's
cell by cell writes took most of a workbook's time: the table sheets' cells are
written in one pass (:class:`TableSheet`), into the bytes XlsxWriter's own writes
would give (a test compares them); a report's rows, as publish hands them (its slice,
sorted), are read as they are (:func:`report_rows`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import math

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from pipeline import __version__
from pipeline.publish import (
    LICENCE,
    NEUTRALISATION_NOTE,
    PUBLISHED_DECIMALS,
    neutralise_formula,
    package_title,
    package_title_ar,
    select_report_rows,
    typed_value,
)
from pipeline.settings import DEFAULT_PUBLISHER
from schemas import ALL_RESOURCES, COMPUTED_TABLES, STATUS_BANDS, table_fields

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


@functools.cache
def fields_of(table: str) -> tuple[dict, ...]:
    """:func:`schemas.table_fields`, resolved once per table (read only: do not change them)."""
    return tuple(table_fields(table))


def _sorted_by_key(df: pd.DataFrame, table: str) -> bool:
    """Whether ``df``'s rows are in primary-key order (False when a key is missing)."""
    keys = list(zip(*(df[c].tolist() for c in ALL_RESOURCES[table]["primary_key"])))
    try:
        return all(a <= b for a, b in itertools.pairwise(keys))
    except TypeError:  # None or pd.NA in a key: let pandas sort it
        return False


#: The ``attrs`` key by which a frame says it holds exactly one report's rows, columns
#: in schema order, sorted by key (what the publish stage hands each report's release).
ROWS_OF_REPORT = "pgo_rows_of_report"


def report_rows(df: pd.DataFrame, table: str, report_id: str) -> pd.DataFrame:
    """:func:`pipeline.publish.select_report_rows` (``report_id``'s rows, columns in schema
    order, sorted by primary key), skipped when ``df`` already is just that, as the slice
    publish hands each report (marked :data:`ROWS_OF_REPORT`, or checked): then ``df``
    itself is returned, with its index."""
    if df.attrs.get(ROWS_OF_REPORT) == report_id:
        return df
    if (
        list(df.columns) == [f["name"] for f in fields_of(table)]
        and all(r == report_id for r in df["report_id"].tolist())
        and _sorted_by_key(df, table)
    ):
        return df
    return select_report_rows(df, table, report_id)


def report_metadata(report_id: str, frames: dict[str, pd.DataFrame]) -> dict:
    """The report's row as a dict (missing values as None).

    Raises:
        ValueError: if ``frames["reports"]`` does not hold exactly one row for ``report_id``.
    """
    rows = report_rows(frames["reports"], "reports", report_id)
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} rows for report {report_id!r} in the reports table, expected 1")
    return {k: None if pd.isna(v) else v for k, v in rows.iloc[0].items()}


def sheet_tables(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The tables given a sheet: those of the package present in ``frames``, in package order."""
    return [t for t in ALL_RESOURCES if t in frames]


def typed_column(values: list, field: dict, decimals: int | None) -> list:
    """A column's cells as the package's files hold them (:func:`pipeline.publish.typed_value`:
    typed by the schema, missing and empty text as None, text neutralised against
    formulas, computed numbers rounded as published), statuses in French; each
    distinct value converted once."""
    kind, status = field["type"], field["name"] in STATUS_FIELDS
    if kind == "number" and decimals is None:  # as they are (a cache would take -0.0 for 0.0)
        return [typed_value(value, kind, None) for value in values]
    seen: dict = {}
    out = []
    for value in values:
        try:
            out.append(seen[value])
            continue
        except KeyError:
            pass
        except TypeError:  # unhashable: converted each time
            out.append(_typed(value, kind, decimals, status))
            continue
        out.append(seen.setdefault(value, _typed(value, kind, decimals, status)))
    return out


def _typed(value: object, kind: str, decimals: int | None, status: bool) -> object:
    typed = typed_value(value, kind, decimals)
    return status_label(typed) if status else typed


def sheet_columns(rows: pd.DataFrame, table: str) -> list[list[object]]:
    """The cells of ``table``'s rows, column by column: the CSV's values, typed, statuses in French.

    So that each sheet reads back equal to its CSV apart from the status labels.
    """
    decimals = PUBLISHED_DECIMALS if table in COMPUTED_TABLES else None
    return [typed_column(rows[f["name"]].tolist(), f, decimals) for f in fields_of(table)]


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
    """``text`` cut to Excel's cell limit (the cut marked), and whether it was cut.

    The limit counts UTF-16 code units, as Excel does (a character outside the Basic
    Multilingual Plane counts two); the cut never splits such a character.
    """
    if len(text) <= EXCEL_CELL_MAX_CHARS // 2 or len(text.encode("utf-16-le")) <= 2 * EXCEL_CELL_MAX_CHARS:
        return text, False
    units = text.encode("utf-16-le")[: 2 * (EXCEL_CELL_MAX_CHARS - len(TRUNCATION_MARK))]
    return units.decode("utf-16-le", errors="ignore") + TRUNCATION_MARK, True


def fit_texts(columns: list[list[object]], fields: tuple[dict, ...]) -> int:
    """Cut, in place, the texts of ``columns`` longer than Excel allows; returns how many were cut."""
    cut = 0
    for field, values in zip(fields, columns):
        if field["type"] in ("boolean", "integer", "number"):
            continue
        for i, value in enumerate(values):
            if value is not None and len(value) > EXCEL_CELL_MAX_CHARS // 2:
                values[i], was_cut = fit_cell_text(value)
                cut += was_cut
    return cut


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
        f"{code} → « {label} » ({STATUS_BANDS[code][0]:g}-{STATUS_BANDS[code][1]:g} %)"
        for code, label in STATUS_LABELS.items()
    )
    return [
        (
            "Chaque feuille porte le nom du fichier CSV du paquet de données (data/<feuille>.csv) et en "
            "contient les mêmes lignes, dans le même ordre ; la première ligne donne le titre français de "
            "chaque colonne."
        ),
        (
            "Les nombres sont enregistrés comme nombres, avec les valeurs des fichiers CSV ; les pourcentages "
            "sont affichés avec une décimale. Les textes restent du texte (ainsi « 2023-07 » n'est pas une date)."
        ),
        f"Les statuts sont affichés en français : {statuses}.",
        "Une cellule vide est une valeur manquante.",
        NEUTRALISATION_NOTE,
    ]


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "header": workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": HEADER_COLOUR, "bottom": 1}
        ),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "label": workbook.add_format({"bold": True, "valign": "top"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top", "num_format": TEXT_FORMAT}),
        INTEGER_FORMAT: workbook.add_format({"num_format": INTEGER_FORMAT}),
        PERCENT_FORMAT: workbook.add_format({"num_format": PERCENT_FORMAT}),
        NUMBER_FORMAT: workbook.add_format({"num_format": NUMBER_FORMAT}),
        TEXT_FORMAT: workbook.add_format({"num_format": TEXT_FORMAT}),
    }


class TableSheet(Worksheet):
    """A worksheet of one table, its cells kept as columns and written in one pass.

    XlsxWriter keeps each cell as an object and writes its XML one call at a time,
    which took three quarters of a workbook's time. :meth:`write_table` registers the
    table's texts in the workbook's shared strings and renders the ``<sheetData>``
    element's rows at once, as XlsxWriter would write them (row spans, cell style,
    shared-string index, number as ``{:.16G}``, boolean as 0 or 1), their style
    indexes filled in when the workbook is closed (XlsxWriter numbers styles then).
    The rest of the sheet (columns, frozen pane, filter, dimension) is XlsxWriter's
    own. ``tests/test_workbook.py`` checks that the bytes are those of XlsxWriter's
    cell by cell writes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._table_xml: str | None = None
        self._table_formats: list = []

    def write_table(self, headers: list[str], header_format, columns: list[tuple[str, object, list]]) -> None:
        """Write the header row (row 0) and, under it, ``columns``: (field type, format, values),
        values typed (None: no cell; text already within Excel's limit)."""
        if columns and len(columns[0][2]) >= self.xls_rowmax:
            raise ValueError(f"{len(columns[0][2])} rows: more than an Excel sheet holds under its header")
        shared = self.str_table._get_shared_string_index
        letters = [xl_col_to_name(col) for col in range(len(headers))]
        kinds = [kind for kind, _, _ in columns]
        # Cell texts, row by row (the order XlsxWriter registers shared strings in);
        # "{i}" is the style of format i (0: the header's), filled in at close.
        rows = [
            (
                0,
                [f'<c r="{letter}1" s="{{0}}" t="s"><v>{shared(h)}</v></c>' for letter, h in zip(letters, headers)],
                0,
                len(headers) - 1,
            )
        ]
        for row, values in enumerate(zip(*(values for _, _, values in columns)), start=1):
            cells, first, last, r = [], None, None, row + 1
            for col, value in enumerate(values):
                if value is None:
                    continue
                kind = kinds[col]
                if kind == "boolean":
                    cells.append(f'<c r="{letters[col]}{r}" s="{{{col + 1}}}" t="b"><v>{1 if value else 0}</v></c>')
                elif kind in ("integer", "number"):
                    if not math.isfinite(value):
                        raise ValueError(f"{value!r} in column {headers[col]!r}: not a number Excel can hold")
                    cells.append(f'<c r="{letters[col]}{r}" s="{{{col + 1}}}"><v>{value:.16G}</v></c>')
                else:
                    cells.append(f'<c r="{letters[col]}{r}" s="{{{col + 1}}}" t="s"><v>{shared(value)}</v></c>')
                last = col
                first = col if first is None else first
            if cells:
                rows.append((row, cells, first, last))
        self._check_dimensions(0, 0)
        self._check_dimensions(rows[-1][0], len(headers) - 1)
        self._table_formats = [header_format, *(fmt for _, fmt, _ in columns)]
        self._table_xml = "".join(_rows_xml(rows))

    def _write_sheet_data(self) -> None:
        if self._table_xml is None:
            super()._write_sheet_data()
            return
        styles = [fmt._get_xf_index() for fmt in self._table_formats]
        self._xml_start_tag("sheetData")
        self.fh.write(self._table_xml.format(*styles))
        self._xml_end_tag("sheetData")


def _rows_xml(rows: list[tuple[int, list[str], int, int]]):
    """``<row>`` elements of (row, cells, first column, last column), with XlsxWriter's
    ``spans``: per block of 16 rows, the first to the last column holding a cell."""
    spans: dict[int, tuple[int, int]] = {}
    for row, _, first, last in rows:
        low, high = spans.get(row // 16, (first, last))
        spans[row // 16] = (min(low, first), max(high, last))
    for row, cells, _, _ in rows:
        low, high = spans[row // 16]
        yield f'<row r="{row + 1}" spans="{low + 1}:{high + 1}">' + "".join(cells) + "</row>"


def sheet_layout(sheet, formats: dict, table: str, columns: list[list[object]]) -> None:
    """A table sheet's columns (width, display format), frozen header row and filter."""
    fields = fields_of(table)
    for col, (field, values) in enumerate(zip(fields, columns)):
        sheet.set_column(col, col, column_width(field["title"], values), formats[column_format_name(field)])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(columns[0]) if columns else 0, 1), len(fields) - 1)


def write_table_sheet(workbook, formats: dict, table: str, columns: list[list[object]]) -> None:
    """One table's sheet: the header row of French titles, then the typed cells."""
    sheet = workbook.add_worksheet(table, worksheet_class=TableSheet)
    fields = fields_of(table)
    sheet_layout(sheet, formats, table, columns)
    sheet.write_table(
        [f["title"] for f in fields],
        formats["header"],
        [(f["type"], formats[column_format_name(f)], values) for f, values in zip(fields, columns)],
    )


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
    columns = {t: sheet_columns(report_rows(frames[t], t, report_id), t) for t in tables}
    cut = sum(fit_texts(columns[t], fields_of(t)) for t in tables)

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
    _write_about_sheet(about, formats, report, publisher, [(t, len(columns[t][0])) for t in tables])
    if cut:
        about.write_string(
            1,
            0,
            f"{cut} cellule(s) de texte dépassant {EXCEL_CELL_MAX_CHARS} caractères sont coupées "
            f"(marque{TRUNCATION_MARK}) : le texte entier est dans les fichiers CSV.",
        )
    for table in tables:
        write_table_sheet(workbook, formats, table, columns[table])
    workbook.close()
    return buffer.getvalue()
