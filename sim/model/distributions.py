"""Duration distributions parameterised by mean and coefficient of variation (cv).

Each sampler draws a chunk of values at once with numpy and hands them out one by one:
vectorised speed on a per-contact hot path, and memory that does not grow with the horizon.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from sim.inputs.config import Distribution

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


Draws = Callable[[], float]


def chunked(fill: Callable[[int], np.ndarray]) -> Draws:
    """A no-argument callable handing out the values of ``fill(CHUNK)``, ``fill(CHUNK)``,
    ... one by one. It is the ``__next__`` of a C-level iterator chain, so a draw costs no
    Python-level call; ``fill`` runs once per chunk."""
    chunks = map(lambda _: fill(CHUNK).tolist(), itertools.repeat(None))
    return itertools.chain.from_iterable(chunks).__next__


def sampler(dist: Distribution, rng: np.random.Generator) -> Draws:
    """Draws of ``dist`` (seconds) from ``rng``."""
    return chunked(lambda n: draw(dist, rng, n))


def uniforms(rng: np.random.Generator) -> Draws:
    """Uniform(0, 1) draws from ``rng``."""
    return chunked(rng.random)


def unit_exponentials(rng: np.random.Generator) -> Draws:
    """Exponential(1) draws from ``rng`` (the cumulative-hazard steps of a Poisson process)."""
    return chunked(rng.standard_exponential)
