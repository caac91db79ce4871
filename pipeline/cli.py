"""Command line: ``python -m pipeline <command>`` (also installed as ``pgo``).

Only argument parsing, logging set-up and dispatch belong here; each stage's work is
in its own module, imported when its command runs.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from pipeline import exitcodes

log = logging.getLogger("pipeline")

EPILOG = """exit codes: 0 clean or warnings only; 1 rows quarantined by validation;
2 usage or configuration error; 3 an input could not be used;
4 a data package failed validation and was not released; 5 another command holds the lock;
70 internal error (a bug: the log names the stage). A run exits with the highest code it met."""

#: Commands that write outputs: each holds the lock while it runs.
WRITING_COMMANDS = {"run", "ingest", "validate", "compute", "publish"}
#: The garbage collector's thresholds for a command: the young generations' as Python's
#: defaults, full collections a hundred times rarer. A command's heap is mostly long-lived
#: data (the records of every release, a layer's rows), in which a full collection finds
#: next to nothing, while its cost grows with the heap: six of them took ≈0.4 s of a run
#: with one report changed among 1,000, and collected under 3,000 objects. Cyclic garbage
#: dies young, in the generations still collected as often (docs/benchmarks.md).
GC_THRESHOLDS = (700, 10, 1000)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="log lines as text or one JSON object per line"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _dirs(p: argparse.ArgumentParser, *, raw=False, curated=True, exports=False, config=False) -> None:
    if raw:
        p.add_argument("--raw", type=Path, default=Path("raw"), help="folder of report texts (default: raw/)")
    if curated:
        p.add_argument(
            "--curated", type=Path, default=Path("curated"), help="curated output folder (default: curated/)"
        )
    if exports:
        p.add_argument("--exports", type=Path, default=Path("exports"), help="data-package folder (default: exports/)")
    if config:
        p.add_argument(
            "--config",
            type=Path,
            default=None,
            help="rates configuration (TOML; default: the one shipped, pipeline/config/rates.toml)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgo",
        description="pgo-pipeline: OGP action-plan reports as open data",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from pipeline import __version__

    parser.add_argument("--version", action="version", version=f"pgo-pipeline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "run",
        help="run every stage over the reports that changed",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _dirs(p, raw=True, exports=True, config=True)
    p.add_argument("--report", metavar="ID", help="process only this report")
    p.add_argument("--force", action="store_true", help="process even the reports that are up to date")
    p.add_argument("--publisher", help="publisher named in the packages' metadata")
    p.add_argument("--national-name", metavar="NAME", help="folder and dataset name of the national package")

    p = sub.add_parser("ingest", help="parse raw/*.txt into curated Parquet tables")
    _dirs(p, raw=True)
    p.add_argument("--force", action="store_true", help="parse every report again, ignoring the cache")

    p = sub.add_parser("validate", help="check the curated tables; quarantine bad rows")
    _dirs(p)

    p = sub.add_parser("compute", help="build curated/pgo.duckdb with the progress rates")
    _dirs(p, raw=True, config=True)

    p = sub.add_parser("publish", help="write and validate the data packages in exports/")
    _dirs(p, exports=True)
    p.add_argument("--report", metavar="ID", help="publish only this report")
    p.add_argument("--publisher", help="publisher named in the packages' metadata")
    p.add_argument("--national-name", metavar="NAME", help="folder and dataset name of the national package")

    p = sub.add_parser("status", help="per report: last run, state, release")
    _dirs(p, raw=True, exports=True, config=True)

    p = sub.add_parser("synth", help="write synthetic reports in the template, with their ground truth")
    p.add_argument("--reports", type=int, default=10, help="how many reports (default 10)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same files")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--damage-rate", type=float, default=0.05, help="rate of each kind of damage (default 0.05)")
    p.add_argument(
        "--drift",
        nargs="*",
        default=[],
        metavar="KIND",
        help="kinds of layout drift to put in (heading_variants, status_in_words, page_furniture, hyphenation, "
        "interleaved_cell); none by default",
    )
    p.add_argument(
        "--drift-rate",
        type=float,
        default=None,
        metavar="RATE",
        help="probability of each drift kind per heading, status or page (default: pipeline.synth.DEFAULT_DRIFT_RATE)",
    )

    p = sub.add_parser(
        "push",
        help="push released packages to a CKAN portal (data.gov.ma); the API token is read from $CKAN_API_TOKEN",
        epilog="The API token is read from an environment variable (CKAN_API_TOKEN, or the one --token-env names), "
        "never from the command line. exit codes: 0 pushed (or nothing to change); 2 bad option, missing or "
        "refused token, unknown organisation (nothing sent); 3 missing or altered release, invalid payload "
        "(nothing sent); 4 the portal failed or refused (the log says what is on it; push again to complete); "
        "5 another push of the report runs.",
    )
    _dirs(p, curated=False, exports=True)
    p.add_argument("--ckan", metavar="URL", help="the portal, e.g. https://data.gov.ma (required unless --dry-run)")
    p.add_argument(
        "--org", metavar="ORG", required=True, help="the CKAN organisation (name or id) that owns the datasets"
    )
    p.add_argument("--report", metavar="ID", help="push only this report (default: every release in exports/)")
    p.add_argument("--pushes", type=Path, default=Path("pushes"), help="where the push records go (default: pushes/)")
    p.add_argument(
        "--token-env",
        metavar="NAME",
        default="CKAN_API_TOKEN",
        help="the environment variable holding the API token (default: CKAN_API_TOKEN)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="validate the payload and print what would change; send nothing"
    )
    p.add_argument("--private", action="store_true", help="leave the datasets private on the portal")
    # A token given on the command line is refused without being echoed (argparse would print it as unrecognized).
    p.add_argument(
        "--token",
        "--api-key",
        "--apikey",
        "--api-token",
        "--ckan-token",
        dest="token_on_command_line",
        help=argparse.SUPPRESS,
    )

    p = sub.add_parser("docs", help="write docs/data-dictionary.md from schemas/ and the reports of raw/")
    p.add_argument("--out", type=Path, default=Path("docs/data-dictionary.md"), help="output file")
    p.add_argument(
        "--raw", type=Path, default=Path("raw"), help="reports whose figures the dictionary quotes (default: raw/)"
    )

    for action in sub._choices_actions:  # each command's help line is also its description
        sub.choices[action.dest].description = action.help
    for p in sub.choices.values():
        _common(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help()
        return exitcodes.OK
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    from pipeline.logs import configure

    configure(args.log_format, logging.DEBUG if args.verbose else logging.INFO)
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        if args.command in WRITING_COMMANDS - {"run"}:
            return dispatch_locked(args)
        return dispatch(args)
    except Exception:  # a bug: say so with its own exit code, never as bad input
        log.exception("internal error in `pgo %s` (exit code %d)", args.command, exitcodes.INTERNAL_ERROR)
        return exitcodes.INTERNAL_ERROR


def dispatch_locked(args: argparse.Namespace) -> int:
    """A stage command, under the same lock as ``run``."""
    from pipeline.batch import RunLocked, run_lock

    try:
        with run_lock(args.curated):
            return dispatch(args)
    except RunLocked as exc:
        log.error("%s: not starting (exit code %d)", exc, exitcodes.LOCKED)
        return exitcodes.LOCKED


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from pipeline.batch import Options, run_pipeline

        opts = Options(args.raw, args.curated, args.exports, args.config, args.report, args.force, args.publisher)
        if args.national_name:
            opts.national_name = args.national_name
        return run_pipeline(opts)
    if args.command == "ingest":
        from pipeline.ingest import ingest_reports

        return ingest_reports(args.raw, args.curated, force=args.force)
    if args.command == "validate":
        from pipeline.validate import validate_curated

        return validate_curated(args.curated)
    if args.command == "compute":
        from pipeline.compute import compute_database

        return compute_database(args.curated, args.config, args.raw)
    if args.command == "publish":
        from pipeline.publish import publish_packages
        from pipeline.settings import DEFAULT_NATIONAL_NAME, DEFAULT_PUBLISHER

        return publish_packages(
            args.curated,
            args.exports,
            report_ids={args.report} if args.report else None,
            publisher=args.publisher or DEFAULT_PUBLISHER,
            national_name=args.national_name or DEFAULT_NATIONAL_NAME,
        )
    if args.command == "status":
        from pipeline.status import print_status

        return print_status(args.raw, args.curated, args.exports, args.config)
    if args.command == "synth":
        from pipeline.synth import DEFAULT_DRIFT_RATE, write_reports

        drift_rate = DEFAULT_DRIFT_RATE if args.drift_rate is None else args.drift_rate
        if args.reports < 0 or not 0.0 <= args.damage_rate <= 1.0 or not 0.0 <= drift_rate <= 1.0:
            log.error("--reports must be >= 0, --damage-rate and --drift-rate between 0 and 1")
            return exitcodes.USAGE
        try:
            paths = write_reports(
                args.out, args.reports, args.seed, args.damage_rate, drift=tuple(args.drift), drift_rate=drift_rate
            )
        except ValueError as exc:
            log.error("%s", exc)
            return exitcodes.USAGE
        log.info("%d synthetic report(s) written to %s", len(paths), args.out)
        return exitcodes.OK
    if args.command == "push":
        from pipeline.push import push_packages

        if args.token_on_command_line is not None:  # refused, and never echoed
            log.error(
                "the API token is never taken on the command line: "
                "export CKAN_API_TOKEN=<token> (and clear your shell history)"
            )
            return exitcodes.USAGE
        return push_packages(
            args.exports,
            args.org,
            args.ckan,
            report_id=args.report,
            pushes_dir=args.pushes,
            token_env=args.token_env,
            dry_run=args.dry_run,
            private=args.private,
        )
    if args.command == "docs":
        from pipeline.dictionary import write_data_dictionary

        return write_data_dictionary(args.out, args.raw)
    return exitcodes.USAGE


if __name__ == "__main__":
    sys.exit(main())
