"""The scenario at a glance (from scenario.yaml): the facts, a table per channel and per
tier, the variants and their changes. Only the columns a scenario uses."""

from __future__ import annotations

from sim.report.data import ReportData, fmt
from sim.report.parts import Table


def _num(x: object, default: float = 0.0) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _shares(d: object) -> str:
    return ", ".join(f"{k} {_num(v) * 100:.0f}%" for k, v in d.items()) \
        if isinstance(d, dict) else ""


def _hours(h: object) -> str:
    if isinstance(h, dict):
        return ", ".join(f"{k} {v}" for k, v in h.items())
    return "" if h is None else str(h)


def _arrivals(a: dict) -> str:
    if a.get("rate_per_hour") is not None:
        txt = f"{_num(a['rate_per_hour']):g} /h"
    elif isinstance(a.get("profile_per_hour"), list) and a["profile_per_hour"]:
        p = [_num(x) for x in a["profile_per_hour"]]
        txt = f"profile: mean {sum(p) / len(p):.0f} /h, peak {max(p):.0f} /h"
    else:
        txt = "from " + str(a.get("profile_file") or a.get("profile_source") or "history")
    if a.get("day_factors"):
        txt += ", by weekday"
    return txt


def _staffing(t: dict, interval_minutes: int) -> str:
    """Agents on duty: constant, or the schedule's patterns and its peak on duty."""
    if t.get("agents") is not None:
        return f"{t['agents']} on duty around the clock"
    s = t.get("schedule") if isinstance(t.get("schedule"), dict) else {}
    peak = ""
    try:
        from sim.inputs.schedule import Schedule, weekly_agents

        week = weekly_agents(Schedule.model_validate(s), interval_minutes)
        peak = f", at most {max(week)} on duty at once" if week else ""
    except Exception:  # noqa: BLE001 -- a hand-edited file: say what is there
        pass
    if s.get("agents_per_interval"):
        return "profile by interval" + peak
    n = len(s.get("shifts") or [])
    return f"{n} shift pattern{'s' if n != 1 else ''}" + peak


def changes(overrides: object) -> list[str]:
    """A variant's or phase's overrides, one per line; long values (shift lists) named."""
    out = []
    for k, v in (overrides.items() if isinstance(overrides, dict) else []):
        if isinstance(v, list | dict):
            text = ", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else ""
            if not text or len(text) > 60 or any(isinstance(b, list | dict) for b in (
                    v.values() if isinstance(v, dict) else v)):
                n = len(v)
                out.append(f"{k} (new: {n} {'entries' if n != 1 else 'entry'})")
                continue
            v = "{" + text + "}"
        out.append(f"{k} = {v}")
    return out


def _drop_unused(head: list[str], rows: list[list[str]], unused: dict[str, str]) -> Table:
    """Leave out a column whose every cell reads as its feature being off."""
    keep = [i for i, h in enumerate(head)
            if h not in unused or any(r[i] != unused[h] for r in rows)]
    return Table.of([head[i] for i in keep], [[r[i] for i in keep] for r in rows],
                    f"glance {head[0]}s")


def scenario_data(d: ReportData) -> dict:
    sc = d.scenario
    if not sc:
        return {"scenario": None}
    cur = d.currency
    costs = sc.get("costs") if isinstance(sc.get("costs"), dict) else {}
    facts = [f"horizon {_num(sc.get('horizon_hours')):g} h measured (from Monday 00:00) after "
             f"{_num(sc.get('warmup_hours')):g} h warm-up, "
             f"{sc.get('interval_minutes', 30)}-minute intervals",
             f"{sc.get('replications', '')} replications, seed {sc.get('seed', '')}, "
             f"money in {cur}"]
    if costs.get("overhead_per_hour") or costs.get("overhead_per_month"):
        facts.append(f"overhead {fmt(_num(costs.get('overhead_per_hour')), cur)} per hour "
                     f"+ {fmt(_num(costs.get('overhead_per_month')), cur)} per month")
    rows = []
    for name, ch in (sc.get("channels") or {}).items():
        ch = ch if isinstance(ch, dict) else {}
        bot = ch.get("bot") if isinstance(ch.get("bot"), dict) else None
        pat = ch.get("patience") if isinstance(ch.get("patience"), dict) else None
        mode = str(ch.get("mode") or "realtime")
        ht = ch.get("handle_time") if isinstance(ch.get("handle_time"), dict) else {}
        rows.append([
            str(name), mode, _arrivals(ch.get("arrivals") or {}), _shares(ch.get("mix")),
            ", ".join(f"{k} {_num((v or {}).get('mean_s')):g} s" for k, v in ht.items()),
            f"{_num(pat.get('mean_s')):g} s" if pat else "none",
            f"{_num(ch.get('service_level_threshold_s'), 20):g} s"
            + (" of open hours" if ch.get("sla_clock") == "open_hours" else ""),
            _hours(ch.get("open_hours")) or "always", str(ch.get("concurrency", 1)),
            (_shares(bot.get("containment")) or "0%")
            + f"; {fmt(_num(bot.get('cost_per_session')), cur)}/session" if bot else "no bot"])
    channels = _drop_unused(
        ["channel", "mode", "arrivals", "mix", "mean handle time", "patience", "SL threshold",
         "open hours", "concurrency", "bot containment"], rows,
        {"mode": "realtime", "open hours": "always", "concurrency": "1",
         "bot containment": "no bot"})
    rows = []
    minutes = int(_num(sc.get("interval_minutes"), 30))
    for name, t in (sc.get("tiers") or {}).items():
        t = t if isinstance(t, dict) else {}
        sched = t.get("schedule") if isinstance(t.get("schedule"), dict) else {}
        serves = t.get("serves") if isinstance(t.get("serves"), dict) else {}
        rows.append([
            str(name), str(sched.get("headcount", "–")), _staffing(t, minutes),
            fmt(_num(t.get("cost_per_hour")), cur),
            ", ".join(f"{k}" + ("" if _num(v) == 1 else f" ×{_num(v):g}")
                      for k, v in serves.items()) or "nothing (paid, takes no contacts)",
            ", ".join(str(c) for c in t["channels"]) if t.get("channels") else "all",
            f"{_num(t.get('shrinkage')) * 100:.0f}%",
            f"{_num(t.get('coaching_share')) * 100:.0f}%",
            f"{_num(t.get('absence_share')) * 100:.0f}%"])
    tiers = _drop_unused(
        ["tier", "heads on the payroll", "agents on duty", "cost / hour", "serves (speed)",
         "channels", "shrinkage", "coaching share", "absence"], rows,
        {"heads on the payroll": "–", "channels": "all", "shrinkage": "0%",
         "coaching share": "0%", "absence": "0%"})
    variants = [(str(v), changes(ov)) for v, ov in (sc.get("variants") or {}).items()]
    return {"scenario": {"name": str(sc.get("name", "")),
                         "description": str(sc.get("description") or "")},
            "note": d.scenario_note, "facts": facts, "channels": channels, "tiers": tiers,
            "variants": variants}
