"""The one writer of published rows: every table rendered once, for every report at once.

A table's rows are typed by the schema (:func:`pipeline.publish.table_records`'s rules:
missing and empty text become null, text is neutralised, computed numbers are rounded
as published), sorted by primary key (``report_id`` first, so each report's rows are
one contiguous slice) and rendered once as CSV lines and as JSON object texts. Every
published data file is then a header followed by a slice of those same lines: a
report's file holds its slice, the national file all of them. So a report's rows are
byte for byte the rows that were validated, whichever file they are read from
(the publish stage checks each report's release records the digest of the very lines
the national files are written from).

Cells are rendered once per distinct value of a column, not once per row.
"""

from __future__ import annotations

import csv
import decimal
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas import ALL_RESOURCES, COMPUTED_TABLES, table_fields

#: Characters that may make the CSV writer (``csv.writer``, QUOTE_MINIMAL) quote a cell: a
#: cell holding one is written by the csv module itself (whether ``\r`` is quoted
#: depends on the Python version).
CSV_SPECIAL_CHARACTERS = (",", '"', "\n", "\r")
JSON_INDENT = "  "


#: Text starting with one of these is prefixed with ``'`` (see :func:`neutralise_formula`).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\ufe66", "\uff0b", "\uff0d", "\uff20")
#: Decimals of the computed figures in the published files (the database keeps full
#: precision): a reader wants 81.7, not 81.7357142857143.
PUBLISHED_DECIMALS = 1


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``=1+1`` -> ``'=1+1``).

    Text starting with one of :data:`FORMULA_PREFIXES` gets the prefix and is otherwise
    unchanged (``-2+3`` -> ``'-2+3``); other text is returned as it is. Applying it
    twice gives the same as once.
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def round_half_up(value: float, decimals: int) -> float:
    """``value`` rounded half away from zero, as DuckDB's ``round`` and spreadsheets do
    (``78.25`` -> ``78.3``, where Python's ``round`` gives ``78.2``); never ``-0.0``."""
    quantum = decimal.Decimal(1).scaleb(-decimals)
    rounded = decimal.Decimal(repr(value)).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    return float(rounded) + 0.0


def typed_value(value: object, field_type: str, decimals: int | None) -> object:
    """A cell as the published files hold it: None for missing or empty text."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if field_type == "integer":
        return int(value)
    if field_type == "number":
        return float(value) if decimals is None else round_half_up(float(value), decimals)
    if field_type == "boolean":
        return bool(value)
    text = str(value)
    return neutralise_formula(text) if text else None


def csv_cell(value: object) -> str:
    """A typed value as one CSV field, quoted as ``csv.writer`` quotes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, float) else str(value)
    if any(c in text for c in CSV_SPECIAL_CHARACTERS):
        return _csv_module_field(text)
    return text


def _csv_module_field(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[: -len(",\n")]


def json_cell(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def render_column(values: pd.Series, field_type: str, decimals: int | None) -> tuple[np.ndarray, np.ndarray]:
    """CSV and JSON texts of a column's cells, each distinct value rendered once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    typed = [typed_value(v, field_type, decimals) for v in uniques] + [None]
    csv_texts = np.array([csv_cell(v) for v in typed], dtype=object)
    json_texts = np.array([json_cell(v) for v in typed], dtype=object)
    check_json_matches_csv(csv_texts, json_texts)
    return csv_texts[codes], json_texts[codes]


def check_json_matches_csv(csv_texts, json_texts) -> None:
    """Raise unless every JSON value, read back, is written as the same CSV field.

    The JSON files' rows are assembled from these values exactly as the CSV files' rows
    are, so this extends the rows' validation (of the CSV) to the JSON copies.
    """
    for csv_text, json_text in zip(csv_texts, json_texts):
        if csv_cell(json.loads(json_text)) != csv_text:
            raise AssertionError(f"JSON value {json_text!r} does not read back as the CSV field {csv_text!r}")


def report_spans(report_ids: list[str]) -> dict[str, tuple[int, int]]:
    """``report_id -> (start, stop)`` of each report's contiguous rows."""
    spans: dict[str, tuple[int, int]] = {}
    start = 0
    for i in range(1, len(report_ids) + 1):
        if i == len(report_ids) or report_ids[i] != report_ids[start]:
            if report_ids[start] in spans:
                raise ValueError(f"rows of report {report_ids[start]!r} are not contiguous")
            spans[report_ids[start]] = (start, i)
            start = i
    return spans


@dataclass
class RenderedTable:
    """One table's rows rendered once, sliced per report: the CSV lines as one UTF-8
    buffer (``csv``, line ``i`` at ``csv_offsets[i]:csv_offsets[i + 1]``) and the JSON
    objects as one, joined by ``,\n`` (object ``i`` at
    ``json_offsets[i]:json_offsets[i + 1] - 2``). Encoded buffers, not one Python string
    a line: a thousand reports' rows take half the memory, and a report's rows are one
    slice of each buffer."""

    table: str
    header: str
    csv: bytes = field(repr=False)
    csv_offsets: np.ndarray = field(repr=False)
    json: bytes = field(repr=False)
    json_offsets: np.ndarray = field(repr=False)
    spans: dict[str, tuple[int, int]]
    rows: pd.DataFrame = field(repr=False)

    def span(self, report_id: str) -> tuple[int, int]:
        return self.spans.get(report_id, (0, 0))

    def csv_slice(self, start: int, stop: int) -> bytes:
        """The CSV lines of rows ``start`` to ``stop``."""
        return self.csv[self.csv_offsets[start] : self.csv_offsets[stop]]

    def json_slice(self, start: int, stop: int) -> bytes:
        """The JSON objects of rows ``start`` to ``stop``, joined by ``,\n``."""
        if start == stop:
            return b""
        return self.json[self.json_offsets[start] : self.json_offsets[stop] - len(JSON_SEPARATOR)]

    def csv_bytes(self, report_ids: list[str] | None = None) -> bytes:
        """The CSV file of ``report_ids``' rows (all rows when None), in the table's order."""
        return self.header.encode("utf-8") + b"".join(self.csv_slice(*s) for s in self._spans(report_ids))

    def json_bytes(self, report_ids: list[str] | None = None) -> bytes:
        """The JSON file of ``report_ids``' rows (all rows when None), in the table's order."""
        chunks = [self.json_slice(*s) for s in self._spans(report_ids) if s[0] < s[1]]
        if not chunks:
            return b"[]\n"
        return b"[\n" + JSON_SEPARATOR.join(chunks) + b"\n]\n"

    def row_count(self) -> int:
        return len(self.csv_offsets) - 1

    def _spans(self, report_ids: list[str] | None) -> list[tuple[int, int]]:
        if report_ids is None:
            return [(0, self.row_count())]
        return sorted(self.span(r) for r in report_ids)


#: What separates two JSON objects in a data file (after the object, before the next).
JSON_SEPARATOR = b",\n"


def join_encoded(texts: list[str], separator: bytes = b"") -> tuple[bytes, np.ndarray]:
    """``texts`` encoded as UTF-8 and joined by ``separator``, and where each starts,
    plus one offset more, as if the last were followed by ``separator`` too (text ``i``
    ends ``len(separator)`` bytes before offset ``i + 1``)."""
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((len(e) + len(separator) for e in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return separator.join(encoded), offsets


def sort_rows(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rows in schema column order, sorted by primary key (stable)."""
    columns = [f["name"] for f in table_fields(table)]
    key = ALL_RESOURCES[table]["primary_key"]
    return df.loc[:, columns].sort_values(key, kind="mergesort").reset_index(drop=True)


def render_table(df: pd.DataFrame, table: str) -> RenderedTable:
    """Render ``table``'s rows (any number of reports) once."""
    fields = table_fields(table)
    rows = sort_rows(df, table)
    del df  # with render_tables(consume=True), the last reference to the unsorted rows
    decimals = PUBLISHED_DECIMALS if table in COMPUTED_TABLES else None
    csv_columns, json_columns = [], []
    for f in fields:
        csv_texts, json_texts = render_column(rows[f["name"]], f["type"], decimals)
        csv_columns.append(csv_texts)
        key = f"{JSON_INDENT * 2}{json.dumps(f['name'])}: "
        json_columns.append(key + json_texts)
    csv_lines = [",".join(cells) + "\n" for cells in zip(*csv_columns)] if len(rows) else []
    del csv_columns
    csv_buffer, csv_offsets = join_encoded(csv_lines)
    del csv_lines
    open_, close = f"{JSON_INDENT}{{\n", f"\n{JSON_INDENT}}}"
    json_objects = [open_ + ",\n".join(cells) + close for cells in zip(*json_columns)] if len(rows) else []
    del json_columns
    json_buffer, json_offsets = join_encoded(json_objects, JSON_SEPARATOR)
    del json_objects
    header = ",".join(f["name"] for f in fields) + "\n"
    spans = report_spans(rows["report_id"].tolist())
    return RenderedTable(
        table, header, csv_buffer, csv_offsets, json_buffer, json_offsets, spans, with_object_strings(rows)
    )


def with_object_strings(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with its text columns held as Python strings: the readers of many small
    slices (the report page, the workbook) then read values without Arrow conversions."""
    text = [c for c, dtype in rows.dtypes.items() if isinstance(dtype, pd.StringDtype)]
    return rows.astype(dict.fromkeys(text, object)) if text else rows


def render_tables(frames: dict[str, pd.DataFrame], *, consume: bool = False) -> dict[str, RenderedTable]:
    """Every published table of ``frames`` rendered once, in :data:`schemas.ALL_RESOURCES`
    order; with ``consume``, each frame is taken out of ``frames`` as it is rendered, so
    that a thousand reports' tables are not all held twice at once."""
    take = frames.pop if consume else frames.get
    return {table: render_table(take(table), table) for table in ALL_RESOURCES if table in frames}
