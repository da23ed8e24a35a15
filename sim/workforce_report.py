"""What a roadmap run with ``workforce:`` writes and says: workforce.csv, workforce_kpis.csv,
the months where service dips while new hires learn, and the terminal's summary line.

A month *dips during training* when new hires of some tier are still learning (their
``new_hire_share`` > 0) or a coach is coaching that month, and a service KPI misses
where the roadmap as planned (its states without the workforce, ``<state>~plan`` in
summary.csv) meets it: a target (not a cost target), or, with no such target, a
channel's ``service_level`` more than 0.05 below the planned one. Both are interpolated
means (workforce_kpis.csv ``mean`` and ``planned``), so a flag is as uncertain as the
simulated months around it (their CIs are in summary.csv).
"""

from __future__ import annotations

import math

import pandas as pd
from rich.text import Text

from sim.workforce import WORKFORCE_COLUMNS, workforce_rows
from sim.workforce_months import monthly_kpis

DIP_SERVICE_LEVEL = 0.05


def kpi_metrics(lr) -> list[str]:  # noqa: ANN001
    sc = lr.points[0].scenario
    out = [t.metric for t in sc.targets]
    out += [f"{ch}.{m}" for ch in sc.channels for m in ("service_level", "asa_s")]
    out += [f"{t}.occupancy" for t in lr.roadmap.workforce]
    return list(dict.fromkeys(out))


def workforce_tables(lr, summary: pd.DataFrame) -> dict[str, pd.DataFrame]:  # noqa: ANN001
    run = lr.workforce
    horizon = lr.roadmap.horizon
    table = pd.DataFrame(workforce_rows(run.path), columns=WORKFORCE_COLUMNS)
    table = table[table["month"] <= horizon].reset_index(drop=True)
    kpis = monthly_kpis(run, summary, kpi_metrics(lr), horizon)
    return {"workforce": table, "workforce_kpis": kpis}


def _targets(meta_targets: list[dict]) -> list[tuple[str, str, float]]:
    out = []
    for t in meta_targets:
        metric = str(t.get("metric", ""))
        if metric.startswith("cost.") or "." not in metric:
            continue
        bound = "min" if t.get("min") is not None else "max"
        out.append((metric, bound, float(t[bound])))
    return out


def _meets(value: float, bound: str, limit: float) -> bool:
    return not math.isnan(value) and (value >= limit if bound == "min" else value <= limit)


def service_dips(workforce: pd.DataFrame, kpis: pd.DataFrame, targets: list[dict],
                 coaching_months: set[int]) -> list[tuple[int, str]]:
    """(month, what dips) of every month that dips during training (module docstring)."""
    if workforce is None or kpis is None or workforce.empty or kpis.empty:
        return []
    learning = set(workforce[workforce["new_hire_share"] > 1e-9]["month"].astype(int))
    training = sorted(learning | coaching_months)
    by = kpis.set_index(["month", "metric"])
    checks = _targets(targets)
    channels = sorted({m.split(".")[0] for m in kpis["metric"]
                       if m.endswith(".service_level")})
    out = []
    for m in training:
        what = []

        def get(metric: str, m: int = m) -> tuple[float, float]:
            if (m, metric) not in by.index:
                return math.nan, math.nan
            row = by.loc[(m, metric)]
            return float(row["mean"]), float(row["planned"])

        for metric, bound, limit in checks:
            now, plan = get(metric)
            if _meets(plan, bound, limit) and not _meets(now, bound, limit):
                what.append(f"{metric} {now:.3g} ({bound} {limit:g}; as planned "
                            f"{plan:.3g})")
        if not checks:
            for ch in channels:
                now, plan = get(f"{ch}.service_level")
                if not (math.isnan(now) or math.isnan(plan)) and \
                        now < plan - DIP_SERVICE_LEVEL:
                    what.append(f"{ch}.service_level {now:.2f} (as planned {plan:.2f})")
        if what:
            out.append((m, "; ".join(what)))
    return out


def dips_of(lr, tables: dict[str, pd.DataFrame]) -> list[tuple[int, str]]:  # noqa: ANN001
    targets = [t.model_dump(exclude_none=True) for t in lr.points[0].scenario.targets]
    coaching = {int(c["month"]) for c in lr.workforce.coaching if c["taken_hours"] > 0}
    return service_dips(tables["workforce"], tables["workforce_kpis"], targets, coaching)


def workforce_line(workforce: pd.DataFrame, kpis: pd.DataFrame, lr) -> Text:  # noqa: ANN001
    """One or two lines: heads at start and end per tier, hires and leavers in total,
    the months that dip during training."""
    parts = []
    for tier, g in workforce.groupby("tier", sort=False):
        start = lr.workforce.path.tiers[tier].headcount[0]
        parts.append(f"{tier} {start:.0f} -> {g['headcount'].iloc[-1]:.1f} heads "
                     f"(hires {g['hires'].sum():.1f}, leavers {g['leavers'].sum():.1f})")
    dips = dips_of(lr, {"workforce": workforce, "workforce_kpis": kpis})
    sim = len(lr.workforce.knots) - 1
    text = Text(f"workforce over {len(workforce['month'].unique())} months: "
                + "; ".join(parts) + f" (expected values; {sim} months simulated, the "
                "rest interpolated: workforce.csv, workforce_kpis.csv)")
    if dips:
        months = ", ".join(str(m) for m, _ in dips[:8]) + (" ..." if len(dips) > 8 else "")
        text.append(f"\nservice dips while new hires learn in month(s) {months} "
                    f"(interpolated means; uncertain where they sit near the bound): "
                    f"{dips[0][1]}")
    return text
