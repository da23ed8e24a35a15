"""Opening hours over the week, and the business-hours clock.

``open_hours`` is either ``"HH:MM-HH:MM"`` (the same window every day) or a mapping of
weekdays to windows, ``{mon-fri: "08:00-20:00", sat: "09:00-13:00"}``: keys are ``mon`` ...
``sun``, ranges such as ``mon-fri`` (``fri-mon`` wraps over the weekend) or comma lists of
those (``"sat,sun"``); a day not listed is closed. A window whose end is not after its start
runs past midnight into the next day (the day it starts on owns it), and equal start and
end mean 24 hours from the start. Simulation time t = 0 is Monday 00:00, so the week repeats
every 604,800 s (negative times are the warm-up, in the week before).

:class:`Hours` answers "open at t?", "when does it open next?" and "how many open seconds
between a and b?" (the business clock of ``sla_clock: open_hours``).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
WINDOW_HELP = 'opening hours "HH:MM-HH:MM", e.g. "08:00-22:00"'
HoursSpec = str | Mapping[str, str]


def window_s(hours: str) -> tuple[float, float]:
    """(open, close) seconds after midnight of a valid ``"HH:MM-HH:MM"``."""
    a, b = hours.split("-")
    to_s = [int(x.split(":")[0]) * 3600 + int(x.split(":")[1]) * 60 for x in (a, b)]
    return float(to_s[0]), float(to_s[1])


def day_indices(key: str) -> list[int]:
    """Weekday numbers (Monday 0) of a key such as ``mon``, ``mon-fri`` or ``"sat,sun"``;
    raises ValueError naming what is expected."""
    out: list[int] = []
    for part in str(key).split(","):
        part = part.strip().lower()
        lo, sep, hi = part.partition("-")
        if lo not in DAYS or (sep and hi not in DAYS):
            raise ValueError(f"unknown day {key!r}: expected mon, tue, wed, thu, fri, sat or "
                             "sun, a range such as mon-fri, or a comma list such as sat,sun")
        a = DAYS.index(lo)
        b = DAYS.index(hi) if sep else a
        out += [(a + k) % 7 for k in range((b - a) % 7 + 1)]
    return out


def check_hours(value: object) -> object:
    """Validate an ``open_hours`` value (pydantic validator helper); None passes."""
    if value is None:
        return None
    if isinstance(value, str):
        if not _WINDOW.match(value):
            raise ValueError(f"expected {WINDOW_HELP}, or a mapping of weekdays to such hours, "
                             'e.g. {mon-fri: "08:00-20:00", sat: "09:00-13:00"}')
        return value
    if isinstance(value, Mapping):
        if not value:
            raise ValueError("list at least one day, e.g. {mon-fri: \"08:00-20:00\"} (a day "
                             "not listed is closed; omit open_hours for always open)")
        seen: dict[int, str] = {}
        for key, hours in value.items():
            days = day_indices(key)
            if not isinstance(hours, str) or not _WINDOW.match(hours):
                raise ValueError(f"{key}: expected {WINDOW_HELP}")
            for d in days:
                if d in seen:
                    raise ValueError(f"{DAYS[d]} is listed twice (in {seen[d]!r} and {key!r})")
                seen[d] = str(key)
        return dict(value)
    raise ValueError(f"expected {WINDOW_HELP}, or a mapping of weekdays to such hours")


class Hours:
    """Weekly opening hours: disjoint, sorted open intervals [start, end) of the week.

    A plain daily window keeps its own fast test (the same arithmetic on every day).
    """

    __slots__ = ("daily", "starts", "ends", "_cum", "per_period", "period", "openings")

    def __init__(self, spec: HoursSpec) -> None:
        if isinstance(spec, str):
            lo, hi = window_s(spec)
            self.daily: tuple[float, float] | None = (lo, hi)
            self.period = DAY_S
            pieces = _fold(lo, _close(lo, hi), DAY_S)
            self.openings = [lo]
        else:
            self.daily = None
            self.period = WEEK_S
            raw: list[tuple[float, float]] = []
            for key, hours in spec.items():
                lo, hi = window_s(hours)
                for d in day_indices(key):
                    raw += _fold(d * DAY_S + lo, d * DAY_S + _close(lo, hi), WEEK_S)
            pieces = raw
            self.openings = []
        merged: list[list[float]] = []
        for a, b in sorted(pieces):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]
        if self.daily is None:  # an interval starting at 0 that continues the week's end
            wraps = bool(merged) and merged[0][0] == 0.0 and merged[-1][1] == WEEK_S
            self.openings = [a for i, a in enumerate(self.starts) if not (i == 0 and wraps)]
            if len(merged) == 1 and merged[0] == [0.0, WEEK_S]:
                self.openings = [0.0]
        cum = [0.0]
        for a, b in merged:
            cum.append(cum[-1] + (b - a))
        self._cum = cum
        self.per_period = cum[-1]

    def is_open(self, t: float) -> bool:
        daily = self.daily
        if daily is not None:
            tod = t % DAY_S
            lo, hi = daily
            return lo <= tod < hi if lo < hi else (tod >= lo or tod < hi)
        w = t % WEEK_S
        i = bisect.bisect_right(self.starts, w) - 1
        return i >= 0 and w < self.ends[i]

    @property
    def always_open(self) -> bool:
        return self.per_period >= self.period

    @property
    def never_open(self) -> bool:
        return self.per_period <= 0.0

    def next_opening(self, t: float) -> float:
        """The first opening instant (a window's start) at or after t; inf if none."""
        if not self.openings:
            return math.inf
        p = self.period
        base = math.floor(t / p) * p
        for k in (0, 1):
            for o in self.openings:
                if base + k * p + o >= t:
                    return base + k * p + o
        return math.inf  # pragma: no cover - unreachable with a non-empty list

    def opening_after(self, when: float) -> float:
        """The opening after the one at ``when`` (exactly ``when`` + 24 h for daily hours)."""
        if self.daily is not None:
            return when + DAY_S
        return self.next_opening(math.nextafter(when, math.inf))

    def open_before(self, t: float) -> float:
        """Open seconds in [0, t) (negative for t < 0), the period repeating."""
        p = self.period
        k = math.floor(t / p)
        w = t - k * p
        if w >= p:  # rounding of a tiny negative t
            k, w = k + 1, 0.0
        i = bisect.bisect_right(self.starts, w) - 1
        part = 0.0
        if i >= 0:
            part = self._cum[i] + min(w, self.ends[i]) - self.starts[i]
        return k * self.per_period + part

    def open_s(self, a: float, b: float) -> float:
        """Open seconds in [a, b): the business-hours length of a wait from a to b."""
        if b <= a:
            return 0.0
        return max(0.0, self.open_before(b) - self.open_before(a))


def _close(lo: float, hi: float) -> float:
    """End of a window opening at ``lo`` seconds after midnight: ``hi`` of the same day, or
    of the next day when it is not after ``lo`` (equal: 24 hours)."""
    return hi if hi > lo else hi + DAY_S


def _fold(a: float, b: float, p: float) -> list[tuple[float, float]]:
    """[a, b) (0 <= a < p, b - a <= p) folded into the period [0, p)."""
    if b <= p:
        return [(a, b)]
    return [(x, y) for x, y in ((a, p), (0.0, b - p)) if y > x]


def hours_or_none(spec: HoursSpec | None) -> Hours | None:
    """An :class:`Hours` for a given ``open_hours``, None for always open (omitted)."""
    return None if spec is None else Hours(spec)
