"""Flat records of one replication: measured contacts folded into tallies, plus
time-weighted levels.

Per-contact outcomes (waits, handle times) are folded chunk by chunk into fixed-size
tallies (sim.model.tally); levels (queue length, busy agents) are integrated on the fly. Nothing
grows with the number of contacts unless the per-contact columns are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.tally import Tally

# Outcome codes of a measured contact. CLOSED: blocked because the channel's agents were
# closed (counted in `blocked` too).
CONTAINED, BLOCKED, ANSWERED, ABANDONED, CLOSED = 0, 1, 2, 3, 4
OUTCOMES = ("contained", "blocked", "answered", "abandoned", "closed")


class Level:
    """Time integral of a piecewise-constant level, clipped to the window [start, end)."""

    __slots__ = ("value", "area", "last", "start", "end")

    def __init__(self, start: float, end: float, value: float = 0.0) -> None:
        self.value = value
        self.area = 0.0
        self.last = start
        self.start = start
        self.end = end

    def change(self, now: float, delta: float) -> None:
        lo = self.last if self.last > self.start else self.start
        hi = now if now < self.end else self.end
        if hi > lo:
            self.area += self.value * (hi - lo)
        self.last = now
        self.value += delta

    def close(self) -> float:
        """Integrate up to the window's end and return the area."""
        self.change(self.end, 0.0)
        return self.area


class ContactLog:
    """Measured contacts, appended as each reaches its outcome.

    Rows are buffered as tuples (one cheap append on the hot path); every ``FLUSH`` rows
    they are packed into typed numpy columns and folded into the replication's
    :class:`~sim.model.tally.Tally`. The columns are kept only when asked for (``keep``: tests and
    traces), so by default memory does not grow with the number of contacts.
    """

    FLUSH = 16384
    _DTYPES = (np.int16, np.int16, np.int8, np.int16, np.float64, np.float64, np.float64,
               np.int8, np.int16, np.int8)

    __slots__ = ("rows", "_packed", "tally", "keep")

    def __init__(self, tally: Tally, keep: bool = False) -> None:
        self.rows: list[tuple] = []
        self._packed: list[Contacts] = []
        self.tally = tally
        self.keep = keep

    def pack(self) -> None:
        rows = self.rows
        if rows:
            n = len(rows)
            chunk = Contacts(*(np.fromiter(col, dtype=d, count=n)
                               for col, d in zip(zip(*rows, strict=True), self._DTYPES,
                                                 strict=True)))
            rows.clear()  # in place: the engine holds this list
            self.tally.fold(chunk)
            if self.keep:
                self._packed.append(chunk)

    def frozen(self) -> Contacts | None:
        """Pack what is left; the kept columns (None unless ``keep``)."""
        self.pack()
        if not self.keep:
            return None
        if not self._packed:
            return Contacts(*(np.array([], dtype=d) for d in self._DTYPES))
        return Contacts(*(np.concatenate([getattr(p, f) for p in self._packed])
                          for f in Contacts.__dataclass_fields__))


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
    repeat: np.ndarray         # flags: 1 a repeat contact (the customer came back), 2 a retrial
    transfers: np.ndarray      # hand-offs to another tier
    resolved: np.ndarray       # 1 resolved, 0 not, -1 not handled by an agent


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything one replication measured, indexed like :class:`sim.model.routing.RouteTables`."""

    contacts: Contacts | None            # per-contact columns, only when kept (tests, traces)
    tally: Tally                         # what every contact metric is computed from
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
    # per measured interval, per tier: on-queue agents applied (only with absence_share)
    agents_by_interval: tuple[tuple[int, ...], ...] | None = None
