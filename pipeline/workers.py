"""The one process pool of the stages: ``map`` over forked workers when it pays.

Ingest (one report per job), the release gate (one chunk of reports per worker) and
publish (one report per job) map their jobs here; publish writes the national data
files in one forked process of their own while it validates and releases the reports
(:func:`start_call`). Workers are forked, so they read what the parent prepared
(rendered tables, parsed options) without pickling it.
``PGO_WORKERS`` sets how many workers (``1``: everything in this process, as a
profiler wants it); by default, one per core.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from tqdm import tqdm

WORKERS_VAR = "PGO_WORKERS"
#: Jobs per worker handed out at once: small enough to balance uneven jobs.
CHUNKS_PER_WORKER = 8

J = TypeVar("J")
R = TypeVar("R")


def worker_count() -> int:
    """``PGO_WORKERS`` if set to a positive integer, else the number of cores."""
    value = os.environ.get(WORKERS_VAR, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return os.cpu_count() or 1


def map_jobs(fn: Callable[[J], R], jobs: list[J], *, parallel_from: int, desc: str, unit: str = "report") -> list[R]:
    """``[fn(job) for job in jobs]``, in forked workers from ``parallel_from`` jobs on (order kept).

    A progress bar is shown on a terminal only.
    """
    return start_jobs(fn, jobs, parallel_from=parallel_from, desc=desc, unit=unit)()


def start_jobs(
    fn: Callable[[J], R], jobs: list[J], *, parallel_from: int, desc: str, unit: str = "report"
) -> Callable[[], list[R]]:
    """:func:`map_jobs` started: the workers are forked and given the jobs now, and the
    function returned waits for the results (in order) while this process does
    something else. Below ``parallel_from`` jobs, they run in this process when the
    results are asked for."""
    progress = {"desc": desc, "unit": unit, "total": len(jobs), "disable": not sys.stderr.isatty()}
    workers = min(worker_count(), len(jobs))
    if len(jobs) < parallel_from or workers < 2:
        return lambda: [fn(job) for job in tqdm(jobs, **progress)]
    chunksize = max(1, len(jobs) // (workers * CHUNKS_PER_WORKER))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        results = pool.map(fn, jobs, chunksize=chunksize)
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise

    def collect() -> list[R]:
        try:
            return list(tqdm(results, **progress))
        finally:
            pool.shutdown(cancel_futures=True)

    return collect


class Started:
    """A call started by :func:`start_call`: :meth:`result` waits for its value (or
    raises its exception); :meth:`cancel` stops it if it is still running."""

    def __init__(self, wait: Callable[[], R], cancel: Callable[[], None] = lambda: None):
        self._wait, self._cancel = wait, cancel

    def result(self) -> R:
        return self._wait()

    def cancel(self) -> None:
        self._cancel()


def _send_result(conn, fn: Callable[..., R], args: tuple) -> None:
    try:
        outcome = (True, fn(*args))
    except BaseException as exc:  # handed to the parent, which raises it
        outcome = (False, exc)
    conn.send(outcome)
    conn.close()


def start_call(fn: Callable[..., R], *args, parallel: bool = True) -> Started:
    """``fn(*args)`` started in one forked process, so that this one does something else
    meanwhile; its value (or exception) comes back pickled. The process may map jobs
    over workers of its own (it is not daemonic): a caller that gives up on the result
    cancels it (:meth:`Started.cancel`). Without ``parallel``, or with one worker
    (:func:`worker_count`), it runs in this process when its result is asked for."""
    if not parallel or worker_count() < 2:
        return Started(lambda: fn(*args))
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_send_result, args=(send, fn, args))
    child.start()
    send.close()

    def wait() -> R:
        try:
            ok, value = receive.recv()
        except EOFError:
            raise RuntimeError(f"the process running {fn.__name__} ended without a result") from None
        finally:
            receive.close()
            child.join()
        if not ok:
            raise value
        return value

    def cancel() -> None:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()

    return Started(wait, cancel)
