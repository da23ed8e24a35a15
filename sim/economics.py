"""Roadmap economics: monthly operating cost against the baseline, cumulative net savings,
payback month and ROI, each replication on its own (common random numbers), then 95 % CIs.

Month m = 1..H of the roadmap. Operating cost of a simulated state per month =
``cost.total`` x 730 h / ``horizon_hours`` (``cost.total`` already holds labour, bot
sessions and overhead over the measured period). In month m a phase without ramp costs
what its final state costs from its first month; a ramping phase moves linearly between
its simulated points (the state before the phase at its start, its ramp points, its end).
After the last phase the final state goes on. A phase's investment is spent evenly over
its months.

Per replication r: ``net_savings = baseline - operating - investment`` each month,
``cumulative_net`` its running sum, ``roi = (sum(baseline - operating) - investment) /
investment`` over the H months. The payback month is the first month from which the
cumulative net stays >= 0 up to H: of the mean curve (``payback_month``) and of the CI's
upper and lower curves (``payback_month_low`` / ``payback_month_high``, the range). A
curve that never stays >= 0 within H has no payback month (empty).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.costs import HOURS_PER_MONTH
from sim.roadmap import BASELINE, LoadedRoadmap
from sim.stats import estimate

ROADMAP_COLUMNS = ["month", "phase", "investment", "operating_cost",
                   "baseline_operating_cost", "net_savings", "cumulative_net",
                   "cumulative_net_low", "cumulative_net_high"]


def monthly_costs(lr: LoadedRoadmap, replications: pd.DataFrame) -> dict[str, np.ndarray]:
    """Operating cost per month of each simulated point, one value per replication."""
    tot = replications[(replications["scope"] == "cost") & (replications["metric"] == "total")]
    out = {}
    for p in lr.points:
        vals = tot[tot["variant"] == p.variant].sort_values("replication")["value"].to_numpy()
        out[p.variant] = vals * HOURS_PER_MONTH / p.scenario.horizon_hours
    return out


def timeline(lr: LoadedRoadmap, costs: dict[str, np.ndarray]
             ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(phase of each month, investment per month, operating cost [rep, month])."""
    rm = lr.roadmap
    horizon = rm.horizon
    n_reps = len(costs[BASELINE])
    phase_of, invest = [], np.zeros(horizon)
    operating = np.zeros((n_reps, horizon))
    before = (0, costs[BASELINE])          # (month, cost) of the state before a phase
    start = 0
    for ph in rm.phases:
        end = start + ph.months
        knots = [before] + [(p.month, costs[p.variant]) for p in lr.points
                            if p.phase == ph.name]
        for m in range(start + 1, end + 1):
            if m > horizon:
                break
            phase_of.append(ph.name)
            invest[m - 1] = ph.investment / ph.months
            operating[:, m - 1] = (_interpolate(knots, m) if ph.ramp else knots[-1][1])
        before, start = knots[-1], end
    for m in range(start + 1, horizon + 1):
        phase_of.append("after")
        operating[:, m - 1] = before[1]
    return phase_of, invest, operating


def _interpolate(knots: list[tuple[int, np.ndarray]], month: int) -> np.ndarray:
    for (a, ca), (b, cb) in zip(knots, knots[1:], strict=False):
        if a < month <= b:
            return ca + (month - a) / (b - a) * (cb - ca)
    return knots[-1][1]


def _payback(curve: np.ndarray) -> float:
    """First month (1-based) from which ``curve`` stays >= 0; NaN if none (or if the
    curve is undefined, e.g. a CI from one replication)."""
    if np.isnan(curve).any():
        return math.nan
    below = np.nonzero(curve < 0)[0]
    if below.size == 0:
        return 1.0
    last = int(below[-1])
    return float(last + 2) if last + 1 < curve.size else math.nan


def roadmap_tables(lr: LoadedRoadmap, replications: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """roadmap.csv, and the summary rows it adds (scope ``roadmap``, and per point scope
    ``cost`` metrics ``operating_per_month`` / ``savings_per_month``)."""
    costs = monthly_costs(lr, replications)
    phase_of, invest, operating = timeline(lr, costs)
    base = costs[BASELINE][:, None]
    net = base - operating - invest[None, :]
    cum = np.cumsum(net, axis=1)
    months = []
    for m in range(operating.shape[1]):
        e = estimate(list(cum[:, m]))
        months.append([m + 1, phase_of[m], invest[m], operating[:, m].mean(),
                       float(base.mean()), net[:, m].mean(), e.mean, e.ci_low, e.ci_high])
    table = pd.DataFrame(months, columns=ROADMAP_COLUMNS)
    name = lr.roadmap.roadmap
    n = cum.shape[0]
    pay = _payback(table["cumulative_net"].to_numpy())
    pay_lo = _payback(table["cumulative_net_high"].to_numpy())
    pay_hi = _payback(table["cumulative_net_low"].to_numpy())
    total_inv = float(invest.sum())
    roi = (estimate(list(((base - operating).sum(axis=1) - total_inv) / total_inv))
           if total_inv > 0 else None)
    end = estimate(list(cum[:, -1]))
    rows = [[name, "roadmap", "roadmap", "payback_month", pay, pay_lo, pay_hi, n],
            [name, "roadmap", "roadmap", "payback_month_low", pay_lo, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "payback_month_high", pay_hi, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "roi", roi.mean if roi else math.nan,
             roi.ci_low if roi else math.nan, roi.ci_high if roi else math.nan, n],
            [name, "roadmap", "roadmap", "investment", total_inv, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "cumulative_net_end", end.mean, end.ci_low,
             end.ci_high, n],
            [name, "roadmap", "roadmap", "horizon_months", float(operating.shape[1]),
             math.nan, math.nan, n]]
    for p in lr.points:
        op = estimate(list(costs[p.variant]))
        sav = estimate(list(costs[BASELINE] - costs[p.variant]))
        rows.append([name, p.variant, "cost", "operating_per_month", op.mean, op.ci_low,
                     op.ci_high, op.n])
        rows.append([name, p.variant, "cost", "savings_per_month", sav.mean, sav.ci_low,
                     sav.ci_high, sav.n])
        if p.variant != BASELINE and p.variant == p.phase:
            inv = next(ph.investment for ph in lr.roadmap.phases if ph.name == p.phase)
            rows.append([name, p.variant, "roadmap", "investment", inv, math.nan, math.nan,
                         op.n])
    extra = pd.DataFrame(rows, columns=["scenario", "variant", "scope", "metric", "mean",
                                        "ci_low", "ci_high", "replications"])
    return table, extra
