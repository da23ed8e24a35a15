"""Shared helpers for the test suite: small scenarios, replications, CI-based checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.inputs.config import Scenario
from sim.measure.metrics import Metrics
from sim.measure.runner import Job, simulate

K = 4.0  # tolerance in standard errors of the replication mean


def scenario(channels: dict[str, Any], tiers: dict[str, Any], **top: Any) -> Scenario:
    """A validated scenario from plain dicts (defaults: name 't', horizon 100 h, seed 1)."""
    data = {"name": "t", "horizon_hours": 100.0, "seed": 1, **top,
            "channels": channels, "tiers": tiers}
    return Scenario.model_validate(data)


def one_channel(rate_per_hour: float, handle: dict[str, Any], agents: int, **channel: Any
                ) -> Scenario:
    """A single phone channel with one contact type served by one tier (M/G/c-like)."""
    top = {k: channel.pop(k) for k in list(channel)
           if k in ("horizon_hours", "warmup_hours", "seed", "replications", "interval_minutes")}
    ch = {"arrivals": {"rate_per_hour": rate_per_hour}, "mix": {"simple": 1.0},
          "handle_time": {"simple": handle}, **channel}
    return scenario({"phone": ch}, {"base": {"agents": agents, "serves": {"simple": 1.0}}},
                    **top)


def replicate(sc: Scenario, reps: int, trace: bool = False) -> list[Metrics]:
    """Metrics of replications 0..reps-1 (in-process)."""
    return [simulate(Job(sc.name, "base", sc, r, trace)).metrics for r in range(reps)]


def values(reps: Sequence[Metrics], scope: str, metric: str) -> np.ndarray:
    return np.array([m[(scope, metric)] for m in reps], dtype=float)


def assert_close_to(reps: Sequence[Metrics], scope: str, metric: str, expected: float,
                    k: float = 4.0) -> None:
    """Assert the replication mean is within k standard errors of an exact value.

    Steady-state values need a warm-up long enough that start-up bias is far below one
    standard error; tests set ``warmup_hours`` accordingly.
    """
    x = values(reps, scope, metric)
    x = x[np.isfinite(x)]
    assert x.size >= 2, f"{scope}.{metric}: not enough finite replications"
    se = x.std(ddof=1) / math.sqrt(x.size)
    tol = k * se
    assert abs(x.mean() - expected) <= tol, (
        f"{scope}.{metric}: mean {x.mean():.6g} vs exact {expected:.6g} "
        f"(|diff| {abs(x.mean() - expected):.3g} > {k} SE = {tol:.3g}; n={x.size})")


def assert_mean(x: Sequence[float], expected: float, label: str, k: float = K) -> None:
    """Mean of per-replication values ``x`` within k standard errors of ``expected``."""
    x = np.asarray(x, dtype=float)
    assert x.size >= 2 and np.all(np.isfinite(x)), f"{label}: bad replications {x}"
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - expected) <= k * se, (
        f"{label}: mean {x.mean():.6g} vs exact {expected:.6g} "
        f"(|diff| {abs(x.mean() - expected):.3g} > {k} SE = {k * se:.3g}; n={x.size})")
