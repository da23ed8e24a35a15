"""The Python API (SPEC §7.9): ``sim.run`` and ``sim.compare`` for notebooks and scripts.

The same path as the CLI's ``run`` and ``compare`` -- load and validate, simulate every
option under common random numbers, tabulate -- without printing and without writing
anything until :meth:`Result.write` is called::

    import sim
    res = sim.run("scenarios/demo.yaml", reps=5, set={"tiers.base.agents": 30})
    res.summary                      # pandas DataFrame, the rows of summary.csv
    res.write("results/mine")        # the whole results folder, report.html included

Bad input raises :class:`sim.base.errors.InputError` (its message is the CLI's); a failed or
interrupted simulation gives a result with ``complete == False`` and what finished.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.base.errors import InputError
from sim.inputs.config import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.inputs.scenario import LoadedScenario
    from sim.measure.results import Option

__all__ = ["Result", "run", "compare", "run_options", "compare_options"]

OptionSpec = tuple[str, str, Scenario]   # (scenario name, variant, scenario)


@dataclass
class Result:
    """What a study produced: the tables of its results folder, as pandas DataFrames."""

    command: str
    meta: dict
    summary: pd.DataFrame
    replications: pd.DataFrame
    intervals: pd.DataFrame
    targets: pd.DataFrame
    differences: pd.DataFrame | None = None     # compare only: paired vs the first option
    resolved: dict | None = field(default=None, repr=False)   # written as scenario.yaml
    options: list[Option] = field(default_factory=list, repr=False)

    @property
    def complete(self) -> bool:
        """False when the simulation failed or was interrupted (see ``meta["error"]``)."""
        return bool(self.meta.get("complete"))

    @property
    def best(self) -> tuple[str, str] | None:
        """(scenario, variant) meeting every target at the lowest mean total cost, if any.

        A point estimate: see ``targets`` (status ``uncertain`` means the 95% CI straddles
        the limit) before calling it the best option in front of anyone."""
        from sim.measure.paired import best_option

        return best_option(self.targets, self.summary)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its file name without ``.csv``."""
        out = {"summary": self.summary, "replications": self.replications,
               "intervals": self.intervals, "targets": self.targets}
        if self.differences is not None:
            out["differences"] = self.differences
        return out

    def write(self, folder: str | Path) -> Path:
        """Write the results folder (SPEC §5: CSVs, summary.json, scenario.yaml,
        report.html) and return its path. Files are written atomically."""
        from sim.measure.results import write_csv, write_results
        from sim.report.page import write_report

        out = Path(folder)
        first = self.options[0].scenario if self.options else None
        tables = write_results(out, self.options, self.meta, self.resolved)
        if self.differences is not None:
            write_csv(out / "differences.csv", self.differences)
            tables["differences"] = self.differences
        if first is not None:
            write_report(out, tables, self.meta, first, title=self.meta.get("title"))
        return out

    def to_excel(self, path: str | Path) -> Path:
        """One workbook, a sheet per table (as ``ccsim export --xlsx``)."""
        from sim.report.export import write_workbook

        return write_workbook(self.tables(), self.meta, Path(path))


def run(scenario: str | Path, *, reps: int | None = None, seed: int | None = None,
        set: Mapping[str, object] | None = None,  # noqa: A002 - the documented name
        workers: int | None = 1, backend: str = "local", scheduler: str | None = None,
        ) -> Result:
    """Simulate a scenario file and each of its variants (the CLI's ``ccsim run``).

    ``set`` maps dotted paths to values, applied before validation like ``--set``.
    ``workers=None`` uses every core; results are identical whatever the number.
    """
    from sim.inputs.scenario import load_scenario

    loaded = load_scenario(Path(scenario), list((set or {}).items()))
    options, resolved = run_options(loaded, reps=reps, seed=seed)
    meta = {"scenario_file": str(scenario), "scenario_sha256": loaded.file_hash}
    return _study("run", loaded.scenario.name, options, resolved, meta, workers, backend,
                  scheduler)


def compare(scenarios: Sequence[str | Path], *, reps: int | None = None,
            seed: int | None = None,
            set: Mapping[str, object] | None = None,  # noqa: A002 - the documented name
            workers: int | None = 1, backend: str = "local", scheduler: str | None = None,
            ) -> Result:
    """Simulate several scenario files (and their variants) under common random numbers
    (the CLI's ``ccsim compare``); ``.differences`` holds the paired differences against
    the first option. ``set`` applies to every file."""
    from sim.inputs.scenario import load_scenario

    if isinstance(scenarios, str | Path) or not scenarios:
        raise InputError("compare needs a list of one or more scenario files")
    loaded = [load_scenario(Path(p), list((set or {}).items())) for p in scenarios]
    options, resolved = compare_options(loaded, reps=reps, seed=seed)
    first = loaded[0].scenario
    meta = {"scenario_files": [str(p) for p in scenarios],
            "scenario_sha256": [ld.file_hash for ld in loaded]}
    return _study("compare", first.name, options, resolved, meta, workers, backend,
                  scheduler, title="compare: " + " vs ".join(ld.scenario.name for ld in loaded))


# --- options, shared with the CLI ------------------------------------------------------------

def run_options(loaded: LoadedScenario, *, reps: int | None, seed: int | None
                ) -> tuple[list[OptionSpec], dict]:
    """The options of ``run``: the scenario and its variants with ``reps``/``seed``
    applied; and the resolved mapping written as scenario.yaml."""
    update = _update(reps, seed)
    name = loaded.scenario.name
    resolved = {**loaded.raw, **update}
    return [(name, v, _with(sc, update)) for v, sc in loaded.options()], resolved


def compare_options(loaded: Sequence[LoadedScenario], *, reps: int | None, seed: int | None
                    ) -> tuple[list[OptionSpec], dict]:
    """The options of ``compare``: every file's scenario and variants, all with the first
    file's replications and seed (common random numbers) unless given. Two files with the
    same scenario name are told apart as ``name@file-stem``."""
    first = loaded[0].scenario
    update = {"replications": reps or first.replications,
              "seed": first.seed if seed is None else seed}
    names: set[str] = set()
    options: list[OptionSpec] = []
    for ld in loaded:
        name = ld.scenario.name
        if name in names:
            name = f"{name}@{ld.path.stem}"
        names.add(name)
        options += [(name, v, _with(sc, update)) for v, sc in ld.options()]
    return options, dict(loaded[0].raw)


def _update(reps: int | None, seed: int | None) -> dict[str, Any]:
    update: dict[str, Any] = {}
    if reps is not None:
        update["replications"] = reps
    if seed is not None:
        update["seed"] = seed
    return update


def _with(sc: Scenario, update: dict[str, Any]) -> Scenario:
    return sc.model_copy(update=update) if update else sc


def _study(command: str, name: str, options: list[OptionSpec], resolved: dict, meta: dict,
           workers: int | None, backend: str, scheduler: str | None,
           title: str | None = None) -> Result:
    from sim.base.limits import MAX_REPLICATIONS, check_work
    from sim.measure.paired import differences_table
    from sim.measure.results import (
        group_options,
        intervals_table,
        replications_table,
        summary_table,
        targets_table,
    )
    from sim.measure.runner import Job, default_workers, run_jobs

    for _, _, sc in options:
        if not 1 <= sc.replications <= MAX_REPLICATIONS:
            raise InputError(f"reps must be from 1 to {MAX_REPLICATIONS:,}", path="reps")
    check_work([sc for _, _, sc in options], what=f"sim.{command}")  # before any job
    jobs = [Job(s, v, sc, r) for s, v, sc in options for r in range(sc.replications)]
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    outcome = run_jobs(jobs, workers, backend=backend, scheduler=scheduler)
    grouped = group_options(outcome.results, {(s, v): sc for s, v, sc in options})
    first = options[0][2]
    meta = {"ccsim_version": __version__, "command": command, "scenario": name,
            "title": title, **meta, "seed": first.seed, "replications": first.replications,
            "workers": workers or default_workers(), "backend": backend,
            "start": started.isoformat(timespec="seconds"),
            "end": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_s": round(time.perf_counter() - t0, 3), "complete": outcome.complete,
            "replications_done": len(outcome.results), "replications_planned": len(jobs),
            "replications_resumed": 0}
    if outcome.error:
        meta["error"] = outcome.error
    return Result(command, meta, summary_table(grouped), replications_table(grouped),
                  intervals_table(grouped), targets_table(grouped),
                  differences_table(grouped) if command == "compare" else None,
                  resolved, grouped)
