"""Across-replication estimates: CIs inside a metric's range, with the t interval's coverage."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.inputs.config import metric_range
from sim.measure.stats import estimate

ROOT = Path(__file__).resolve().parent.parent


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 50.0), min_size=2, max_size=12), st.floats(0.0, 50.0))
def test_cutting_to_the_range_never_changes_whether_a_true_value_is_covered(
        xs: list[float], truth: float) -> None:
    """Any value the metric can take (>= 0) is inside the cut CI exactly when it is inside
    the plain t interval: coverage is unchanged, only impossible values are dropped."""
    plain, cut = estimate(xs), estimate(xs, 0.0, math.inf)
    assert cut.ci_low >= 0.0 and cut.mean == plain.mean
    assert (plain.ci_low <= truth <= plain.ci_high) == (cut.ci_low <= truth <= cut.ci_high)
    assert cut.half_width == plain.half_width


def test_a_share_near_zero_keeps_its_lower_bound_at_zero() -> None:
    est = estimate([0.0, 0.0, 0.01], *metric_range("phone", "abandon_rate"))
    assert est.ci_low == 0.0 and est.ci_high > est.mean > 0.0
    est = estimate([1.0, 0.99, 1.0], *metric_range("base", "occupancy"))
    assert est.ci_high == 1.0 and est.ci_low < est.mean
    assert metric_range("roadmap", "roi") == (-math.inf, math.inf)
    assert metric_range("cost", "savings_per_month") == (-math.inf, math.inf)


def test_summary_bounds_stay_inside_each_metrics_range() -> None:
    """Three replications of a short day: wide t intervals, several would go below 0."""
    res = sim.run(ROOT / "scenarios" / "demo.yaml", reps=3,
                  set={"horizon_hours": 2, "warmup_hours": 0})
    s = res.summary.dropna(subset=["ci_low"])
    bounds = pd.DataFrame([metric_range(a, b) for a, b in zip(s["scope"], s["metric"],
                                                              strict=True)],
                          index=s.index, columns=["lo", "hi"])
    assert (s["ci_low"] >= bounds["lo"]).all() and (s["ci_high"] <= bounds["hi"]).all()
    # the cut was needed somewhere: some t interval reached below 0
    reps = res.replications.groupby(["variant", "scope", "metric"])["value"]
    t_low = reps.mean() - 4.303 * reps.std(ddof=1) / np.sqrt(3)   # t(0.975, 2) = 4.303
    assert (t_low < 0).any()


def test_the_t_table_is_scipys_quantile_to_the_last_bit() -> None:
    """sim.measure.tquantiles replaces scipy.stats.t.ppf(0.975, df) at start-up: every tabled value
    is scipy's exactly, and past the table the same function still asks scipy."""
    from scipy import stats

    from sim.measure.tquantiles import T975, t975

    assert len(T975) == 200
    for df in range(1, len(T975) + 1):
        assert t975(df) == float(stats.t.ppf(0.975, df)), df
    for df in (201, 250, 9_999):
        assert t975(df) == float(stats.t.ppf(0.975, df)), df


def test_an_interval_uses_the_tabled_t_quantile() -> None:
    """The half-width is t(0.975, n - 1) * sd / sqrt(n), as with scipy's quantile."""
    from scipy import stats

    for n in (2, 5, 30, 201, 202, 300):
        xs = [float(i % 7) + 0.25 * i for i in range(n)]
        sd = float(np.std(xs, ddof=1))
        want = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        assert estimate(xs).half_width == want, n
