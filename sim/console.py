"""Terminal output with rich: KPI tables with units and CIs, target status in colour.

Plain text (no colour, no progress bar) when stdout is not a terminal or with --quiet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

STATUS_STYLE = {"met": "green", "missed": "bold red", "uncertain": "yellow"}

# (metric, label, format) rows of the KPI table, shown for "all" and each channel
_CONTACT_ROWS = [
    ("offered", "offered", "{:,.0f}"),
    ("automation_rate", "automation rate", "{:.1%}"),
    ("asa_s", "ASA (s)", "{:,.1f}"),
    ("service_level", "service level", "{:.1%}"),
    ("wait_p90_s", "wait p90 (s)", "{:,.1f}"),
    ("abandon_rate", "abandon rate", "{:.1%}"),
    ("block_rate", "block rate", "{:.1%}"),
    ("closed", "refused (closed)", "{:,.0f}"),
    ("aht_s", "AHT (s)", "{:,.0f}"),
    ("fcr", "FCR", "{:.1%}"),
    ("repeat_rate", "repeat rate", "{:.1%}"),
    ("transfers_per_contact", "transfers/contact", "{:.2f}"),
]
# Rows left out when every option shows this trivial value (the feature is not in use).
_TRIVIAL = {"block_rate": 0.0, "closed": 0.0, "fcr": 1.0, "repeat_rate": 0.0,
            "transfers_per_contact": 0.0, "automation_rate": 0.0}
_TIER_ROWS = [("paid_agents", "paid agents", "{:,.1f}"), ("agents", "agents on queue",
              "{:,.1f}"), ("occupancy", "occupancy", "{:.1%}")]
_COST_ROWS = [("labor", "labour", "{:,.0f}"), ("bot", "bot", "{:,.0f}"),
              ("overhead", "overhead", "{:,.0f}"), ("total", "total cost", "{:,.0f}"),
              ("per_contact", "cost per contact", "{:,.2f}"),
              ("labor_share", "labour share", "{:.1%}")]


def make_console(quiet: bool = False, stderr: bool = False) -> Console:
    console = Console(stderr=stderr, quiet=quiet, highlight=False)
    if not console.is_terminal:  # a file or a pipe: no 80-column squeeze
        console = Console(stderr=stderr, quiet=quiet, highlight=False, width=160)
    return console


def progress(console: Console, total: int, label: str) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not console.is_terminal or console.quiet)


def _cell(row: pd.Series | None, fmt: str) -> str:
    if row is None or not isinstance(row["mean"], float) or math.isnan(row["mean"]):
        return "–"
    text = fmt.format(row["mean"])
    lo, hi = row["ci_low"], row["ci_high"]
    if not (math.isnan(lo) or math.isnan(hi)) and hi > lo:
        half = (hi - lo) / 2.0
        pct = fmt.endswith("%}")
        if math.isclose(hi - row["mean"], row["mean"] - lo, rel_tol=1e-6, abs_tol=1e-12):
            text += " ±" + (f"{half:.1%}" if pct else fmt.format(half).lstrip())
        else:  # cut at the metric's range (a wait cannot be < 0): show both ends
            text += f" [{fmt.format(lo).strip()}, {fmt.format(hi).strip()}]"
    return text


def kpi_table(summary: pd.DataFrame, channels: Sequence[str], tiers: Sequence[str],
              currency: str, title: str = "KPIs (mean ± 95% CI half-width)",
              only: set[str] | None = None, labels: dict[str, str] | None = None) -> Table:
    """Rows: KPIs by scope; columns: one per (scenario, variant). ``only``: show just
    these metric names (a compact table); ``labels``: column headings by variant."""
    keys = list(dict.fromkeys(zip(summary["scenario"], summary["variant"], strict=True)))
    multi_scenario = len({k[0] for k in keys}) > 1
    table = Table(title=title, title_justify="left")
    table.add_column("scope")
    table.add_column("metric")
    for sc, var in keys:
        head = (labels or {}).get(var, var)
        table.add_column(f"{sc}/{head}" if multi_scenario else head, justify="right")
    idx = summary.set_index(["scenario", "variant", "scope", "metric"])

    def add(scope: str, metric: str, label: str, fmt: str) -> None:
        if only is not None and metric not in only:
            return
        cells = []
        for sc, var in keys:
            key = (sc, var, scope, metric)
            cells.append(_cell(idx.loc[key] if key in idx.index else None, fmt))
        if all(c == "–" for c in cells):
            return
        table.add_row(scope, label, *cells)

    for scope in ["all", *channels] if len(channels) > 1 else list(channels):
        for metric, label, fmt in _CONTACT_ROWS:
            if metric in _TRIVIAL and _all_equal(summary, scope, metric, _TRIVIAL[metric]):
                continue
            add(scope, metric, label, fmt)
        table.add_section()
    for tier in tiers:
        for metric, label, fmt in _TIER_ROWS:
            add(tier, metric, label, fmt)
    table.add_section()
    for metric, label, fmt in _COST_ROWS:
        if metric in ("bot", "overhead") and _all_equal(summary, "cost", metric, 0.0):
            continue
        add("cost", metric, label + (f" ({currency})" if "share" not in metric else ""), fmt)
    return table


def _all_equal(summary: pd.DataFrame, scope: str, metric: str, value: float) -> bool:
    sel = summary[(summary["scope"] == scope) & (summary["metric"] == metric)]["mean"]
    return bool((sel.fillna(value) == value).all())


def targets_table(targets: pd.DataFrame) -> Table | None:
    if targets.empty:
        return None
    multi_scenario = targets["scenario"].nunique() > 1
    table = Table(title="Targets", title_justify="left")
    for col in ("option", "metric", "target", "mean", "95% CI", "status"):
        table.add_column(col, justify="right" if col in ("mean", "95% CI") else "left",
                         no_wrap=col in ("metric", "status"))
    for _, r in targets.iterrows():
        option = f"{r['scenario']}/{r['variant']}" if multi_scenario else r["variant"]
        op = "≤" if r["bound"] == "max" else "≥"
        ci = ("–" if math.isnan(r["ci_low"]) else f"{r['ci_low']:.4g} – {r['ci_high']:.4g}")
        mean = "–" if math.isnan(r["mean"]) else f"{r['mean']:.4g}"
        style = STATUS_STYLE.get(r["status"], "")
        table.add_row(option, r["metric"], f"{op} {r['limit']:g}", mean, ci,
                      f"[{style}]{r['status']}[/{style}]")
    return table


_DIFF_ROWS = [("asa_s", "ASA (s)", "{:+,.1f}"), ("service_level", "service level", "{:+.1%}"),
              ("abandon_rate", "abandon rate", "{:+.1%}"),
              ("automation_rate", "automation rate", "{:+.1%}")]


def differences_table(diffs: pd.DataFrame, summary: pd.DataFrame,
                      channels: Sequence[str]) -> Table:
    """Paired differences against the first option, with their 95% CIs."""
    keys = list(dict.fromkeys(zip(diffs["scenario"], diffs["variant"], strict=True)))
    first = summary.iloc[0]
    table = Table(title=f"Paired differences vs {first['scenario']}/{first['variant']} "
                  "(same customers; mean [95% CI])", title_justify="left")
    table.add_column("scope")
    table.add_column("metric")
    for sc, var in keys:
        table.add_column(f"{sc}/{var}", justify="right")
    idx = diffs.set_index(["scenario", "variant", "scope", "metric"])
    scopes = ["all", *channels] if len(channels) > 1 else list(channels)
    rows = [(s, m, lab, f) for s in scopes for m, lab, f in _DIFF_ROWS] + [
        ("cost", "total", "total cost", "{:+,.0f}"), ("cost", "labor_share", "labour share",
                                                      "{:+.1%}")]
    for scope, metric, label, fmt in rows:
        cells = []
        for sc, var in keys:
            key = (sc, var, scope, metric)
            if key not in idx.index or math.isnan(idx.loc[key]["diff_mean"]):
                cells.append("–")
                continue
            r = idx.loc[key]
            ci = ("" if math.isnan(r["ci_low"]) else
                  f" [{fmt.format(r['ci_low'])}, {fmt.format(r['ci_high'])}]")
            cells.append(fmt.format(r["diff_mean"]) + ci)
        if any(c != "–" for c in cells):
            table.add_row(scope, label, *cells)
    return table


def target_matrix(targets: pd.DataFrame, order: Sequence[str], what: str = "phase"
                  ) -> Table | None:
    """Targets (rows) by option or phase (columns): status in colour with the mean."""
    sel = targets[targets["variant"].isin(order)]
    if sel.empty:
        return None
    table = Table(title=f"Targets by {what} (met / missed / uncertain: the 95% CI straddles "
                  "the target)", title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("target")
    for v in order:
        table.add_column(v, justify="right")
    for (metric, bound, limit), grp in sel.groupby(["metric", "bound", "limit"], sort=False):
        by = grp.set_index("variant")
        cells = []
        for v in order:
            if v not in by.index:
                cells.append("–")
                continue
            r = by.loc[v]
            style = STATUS_STYLE.get(r["status"], "")
            mean = "–" if math.isnan(r["mean"]) else f"{r['mean']:.4g}"
            cells.append(f"[{style}]{r['status']}[/{style}] {mean}")
        table.add_row(metric, f"{'≤' if bound == 'max' else '≥'} {limit:g}", *cells)
    return table


def roadmap_table(summary: pd.DataFrame, months: pd.DataFrame, rm, currency: str  # noqa: ANN001
                  ) -> Table:
    """Per phase: months, investment, operating cost a month at its end, savings against
    the baseline (95% CI) and the cumulative net at the phase's end."""
    idx = summary.set_index(["variant", "scope", "metric"])
    table = Table(title=f"Budget phases ({currency}; operating cost and savings per month "
                  "at the end of the phase, mean [95% CI])", title_justify="left")
    for col in ("phase", "months", "investment", "operating / month",
                "savings / month vs baseline", "cumulative net at end"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    base = idx.loc[("baseline", "cost", "operating_per_month")]
    table.add_row("baseline", "–", "–", f"{base['mean']:,.0f}", "–", "–")
    end = 0
    for ph in rm.phases:
        start, end = end + 1, end + ph.months
        op = idx.loc[(ph.name, "cost", "operating_per_month")]
        sav = idx.loc[(ph.name, "cost", "savings_per_month")]
        row = months[months["month"] == min(end, len(months))]
        cum = row.iloc[0] if not row.empty else None
        table.add_row(ph.name + (" (ramp)" if ph.ramp else ""), f"{start}–{end}",
                      f"{ph.investment:,.0f}", f"{op['mean']:,.0f}",
                      f"{sav['mean']:+,.0f} [{sav['ci_low']:+,.0f}, {sav['ci_high']:+,.0f}]",
                      "–" if cum is None else f"{cum['cumulative_net']:+,.0f}")
    return table


def payback_line(summary: pd.DataFrame, horizon: int) -> str:
    r = summary[summary["scope"] == "roadmap"].set_index("metric")
    pay, lo, hi = (r.loc[m, "mean"] for m in ("payback_month", "payback_month_low",
                                                "payback_month_high"))

    def month(x: float) -> str:
        return f"month {x:.0f}" if not math.isnan(x) else f"not within {horizon} months"

    roi = r.loc["roi"]
    text = (f"payback: [bold]{month(pay)}[/] (range {month(lo)} – {month(hi)}, from the 95% "
            f"CI of the cumulative net)")
    if not math.isnan(roi["mean"]):
        text += (f"; ROI over {horizon} months: [bold]{roi['mean']:+.0%}[/] "
                 f"[{roi['ci_low']:+.0%}, {roi['ci_high']:+.0%}]")
    return text
