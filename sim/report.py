"""report.html: one self-contained page (plotly.js embedded, works offline).

Built from the result tables only (never re-simulates), so ``ccsim report DIR`` can render
it again from a results folder's CSV files.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import yaml

from sim.errors import InputError
from sim.results import write_atomic

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1100px;color:#222;padding:0 16px}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
.met{color:#137333;font-weight:600}.missed{color:#c5221f;font-weight:600}
.uncertain{color:#b06000;font-weight:600}.muted{color:#666;font-size:.85em}
@media print{.chart{page-break-inside:avoid}}
"""


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def _targets_html(targets: pd.DataFrame) -> str:
    if targets.empty:
        return "<p class=muted>No targets declared.</p>"
    rows = []
    for _, r in targets.iterrows():
        op = "≤" if r["bound"] == "max" else "≥"
        rows.append(
            f"<tr><td>{html.escape(str(r['scenario']))}/{html.escape(str(r['variant']))}</td>"
            f"<td>{html.escape(r['metric'])}</td><td>{op} {r['limit']:g}</td>"
            f"<td>{_fmt(r['mean'])}</td><td>{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}</td>"
            f"<td class={r['status']}>{r['status']}</td></tr>")
    return ("<table><tr><th>option</th><th>metric</th><th>target</th><th>mean</th>"
            "<th>95% CI</th><th>status</th></tr>" + "".join(rows) + "</table>")


def _kpi_html(summary: pd.DataFrame) -> str:
    keep = ["offered", "automation_rate", "asa_s", "service_level", "abandon_rate",
            "block_rate", "aht_s", "occupancy", "total", "per_contact", "labor_share"]
    df = summary[summary["metric"].isin(keep)].copy()
    if df.empty:
        return ""
    df["option"] = df["scenario"] + "/" + df["variant"]
    df["cell"] = [f"{_fmt(m)}" + ("" if math.isnan(lo) else f" <span class=muted>"
                                  f"[{_fmt(lo)}, {_fmt(hi)}]</span>")
                  for m, lo, hi in zip(df["mean"], df["ci_low"], df["ci_high"], strict=True)]
    wide = df.pivot_table(index=["scope", "metric"], columns="option", values="cell",
                          aggfunc="first", sort=False)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in wide.columns)
    body = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{html.escape(m)}</td>"
        + "".join(f"<td>{v if isinstance(v, str) else '–'}</td>" for v in row) + "</tr>"
        for (s, m), row in zip(wide.index, wide.values, strict=True))
    return f"<table><tr><th>scope</th><th>metric</th>{head}</tr>{body}</table>"


def _charts(summary: pd.DataFrame, intervals: pd.DataFrame, targets: pd.DataFrame) -> list:
    figs = []
    if not intervals.empty:
        fig = go.Figure()
        for (sc, var, ch), df in intervals.groupby(["scenario", "variant", "channel"],
                                                   sort=False):
            fig.add_trace(go.Scatter(x=df["start_h"], y=df["service_level"], mode="lines",
                                     name=f"{ch} · {sc}/{var}"))
        sl_targets = targets[targets["metric"].str.endswith(".service_level")] \
            if not targets.empty else targets
        for limit in sorted(set(sl_targets["limit"])) if not sl_targets.empty else []:
            fig.add_hline(y=limit, line_dash="dash", annotation_text=f"target {limit:g}")
        fig.update_layout(title="Service level by interval", xaxis_title="hour of horizon",
                          yaxis_title="service level", yaxis_tickformat=".0%")
        figs.append(fig)
    occ = summary[summary["metric"] == "occupancy"]
    if not occ.empty:
        fig = go.Figure()
        for (sc, var), df in occ.groupby(["scenario", "variant"], sort=False):
            fig.add_trace(go.Bar(x=df["scope"], y=df["mean"], name=f"{sc}/{var}",
                                 error_y={"type": "data", "symmetric": False,
                                          "array": (df["ci_high"] - df["mean"]).fillna(0),
                                          "arrayminus": (df["mean"] - df["ci_low"]).fillna(0)}))
        fig.update_layout(title="Occupancy by tier", yaxis_tickformat=".0%", barmode="group")
        figs.append(fig)
    cost = summary[(summary["scope"] == "cost") & summary["metric"].isin(["labor", "bot"])]
    if not cost.empty:
        fig = go.Figure()
        for metric, df in cost.groupby("metric", sort=False):
            fig.add_trace(go.Bar(x=df["scenario"] + "/" + df["variant"], y=df["mean"],
                                 name=metric))
        fig.update_layout(title="Cost breakdown over the horizon", barmode="stack")
        figs.append(fig)
    return figs


def render(tables: dict[str, pd.DataFrame], meta: dict, title: str) -> str:
    figs = _charts(tables["summary"], tables["intervals"], tables["targets"])
    charts = "".join(
        f"<div class=chart>{pio.to_html(f, full_html=False, include_plotlyjs=(i == 0), default_height='420px')}</div>"  # noqa: E501
        for i, f in enumerate(figs))
    status = "" if meta.get("complete", True) else (
        "<p class=missed>Incomplete run: " + html.escape(str(meta.get("error", ""))) + "</p>")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}"
            f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class=muted>ccsim {html.escape(str(meta.get('ccsim_version', '')))} · seed "
            f"{meta.get('seed')} · {meta.get('replications')} replications · "
            f"{html.escape(str(meta.get('end', '')))}</p>{status}"
            f"<h2>Targets</h2>{_targets_html(tables['targets'])}"
            f"<h2>Charts</h2>{charts}<h2>KPIs (mean, 95% CI)</h2>"
            f"{_kpi_html(tables['summary'])}</body></html>")


def write_report(out: Path, tables: dict[str, pd.DataFrame], meta: dict, scenario: object,
                 title: str | None = None) -> Path:
    name = meta.get("scenario", "scenario")
    page = render(tables, meta, title or f"ccsim report: {name}")
    path = out / "report.html"
    write_atomic(path, page)
    return path


def rerender(results_dir: Path) -> Path:
    d = Path(results_dir)
    need = ["summary.csv", "targets.csv", "summary.json"]
    missing = [n for n in need if not (d / n).exists()]
    if missing:
        raise InputError(f"not a results folder (missing {', '.join(missing)})", file=str(d))
    tables = {n: pd.read_csv(d / f"{n}.csv") for n in ("summary", "targets")}
    tables["intervals"] = (pd.read_csv(d / "intervals.csv") if (d / "intervals.csv").exists()
                           else pd.DataFrame())
    meta = json.loads((d / "summary.json").read_text())["meta"]
    scenario = (yaml.safe_load((d / "scenario.yaml").read_text())
                if (d / "scenario.yaml").exists() else None)
    return write_report(d, tables, meta, scenario)
