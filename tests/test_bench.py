"""The benchmark script's target check (the figures themselves are measured by `make bench`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_targets_missed_are_named_and_unmeasured_ones_are_not_checked():
    bench = load_bench()
    lines, missed = bench.check_targets({"run_synth_1000_s": 61.0, "run_noop_s": 0.2, "rates_pandas_over_duckdb": 0.5})
    assert missed == ["run_synth_1000_s", "rates_pandas_over_duckdb"]
    assert "target run_noop_s 0.200 < 1 ok" in lines
    assert "target run_synth_1000_s 61.000 < 60 MISSED" in lines
    assert len(lines) == 3


def test_every_target_names_a_figure_the_script_measures():
    source = BENCH.read_text(encoding="utf-8")
    for name in load_bench().TARGETS:
        assert f'"{name}"' in source or f'f"{name.replace("1000", "{n}")}"' in source, name


def test_figures_replace_their_block_and_keep_the_written_analysis(tmp_path):
    bench = load_bench()
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nWhy it is slow.\n", encoding="utf-8")
    bench.replace_block(doc, "figures", ["run_noop_s 0.1 s"])
    bench.replace_block(doc, "figures", ["run_noop_s 0.2 s"])
    bench.replace_block(doc, "profile", ["top line"])
    assert doc.read_text(encoding="utf-8") == (
        "# Benchmarks\n\nWhy it is slow.\n\n<!-- figures -->\nrun_noop_s 0.2 s\n<!-- /figures -->\n\n"
        "<!-- profile -->\ntop line\n<!-- /profile -->\n"
    )


def test_the_median_trial_is_kept_with_its_other_figures():
    bench = load_bench()
    assert bench.median_run([(3.1, 900, 0), (2.4, 950, 0), (9.0, 800, 1)]) == (3.1, 900, 0)
