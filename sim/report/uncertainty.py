"""The uncertainty part of report.html (SPEC §7.6): payback in plain words with its
probability, the payback-probability curve, a fan chart of the cumulative net, a tornado
chart of the inputs that move payback (or the first target) most, P(met) per target and
phase / option, and where the spread comes from (inputs vs simulation noise).

Data: the folder's uncertainty.csv, sensitivity.csv, variance.csv, targets.csv (p_met)
and roadmap.csv (p_paid_back, cumulative_net_p10/p50/p90). Hooked into sim/report/page.py by
one SECTIONS entry (:func:`uncertainty_data`, template sections/uncertainty.html.j2) and
:func:`attach_uncertainty`, which reads the three files of the folder onto the ReportData.
Every string is text: the template escapes it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.report.charts import COLORS, TARGET_COLOR, Chart, layout
from sim.report.data import ReportData
from sim.report.figures import Figure, band, bar, scatter
from sim.report.parts import Cell, Table

FILES = ("uncertainty", "sensitivity", "variance")


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


def payback_facts(d: ReportData) -> dict:
    """The lead sentence (probability of payback, quantiles) and the facts under it."""
    h = _row(d, "horizon_months")[0]
    horizon = int(h) if math.isfinite(h) else len(d.roadmap if d.roadmap is not None else [])
    p = _row(d, "p_payback_within_horizon")
    q = [_row(d, f"payback_month_p{k}")[0] for k in (10, 50, 90)]
    post = ""
    if math.isfinite(q[1]):
        post = (f"; median payback {_month(q[1], horizon)}, 80% of draws between "
                f"{_month(q[0], horizon)} and {_month(q[2], horizon)}")
    facts: list[dict] = []
    rm = d.roadmap
    if rm is not None and "p_paid_back" in rm:
        by = rm.set_index("month")
        marks = [f"by month {m}: " + _p(by.loc[m, "p_paid_back"], by.loc[m, "p_paid_back_low"],
                                        by.loc[m, "p_paid_back_high"])
                 for m in range(12, horizon + 1, 12) if m in by.index]
        if marks:
            facts.append({"text": "Probability of having paid back " + "; ".join(marks) + "."})
    roi = [_row(d, f"roi_p{k}")[0] for k in (10, 50, 90)]
    if all(math.isfinite(x) for x in roi):
        facts.append({"text": f"ROI over {horizon} months: median {roi[1]:+.0%}, 80% of "
                      f"draws {roi[0]:+.0%} to {roi[2]:+.0%}; NPV median "
                      f"{_row(d, 'npv_p50')[0]:,.0f} {d.currency}."})
    end = _end_state(d)
    if end:
        facts.append(end)
    return {"pre": f"Pays back within {horizon} months with probability ", "p": _p(*p),
            "post": post, "facts": facts}


MEANING = ("A probability here is the share of the draws of the uncertain inputs (each "
           "draw simulated with the same customers) that pay back or meet the target; the "
           "interval is a 95% Wilson interval for that share, i.e. how well the draws pin "
           "it down. It is only as good as the input ranges: it is not the chance that the "
           "plan succeeds in the real world.")


def _end_state(d: ReportData) -> dict | None:
    t = d.targets
    if t is None or t.empty or d.roadmap_spec is None:
        return None
    phases = [p.get("name") for p in d.roadmap_spec.get("phases", []) if isinstance(p, dict)]
    last = t[t["variant"] == (phases[-1] if phases else "")]
    if last.empty:
        return None
    missed = last[last["status"] != "met"]
    if missed.empty:
        return {"text": f"The end state ({phases[-1]}) meets all its targets."}
    items = ", ".join(
        f"{m} (P(met) {_p(a, b, c)})" for m, a, b, c in zip(
            missed["metric"], missed.get("p_met", [math.nan] * len(missed)),
            missed.get("p_low", [math.nan] * len(missed)),
            missed.get("p_high", [math.nan] * len(missed)), strict=True))
    return {"text": f"But the end state ({phases[-1]}) is not sure to meet {len(missed)} of "
            f"{len(last)} targets: {items}.", "cls": "missed"}


def payback_curve(d: ReportData) -> Chart | None:
    rm = d.roadmap
    if rm is None or "p_paid_back" not in rm:
        return None
    fig = Figure()
    for t in band(rm["month"], rm["p_paid_back_low"], rm["p_paid_back_high"],
                  "rgba(26,115,232,0.18)", "95% interval"):
        fig.add_trace(t)
    fig.add_trace(scatter(x=rm["month"], y=rm["p_paid_back"], mode="lines",
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
    fig = Figure()
    for t in band(rm["month"], rm["cumulative_net_p10"], rm["cumulative_net_p90"],
                  "rgba(232,113,10,0.22)", "10%–90% of draws"):
        fig.add_trace(t)
    fig.add_trace(scatter(x=rm["month"], y=rm["cumulative_net_p50"], mode="lines",
                          line={"color": COLORS[1]}, name="median draw"))
    fig.add_trace(scatter(x=rm["month"], y=rm["cumulative_net"], mode="lines",
                          line={"color": COLORS[0], "dash": "dot"}, name="mean"))
    fig.add_hline(0, {"color": "#5f6368", "width": 1})
    layout(fig, "Cumulative net savings over the draws (fan chart)", "month",
           f"cumulative net savings ({d.currency})")
    return Chart(fig, "uncertainty-fan")


def tornado(sens: pd.DataFrame, output: str, what: str, top: int = 8) -> Chart | None:
    s = sens[(sens["output"] == output)].dropna(subset=["output_at_low", "output_at_high"])
    s = s.head(top).iloc[::-1]
    if s.empty:
        return None
    mid = float(pd.concat([s["output_at_low"], s["output_at_high"]]).mean())
    fig = Figure()
    labels = [f"{p} (ρ {r:+.2f})" if math.isfinite(r) else str(p)
              for p, r in zip(s["parameter"], s["rank_correlation"], strict=True)]
    for col, name, colour in (("output_at_low", "input in its lowest tenth", COLORS[0]),
                              ("output_at_high", "input in its highest tenth", COLORS[1])):
        fig.add_trace(bar(y=labels, x=s[col] - mid, base=mid, orientation="h", name=name,
                          marker={"color": colour},
                          hovertemplate="%{y}: %{customdata:.4g}<extra></extra>",
                          customdata=s[col]))
    fig.add_vline(mid, {"color": TARGET_COLOR, "width": 1})
    layout(fig, f"What moves {what} most (tornado)", what, "", barmode="overlay")
    fig.update_layout(legend={"y": -0.3, "yanchor": "top", "x": 0, "orientation": "h"},
                      margin={"b": 80})
    return Chart(fig, "uncertainty-tornado", height=max(260, 60 + 34 * len(s)))


def p_met_table(targets: pd.DataFrame, what: str) -> Table | None:
    if targets is None or targets.empty or "p_met" not in targets:
        return None
    cols = list(dict.fromkeys(targets["variant"]))
    keys = list(dict.fromkeys(zip(targets["metric"], targets["bound"], targets["limit"],
                                  strict=True)))
    rows = []
    for metric, bound, limit in keys:
        cells: list[object] = [Cell(str(metric), breakable=True),
                               f"{'≥' if bound == 'min' else '≤'} {limit:g}"]
        for c in cols:
            g = targets[(targets["variant"] == c) & (targets["metric"] == metric)
                        & (targets["limit"] == limit)]
            if g.empty:
                cells.append("–")
                continue
            x = g.iloc[0]
            cls = "met" if x["p_low"] >= 0.9 else ("missed" if x["p_high"] <= 0.1
                                                   else "uncertain")
            cells.append(Cell(_p(x["p_met"], x["p_low"], x["p_high"]), cls=f"st {cls}"))
        rows.append(cells)
    return Table.of(["metric", "target", *cols], rows, "verdict")


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return "0" if abs(x) < 1e-6 else (f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}")


def variance_table(var: pd.DataFrame | None) -> Table | None:
    if var is None or var.empty:
        return None
    rows = [[Cell(str(r["output"]), breakable=True), _num(r["mean"]), _num(r["sd_input"]),
             _num(r["sd_noise"]), "–" if not math.isfinite(r["share_input"])
             else format(r["share_input"], ".0%"), Cell(str(r["advice"]), cls="changes")]
            for _, r in var.iterrows()]
    return Table.of(["output", "mean", "sd from the inputs", "sd from simulation noise",
                     "inputs' share", "so"], rows)


def attach_uncertainty(d: ReportData, folder: Path) -> ReportData:
    """Read the folder's uncertainty, sensitivity and variance tables onto ``d``."""
    d.uncertainty = {n: _csv(Path(folder) / f"{n}.csv") for n in FILES}  # type: ignore[attr-defined]
    return d


def uncertainty_data(d: ReportData) -> dict | None:
    """The section's data, or None when the folder has no draws."""
    files = getattr(d, "uncertainty", None) or {}
    unc = files.get("uncertainty")
    if unc is None:
        return None
    sens, var = files.get("sensitivity"), files.get("variance")
    if var is not None and not var.empty:  # the baseline and ramp points: rarely uncertain
        base_unc = any(str(p).startswith("baseline.") for p in d.meta.get("uncertain") or [])
        out_ = var["output"].astype(str)
        var = var[~out_.str.contains("@") & (base_unc | ~out_.str.startswith("baseline:"))]
    n = int(unc["draw"].max()) + 1 if not unc.empty else 0
    params = list(d.meta.get("uncertain") or [])
    data: dict = {"intro": f"{n} draws of {len(params)} uncertain input(s) (a Latin "
                  "hypercube seeded from the file's seed), each simulated with the same "
                  "replications and customers.", "meaning": MEANING, "lead": None,
                  "charts": [], "variance": variance_table(var)}
    if d.command == "roadmap":
        data["lead"] = payback_facts(d)
        data["charts"] = [c for c in (payback_curve(d), fan_chart(d)) if c is not None]
        t = tornado(sens, "payback_month", "the payback month") if sens is not None else None
        if t is not None:
            data["charts"].append(t)
        data["p_met"], data["p_met_title"] = p_met_table(d.targets, "phase"), "P(met) by phase"
    else:
        if sens is not None and not sens.empty:
            first = str(sens["output"].iloc[0])
            t = tornado(sens, first, first)
            if t is not None:
                data["charts"].append(t)
        data["p_met"], data["p_met_title"] = (p_met_table(d.targets, "option"),
                                              "P(met) by option")
    return data
