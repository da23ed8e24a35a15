"""Dask backend of sim.measure.runner: identical results to the local backend, partial results kept
on failure, clear input errors."""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

import pytest
from support import one_channel

from sim.base.errors import InputError
from sim.measure import runner
from sim.measure.runner import Job, RepResult, run_jobs, simulate

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is not installed (pip install 'ccsim[dask]')")
cloudpickle = pytest.importorskip("cloudpickle", reason="cloudpickle (a dask dependency)")

REPS = 6


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=40,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as c:
        yield c


@pytest.fixture(scope="module")
def jobs() -> list[Job]:
    sc = one_channel(100.0, {"dist": "exponential", "mean_s": 180.0}, 6,
                     horizon_hours=20.0, seed=7)
    return [Job(sc.name, "base", sc, r) for r in range(REPS)]


def bits(results: list[RepResult]) -> list:
    """Everything that must match, with floats as their bit patterns (NaN == NaN)."""
    def b(x):
        return struct.pack("<d", x) if isinstance(x, float) else x
    return [(r.scenario_name, r.variant, r.replication,
             sorted((k, b(v)) for k, v in r.metrics.items()),
             [sorted((k, b(v)) for k, v in row.items()) for row in r.intervals])
            for r in results]


def test_dask_matches_local(cluster, jobs: list[Job]) -> None:
    seen: list[int] = []
    dsk = run_jobs(jobs, on_done=lambda r: seen.append(r.replication), backend="dask",
                   scheduler=cluster.scheduler_address)
    one = run_jobs(jobs, workers=1)
    two = run_jobs(jobs, workers=2, backend="local")
    assert dsk.complete and dsk.error is None
    assert [r.replication for r in dsk.results] == list(range(REPS))
    assert sorted(seen) == list(range(REPS))
    assert bits(dsk.results) == bits(one.results) == bits(two.results)


def test_dask_own_local_cluster(jobs: list[Job]) -> None:
    out = run_jobs(jobs[:3], workers=2, backend="dask")
    assert out.complete and out.error is None
    assert bits(out.results) == bits(run_jobs(jobs[:3], workers=1).results)


def test_unreachable_scheduler_is_input_error(monkeypatch, jobs: list[Job]) -> None:
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 2.0)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="tcp://127.0.0.1:1"):
        run_jobs(jobs, backend="dask", scheduler="tcp://127.0.0.1:1")
    assert time.perf_counter() - t0 < 15


def test_unknown_backend_is_input_error(jobs: list[Job]) -> None:
    with pytest.raises(InputError, match="ray"):
        run_jobs(jobs, backend="ray")


def _flaky(job: Job, marks: str, wait_for: int) -> RepResult:
    """Replication 'boom' fails, but only once the others have all finished."""
    if job.variant != "boom":
        res = simulate(job)
        Path(marks, f"{job.replication}.done").touch()
        return res
    deadline = time.monotonic() + 20
    while len(list(Path(marks).glob("*.done"))) < wait_for and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # let the scheduler report the others' completion first
    raise RuntimeError("boom")


def test_failure_keeps_finished(cluster, jobs: list[Job], tmp_path: Path) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers can't import us
    try:
        bad = Job("t", "boom", jobs[0].scenario, 99)
        batch = [jobs[0], jobs[1], bad, jobs[2], jobs[3]]
        done: dict[int, RepResult] = {}
        seen: list[int] = []
        with distributed.Client(cluster, set_as_default=False) as client:
            with pytest.raises(RuntimeError, match="boom"):
                runner._run_dask(client, batch, lambda r: seen.append(r.replication), done,
                                 fn=lambda j: _flaky(j, str(tmp_path), 4))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert sorted(done) == [0, 1, 3, 4]
    assert sorted(seen) == [0, 1, 2, 3]
    assert bits([done[i] for i in sorted(done)]) == bits(run_jobs(jobs[:4], workers=1).results)


def test_failing_job_gives_incomplete_outcome(cluster, jobs: list[Job]) -> None:
    bad = Job("t", "broken", None, 0)  # type: ignore[arg-type] - the engine raises
    out = run_jobs([jobs[0], bad], backend="dask", scheduler=cluster.scheduler_address)
    assert not out.complete and out.error and "Error" in out.error
    assert all(r.variant == "base" for r in out.results)
