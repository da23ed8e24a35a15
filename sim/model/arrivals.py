"""Poisson arrivals with a piecewise-constant rate repeated every day.

Simulation time is seconds with t = 0 at 00:00 of the first measured day (warm-up runs at
negative times), so ``t % 86400`` is the time of day. The next arrival after ``t`` is found
by inverting the cumulative rate with one Exponential(1) draw — exact, no thinning.
"""

from __future__ import annotations

import math
from collections.abc import Callable

DAY_S = 86400.0


class ArrivalClock:
    """Next-arrival times for a daily rate profile (one rate per slot)."""

    __slots__ = ("_rates_per_s", "_slot_s", "_n", "_constant", "_any", "_day_factor",
                 "_k", "_r")

    def __init__(self, rates_per_hour: list[float], slot_s: float,
                 day_factor: Callable[[int], float] | None = None) -> None:
        """``day_factor(d)`` multiplies every rate of day d (day 0 starts at t = 0)."""
        self._rates_per_s = [r / 3600.0 for r in rates_per_hour]
        self._slot_s = slot_s
        self._n = len(rates_per_hour)
        self._day_factor = day_factor
        self._constant = len(set(rates_per_hour)) == 1 and day_factor is None
        self._any = any(r > 0 for r in rates_per_hour) and (
            day_factor is None or any(day_factor(d) > 0 for d in range(7)))
        self._k, self._r = None, 0.0  # the last slot looked up and its rate (day factor in)

    def _rate(self, k: int) -> float:
        """The rate of slot ``k`` (per second, times its day's factor)."""
        r = self._rates_per_s[k % self._n]
        if r > 0.0 and self._day_factor is not None:
            r *= self._day_factor(k // self._n)
        return r

    def next_after(self, t: float, e: float) -> float:
        """Time of the next arrival after ``t``, given a unit-exponential draw ``e``."""
        if not self._any:
            return math.inf
        if self._constant:
            return t + e / self._rates_per_s[0]
        slot_s = self._slot_s
        k = math.floor(t / slot_s)
        # The common case: the arrival falls in the slot of t, whose rate is kept from the
        # last call (the same value _rate gives; the day factor caches its draw anyway).
        if k != self._k:
            self._k, self._r = k, self._rate(k)
        r = self._r
        end = (k + 1) * slot_s
        if r > 0.0 and t < end:
            need = e / r
            if t + need < end:
                return t + need
        while True:  # the general walk over slots (the first step is the one above again)
            end = (k + 1) * slot_s
            if t < end:
                r = self._rate(k)
                if r > 0.0:
                    need = e / r
                    if t + need < end:
                        return t + need
                    e -= (end - t) * r
                t = end
            k += 1

    def expected_count(self, start_s: float, end_s: float) -> float:
        """Integral of the rate over [start_s, end_s): the expected number of arrivals."""
        total, t = 0.0, start_s
        slot_s = self._slot_s
        while t < end_s:
            k = math.floor(t / slot_s)
            end = min((k + 1) * slot_s, end_s)
            if end <= t:
                k += 1
                end = min((k + 1) * slot_s, end_s)
            r = self._rates_per_s[k % self._n]
            if self._day_factor is not None:
                r *= self._day_factor(k // self._n)
            total += (end - t) * r
            t = end
        return total
