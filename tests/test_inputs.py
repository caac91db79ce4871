"""What raw/ offers: reports, and the *.txt entries refused before any stage sees them."""

from __future__ import annotations

import os

import pytest

from pipeline.inputs import list_inputs, report_id_problem


@pytest.mark.parametrize(
    ("report_id", "valid"),
    [
        ("ma-pan-2021-2023", True),
        ("a", True),
        ("a" * 100, True),
        ("a" * 101, False),
        ("..", False),
        ("", False),
        ("-abc", False),
        ("abc-", False),
        ("a--b", False),
        ("Abc", False),
        ("a_b", False),
        ("a.b", False),
        ("rapport é", False),
    ],
)
def test_report_ids(report_id, valid):
    assert (report_id_problem(report_id) is None) is valid


def test_list_inputs_takes_regular_files_with_valid_ids_and_names_the_rest(tmp_path):
    (tmp_path / "good.txt").write_text("x", encoding="utf-8")
    (tmp_path / "good.weights.csv").write_text("x", encoding="utf-8")
    (tmp_path / "...txt").write_text("x", encoding="utf-8")
    (tmp_path / ("b" * 240 + ".txt")).write_text("x", encoding="utf-8")
    (tmp_path / "dir.txt").mkdir()
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "link.txt").symlink_to(tmp_path / "missing")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "good.txt")
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    reports, refused = list_inputs(tmp_path)
    assert [(r.report_id, r.path.name, r.weights_path.name) for r in reports] == [
        ("alias", "alias.txt", "alias.weights.csv"),
        ("good", "good.txt", "good.weights.csv"),
    ]
    assert sorted((r.path.name[:12], r.code) for r in refused) == [
        ("...txt", "invalid_report_id"),
        ("bbbbbbbbbbbb", "invalid_report_id"),
        ("dir.txt", "not_a_regular_file"),
        ("fifo.txt", "not_a_regular_file"),
        ("link.txt", "not_a_regular_file"),
    ]
    messages = {r.path.name: r.message() for r in refused}
    assert "240 characters long (at most 100)" in messages["b" * 240 + ".txt"]
    assert "broken symbolic link" in messages["link.txt"] and str(tmp_path / "link.txt") in messages["link.txt"]
    assert "directory" in messages["dir.txt"] and "FIFO" in messages["fifo.txt"]
