"""Duration distributions parameterised by mean and coefficient of variation (cv).

Each sampler draws a chunk of values at once with numpy and hands them out one by one:
vectorised speed on a per-contact hot path, and memory that does not grow with the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.config import Distribution

CHUNK = 4096


def draw(dist: Distribution, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` draws of ``dist`` in seconds."""
    m = dist.mean_s
    if dist.dist == "exponential":
        return rng.exponential(m, size)
    if dist.dist == "constant":
        return np.full(size, m)
    cv = float(dist.cv or 0.0)
    if dist.dist == "lognormal":
        sigma2 = math.log1p(cv * cv)
        return rng.lognormal(math.log(m) - sigma2 / 2.0, math.sqrt(sigma2), size)
    if dist.dist == "gamma":
        shape = 1.0 / (cv * cv)
        return rng.gamma(shape, m / shape, size)
    raise ValueError(f"unknown distribution {dist.dist!r}")


class Draws:
    """Hands out values from ``fill(CHUNK)`` one by one, refilling a chunk at a time."""

    __slots__ = ("_fill", "_buf", "_i")

    def __init__(self, fill: Callable[[int], np.ndarray]) -> None:
        self._fill = fill
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i == len(self._buf):
            self._buf = self._fill(CHUNK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


def sampler(dist: Distribution, rng: np.random.Generator) -> Draws:
    """Draws of ``dist`` (seconds) from ``rng``."""
    return Draws(lambda n: draw(dist, rng, n))


def uniforms(rng: np.random.Generator) -> Draws:
    """Uniform(0, 1) draws from ``rng``."""
    return Draws(rng.random)


def unit_exponentials(rng: np.random.Generator) -> Draws:
    """Exponential(1) draws from ``rng`` (the cumulative-hazard steps of a Poisson process)."""
    return Draws(rng.standard_exponential)
