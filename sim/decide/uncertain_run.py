"""`ccsim run` on a scenario with ``uncertain:`` inputs (SPEC §7.6): every draw of the
inputs is one more option (``<variant>#<draw>``), simulated with the file's replications
under common random numbers (the same seeds, so the same customers, in every draw), then
summarised over the draws: uncertainty.csv, targets.csv with p_met, sensitivity.csv,
variance.csv, and the summary rows as means over the draws' means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.base.errors import InputError
from sim.inputs.config import Scenario, Target
from sim.inputs.overrides import apply_overrides, expand
from sim.inputs.uncertain import (
    Uncertain,
    as_applied,
    check_draws,
    check_support,
    draw_values,
    parse_uncertain,
    sample,
)
from sim.inputs.yamlio import LineMap
from sim.measure.results import TARGET_COLUMNS, write_csv
from sim.measure.stats import estimate, target_status
from sim.measure.uncertain_stats import sensitivity, variance_split, wilson

SEP = "#"          # "<variant>#<draw>": one draw of an option
MAX_JOBS = 200_000  # draws x options x replications (a bound until sim/base/limits.py has one)

P_COLUMNS = ["p_met", "p_low", "p_high"]


def draw_name(variant: str, d: int) -> str:
    return f"{variant}{SEP}{d}"


def split_name(name: str) -> tuple[str, int | None]:
    if SEP in name:
        v, _, d = name.rpartition(SEP)
        if d.isdigit():
            return v, int(d)
    return name, None


# --------------------------------------------------------------------------- aggregation

def draw_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Summary rows of draw options with columns variant (without #d) and draw."""
    s = summary.copy()
    parts = [split_name(v) for v in s["variant"]]
    s["base_variant"] = [p[0] for p in parts]
    s["draw"] = [p[1] for p in parts]
    return s[s["draw"].notna()]


def aggregate_summary(summary: pd.DataFrame, draws: int, reps: int) -> pd.DataFrame:
    """Per option, scope and metric: the mean over the draws of each draw's mean, with a
    95% CI over the draw means (input uncertainty and noise together)."""
    s = draw_table(summary)
    rows = []
    for (scen, var, scope, metric), g in s.groupby(
            ["scenario", "base_variant", "scope", "metric"], sort=False):
        est = estimate(list(g.sort_values("draw")["mean"]))
        rows.append([scen, var, scope, metric, est.mean, est.ci_low, est.ci_high,
                     est.n * reps])
    return pd.DataFrame(rows, columns=list(summary.columns))


def meets(target: Target, values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if target.max is not None:
        return ok & (np.where(ok, v, np.inf) <= target.max)
    return ok & (np.where(ok, v, -np.inf) >= target.min)  # type: ignore[operator]


def target_rows(scenario_name: str, variant: str, targets: Sequence[Target],
                draw_means: dict[str, np.ndarray],
                draw_shares: dict[int, tuple[np.ndarray, int]] | None = None
                ) -> list[list[Any]]:
    """targets.csv rows of one option: mean and CI over the draw means, status from that
    CI, and p_met = share of draws whose mean meets the target (Wilson 95%).

    A target with ``per:`` (SPEC §7.8) is computed per draw when ``draw_shares`` holds it
    (target index -> each draw's share of pairs where the bound holds, and the pairs
    counted over all draws): mean and CI over the draws' shares, met when the CI's low end
    reaches ``share``, p_met = share of draws whose share reaches it; the rows then gain
    ``per``, ``share``, ``pairs`` before the p columns. Without ``draw_shares`` such
    targets are left out."""
    rows = []
    periodic = draw_shares is not None and any(t.per is not None for t in targets)
    for i, t in enumerate(targets):
        if t.per is not None:
            if draw_shares is None or i not in draw_shares:
                continue
            vals, pairs = draw_shares[i]
            est = estimate(list(vals), 0.0, 1.0)
            need = t.share or 0.0
            k = int(np.sum(np.isfinite(vals) & (np.nan_to_num(vals, nan=-1.0) >= need)))
            p, lo, hi = wilson(k, len(vals))
            status = ("met" if est.ci_low >= need else
                      "missed" if est.ci_high < need else "uncertain")
            rows.append([scenario_name, variant, t.metric, t.bound, t.limit, est.mean,
                         est.ci_low, est.ci_high, status, t.per, need, pairs, p, lo, hi])
            continue
        vals = draw_means.get(t.metric, np.array([]))
        est = estimate(list(vals))
        k = int(meets(t, vals).sum())
        p, lo, hi = wilson(k, len(vals))
        per_cols = ["", math.nan, math.nan] if periodic else []
        rows.append([scenario_name, variant, t.metric, t.bound, t.limit, est.mean, est.ci_low,
                     est.ci_high, target_status(t, est), *per_cols, p, lo, hi])
    return rows


def target_columns(trows: list[list[Any]]) -> list[str]:
    """targets.csv columns of the rows of target_rows (with per columns when they have)."""
    periodic = bool(trows) and len(trows[0]) > len(TARGET_COLUMNS) + len(P_COLUMNS)
    return [*TARGET_COLUMNS, *(["per", "share", "pairs"] if periodic else []), *P_COLUMNS]


def draw_shares(targets_table: pd.DataFrame, targets: Sequence[Target],
                options: Sequence[str | None]) -> dict[int, tuple[np.ndarray, int]]:
    """Per ``per:`` target (by index): each draw's share of (replication, interval|day)
    pairs where the bound holds, read from the targets rows of the option simulated for
    that draw (``options[d]``; None: not simulated), and the pairs counted over the
    options simulated (an option shared by several draws counts once)."""
    out: dict[int, tuple[np.ndarray, int]] = {}
    if targets_table.empty or "per" not in targets_table:
        return out
    tt = targets_table
    for i, t in enumerate(targets):
        if t.per is None:
            continue
        vals, pairs, seen = np.full(len(options), math.nan), 0, set()
        mine = tt[(tt["metric"] == t.metric) & (tt["per"] == t.per)
                  & (tt["limit"] == t.limit) & (tt["share"] == t.share)]
        for d, name in enumerate(options):
            g = mine[mine["variant"] == name] if name is not None else mine.iloc[:0]
            if not g.empty:
                vals[d] = float(g.iloc[0]["mean"])
                if name not in seen:
                    seen.add(name)
                    pairs += int(g.iloc[0]["pairs"])
        out[i] = (vals, pairs)
    return out


def rep_matrix(replications: pd.DataFrame, names: list[str], scope: str, metric: str,
               reps: int) -> np.ndarray:
    """values[draw, replication] of one metric for the option names given (one per draw)."""
    r = replications[(replications["scope"] == scope) & (replications["metric"] == metric)]
    piv = r.pivot_table(index="variant", columns="replication", values="value",
                        aggfunc="first")
    out = np.full((len(names), reps), math.nan)
    for i, n in enumerate(names):
        if n in piv.index:
            row = piv.loc[n].to_numpy(dtype=float)
            out[i, : len(row)] = row
    return out


def split_rows(label: str, y: np.ndarray) -> list[Any]:
    s = variance_split(y)
    return [label, s.mean, s.input_var, s.noise_var, math.sqrt(s.input_var)
            if math.isfinite(s.input_var) else math.nan,
            math.sqrt(s.noise_var) if math.isfinite(s.noise_var) else math.nan,
            s.input_share, s.draws, s.reps, s.advice]


VARIANCE_COLUMNS = ["output", "mean", "variance_input", "variance_noise", "sd_input",
                    "sd_noise", "share_input", "draws", "replications", "advice"]
SENSITIVITY_COLUMNS = ["output", "parameter", "rank_correlation", "output_at_low",
                       "output_at_high"]


def sensitivity_rows(label: str, values: np.ndarray, names: list[str], y: np.ndarray,
                     never_as: float | None = None) -> list[list[Any]]:
    return [[label, p, rho, lo, hi] for p, rho, lo, hi in
            sensitivity(values, names, y, never_as)]


# --------------------------------------------------------------------------- scenario

def uncertain_scenario(path: Path, raw: dict, linemap: LineMap, draws: int | None
                       ) -> tuple[dict[str, Uncertain], int]:
    """The checked uncertain inputs of a scenario file and the number of draws."""
    from sim.inputs.config import Scenario as Model

    file = str(path)
    dists = parse_uncertain(raw.get("uncertain"), file, linemap)
    n = check_draws(draws if draws is not None else raw.get("draws"), file,
                    linemap.get(("draws",), (file, None))[1])
    plain = {k: v for k, v in raw.items() if k not in ("variants", "uncertain", "draws")}
    for p, dist in dists.items():
        line = linemap.get(("uncertain", p), (file, None))[1]
        concrete = expand(plain, p, leaf_may_be_new=dist.apply == "set")
        if not concrete:
            raise InputError("this path matches nothing in the scenario; check it (a "
                             "relative input, apply: multiply/add, needs the field)",
                             file=file, line=line, path=f"uncertain.{p}")
        for parts in concrete:
            check_support(p, dist, Model, parts, file, line)
    return dists, n


def draw_changes(dists: dict[str, Uncertain], values: np.ndarray, counts: list[bool]
                 ) -> list[tuple[str, object]]:
    return [(p, d.value(float(x), c))
            for (p, d), x, c in zip(dists.items(), values, counts, strict=True)]


def build_draw_options(loaded: Any, dists: dict[str, Uncertain], values: np.ndarray,
                       update: dict[str, Any], file: str, linemap: LineMap,
                       variants: dict[str, dict]
                       ) -> tuple[list[tuple[str, str, Scenario]], list[bool]]:
    """(scenario, "<variant>#<draw>", scenario) for every option and draw; the variants'
    changes (as written: relative ones apply to the drawn value) after the draw's."""
    from sim.inputs.config import Scenario as Model
    from sim.inputs.overrides import is_count
    from sim.inputs.scenario import validate_mapping

    plain = {k: v for k, v in loaded.raw.items()
             if k not in ("variants", "uncertain", "draws")}
    counts = []
    for p in dists:
        found = expand(plain, p, True)
        counts.append(bool(found) and all(is_count(Model, parts) for parts in found))
    name = loaded.scenario.name
    out = []
    for d in range(values.shape[0]):
        changes = draw_changes(dists, values[d], counts)
        for variant, vchanges in [("base", {}), *variants.items()]:
            try:
                data = apply_overrides(plain, [*changes, *vchanges.items()])
                data["name"] = name
                sc = validate_mapping(data, file=file, linemap={})
            except InputError as err:
                _raise_draw_error(err, d, variant, changes, dists, file, linemap)
            out.append((name, draw_name(variant, d), sc.model_copy(update=update)))
    return out, counts


def _raise_draw_error(err: InputError, d: int, variant: str, changes: list,
                      dists: dict[str, Uncertain], file: str, linemap: LineMap,
                      prefix: str = "uncertain") -> None:
    from sim.inputs.overrides import matches

    key = next((p for p, _ in changes if err.path and matches(p, err.path)), None)
    where = linemap.get((prefix, key) if key else (prefix,), (file, None))
    shown = ", ".join(f"{p} = {v}" for p, v in changes)
    raise InputError(f"draw {d} of the uncertain inputs ({shown}) gives an invalid "
                     f"{'scenario' if variant == 'base' else 'variant ' + repr(variant)}: "
                     f"{err.message}", file=where[0], line=where[1], path=err.path) from None


def run_uncertain(path: Path, *, draws: int | None, reps: int | None, seed: int | None,
                  out: Path, workers: int | None, quiet: bool, as_json: bool,
                  overrides: list[tuple[str, object]], backend: str = "local",
                  scheduler: str | None = None, title: str | None = None) -> dict:
    """``ccsim run`` of a scenario file with an ``uncertain:`` block."""
    from sim.decide.study import Study, run_study
    from sim.inputs.extends import resolve_extends
    from sim.inputs.overrides import forget_paths
    from sim.inputs.scenario import load_scenario

    loaded = load_scenario(path, overrides)
    written, linemap = resolve_extends(path)
    own_variants = {k: v for k, v in (written.get("variants") or {}).items()
                    if isinstance(v, dict)}
    linemap = forget_paths(linemap, [d for d, _ in overrides])
    dists, n = uncertain_scenario(path, loaded.raw, linemap, draws)
    sc0 = loaded.scenario
    update = {"replications": reps or sc0.replications,
              "seed": sc0.seed if seed is None else seed}
    n_reps, seed_ = update["replications"], update["seed"]
    n_opts = 1 + len(loaded.variants)
    if n * n_opts * n_reps > MAX_JOBS:
        raise InputError(f"{n} draws x {n_opts} options x {n_reps} replications = "
                         f"{n * n_opts * n_reps:,} simulations, more than {MAX_JOBS:,}; "
                         "use fewer draws or replications", file=str(path), path="draws")
    values = draw_values(dists, sample(dists, n, seed_))
    options, counts = build_draw_options(loaded, dists, values, update, str(path), linemap,
                                         own_variants)
    values = as_applied(dists, values, counts)
    names = list(dists)
    variants = ["base", *loaded.variants]
    outputs = list(dict.fromkeys([t.metric for t in sc0.targets] + ["cost.total"]))

    def extend(tables: dict[str, pd.DataFrame], meta: dict) -> None:
        summary = tables["summary"]
        per = {(sv, metric): g.set_index("draw")["mean"] for (sv, metric), g in
               draw_table(summary).assign(m=lambda x: x["scope"] + "." + x["metric"])
               .groupby(["base_variant", "m"])}
        unc, trows, srows, vrows = [], [], [], []
        for v in variants:
            means = {o: per.get((v, o), pd.Series(dtype=float)).reindex(range(n)).to_numpy(
                dtype=float) for o in outputs}
            sc = next(s for _, nm, s in options if nm == draw_name(v, 0))
            trows += target_rows(sc0.name, v, sc.targets, means,
                                 draw_shares(tables["targets"], sc.targets,
                                             [draw_name(v, d) for d in range(n)]))
            for d in range(n):
                unc.append([d, v, *values[d], *(means[o][d] for o in outputs)])
            dnames = [draw_name(v, d) for d in range(n)]
            for o in outputs:
                label = o if v == "base" else f"{v}:{o}"
                srows += sensitivity_rows(label, values, names, means[o])
                scope, metric = o.split(".")
                vrows.append(split_rows(label, rep_matrix(
                    tables["replications"], dnames, scope, metric, n_reps)))
        write_tables(out, tables, unc, names, outputs, trows, srows, vrows)
        tables["summary"] = aggregate_summary(summary, n, n_reps)
        tables["intervals"] = aggregate_intervals(tables["intervals"])
        write_csv(out / "intervals.csv", tables["intervals"])
        meta.update({"draws": n, "uncertain": list(dists), "sampling":
                     "latin hypercube (scipy.stats.qmc, scrambled)"})

    def printer(term, tables: dict[str, pd.DataFrame]) -> None:  # noqa: ANN001
        from sim.report.console_uncertainty import print_uncertain_run

        print_uncertain_run(term, tables, sc0, n, n_reps, title)

    resolved = {**loaded.raw, **update, "draws": n}
    return run_study(Study(
        "run", sc0.name, options, out, workers, False, quiet, as_json,
        title or f"{sc0.name}: {n} draws of {len(dists)} uncertain input(s)",
        {"scenario_file": str(path), "scenario_sha256": loaded.file_hash}, resolved,
        backend=backend, scheduler=scheduler, extend=extend, printer=printer))


def write_tables(out: Path, tables: dict[str, pd.DataFrame], unc: list, names: list[str],
                 outputs: list[str], trows: list, srows: list, vrows: list) -> None:
    """uncertainty.csv, sensitivity.csv, variance.csv and targets.csv with p_met."""
    tables["uncertainty"] = pd.DataFrame(unc, columns=["draw", "variant", *names, *outputs])
    tables["sensitivity"] = pd.DataFrame(srows, columns=SENSITIVITY_COLUMNS)
    tables["variance"] = pd.DataFrame(vrows, columns=VARIANCE_COLUMNS)
    tables["targets"] = pd.DataFrame(trows, columns=target_columns(trows))
    for name in ("uncertainty", "sensitivity", "variance", "targets"):
        write_csv(out / f"{name}.csv", tables[name])


def aggregate_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    """intervals.csv: per option, the mean over its draws."""
    if intervals.empty or "variant" not in intervals:
        return intervals
    df = intervals.copy()
    df["variant"] = [split_name(v)[0] for v in df["variant"]]
    keys = ["scenario", "variant", "interval", "start_h", "channel"]
    return df.groupby(keys, sort=False).mean(numeric_only=True).reset_index()


Printer = Callable[[object, dict[str, pd.DataFrame]], None]
