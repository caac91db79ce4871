"""Command line: ``python -m pipeline <stage>`` (also installed as ``pgo``).

Only argument parsing, logging set-up and dispatch belong here; each stage's work is
in its own module.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline import exitcodes

log = logging.getLogger("pipeline")


def _add_dirs(p: argparse.ArgumentParser, *, raw=False, curated=True, exports=False, config=False) -> None:
    if raw:
        p.add_argument("--raw", type=Path, default=Path("raw"), help="folder of report texts (default: raw/)")
    if curated:
        p.add_argument("--curated", type=Path, default=Path("curated"), help="curated output folder (default: curated/)")
    if exports:
        p.add_argument("--exports", type=Path, default=Path("exports"), help="data-package folder (default: exports/)")
    if config:
        p.add_argument("--config", type=Path, default=None, help="rates configuration file (TOML)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description="pgo-pipeline: PGO reports as open data")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="log line format")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="parse raw/*.txt into curated Parquet tables")
    _add_dirs(p, raw=True)

    p = sub.add_parser("run", help="run every stage in order")
    _add_dirs(p, raw=True, exports=True, config=True)
    return parser


def configure_logging(fmt: str, verbose: bool) -> None:
    from pipeline.logs import configure

    configure(fmt, logging.DEBUG if verbose else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    configure_logging(args.log_format, args.verbose)

    if args.command == "ingest":
        from pipeline.ingest import ingest_reports

        return ingest_reports(args.raw, args.curated)
    if args.command == "run":
        from pipeline.ingest import ingest_reports

        return ingest_reports(args.raw, args.curated)
    parser.error(f"unknown command {args.command}")
    return exitcodes.USAGE


if __name__ == "__main__":
    sys.exit(main())
