"""What a roadmap run with ``workforce:`` writes and says: workforce.csv, workforce_kpis.csv
and the terminal's summary line, with the months where service dips while new hires learn
(their definition: sim/measure/workforce_dips.py).
"""

from __future__ import annotations

import pandas as pd
from rich.text import Text

from sim.decide.workforce import WORKFORCE_COLUMNS, workforce_rows
from sim.decide.workforce_months import monthly_kpis
from sim.measure.workforce_dips import service_dips


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
