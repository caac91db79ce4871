"""Benchmarks: how fast and how big. ``make bench`` runs this script.

Prints one line per figure, ``name value unit``, then one line per target
(``target name value op limit ok|MISSED``), and writes the same lines to
docs/benchmarks.md with the date, the machine and the command. The targets of
:data:`TARGETS` are checked here, not in timed tests: the script exits 1 and names
every target missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"

#: One pass over the text picking out every structural line the parser needs: the floor.
SCAN_RE = re.compile(r"^[^\S\n]*(?:[EÉ]?NGAGEMENT|Activit|Indicateurs|[-•✓✔√☑✅]|Non entam|Progression|Compl).*$", re.M)


#: figure -> (comparison, limit). A figure not measured (``--quick`` sizes) is not checked.
TARGETS: dict[str, tuple[str, float]] = {
    "ingest_over_scan_floor": ("<", 10.0),
    "run_seed_cold_s": ("<", 3.0),
    "run_noop_s": ("<", 1.0),
    "run_synth_1000_s": ("<", 60.0),
    "run_synth_1000_peak_rss_mb": ("<", 1024.0),
    "growth_1000_over_100": ("<", 12.0),
    "run_noop_1000_s": ("<", 2.0),
    "run_one_changed_1000_s": ("<", 5.0),
    "national_1000_valid": (">", 0.5),
    "rates_10m_s": ("<", 2.0),
    "rates_pandas_over_duckdb": (">", 1.0),
}


def check_targets(figures: dict[str, float]) -> tuple[list[str], list[str]]:
    """One line per target measured, and the names of the targets missed."""
    lines, missed = [], []
    for name, (op, limit) in TARGETS.items():
        if name not in figures:
            continue
        ok = figures[name] < limit if op == "<" else figures[name] > limit
        lines.append(f"target {name} {figures[name]:.3f} {op} {limit:g} {'ok' if ok else 'MISSED'}")
        if not ok:
            missed.append(name)
    return lines, missed


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_ingest(repeat: int) -> list[tuple[str, float, str]]:
    """The ingest stage's work on the seed, its files apart (read, decode, parse, the Arrow
    tables it writes), against the scan floor."""
    from pipeline.ingest import read_report_file

    def ingest_seed():
        return read_report_file(SEED).arrow_tables()

    text = SEED.read_text(encoding="utf-8")
    ingest_seed()  # warm imports and caches
    ingest_ms = median_ms(ingest_seed, repeat)
    scan_ms = median_ms(lambda: SCAN_RE.findall(text), repeat * 5)
    return [
        ("ingest_seed_ms", ingest_ms, "ms"),
        ("scan_floor_ms", scan_ms, "ms"),
        ("ingest_over_scan_floor", ingest_ms / scan_ms, "x"),
    ]


def run_measured(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run ``python -m pipeline …`` as a child; return (seconds, peak RSS in MiB, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def output_sizes(work: Path, report_id: str) -> list[tuple[str, float, str]]:
    """How big a run's outputs are for one report, at the paths of pipeline.layers."""
    from pipeline.layers import layout

    lay = layout(work / "curated", work / "exports")
    partition = sum(p.stat().st_size for p in lay.partition(report_id).rglob("*") if p.is_file())
    return [
        ("seed_partition_kib", partition / 1024, "KiB"),
        ("seed_database_kib", lay.database.stat().st_size / 1024, "KiB"),
        ("seed_zip_kib", lay.release_zip(report_id).stat().st_size / 1024, "KiB"),
    ]


#: Runs measured for each figure of a short run (the seed cold and no-op, one changed report):
#: the median's figures are kept, as one run on this machine may be off by a second.
SHORT_RUN_TRIALS = 3


def median_run(trials: list[tuple[float, ...]]) -> tuple[float, ...]:
    """The trial with the median first element (the duration), its other figures with it."""
    return sorted(trials)[len(trials) // 2]


def seed_runs(tmp: Path, trials: int) -> list[tuple[str, float, str]]:
    """The seed run cold, then again (no-op), each in ``trials`` fresh folders; the medians."""
    cold_runs, noop_runs = [], []
    for i in range(trials):
        work = tmp / f"seed{i}"
        (work / "raw").mkdir(parents=True)
        shutil.copy(SEED, work / "raw" / SEED.name)
        cold_runs.append(run_measured(["run"], work))
        noop_runs.append(run_measured(["run"], work))
    cold, rss, code = median_run(cold_runs)
    out = [("run_seed_cold_s", cold, "s"), ("run_seed_peak_rss_mb", rss, "MiB"), *output_sizes(work, SEED.stem)]
    out.append(("run_noop_s", median_run(noop_runs)[0], "s"))
    if code != 0:
        out.append(("run_seed_exit_code", code, ""))
    return out


def bench_runs(sizes: list[int]) -> list[tuple[str, float, str]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        out += seed_runs(Path(tmp), SHORT_RUN_TRIALS)
        timings = {}
        for n in sizes:
            work = Path(tmp) / f"synth{n}"
            write_synthetic_raw(work / "raw", n)
            seconds, rss, _ = run_measured(["run"], work)
            timings[n] = seconds
            out += [(f"run_synth_{n}_s", seconds, "s"), (f"run_synth_{n}_peak_rss_mb", rss, "MiB")]
            out += stage_figures(work, f"run_synth_{n}")
            noop, _, _ = run_measured(["run"], work)
            out.append((f"run_noop_{n}_s", noop, "s"))
            out += check_national(work, n)
            out += one_changed_trials(work, n, SHORT_RUN_TRIALS)
        if 100 in timings and 1000 in timings:
            out.append(("growth_1000_over_100", timings[1000] / timings[100], "x"))
    return out


#: What ``--only`` can measure alone.
ONLY_CHOICES = ("one-changed",)


def write_synthetic_raw(raw: Path, n: int) -> None:
    """``n`` generated reports in ``raw`` (the same ones every run), without their truth files."""
    from pipeline.synth import write_reports

    write_reports(raw, n, seed=7, damage_rate=0.05)
    for extra in raw.glob("*.truth.json"):
        extra.unlink()


def change_one_report(work: Path) -> None:
    """The change the one-changed figures measure: a line added to the first report."""
    changed = sorted((work / "raw").glob("*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def bench_one_changed(n: int, trials: int) -> list[tuple[str, float, str]]:
    """``run_one_changed_<n>_s`` alone: ``n`` generated reports run once, then
    :func:`one_changed_trials`."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / f"synth{n}"
        write_synthetic_raw(base / "raw", n)
        run_measured(["run"], base)
        return one_changed_trials(base, n, trials)


def one_changed_trials(base: Path, n: int, trials: int) -> list[tuple[str, float, str]]:
    """``trials`` times, a copy of the run folder ``base`` with one report changed run again
    (beside ``base``, removed after); the median trial's figures (its stage durations too)."""
    runs = []
    for i in range(trials):
        work = base.with_name(f"{base.name}-changed{i}")
        shutil.copytree(base, work, symlinks=True)
        change_one_report(work)
        seconds, _, _ = run_measured(["run"], work)
        runs.append((seconds, stage_figures(work, f"run_one_changed_{n}")))
        shutil.rmtree(work)
    seconds, stages = median_run(runs)
    return [(f"run_one_changed_{n}_s", seconds, "s"), *stages]


def stage_figures(work: Path, prefix: str) -> list[tuple[str, float, str]]:
    """Each stage's duration in the last run's manifest, as ``<prefix>_<stage>_s``."""
    manifest = json.loads(sorted((work / "curated" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    return [(f"{prefix}_{stage}_s", record["duration_s"], "s") for stage, record in manifest["stages"].items()]


def check_national(work: Path, n: int) -> list[tuple[str, float, str]]:
    """``frictionless validate`` the national package of a run, as a reader would (not part of the run)."""
    import frictionless

    from pipeline.settings import DEFAULT_NATIONAL_NAME

    started = time.perf_counter()
    report = frictionless.validate(str(work / "exports" / DEFAULT_NATIONAL_NAME / "datapackage.json"))
    seconds = time.perf_counter() - started
    rows = sum(task.stats.get("rows", 0) for task in report.tasks if task.type == "table")
    return [
        (f"national_{n}_valid", float(report.valid), ""),
        (f"national_{n}_rows", rows, "rows"),
        (f"national_{n}_frictionless_validate_s", seconds, "s"),
    ]


def synthetic_activities(n_activities: int):
    """Curated-shaped activities and commitments: 100 activities per commitment."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    per_commitment, per_report = 100, 100
    n_commitments = n_activities // per_commitment
    commitment_index = np.arange(n_commitments)
    commitments = pd.DataFrame(
        {
            "report_id": pd.array([f"r{i // per_report:05d}" for i in commitment_index], dtype="str"),
            "commitment_no": commitment_index % per_report + 1,
            "axis_no": (commitment_index % 5) + 1,
        }
    )
    statuses = np.array(["not_started", "limited", "substantial", "complete", "unknown"])
    activity_commitment = np.repeat(commitment_index, per_commitment)
    activities = pd.DataFrame(
        {
            "report_id": commitments["report_id"].to_numpy()[activity_commitment],
            "commitment_no": commitments["commitment_no"].to_numpy()[activity_commitment],
            "activity_no": np.tile(np.arange(1, per_commitment + 1), n_commitments),
            "status": statuses[rng.integers(0, 5, n_activities)],
        }
    )
    return activities, commitments


def bench_rates(n_activities: int) -> list[tuple[str, float, str]]:
    """The commitment-rate aggregation of pipeline/sql in DuckDB, and the same in pandas."""
    import duckdb
    import pandas as pd

    from pipeline.compute import load_rates_config, status_bands_frame

    activities, commitments = synthetic_activities(n_activities)
    bands = status_bands_frame(load_rates_config())
    con = duckdb.connect()
    con.register("activities_df", activities)
    con.register("commitments_df", commitments)
    con.register("bands_df", bands)
    con.execute("CREATE TABLE activities AS SELECT * FROM activities_df")
    con.execute("CREATE TABLE commitments AS SELECT * FROM commitments_df")
    con.execute("CREATE TABLE status_bands AS SELECT * FROM bands_df")
    sql = (ROOT / "benchmarks" / "commitment_rates.sql").read_text(encoding="utf-8")

    def duck():
        return con.sql(sql).to_arrow_table()

    def pandas_rates():
        a = activities.merge(bands, on="status", how="left")
        a["weight"] = 1.0
        known = a["rate_pct"].notna()
        a["w_rate"] = a["weight"] * a["rate_pct"]
        a["w_known"] = a["weight"].where(known, 0.0)
        a["w_min"] = a["weight"] * a["rate_min_pct"]
        a["w_max"] = a["weight"] * a["rate_max_pct"]
        g = a.groupby(["report_id", "commitment_no"], sort=True)[
            ["w_rate", "w_known", "w_min", "w_max", "weight"]
        ].sum()
        return pd.DataFrame(
            {
                "rate_pct": g["w_rate"] / g["w_known"].where(g["w_known"] > 0),
                "rate_min_pct": g["w_min"] / g["weight"],
                "rate_max_pct": g["w_max"] / g["weight"],
            }
        )

    duck()
    duck_s = median_ms(duck, 3) / 1000
    pandas_s = median_ms(pandas_rates, 1) / 1000
    check = duck().to_pandas().set_index(["report_id", "commitment_no"]).sort_index()
    expected = pandas_rates()
    assert (abs(check["rate_min_pct"] - expected["rate_min_pct"]) < 1e-9).all(), "DuckDB and pandas disagree"
    return [
        ("rates_10m_s", duck_s, "s"),
        ("rates_10m_pandas_s", pandas_s, "s"),
        ("rates_pandas_over_duckdb", pandas_s / duck_s, "x"),
    ]


def machine() -> str:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB, "
        f"Python {platform.python_version()}"
    )


def replace_block(path: Path, name: str, lines: list[str]) -> None:
    """Put ``lines`` between the ``<!-- name -->`` and ``<!-- /name -->`` markers of ``path``
    (appended with the markers when absent); the rest of the document is left as written."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = "\n".join([start, *lines, end])
    if start in text and end in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def compile_code() -> None:
    """Byte-compile the code first, as installing it does: a cold run measures the
    pipeline on cold data, not Python compiling the modules just edited."""
    import compileall

    for folder in ("pipeline", "schemas"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--only", choices=ONLY_CHOICES, help="one figure alone (its target checked; the document is not rewritten)"
    )
    parser.add_argument("--trials", type=int, default=3, help="with --only: runs measured, the median kept")
    args = parser.parse_args(argv)
    sizes = [10, 20] if args.quick else [100, 1000]
    n_rates = 200_000 if args.quick else 10_000_000

    compile_code()
    if args.only == "one-changed":
        figures = bench_one_changed(sizes[-1], args.trials)
    else:
        figures = bench_ingest(5 if args.quick else 21)
        figures += bench_runs(sizes)
        figures += bench_rates(n_rates)
    lines = [f"{name} {value:.3f} {unit}".rstrip() for name, value, unit in figures]
    target_lines, missed = check_targets({name: value for name, value, _ in figures})
    lines += target_lines
    for line in lines:
        print(line, flush=True)
    command = "make bench" if not args.quick else "python benchmarks/bench.py --quick"
    block = [
        f"Measured {dt.date.today().isoformat()} on {machine()}, with `{command}`.",
        "One line per figure: `name value unit`, then one line per target.",
        "",
        "```",
        *lines,
        "```",
    ]
    if not args.quick and not args.only:
        replace_block(args.out, "figures", block)
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
