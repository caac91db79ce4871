"""``python -m pipeline status``: per report, its last run, its state and its release.

States: ``up to date`` (input, weights, configuration and code unchanged since the last
successful run), ``changed`` (something changed, or never run), ``failed`` (the last
run could not ingest or release it). Standard library only: it must answer at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import exitcodes
from pipeline.batch import Options, plan_run, read_state


def report_states(opts: Options) -> list[dict]:
    """One dict per report of raw/ (and per report only known from the last state)."""
    state = read_state(opts.curated)
    plan = plan_run(opts, state)
    rows = []
    for report_id in sorted(set(plan.fingerprints) | set(state.get("reports", {}))):
        last = state.get("reports", {}).get(report_id, {})
        if report_id not in plan.fingerprints:
            label = "removed from raw/"
        elif report_id in plan.up_to_date:
            label = "up to date"
        elif last.get("status") == "failed" and last.get("fingerprint") == plan.fingerprints[report_id]:
            label = "failed"
        else:
            label = "changed" if last else "new"
        package = Path(opts.exports) / report_id / "datapackage.json"
        version = None
        if package.exists():
            try:
                version = json.loads(package.read_text(encoding="utf-8")).get("version")
            except ValueError:
                version = "unreadable"
        rows.append({"report_id": report_id, "last_run": last.get("last_run"), "state": label, "release": version})
    return rows


def print_status(raw: Path, curated: Path, exports: Path, config: Path | None) -> int:
    rows = report_states(Options(raw=Path(raw), curated=Path(curated), exports=Path(exports), config=config))
    if not rows:
        print(f"no report in {raw}")
        return exitcodes.OK
    headers = ["report_id", "last_run", "state", "release"]
    widths = {h: max(len(h), *(len(str(r[h] or "-")) for r in rows)) for h in headers}
    print("  ".join(h.ljust(widths[h]) for h in headers))
    for r in rows:
        print("  ".join(str(r[h] or "-").ljust(widths[h]) for h in headers))
    return exitcodes.OK
