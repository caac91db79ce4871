"""The one writer of published rows (pipeline.render): same bytes as the record-by-record writer."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.publish import render_csv, render_json, select_report_rows, table_records
from pipeline.render import check_json_matches_csv, csv_cell, render_table, report_spans


def csv_writer_field(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, "x"])
    return buffer.getvalue()[: -len(",x\n")]


@given(st.text(alphabet=st.sampled_from("a ,\"\n\r\t;é'=-"), min_size=1, max_size=12))
def test_a_text_cell_is_quoted_as_the_csv_module_quotes_it(text):
    assert csv_cell(text) == csv_writer_field(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), (True, "true"), (False, "false"), (3, "3"), (2.5, "2.5"), (1e-06, "1e-06"), ('a "b"', '"a ""b"""')],
)
def test_typed_values_as_csv_fields(value, expected):
    assert csv_cell(value) == expected


AXES = pd.DataFrame(
    {
        "report_id": pd.array(["b", "a", "a", "b"], dtype="str"),
        "axis_no": pd.array([1, 2, 1, 2], dtype="Int64"),
        "name": pd.array(["Axe, un", "=Deux", "Un", None], dtype="str"),
        "source_line": pd.array([3, 9, 4, 7], dtype="Int64"),
    }
)


def test_each_report_file_is_its_slice_of_lines_rendered_once():
    rendered = render_table(AXES, "axes")
    assert rendered.spans == {"a": (0, 2), "b": (2, 4)}
    assert rendered.csv_bytes(["a"]) == (b"report_id,axis_no,name,source_line\na,1,Un,4\na,2,'=Deux,9\n")
    for report_id in ("a", "b"):
        records = table_records(select_report_rows(AXES, "axes", report_id), "axes")
        assert rendered.csv_bytes([report_id]) == render_csv(records, "axes")
        assert rendered.json_bytes([report_id]) == render_json(records)
    assert rendered.csv_bytes() == rendered.csv_bytes(["b", "a"])
    assert rendered.json_bytes(["z"]) == render_json([])


def test_a_reports_rows_are_one_slice_of_each_buffer():
    rendered = render_table(AXES, "axes")
    header = b"report_id,axis_no,name,source_line\n"
    assert rendered.csv_slice(0, 2) == b"a,1,Un,4\na,2,'=Deux,9\n"
    assert header + rendered.csv_slice(0, 2) + rendered.csv_slice(2, 4) == rendered.csv_bytes()
    both = render_json(table_records(AXES.sort_values(["report_id", "axis_no"]), "axes"))
    assert b"[\n" + rendered.json_slice(0, 2) + b",\n" + rendered.json_slice(2, 4) + b"\n]\n" == both
    assert rendered.json_slice(3, 4).startswith(b"  {") and rendered.json_slice(3, 4).endswith(b"}")
    assert rendered.json_slice(1, 1) == b"" and rendered.row_count() == 4


def test_rows_of_a_report_must_be_contiguous():
    assert report_spans(["a", "a", "b"]) == {"a": (0, 2), "b": (2, 3)}
    with pytest.raises(ValueError, match="'a'"):
        report_spans(["a", "b", "a"])


def test_a_json_value_that_reads_back_otherwise_than_its_csv_field_is_an_error():
    check_json_matches_csv(["2.5", "x"], ["2.5", '"x"'])
    with pytest.raises(AssertionError, match="true"):
        check_json_matches_csv(["1"], ["true"])
