"""A study: several options (scenarios / variants) simulated with common random numbers,
written to one results folder and shown on the terminal. Used by `run` and `compare`."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import typer

from sim import __version__
from sim.base import interrupts
from sim.base.errors import InputError
from sim.base.limits import check_work
from sim.base.paths import check_out, describe_os_error
from sim.inputs.config import Scenario
from sim.measure import results as results_io
from sim.measure.paired import best_option, differences_table
from sim.measure.results import (
    group_options,
    mark_incomplete,
    rewrite_summary,
    write_csv,
    write_results,
    write_summary_json,
)
from sim.measure.runner import Job, Outcome, RepResult, default_workers, run_jobs
from sim.report.page import write_report


@dataclass
class Study:
    command: str
    name: str                                   # used for titles and the default folder
    options: list[tuple[str, str, Scenario]]    # (scenario name, variant, scenario)
    out: Path
    workers: int | None = None
    trace: bool = False
    quiet: bool = False
    as_json: bool = False
    title: str | None = None
    meta: dict = field(default_factory=dict)    # extra provenance (files, hashes)
    resolved: dict | None = None                # written as scenario.yaml
    done_before: list[RepResult] = field(default_factory=list)  # e.g. a resumed sweep's
    on_done: Callable[[RepResult], None] | None = None  # called as each replication ends
    target_ci: dict[tuple[str, str], float] = field(default_factory=dict)  # metric -> half-w
    max_replications: int = 200
    backend: str = "local"                      # or "dask"
    scheduler: str | None = None                # dask scheduler address
    # a command's own tables (e.g. roadmap economics): called with the written tables and
    # meta once every replication is in; may add tables / summary rows and write files
    extend: Callable[[dict[str, pd.DataFrame], dict], None] | None = None
    # a command's own terminal output instead of the KPI / targets tables
    printer: Callable[[object, dict[str, pd.DataFrame]], None] | None = None
    labels: dict[str, str] | None = None        # column headings by variant (sweep)
    caption: str | None = None                  # printed under the KPI table
    select: object | None = None                # sim.decide.selection.KN: compare --pcs


class _NoProgress:
    """What a study asks of rich's Progress, doing nothing (no bar with --quiet or --json)."""

    def __init__(self) -> None:
        self.tasks: list[SimpleNamespace] = []

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> int:
        self.tasks.append(SimpleNamespace(description=description, total=total))
        return len(self.tasks) - 1

    def advance(self, task: int, advance: float = 1) -> None:
        return None

    def update(self, task: int, total: float | None = None, **_: object) -> None:
        if total is not None:
            self.tasks[task].total = total


def begin_folder(out: Path, meta: dict) -> None:
    """Before simulating: the results folder is usable (sim.base.paths.check_out, exit 2
    otherwise) and its summary.json says ``complete: false`` until the results are
    written -- also over a folder of an earlier run (a sweep resumed), so a run stopped
    at any moment never leaves a summary.json that claims more than the folder holds."""
    check_out(out)
    if not mark_incomplete(out, meta, NOT_FINISHED):
        raise InputError(f"cannot write results in '{out}' (is the disk full?)", path="--out")


NOT_FINISHED = "not finished: still running, or stopped before writing its results"


def run_study(st: Study) -> dict:
    """Simulate every option, write the folder, print; returns out/complete/tables.

    Refuses (InputError, before simulating) work beyond the bounds of sim.base.limits and an
    unusable results folder. SIGINT/SIGTERM while simulating keep every finished
    replication (``complete: false``); one while writing or printing waits until the
    files are whole. A disk that fills up is ``complete: false`` with the files kept
    named on stderr.
    """
    if st.scheduler is not None and st.backend != "dask":
        raise InputError("--scheduler needs --backend dask", path="--scheduler")
    have = {(r.scenario_name, r.variant, r.replication) for r in st.done_before}
    jobs = [Job(s, v, sc, r, st.trace) for s, v, sc in st.options
            for r in range(sc.replications) if (s, v, r) not in have]
    check_work([sc for _, _, sc in st.options], trace=st.trace,
               replications=[max(sc.replications, st.max_replications
                                 if st.target_ci or st.select is not None else 0)
                             for _, _, sc in st.options], what=f"ccsim {st.command}")
    planned = len(jobs)
    from sim.model.plausible import option_warnings  # implausible input: a line on stderr each

    warnings = option_warnings([sc for _, _, sc in st.options])
    if not st.quiet:
        for line in warnings:
            typer.echo(f"warning: {line}", err=True)
    started = dt.datetime.now(dt.UTC)
    begin_folder(st.out, {"ccsim_version": __version__, "command": st.command,
                          "scenario": st.name, "title": st.title,
                          "start": started.isoformat(timespec="seconds")})
    term, bar_ = None, _NoProgress()   # --quiet, --json: no terminal output, rich not loaded
    if not (st.quiet or st.as_json):
        from sim.report import console as con

        term = con.make_console()
        bar_ = con.progress(term, len(jobs), f"simulating {st.name}")
    t0 = time.perf_counter()
    finished: list[RepResult] = []
    outcome: Outcome | None = None
    try:
        with bar_ as bar:
            task = bar.add_task(f"simulating {st.name}", total=len(jobs))

            def done(r: RepResult) -> None:
                with interrupts.held(reraise=True):  # a point's files are written whole
                    finished.append(r)
                    bar.advance(task)
                    if st.on_done is not None:
                        st.on_done(r)

            outcome = (run_jobs(jobs, st.workers, on_done=done, backend=st.backend,
                                scheduler=st.scheduler) if jobs else Outcome([], True))
            if st.target_ci and outcome.complete:
                outcome = _until_precise(st, [*st.done_before, *outcome.results], outcome,
                                         bar, task, done)
            if st.select is not None and outcome.complete:
                from sim.decide.selection import until_selected
                outcome = until_selected(st, outcome, bar, task, done)
    except KeyboardInterrupt:  # between replications: what finished is in `finished`
        outcome = Outcome(list(finished), False, "interrupted")
    assert outcome is not None
    if interrupts.received() and outcome.complete:
        outcome = Outcome(outcome.results, False, "interrupted")
    if st.target_ci or st.select is not None:
        planned = max(planned, len(outcome.results))   # the replications CI targets added
        st.options = [(s, v, sc.model_copy(update={"replications": len(
            [r for r in outcome.results if (r.scenario_name, r.variant) == (s, v)]) + len(
            [r for r in st.done_before if (r.scenario_name, r.variant) == (s, v)])}))
            for s, v, sc in st.options]
    with interrupts.held():  # from here on, a signal waits until the folder is whole
        return _finish(st, outcome, started, time.perf_counter() - t0, planned, term,
                       warnings)


def _finish(st: Study, outcome: Outcome, started: dt.datetime, wall: float, planned: int,
            term, warnings: list[str]) -> dict:  # noqa: ANN001
    """Write the folder, print, and write summary.json last (the run's true status)."""
    results = [*st.done_before, *outcome.results]
    first = st.options[0][2]
    options = group_options(results, {(s, v): sc for s, v, sc in st.options})
    meta = {"ccsim_version": __version__, "command": st.command, "scenario": st.name,
            "title": st.title,
            **st.meta, "seed": first.seed, "replications": first.replications,
            "workers": st.workers or default_workers(), "backend": st.backend,
            "start": started.isoformat(timespec="seconds"),
            "end": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_s": round(wall, 3), "complete": outcome.complete,
            "replications_done": len(results),
            "replications_planned": planned + len(st.done_before),
            "replications_resumed": len(st.done_before)}
    if outcome.error:
        meta["error"] = outcome.error
    if warnings:
        meta["warnings"] = warnings
    if interrupts.received():
        meta["signal"] = interrupts.signal_name()

    def pending() -> dict:
        return {**meta, "complete": False, "error": meta.get("error") or NOT_FINISHED}

    with results_io.recording() as kept:
        try:
            tables = write_results(st.out, options, pending(), st.resolved, trace=st.trace)
            if st.extend is not None and outcome.complete:
                st.extend(tables, meta)
                rewrite_summary(st.out, tables["summary"], pending())
            diffs = None
            if st.command == "compare":
                diffs = differences_table(options)
                write_csv(st.out / "differences.csv", diffs)
                tables["differences"] = diffs
            if st.select is not None:  # compare --pcs (sim.decide.selection)
                tables["selection"] = st.select.table()
                write_csv(st.out / "selection.csv", tables["selection"])
                meta["selection"] = st.select.meta(first.currency)
            _mark_if_interrupted(meta)
            write_report(st.out, tables, meta, first, title=st.title)
        except OSError as exc:
            return _write_failed(st, meta, exc, kept, len(results))
    if not st.quiet or st.as_json:  # --quiet prints nothing: no table is built for it
        best = best_option(tables["targets"], tables["summary"])
        try:
            _show(st, term, tables, meta, diffs, best, outcome, planned)
        except (BrokenPipeError, SystemExit):  # stdout closed (`| head`; rich then exits):
            _silence_stdout()                  # the files are what counts, finish them
    if not outcome.complete and (st.quiet or st.as_json):  # never a silent failure
        from sim.report.console import clean

        typer.echo(clean(f"incomplete: {outcome.error}; kept {len(outcome.results)} of "
                             f"{planned} replications in {st.out}"), err=True)
    late = _mark_if_interrupted(meta) and outcome.complete
    complete = outcome.complete and not late
    try:
        write_summary_json(st.out, tables["summary"], meta)  # last: the folder is whole
    except OSError as exc:
        return _write_failed(st, meta, exc, [], len(results))
    if late:
        typer.echo(f"interrupted ({meta['signal']}) while writing the results: every file "
                   f"in {st.out} is whole; summary.json says complete: false", err=True)
    if complete:
        interrupts.finish()  # the results are complete: a signal from now on is too late
    return {"out": st.out, "complete": complete, "targets": tables["targets"],
            "tables": tables}


def _show(st: Study, term, tables: dict[str, pd.DataFrame], meta: dict,  # noqa: ANN001
          diffs: pd.DataFrame | None, best: tuple[str, str] | None, outcome: Outcome,
          planned: int) -> None:
    """The terminal output of a study (or its --json document)."""
    if st.as_json:
        doc = {"meta": meta, "out": str(st.out),
               "rows": json.loads(tables["summary"].to_json(orient="records")),
               "targets": json.loads(tables["targets"].to_json(orient="records"))}
        if "roadmap" in tables:
            doc["roadmap"] = json.loads(tables["roadmap"].to_json(orient="records"))
        if diffs is not None:
            doc["differences"] = json.loads(diffs.to_json(orient="records"))
            doc["best"] = list(best) if best else None
        if "selection" in tables:
            doc["selection"] = json.loads(tables["selection"].to_json(orient="records"))
        typer.echo(json.dumps(doc))
    elif st.printer is not None:
        st.printer(term, tables)
        _print_footer(term, st, outcome, planned)
    else:
        _print(term, st, tables, diffs, best, outcome, planned)
    if st.command == "sweep" and not st.as_json:
        term.print(f"{len(st.done_before)} replications reused from finished points, "
                   f"{len(outcome.results)} simulated")


def _silence_stdout() -> None:
    """After a broken pipe: send the rest of stdout nowhere (no error at exit)."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _mark_if_interrupted(meta: dict) -> bool:
    """A signal held while writing: the run did not end normally (SPEC §7.1)."""
    if interrupts.received():
        meta.update(complete=False, error=meta.get("error") or "interrupted",
                    signal=interrupts.signal_name())
        return True
    return False


def _write_failed(st: Study, meta: dict, exc: OSError, kept: list[Path], n_reps: int) -> dict:
    """The disk filled up (or another write error) while writing results: say so, name
    what was kept, mark summary.json incomplete if it can still be written."""
    why = describe_os_error(exc)
    names = sorted({p.name for p in kept if p.name != "summary.json"})
    marked = results_io.mark_incomplete(st.out, meta, f"cannot write results: {why}")
    typer.echo(f"error: cannot write the results in {st.out}/ ({why}); "
               f"{n_reps} replications were simulated; kept: "
               f"{', '.join(names) if names else 'no result file'}"
               + ("; summary.json says complete: false" if marked else
                  "; summary.json could not be updated") + ". Free some space and run "
               "the command again.", err=True)
    return {"out": st.out, "complete": False, "targets": None, "tables": {}}


def _until_precise(st: Study, results: list[RepResult], outcome: Outcome, bar, task,  # noqa: ANN001
                   done: Callable[[RepResult], None]) -> Outcome:
    """Sequential sampling: add replications (doubling, up to ``max_replications``) until
    every named metric's 95% CI half-width is within its target for every option."""
    from sim.measure.stats import estimate

    while True:
        if interrupts.received():
            return Outcome(outcome.results, False, "interrupted")
        counts: dict[tuple[str, str], int] = {}
        loose = set()
        for s, v, _sc in st.options:
            mine = [r for r in results if (r.scenario_name, r.variant) == (s, v)]
            counts[(s, v)] = len(mine)
            for key, half in st.target_ci.items():
                est = estimate([r.metrics.get(key, math.nan) for r in mine])
                if not (est.n >= 2 and est.half_width <= half):
                    loose.add((s, v))
        todo = [(s, v, sc) for s, v, sc in st.options
                if (s, v) in loose and counts[(s, v)] < st.max_replications]
        if not todo:
            break
        jobs = [Job(s, v, sc, r, st.trace) for s, v, sc in todo
                for r in range(counts[(s, v)], min(2 * counts[(s, v)], st.max_replications))]
        bar.update(task, total=(bar.tasks[0].total or 0) + len(jobs))
        more = run_jobs(jobs, st.workers, on_done=done, backend=st.backend,
                        scheduler=st.scheduler)
        results += more.results
        outcome = Outcome([*outcome.results, *more.results], more.complete, more.error)
        if not more.complete:
            break
    return outcome


def _print(term, st: Study, tables: dict[str, pd.DataFrame],  # noqa: ANN001
           diffs: pd.DataFrame | None, best: tuple[str, str] | None, outcome, n_jobs: int
           ) -> None:
    from sim.report import console as con

    first = st.options[0][2]
    n_reps = first.replications
    if not tables["summary"].empty:
        term.print(con.kpi_table(tables["summary"], first.channels, list(first.tiers),
                                 first.currency, title=st.title or f"{st.name}: KPIs "
                                 f"({n_reps} replications, mean ± 95% CI half-width)",
                                 labels=st.labels))
        if st.caption:
            term.print(st.caption)
    if diffs is not None and not diffs.empty:
        term.print(con.differences_table(diffs, tables["summary"], first.channels))
    tt = con.targets_table(tables["targets"], first.channels)
    if tt is not None:
        term.print(tt)
    if st.select is not None:
        from sim.decide.selection import selection_table
        term.print(selection_table(tables["selection"], first.currency))
        term.print(con.clean(st.select.statement(first.currency)))
    elif st.command == "compare" and not tables["targets"].empty:
        term.print(con.styled("best option (meets all its targets at the lowest total cost): ",
                              (f"{best[0]}/{best[1]}", "bold green") if best
                              else "none meets all targets"))
    _print_footer(term, st, outcome, n_jobs)


def _print_footer(term, st: Study, outcome, n_jobs: int) -> None:  # noqa: ANN001
    from sim.report import console as con

    term.print(f"results: {st.out}/  (report: {st.out / 'report.html'})")
    if not outcome.complete:
        term.print(con.styled(("incomplete", "bold red"), f": {outcome.error}; kept "
                              f"{len(outcome.results)} of {n_jobs} replications"))

