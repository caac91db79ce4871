"""The command line as a newcomer meets it: help, version, descriptions, exit codes."""

from __future__ import annotations

import gc

import pytest

from pipeline import __version__, exitcodes
from pipeline.cli import GC_THRESHOLDS, build_parser, main


def test_bare_pgo_prints_help_and_exits_0(capsys):
    assert main([]) == exitcodes.OK
    out = capsys.readouterr().out
    assert out.startswith("usage: pgo ") and "run" in out and "status" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"pgo-pipeline {__version__}"


def test_every_command_has_a_one_line_description():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.description and "\n" not in command.description, name
        assert command.prog == f"pgo {name}"


def test_status_and_run_outside_a_project_both_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == exitcodes.USAGE
    assert main(["run"]) == exitcodes.USAGE


def test_a_usage_error_exits_2():
    assert main(["run", "--no-such-option"]) == exitcodes.USAGE


def test_a_command_runs_with_full_collections_rarer(tmp_path, monkeypatch):
    """Every command sets :data:`GC_THRESHOLDS` (full collections of a heap of long-lived rows
    and records cost much and find next to nothing)."""
    monkeypatch.chdir(tmp_path)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert main(["status"]) == exitcodes.USAGE
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
