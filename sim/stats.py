"""Across-replication statistics: means with 95% confidence intervals, and target status."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from sim.config import Target

CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Estimate:
    """Mean of a metric over replications with a Student-t 95% CI (NaN CI for n < 2)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0


def estimate(values: Sequence[float]) -> Estimate:
    """Mean and 95% CI of the finite values (NaN replications are left out)."""
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
        return Estimate(mean, mean, mean, n)
    h = float(sps.t.ppf(0.5 + CONFIDENCE / 2.0, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - h, mean + h, n)


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
