"""ccsim command line (SPEC §2). Thin: parse options, call `sim`, print, set the exit code.

Exit codes: 0 success (also when targets are missed), 1 targets missed with
--fail-on-missed-targets, 2 invalid input (one paragraph, no traceback), 3 the run failed
or was interrupted (partial results kept and marked incomplete).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.base.errors import InputError
from sim.base.limits import (
    MAX_AGENTS,
    MAX_DURATION_S,
    MAX_RATE_PER_HOUR,
    MAX_REPLICATIONS,
    MAX_SEED,
    MAX_WORKERS,
)
from sim.base.paths import default_out

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
    from sim.report.console import clean  # input quoted in a message never reaches the terminal raw

    for line in err.lines():   # every problem of the input at once, one line each
        typer.echo(f"error: {clean(line)}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _finite(value: float | None) -> float | None:
    """Typer callback: a float option must be a finite number (click lets nan through
    its min/max checks and reads inf)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter("must be a finite number")
    return value


def _parse_sets(sets: list[str] | None) -> list[tuple[str, object]]:
    from sim.inputs.overrides import parse_override

    return [parse_override(s) for s in sets or []]


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
        from sim.commands import simulate_file

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
        from sim.commands import compare_files

        result = compare_files(scenarios, reps, seed, out, workers, quiet, as_json, backend,
                          scheduler, pcs, indifference, max_reps)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed_targets)


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
        from sim.commands import sweep_file

        result = sweep_file(scenario, sets, reps, seed, out, workers, quiet, as_json, backend,
                        scheduler)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed_targets)


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
        from sim.commands import optimize_file

        result = optimize_file(scenario, reps, seed, out, workers, quiet, as_json, tier)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, False)


@app.command()
def roadmap(file: Annotated[Path, typer.Argument(help="Roadmap YAML file (SPEC §4).")],
            reps: Reps2Opt = None, seed: SeedOpt = None,
            out: OutOpt = None, workers: WorkersOpt = None, quiet: QuietOpt = False,
            as_json: JsonOpt = False, fail_on_missed: FailOpt = False,
            backend: BackendOpt = "local", scheduler: SchedulerOpt = None,
            sets: SetOpt = None, draws: DrawsOpt = None) -> None:
    """Simulate budget phases on a baseline: per-phase KPIs and targets, monthly cost
    against the baseline, cumulative net savings, payback month and ROI."""
    from sim.decide.roadmap_run import run_roadmap

    try:
        result = run_roadmap(file, reps=reps, seed=seed, out=out, workers=workers,
                             quiet=quiet, as_json=as_json, backend=backend,
                             scheduler=scheduler, default_out=default_out,
                             overrides=_parse_sets(sets), draws=draws)
    except InputError as err:
        _fail_input(err)
    _exit_for(result, fail_on_missed)


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Scenario or roadmap YAML file.")],
             quiet: QuietOpt = False) -> None:
    """Check a scenario or roadmap file and exit (no simulation)."""
    from sim.commands import validate_file

    try:
        lines, warnings = validate_file(file)
    except InputError as err:
        _fail_input(err)
    if not quiet:
        for line in lines:
            typer.echo(line)
        for line in warnings:
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

    from sim.model.erlang import erlang_a_metrics, erlang_c_metrics

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
    from sim.commands import print_erlang

    print_erlang(model, res, rate_per_hour, aht_s, agents, patience_s, threshold_s)
    if patience_s is None and res.load_erlangs >= agents:
        typer.echo(f"warning: load {res.load_erlangs:.2f} Erlangs >= {agents} agents: the "
                   "queue is unstable (waits grow without bound); add agents or --patience-s")


@app.command()
def report(results_dir: Annotated[Path, typer.Argument(help="A results folder.")]) -> None:
    """(Re)render report.html of a results folder."""
    from sim.base.paths import describe_os_error
    from sim.report.page import rerender

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
    from sim.report.export import export_folder

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
        results = run_demo(root, out or default_out("demo"), workers, quiet)
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

    SIGINT and SIGTERM are routed through sim.base.interrupts (exit 3, finished work kept). An
    error ccsim did not foresee is exit 3 with its kind and a request to report it
    (``CCSIM_DEBUG=1`` shows the traceback)."""
    from sim.base import interrupts

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
        from sim.report.console import clean

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
