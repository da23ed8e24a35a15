"""Flat records of one replication: one row per measured contact, plus time-weighted levels.

Per-contact tallies (waits, handle times) are kept as typed columns (8 bytes a value, not a
Python object per contact); levels (queue length, busy agents) are integrated on the fly,
so nothing but the contact rows grows with the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Outcome codes of a measured contact. CLOSED: blocked because the channel's agents were
# closed (counted in `blocked` too).
CONTAINED, BLOCKED, ANSWERED, ABANDONED, CLOSED = 0, 1, 2, 3, 4
OUTCOMES = ("contained", "blocked", "answered", "abandoned", "closed")


class Level:
    """Time integral of a piecewise-constant level, clipped to the window [start, end)."""

    __slots__ = ("value", "area", "_last", "_start", "_end")

    def __init__(self, start: float, end: float, value: float = 0.0) -> None:
        self.value = value
        self.area = 0.0
        self._last = start
        self._start = start
        self._end = end

    def change(self, now: float, delta: float) -> None:
        lo = self._last if self._last > self._start else self._start
        hi = now if now < self._end else self._end
        if hi > lo:
            self.area += self.value * (hi - lo)
        self._last = now
        self.value += delta

    def close(self) -> float:
        """Integrate up to the window's end and return the area."""
        self.change(self._end, 0.0)
        return self.area


class ContactLog:
    """Measured contacts, appended as each reaches its outcome.

    Rows are buffered as tuples (one cheap append on the hot path) and packed into typed
    numpy columns every ``FLUSH`` rows, so memory stays ~40 bytes a contact.
    """

    FLUSH = 16384
    _DTYPES = (np.int16, np.int16, np.int8, np.int16, np.float64, np.float64, np.float64,
               np.int8, np.int16, np.int8)

    __slots__ = ("rows", "_packed")

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self._packed: list[list[np.ndarray]] = []

    def pack(self) -> None:
        if self.rows:
            cols = list(zip(*self.rows, strict=True))
            self._packed.append([np.array(c, dtype=d) for c, d in zip(cols, self._DTYPES,
                                                                      strict=True)])
            self.rows = []

    def frozen(self) -> Contacts:
        self.pack()
        if not self._packed:
            return Contacts(*(np.array([], dtype=d) for d in self._DTYPES))
        return Contacts(*(np.concatenate([p[i] for p in self._packed])
                          for i in range(len(self._DTYPES))))


@dataclass(frozen=True, slots=True)
class Contacts:
    """Numpy columns of a replication's measured contacts (NaN where not applicable)."""

    channel: np.ndarray
    ctype: np.ndarray
    outcome: np.ndarray
    tier: np.ndarray
    arrival_s: np.ndarray
    wait_s: np.ndarray         # first wait (to the first agent, or to abandoning)
    handle_s: np.ndarray       # total handle time over all agents (transfers included)
    repeat: np.ndarray         # 1 for a repeat contact (the customer came back)
    transfers: np.ndarray      # hand-offs to another tier
    resolved: np.ndarray       # 1 resolved, 0 not, -1 not handled by an agent


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything one replication measured, indexed like :class:`sim.routing.RouteTables`."""

    contacts: Contacts
    horizon_s: float
    queue_area: tuple[float, ...]        # per (channel * n_types + type): waiting contact-s
    busy_area: tuple[float, ...]         # per tier: integral of busy agents (agent-s)
    available_area: tuple[float, ...]    # per tier: integral of agents on queue (agent-s)
    paid_hours: tuple[float, ...]        # per tier: paid agent-hours in the measured period
    bot_sessions: tuple[int, ...]        # per channel: bot sessions of measured contacts
    handled: tuple[int, ...]             # per tier: services of measured contacts
    backlog: tuple[tuple[int, ...], ...]  # per interval end, per channel: contacts waiting
    # per interval end, per tier: load_area so far
    busy_snaps: tuple[tuple[float, ...], ...] = ()
    # per tier: integral of contacts in service / their channel's concurrency (agent-s; =
    # busy_area without concurrency)
    load_area: tuple[float, ...] = ()
    trace: list[tuple] | None = None      # (contact, time_s, event, channel, type, tier)
