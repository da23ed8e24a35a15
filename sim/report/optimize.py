"""The optimize section of report.html: the optimized roster (heads per tier, per shift
when tiers are planned with shifts) beside the input's, the cost of the optimised tiers
against the input's and against the lower bound, and the targets per interval or day.

Everything comes from the folder's meta (written by sim.decide.optimize_run from the same
staffing as staffing.csv) and targets.csv; the chart of staffing by interval is
sim.report.charts.staffing_by_interval.
"""

from __future__ import annotations

import math

from sim.report.data import ReportData, fmt
from sim.report.parts import Table


def _shift_key(s: dict) -> tuple:
    return (s.get("start"), s.get("end"), tuple(s.get("days") or []))


def _days(s: dict) -> str:
    days = s.get("days") or []
    return "every day" if not days or len(days) == 7 else ", ".join(days)


def roster_table(meta: dict) -> Table | None:
    opt, inp = meta.get("optimized") or {}, meta.get("input_agents") or {}
    shifts_o, shifts_i = meta.get("optimized_shifts") or {}, meta.get("input_shifts") or {}
    hours_o = meta.get("optimized_paid_hours_per_week") or {}
    hours_i = meta.get("input_paid_hours_per_week") or {}
    rows: list[list[object]] = []
    for tier in meta.get("tiers") or list(opt):
        if tier in shifts_o or tier in shifts_i:
            keys = list(dict.fromkeys([_shift_key(s) for s in shifts_i.get(tier, [])]
                                      + [_shift_key(s) for s in shifts_o.get(tier, [])]))
            by_o = {_shift_key(s): s for s in shifts_o.get(tier, [])}
            by_i = {_shift_key(s): s for s in shifts_i.get(tier, [])}
            for key in keys:
                s = by_o.get(key) or by_i[key]
                rows.append([tier, f"{s['start']}-{s['end']}, {_days(s)}",
                             str(by_o.get(key, {}).get("agents", 0)),
                             str(by_i.get(key, {}).get("agents", 0))])
        elif isinstance(opt.get(tier), dict):
            peak_in = (meta.get("input_peak_agents") or {}).get(tier)
            rows.append([tier, "agents per interval (see the chart)",
                         f"peak {max(opt[tier].values(), default=0)}",
                         "–" if peak_in is None else f"peak {peak_in}"])
        elif tier in opt:
            rows.append([tier, "flat (whole horizon)", str(opt[tier]), str(inp.get(tier, "–"))])
        if tier in hours_o:
            rows.append([tier, "paid agent-hours a week", f"{hours_o[tier]:,.0f}",
                         f"{hours_i.get(tier, math.nan):,.0f}"])
    if not rows:
        return None
    return Table.of(["tier", "shift", "heads (optimized)", "heads (input)"], rows, "staffing")


def cost_lines(meta: dict, currency: str) -> list[str]:
    found, inp = meta.get("optimized_cost"), meta.get("input_cost")
    unit = meta.get("cost_unit", "")
    lines: list[str] = []
    if found is not None:
        lines.append(f"Labour cost of the optimised tiers: {fmt(found, currency)} {unit}, against "
             f"{fmt(inp, currency)} {unit} for the input's staffing"
             + (f" ({100 * (found - inp) / inp:+.1f}%)." if inp else "."))
    lb = meta.get("lower_bound")
    if lb is not None and found is not None:
        gap = meta.get("gap_to_bound")
        lines.append(
            f"Lower bound: {fmt(lb, currency)} {unit} (period-by-period Erlang requirement "
            f"with ample skills -- every agent takes every contact -- all bought at the "
            f"cheapest tier, '{meta.get('lower_bound_tier')}'); the optimized staffing is "
            + ("n/a" if gap is None or gap != gap else f"{100 * gap:.1f}%")
            + " above it. The bound is a floor under the Erlang model, not a staffing.")
    n = meta.get("evaluations")
    if n:
        lines.append(f"{n} staffings simulated in the search ({meta.get('simulations', '?')} "
                     "replications, common random numbers); the verdict shows the optimized "
                     "staffing re-simulated with fresh random numbers.")
    return lines


def periodic_targets(d: ReportData) -> Table | None:
    t = d.targets
    if t.empty or "per" not in t:
        return None
    rows = []
    for r in t.to_dict("records"):
        if not isinstance(r.get("per"), str) or not r["per"]:
            continue
        op = "≤" if r["bound"] == "max" else "≥"
        rows.append([d.label((r["scenario"], r["variant"])),
                     f"{r['metric']} {op} {r['limit']:g} in ≥ {100 * r['share']:g}% of "
                     f"{r['per']}s",
                     f"{100 * r['mean']:.1f}% of {int(r['pairs'])}",
                     f"{100 * r['ci_low']:.1f}% – {100 * r['ci_high']:.1f}%", r["status"]])
    if not rows:
        return None
    return Table.of(["option", "target", "share held (of the pairs)", "95% CI (Wilson)",
                     "status"], rows, "targets")


def optimize_data(d: ReportData) -> dict | None:
    if d.meta.get("command") != "optimize":
        return None
    meta = dict(d.meta)
    if "optimized" not in meta and d.staffing is not None and not d.staffing.empty:
        from sim.measure.results import staffing_doc  # a folder of an older ccsim

        meta["optimized"] = staffing_doc(d.staffing.to_dict("records"))
    table = roster_table(meta)
    if table is None:
        return None
    return {"table": table, "lines": cost_lines(meta, d.currency),
            "periodic": periodic_targets(d)}
