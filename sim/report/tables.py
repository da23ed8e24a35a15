"""The tables of report.html as data (sim/report/parts.py): verdict, targets, KPIs, costs,
paired differences and optimized staffing. Each ``*_data`` function returns the variables
of its section's template (sim/report/templates/sections/), or None to leave the section out.
The scenario at a glance is in sim/report/glance.py."""

from __future__ import annotations

import math

from sim.report.data import (
    HOURS_PER_MONTH,
    HOURS_PER_WEEK,
    Key,
    ReportData,
    better_when_lower,
    fmt,
    is_wait,
    limit_text,
    nan,
    unit,
)
from sim.report.parts import Cell, Row, Table

ICON = {"met": "✓", "missed": "✗", "uncertain": "?"}
# (metric, label) rows of the KPI table, per scope; a row only where the feature is in use
KPI_ROWS = [
    ("offered", "offered (contacts)"), ("automation_rate", "automation rate (bot)"),
    ("asa_s", "ASA: mean wait of answered"), ("service_level", "service level"),
    ("wait_p90_s", "wait p90"), ("abandon_rate", "abandon rate"),
    ("block_rate", "block rate"), ("closed", "refused: closed"),
    ("lost_customer_rate", "customers lost"), ("retrials", "retrials (contacts)"),
    ("callbacks", "callbacks accepted"), ("callback_unreached", "callbacks unreached"),
    ("aht_s", "AHT: mean handle time"), ("fcr", "first-contact resolution"),
    ("repeat_rate", "repeat rate"), ("transfers_per_contact", "transfers per contact"),
]
TIER_ROWS = [("heads", "heads on the payroll"),
             ("paid_agents", "paid agents at a time (average)"),
             ("agents", "agents on queue at a time (average FTE)"),
             ("occupancy", "occupancy"), ("handled", "handled (contacts)")]


def target_label(metric: str, bound: str, limit: float, currency: str) -> str:
    scope, name = metric.split(".", 1)
    u = unit(scope, name, currency)
    per = getattr(bound, "per", None)  # SPEC 7.8: a share of intervals or days
    return (f"{metric} {'≤' if bound == 'max' else '≥'} {limit_text(limit, u)}"
            + (f" in ≥ {100 * bound.share:g}% of {per}s" if per else ""))  # type: ignore


def target_unit(metric: str, bound: str, currency: str) -> str:
    """The unit of a targets.csv mean: the metric's, or a share for a target per
    interval or day."""
    return "%" if getattr(bound, "per", None) else unit(*metric.split(".", 1), currency)


def value_cell(v: tuple[float, float, float], u: str, cls: str = "") -> Cell:
    m, lo, hi = v
    if nan(m):
        return Cell("–", cls)
    ci = "" if nan(lo) else f"[{fmt(lo, u, False)}, {fmt(hi, u, False)}]"
    return Cell(fmt(m, u), cls, ci=ci)


def _money_rate(d: ReportData, key: Key, hours: float) -> str:
    return fmt(d.per_hour_cost(key) * hours, d.currency)


def mixed_targets(d: ReportData) -> list[str]:
    """Declared targets on a wait whose scope mixes realtime and async channels."""
    return list(dict.fromkeys(m for m, _, _ in d.target_list()
                              if is_wait(m.split(".", 1)[1])
                              and d.mixes_modes(m.split(".", 1)[0])))


# --- verdict --------------------------------------------------------------------------------

def verdict_data(d: ReportData) -> dict:
    """Options × targets, coloured met / missed / uncertain, with the cost run-rate. The
    summary columns (all targets, cost) come first so they stay on screen."""
    opts = d.headline
    if not opts:
        return {"empty": True}
    cur, targets = d.currency, d.target_list()
    met = [k for k in opts if d.overall_status(k) == "met"]
    best = min(met, key=lambda k: d.value(k, "cost", "total")[0]) if met else None
    mixed = set(mixed_targets(d))
    head = [Cell("option"), *([Cell("all targets")] if targets else []),
            Cell("cost / week"), Cell("cost / month")]
    head += [Cell(target_label(m, b, lim, cur) + (" ⚠" if m in mixed else ""),
                  breakable=True, title="mixes realtime and async waits" if m in mixed
                  else "") for m, b, lim in targets]
    rows = []
    for key in opts:
        cells = [Cell(d.label(key), badge="best" if key == best else "")]
        detail, n_met = [], 0
        for m, b, lim in targets:
            r = d.target_row(key, m, b, lim)
            if r is None:
                detail.append(Cell("–"))
                continue
            st = str(r["status"])
            n_met += st == "met"
            u = target_unit(m, b, cur)
            detail.append(Cell(f"{ICON.get(st, '')} {st}", f"st {st}", sub=fmt(r["mean"], u),
                               title=f"95% CI {fmt(r['ci_low'], u)} – {fmt(r['ci_high'], u)}"))
        if targets:
            o = d.overall_status(key)
            n = sum(c.text != "–" for c in detail)
            cells.append(Cell(f"{ICON.get(o, '')} {n_met} of {n} met", f"st {o}"))
        cells += [Cell(_money_rate(d, key, HOURS_PER_WEEK)),
                  Cell(_money_rate(d, key, HOURS_PER_MONTH))]
        rows.append(Row(cells + detail))
    maybe = [d.label(k) for k in opts if d.overall_status(k) == "uncertain"]
    hours = sorted({h for k in d.options if not math.isnan(h := d.horizon_h(k))})
    return {"empty": False, "targets": bool(targets), "table": Table(head, rows, "verdict"),
            "best": d.label(best) if best else "",
            "best_cost": _money_rate(d, best, HOURS_PER_MONTH) if best else "",
            "maybe": ", ".join(maybe), "span": " / ".join(f"{h:g} h" for h in hours)
            or "unknown", "mixed": sorted(mixed), "modes": _mode_words(d)}


def _mode_words(d: ReportData) -> str:
    modes = d.modes()
    parts = [f"{mode} " + ", ".join(c for c, m in modes.items() if m == mode)
             for mode in ("realtime", "async") if mode in modes.values()]
    return "; ".join(parts)


# --- targets, KPIs, costs ---------------------------------------------------------------

def targets_data(d: ReportData) -> dict:
    rows = []
    for key in d.options:
        for m, b, lim in d.target_list():
            r = d.target_row(key, m, b, lim)
            if r is None:
                continue
            u = target_unit(m, b, d.currency)
            st = str(r["status"])
            rows.append([d.label(key), target_label(m, b, lim, d.currency),
                         value_cell((r["mean"], r["ci_low"], r["ci_high"]), u),
                         Cell(f"{ICON.get(st, '')} {st}", f"st {st}")])
    table = Table.of(["option", "target", "mean [95% CI]", "status"], rows, "targets")
    return {"table": table if rows else None}


def kpi_data(d: ReportData) -> dict:
    """Rows: each scope's KPIs in use (waits by mode where channels of both modes run);
    columns: the options. Then the tiers: heads on the payroll, paid and on-queue agents
    at a time, occupancy, contacts handled."""
    opts = d.options
    head = [Cell("scope"), Cell("metric"), *[Cell(d.label(k)) for k in opts]]
    scopes = list(dict.fromkeys(s for m, _ in KPI_ROWS for s in d.contact_scopes(m)))
    rows: list[Row] = []
    for scope in scopes:
        block = [(m, label) for m, label in KPI_ROWS
                 if scope in d.contact_scopes(m) and d.in_use(scope, m)]
        for i, (m, label) in enumerate(block):
            u = unit(scope, m, d.currency)
            rows.append(Row([Cell(scope if i == 0 else "", strong=True), Cell(label)]
                            + [value_cell(d.value(k, scope, m), u) for k in opts],
                            "group" if i == 0 else ""))
    contacts = Table(head, rows, "kpi")
    rows = []
    for tier in d.tiers():
        block = []
        for m, label in TIER_ROWS:
            if m == "heads":
                heads = [d.heads(k, tier) for k in opts]
                if any(h is not None for h in heads):
                    block.append((label, [Cell("–" if h is None else f"{h:g}")
                                          for h in heads]))
                continue
            if not d.in_use(tier, m):
                continue
            block.append((label, [value_cell(d.value(k, tier, m), unit(tier, m, d.currency))
                                  for k in opts]))
        for i, (label, cells) in enumerate(block):
            rows.append(Row([Cell(tier if i == 0 else "", strong=True), Cell(label), *cells],
                            "group" if i == 0 else ""))
    return {"contacts": contacts, "tiers": Table([Cell("tier"), *head[1:]], rows, "kpi tiers"),
            "mixed": d.mixed_modes, "modes": _mode_words(d)}


def cost_data(d: ReportData) -> dict:
    cur = d.currency
    parts = [m for m in ("labor", "bot", "overhead") if d.in_use("cost", m) or m == "labor"]
    names = {"labor": "labour", "bot": "bot", "overhead": "overhead"}
    rows = [[d.label(k)] + [fmt(d.value(k, "cost", m)[0], cur) for m in parts]
            + [value_cell(d.value(k, "cost", m), cur) for m in ("total", "per_contact")]
            + [fmt(d.value(k, "cost", "labor_share")[0], "%"),
               _money_rate(d, k, HOURS_PER_WEEK), _money_rate(d, k, HOURS_PER_MONTH)]
            for k in d.options]
    return {"table": Table.of(["option", *[names[m] for m in parts], "total over horizon",
                               "per contact", "labour share", "per week", "per month"],
                              rows, "cost")}


# --- compare: paired differences ----------------------------------------------------------

def delta(v: float, u: str) -> str:
    if nan(v):
        return "–"
    if u == "%":
        return f"{v * 100:+.1f} pp"
    if u in ("s", "", "agents", "contacts"):
        return f"{v:+,.1f}" + (" s" if u == "s" else "")
    return f"{u} {v:+,.0f}" if abs(v) >= 100 else f"{u} {v:+,.2f}"


def difference_metrics(d: ReportData) -> list[str]:
    """scope.metric rows of the paired differences: the targets, then waits and service
    by mode (``all`` when every channel has the same mode) and by channel, then cost."""
    out = [m for m, _, _ in d.target_list()]
    for metric in ("asa_s", "service_level", "abandon_rate", "automation_rate"):
        out += [f"{s}.{metric}" for s in d.contact_scopes(metric)]
    return list(dict.fromkeys(out + ["cost.total", "cost.per_contact", "cost.labor_share"]))


def differences_data(d: ReportData) -> dict | None:
    df = d.differences
    if df is None or df.empty:
        return None
    ref = d.options[0]
    others = list(dict.fromkeys(zip(df["scenario"], df["variant"], strict=True)))
    look = {(s, v, sc, m): (x, lo, hi) for s, v, sc, m, x, lo, hi in zip(
        df["scenario"], df["variant"], df["scope"], df["metric"], df["diff_mean"],
        df["ci_low"], df["ci_high"], strict=True)}
    mixed = set(mixed_targets(d))
    rows = []
    for metric in difference_metrics(d):
        scope, name = metric.split(".", 1)
        if all((k[0], k[1], scope, name) not in look for k in others) or (
                scope != "cost" and not d.in_use(scope, name) and d.has(scope, name)):
            continue
        u = unit(scope, name, d.currency)
        cells = [Cell(metric + (" ⚠" if metric in mixed else ""),
                      title="mixes realtime and async waits" if metric in mixed else "")]
        for k in others:
            x, lo, hi = look.get((k[0], k[1], scope, name), (math.nan,) * 3)
            cls = ""
            lower = better_when_lower(name)
            if lower is not None and not (nan(lo) or nan(hi)) and (lo > 0 or hi < 0):
                cls = "better" if (x < 0) == lower else "worse"
            ci = "" if nan(lo) else f"[{delta(lo, u)}, {delta(hi, u)}]"
            cells.append(Cell(delta(x, u), cls, ci=ci))
        rows.append(cells)
    return {"reference": d.label(ref), "mixed": sorted(mixed),
            "table": Table.of(["metric", *[d.label(k) for k in others]], rows, "diff")}
