"""Where a run's time goes: ``make profile`` runs the pipeline under pyinstrument.

Writes ``--reports`` generated reports (default 200) to a temporary folder and runs
``pgo run`` on them in this process (``PGO_WORKERS=1``: a profiler sees only its own
process), then prints the profile's top lines and puts them in docs/benchmarks.md
between the ``<!-- profile -->`` markers. The figures of ``make bench`` use every
core; this shows what each core spends its time on.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

#: Lines of the call tree kept in the document.
TOP_LINES = 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    os.environ["PGO_WORKERS"] = "1"
    from bench import replace_block
    from pyinstrument import Profiler

    from pipeline.batch import Options, run_pipeline
    from pipeline.synth import write_reports

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_reports(work / "raw", args.reports, seed=7, damage_rate=0.05)
        for extra in (work / "raw").glob("*.truth.json"):
            extra.unlink()
        profiler = Profiler(interval=0.005)
        profiler.start()
        code = run_pipeline(Options(work / "raw", work / "curated", work / "exports"))
        profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)
    lines = [line for line in text.splitlines() if line.strip()][:TOP_LINES]
    print("\n".join(lines))
    block = [
        f"`make profile`: `pgo run` on {args.reports} generated reports in one process (exit {code}), "
        "pyinstrument, top of the call tree:",
        "",
        "```",
        *lines,
        "```",
    ]
    replace_block(args.out, "profile", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
