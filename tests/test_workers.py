"""The process pool of the stages (pipeline.workers)."""

from __future__ import annotations

import os

import pytest

from pipeline import workers


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _map_in_workers(values: list[int]) -> list[tuple[int, int]]:
    return workers.map_jobs(_pid_and_square, values, parallel_from=2, desc="test")


def _fail(message: str) -> None:
    raise ValueError(message)


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setenv(workers.WORKERS_VAR, "2")


def test_a_call_started_apart_runs_in_another_process_and_may_map_jobs_over_workers(two_workers):
    """The release gate, started in a process of its own, maps its chunks over workers."""
    started = workers.start_call(_map_in_workers, [1, 2, 3, 4])
    results = started.result()
    assert [square for _, square in results] == [1, 4, 9, 16]
    assert os.getpid() not in {pid for pid, _ in results}


def test_a_call_started_apart_raises_its_exception_here(two_workers):
    with pytest.raises(ValueError, match="refused"):
        workers.start_call(_fail, "refused").result()


def test_a_call_not_parallel_runs_here_when_its_result_is_asked_for(two_workers):
    started = workers.start_call(_pid_and_square, 3, parallel=False)
    assert started.result() == (os.getpid(), 9)


def test_a_call_cancelled_stops(two_workers):
    started = workers.start_call(_map_in_workers, list(range(100)))
    started.cancel()
