"""The plotly charts of report.html (one function per chart; data from ReportData only).

Every chart has a title and axis titles with units; a target is a dashed horizontal line
with a "target ..." label, which the browser test looks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

from sim.report_data import ReportData, better_when_lower, limit_text, nan, short_variant, unit

COLORS = ["#1a73e8", "#e8710a", "#12b5cb", "#9334e6", "#188038", "#d01884", "#5f6368",
          "#f9ab00"]
DASHES = ["solid", "dot", "dash", "dashdot", "longdash", "longdashdot"]
TARGET_COLOR = "#c5221f"
MAX_VISIBLE_OPTIONS = 4  # more options in a line chart start hidden (click the legend)


@dataclass
class Chart:
    fig: go.Figure
    slug: str
    targets: int = 0       # target lines drawn (the browser test checks they render)
    height: int = 340


def layout(fig: go.Figure, title: str, x: str, y: str, u: str = "", **kw: object) -> None:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        xaxis_title=x, yaxis_title=y, template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 40}, hovermode="closest",
        legend={"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0,
                "font": {"size": 11}}, **kw)
    if u == "%":
        fig.update_yaxes(tickformat=".0%")


def target_line(fig: go.Figure, limit: float, text: str, u: str) -> int:
    fig.add_hline(y=limit, line_dash="dash", line_color=TARGET_COLOR, line_width=1.5,
                  annotation_text=f"target {text} {limit_text(limit, u)}",
                  annotation_position="top right", annotation_font_color=TARGET_COLOR,
                  annotation_font_size=11)
    return 1


def _bound(d: ReportData, metric: str) -> list[tuple[str, float]]:
    return [(b, lim) for m, b, lim in d.target_list() if m == metric]


def _err(v: tuple[float, float, float]) -> tuple[float, float]:
    m, lo, hi = v
    return (0.0 if nan(hi) else hi - m, 0.0 if nan(lo) else m - lo)


# --- a run: by interval, occupancy, cost --------------------------------------------------

def by_interval(d: ReportData, column: str, title: str, ytitle: str, u: str) -> Chart | None:
    iv = d.intervals
    if iv.empty or column not in iv or iv[column].isna().all():
        return None
    fig = go.Figure()
    opts = [k for k in d.headline if ((iv["scenario"] == k[0]) & (iv["variant"] == k[1])).any()]
    channels = d.channels() or list(dict.fromkeys(iv["channel"]))
    for oi, key in enumerate(opts):
        mine = iv[(iv["scenario"] == key[0]) & (iv["variant"] == key[1])]
        for ci, ch in enumerate(channels):
            df = mine[mine["channel"] == ch]
            if df.empty:
                continue
            fig.add_trace(go.Scatter(
                x=df["start_h"], y=df[column], mode="lines", name=f"{ch} · {d.label(key)}",
                line={"color": COLORS[ci % len(COLORS)], "dash": DASHES[oi % len(DASHES)],
                      "width": 2 if oi == 0 else 1.5},
                visible=True if oi < MAX_VISIBLE_OPTIONS else "legendonly"))
    n = 0
    metric = "service_level" if column == "service_level" else column
    for scope in ["all", *channels]:
        for b, lim in _bound(d, f"{scope}.{metric}"):
            n += target_line(fig, lim, f"{scope} {'≤' if b == 'max' else '≥'}", u)
    layout(fig, title, "hour of the measured horizon (h)", ytitle, u)
    if u == "%":
        fig.update_yaxes(range=[0, 1.05])
    return Chart(fig, f"interval-{column}", n)


def agents_by_interval(d: ReportData) -> Chart | None:
    iv = d.intervals
    cols = [c for c in iv.columns if c.startswith("agents_")] if not iv.empty else []
    varying = [k for k in d.headline if any(
        iv[(iv["scenario"] == k[0]) & (iv["variant"] == k[1])][c].nunique() > 1 for c in cols)]
    if not varying:
        return None
    key = varying[0]
    mine = iv[(iv["scenario"] == key[0]) & (iv["variant"] == key[1])]
    mine = mine[mine["channel"] == mine["channel"].iloc[0]]
    fig = go.Figure()
    for i, c in enumerate(cols):
        fig.add_trace(go.Scatter(x=mine["start_h"], y=mine[c], mode="lines", name=c[7:],
                                 line={"shape": "hv", "color": COLORS[i % len(COLORS)]}))
    layout(fig, f"Agents on queue by interval ({d.label(key)})",
           "hour of the measured horizon (h)", "agents on queue (agents)")
    return Chart(fig, "interval-agents")


def occupancy(d: ReportData) -> Chart | None:
    tiers = [t for t in d.tiers() if d.has(t, "occupancy")]
    if not tiers:
        return None
    fig = go.Figure()
    for i, key in enumerate(d.headline):
        vals = [d.value(key, t, "occupancy") for t in tiers]
        errs = [_err(v) for v in vals]
        fig.add_trace(go.Bar(x=tiers, y=[v[0] for v in vals], name=d.label(key),
                             marker_color=COLORS[i % len(COLORS)],
                             error_y={"type": "data", "symmetric": False,
                                      "array": [e[0] for e in errs],
                                      "arrayminus": [e[1] for e in errs]}))
    n = sum(target_line(fig, lim, f"{t} {'≤' if b == 'max' else '≥'}", "%")
            for t in tiers for b, lim in _bound(d, f"{t}.occupancy"))
    layout(fig, "Occupancy by tier (mean, 95% CI)", "tier", "occupancy (%)", "%",
           barmode="group")
    fig.update_yaxes(range=[0, 1.1])
    return Chart(fig, "occupancy", n)


def cost_breakdown(d: ReportData) -> Chart | None:
    if not d.has("cost", "total"):
        return None
    labels = [d.label(k) for k in d.headline]
    fig = go.Figure()
    for i, (m, name) in enumerate([("labor", "labour"), ("bot", "bot"),
                                   ("overhead", "overhead")]):
        if d.has("cost", m):
            fig.add_trace(go.Bar(x=labels, y=[d.value(k, "cost", m)[0] for k in d.headline],
                                 name=name, marker_color=COLORS[i]))
    for k, lab in zip(d.headline, labels, strict=True):
        share, total = d.value(k, "cost", "labor_share")[0], d.value(k, "cost", "total")[0]
        if not nan(share):
            fig.add_annotation(x=lab, y=total, text=f"labour {share * 100:.0f}%",
                               showarrow=False, yshift=10, font={"size": 11})
    hours = {d.horizon_h(k) for k in d.headline}
    span = f" ({hours.pop():g} h)" if len(hours) == 1 else ""
    layout(fig, "Cost breakdown over the horizon: labour / bot / overhead", "option",
           f"cost over the horizon{span} ({d.currency})", barmode="stack")
    return Chart(fig, "cost")


# --- sweep: cost vs service frontier --------------------------------------------------------

def point_labels(variants: list[str]) -> tuple[list[str], str]:
    """Sweep points labelled by their values ("30/20") when they share the same paths, with
    the paths as a legend ("base.agents/advanced.agents"); else by their short names."""
    split = [[p.partition("=") for p in v.split(";")] for v in variants]
    paths = {tuple(x[0] for x in s) for s in split}
    if len(paths) == 1 and all(x[1] for s in split for x in s):
        legend = "/".join(".".join(p.split(".")[-2:]) for p in next(iter(paths)))
        return ["/".join(x[2] for x in s) for s in split], legend
    return [short_variant(v) for v in variants], ""


def pareto(points: list[tuple[float, float]], lower_better: bool) -> list[bool]:
    """Points no other point beats on both cost (lower) and service."""
    def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
        ya, yb = (a[1], b[1]) if lower_better else (-a[1], -b[1])
        return a[0] <= b[0] and ya <= yb and (a[0] < b[0] or ya < yb)
    ok = [not (math.isnan(p[0]) or math.isnan(p[1])) for p in points]
    return [ok[i] and not any(ok[j] and beats(points[j], p) for j in range(len(points)) if j != i)
            for i, p in enumerate(points)]


def frontier(d: ReportData) -> Chart | None:
    if not d.options or not d.has("cost", "total"):
        return None
    metric, b, lim = next((t for t in d.target_list() if not t[0].startswith("cost.")),
                          ("all.service_level", "min", math.nan))
    scope, name = metric.split(".", 1)
    u = unit(scope, name, d.currency)
    xs = [d.value(k, "cost", "total") for k in d.options]
    ys = [d.value(k, scope, name) for k in d.options]
    lower = b == "max" if not math.isnan(lim) else better_when_lower(name) is not False
    front = pareto([(x[0], y[0]) for x, y in zip(xs, ys, strict=True)], lower)
    status = [d.overall_status(k) or "n/a" for k in d.options]
    labels, legend = point_labels([k[1] for k in d.options])
    fig = go.Figure()
    for group, color in (("met", "#137333"), ("uncertain", "#b06000"), ("missed", "#9aa0a6"),
                         ("n/a", "#5f6368")):
        idx = [i for i, s in enumerate(status) if s == group]
        if not idx:
            continue
        fig.add_trace(go.Scatter(
            x=[xs[i][0] for i in idx], y=[ys[i][0] for i in idx], mode="markers+text",
            name=f"all targets {group}" if group != "n/a" else "option",
            text=[labels[i] for i in idx], textposition="top center",
            textfont={"size": 9}, marker={"color": color, "size": 8},
            error_x={"type": "data", "symmetric": False, "array": [_err(xs[i])[0] for i in idx],
                     "arrayminus": [_err(xs[i])[1] for i in idx], "thickness": 1},
            error_y={"type": "data", "symmetric": False, "array": [_err(ys[i])[0] for i in idx],
                     "arrayminus": [_err(ys[i])[1] for i in idx], "thickness": 1}))
    fr = sorted((xs[i][0], ys[i][0]) for i in range(len(xs)) if front[i])
    fig.add_trace(go.Scatter(x=[p[0] for p in fr], y=[p[1] for p in fr], mode="lines+markers",
                             name="Pareto frontier", line={"color": "#1a73e8", "width": 2},
                             marker={"symbol": "circle-open", "size": 16,
                                     "line": {"width": 2, "color": "#1a73e8"}}))
    n = target_line(fig, lim, f"{metric} {'≤' if b == 'max' else '≥'}", u) \
        if not math.isnan(lim) else 0
    hours = {d.horizon_h(k) for k in d.options}
    span = f" ({hours.pop():g} h)" if len(hours) == 1 else ""
    layout(fig, f"Cost vs service: {metric} against total cost (mean, 95% CI)"
           + (f"<br><sup>points labelled {legend}</sup>" if legend else ""),
           f"total cost over the horizon{span} ({d.currency})", f"{metric} ({u})", u)
    return Chart(fig, "frontier", n, height=460)


# --- optimize: staffing by interval -------------------------------------------------------

def staffing_by_interval(d: ReportData) -> Chart | None:
    st = d.staffing
    if st is None or st.empty or set(st["interval"].astype(str)) == {"all"}:
        return None
    fig = go.Figure()
    for i, (tier, g) in enumerate(st.groupby("tier", sort=False)):
        fig.add_trace(go.Scatter(x=g["interval"].astype(str), y=g["agents"], mode="lines",
                                 name=str(tier), line={"shape": "hv",
                                                       "color": COLORS[i % len(COLORS)]}))
    layout(fig, "Optimized staffing by interval", "interval", "agents scheduled (agents)")
    fig.update_xaxes(type="category", nticks=24)
    return Chart(fig, "staffing")


def run_charts(d: ReportData) -> list[Chart]:
    iv = d.intervals
    queue = ("mean_queue_length", "Queue length by interval", "contacts waiting (contacts)",
             "contacts") if not iv.empty and "mean_queue_length" in iv else (
        "asa_s", "Average speed of answer by interval", "ASA, mean wait answered (s)", "s")
    charts = [by_interval(d, "service_level", "Service level by interval",
                          "service level (%)", "%"),
              by_interval(d, *queue), agents_by_interval(d), occupancy(d), cost_breakdown(d)]
    return [c for c in charts if c is not None]
