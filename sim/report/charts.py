"""The charts of report.html (one function per chart; data from ReportData only), and
what every chart shares: the look, target lines, percent and weekday-clock axes, and the
safe figure spec the page embeds. Figures are plain plotly.js specs built with
sim/report/figures.py (the plotly Python package is not used).

Every chart has a title and axis titles with units; a target is a dashed horizontal line
with a "target ..." label, which the browser test looks for. Input strings (option,
channel, tier, phase names) reach plotly only through :meth:`Chart.spec`, which escapes
them for plotly's own text markup, so a name is shown as written and never as markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.report.data import ReportData, better_when_lower, limit_text, nan, short_variant, unit
from sim.report.figures import Figure, bar, scatter

COLORS = ["#1a73e8", "#e8710a", "#12b5cb", "#9334e6", "#188038", "#d01884", "#5f6368",
          "#f9ab00"]
TARGET_COLOR = "#c5221f"
GRID = "#e8eaed"
# Strings plotly reads as formats, not text: kept as written (all are ccsim's own).
_FORMAT_KEYS = {"hovertemplate", "texttemplate", "tickformat", "hoverformat", "xhoverformat",
                "yhoverformat", "tick0", "x0", "dtick"}


def plot_text(s: str) -> str:
    """A string as plotly shows it literally: plotly renders <b>, <br>, <a href> ... in
    titles, names, labels and hover text, and decodes &lt; &gt; &amp;."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_spec(obj: Any, key: str = "") -> Any:
    """Every string of a figure spec through :func:`plot_text`, except format strings."""
    if isinstance(obj, str):
        return obj if key in _FORMAT_KEYS else plot_text(obj)
    if isinstance(obj, dict):
        if {"dtype", "bdata"} <= set(obj):  # a typed array (numbers, base64)
            return obj
        return {k: escape_spec(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [escape_spec(v, key) for v in obj]
    return obj


@dataclass
class Chart:
    fig: Figure
    slug: str
    targets: int = 0       # target lines drawn (the browser test checks they render)
    height: int = 340

    def spec(self) -> dict:
        """{"data", "layout"} as plotly.js takes them, every input string escaped; the page
        embeds it as JSON (the template's tojson escapes <, >, & so no string can end the
        script element)."""
        self.fig.update_layout(height=self.height)
        return escape_spec(self.fig.to_dict())


def layout(fig: Figure, title: str, x: str, y: str, u: str = "", subtitle: str = "",
           **kw: object) -> None:
    t: dict = {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}}
    if subtitle:
        t["subtitle"] = {"text": subtitle, "font": {"size": 11}}
    fig.update_layout(**{
        "title": t, "template": "none",
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#3c4043"},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "margin": {"l": 64, "r": 20, "t": 64 if subtitle else 50, "b": 40},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0,
                   "font": {"size": 11}}, **kw})
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor="#bdc1c6", showline=True,
                     automargin=True)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor="#bdc1c6", showline=True,
                     automargin=True)
    if x:
        fig.update_layout(xaxis={"title": {"text": x}})
    if y:
        fig.update_layout(yaxis={"title": {"text": y}})
    if u == "%":
        fig.update_yaxes(tickformat=".0%")


def percent_format(lo: float, hi: float) -> str:
    """A tick format with enough decimals that ticks over [lo, hi] never repeat
    (62%, 61%, 61% on a 2-point range)."""
    span = abs(hi - lo) * 100
    step = span / 5 if span > 0 else 1.0
    return f".{max(0, min(3, math.ceil(-math.log10(step))))}%" if step < 1 else ".0%"


def target_line(fig: Figure, limit: float, text: str, u: str, scale: float = 1.0,
                row: int | None = None) -> int:
    """A dashed target line labelled "target ..." at its top right (in panel ``row``)."""
    fig.add_hline(limit / scale, {"dash": "dash", "color": TARGET_COLOR, "width": 1.5}, row,
                  annotation={"text": f"target {text} {limit_text(limit, u)}",
                              "font": {"color": TARGET_COLOR, "size": 11}})
    return 1


def bound(d: ReportData, metric: str) -> list[tuple[str, float]]:
    return [(b, lim) for m, b, lim in d.target_list() if m == metric]


def err(v: tuple[float, float, float]) -> tuple[float, float]:
    m, lo, hi = v
    return (0.0 if nan(hi) else hi - m, 0.0 if nan(lo) else m - lo)


def option_color(d: ReportData, key: tuple[str, str]) -> str:
    """One colour per option, the same in every chart."""
    opts = d.options
    return COLORS[(opts.index(key) if key in opts else 0) % len(COLORS)]


# --- occupancy and cost by option -----------------------------------------------------------

def occupancy(d: ReportData) -> Chart | None:
    tiers = [t for t in d.tiers() if d.in_use(t, "occupancy") or d.has(t, "occupancy")
             and any(d.value(k, t, "handled")[0] for k in d.headline)]
    if not tiers:
        return None
    fig = Figure()
    for key in d.headline:
        vals = [d.value(key, t, "occupancy") for t in tiers]
        errs = [err(v) for v in vals]
        fig.add_trace(bar(x=tiers, y=[v[0] for v in vals], name=d.label(key),
                          marker={"color": option_color(d, key)},
                          error_y={"type": "data", "symmetric": False,
                                   "array": [e[0] for e in errs],
                                   "arrayminus": [e[1] for e in errs]}))
    n = sum(target_line(fig, lim, f"{t} {'≤' if b == 'max' else '≥'}", "%")
            for t in tiers for b, lim in bound(d, f"{t}.occupancy"))
    layout(fig, "Occupancy by tier (mean, 95% CI)", "tier", "occupancy (%)", "%",
           barmode="group")
    fig.update_yaxes(range=[0, 1.1])
    return Chart(fig, "occupancy", n)


def cost_breakdown(d: ReportData) -> Chart | None:
    if not d.has("cost", "total"):
        return None
    labels = [d.label(k) for k in d.headline]
    fig = Figure()
    for i, (m, name) in enumerate([("labor", "labour"), ("bot", "bot"),
                                   ("overhead", "overhead")]):
        if d.has("cost", m):
            fig.add_trace(bar(x=labels, y=[d.value(k, "cost", m)[0] for k in d.headline],
                              name=name, marker={"color": ["#5f6368", "#12b5cb", "#bdc1c6"][i]}))
    for k, lab in zip(d.headline, labels, strict=True):
        share, total = d.value(k, "cost", "labor_share")[0], d.value(k, "cost", "total")[0]
        if not nan(share):
            fig.add_annotation(x=lab, y=total, text=f"labour {share * 100:.0f}%",
                               showarrow=False, yshift=10, font={"size": 11})
    hours = {d.horizon_h(k) for k in d.headline}
    span = f" ({hours.pop():g} h)" if len(hours) == 1 else ""
    layout(fig, "Cost breakdown over the horizon: labour / bot / overhead", "option",
           f"cost over the horizon{span} ({d.currency})", barmode="stack")
    fig.update_xaxes(type="category")
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
    default = ("realtime.service_level" if d.mixed_modes and d.has("realtime", "service_level")
               else "all.service_level", "min", math.nan)
    metric, b, lim = next((t for t in d.target_list() if not t[0].startswith("cost.")),
                          default)
    scope, name = metric.split(".", 1)
    u = unit(scope, name, d.currency)
    xs = [d.value(k, "cost", "total") for k in d.options]
    ys = [d.value(k, scope, name) for k in d.options]
    lower = b == "max" if not math.isnan(lim) else better_when_lower(name) is not False
    front = pareto([(x[0], y[0]) for x, y in zip(xs, ys, strict=True)], lower)
    status = [d.overall_status(k) or "n/a" for k in d.options]
    labels, legend = point_labels([k[1] for k in d.options])
    fig = Figure()
    for group, color in (("met", "#137333"), ("uncertain", "#b06000"), ("missed", "#9aa0a6"),
                         ("n/a", "#5f6368")):
        idx = [i for i, s in enumerate(status) if s == group]
        if not idx:
            continue
        fig.add_trace(scatter(
            x=[xs[i][0] for i in idx], y=[ys[i][0] for i in idx], mode="markers+text",
            name=f"all targets {group}" if group != "n/a" else "option",
            text=[labels[i] for i in idx], textposition="top center",
            textfont={"size": 9}, marker={"color": color, "size": 8},
            error_x={"type": "data", "symmetric": False, "array": [err(xs[i])[0] for i in idx],
                     "arrayminus": [err(xs[i])[1] for i in idx], "thickness": 1},
            error_y={"type": "data", "symmetric": False, "array": [err(ys[i])[0] for i in idx],
                     "arrayminus": [err(ys[i])[1] for i in idx], "thickness": 1}))
    fr = sorted((xs[i][0], ys[i][0]) for i in range(len(xs)) if front[i])
    fig.add_trace(scatter(x=[p[0] for p in fr], y=[p[1] for p in fr], mode="lines+markers",
                          name="Pareto frontier", line={"color": "#1a73e8", "width": 2},
                          marker={"symbol": "circle-open", "size": 16,
                                  "line": {"width": 2, "color": "#1a73e8"}}))
    n = target_line(fig, lim, f"{metric} {'≤' if b == 'max' else '≥'}", u) \
        if not math.isnan(lim) else 0
    hours = {d.horizon_h(k) for k in d.options}
    span = f" ({hours.pop():g} h)" if len(hours) == 1 else ""
    layout(fig, f"Cost vs service: {metric} against total cost (mean, 95% CI)",
           f"total cost over the horizon{span} ({d.currency})", f"{metric} ({u})", u,
           subtitle=f"points labelled {legend}" if legend else "")
    if u == "%":
        fig.update_yaxes(tickformat=percent_format(*_span(ys)))
    return Chart(fig, "frontier", n, height=460)


def _span(vals: list[tuple[float, float, float]]) -> tuple[float, float]:
    xs = [x for v in vals for x in v if not nan(x)]
    return (min(xs), max(xs)) if xs else (0.0, 1.0)


# --- optimize: staffing by interval -------------------------------------------------------

def staffing_by_interval(d: ReportData) -> Chart | None:
    st = d.staffing
    if st is None or st.empty or set(st["interval"].astype(str)) == {"all"}:
        return None
    fig = Figure()
    for i, (tier, g) in enumerate(st.groupby("tier", sort=False)):
        fig.add_trace(scatter(x=g["interval"].astype(str), y=g["agents"], mode="lines",
                              name=str(tier), line={"shape": "hv",
                                                    "color": COLORS[i % len(COLORS)]}))
    layout(fig, "Optimized staffing by interval", "interval (weekday and clock time)",
           "agents scheduled (agents)")
    fig.update_xaxes(type="category", nticks=14)
    return Chart(fig, "staffing")
