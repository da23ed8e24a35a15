"""Replications and workers: run (variant, replication) jobs in-process or in a process pool.

A job's result depends only on its scenario and replication number (its random streams are
derived from (seed, replication)), so any number of workers gives identical results. An
interrupted run returns what finished and says it is incomplete.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from sim.config import Scenario
from sim.engine import Engine
from sim.metrics import Metrics, interval_rows, replication_metrics
from sim.routing import compile_routes


@dataclass(frozen=True, slots=True)
class Job:
    scenario_name: str
    variant: str
    scenario: Scenario
    replication: int
    trace: bool = False


@dataclass(frozen=True, slots=True)
class RepResult:
    scenario_name: str
    variant: str
    replication: int
    metrics: Metrics
    intervals: list[dict[str, float]]
    trace: list[tuple] | None
    wall_s: float


def simulate(job: Job) -> RepResult:
    """Run one replication of one scenario and reduce it to metrics."""
    t0 = time.perf_counter()
    tables = compile_routes(job.scenario)
    rec = Engine(job.scenario, tables, job.replication, trace=job.trace).run()
    metrics = replication_metrics(job.scenario, tables, rec)
    trace = None
    if rec.trace is not None:
        trace = [(job.replication, cid, t, ev, tables.channels[ch], tables.types[ty],
                  tables.tiers[k] if k >= 0 else "") for cid, t, ev, ch, ty, k in rec.trace]
    return RepResult(job.scenario_name, job.variant, job.replication, metrics,
                     interval_rows(job.scenario, tables, rec), trace,
                     time.perf_counter() - t0)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which keeps what finished and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued jobs and terminate the workers (no public API for
    that before Python 3.14's ``terminate_workers``)."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def default_workers() -> int:
    return os.cpu_count() or 1


@dataclass
class Outcome:
    results: list[RepResult]
    complete: bool
    error: str | None = None


def run_jobs(jobs: Sequence[Job], workers: int | None = None,
             on_done: Callable[[RepResult], None] | None = None) -> Outcome:
    """Run every job; results come back in job order whatever finished first."""
    workers = workers or default_workers()
    done: dict[int, RepResult] = {}
    complete, error = True, None
    try:
        if workers <= 1 or len(jobs) <= 1:
            for i, job in enumerate(jobs):
                done[i] = simulate(job)
                if on_done:
                    on_done(done[i])
        else:
            pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                       initializer=_ignore_sigint)
            try:
                futures: dict[Future, int] = {pool.submit(simulate, j): i
                                              for i, j in enumerate(jobs)}
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in sorted(finished, key=futures.__getitem__):
                        done[futures[f]] = f.result()
                        if on_done:
                            on_done(done[futures[f]])
                pool.shutdown()
            except BaseException:
                _abandon(pool)
                raise
    except KeyboardInterrupt:
        complete, error = False, "interrupted"
    except Exception as exc:  # noqa: BLE001 - reported to the user, partial results kept
        complete, error = False, f"{type(exc).__name__}: {exc}"
    return Outcome([done[i] for i in sorted(done)], complete, error)
