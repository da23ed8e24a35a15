"""`ccsim roadmap` with ``uncertain:`` inputs (SPEC §7.6): every draw is a roadmap of its
own (other investments, phase effects, baseline or economics), its states simulated with
the file's replications under common random numbers, then its business case computed
(sim/decide/economics.py). A state that is the same in several draws (e.g. the baseline when
only phase inputs are uncertain, or every state when only money is) is simulated once:
with the same seeds it would give the same numbers anyway, so this is exact.

Paths: ``baseline.<scenario path>``, ``phases.<phase>.set.<scenario path>`` (replaces the
phase's own entries it matches; ``apply: multiply`` then scales the value before the
phase), ``phases.<phase>.investment`` / ``months``, and ``economics.<key>``.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.base.errors import InputError
from sim.decide.economics import ROADMAP_COLUMNS, cashflow, payback
from sim.decide.roadmap import (
    BASELINE,
    RoadmapFile,
)
from sim.decide.uncertain_roadmap_inputs import check_extremes, draw_roadmap, roadmap_inputs
from sim.decide.uncertain_run import (
    MAX_JOBS,
    SENSITIVITY_COLUMNS,
    VARIANCE_COLUMNS,
    draw_shares,
    sensitivity_rows,
    split_rows,
    target_columns,
    target_rows,
)
from sim.inputs.uncertain import (
    as_applied,
    draw_values,
)
from sim.inputs.uncertain import sample as lhs_sample
from sim.measure.costs import HOURS_PER_MONTH
from sim.measure.results import write_csv
from sim.measure.stats import estimate
from sim.measure.uncertain_stats import quantile, wilson

ECON_OUTPUTS = ["payback_month", "roi", "npv", "discounted_payback_month",
                "cumulative_net_end"]


# --------------------------------------------------------------------------- running

def _state_key(sc: Any) -> str:
    return hashlib.sha256(sc.model_dump_json().encode()).hexdigest()


def plan_draws(rf: RoadmapFile, draws: int | None, reps: int | None, seed: int | None
               ) -> dict[str, Any]:
    """Inputs, draws, each draw's roadmap, and the distinct states to simulate."""
    dists, n, counts = roadmap_inputs(rf, draws)
    check_extremes(rf, dists, counts)
    seed_ = rf.baseline.scenario.seed if seed is None else seed
    values = as_applied(dists, draw_values(dists, lhs_sample(dists, n, seed_)), counts)
    lrs = [draw_roadmap(rf, dists, values[d], counts, reps, seed, f"draw {d}")
           for d in range(n)]
    unique: dict[str, str] = {}
    options: list[tuple[str, str, Any]] = []
    mapping: dict[tuple[int, str], str] = {}
    for d, (lr, _rm) in enumerate(lrs):
        for p in lr.points:
            key = _state_key(p.scenario)
            if key not in unique:
                unique[key] = f"{p.variant}#{d}"
                options.append((rf.roadmap.roadmap, unique[key], p.scenario))
            mapping[(d, p.variant)] = unique[key]
    n_reps = lrs[0][0].points[0].scenario.replications
    if len(options) * n_reps > MAX_JOBS:
        raise InputError(f"{len(options):,} distinct states x {n_reps} replications is more "
                         f"than {MAX_JOBS:,} simulations; use fewer draws or replications",
                         file=str(rf.path), path="draws")
    return {"dists": dists, "n": n, "values": values, "lrs": lrs, "options": options,
            "mapping": mapping, "reps": n_reps}


def option_costs(replications: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(labour, total) per replication of every simulated option, over its horizon."""
    r = replications[(replications["scope"] == "cost")
                     & replications["metric"].isin(["labor", "total"])]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for opt, g in r.groupby("variant", sort=False):
        piv = g.pivot_table(index="replication", columns="metric", values="value",
                            aggfunc="first").sort_index()
        out[str(opt)] = (piv["labor"].to_numpy(dtype=float), piv["total"].to_numpy(dtype=float))
    return out


def economics_by_draw(plan: dict[str, Any], replications: pd.DataFrame) -> dict[str, Any]:
    """Each draw's business case from the simulated states' replications."""
    by_opt = option_costs(replications)
    keys = ("cum", "dcum", "pay", "dpay", "roi", "npv", "end", "npv_r", "roi_r", "end_r",
            "invest", "operating", "baseline", "net", "dnet", "cf")
    out: dict[str, Any] = {k: [] for k in keys}
    out["state_op"], out["state_sav"] = {}, {}
    out["state_op_r"], out["state_sav_r"] = {}, {}   # per replication (of the last draw)
    n = plan["n"]
    for d, (lr, rm) in enumerate(plan["lrs"]):
        costs = {}
        for p in lr.points:
            labour, total = by_opt[plan["mapping"][(d, p.variant)]]
            scale = HOURS_PER_MONTH / p.scenario.horizon_hours
            costs[p.variant] = (labour * scale, (total - labour) * scale)
        base = sum(costs[BASELINE])
        for p in lr.points:
            op = sum(costs[p.variant])
            out["state_op"].setdefault(p.variant, [math.nan] * n)[d] = float(op.mean())
            out["state_sav"].setdefault(p.variant, [math.nan] * n)[d] = float(
                (base - op).mean())
            out["state_op_r"][p.variant], out["state_sav_r"][p.variant] = op, base - op
        cf = cashflow(lr, costs, rm)
        cum, dcum = cf.cumulative, cf.discounted_cumulative
        out["cum"].append(cum.mean(axis=0))
        out["dcum"].append(dcum.mean(axis=0))
        out["pay"].append(payback(cum.mean(axis=0)))
        out["dpay"].append(payback(dcum.mean(axis=0)))
        roi = cf.roi
        out["roi_r"].append(roi if roi is not None else np.full(cum.shape[0], math.nan))
        out["roi"].append(float(np.mean(roi)) if roi is not None else math.nan)
        out["npv_r"].append(cf.npv)
        out["npv"].append(float(cf.npv.mean()))
        out["end_r"].append(cum[:, -1])
        out["end"].append(float(cum[:, -1].mean()))
        out["invest"].append(cf.invest)
        out["operating"].append(cf.operating.mean(axis=0))
        out["baseline"].append(cf.baseline.mean(axis=0))
        out["net"].append(cf.net.mean(axis=0))
        out["dnet"].append((cf.net * cf.discount[None, :]).mean(axis=0))
        out["cf"].append(cf)
    return out


def roadmap_outputs(plan: dict[str, Any], eco: dict[str, Any], name: str, horizon: int
                    ) -> tuple[pd.DataFrame, list[list[Any]]]:
    """roadmap.csv over the draws, and the scope `roadmap` summary rows."""
    n = plan["n"]
    width = min(len(c) for c in eco["cum"])
    cum = np.array([c[:width] for c in eco["cum"]])
    dcum = np.array([c[:width] for c in eco["dcum"]])
    pay = np.array(eco["pay"])
    est = [estimate(list(cum[:, m])) for m in range(width)]
    first_cf = eco["cf"][0]
    paid_by = [wilson(int(np.sum(pay <= m + 1)), n) for m in range(width)]
    table = pd.DataFrame({
        "month": np.arange(1, width + 1),
        "phase": first_cf.phase_of[:width],
        "investment": np.mean([i[:width] for i in eco["invest"]], axis=0),
        "operating_cost": np.mean([o[:width] for o in eco["operating"]], axis=0),
        "baseline_operating_cost": np.mean([b[:width] for b in eco["baseline"]], axis=0),
        "net_savings": np.mean([x[:width] for x in eco["net"]], axis=0),
        "cumulative_net": [e.mean for e in est],
        "cumulative_net_low": [e.ci_low for e in est],
        "cumulative_net_high": [e.ci_high for e in est],
        "wage_factor": first_cf.wage[:width], "volume_factor": first_cf.volume[:width],
        "discounted_net": np.mean([x[:width] for x in eco["dnet"]], axis=0),
        "discounted_cumulative_net": dcum.mean(axis=0)})[ROADMAP_COLUMNS]
    for q in (10, 50, 90):
        table[f"cumulative_net_p{q}"] = np.percentile(cum, q, axis=0)
    table["p_paid_back"] = [p for p, _, _ in paid_by]
    table["p_paid_back_low"] = [lo for _, lo, _ in paid_by]
    table["p_paid_back_high"] = [hi for _, _, hi in paid_by]
    r = n * plan["reps"]
    mean_curve = table["cumulative_net"].to_numpy()
    p_lo, p_hi = (payback(table["cumulative_net_high"].to_numpy()),
                  payback(table["cumulative_net_low"].to_numpy()))
    within = wilson(int(np.isfinite(pay).sum()), n)
    roi, npv, end = (estimate(eco[k]) for k in ("roi", "npv", "end"))
    dmean = dcum.mean(axis=0)
    rows = [
        ["payback_month", payback(mean_curve), p_lo, p_hi],
        ["payback_month_low", p_lo, math.nan, math.nan],
        ["payback_month_high", p_hi, math.nan, math.nan],
        ["roi", roi.mean, roi.ci_low, roi.ci_high],
        ["npv", npv.mean, npv.ci_low, npv.ci_high],
        ["discounted_payback_month", payback(dmean), math.nan, math.nan],
        ["investment", float(np.mean([i.sum() for i in eco["invest"]])), math.nan, math.nan],
        ["cumulative_net_end", end.mean, end.ci_low, end.ci_high],
        ["horizon_months", float(horizon), math.nan, math.nan],
        *[[f"payback_month_p{q}", quantile(pay, q / 100, never=True), math.nan, math.nan]
          for q in (10, 50, 90)],
        ["p_payback_within_horizon", *within],
        *[[f"roi_p{q}", quantile(np.array(eco["roi"]), q / 100), math.nan, math.nan]
          for q in (10, 50, 90)],
        ["npv_p50", quantile(np.array(eco["npv"]), 0.5), math.nan, math.nan],
        ["draws", float(n), math.nan, math.nan]]
    return table, [[name, "roadmap", "roadmap", m, a, b, c, r] for m, a, b, c in rows]


def state_rows(plan: dict[str, Any], summary: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Summary rows of every state over the draws, and each state's draw means
    {(variant, "scope.metric"): array over draws}."""
    idx = summary.set_index(["variant", "scope", "metric"])["mean"]
    means: dict[tuple[str, str], list[float]] = {}
    order: list[str] = []
    for d, (lr, _rm) in enumerate(plan["lrs"]):
        for p in lr.points:
            if p.variant not in order:
                order.append(p.variant)
            opt = plan["mapping"][(d, p.variant)]
            sub = idx.loc[opt] if opt in idx.index.get_level_values(0) else None
            if sub is None:
                continue
            for (scope, metric), v in sub.items():
                means.setdefault((p.variant, f"{scope}.{metric}"), [math.nan] * plan["n"])[d] \
                    = float(v)
    name = plan["lrs"][0][1].roadmap
    rows = []
    for v in order:
        single = _single_option(plan, v)
        if single is not None:  # the same state in every draw: its replications' CI
            own = summary[summary["variant"] == single]
            rows += [[name, v, *r[2:]] for r in own.itertuples(index=False, name=None)]
            continue
        for (vv, sm), vals in means.items():
            if vv != v:
                continue
            e = estimate(vals)
            scope, metric = sm.split(".", 1)
            rows.append([name, v, scope, metric, e.mean, e.ci_low, e.ci_high,
                         e.n * plan["reps"]])
    df = pd.DataFrame(rows, columns=list(summary.columns))
    return df, {k: np.array(v, dtype=float) for k, v in means.items()}


def _single_option(plan: dict[str, Any], variant: str) -> str | None:
    """The option simulated for ``variant`` when it is the same state in every draw."""
    opts = {plan["mapping"].get((d, variant)) for d in range(plan["n"])}
    return next(iter(opts)) if len(opts) == 1 and None not in opts else None


def cost_rows(plan: dict[str, Any], eco: dict[str, Any], name: str) -> list[list[Any]]:
    """operating_per_month / savings_per_month of every state, over the draws, and each
    phase's investment (mean over the draws)."""
    rows = []
    r = plan["n"] * plan["reps"]
    for v, vals in eco["state_op"].items():
        single = _single_option(plan, v) is not None and _single_option(
            plan, BASELINE) is not None
        for metric, data, reps in (("operating_per_month", vals, eco["state_op_r"][v]),
                                   ("savings_per_month", eco["state_sav"][v],
                                    eco["state_sav_r"][v])):
            e = estimate(list(reps) if single else data)
            rows.append([name, v, "cost", metric, e.mean, e.ci_low, e.ci_high,
                         plan["reps"] if single else r])
    for ph in plan["lrs"][0][1].phases:
        inv = [next(q.investment for q in rm.phases if q.name == ph.name)
               for _lr, rm in plan["lrs"]]
        e = estimate(inv)
        rows.append([name, ph.name, "roadmap", "investment", e.mean, e.ci_low, e.ci_high, r])
    return rows


def write_all(out: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name in ("uncertainty", "sensitivity", "variance", "targets", "roadmap"):
        write_csv(out / f"{name}.csv", tables[name])


__all__ = ["plan_draws", "economics_by_draw", "roadmap_outputs", "state_rows",
           "SENSITIVITY_COLUMNS", "VARIANCE_COLUMNS", "sensitivity_rows", "split_rows",
           "target_rows", "write_all"]


def run_uncertain_roadmap(rf: RoadmapFile, *, draws: int | None, reps: int | None,
                          seed: int | None, folder: Path, workers: int | None, quiet: bool,
                          as_json: bool, backend: str, scheduler: str | None,
                          title: str | None, compact: set[str] | None,
                          meta: dict, path: Path) -> dict:
    """``ccsim roadmap`` of a roadmap file with an ``uncertain:`` block."""
    from sim.decide.study import Study, run_study

    plan = plan_draws(rf, draws, reps, seed)
    dists, n, values = plan["dists"], plan["n"], plan["values"]
    names = list(dists)
    lr0, rm0 = plan["lrs"][0]
    name = rm0.roadmap
    horizon = rf.roadmap.horizon
    phases = [BASELINE, *[p.name for p in rm0.phases]]
    n_reps = plan["reps"]

    def extend(tables: dict[str, pd.DataFrame], meta_: dict) -> None:
        eco = economics_by_draw(plan, tables["replications"])
        months, rrows = roadmap_outputs(plan, eco, name, horizon)
        states, means = state_rows(plan, tables["summary"])
        extra = pd.DataFrame(rrows + cost_rows(plan, eco, name),
                             columns=list(tables["summary"].columns))
        tables["summary"] = pd.concat([states, extra], ignore_index=True)
        tables["roadmap"] = months
        trows, srows, vrows, unc = [], [], [], []
        targets = lr0.points[0].scenario.targets
        outputs = list(dict.fromkeys([t.metric for t in targets] + ["cost.total"]))
        pay = np.array(eco["pay"], dtype=float)
        econ_vals = {"payback_month": pay, "roi": np.array(eco["roi"]),
                     "npv": np.array(eco["npv"]),
                     "discounted_payback_month": np.array(eco["dpay"], dtype=float),
                     "cumulative_net_end": np.array(eco["end"])}
        for d in range(n):
            unc.append([d, "roadmap", *values[d], *(econ_vals[k][d] for k in ECON_OUTPUTS),
                        *([math.nan] * len(outputs))])
        for o in ("payback_month", "roi", "npv"):
            srows += sensitivity_rows(o, values, names, econ_vals[o],
                                      float(horizon + 1) if o == "payback_month" else None)
        for o, key in (("npv", "npv_r"), ("roi", "roi_r"), ("cumulative_net_end", "end_r")):
            vrows.append(split_rows(o, np.array(eco[key])))
        for v in [p.variant for p in lr0.points if "~" not in p.variant]:
            dm = {o: means.get((v, o), np.full(n, math.nan)) for o in outputs}
            trows += target_rows(name, v, targets, dm, draw_shares(
                tables["targets"], targets, [plan["mapping"].get((d, v)) for d in range(n)]))
            if v not in phases:
                continue
            for d in range(n):
                unc.append([d, v, *values[d], *([math.nan] * len(ECON_OUTPUTS)),
                            *(dm[o][d] for o in outputs)])
            for o in outputs:
                label = f"{v}:{o}"
                srows += sensitivity_rows(label, values, names, dm[o])
                scope, metric = o.split(".")
                opts = [plan["mapping"].get((d, v)) for d in range(n)]
                vrows.append(split_rows(label, _rep_values(tables["replications"], opts,
                                                           scope, metric, n_reps)))

        tables["uncertainty"] = pd.DataFrame(unc, columns=["draw", "variant", *names,
                                                           *ECON_OUTPUTS, *outputs])
        tables["sensitivity"] = pd.DataFrame(srows, columns=SENSITIVITY_COLUMNS)
        tables["variance"] = pd.DataFrame(vrows, columns=VARIANCE_COLUMNS)
        tables["targets"] = pd.DataFrame(trows, columns=target_columns(trows))
        write_all(folder, tables)
        meta_.update({"draws": n, "uncertain": names, "distinct_states": len(plan["options"]),
                      "sampling": "latin hypercube (scipy.stats.qmc, scrambled)"})

    def printer(term, tables: dict[str, pd.DataFrame]) -> None:  # noqa: ANN001
        from sim.report.console_uncertainty import print_uncertain_roadmap

        print_uncertain_roadmap(term, tables, lr0, phases, n, n_reps, horizon, title,
                                compact)

    first = lr0.points[0].scenario
    resolved = {"roadmap": {**lr0.raw, "draws": n}, "baseline": {
        **{k: v for k, v in rf.baseline.raw.items() if k != "variants"},
        "seed": first.seed, "replications": first.replications}}
    return run_study(Study(
        "roadmap", name, plan["options"], folder, workers, False, quiet, as_json,
        title or f"roadmap {name}: {n} draws of {len(dists)} uncertain input(s)", meta,
        resolved, backend=backend, scheduler=scheduler, extend=extend, printer=printer))


def _rep_values(replications: pd.DataFrame, opts: list[str | None], scope: str, metric: str,
                reps: int) -> np.ndarray:
    from sim.decide.uncertain_run import rep_matrix

    names = [o or "" for o in opts]
    return rep_matrix(replications, names, scope, metric, reps)
