"""Paired comparisons of options run with common random numbers (`ccsim compare`).

Replication r of every option sees the same customers (same seed, same streams), so the
difference of a metric between two options is taken replication by replication and its
CI comes from the spread of those paired differences — much narrower than what two
independent CIs would suggest, because the customers' luck cancels out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from sim.measure.results import Option
from sim.measure.stats import estimate

DIFF_COLUMNS = ["scenario", "variant", "scope", "metric", "diff_mean", "ci_low", "ci_high"]


def differences_table(options: Sequence[Option]) -> pd.DataFrame:
    """Paired differences (option − first option) for every metric, by replication."""
    if not options or not options[0].reps:
        return pd.DataFrame(columns=DIFF_COLUMNS)
    ref = {r.replication: r.metrics for r in options[0].reps}
    rows = []
    for opt in options[1:]:
        paired = [(r.metrics, ref[r.replication]) for r in opt.reps if r.replication in ref]
        if not paired:
            continue
        for key in paired[0][0]:
            diffs = [m.get(key, math.nan) - b.get(key, math.nan) for m, b in paired]
            est = estimate(diffs)
            rows.append([opt.scenario_name, opt.variant, key[0], key[1], est.mean, est.ci_low,
                         est.ci_high])
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def best_option(targets: pd.DataFrame, summary: pd.DataFrame) -> tuple[str, str] | None:
    """The (scenario, variant) meeting all its targets at the lowest mean total cost."""
    if summary.empty:
        return None
    cost = summary[(summary["scope"] == "cost") & (summary["metric"] == "total")]
    best, best_cost = None, math.inf
    for _, row in cost.iterrows():
        key = (row["scenario"], row["variant"])
        mine = targets[(targets["scenario"] == key[0]) & (targets["variant"] == key[1])]
        if len(mine) and (mine["status"] == "met").all() and row["mean"] < best_cost:
            best, best_cost = key, row["mean"]
    return best
