"""Months of a roadmap with ``workforce:`` that were not simulated: their costs and KPIs
linear in the month between the simulated months around them (sim/decide/roadmap_workforce.py
says which months run), and workforce_kpis.csv."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.decide.roadmap_workforce import WorkforceRun
from sim.decide.workforce_states import lerp_weights


def lerp_monthly(run: WorkforceRun, value: Callable[[str], np.ndarray], horizon: int
                 ) -> np.ndarray:
    """[..., month] of months 1..horizon: ``value(variant)`` of the simulated months,
    linear in the month in between."""
    knots = sorted(run.knots)
    cols = []
    for m in range(1, horizon + 1):
        a, b, w = lerp_weights(knots, m)
        va = value(run.knots[a])
        cols.append(va if w == 0.0 else va + w * (value(run.knots[b]) - va))
    return np.stack(cols, axis=-1)


def monthly_kpis(run: WorkforceRun, summary: pd.DataFrame, metrics: list[str],
                 horizon: int) -> pd.DataFrame:
    """workforce_kpis.csv: ``metrics`` (scope.metric) month by month, the means of the
    simulated months and linear in between; ``simulated`` says which months ran."""
    s = summary.set_index(["variant", "scope", "metric"])["mean"]
    rows = []
    for metric in metrics:
        scope, name = metric.split(".", 1)

        def val(v: str, scope: str = scope, name: str = name) -> np.ndarray:
            return np.array(float(s.get((v, scope, name), np.nan)))

        series = lerp_monthly(run, val, horizon)
        for m in range(1, horizon + 1):
            va, vb, w = run.planned.get(m, run.planned.get(-1, ("", "", 0.0)))
            plan = float(val(va)) + w * (float(val(vb)) - float(val(va))) if w else \
                float(val(va))
            rows.append([m, run.phase_of.get(m, "after"), metric, float(series[m - 1]),
                         plan, m in run.knots])
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


KPI_COLUMNS = ["month", "phase", "metric", "mean", "planned", "simulated"]
