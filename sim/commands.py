"""The bodies of the ``ccsim`` commands that take scenario files (SPEC §2): load, build the
options, run the study, write the folder. cli.py parses the options and turns the results
into exit codes; everything here raises :class:`~sim.base.errors.InputError` on bad input and
returns ``{"out", "complete", "targets"}`` for a run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from sim.base.errors import InputError
from sim.base.paths import default_out


def simulate_file(path: Path, *, reps: int | None, seed: int | None, out: Path | None,
                  workers: int | None, trace: bool, quiet: bool, as_json: bool,
                  overrides: list[tuple[str, object]], title: str | None = None,
                  target_ci: dict[tuple[str, str], float] | None = None,
                  max_reps: int = 200, backend: str = "local",
                  scheduler: str | None = None, draws: int | None = None) -> dict:
    """Run a scenario file and its variants, write the results folder, print the tables.

    Returns {"out", "complete", "targets"}; raises InputError on bad input.
    """
    from sim.api import run_options
    from sim.decide.study import Study, run_study
    from sim.inputs.scenario import load_scenario

    loaded = load_scenario(path, overrides)
    if loaded.raw.get("uncertain") or draws is not None:  # SPEC §7.6: sim/decide/uncertain_run.py
        if not loaded.raw.get("uncertain"):
            raise InputError("--draws needs an uncertain: block in the scenario file",
                             file=str(path), path="--draws")
        if target_ci or trace:
            raise InputError(f"{'--target-ci' if target_ci else '--trace'} does not combine "
                             "with uncertain: inputs (each draw runs the file's "
                             "replications)", file=str(path), path="uncertain")
        from sim.decide.uncertain_run import run_uncertain

        return run_uncertain(path, draws=draws, reps=reps, seed=seed,
                             out=out or default_out(loaded.scenario.name), workers=workers,
                             quiet=quiet, as_json=as_json, overrides=overrides,
                             backend=backend, scheduler=scheduler, title=title)
    options, resolved = run_options(loaded, reps=reps, seed=seed)
    name = loaded.scenario.name
    return run_study(Study(
        "run", name, options, out or default_out(name), workers, trace, quiet, as_json, title,
        {"scenario_file": str(path), "scenario_sha256": loaded.file_hash}, resolved,
        target_ci=target_ci or {}, max_replications=max_reps, backend=backend,
        scheduler=scheduler))


def compare_files(scenarios: list[Path], reps: int | None, seed: int | None, out: Path | None,
             workers: int | None, quiet: bool, as_json: bool, backend: str,
             scheduler: str | None, pcs: float | None = None,
             indifference: float | None = None, max_reps: int = 200) -> dict:
    from sim.api import compare_options
    from sim.decide.study import Study, run_study
    from sim.inputs.scenario import load_scenario

    loaded = [load_scenario(p) for p in scenarios]
    first = loaded[0].scenario
    options, resolved = compare_options(loaded, reps=reps, seed=seed)
    select = None
    if pcs is not None or indifference is not None:
        from sim.decide.selection import KN
        if pcs is None or indifference is None or indifference <= 0:
            raise InputError("--pcs and --indifference go together: --pcs 0.95 "
                             "--indifference 500 (a positive cost, currency per replication)",
                             path="--indifference" if pcs is not None else "--pcs")
        n0 = options[0][2].replications
        if n0 < 2 or n0 > max_reps:
            raise InputError(f"--pcs needs a first stage of at least 2 replications and at "
                             f"most --max-reps ({max_reps}); it has {n0}", path="--reps")
        select = KN([(s, v) for s, v, _ in options], pcs=pcs, delta=indifference, n0=n0,
                    max_reps=max_reps)
    title = "compare: " + " vs ".join(ld.scenario.name for ld in loaded)
    return run_study(Study(
        "compare", first.name, options, out or default_out(f"compare-{first.name}"), workers,
        False, quiet, as_json, title,
        {"scenario_files": [str(p) for p in scenarios],
         "scenario_sha256": [ld.file_hash for ld in loaded]}, resolved,
        backend=backend,
        scheduler=scheduler, select=select, max_replications=max_reps))


def sweep_file(path: Path, sets: list[str] | None, reps: int | None, seed: int | None,
           out: Path | None, workers: int | None, quiet: bool, as_json: bool,
           backend: str = "local", scheduler: str | None = None) -> dict:
    import hashlib

    from sim.base.limits import check_work
    from sim.base.paths import safe_name
    from sim.decide import sweep as sw
    from sim.decide.study import Study, begin_folder, run_study
    from sim.inputs.overrides import apply_overrides
    from sim.inputs.scenario import load_scenario, validate_mapping
    from sim.measure.results import write_csv
    from sim.measure.runner import RepResult
    from sim.measure.stats import estimate, target_status

    loaded = load_scenario(path)
    base = loaded.scenario
    grid = sw.parse_sets(sets) if sets else sw.grid_from_yaml(dict(base.sweep))
    if not grid:
        raise InputError("nothing to sweep: give --set PATH=V1,V2 or a sweep: block",
                         file=str(path))
    update = {"replications": reps or base.replications,
              "seed": base.seed if seed is None else seed}
    plain = {k: v for k, v in loaded.raw.items() if k not in ("variants", "sweep")}
    plain.update(update)
    grid_id = hashlib.sha256(repr((loaded.file_hash, grid, update)).encode()).hexdigest()[:10]
    folder = out or Path("results") / safe_name(base.name) / f"sweep-{grid_id}"
    n_points = math.prod(len(v) for _, v in grid)
    check_work([base] * n_points, replications=[update["replications"]] * n_points,
               what="this sweep")  # a first estimate, before validating every point
    options, keys, pairs_of = [], {}, {}
    for name, pairs in sw.points(grid):
        data = apply_overrides(plain, pairs)
        try:
            sc = validate_mapping(data, file=str(path), linemap={})
        except InputError as err:
            shown = name if len(name) <= 80 else name[:77] + "..."
            raise InputError(f"sweep point '{shown}': {err.message}", file=str(path),
                             path=err.path) from None
        options.append((base.name, name, sc))
        keys[name] = sw.point_key(data, sc.seed, sc.replications)
        pairs_of[name] = pairs
    begin_folder(folder, {"command": "sweep", "scenario": base.name})
    done_before: list[RepResult] = []
    for _, name, _sc in options:
        done_before += sw.load_point(folder, keys[name], name) or []
    columns = list(dict.fromkeys(
        [tuple(t.metric.split(".")) for t in base.targets]
        + [("all", "asa_s"), ("all", "service_level"), ("all", "abandon_rate"),
           ("all", "automation_rate"), ("cost", "total"), ("cost", "per_contact")]))
    rows: dict[str, dict] = {}
    finished: dict[str, list[RepResult]] = {}
    n_reps = update["replications"]

    def record(name: str, reps_done: list[RepResult]) -> None:
        sc = next(o[2] for o in options if o[1] == name)
        met = None
        if sc.targets:
            met = all(target_status(t, estimate([r.metrics.get(tuple(t.metric.split(".")),
                                                                 math.nan) for r in reps_done]))
                      == "met" for t in sc.targets)
        rows[name] = sw.wide_row(name, pairs_of[name], reps_done, columns, met)
        import pandas as pd

        write_csv(folder / "sweep.csv", pd.DataFrame(list(rows.values())))

    by_point: dict[str, list[RepResult]] = {}
    for r in done_before:
        by_point.setdefault(r.variant, []).append(r)
    for name, reps_done in by_point.items():
        record(name, reps_done)

    def on_done(r: RepResult) -> None:
        finished.setdefault(r.variant, []).append(r)
        if len(finished[r.variant]) == n_reps:
            sw.save_point(folder, keys[r.variant], sorted(finished[r.variant],
                                                          key=lambda x: x.replication))
            record(r.variant, finished[r.variant])

    resolved = dict(plain)
    resolved["sweep"] = {p: list(v) for p, v in grid}
    return run_study(Study(
        "sweep", base.name, options, folder, workers, False, quiet, as_json,
        f"sweep of {base.name}: " + " × ".join(p for p, _ in grid),
        {"scenario_file": str(path), "scenario_sha256": loaded.file_hash,
         "grid": {p: list(v) for p, v in grid}}, resolved, done_before, on_done,
        backend=backend, scheduler=scheduler, labels=sw.column_labels(grid),
        caption="columns: " + "; ".join(
            f"{n} = {p}" for n, (p, _) in zip(sw.axis_names([p for p, _ in grid]), grid,
                                              strict=True))))


def optimize_file(path: Path, reps: int | None, seed: int | None, out: Path | None,
              workers: int | None, quiet: bool, as_json: bool,
              tiers: list[str] | None) -> dict:
    from sim.base import interrupts
    from sim.base.limits import check_work
    from sim.decide.optimize_run import choose_tiers, run_optimize
    from sim.decide.study import begin_folder
    from sim.inputs.scenario import load_scenario
    from sim.measure.results import mark_incomplete

    loaded = load_scenario(path)
    sc = loaded.scenario.model_copy(update={k: v for k, v in (
        ("replications", reps), ("seed", seed)) if v is not None})
    chosen = choose_tiers(sc, tiers, str(path))
    check_work([sc], what="one staffing evaluation of optimize")
    folder = out or default_out(f"optimize-{sc.name}")
    meta = {"command": "optimize", "scenario": sc.name, "scenario_file": str(path)}
    begin_folder(folder, meta)
    log = (lambda _m: None) if quiet or as_json else (lambda m: typer.echo(m))
    try:
        return run_optimize(loaded, sc, folder, chosen, workers, quiet, as_json, log)
    except (RuntimeError, KeyboardInterrupt):
        with interrupts.held():
            mark_incomplete(folder, meta, "interrupted")
            typer.echo(f"optimize interrupted during the search: no staffing written; "
                       f"{folder}/summary.json says complete: false", err=True)
        return {"out": folder, "complete": False, "targets": None}


def validate_file(file: Path) -> tuple[list[str], list[str]]:
    """Check a scenario or roadmap file without simulating, as run would (the same expected
    work): (lines to print, warnings)."""
    from sim.base.limits import check_work
    from sim.inputs.scenario import load_scenario
    from sim.inputs.yamlio import is_roadmap_path

    if is_roadmap_path(file):
        from sim.decide.roadmap import load_roadmap

        lr = load_roadmap(file)
        extra = ""
        if lr.roadmap.uncertain:  # SPEC §7.6: paths, distributions, supports
            from sim.decide.roadmap import read_roadmap
            from sim.decide.uncertain_roadmap_inputs import check_extremes, roadmap_inputs

            rf = read_roadmap(file)
            dists, n, counts = roadmap_inputs(rf, None)
            check_extremes(rf, dists, counts)
            extra = f" (per draw); {len(dists)} uncertain input(s), {n} draws"
        check_work([p.scenario for p in lr.points], what="this roadmap")
        return [f"{file}: ok — roadmap '{lr.roadmap.roadmap}' on "
                f"'{lr.baseline.scenario.name}', {len(lr.roadmap.phases)} phase(s) over "
                f"{lr.roadmap.total_months} months, {len(lr.points)} states to "
                f"simulate{extra}"], []
    extra = ""
    loaded = load_scenario(file)
    if loaded.raw.get("uncertain"):  # SPEC §7.6: paths, distributions, supports
        from sim.decide.uncertain_run import uncertain_scenario
        from sim.inputs.extends import resolve_extends

        dists, n = uncertain_scenario(file, loaded.raw, resolve_extends(file)[1], None)
        extra = f", {len(dists)} uncertain input(s), {n} draws"
    check_work([sc for _, sc in loaded.options()], what="this scenario")
    from sim.model.plausible import option_warnings

    sc = loaded.scenario
    return [f"{file}: ok — scenario '{sc.name}', {len(sc.channels)} channel(s), "
            f"{len(sc.tiers)} tier(s), {len(loaded.variants)} variant(s), "
            f"{len(sc.targets)} target(s){extra}"], \
        option_warnings([s for _, s in loaded.options()])


def print_erlang(model: str, res: Any, rate_per_hour: float, aht_s: float, agents: int,
                 patience_s: float | None, threshold_s: float) -> None:
    """The erlang command's table."""
    from rich.table import Table

    from sim.report.console import make_console

    term = make_console()
    term.print(f"{model}: {rate_per_hour:g}/h, AHT {aht_s:g} s, {agents} agents"
               + (f", patience {patience_s:g} s" if patience_s else ""))
    t = Table()
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [("load (Erlangs)", f"{res.load_erlangs:.3f}"), ("p_wait", f"{res.p_wait:.4f}"),
            (f"service_level (≤ {threshold_s:g} s)", f"{res.service_level:.4f}"),
            ("asa_s", f"{res.asa_s:.2f}"), ("mean_wait_s", f"{res.mean_wait_s:.2f}"),
            ("abandon_rate", f"{res.abandon_rate:.4f}"), ("occupancy", f"{res.occupancy:.4f}"),
            ("mean_queue_length", f"{res.mean_queue_length:.3f}")]
    for k, v in rows:
        t.add_row(k, v)
    term.print(t)
