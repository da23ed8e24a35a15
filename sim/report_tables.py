"""The HTML tables of report.html: verdict, scenario at a glance, targets, KPIs, costs,
paired differences and optimized staffing."""

from __future__ import annotations

import html
import math

from sim.report_data import (
    HOURS_PER_MONTH,
    HOURS_PER_WEEK,
    Key,
    ReportData,
    better_when_lower,
    fmt,
    limit_text,
    nan,
    unit,
)

ICON = {"met": "✓", "missed": "✗", "uncertain": "?"}
KPI_METRICS = ["asa_s", "service_level", "abandon_rate", "automation_rate", "aht_s", "fcr"]
TIER_METRICS = ["agents", "paid_agents", "occupancy", "handled"]
esc = html.escape


def table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """Cells are HTML already (escape text before); a cell starting with <td is kept."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r)
                   + "</tr>" for r in rows)
    return (f"<div class=tw><table class='{cls}'><thead><tr>{th}</tr></thead><tbody>{body}"
            "</tbody></table></div>")


def target_label(metric: str, bound: str, limit: float, currency: str) -> str:
    scope, name = metric.split(".", 1)
    u = unit(scope, name, currency)
    return f"{metric} {'≤' if bound == 'max' else '≥'} {limit_text(limit, u)}"


def with_ci(v: tuple[float, float, float], u: str) -> str:
    m, lo, hi = v
    if nan(m):
        return "–"
    ci = "" if nan(lo) else (f" <span class=ci>[{fmt(lo, u, False)}, "
                             f"{fmt(hi, u, False)}]</span>")
    return f"<span class=nw>{fmt(m, u)}</span>{ci}"


def _money_rate(d: ReportData, key: Key, hours: float) -> str:
    return fmt(d.per_hour_cost(key) * hours, d.currency)


def verdict_html(d: ReportData) -> str:
    """Options × targets, coloured met / missed / uncertain, with the cost run-rate. The
    summary columns (all targets, cost) come first so they stay on screen when there are
    many targets."""
    opts = d.headline
    if not opts:
        return "<p class=missed>No finished replications: nothing to report.</p>"
    cur, targets = d.currency, d.target_list()
    met = [k for k in opts if d.overall_status(k) == "met"]
    best = min(met, key=lambda k: d.value(k, "cost", "total")[0]) if met else None
    head = ["option", *(["all targets"] if targets else []), "cost / week", "cost / month"]
    head += [esc(target_label(m, b, lim, cur)).replace(".", ".<wbr>", 1)
             for m, b, lim in targets]
    rows = []
    for key in opts:
        cells = [esc(d.label(key)) + (" <b class=best>best</b>" if key == best else "")]
        detail, n_met = [], 0
        for m, b, lim in targets:
            r = d.target_row(key, m, b, lim)
            if r is None:
                detail.append("–")
                continue
            st = str(r["status"])
            n_met += st == "met"
            u = unit(*m.split(".", 1), cur)
            detail.append(f"<td class='st {st}' title='95% CI {fmt(r['ci_low'], u)} – "
                          f"{fmt(r['ci_high'], u)}'>{ICON.get(st, '')} {st}"
                          f"<br><span class=v>{fmt(r['mean'], u)}</span></td>")
        if targets:
            o = d.overall_status(key)
            n = len(detail) - detail.count("–")
            cells.append(f"<td class='st {o}'>{ICON.get(o, '')} {n_met} of {n} met</td>")
        cells += [_money_rate(d, key, HOURS_PER_WEEK), _money_rate(d, key, HOURS_PER_MONTH)]
        rows.append(cells + detail)
    return _verdict_sentence(d, best) + table(head, rows, "verdict") + _cost_note(d)


def _verdict_sentence(d: ReportData, best: Key | None) -> str:
    if not d.target_list():
        return "<p class=lead>No targets declared: the options are compared on KPIs and cost.</p>"
    if best is not None:
        return (f"<p class=lead>Cheapest option meeting every target: <b>{esc(d.label(best))}"
                f"</b>, {_money_rate(d, best, HOURS_PER_MONTH)} per month.</p>")
    maybe = [d.label(k) for k in d.headline if d.overall_status(k) == "uncertain"]
    if maybe:
        return ("<p class=lead>No option is sure to meet every target. Possibly: <b>"
                + esc(", ".join(maybe)) + "</b> (uncertain: the 95% CI straddles a limit; "
                "more replications decide).</p>")
    return "<p class=lead><span class=missed>No option meets every target.</span></p>"


def _cost_note(d: ReportData) -> str:
    hours = sorted({h for k in d.options if not math.isnan(h := d.horizon_h(k))})
    span = " / ".join(f"{h:g} h" for h in hours) or "unknown"
    return ("<p class=note>✓ met: the whole 95% CI is on the right side of the limit; "
            "✗ missed: wholly on the wrong side; ? uncertain: the CI straddles the limit. "
            f"Cost per week (168 h) and per month (730 h) are run-rates: the average hourly "
            f"cost of the simulated horizon ({span}) scaled up, as if that period's cost rate "
            "held around the clock.</p>")


# --- scenario at a glance -----------------------------------------------------------------

def _shares(d: dict | None) -> str:
    return ", ".join(f"{esc(str(k))} {float(v) * 100:.0f}%" for k, v in (d or {}).items())


def _arrivals(a: dict) -> str:
    if a.get("rate_per_hour") is not None:
        txt = f"{float(a['rate_per_hour']):g} /h"
    elif a.get("profile_per_hour"):
        p = [float(x) for x in a["profile_per_hour"]]
        txt = f"profile: mean {sum(p) / len(p):.0f} /h, peak {max(p):.0f} /h"
    else:
        txt = "from " + esc(str(a.get("profile_file") or a.get("profile_source") or "history"))
    if a.get("day_factors"):
        txt += ", by weekday"
    return txt


def _agents(t: dict) -> str:
    if t.get("agents") is not None:
        return str(t["agents"])
    s = t.get("schedule") or {}
    if s.get("agents_per_interval"):
        p = s["agents_per_interval"]
        return f"profile {min(p)}–{max(p)}"
    shifts = s.get("shifts") or []
    parts = [f"{x.get('start')}–{x.get('end')} ×{x.get('agents')}"
             + (f" ({','.join(x['days'])})" if x.get("days") and len(x["days"]) < 7 else "")
             for x in shifts[:4]]
    return "shifts " + "; ".join(parts) + (f"; +{len(shifts) - 4} more" if len(shifts) > 4
                                           else "")


def scenario_html(d: ReportData) -> str:
    sc = d.scenario
    if not sc:
        return "<p class=muted>This folder has no scenario.yaml.</p>"
    note = f"<p class=muted>From {esc(d.scenario_note)}.</p>" if d.scenario_note else ""
    costs = sc.get("costs") or {}
    facts = [f"<b>{esc(str(sc.get('name', '')))}</b>"
             + (f": {esc(str(sc['description']))}" if sc.get("description") else ""),
             f"horizon {float(sc.get('horizon_hours', 0)):g} h measured after "
             f"{float(sc.get('warmup_hours', 0)):g} h warm-up, "
             f"{sc.get('interval_minutes', 30)}-minute intervals",
             f"{sc.get('replications', '')} replications, seed {sc.get('seed', '')}, "
             f"money in {esc(d.currency)}"]
    if costs.get("overhead_per_hour") or costs.get("overhead_per_month"):
        facts.append(f"overhead {fmt(costs.get('overhead_per_hour', 0), d.currency)} per hour "
                     f"+ {fmt(costs.get('overhead_per_month', 0), d.currency)} per month")
    rows = []
    for name, ch in (sc.get("channels") or {}).items():
        bot = ch.get("bot")
        pat = ch.get("patience")
        rows.append([esc(name), _arrivals(ch.get("arrivals") or {}), _shares(ch.get("mix")),
                     ", ".join(f"{esc(k)} {float(v.get('mean_s', 0)):g} s"
                               for k, v in (ch.get("handle_time") or {}).items()),
                     (f"{float(pat['mean_s']):g} s" if pat else
                      "async" if ch.get("mode") == "async" else "none"),
                     f"{float(ch.get('service_level_threshold_s', 20)):g} s",
                     str(ch.get("concurrency", 1)),
                     (_shares(bot.get("containment")) or "0%") + (
                         f"; {fmt(bot.get('cost_per_session', 0), d.currency)}/session")
                     if bot else "no bot"])
    channels = table(["channel", "arrivals", "mix", "mean handle time", "patience",
                      "SL threshold", "concurrency", "bot containment"], rows, "glance")
    rows = [[esc(name), _agents(t), fmt(t.get("cost_per_hour", 0), d.currency),
             ", ".join(f"{esc(k)}" + ("" if float(v) == 1 else f" ×{float(v):g}")
                       for k, v in (t.get("serves") or {}).items()),
             f"{float(t.get('shrinkage', 0)) * 100:.0f}%"]
            for name, t in (sc.get("tiers") or {}).items()]
    tiers = table(["tier", "agents on shift", "cost / hour", "serves (speed)", "shrinkage"],
                  rows, "glance")
    variants = "".join(f"<li><b>{esc(str(v))}</b>: " + esc("; ".join(
        f"{k} = {x}" for k, x in (ov or {}).items())) + "</li>"
        for v, ov in (sc.get("variants") or {}).items())
    return (note + "<ul class=facts>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>"
            + channels + tiers + (f"<p>Variants:</p><ul>{variants}</ul>" if variants else ""))


# --- targets, KPIs, costs ---------------------------------------------------------------

def targets_html(d: ReportData) -> str:
    if d.targets.empty:
        return "<p class=muted>No targets declared.</p>"
    rows = []
    for key in d.options:
        for m, b, lim in d.target_list():
            r = d.target_row(key, m, b, lim)
            if r is None:
                continue
            u = unit(*m.split(".", 1), d.currency)
            st = str(r["status"])
            rows.append([esc(d.label(key)), esc(target_label(m, b, lim, d.currency)),
                         with_ci((r["mean"], r["ci_low"], r["ci_high"]), u),
                         f"<td class='st {st}'>{ICON.get(st, '')} {st}</td>"])
    return table(["option", "target", "mean [95% CI]", "status"], rows, "targets")


def kpi_html(d: ReportData) -> str:
    metrics = [m for m in KPI_METRICS if d.has("all", m)]
    rows = []
    for scope in ["all", *d.channels()]:
        for i, key in enumerate(d.options):
            rows.append([f"<b>{esc(scope)}</b>" if i == 0 else "", esc(d.label(key))]
                        + [with_ci(d.value(key, scope, m), unit(scope, m, d.currency))
                           for m in metrics])
    tiers = []
    for tier in d.tiers():
        for i, key in enumerate(d.options):
            tiers.append([f"<b>{esc(tier)}</b>" if i == 0 else "", esc(d.label(key))]
                         + [with_ci(d.value(key, tier, m), unit(tier, m, d.currency))
                            for m in TIER_METRICS])
    return (table(["channel", "option", *metrics], rows, "kpi")
            + "<p class=note>asa_s: mean wait of answered contacts; service_level: answered "
            "within the channel's threshold / queued; abandon_rate: abandoned / queued; "
            "automation_rate: contained by the bot / offered; aht_s: mean handle time; fcr: "
            "first-contact resolution. Brackets: 95% CI across replications.</p>"
            + table(["tier", "option", "agents on queue", "paid agents", "occupancy",
                     "handled (contacts)"], tiers, "kpi"))


def cost_html(d: ReportData) -> str:
    cur = d.currency
    rows = [[esc(d.label(k))] + [fmt(d.value(k, "cost", m)[0], cur)
                                 for m in ("labor", "bot", "overhead")]
            + [with_ci(d.value(k, "cost", m), cur) for m in ("total", "per_contact")]
            + [fmt(d.value(k, "cost", "labor_share")[0], "%"),
               _money_rate(d, k, HOURS_PER_WEEK), _money_rate(d, k, HOURS_PER_MONTH)]
            for k in d.options]
    return table(["option", "labour", "bot", "overhead", "total over horizon", "per contact",
                  "labour share", "per week", "per month"], rows, "cost")


# --- compare: paired differences ----------------------------------------------------------

def _delta(v: float, u: str) -> str:
    if nan(v):
        return "–"
    if u == "%":
        return f"{v * 100:+.1f} pp"
    if u in ("s", "", "agents", "contacts"):
        return f"{v:+,.1f}" + (" s" if u == "s" else "")
    return f"{u} {v:+,.0f}" if abs(v) >= 100 else f"{u} {v:+,.2f}"


def differences_html(d: ReportData) -> str:
    df = d.differences
    if df is None or df.empty:
        return ""
    ref = d.options[0]
    others = list(dict.fromkeys(zip(df["scenario"], df["variant"], strict=True)))
    wanted = list(dict.fromkeys([m for m, _, _ in d.target_list()] + [
        "all.asa_s", "all.service_level", "all.abandon_rate", "all.automation_rate",
        "cost.total", "cost.per_contact", "cost.labor_share"]))
    look = {(s, v, sc, m): (x, lo, hi) for s, v, sc, m, x, lo, hi in zip(
        df["scenario"], df["variant"], df["scope"], df["metric"], df["diff_mean"],
        df["ci_low"], df["ci_high"], strict=True)}
    rows = []
    for metric in wanted:
        scope, name = metric.split(".", 1)
        u = unit(scope, name, d.currency)
        cells = [esc(metric)]
        if all((k[0], k[1], scope, name) not in look for k in others):
            continue
        for k in others:
            x, lo, hi = look.get((k[0], k[1], scope, name), (math.nan,) * 3)
            cls = ""
            lower = better_when_lower(name)
            if lower is not None and not (nan(lo) or nan(hi)) and (lo > 0 or hi < 0):
                cls = "better" if (x < 0) == lower else "worse"
            ci = "" if nan(lo) else f" <span class=ci>[{_delta(lo, u)}, {_delta(hi, u)}]</span>"
            cells.append(f"<td class='{cls}'><span class=nw>{_delta(x, u)}</span>{ci}</td>")
        rows.append(cells)
    return (f"<p>Each option minus <b>{esc(d.label(ref))}</b>, replication by replication (the "
            "same customers in both, common random numbers), with the 95% CI of the paired "
            "difference. <span class=better>Green</span>: better, <span class=worse>red"
            "</span>: worse, where the CI excludes 0; pp = percentage points.</p>"
            + table(["metric", *[esc(d.label(k)) for k in others]], rows, "diff"))


# --- optimize: staffing -------------------------------------------------------------------

def staffing_html(d: ReportData) -> str:
    st = d.staffing
    if st is None or st.empty:
        return ""
    start = d.meta.get("search_start") or {}
    flat = set(st["interval"].astype(str)) == {"all"}
    rows = []
    for tier, g in st.groupby("tier", sort=False):
        a = g["agents"].astype(float)
        if flat:
            rows.append([esc(str(tier)), f"{a.iloc[0]:g}", esc(str(start.get(tier, "–")))])
        else:
            rows.append([esc(str(tier)), str(len(g)), f"{a.min():g}", f"{a.max():g}",
                         f"{a.mean():.1f}"])
    head = (["tier", "agents (optimized)", "search start (square-root staffing)"] if flat
            else ["tier", "intervals", "min agents", "max agents", "mean agents"])
    evals = d.meta.get("evaluations")
    return (table(head, rows, "staffing")
            + (f"<p class=note>{evals} staffings simulated in the search; the verdict above "
               "shows the optimized staffing re-simulated with fresh random numbers.</p>"
               if evals else ""))
