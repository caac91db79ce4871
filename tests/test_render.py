"""The one writer of published rows (pipeline.render): same bytes as the record-by-record writer."""

from __future__ import annotations

import csv
import hashlib
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


def test_files_written_piece_by_piece_are_the_same_bytes(tmp_path):
    rendered = render_table(AXES, "axes")
    for ids in (["a", "b"], ["b"], ["z"]):
        size, sha = rendered.write_csv(tmp_path / "t.csv", ids)
        assert (tmp_path / "t.csv").read_bytes() == rendered.csv_bytes(ids)
        assert (size, sha) == (len(rendered.csv_bytes(ids)), hashlib.sha256(rendered.csv_bytes(ids)).hexdigest())
        rendered.write_json(tmp_path / "t.json", ids)
        assert (tmp_path / "t.json").read_bytes() == rendered.json_bytes(ids)


def test_rows_of_a_report_must_be_contiguous():
    assert report_spans(["a", "a", "b"]) == {"a": (0, 2), "b": (2, 3)}
    with pytest.raises(ValueError, match="'a'"):
        report_spans(["a", "b", "a"])


def test_a_json_value_that_reads_back_otherwise_than_its_csv_field_is_an_error():
    check_json_matches_csv(["2.5", "x"], ["2.5", '"x"'])
    with pytest.raises(AssertionError, match="true"):
        check_json_matches_csv(["1"], ["true"])
