"""The roadmap part of report.html: KPIs by phase against targets, monthly cost against the
baseline, cumulative net savings with the payback month and its range (roadmap.csv and the
scope ``roadmap`` rows of summary.csv)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from sim.report_charts import COLORS, TARGET_COLOR, Chart, layout, target_line
from sim.report_data import ReportData, fmt, nan, unit
from sim.report_tables import esc, table


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


def payback_sentence(d: ReportData) -> str:
    if d.roadmap is None or d.roadmap.empty:
        return ("<p class=lead><span class=missed>No roadmap economics in this folder"
                "</span> (roadmap.csv is missing: was the run interrupted?).</p>")
    m, lo, hi = payback(d)
    months = len(d.roadmap)
    roi = roadmap_value(d, "roi")[0]
    rng = "" if (nan(lo) and nan(hi)) or lo == hi == m else (
        f" (range {month(lo)}–{month(hi) if not nan(hi) else 'not within the roadmap'})")
    txt = (f"Pays back in month <b>{month(m)}</b>{rng}" if not nan(m) else
           f"<span class=missed>Does not pay back within {months or 'the'} months</span>")
    return (f"<p class=lead>{txt}" + (f"; ROI {roi * 100:.0f}%" if not nan(roi) else "")
            + ".</p>")


def _changes(overrides: dict) -> str:
    """A phase's overrides, one per line; long values (shift lists) only named."""
    out = []
    for k, v in overrides.items():
        if isinstance(v, list | dict):
            text = ", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) \
                else ""
            if not text or len(text) > 60 or any(isinstance(b, list | dict) for b in (
                    v.values() if isinstance(v, dict) else v)):
                n = len(v)
                out.append(f"{esc(str(k))} <span class=muted>(new: {n} "
                           f"{'entries' if n != 1 else 'entry'})</span>")
                continue
            v = "{" + text + "}"
        out.append(f"{esc(str(k))} = {esc(str(v))}")
    return "<br>".join(out)


def roadmap_html(d: ReportData) -> str:
    phases = d.meta.get("phases") or []
    rm = d.roadmap
    changes = {str(p.get("name")): p.get("set") or {}
               for p in (d.roadmap_spec or {}).get("phases") or [] if isinstance(p, dict)}
    rows = []
    for p in phases:
        name = str(p.get("name", ""))
        months = ""
        if rm is not None and not rm.empty and "phase" in rm:
            mm = rm[rm["phase"] == name]["month"]
            months = f"{int(mm.min())}–{int(mm.max())}" if not mm.empty else ""
        rows.append([esc(name), esc(str(p.get("months", ""))), months,
                     fmt(p.get("investment", math.nan), d.currency)]
                    + ([f"<td class=changes>{_changes(changes.get(name, {}))}</td>"]
                       if changes else []))
    out = payback_sentence(d)
    if rows:
        out += table(["phase", "months", "roadmap months", "investment"]
                     + (["changes"] if changes else []), rows, "phases")
    ramp = len(d.options) - len(d.headline)
    if ramp:
        out += (f"<p class=note>{ramp} ramp point(s) inside phases were simulated too; the "
                "targets and KPI tables below list them (phase@month).</p>")
    if rm is not None and not rm.empty:
        last = rm.iloc[-1]
        out += (f"<p class=note>Over {len(rm)} months: investment "
                f"{fmt(rm['investment'].sum(), d.currency)}, net savings "
                f"{fmt(rm['net_savings'].sum(), d.currency)}, cumulative net "
                f"{fmt(last['cumulative_net'], d.currency)}.</p>")
    return out


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
        fig = go.Figure(go.Scatter(
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
        charts.append(Chart(fig, f"phase-{metric}", n, height=280))
    return charts


def _phase_bands(fig: go.Figure, d: ReportData) -> None:
    rm = d.roadmap
    for i, (phase, g) in enumerate(rm.groupby("phase", sort=False)):
        fig.add_vrect(x0=g["month"].min() - 0.5, x1=g["month"].max() + 0.5, line_width=0,
                      fillcolor=COLORS[i % len(COLORS)], opacity=0.06, layer="below",
                      annotation_text=str(phase), annotation_position="top left",
                      annotation_font_size=10)


def monthly_cost(d: ReportData) -> Chart:
    rm = d.roadmap
    fig = go.Figure()
    fig.add_trace(go.Bar(x=rm["month"], y=rm["operating_cost"], name="operating cost",
                         marker_color=COLORS[0]))
    fig.add_trace(go.Bar(x=rm["month"], y=rm["investment"], name="investment",
                         marker_color=COLORS[1]))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["baseline_operating_cost"], mode="lines",
                             name="baseline operating cost",
                             line={"color": "#202124", "dash": "dash", "shape": "hvh"}))
    _phase_bands(fig, d)
    layout(fig, "Monthly cost vs baseline", "month", f"cost per month ({d.currency})",
           barmode="stack")
    fig.update_xaxes(range=[rm["month"].min() - 0.5, rm["month"].max() + 0.5])
    return Chart(fig, "roadmap-cost")


def cumulative(d: ReportData) -> Chart:
    rm = d.roadmap
    fig = go.Figure()
    if {"cumulative_net_low", "cumulative_net_high"} <= set(rm.columns):
        fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net_high"], mode="lines",
                                 line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net_low"], mode="lines",
                                 line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(26,115,232,0.18)", name="range (low–high)"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net"], mode="lines+markers",
                             name="cumulative net savings", line={"color": COLORS[0]},
                             marker={"size": 4}))
    fig.add_hline(y=0, line_color="#5f6368", line_width=1)
    m, lo, hi = payback(d)
    x0 = rm["month"].min() if nan(lo) else lo
    x1 = rm["month"].max() if nan(hi) else hi
    if not (nan(lo) and nan(hi)) and x1 > x0:
        fig.add_vrect(x0=x0, x1=x1, fillcolor="#f9ab00", opacity=0.15, line_width=0,
                      layer="below", annotation_text="payback range",
                      annotation_position="bottom left", annotation_font_size=10)
    if not nan(m):
        fig.add_vline(x=m, line_dash="dot", line_color=TARGET_COLOR,
                      annotation_text=f"payback month {month(m)}",
                      annotation_position="top left", annotation_font_color=TARGET_COLOR)
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
