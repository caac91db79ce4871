"""``pgo status``: per report, its state, its last run and its release, read from the outputs.

States: ``up to date`` (its release records the current inputs, code and
configuration, and its last run completed), ``new`` (never released), ``changed``
(its release was built from other inputs, code or configuration), ``failed (exit N
at STAGE)`` (its last run failed; every run retries it), ``interrupted`` (a run
stopped while processing it; the next run redoes it), ``running``, ``removed from
raw/`` (the next run retracts its release), ``refused`` (a ``*.txt`` entry that is
not a usable report). Standard library only: it must answer at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import exitcodes
from pipeline.batch import FAILED, IN_PROGRESS, Options, lock_is_held, plan_run, read_state
from pipeline.layers import layout

HEADERS = ["report_id", "state", "last_run", "release"]


def _label(report_id: str, plan, last: dict, running: bool) -> str:
    if report_id in plan.up_to_date:
        return "up to date"
    if last.get("status") == IN_PROGRESS:
        return "running" if running else "interrupted"
    if last.get("status") == FAILED:
        return f"failed (exit {last.get('exit_code')} at {last.get('stage') or '?'})"
    return "changed" if plan.reasons.get(report_id, "").startswith("inputs") else "new"


def _release_version(release_dir: Path) -> str | None:
    package = release_dir / "datapackage.json"
    if not package.exists():
        return None
    try:
        return json.loads(package.read_text(encoding="utf-8")).get("version")
    except ValueError:
        return "unreadable"


def report_states(opts: Options) -> list[dict]:
    """One dict per report of raw/, per refused entry and per release without a report."""
    lay = layout(opts.curated, opts.exports)
    state = read_state(opts.curated).get("reports", {})
    plan = plan_run(opts, {"reports": state})
    running = lock_is_held(opts.curated)
    rows = []
    for report_id in sorted(plan.inputs):
        last = state.get(report_id, {})
        rows.append(
            {
                "report_id": report_id,
                "state": _label(report_id, plan, last, running),
                "last_run": last.get("last_run"),
                "release": _release_version(lay.release(report_id)),
            }
        )
    for report_id in plan.removed:
        rows.append(
            {
                "report_id": report_id,
                "state": "removed from raw/",
                "last_run": None,
                "release": _release_version(lay.release(report_id)),
            }
        )
    for entry in plan.refused:
        rows.append(
            {"report_id": entry.path.name, "state": f"refused: {entry.problem}", "last_run": None, "release": None}
        )
    return rows


def print_status(raw: Path, curated: Path, exports: Path, config: Path | None) -> int:
    if not Path(raw).is_dir():
        print(f"raw folder {raw} does not exist")
        return exitcodes.USAGE
    rows = report_states(Options(raw=Path(raw), curated=Path(curated), exports=Path(exports), config=config))
    if not rows:
        print(f"no report in {raw}")
        return exitcodes.OK
    widths = {h: max(len(h), *(len(str(r[h] or "-")) for r in rows)) for h in HEADERS}
    print("  ".join(h.ljust(widths[h]) for h in HEADERS))
    for r in rows:
        print("  ".join(str(r[h] or "-").ljust(widths[h]) for h in HEADERS))
    return exitcodes.OK
