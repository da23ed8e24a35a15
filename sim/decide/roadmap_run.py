"""`ccsim roadmap`: simulate every state of a roadmap under common random numbers, then
add the economics (roadmap.csv, scope `roadmap` rows) and print the phase tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.decide.economics import roadmap_tables
from sim.decide.roadmap import BASELINE, LoadedRoadmap, build_roadmap, read_roadmap
from sim.decide.study import Study, run_study
from sim.decide.workforce_report import workforce_line, workforce_tables
from sim.measure.results import write_csv
from sim.report import console as con
from sim.report.console_uncertainty import missed_note


def run_roadmap(path: Path, *, reps: int | None, seed: int | None, out: Path | None,
                workers: int | None, quiet: bool, as_json: bool, backend: str,
                scheduler: str | None, default_out: Callable[[str], Path],
                overrides: list[tuple[str, object]] | None = None,
                title: str | None = None, compact: set[str] | None = None,
                draws: int | None = None) -> dict:
    rf = read_roadmap(path, overrides)
    if rf.roadmap.uncertain or draws is not None:
        if not rf.roadmap.uncertain:
            from sim.base.errors import InputError

            raise InputError("--draws needs an uncertain: block in the roadmap file",
                             file=str(path), path="--draws")
        from sim.decide.uncertain_roadmap import run_uncertain_roadmap

        rm = rf.roadmap
        folder = out or default_out(f"roadmap-{rm.roadmap}")
        return run_uncertain_roadmap(
            rf, draws=draws, reps=reps, seed=seed, folder=folder, workers=workers,
            quiet=quiet, as_json=as_json, backend=backend, scheduler=scheduler, title=title,
            compact=compact, path=path, meta=_meta(path, build_roadmap(rf, reps, seed)))
    lr = build_roadmap(rf, reps, seed)
    rm = lr.roadmap
    folder = out or default_out(f"roadmap-{rm.roadmap}")

    def extend(tables: dict[str, pd.DataFrame], meta: dict) -> None:
        months, extra = roadmap_tables(lr, tables["replications"])
        write_csv(folder / "roadmap.csv", months)
        tables["roadmap"] = months
        tables["summary"] = pd.concat([tables["summary"], extra], ignore_index=True)
        if lr.workforce is not None:
            tables.update(workforce_tables(lr, tables["summary"]))
            write_csv(folder / "workforce.csv", tables["workforce"])
            write_csv(folder / "workforce_kpis.csv", tables["workforce_kpis"])

    phases = [BASELINE, *[p.name for p in rm.phases]]

    def printer(term, tables: dict[str, pd.DataFrame]) -> None:  # noqa: ANN001
        sc = lr.points[0].scenario
        ends = tables["summary"][tables["summary"]["variant"].isin(phases)]
        heading = title or f"roadmap {rm.roadmap}"
        term.print(con.kpi_table(ends, sc.channels, list(sc.tiers), sc.currency,
                                 only=compact, title=f"{heading}: KPIs at the end of each "
                                 f"phase ({sc.replications} replications, mean ± 95% CI "
                                 "half-width; common random numbers)"))
        tt = con.target_matrix(tables["targets"], phases, channels=sc.channels)
        if tt is not None:
            term.print(tt)
        if "roadmap" in tables:
            term.print(con.roadmap_table(tables["summary"], tables["roadmap"], rm, sc.currency))
            term.print(con.payback_line(tables["summary"], rm.horizon)
                       + missed_note(tables["targets"], rm.phases[-1].name))
            if "workforce" in tables:
                term.print(workforce_line(tables["workforce"], tables["workforce_kpis"],
                                          lr))
        else:
            term.print("no roadmap.csv, payback or ROI: they need every state's replications "
                       "(the run is incomplete; run the command again)")

    meta = _meta(path, lr)
    first = lr.points[0].scenario
    resolved = {"roadmap": lr.raw, "baseline": {
        **{k: v for k, v in lr.baseline.raw.items() if k != "variants"},
        "seed": first.seed, "replications": first.replications}}
    return run_study(Study(
        "roadmap", rm.roadmap, [(rm.roadmap, p.variant, p.scenario) for p in lr.points],
        folder, workers, False, quiet, as_json, title or f"roadmap {rm.roadmap}", meta, resolved,
        backend=backend, scheduler=scheduler, extend=extend, printer=printer))


def _meta(path: Path, lr: LoadedRoadmap) -> dict:
    rm = lr.roadmap
    return {"roadmap_file": str(path), "roadmap_sha256": lr.file_hash,
            "baseline_file": str(lr.baseline.path), "horizon_months": rm.horizon,
            "phases": [{"name": p.name, "months": p.months, "investment": p.investment,
                        "ramp": p.ramp, "end_month": lr.phase_end(p.name)}
                       for p in rm.phases],
            "points": [{"variant": p.variant, "phase": p.phase, "month": p.month}
                       for p in lr.points],
            **({"workforce": lr.workforce.meta()} if lr.workforce is not None else {})}
