"""Fixtures and helpers shared by the test modules.

The seed report through the stages (``seed_raw``, ``seed_ingested``, ``seed_computed``),
and ``layers``: writes a layer from in-memory tables the way its stage leaves it (its
files, then its ``provenance.json``), so that a stage's test can start from the layer
below without running the stages before it. :func:`frame` (``from conftest import
frame``) builds a table's rows inline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from pipeline import exitcodes
from pipeline.ingest import ingest_reports
from pipeline.io import write_table
from pipeline.layers import (
    computed_record,
    layout,
    partition_record,
    validated_entry,
    validated_record,
    write_provenance,
)
from schemas import COMPUTED_TABLES, TABLES, empty_frame, get_resource

# The property tests draw the same examples on every run (CI must not turn red by
# chance); HYPOTHESIS_PROFILE=explore draws new ones, to hunt for bugs by hand.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

SEED = Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"
SEED_ID = SEED.stem

#: Code fingerprints the hand-made layers record (a stage's real one is a SHA-256).
TEST_CODE = "test-code"


def frame(table: str, rows: list[tuple]) -> pd.DataFrame:
    """A DataFrame of ``table`` from rows given as tuples, in the table's column order
    (plain pandas dtypes: ``conform_table`` gives the nullable ones)."""
    return pd.DataFrame(rows, columns=get_resource(table).field_names)


def compute_tables(tables: dict[str, pd.DataFrame], config: dict | None = None, weights: pd.DataFrame | None = None):
    """The compute stage's SQL on an in-memory database: computed tables and findings
    (``config`` defaults to the packaged configuration, ``weights`` to equal weights)."""
    import duckdb

    from pipeline.compute import _empty_weights, load_rates_config, populate

    config = load_rates_config() if config is None else config
    weights = _empty_weights() if weights is None else weights
    with duckdb.connect(":memory:", config={"threads": 1}) as con:
        return populate(con, tables, config, weights)


def _report_ids(tables: dict[str, pd.DataFrame]) -> list[str]:
    ids: set[str] = set()
    for df in tables.values():
        if len(df):
            ids |= set(df["report_id"].dropna())
    return sorted(ids)


class Layers:
    """Write the layers of a curated folder from tables, as their stage would."""

    @staticmethod
    def ingested(curated: Path, tables: dict[str, pd.DataFrame]) -> dict[str, dict]:
        """One partition per report_id found in ``tables`` (every table written, empty if
        absent), by the ingest stage's own writer; returns each partition's record."""
        from pipeline.ingest import save_partition

        lay = layout(curated)
        records = {}
        for report_id in _report_ids(tables):
            mine = {}
            for table in TABLES:
                df = tables.get(table, empty_frame(table))
                mine[table] = df[df["report_id"] == report_id].reset_index(drop=True)
            sha = hashlib.sha256(report_id.encode("utf-8")).hexdigest()
            records[report_id] = partition_record(report_id, sha, TEST_CODE)
            save_partition(lay.partition(report_id), mine, records[report_id])
        return records

    @staticmethod
    def validated(curated: Path, tables: dict[str, pd.DataFrame]) -> dict:
        """``curated/validated/``: every table of ``tables`` (absent ones empty), then its
        provenance listing the reports of the ``reports`` table; returns that record."""
        lay = layout(curated)
        for table in TABLES:
            write_table(tables.get(table, empty_frame(table)), table, lay.validated / f"{table}.parquet")
        reports = tables.get("reports", empty_frame("reports"))
        entries = {
            r: validated_entry(partition_record(r, hashlib.sha256(r.encode("utf-8")).hexdigest(), TEST_CODE))
            for r in sorted(reports["report_id"].dropna())
        }
        record = validated_record(entries, TEST_CODE)
        write_provenance(lay.validated, record)
        return record

    @staticmethod
    def computed(
        curated: Path,
        tables: dict[str, pd.DataFrame],
        rates_config: dict | None,
        validated: dict,
        findings: pd.DataFrame | None = None,
    ) -> dict:
        """``curated/computed/``: the computed tables of ``tables`` (no file for an absent
        one), ``findings.parquet`` (``findings``: the compute stage's own, default none),
        ``rates_config.json`` (unless None), then its provenance built on ``validated``
        (the validated layer's record); returns that record."""
        lay = layout(curated)
        lay.computed.mkdir(parents=True, exist_ok=True)
        for table in COMPUTED_TABLES:
            if table in tables:
                write_table(tables[table], table, lay.computed / f"{table}.parquet")
        findings = empty_frame("findings") if findings is None else findings
        write_table(findings, "findings", lay.computed / "findings.parquet")
        if rates_config is not None:
            (lay.computed / "rates_config.json").write_text(json.dumps(rates_config), encoding="utf-8")
        weights = dict.fromkeys(validated.get("reports", {}))
        record = computed_record(validated, weights, None, TEST_CODE)
        write_provenance(lay.computed, record)
        return record


@pytest.fixture(scope="session")
def layers() -> Layers:
    return Layers()


@pytest.fixture(scope="session")
def seed_raw(tmp_path_factory) -> Path:
    """A raw folder holding the seed report only (shared: read it, never write into it)."""
    raw = tmp_path_factory.mktemp("raw")
    shutil.copy(SEED, raw / SEED.name)
    return raw


@pytest.fixture(scope="session")
def seed_ingested(tmp_path_factory, seed_raw) -> Path:
    """A curated folder with the seed report freshly ingested (one per test session, and
    per xdist worker): read it only, or write into a copy (``shutil.copytree``)."""
    curated = tmp_path_factory.mktemp("curated")
    assert ingest_reports(seed_raw, curated) == exitcodes.OK
    return curated


@pytest.fixture(scope="session")
def seed_computed(tmp_path_factory, seed_raw) -> Path:
    """A curated folder (of its own) with the seed report ingested, validated and computed
    (one per test session, and per xdist worker): read it only, or write into a copy."""
    from pipeline.compute import compute_database
    from pipeline.validate import validate_curated

    curated = tmp_path_factory.mktemp("seed") / "curated"
    assert ingest_reports(seed_raw, curated) == exitcodes.OK
    assert validate_curated(curated) == exitcodes.OK
    assert compute_database(curated, None, seed_raw) == exitcodes.OK
    return curated


# ---------------------------------------------------------------------------------------
# `pgo` commands run by the tests (tests/test_batch.py, tests/test_hostile_inputs.py)
# ---------------------------------------------------------------------------------------
# The ``pgo`` fixture runs a command in this process (``pgo(...)``: no interpreter to
# start, no library to import again), in a child forked from this process
# (``pgo.forked(...)``, or ``pgo.start(...)`` to wait later: a process of its own, which
# the fault hook may kill) or in a new interpreter (``pgo.python(...)``,
# ``pgo.python_args(...)``: ``python -m pipeline`` itself). Each one sees what a new
# process would: its working folder, no fault variable but the ones asked for, the
# code fingerprints computed afresh, Python's default warning filters (warnings
# written to stderr), the logging its command sets up (put back afterwards).

import contextlib  # noqa: E402 (this block is appended to the file)
import importlib  # noqa: E402 (this block is appended to the file)
import io  # noqa: E402 (this block is appended to the file)
import logging  # noqa: E402 (this block is appended to the file)
import select  # noqa: E402 (this block is appended to the file)
import signal  # noqa: E402 (this block is appended to the file)
import subprocess  # noqa: E402 (this block is appended to the file)
import sys  # noqa: E402 (this block is appended to the file)
import tempfile  # noqa: E402 (this block is appended to the file)
import traceback  # noqa: E402 (this block is appended to the file)
import warnings  # noqa: E402 (this block is appended to the file)
from typing import NamedTuple, NoReturn  # noqa: E402 (this block is appended to the file)

from pipeline.faults import ACTION_VAR, PAUSE_FILE_VAR, POINT_VAR  # noqa: E402 (this block is appended to the file)

#: Longest a `pgo` command of a test may take.
PGO_TIMEOUT_S = 300
#: The folders a test's `pgo run` is given: relative to its folder, as an operator types them.
RUN_DIRS = ("--raw", "raw", "--curated", "curated", "--exports", "exports")
FAULT_VARS = (POINT_VAR, ACTION_VAR, PAUSE_FILE_VAR)
#: What a run imports when it has work to do.
PIPELINE_MODULES = ("pipeline.stages", "pipeline.ingest", "pipeline.validate", "pipeline.compute", "pipeline.publish")


class PgoResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _write_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextlib.contextmanager
def _as_a_new_process(workdir: Path, fault: str | None, action: str):
    from pipeline.fingerprint import stage_code_fingerprint

    logger = logging.getLogger("pipeline")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        mp.chdir(workdir)
        for var in FAULT_VARS:
            mp.delenv(var, raising=False)
        if fault is not None:
            mp.setenv(POINT_VAR, fault)
            mp.setenv(ACTION_VAR, action)
            mp.setenv(PAUSE_FILE_VAR, str(Path(workdir) / "paused"))
        warnings.resetwarnings()  # Python's default filters, not pytest's
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        warnings.showwarning = _write_warning
        stage_code_fingerprint.cache_clear()
        try:
            yield
        finally:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def _argv(command: str, args: tuple[str, ...]) -> list[str]:
    return [command, *RUN_DIRS, *args] if command == "run" else [command, *args]


def wait_for_child(pid: int, timeout: float = PGO_TIMEOUT_S) -> int:
    """Wait until the child ``pid`` ends (killed after ``timeout``); its exit code,
    minus the signal that killed it (as :mod:`subprocess` says)."""
    pidfd = os.pidfd_open(pid)  # readable once the child has ended
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        ended = poller.poll(timeout * 1000)
    finally:
        os.close(pidfd)
    if not ended:
        os.kill(pid, signal.SIGKILL)
    returncode = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    assert ended, f"the pgo command did not end within {timeout} s"
    return returncode


class ForkedPgo:
    """A command running in a child forked from this process: the pipeline is imported
    already (here, once), the child only runs the command and ends with it."""

    def __init__(self, workdir: Path, argv: list[str], fault: str | None, action: str) -> None:
        for module in PIPELINE_MODULES:
            importlib.import_module(module)
        self.out, self.err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (closed by wait)
        self.pid = os.fork()
        if self.pid == 0:
            _run_in_child(workdir, argv, fault, action, self.out.fileno(), self.err.fileno())

    def wait(self, timeout: float = PGO_TIMEOUT_S) -> PgoResult:
        """Its exit code (minus the signal that killed it) and what it wrote."""
        try:
            returncode = wait_for_child(self.pid, timeout)
            self.out.seek(0)
            self.err.seek(0)
            out, err = self.out.read().decode("utf-8", "replace"), self.err.read().decode("utf-8", "replace")
        finally:
            self.out.close()
            self.err.close()
        return PgoResult(returncode, out, err)


def _run_in_child(workdir: Path, argv: list[str], fault: str | None, action: str, out: int, err: int) -> NoReturn:
    """The forked child: the command, its stdout and stderr on the files ``out`` and ``err``."""
    from pipeline.cli import main

    code = exitcodes.INTERNAL_ERROR
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        # The child's own streams, line-buffered: a kill loses none of the lines written before it.
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        with _as_a_new_process(workdir, fault, action):
            code = main(argv)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)  # never back into pytest


class Pgo:
    """``pgo(workdir, *args, command="run")``: a command run in ``workdir`` (``run`` is
    given the ``raw``, ``curated`` and ``exports`` folders there), its exit code and output."""

    def __call__(
        self, workdir: Path, *args: str, command: str = "run", fault: str | None = None, action: str = "crash"
    ) -> PgoResult:
        """In this process: a fault hook that kills or pauses needs :meth:`forked`."""
        from pipeline.cli import main

        assert fault is None or action == "crash", "a killed or paused command needs a process of its own"
        out, err = io.StringIO(), io.StringIO()
        with (
            _as_a_new_process(workdir, fault, action),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(_argv(command, args))
        return PgoResult(code, out.getvalue(), err.getvalue())

    @staticmethod
    def start(
        workdir: Path, *args: str, command: str = "run", fault: str | None = None, action: str = "kill"
    ) -> ForkedPgo:
        """Started in a child forked from this process, not waited for."""
        return ForkedPgo(workdir, _argv(command, args), fault, action)

    def forked(self, workdir: Path, *args: str, **kwargs) -> PgoResult:
        """In a child forked from this process, waited for: a process of its own, which
        the fault hook may kill, with everything it writes on its file descriptors 1 and 2."""
        return self.start(workdir, *args, **kwargs).wait()

    @staticmethod
    def python_args(
        workdir: Path, *args: str, command: str = "run", fault: str | None = None, action: str = "kill"
    ) -> dict:
        """The arguments of ``subprocess.run`` or ``Popen`` for ``python -m pipeline``."""
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        for var in FAULT_VARS:
            env.pop(var, None)
        if fault is not None:
            env.update({POINT_VAR: fault, ACTION_VAR: action, PAUSE_FILE_VAR: str(Path(workdir) / "paused")})
        return {"args": [sys.executable, "-m", "pipeline", *_argv(command, args)], "cwd": workdir, "env": env}

    def python(self, workdir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """``python -m pipeline`` in a new interpreter, waited for."""
        return subprocess.run(
            **self.python_args(workdir, *args, **kwargs), capture_output=True, text=True, timeout=PGO_TIMEOUT_S
        )


@pytest.fixture(scope="session")
def pgo() -> Pgo:
    return Pgo()
