"""The uncertainty part of report.html (SPEC §7.6): payback in plain words with its
probability, the payback-probability curve, a fan chart of the cumulative net, a tornado
chart of the inputs that move payback (or the first target) most, P(met) per target and
phase / option, and where the spread comes from (inputs vs simulation noise).

Data: the folder's uncertainty.csv, sensitivity.csv, variance.csv, targets.csv (p_met)
and roadmap.csv (p_paid_back, cumulative_net_p10/p50/p90). Hooked into sim/report.py by
one call, :func:`uncertainty_sections`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from sim.report_charts import COLORS, TARGET_COLOR, Chart, layout
from sim.report_data import ReportData
from sim.report_tables import esc

Section = tuple[str, str, str]


def _csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path) if path.is_file() else None
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def _p(p: float, lo: float, hi: float) -> str:
    return "–" if not math.isfinite(p) else f"{p:.2f} ({lo:.2f}–{hi:.2f})"


def _row(d: ReportData, metric: str) -> tuple[float, float, float]:
    s = d.summary
    m = s[(s["scope"] == "roadmap") & (s["metric"] == metric)]
    if m.empty:
        return math.nan, math.nan, math.nan
    r = m.iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def _month(x: float, horizon: int) -> str:
    return f"month {x:.0f}" if math.isfinite(x) else f"not within {horizon} months"


def payback_html(d: ReportData) -> str:
    """The lead sentence: probability of payback, its quantiles, and the end state."""
    horizon = int(_row(d, "horizon_months")[0]) if math.isfinite(
        _row(d, "horizon_months")[0]) else len(d.roadmap or [])
    p = _row(d, "p_payback_within_horizon")
    q = [_row(d, f"payback_month_p{k}")[0] for k in (10, 50, 90)]
    text = (f"Pays back within {horizon} months with probability <b>{_p(*p)}</b>")
    if math.isfinite(q[1]):
        text += (f"; median payback <b>{_month(q[1], horizon)}</b>, 80% of draws between "
                 f"{_month(q[0], horizon)} and {_month(q[2], horizon)}")
    rm = d.roadmap
    marks = []
    if rm is not None and "p_paid_back" in rm:
        by = rm.set_index("month")
        marks = [f"by month {m}: {_p(by.loc[m, 'p_paid_back'], by.loc[m, 'p_paid_back_low'], by.loc[m, 'p_paid_back_high'])}"  # noqa: E501
                 for m in range(12, horizon + 1, 12) if m in by.index]
    roi = [_row(d, f"roi_p{k}")[0] for k in (10, 50, 90)]
    npv = _row(d, "npv_p50")[0]
    facts = []
    if marks:
        facts.append("Probability of having paid back " + "; ".join(marks) + ".")
    if all(math.isfinite(x) for x in roi):
        facts.append(f"ROI over {horizon} months: median {roi[1]:+.0%}, 80% of draws "
                     f"{roi[0]:+.0%} to {roi[2]:+.0%}; NPV median {npv:,.0f} "
                     f"{esc(d.currency)}.")
    facts.append(_end_state(d))
    return (f"<p class=lead>{text}.</p><ul class=facts>"
            + "".join(f"<li>{f}</li>" for f in facts if f) + "</ul>"
            "<p class=note>A probability here is the share of the draws of the uncertain "
            "inputs (each draw simulated with the same customers) that pay back; the "
            "interval is a 95% Wilson interval for that share, i.e. how well the draws "
            "pin it down. It is only as good as the input ranges: it is not the chance "
            "that the plan succeeds in the real world.</p>")


def _end_state(d: ReportData) -> str:
    t = d.targets
    if t is None or t.empty or d.roadmap_spec is None:
        return ""
    phases = [p.get("name") for p in d.roadmap_spec.get("phases", []) if isinstance(p, dict)]
    last = t[t["variant"] == (phases[-1] if phases else "")]
    if last.empty:
        return ""
    missed = last[last["status"] != "met"]
    if missed.empty:
        return f"The end state ({esc(str(phases[-1]))}) meets all its targets."
    items = ", ".join(f"{esc(str(m))} (P(met) {_p(a, b, c)})" for m, a, b, c in zip(
        missed["metric"], missed.get("p_met", [math.nan] * len(missed)),
        missed.get("p_low", [math.nan] * len(missed)),
        missed.get("p_high", [math.nan] * len(missed)), strict=True))
    return (f"<span class=missed>But the end state ({esc(str(phases[-1]))}) is not sure "
            f"to meet {len(missed)} of {len(last)} targets</span>: {items}.")


def payback_curve(d: ReportData) -> Chart | None:
    rm = d.roadmap
    if rm is None or "p_paid_back" not in rm:
        return None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["p_paid_back_high"], mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["p_paid_back_low"], mode="lines",
                             line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(26,115,232,0.18)", name="95% interval"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["p_paid_back"], mode="lines",
                             line={"color": COLORS[0], "shape": "hv"},
                             name="P(paid back by month)"))
    layout(fig, "Probability of having paid back, by month", "month",
           "share of draws paid back", "%")
    fig.update_yaxes(range=[0, 1.02])
    return Chart(fig, "uncertainty-payback-probability")


def fan_chart(d: ReportData) -> Chart | None:
    rm = d.roadmap
    if rm is None or "cumulative_net_p10" not in rm:
        return None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net_p90"], mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net_p10"], mode="lines",
                             line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(232,113,10,0.22)", name="10%–90% of draws"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net_p50"], mode="lines",
                             line={"color": COLORS[1]}, name="median draw"))
    fig.add_trace(go.Scatter(x=rm["month"], y=rm["cumulative_net"], mode="lines",
                             line={"color": COLORS[0], "dash": "dot"}, name="mean"))
    fig.add_hline(y=0, line_color="#5f6368", line_width=1)
    layout(fig, "Cumulative net savings over the draws (fan chart)", "month",
           f"cumulative net savings ({d.currency})")
    return Chart(fig, "uncertainty-fan")


def tornado(sens: pd.DataFrame, output: str, what: str, top: int = 8) -> Chart | None:
    s = sens[(sens["output"] == output)].dropna(subset=["output_at_low", "output_at_high"])
    s = s.head(top).iloc[::-1]
    if s.empty:
        return None
    mid = float(pd.concat([s["output_at_low"], s["output_at_high"]]).mean())
    fig = go.Figure()
    labels = [f"{p} (ρ {r:+.2f})" if math.isfinite(r) else str(p)
              for p, r in zip(s["parameter"], s["rank_correlation"], strict=True)]
    for col, name, colour in (("output_at_low", "input in its lowest tenth", COLORS[0]),
                              ("output_at_high", "input in its highest tenth", COLORS[1])):
        fig.add_trace(go.Bar(y=labels, x=s[col] - mid, base=mid, orientation="h", name=name,
                             marker_color=colour,
                             hovertemplate="%{y}: %{customdata:.4g}<extra></extra>",
                             customdata=s[col]))
    fig.add_vline(x=mid, line_color=TARGET_COLOR, line_width=1)
    layout(fig, f"What moves {what} most (tornado)", what, "", barmode="overlay")
    return Chart(fig, "uncertainty-tornado", height=max(260, 60 + 34 * len(s)))


def p_met_html(targets: pd.DataFrame, what: str) -> str:
    if targets is None or targets.empty or "p_met" not in targets:
        return ""
    cols = list(dict.fromkeys(targets["variant"]))
    head = "".join(f"<th>{esc(str(c))}</th>" for c in cols)
    rows = []
    keys = list(dict.fromkeys(zip(targets["metric"], targets["bound"], targets["limit"],
                                  strict=True)))
    for metric, bound, limit in keys:
        cells = []
        for c in cols:
            g = targets[(targets["variant"] == c) & (targets["metric"] == metric)
                        & (targets["limit"] == limit)]
            if g.empty:
                cells.append("<td>–</td>")
                continue
            x = g.iloc[0]
            cls = "met" if x["p_low"] >= 0.9 else ("missed" if x["p_high"] <= 0.1
                                                   else "uncertain")
            cells.append(f"<td class='st {cls}'>{_p(x['p_met'], x['p_low'], x['p_high'])}"
                         "</td>")
        sign = "≥" if bound == "min" else "≤"
        rows.append(f"<tr><td>{esc(str(metric))}</td><td>{sign} {limit:g}</td>"
                    + "".join(cells) + "</tr>")
    return (f"<h3>P(met) by {what}</h3><div class=tw><table class=verdict><tr><th>metric</th>"
            f"<th>target</th>{head}</tr>{''.join(rows)}</table></div><p class=note>Share of "
            "draws whose mean meets the target, with its 95% Wilson interval. Green: at "
            "least 0.9 even at the low end of the interval; red: at most 0.1.</p>")


def variance_html(var: pd.DataFrame | None) -> str:
    if var is None or var.empty:
        return ""

    def num(x: float) -> str:
        if not math.isfinite(x):
            return "–"
        return "0" if abs(x) < 1e-6 else (f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}")

    rows = "".join(
        f"<tr><td>{esc(str(r['output']))}</td><td>{num(r['mean'])}</td>"
        f"<td>{num(r['sd_input'])}</td><td>{num(r['sd_noise'])}</td><td>"
        f"{'–' if not math.isfinite(r['share_input']) else format(r['share_input'], '.0%')}"
        f"</td><td class=changes>{esc(str(r['advice']))}</td></tr>"
        for _, r in var.iterrows())
    return ("<h3>Where the spread comes from</h3><div class=tw><table><tr><th>output</th>"
            "<th>mean</th><th>sd from the inputs</th><th>sd from simulation noise</th>"
            "<th>inputs' share</th><th>so</th></tr>" + rows + "</table></div><p class=note>"
            "Variance of one draw's mean split by a two-way (draw × replication) analysis "
            "of variance: the inputs' part is what more draws describe better; the noise "
            "part shrinks with more replications per draw.</p>")


def uncertainty_sections(d: ReportData, folder: Path | None,
                         charts: Callable[..., str]) -> list[Section]:
    """The report's uncertainty section, or nothing when the folder has no draws."""
    if folder is None:
        return []
    folder = Path(folder)
    unc = _csv(folder / "uncertainty.csv")
    if unc is None:
        return []
    sens = _csv(folder / "sensitivity.csv")
    var = _csv(folder / "variance.csv")
    if var is not None and not var.empty:  # the baseline and ramp points: rarely uncertain
        base_unc = any(str(p).startswith("baseline.") for p in d.meta.get("uncertain") or [])
        out_ = var["output"].astype(str)
        var = var[~out_.str.contains("@") & (base_unc | ~out_.str.startswith("baseline:"))]
    n = int(unc["draw"].max()) + 1 if not unc.empty else 0
    params = list(d.meta.get("uncertain") or [])
    intro = (f"<p class=muted>{n} draws of {len(params)} uncertain input(s) (a Latin "
             "hypercube seeded from the file's seed), each simulated with the same "
             "replications and customers.</p>")
    if d.command == "roadmap":
        body = intro + payback_html(d)
        cs = [c for c in (payback_curve(d), fan_chart(d)) if c is not None]
        if sens is not None:
            t = tornado(sens, "payback_month", "the payback month")
            if t is not None:
                cs.append(t)
        body += charts(cs) + p_met_html(d.targets, "phase") + variance_html(var)
        return [("uncertainty", "Uncertainty: will it pay back, and how sure are we?", body)]
    body = intro + p_met_html(d.targets, "option")
    if sens is not None and not sens.empty:
        first = str(sens["output"].iloc[0])
        t = tornado(sens, first, first)
        if t is not None:
            body += charts([t])
    return [("uncertainty", "Uncertainty: how sure are the targets?", body + variance_html(var))]
