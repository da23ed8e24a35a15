"""The months where service dips while new hires learn, from workforce.csv and
workforce_kpis.csv (SPEC §7.7; what a roadmap with ``workforce:`` reports).

A month *dips during training* when new hires of some tier are still learning (their
``new_hire_share`` > 0) or a coach is coaching that month, and a service KPI misses
where the roadmap as planned (its states without the workforce, ``<state>~plan`` in
summary.csv) meets it: a target (not a cost target), or, with no such target, a
channel's ``service_level`` more than :data:`DIP_SERVICE_LEVEL` below the planned one.
Both are interpolated means (workforce_kpis.csv ``mean`` and ``planned``), so a flag is
as uncertain as the simulated months around it (their CIs are in summary.csv).
"""

from __future__ import annotations

import math

import pandas as pd

DIP_SERVICE_LEVEL = 0.05


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
