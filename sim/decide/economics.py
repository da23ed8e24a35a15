"""Roadmap economics: monthly operating cost against the baseline, cumulative net savings,
payback month, ROI, NPV and discounted payback, each replication on its own (common
random numbers), then 95 % CIs.

Month m = 1..H of the roadmap. A simulated state's cost per month is its ``cost.labor``
and the rest of its ``cost.total`` (bot sessions, overhead) x 730 h / ``horizon_hours``.
In month m a phase without ramp costs what its final state costs from its first month; a
ramping phase moves linearly between its simulated points (the state before the phase at
its start, its ramp points, its end). After the last phase the final state goes on. A
phase's investment is spent evenly over its months.

``economics:`` (SPEC §7.7): the labour cost of month m (baseline and phases alike) is
multiplied by (1 + g)^((m - 1) / 12); with volume growth v the arrival rates of month m
are multiplied by (1 + v)^((m - 1) / 12): each state is simulated at the volume of the
first and last month it holds (sim/decide/roadmap.py ``volume_months``) and its monthly cost is
interpolated linearly in the volume factor in between; the net of month m is discounted
by (1 + r)^(-m / 12).

``workforce:`` (sim/decide/roadmap_workforce.py): each simulated month holds its month's
workforce (and volume); the operating cost of any other month is linear in the month
between the simulated months around it. The baseline stays the state before the roadmap.

Per replication: ``net_savings = baseline - operating - investment`` each month,
``cumulative_net`` its running sum, ``roi = (sum(baseline - operating) - investment) /
investment`` over the H months, ``npv = sum(net_savings(m) (1 + r)^(-m/12))``. The payback
month is the first month from which the cumulative net stays >= 0 up to H: of the mean
curve (``payback_month``) and of the CI's upper and lower curves (``payback_month_low`` /
``payback_month_high``, the range); ``discounted_payback_month`` likewise for the
discounted cumulative net. A curve that never stays >= 0 within H has no payback month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.decide.roadmap import BASELINE, LoadedRoadmap, Roadmap, volume_factor
from sim.decide.workforce_months import lerp_monthly
from sim.measure.costs import HOURS_PER_MONTH
from sim.measure.stats import estimate

ROADMAP_COLUMNS = ["month", "phase", "investment", "operating_cost",
                   "baseline_operating_cost", "net_savings", "cumulative_net",
                   "cumulative_net_low", "cumulative_net_high", "wage_factor",
                   "volume_factor", "discounted_net", "discounted_cumulative_net"]

Costs = dict[str, tuple[np.ndarray, np.ndarray]]   # variant -> (labour, other) per month


def monthly_costs(lr: LoadedRoadmap, replications: pd.DataFrame,
                  suffix: str = "") -> Costs:
    """(labour, other cost) per month of each simulated point, one value per replication;
    ``suffix`` picks the points' variants named ``<variant><suffix>`` (a draw's)."""
    rows = replications[replications["scope"] == "cost"]
    out: Costs = {}
    for p in lr.points:
        mine = rows[rows["variant"] == p.variant + suffix]
        scale = HOURS_PER_MONTH / p.scenario.horizon_hours
        total = mine[mine["metric"] == "total"].sort_values("replication")["value"].to_numpy()
        labour = mine[mine["metric"] == "labor"].sort_values("replication")["value"].to_numpy()
        out[p.variant] = (labour * scale, (total - labour) * scale)
    return out


@dataclass
class Cashflow:
    """Month-by-month money of a roadmap, one row per replication."""

    phase_of: list[str]
    invest: np.ndarray        # [month]
    wage: np.ndarray          # [month] labour cost factor
    volume: np.ndarray        # [month] arrival rate factor
    discount: np.ndarray      # [month] (1 + r)^(-m/12)
    baseline: np.ndarray      # [rep, month]
    operating: np.ndarray     # [rep, month]

    @property
    def net(self) -> np.ndarray:
        return self.baseline - self.operating - self.invest[None, :]

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.net, axis=1)

    @property
    def discounted_cumulative(self) -> np.ndarray:
        return np.cumsum(self.net * self.discount[None, :], axis=1)

    @property
    def npv(self) -> np.ndarray:
        return (self.net * self.discount[None, :]).sum(axis=1)

    @property
    def roi(self) -> np.ndarray | None:
        total = float(self.invest.sum())
        if total <= 0:
            return None
        return ((self.baseline - self.operating).sum(axis=1) - total) / total


def _knot_cost(lr: LoadedRoadmap, costs: Costs, state: str, month: int, growth: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """(labour, other) of ``state`` at the volume of ``month``: piecewise linear in the
    volume factor between the simulated volume points of the state (flat beyond)."""
    sims = sorted((p.volume_month, p.variant) for p in lr.points if p.state_name == state)
    if len(sims) == 1 or growth == 0:
        return costs[sims[0][1]]
    f = volume_factor(growth, month)
    fs = [volume_factor(growth, vm) for vm, _ in sims]
    if f <= fs[0]:
        return costs[sims[0][1]]
    for (f0, (_, v0)), (f1, (_, v1)) in zip(zip(fs, sims, strict=True),
                                            zip(fs[1:], sims[1:], strict=True), strict=False):
        if f <= f1:
            w = (f - f0) / (f1 - f0)
            (l0, o0), (l1, o1) = costs[v0], costs[v1]
            return l0 + w * (l1 - l0), o0 + w * (o1 - o0)
    return costs[sims[-1][1]]


def cashflow(lr: LoadedRoadmap, costs: Costs, rm: Roadmap | None = None) -> Cashflow:
    """The monthly money of ``lr`` from its points' costs (``rm``: a draw's roadmap,
    e.g. other investments or economics; default ``lr.roadmap``)."""
    rm = rm or lr.roadmap
    econ = rm.economics
    g = econ.wage_growth_per_year if econ else 0.0
    v = econ.volume_growth_per_year if econ else 0.0
    r = econ.discount_rate_per_year if econ else 0.0
    horizon = rm.horizon
    months = np.arange(1, horizon + 1)
    wage = (1.0 + g) ** ((months - 1) / 12.0)
    volume = (1.0 + v) ** ((months - 1) / 12.0)
    discount = (1.0 + r) ** (-months / 12.0)
    n_reps = len(costs[BASELINE][0])
    invest = np.zeros(horizon)
    labour = np.zeros((n_reps, horizon))
    other = np.zeros((n_reps, horizon))
    base_l, base_o = np.zeros((n_reps, horizon)), np.zeros((n_reps, horizon))
    phase_of: list[str] = []
    for m in months:
        base_l[:, m - 1], base_o[:, m - 1] = _knot_cost(lr, costs, BASELINE, m, v)
    before, start = (BASELINE, 0), 0
    for ph in rm.phases:
        end = start + ph.months
        knots = [before] + [(p.variant, p.month) for p in lr.points
                            if p.phase == ph.name and p.state_name == p.variant]
        for m in range(start + 1, min(end, horizon) + 1):
            phase_of.append(ph.name)
            invest[m - 1] = ph.investment / ph.months
            if ph.ramp:
                lab, oth = _ramp(lr, costs, knots, m, v)
            else:
                lab, oth = _knot_cost(lr, costs, ph.name, m, v)
            labour[:, m - 1], other[:, m - 1] = lab, oth
        before, start = (ph.name, end), end
    for m in range(start + 1, horizon + 1):
        phase_of.append("after")
        labour[:, m - 1], other[:, m - 1] = _knot_cost(lr, costs, before[0], m, v)
    if lr.workforce is not None:   # every month from the simulated months around it
        labour = lerp_monthly(lr.workforce, lambda var: costs[var][0], horizon)
        other = lerp_monthly(lr.workforce, lambda var: costs[var][1], horizon)
    return Cashflow(phase_of, invest, wage, volume, discount,
                    base_l * wage[None, :] + base_o, labour * wage[None, :] + other)


def _ramp(lr: LoadedRoadmap, costs: Costs, knots: list[tuple[str, int]], month: int,
          v: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear in the month between the ramp's knots, each at its own month's volume."""
    for (sa, a), (sb, b) in zip(knots, knots[1:], strict=False):
        if a < month <= b:
            la, oa = _knot_cost(lr, costs, sa, a, v)
            lb, ob = _knot_cost(lr, costs, sb, b, v)
            w = (month - a) / (b - a)
            return la + w * (lb - la), oa + w * (ob - oa)
    return _knot_cost(lr, costs, knots[-1][0], knots[-1][1], v)


def payback(curve: np.ndarray) -> float:
    """First month (1-based) from which ``curve`` stays >= 0; NaN if none (or if the
    curve is undefined, e.g. a CI from one replication)."""
    if np.isnan(curve).any():
        return math.nan
    below = np.nonzero(curve < 0)[0]
    if below.size == 0:
        return 1.0
    last = int(below[-1])
    return float(last + 2) if last + 1 < curve.size else math.nan


_payback = payback   # the name the tests know


def _ci_curves(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    est = [estimate(list(values[:, m])) for m in range(values.shape[1])]
    return (np.array([e.mean for e in est]), np.array([e.ci_low for e in est]),
            np.array([e.ci_high for e in est]))


def roadmap_tables(lr: LoadedRoadmap, replications: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """roadmap.csv, and the summary rows it adds (scope ``roadmap``, and per point scope
    ``cost`` metrics ``operating_per_month`` / ``savings_per_month``)."""
    costs = monthly_costs(lr, replications)
    cf = cashflow(lr, costs)
    net, cum, dcum = cf.net, cf.cumulative, cf.discounted_cumulative
    mean, lo, hi = _ci_curves(cum)
    dmean, dlo, dhi = _ci_curves(dcum)
    table = pd.DataFrame({
        "month": np.arange(1, net.shape[1] + 1), "phase": cf.phase_of, "investment": cf.invest,
        "operating_cost": cf.operating.mean(axis=0), "baseline_operating_cost":
        cf.baseline.mean(axis=0), "net_savings": net.mean(axis=0), "cumulative_net": mean,
        "cumulative_net_low": lo, "cumulative_net_high": hi, "wage_factor": cf.wage,
        "volume_factor": cf.volume, "discounted_net": (net * cf.discount).mean(axis=0),
        "discounted_cumulative_net": dmean})[ROADMAP_COLUMNS]
    name = lr.roadmap.roadmap
    n = cum.shape[0]
    pay, pay_lo, pay_hi = payback(mean), payback(hi), payback(lo)
    dpay, dpay_lo, dpay_hi = payback(dmean), payback(dhi), payback(dlo)
    total_inv = float(cf.invest.sum())
    roi_v = cf.roi
    roi = estimate(list(roi_v)) if roi_v is not None else None
    end = estimate(list(cum[:, -1]))
    npv = estimate(list(cf.npv))
    rows = [[name, "roadmap", "roadmap", "payback_month", pay, pay_lo, pay_hi, n],
            [name, "roadmap", "roadmap", "payback_month_low", pay_lo, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "payback_month_high", pay_hi, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "roi", roi.mean if roi else math.nan,
             roi.ci_low if roi else math.nan, roi.ci_high if roi else math.nan, n],
            [name, "roadmap", "roadmap", "npv", npv.mean, npv.ci_low, npv.ci_high, n],
            [name, "roadmap", "roadmap", "discounted_payback_month", dpay, dpay_lo, dpay_hi,
             n],
            [name, "roadmap", "roadmap", "investment", total_inv, math.nan, math.nan, n],
            [name, "roadmap", "roadmap", "cumulative_net_end", end.mean, end.ci_low,
             end.ci_high, n],
            [name, "roadmap", "roadmap", "horizon_months", float(net.shape[1]),
             math.nan, math.nan, n]]
    base = costs[BASELINE][0] + costs[BASELINE][1]
    for p in lr.points:
        c = costs[p.variant][0] + costs[p.variant][1]
        op = estimate(list(c))
        sav = estimate(list(base - c))
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
