"""The workforce part of a roadmap's report (``workforce:``, SPEC §7.7): headcount against
the plan, hires and leavers per tier by month (workforce.csv), and the months where
service dips while new hires learn (sim/decide/workforce_report.py)."""

from __future__ import annotations

import math

from sim.measure.workforce_dips import service_dips
from sim.report.charts import COLORS, Chart, layout
from sim.report.data import ReportData
from sim.report.figures import Figure, bar, scatter
from sim.report.parts import Cell, Table


def _plan(d: ReportData, tier: str, month: int) -> float:
    plan = ((d.meta.get("workforce") or {}).get("plan_headcount") or {}).get(tier) or []
    return float(plan[month - 1]) if 0 < month <= len(plan) else math.nan


def dips(d: ReportData) -> list[tuple[int, str]]:
    wf, kpis = d.workforce, d.workforce_kpis
    if wf is None or kpis is None or wf.empty or "planned" not in kpis:
        return []
    targets = [t for t in (d.scenario or {}).get("targets") or [] if isinstance(t, dict)]
    coaching = {int(c.get("month", 0)) for c in (d.meta.get("workforce") or {}).get(
        "coaching") or [] if isinstance(c, dict) and float(c.get("taken_hours", 0)) > 0}
    return service_dips(wf, kpis, targets, coaching)


def _num(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def workforce_table(d: ReportData, dipped: dict[int, str]) -> Table:
    """Month by month, per tier: heads (plan), hires, leavers, learning share, speed."""
    wf = d.workforce
    tiers = list(dict.fromkeys(wf["tier"]))
    head: list[object] = ["month"]
    for t in tiers:
        head += [f"{t} heads (plan)", f"{t} hires", f"{t} leavers", f"{t} learning",
                 f"{t} speed"]
    head.append("service while learning")
    rows = []
    for m, g in wf.groupby("month", sort=True):
        row: list[object] = [str(int(m))]
        by = g.set_index("tier")
        for t in tiers:
            r = by.loc[t]
            row += [f"{r['headcount']:,.1f} ({_num(_plan(d, t, int(m)), 0)})",
                    _num(float(r["hires"]), 2), _num(float(r["leavers"]), 2),
                    f"{float(r['new_hire_share']) * 100:.0f}%", f"{float(r['speed']):.3f}"]
        dip = dipped.get(int(m))
        row.append(Cell("dips: " + dip, cls="missed") if dip else "")
        rows.append(row)
    return Table.of(head, rows, "workforce")


def _dip_bands(fig: Figure, dipped: dict[int, str]) -> None:
    for m in dipped:
        fig.add_vrect(m - 0.5, m + 0.5, fillcolor="#c5221f", opacity=0.12,
                      line={"width": 0}, layer="below")


def workforce_charts(d: ReportData, dipped: dict[int, str]) -> list[Chart]:
    """Headcount against the plan per tier; hires (up) and leavers (down) per month; the
    months that dip while new hires learn shaded red."""
    wf = d.workforce
    heads, flows = Figure(), Figure()
    for i, (tier, g) in enumerate(wf.groupby("tier", sort=False)):
        color = COLORS[i % len(COLORS)]
        heads.add_trace(scatter(x=g["month"], y=g["headcount"], mode="lines+markers",
                                   name=f"{tier} headcount", line={"color": color},
                                   marker={"size": 4}))
        heads.add_trace(scatter(x=g["month"], y=[_plan(d, str(tier), int(m))
                                                    for m in g["month"]], mode="lines",
                                   name=f"{tier} plan", line={"color": color,
                                                              "dash": "dash",
                                                              "shape": "hvh"}))
        flows.add_trace(bar(x=g["month"], y=g["hires"], name=f"{tier} hires",
                               marker={"color": color}))
        flows.add_trace(bar(x=g["month"], y=-g["leavers"], name=f"{tier} leavers",
                               marker={"color": color}, opacity=0.4))
    _dip_bands(heads, dipped)
    _dip_bands(flows, dipped)
    layout(heads, "Headcount against the plan (expected heads)", "month", "heads")
    layout(flows, "Hires (up) and leavers (down) a month", "month", "heads a month",
           barmode="relative")
    span = [float(wf["month"].min()) - 0.5, float(wf["month"].max()) + 0.5]
    heads.update_xaxes(range=span)
    flows.update_xaxes(range=span)
    return [Chart(heads, "roadmap-workforce", height=320),
            Chart(flows, "roadmap-workforce-flows", height=260)]


def workforce_data(d: ReportData) -> dict | None:
    if d.workforce is None or d.workforce.empty:
        return None
    found = dips(d)
    dipped = dict(found)
    meta = d.meta.get("workforce") or {}
    simulated = [m for m in meta.get("simulated_months") or [] if m]
    coaching = [c for c in meta.get("coaching") or [] if isinstance(c, dict)]
    short = [c for c in coaching if float(c.get("hours", 0)) - float(
        c.get("taken_hours", 0)) > max(0.1 * float(c.get("hours", 0)), 5.0)]
    return {"table": workforce_table(d, dipped), "charts": workforce_charts(d, dipped),
            "dips": [f"month {m}: {what}" for m, what in found[:12]],
            "more_dips": max(len(found) - 12, 0), "simulated": simulated,
            "coaching_short": [f"month {c['month']}: {c['tier']} {c['taken_hours']:.0f} h "
                               f"of {c['hours']:.0f} h" for c in short[:6]]}
