"""Replications and workers: run (variant, replication) jobs in-process, in a process pool
or on a Dask cluster.

A job's result depends only on its scenario and replication number (its random streams are
derived from (seed, replication)), so any number of workers and either backend give
identical results. An interrupted or failed run returns what finished and says it is
incomplete.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.base import interrupts
from sim.base.errors import InputError
from sim.inputs.config import Scenario
from sim.measure.metrics import Metrics, interval_rows, replication_metrics
from sim.model.engine import Engine
from sim.model.routing import compile_routes

if TYPE_CHECKING:  # the pool and Dask's modules load only when a run uses them
    from concurrent.futures import Future, ProcessPoolExecutor


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


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the parent, which keeps what finished and stops them (a
    terminal sends Ctrl-C to the whole process group); SIGTERM ends a worker quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued jobs and terminate the workers (no public API for
    that before Python 3.14's ``terminate_workers``); none outlives the command."""
    procs = {id(p): p for p in [*getattr(pool, "_processes", {}).values(),
                                *multiprocessing.active_children()]}.values()
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
    # the pool's manager thread must be gone before any later fork: a child forked while
    # it holds a lock inherits the lock held, and the new worker hangs for ever
    if manager is not None:
        manager.join(timeout=10)


def default_workers() -> int:
    return os.cpu_count() or 1


@dataclass
class Outcome:
    results: list[RepResult]
    complete: bool
    error: str | None = None


BACKENDS = ("local", "dask")
CONNECT_TIMEOUT_S = 10.0   # for --scheduler ADDRESS


def run_jobs(jobs: Sequence[Job], workers: int | None = None,
             on_done: Callable[[RepResult], None] | None = None,
             backend: str = "local", scheduler: str | None = None) -> Outcome:
    """Run every job; results come back in job order whatever finished first.

    ``backend="local"``: in-process (``workers == 1``) or a process pool. ``backend="dask"``:
    on the Dask scheduler at ``scheduler`` (workers there must be able to import ``sim``),
    or on a loopback ``LocalCluster`` of ``workers`` processes started for this call.
    Raises :class:`InputError` for an unknown backend, a missing dask or an unreachable
    scheduler; a failure or Ctrl-C during the run gives ``complete=False`` and what finished.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    done: dict[int, RepResult] = {}
    complete, error = True, None
    with contextlib.ExitStack() as stack:
        try:
            client = (stack.enter_context(_dask_client(workers, scheduler, len(jobs)))
                      if backend == "dask" else None)
        except KeyboardInterrupt:
            return Outcome([], False, "interrupted")
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a local cluster that fails to start
            return Outcome([], False, f"{type(exc).__name__}: {exc}")
        try:
            if client is not None:
                _run_dask(client, jobs, on_done, done)
            else:
                _run_local(jobs, workers or default_workers(), on_done, done)
        except KeyboardInterrupt:
            complete, error = False, "interrupted"
        except Exception as exc:  # noqa: BLE001 - reported to the user, partial results kept
            complete, error = False, f"{type(exc).__name__}: {exc}"
    if interrupts.received():  # e.g. SIGTERM to the process group also broke the pool
        complete, error = False, "interrupted"
    return Outcome([done[i] for i in sorted(done)], complete, error)


def _run_local(jobs: Sequence[Job], workers: int,
               on_done: Callable[[RepResult], None] | None, done: dict[int, RepResult]) -> None:
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            done[i] = simulate(job)
            if on_done:
                on_done(done[i])
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_worker_signals)
    try:
        with interrupts.held(reraise=True):  # every forked worker is known to the pool
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
    except Exception:
        # a replication failed (e.g. SimulationError): the pool is sound; drop the queued
        # jobs, let the running ones end, and close it cleanly
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    except BaseException:  # Ctrl-C: stop now
        _abandon(pool)
        raise


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None, n_jobs: int) -> Iterator[Any]:
    """A Dask client: connected to ``scheduler``, or to a loopback cluster closed on exit."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--backend dask needs dask[distributed]: "
                         "pip install 'ccsim[dask]'") from None
    import asyncio
    import logging

    if scheduler:
        try:  # probe first: a Client that fails to connect hangs for seconds at exit
            asyncio.run(_probe(scheduler))
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - refused, timed out, bad address
            raise InputError(f"cannot connect to the Dask scheduler at {scheduler!r}: {exc} "
                             f"(timeout {CONNECT_TIMEOUT_S:g} s)", path="--scheduler") from None
        with client:
            yield client
        return
    n = max(1, min(workers or default_workers(), n_jobs))
    with contextlib.ExitStack() as stack:
        stack.enter_context(_loop_errors_quiet())
        # SIGINT ignored is inherited by the worker processes (Ctrl-C is the parent's; one
        # during these seconds is lost); SIGTERM is held until the cluster is owned here
        # Worker logs at CRITICAL only: a worker that loses the scheduler to a SIGTERM logs
        # an ERROR with a traceback; a replication that fails still raises from its future.
        with interrupts.held(reraise=True), _sigint_ignored():
            cluster = stack.enter_context(LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=logging.CRITICAL,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
            client = stack.enter_context(Client(cluster, set_as_default=False))
        yield client


async def _probe(address: str) -> None:
    from distributed.comm import connect
    from distributed.security import Security  # TLS settings from the dask config, as Client

    comm = await connect(address, timeout=CONNECT_TIMEOUT_S,
                         **Security().get_connection_args("client"))
    await comm.close()


@contextlib.contextmanager
def _loop_errors_quiet() -> Iterator[None]:
    """Keep the client's event-loop error log off the terminal while a local cluster runs:
    a signal that stops a blocking client call makes distributed's loop thread log the
    cancelled call with a traceback (the run itself then ends as interrupted, exit 3).
    A replication that fails still raises from its future, so nothing real is hidden."""
    import logging

    log = logging.getLogger("tornado.application")
    old = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(old)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _run_dask(client: Any, jobs: Sequence[Job], on_done: Callable[[RepResult], None] | None,
              done: dict[int, RepResult], fn: Callable[[Job], RepResult] = simulate) -> None:
    """Submit ``fn(job)`` for every job and collect results as they finish. On any error
    or Ctrl-C, cancel what has not finished but keep every result that has."""
    from dask.distributed import as_completed

    futures = {f: i for i, f in enumerate(client.map(fn, jobs, pure=False))}
    try:
        for f in as_completed(futures, loop=client.loop):
            done[futures[f]] = f.result()
            if on_done:
                on_done(done[futures[f]])
    except BaseException:
        left = sorted((f for f, i in futures.items() if i not in done), key=futures.__getitem__)
        deadline = time.monotonic() + 10.0
        with contextlib.suppress(Exception):  # results finished meanwhile are still kept
            for f in left:
                if f.status == "finished":
                    done[futures[f]] = f.result(timeout=max(0.1, deadline - time.monotonic()))
                    if on_done:
                        on_done(done[futures[f]])
        raise
    finally:  # release everything: nothing left running, no results held on the workers
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
