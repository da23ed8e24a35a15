"""ccsim command line (SPEC §2). Thin: parse options, call `sim`, print, set the exit code.

Exit codes: 0 success (also when targets are missed), 1 targets missed with
--fail-on-missed-targets, 2 invalid input (one paragraph, no traceback), 3 the run failed
or was interrupted (partial results kept and marked incomplete).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.errors import InputError
from sim.limits import (
    MAX_AGENTS,
    MAX_DURATION_S,
    MAX_RATE_PER_HOUR,
    MAX_REPLICATIONS,
    MAX_SEED,
    MAX_WORKERS,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ccsim: contact-center simulator. Scenarios in YAML, results in CSV/HTML.")

EXIT_OK, EXIT_TARGETS, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3
# click's exceptions, wherever this typer takes click from (recent typers vendor it)
_click = sys.modules[typer.BadParameter.__module__]
ROOT = Path(__file__).resolve().parent

OutOpt = Annotated[Path | None, typer.Option("--out", help="Results folder "
                   "(default results/<name>/<UTC timestamp>/).")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", min=1, max=MAX_WORKERS,
                       help="Worker processes (default: all cores; 1 = in-process).")]
RepsOpt = Annotated[int | None, typer.Option("--reps", min=1, max=MAX_REPLICATIONS,
                    help="Replications (default: the scenario's).")]
Reps2Opt = Annotated[int | None, typer.Option("--reps", min=2, max=MAX_REPLICATIONS,
                     help="Replications (default: the scenario's).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, max=MAX_SEED,
                    help="Base seed (default: the scenario's).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable summary on stdout.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a field: "
                   "PATH=VALUE (dotted path, YAML value); repeatable.")]
FailOpt = Annotated[bool, typer.Option("--fail-on-missed-targets",
                    help="Exit 1 when a target is missed.")]
DrawsOpt = Annotated[int | None, typer.Option("--draws", min=1, help="Draws of the file's "
                     "uncertain: inputs (default: its draws:, else 64).")]
TargetCiOpt = Annotated[list[str] | None, typer.Option("--target-ci", help="Add replications "
                        "until a metric's 95% CI half-width is at most a value: "
                        "SCOPE.METRIC=HALF_WIDTH (repeatable; cap --max-reps).")]
MaxRepsOpt = Annotated[int, typer.Option("--max-reps", min=2, max=MAX_REPLICATIONS,
                       help="Cap on replications per option for --target-ci.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="Where replications run: local "
                       "(process pool) or dask (a dask.distributed cluster).")]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler "
                         "address, e.g. tcp://10.0.0.5:8786 (default: a local cluster).")]


def _parse_target_ci(items: list[str] | None) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for item in items or []:
        metric, _, value = item.partition("=")
        shown = repr(item if len(item) <= 60 else item[:57] + "...")
        try:
            half = float(value)
            scope, name = metric.split(".")
        except ValueError:
            raise InputError(f"--target-ci {shown}: expected SCOPE.METRIC=HALF_WIDTH, "
                             "e.g. phone.asa_s=2") from None
        if not math.isfinite(half) or half <= 0:
            raise InputError(f"--target-ci {shown}: the half-width must be a finite number "
                             "> 0")
        out[(scope, name)] = half
    return out


def _fail_input(err: InputError) -> None:
    from sim.console import clean  # input quoted in a message never reaches the terminal raw

    for line in err.lines():   # every problem of the input at once, one line each
        typer.echo(f"error: {clean(line)}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _default_out(name: str) -> Path:
    from sim.paths import safe_name

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / safe_name(name) / stamp


def _finite(value: float | None) -> float | None:
    """Typer callback: a float option must be a finite number (click lets nan through
    its min/max checks and reads inf)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter("must be a finite number")
    return value


def _parse_sets(sets: list[str] | None) -> list[tuple[str, object]]:
    from sim.overrides import parse_override

    return [parse_override(s) for s in sets or []]


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
    from sim.scenario import load_scenario
    from sim.study import Study, run_study

    loaded = load_scenario(path, overrides)
    if loaded.raw.get("uncertain") or draws is not None:  # SPEC §7.6: sim/uncertain_run.py
        if not loaded.raw.get("uncertain"):
            raise InputError("--draws needs an uncertain: block in the scenario file",
                             file=str(path), path="--draws")
        if target_ci or trace:
            raise InputError(f"{'--target-ci' if target_ci else '--trace'} does not combine "
                             "with uncertain: inputs (each draw runs the file's "
                             "replications)", file=str(path), path="uncertain")
        from sim.uncertain_run import run_uncertain

        return run_uncertain(path, draws=draws, reps=reps, seed=seed,
                             out=out or _default_out(loaded.scenario.name), workers=workers,
                             quiet=quiet, as_json=as_json, overrides=overrides,
                             backend=backend, scheduler=scheduler, title=title)
    options, resolved = run_options(loaded, reps=reps, seed=seed)
    name = loaded.scenario.name
    return run_study(Study(
        "run", name, options, out or _default_out(name), workers, trace, quiet, as_json, title,
        {"scenario_file": str(path), "scenario_sha256": loaded.file_hash}, resolved,
        target_ci=target_ci or {}, max_replications=max_reps, backend=backend,
        scheduler=scheduler))


def _hard_exit(code: int) -> None:
    """Exit at once after a failed or interrupted run. Everything is written (atomically)
    by now; a process pool stopped by Ctrl-C can leave a manager thread that the normal
    interpreter shutdown would wait for without end."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # e.g. stdout piped into `head`, already closed
            pass
    os._exit(code)


def _exit_for(result: dict, fail_on_missed: bool) -> None:
    if not result["complete"]:
        _hard_exit(EXIT_FAILED)
    if fail_on_missed and (result["targets"]["status"] == "missed").any():
        raise typer.Exit(EXIT_TARGETS)


@app.command()
def run(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
        reps: RepsOpt = None, seed: SeedOpt = None,
        out: OutOpt = None, workers: WorkersOpt = None,
        trace: Annotated[bool, typer.Option("--trace",
                         help="Also write contacts.parquet (one row per contact event).")
                         ] = False,
        quiet: QuietOpt = False, as_json: JsonOpt = False, sets: SetOpt = None,
        fail_on_missed_targets: FailOpt = False, target_ci: TargetCiOpt = None,
        max_reps: MaxRepsOpt = 200, backend: BackendOpt = "local",
        scheduler: SchedulerOpt = None, draws: DrawsOpt = None) -> None:
    """Simulate a scenario and each of its variants; write the results folder."""
    try:
        result = simulate_file(scenario, reps=reps, seed=seed, out=out, workers=workers,
                               trace=trace, quiet=quiet, as_json=as_json,
                               overrides=_parse_sets(sets),
                               target_ci=_parse_target_ci(target_ci), max_reps=max_reps,
                               backend=backend, scheduler=scheduler, draws=draws)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed_targets)


@app.command()
def compare(scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files; "
                                   "the first is the reference.")],
            reps: RepsOpt = None, seed: SeedOpt = None,
            out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False,
            as_json: JsonOpt = False, fail_on_missed_targets: FailOpt = False,
            backend: BackendOpt = "local", scheduler: SchedulerOpt = None,
            pcs: Annotated[float | None, typer.Option(
                "--pcs", min=0.5, max=0.999, help="Name the cheapest option meeting every "
                "target with this probability of correct selection (Kim & Nelson's fully "
                "sequential procedure; needs --indifference).")] = None,
            indifference: Annotated[float | None, typer.Option(
                "--indifference", callback=_finite, help="With --pcs: cost difference "
                "(currency per replication) not worth telling apart.")] = None,
            max_reps: MaxRepsOpt = 200) -> None:
    """Run scenarios (and their variants) with common random numbers; paired differences."""
    try:
        result = _compare(scenarios, reps, seed, out, workers, quiet, as_json, backend,
                          scheduler, pcs, indifference, max_reps)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed_targets)


def _compare(scenarios: list[Path], reps: int | None, seed: int | None, out: Path | None,
             workers: int | None, quiet: bool, as_json: bool, backend: str,
             scheduler: str | None, pcs: float | None = None,
             indifference: float | None = None, max_reps: int = 200) -> dict:
    from sim.api import compare_options
    from sim.scenario import load_scenario
    from sim.study import Study, run_study

    loaded = [load_scenario(p) for p in scenarios]
    first = loaded[0].scenario
    options, resolved = compare_options(loaded, reps=reps, seed=seed)
    select = None
    if pcs is not None or indifference is not None:
        from sim.selection import KN
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
        "compare", first.name, options, out or _default_out(f"compare-{first.name}"), workers,
        False, quiet, as_json, title,
        {"scenario_files": [str(p) for p in scenarios],
         "scenario_sha256": [ld.file_hash for ld in loaded]}, resolved,
        backend=backend,
        scheduler=scheduler, select=select, max_replications=max_reps))


@app.command()
def sweep(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
          sets: Annotated[list[str] | None, typer.Option("--set", help="A grid axis: "
                          "PATH=V1,V2,... or PATH=START:STOP:STEP; repeatable (default: the "
                          "file's sweep: block).")] = None,
          reps: RepsOpt = None, seed: SeedOpt = None,
          out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False,
          as_json: JsonOpt = False, fail_on_missed_targets: FailOpt = False,
          backend: BackendOpt = "local", scheduler: SchedulerOpt = None) -> None:
    """Run a grid of overrides (one option per point); rerun to resume an interrupted sweep."""
    try:
        result = _sweep(scenario, sets, reps, seed, out, workers, quiet, as_json, backend,
                        scheduler)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed_targets)


def _sweep(path: Path, sets: list[str] | None, reps: int | None, seed: int | None,
           out: Path | None, workers: int | None, quiet: bool, as_json: bool,
           backend: str = "local", scheduler: str | None = None) -> dict:
    import hashlib

    from sim import sweep as sw
    from sim.limits import check_work
    from sim.overrides import apply_overrides
    from sim.paths import safe_name
    from sim.results import write_csv
    from sim.runner import RepResult
    from sim.scenario import load_scenario, validate_mapping
    from sim.stats import estimate, target_status
    from sim.study import Study, begin_folder, run_study

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


@app.command()
def optimize(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
             reps: Reps2Opt = None, seed: SeedOpt = None,
             out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False,
             as_json: JsonOpt = False,
             tier: Annotated[list[str] | None, typer.Option(
                 "--tier", help="Tier to optimise (repeatable; default: every tier that "
                 "serves contacts and does not coach).")] = None) -> None:
    """Lowest-cost agents per tier (per interval when tiers are on schedules) meeting every
    target that staffing can move, verified with fresh replications."""
    try:
        result = _optimize(scenario, reps, seed, out, workers, quiet, as_json, tier)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, False)


def _optimize(path: Path, reps: int | None, seed: int | None, out: Path | None,
              workers: int | None, quiet: bool, as_json: bool,
              tiers: list[str] | None) -> dict:
    from sim import interrupts
    from sim.limits import check_work
    from sim.optimize_run import choose_tiers, run_optimize
    from sim.results import mark_incomplete
    from sim.scenario import load_scenario
    from sim.study import begin_folder

    loaded = load_scenario(path)
    sc = loaded.scenario.model_copy(update={k: v for k, v in (
        ("replications", reps), ("seed", seed)) if v is not None})
    chosen = choose_tiers(sc, tiers, str(path))
    check_work([sc], what="one staffing evaluation of optimize")
    folder = out or _default_out(f"optimize-{sc.name}")
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
        _hard_exit(EXIT_FAILED)


@app.command()
def roadmap(file: Annotated[Path, typer.Argument(help="Roadmap YAML file (SPEC §4).")],
            reps: Reps2Opt = None, seed: SeedOpt = None,
            out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False,
            as_json: JsonOpt = False, fail_on_missed: FailOpt = False,
            backend: BackendOpt = "local", scheduler: SchedulerOpt = None,
            sets: SetOpt = None, draws: DrawsOpt = None) -> None:
    """Simulate budget phases on a baseline: per-phase KPIs and targets, monthly cost
    against the baseline, cumulative net savings, payback month and ROI."""
    from sim.roadmap_run import run_roadmap

    try:
        result = run_roadmap(file, reps=reps, seed=seed, out=out, workers=workers,
                             quiet=quiet, as_json=as_json, backend=backend,
                             scheduler=scheduler, default_out=_default_out,
                             overrides=_parse_sets(sets), draws=draws)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed)


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Scenario or roadmap YAML file.")],
             quiet: QuietOpt = False) -> None:
    """Check a scenario or roadmap file and exit (no simulation)."""
    from sim.limits import check_work
    from sim.roadmap import is_roadmap_file, load_roadmap
    from sim.scenario import load_scenario
    from sim.yamlio import load_yaml

    try:
        if is_roadmap_file(load_yaml(file)[0]):
            lr = load_roadmap(file)
            extra = ""
            if lr.roadmap.uncertain:  # SPEC §7.6: paths, distributions, supports
                from sim.roadmap import read_roadmap
                from sim.uncertain_roadmap_inputs import check_extremes, roadmap_inputs

                rf = read_roadmap(file)
                dists, n, counts = roadmap_inputs(rf, None)
                check_extremes(rf, dists, counts)
                extra = f" (per draw); {len(dists)} uncertain input(s), {n} draws"
            check_work([p.scenario for p in lr.points], what="this roadmap")
            if not quiet:
                typer.echo(f"{file}: ok — roadmap '{lr.roadmap.roadmap}' on "
                           f"'{lr.baseline.scenario.name}', {len(lr.roadmap.phases)} phase(s) "
                           f"over {lr.roadmap.total_months} months, {len(lr.points)} states "
                           f"to simulate{extra}")
            return
        extra = ""
        loaded = load_scenario(file)
        if loaded.raw.get("uncertain"):  # SPEC §7.6: paths, distributions, supports
            from sim.extends import resolve_extends
            from sim.uncertain_run import uncertain_scenario

            dists, n = uncertain_scenario(file, loaded.raw, resolve_extends(file)[1], None)
            extra = f", {len(dists)} uncertain input(s), {n} draws"
        check_work([sc for _, sc in loaded.options()], what="this scenario")  # as run would
    except InputError as err:
        _fail_input(err)
    if not quiet:
        sc = loaded.scenario
        typer.echo(f"{file}: ok — scenario '{sc.name}', {len(sc.channels)} channel(s), "
                   f"{len(sc.tiers)} tier(s), {len(loaded.variants)} variant(s), "
                   f"{len(sc.targets)} target(s){extra}")
        from sim.plausible import option_warnings

        for line in option_warnings([s for _, s in loaded.options()]):
            typer.echo(f"warning: {line}", err=True)


@app.command()
def erlang(rate_per_hour: Annotated[float, typer.Option(
               "--rate-per-hour", min=0.0, max=MAX_RATE_PER_HOUR, callback=_finite)],
           aht_s: Annotated[float, typer.Option("--aht-s", min=0.0, max=MAX_DURATION_S,
                                                callback=_finite)],
           agents: Annotated[int, typer.Option("--agents", min=1, max=MAX_AGENTS)],
           patience_s: Annotated[float | None, typer.Option(
               "--patience-s", min=0.0, max=MAX_DURATION_S, callback=_finite,
               help="Mean patience: Erlang A (M/M/c+M).")] = None,
           threshold_s: Annotated[float, typer.Option("--threshold-s", min=0.0,
                                                      max=MAX_DURATION_S, callback=_finite)
                                  ] = 20.0,
           as_json: JsonOpt = False) -> None:
    """Closed-form Erlang C (or Erlang A with --patience-s) for a quick cross-check."""
    from dataclasses import asdict

    from sim.erlang import erlang_a_metrics, erlang_c_metrics

    if aht_s <= 0 or (patience_s is not None and patience_s <= 0):
        typer.echo("error: --aht-s and --patience-s must be greater than 0", err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        if patience_s is None:
            res = erlang_c_metrics(rate_per_hour, aht_s, agents, threshold_s)
            model = "Erlang C (M/M/c)"
        else:
            res = erlang_a_metrics(rate_per_hour, aht_s, agents, patience_s, threshold_s)
            model = "Erlang A (M/M/c+M)"
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    if as_json:
        doc = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for k, v in asdict(res).items()}
        typer.echo(json.dumps({"model": model, "stable": res.load_erlangs < agents
                               or patience_s is not None, **doc}))
        return
    from rich.table import Table

    from sim.console import make_console

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
    if patience_s is None and res.load_erlangs >= agents:
        typer.echo(f"warning: load {res.load_erlangs:.2f} Erlangs >= {agents} agents: the "
                   "queue is unstable (waits grow without bound); add agents or --patience-s")


@app.command()
def report(results_dir: Annotated[Path, typer.Argument(help="A results folder.")]) -> None:
    """(Re)render report.html of a results folder."""
    from sim.paths import describe_os_error
    from sim.report import rerender

    try:
        path = rerender(results_dir)
    except InputError as err:
        _fail_input(err)
    except OSError as exc:  # e.g. a read-only folder
        _fail_input(InputError(f"cannot write report.html ({describe_os_error(exc)})",
                               file=str(results_dir)))
    except Exception as exc:  # noqa: BLE001 - the folder's files are input: never a traceback
        _fail_input(InputError("cannot render a report from this folder: its files are "
                               f"damaged or not as ccsim writes them ({type(exc).__name__})",
                               file=str(results_dir)))
    typer.echo(f"report: {path}")


@app.command()
def export(results_dir: Annotated[Path, typer.Argument(help="A results folder.")],
           xlsx: Annotated[Path, typer.Option("--xlsx", help="The workbook to write: one "
                           "sheet per CSV of the folder, plus 'about'.")]) -> None:
    """Write a results folder's tables to one Excel workbook."""
    from sim.export import export_folder

    try:
        path = export_folder(results_dir, xlsx)
    except InputError as err:
        _fail_input(err)
    typer.echo(f"workbook: {path}")


@app.command()
def demo(out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False) -> None:
    """Tell the story of the bundled scenarios in under a minute: the 2024 baseline and
    its options, then the 2026 budget roadmap with payback."""
    from sim.demo import exit_code, run_demo

    root = ROOT if (ROOT / "scenarios" / "baseline.yaml").exists() else Path(".")
    try:
        results = run_demo(root, out or _default_out("demo"), workers, quiet)
    except InputError as err:
        _fail_input(err)
    code = exit_code(results)
    if code:
        _hard_exit(code)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _usage_error(err: _click.UsageError) -> str:
    """typer/click's option errors as one line (no box), like every other input error."""
    where = err.ctx.command_path if err.ctx is not None else "ccsim"
    text = _one_line(err.format_message()).rstrip(".")
    return f"{where}: {text} (see '{where} --help')"


def main(argv: list[str] | None = None) -> None:
    """The ``ccsim`` entry point: exit codes 0/1/2/3 and never a traceback.

    SIGINT and SIGTERM are routed through sim.interrupts (exit 3, finished work kept). An
    error ccsim did not foresee is exit 3 with its kind and a request to report it
    (``CCSIM_DEBUG=1`` shows the traceback)."""
    from sim import interrupts

    interrupts.install()
    try:
        code = app(args=argv, prog_name="ccsim", standalone_mode=False)
    except _click.UsageError as err:  # bad option, missing argument, value out of range
        if type(err).__name__ != "NoArgsIsHelpError":  # plain `ccsim`: the help is shown
            typer.echo(f"error: {_usage_error(err)}", err=True)
        code = EXIT_INPUT
    except _click.ClickException as err:
        typer.echo(f"error: {_one_line(err.format_message())}", err=True)
        code = EXIT_INPUT
    except InputError as err:  # safety net: never a traceback for bad input
        from sim.console import clean

        for line in err.lines():
            typer.echo(f"error: {clean(line)}", err=True)
        code = EXIT_INPUT
    except (KeyboardInterrupt, typer.Abort):
        code = 130  # handled below
    except Exception as exc:  # noqa: BLE001 - last resort: not the fix, but no traceback
        if os.environ.get("CCSIM_DEBUG"):
            raise
        typer.echo(f"error: ccsim failed unexpectedly ({type(exc).__name__}); this is a bug: "
                   "please report it with the command and files that caused it "
                   "(CCSIM_DEBUG=1 shows the details)", err=True)
        _hard_exit(EXIT_FAILED)
    if code == 130 or (code not in (None, 0) and interrupts.received()):
        # a signal before any simulation started (or after one failed): nothing to keep
        typer.echo(f"interrupted ({interrupts.signal_name() or 'SIGINT'}): stopped before "
                   "simulating, no results written for this step", err=True)
        _hard_exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
