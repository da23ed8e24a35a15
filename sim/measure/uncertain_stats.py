"""Statistics over draws of uncertain inputs: probabilities with Wilson intervals,
quantiles, rank-correlation sensitivity (tornado bars), and the split of an output's
variance into input uncertainty and simulation noise."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Share k/n with its Wilson score 95% interval (stays in [0, 1], fine at 0 and n)."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, mid - half)
    hi = 1.0 if k == n else min(1.0, mid + half)
    return p, lo, hi


def quantile(values: np.ndarray, q: float, never: bool = False) -> float:
    """The q-quantile of the draws. ``never``: NaN means "never" (a payback not reached),
    ranked above every number; a quantile that falls on it is NaN (empty). Months use
    the inverted-CDF quantile (an actual draw's month); other outputs interpolate."""
    x = np.asarray(values, dtype=float)
    if never:
        x = np.where(np.isnan(x), np.inf, x)
        v = float(np.quantile(x, q, method="inverted_cdf"))
        return math.nan if math.isinf(v) else v
    x = x[np.isfinite(x)]
    return float(np.quantile(x, q)) if x.size else math.nan


@dataclass(frozen=True)
class Split:
    """Variance of an output's draw means, split (two-way draw x replication ANOVA)."""

    mean: float
    input_var: float      # variance due to the uncertain inputs
    noise_var: float      # simulation noise in one draw's mean (within-draw var / reps)
    draws: int
    reps: int

    @property
    def input_share(self) -> float:
        tot = self.input_var + self.noise_var
        return self.input_var / tot if tot > 0 else math.nan

    @property
    def advice(self) -> str:
        if not math.isfinite(self.noise_var):
            return "one replication per draw: noise not measured (use at least 2)"
        if self.input_var == 0 and self.noise_var == 0:
            return "no spread: the inputs do not move it"
        if self.noise_var > 0.25 * self.input_var:
            return "noise is large: more replications sharpen each draw"
        return "inputs dominate: more draws sharpen the distribution"


def variance_split(y: np.ndarray) -> Split:
    """``y[draw, replication]``. Input variance = (MS_draw - MS_residual) / R from the
    two-way decomposition (replications are crossed with draws under common random
    numbers: replication r sees the same customers in every draw, so its shared part
    shifts all draws alike and is not counted as spread); noise = mean within-draw
    variance / R, the noise in one draw's mean."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y).all(axis=1)
    y = y[ok]
    d, r = y.shape if y.ndim == 2 else (0, 0)
    if d == 0:
        return Split(math.nan, math.nan, math.nan, 0, r)
    dm = y.mean(axis=1)
    if r < 2:
        return Split(float(dm.mean()), float(dm.var(ddof=1)) if d > 1 else math.nan,
                     math.nan, d, r)
    noise = float(y.var(axis=1, ddof=1).mean()) / r
    if d < 2:
        return Split(float(dm.mean()), math.nan, noise, d, r)
    rm = y.mean(axis=0)
    resid = y - dm[:, None] - rm[None, :] + y.mean()
    ms_draw = r * float(dm.var(ddof=1))
    ms_res = float((resid ** 2).sum()) / ((d - 1) * (r - 1))
    return Split(float(dm.mean()), max(0.0, (ms_draw - ms_res) / r), noise, d, r)


def sensitivity(params: np.ndarray, names: Sequence[str], output: np.ndarray,
                never_as: float | None = None) -> list[tuple[str, float, float, float]]:
    """(parameter, Spearman rank correlation, output mean over the draws in the
    parameter's lowest tenth, in its highest tenth), strongest |correlation| first.
    ``never_as``: value that stands for NaN ("never", e.g. horizon + 1 for a payback)."""
    from scipy import stats

    y = np.asarray(output, dtype=float)
    if never_as is not None:
        y = np.where(np.isnan(y), never_as, y)
    rows = []
    n = len(y)
    tenth = max(1, int(math.ceil(n / 10)))
    for j, name in enumerate(names):
        x = params[:, j]
        ok = np.isfinite(y)
        if ok.sum() < 3 or np.ptp(y[ok]) == 0 or np.ptp(x[ok]) == 0:
            rho = 0.0 if ok.sum() >= 3 and np.ptp(y[ok]) == 0 else math.nan
        else:
            rho = float(stats.spearmanr(x[ok], y[ok]).statistic)
        order = np.argsort(x, kind="stable")
        low, high = y[order[:tenth]], y[order[-tenth:]]
        rows.append((name, rho, _mean(low), _mean(high)))
    rows.sort(key=lambda t: (-abs(t[1]) if math.isfinite(t[1]) else 1.0))
    return rows


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan
