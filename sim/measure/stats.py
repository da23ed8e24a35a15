"""Across-replication statistics: means with 95% confidence intervals, and target status."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.inputs.config import Target
from sim.measure.tquantiles import t975

CONFIDENCE = 0.95   # the t quantile 0.5 + CONFIDENCE / 2 = 0.975 comes from sim.measure.tquantiles


@dataclass(frozen=True, slots=True)
class Estimate:
    """Mean of a metric over replications with a Student-t 95% CI (NaN CI for n < 2),
    cut to the metric's range when one is given (see :func:`estimate`)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    half_width: float = math.nan   # the t interval's half-width, before any cut


def estimate(values: Sequence[float], low: float = -math.inf,
             high: float = math.inf) -> Estimate:
    """Mean and 95% CI of the finite values (NaN replications are left out).

    ``low``/``high`` is the range the metric cannot leave (a wait is >= 0, a share in
    [0, 1]). The t interval is intersected with it: an interval that contains the true
    value still does after the cut, so the coverage is the t interval's, and no bound is
    shown that the metric cannot take (``wait_p50_s`` 0.78 [0, 2.12], not [-0.55, 2.12]).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, 1)
    sd = float(x.std(ddof=1))
    if sd <= 1e-12 * abs(mean):  # all replications agree (a deterministic cost), up to rounding
        return Estimate(mean, mean, mean, n, 0.0)
    h = t975(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, max(mean - h, low), min(mean + h, high), n, h)


def target_status(target: Target, est: Estimate) -> str:
    """``met`` / ``missed`` / ``uncertain`` (the CI straddles the limit; or no estimate)."""
    if est.n == 0 or math.isnan(est.mean):
        return "uncertain"
    lo, hi = (est.ci_low, est.ci_high) if est.n >= 2 else (est.mean, est.mean)
    if target.max is not None:
        if hi <= target.max:
            return "met"
        return "missed" if lo > target.max else "uncertain"
    assert target.min is not None
    if lo >= target.min:
        return "met"
    return "missed" if hi < target.min else "uncertain"
