"""The roadmap part of report.html: KPIs by phase against targets, monthly cost against the
baseline, cumulative net savings with the payback month and its range (roadmap.csv and the
scope ``roadmap`` rows of summary.csv)."""

from __future__ import annotations

import math

from sim.report.charts import COLORS, TARGET_COLOR, Chart, layout, percent_format, target_line
from sim.report.data import ReportData, fmt, nan, unit
from sim.report.figures import Figure, band, bar, scatter
from sim.report.glance import changes
from sim.report.parts import Cell, Table
from sim.report.workforce import workforce_data


def roadmap_value(d: ReportData, metric: str) -> tuple[float, float, float]:
    s = d.summary
    if s.empty:
        return (math.nan,) * 3
    m = s[(s["scope"] == "roadmap") & (s["metric"] == metric)]
    if m.empty:
        return (math.nan,) * 3
    r = m.iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def payback(d: ReportData) -> tuple[float, float, float]:
    """(payback month, low, high): the range from payback_month_low/high, else the CI."""
    m, lo, hi = roadmap_value(d, "payback_month")
    low, high = roadmap_value(d, "payback_month_low")[0], roadmap_value(d, "payback_month_high")[0]
    lo, hi = (lo if nan(low) else low), (hi if nan(high) else high)
    return (m, min(lo, hi), max(lo, hi)) if not (nan(lo) or nan(hi)) else (m, lo, hi)


def month(x: float) -> str:
    return "–" if nan(x) else f"{x:g}"


def payback_data(d: ReportData) -> dict:
    """What the lead sentence says: paid back in month m (range lo-hi) or not, and ROI."""
    if d.roadmap is None or d.roadmap.empty:
        return {"economics": False}
    m, lo, hi = payback(d)
    roi = roadmap_value(d, "roi")[0]
    rng = "" if (nan(lo) and nan(hi)) or lo == hi == m else (
        f"{month(lo)}–{month(hi) if not nan(hi) else 'not within the roadmap'}")
    return {"economics": True, "paid_back": not nan(m), "month": month(m), "range": rng,
            "months": len(d.roadmap), "roi": "" if nan(roi) else f"{roi * 100:.0f}%"}


def roadmap_data(d: ReportData) -> dict:
    phases = d.meta.get("phases") or []
    rm = d.roadmap
    sets = {str(p.get("name")): p.get("set") or {}
            for p in (d.roadmap_spec or {}).get("phases") or [] if isinstance(p, dict)}
    rows = []
    for p in phases:
        name = str(p.get("name", ""))
        months = ""
        if rm is not None and not rm.empty and "phase" in rm:
            mm = rm[rm["phase"] == name]["month"]
            months = f"{int(mm.min())}–{int(mm.max())}" if not mm.empty else ""
        rows.append([name, str(p.get("months", "")), months,
                     fmt(p.get("investment", math.nan), d.currency)]
                    + ([Cell(lines=changes(sets.get(name, {})), cls="changes")] if sets else []))
    table = Table.of(["phase", "months", "roadmap months", "investment"]
                     + (["changes"] if sets else []), rows, "phases") if rows else None
    totals = None
    if rm is not None and not rm.empty:
        totals = {"months": len(rm), "investment": fmt(rm["investment"].sum(), d.currency),
                  "net": fmt(rm["net_savings"].sum(), d.currency),
                  "cumulative": fmt(rm.iloc[-1]["cumulative_net"], d.currency)}
    small, money = roadmap_charts(d)
    planned = sum(1 for k in d.options if k[1].endswith("~plan"))
    return {"payback": payback_data(d), "table": table, "totals": totals,
            "ramp": len(d.options) - len(d.headline) - planned, "charts": money,
            "phase_charts": small, "workforce": workforce_data(d), "planned": planned}


def kpis_by_phase(d: ReportData) -> list[Chart]:
    charts = []
    order = d.headline
    for metric in dict.fromkeys(m for m, _, _ in d.target_list()):
        scope, name = metric.split(".", 1)
        u = unit(scope, name, d.currency)
        vals = [d.value(k, scope, name) for k in order]
        status = [d.targets[(d.targets["variant"] == k[1]) & (d.targets["metric"] == metric)]
                  ["status"] for k in order]
        colors = [{"met": "#137333", "missed": "#c5221f", "uncertain": "#b06000"}.get(
            s.iloc[0] if len(s) else "", "#5f6368") for s in status]
        fig = Figure(scatter(
            x=[d.label(k) for k in order], y=[v[0] for v in vals], mode="markers+lines",
            name=metric, line={"color": "#9aa0a6", "width": 1},
            marker={"size": 10, "color": colors},
            error_y={"type": "data", "symmetric": False,
                     "array": [0 if nan(v[2]) else v[2] - v[0] for v in vals],
                     "arrayminus": [0 if nan(v[1]) else v[0] - v[1] for v in vals]}))
        n = sum(target_line(fig, lim, "≤" if b == "max" else "≥", u)
                for m, b, lim in d.target_list() if m == metric)
        layout(fig, f"{metric} by phase", "phase", f"{metric} ({u or 'value'})", u,
               showlegend=False)
        fig.update_xaxes(type="category")
        if u == "%":
            ends = [x for v in vals for x in v if not nan(x)] + [lim for m, _, lim in
                                                                 d.target_list() if m == metric]
            if ends:
                fig.update_yaxes(tickformat=percent_format(min(ends), max(ends)))
        charts.append(Chart(fig, f"phase-{metric}", n, height=280))
    return charts


def _phase_bands(fig: Figure, d: ReportData, width_px: float = 560.0) -> int:
    """A shaded band per phase, its name above the plot at the band's centre; a name that
    would run into its left neighbour's (at ``width_px`` of plot, a printed page) moves up
    a row. Returns the rows used."""
    rm = d.roadmap
    lo, hi = rm["month"].min() - 0.5, rm["month"].max() + 0.5
    px = width_px / max(hi - lo, 1)
    ends: list[float] = []   # right edge (px) of the last name on each row
    for i, (phase, g) in enumerate(rm.groupby("phase", sort=False)):
        x0, x1 = g["month"].min() - 0.5, g["month"].max() + 0.5
        fig.add_vrect(x0, x1, line={"width": 0}, fillcolor=COLORS[i % len(COLORS)],
                      opacity=0.07, layer="below")
        centre, w = (x0 + x1) / 2, 6.5 * len(str(phase)) + 10
        left = (centre - lo) * px - w / 2
        row = next((r for r, end in enumerate(ends) if left > end), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = left + w
        fig.add_annotation(x=centre, xref="x", y=1, yref="paper", yanchor="bottom",
                           yshift=2 + 15 * row, text=str(phase), showarrow=False,
                           font={"size": 11, "color": "#3c4043"})
    return len(ends)


def monthly_cost(d: ReportData) -> Chart:
    rm = d.roadmap
    fig = Figure()
    fig.add_trace(bar(x=rm["month"], y=rm["operating_cost"], name="operating cost",
                      marker={"color": COLORS[0]}))
    fig.add_trace(bar(x=rm["month"], y=rm["investment"], name="investment",
                      marker={"color": COLORS[1]}))
    fig.add_trace(scatter(x=rm["month"], y=rm["baseline_operating_cost"], mode="lines",
                          name="baseline operating cost",
                          line={"color": "#202124", "dash": "dash", "shape": "hvh"}))
    rows = _phase_bands(fig, d)
    layout(fig, "Monthly cost vs baseline", "month", f"cost per month ({d.currency})",
           barmode="stack")
    fig.update_layout(margin={"t": 56 + 15 * rows})
    fig.update_xaxes(range=[rm["month"].min() - 0.5, rm["month"].max() + 0.5])
    return Chart(fig, "roadmap-cost", height=340 + 15 * rows)


def cumulative(d: ReportData) -> Chart:
    rm = d.roadmap
    fig = Figure()
    if {"cumulative_net_low", "cumulative_net_high"} <= set(rm.columns):
        for t in band(rm["month"], rm["cumulative_net_low"], rm["cumulative_net_high"],
                      "rgba(26,115,232,0.18)", "range (low–high)"):
            fig.add_trace(t)
    fig.add_trace(scatter(x=rm["month"], y=rm["cumulative_net"], mode="lines+markers",
                          name="cumulative net savings", line={"color": COLORS[0]},
                          marker={"size": 4}))
    fig.add_hline(0, {"color": "#5f6368", "width": 1})
    m, lo, hi = payback(d)
    x0 = rm["month"].min() if nan(lo) else lo
    x1 = rm["month"].max() if nan(hi) else hi
    if not (nan(lo) and nan(hi)) and x1 > x0:
        fig.add_vrect(x0, x1, fillcolor="#f9ab00", opacity=0.15, line={"width": 0},
                      layer="below", annotation={"text": "payback range",
                                                 "font": {"size": 10}})
    if not nan(m):
        fig.add_vline(m, {"dash": "dot", "color": TARGET_COLOR},
                      annotation={"text": f"payback month {month(m)}",
                                  "font": {"color": TARGET_COLOR}})
    layout(fig, "Cumulative net savings and payback", "month",
           f"cumulative net savings ({d.currency})")
    fig.update_xaxes(range=[rm["month"].min() - 0.5, rm["month"].max() + 0.5])
    return Chart(fig, "roadmap-cumulative")


def roadmap_charts(d: ReportData) -> tuple[list[Chart], list[Chart]]:
    """(small charts of KPIs by phase, the money charts)."""
    money = []
    if d.roadmap is not None and not d.roadmap.empty:
        money = [cumulative(d), monthly_cost(d)]
    return kpis_by_phase(d), money
