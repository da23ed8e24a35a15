"""Streaming tallies of one replication: what the metrics need, without a row per contact.

The engine appends each measured contact as a small tuple when it reaches its outcome; every
``FLUSH`` rows the chunk is packed into numpy columns and folded here into fixed-size
arrays: per (channel, contact type) *cell* the counts by outcome and the sums and counts
behind every contact metric, plus a histogram of waits; per (interval, channel) the counts
and sums of ``intervals.csv``. Memory is then flat in the horizon: about 160 KB per cell
(the histogram) plus 48 bytes per interval and channel, whatever the number of contacts.
Every scope (a channel, a contact type, ``all``, ``realtime``, ``async``) is a union of
cells, so its metrics are sums over cells — exact for counts and means.

Wait percentiles come from the histogram (:class:`WaitHistogram`): a wait of exactly 0 is
counted exactly; a wait w >= 2^-10 s falls in one of 512 bins per doubling (the top 9
mantissa bits of the float), so the bin's midpoint is within 2^-10 (0.098%) of w; waits in
(0, 2^-10 s) share one bin read as 2^-11 s. The percentile of a scope is numpy's linear
interpolation between the order statistics read this way, hence within 0.098% + 0.5 ms of
``numpy.percentile`` of the exact waits. Waits above 2^28 s (8.5 years) are read as 2^28 s.
"""

from __future__ import annotations

import math

import numpy as np

from sim.model.records import ABANDONED, ANSWERED, CONTAINED, OUTCOMES, Contacts


class WaitHistogram:
    """Bins of waits with a bounded relative error (see the module docstring)."""

    MANTISSA_BITS = 9              # 512 bins per doubling
    E_MIN, E_MAX = -10, 28         # log bins cover [2^-10 s, 2^28 s)
    _SHIFT = 52 - MANTISSA_BITS
    _FIRST = (1023 + E_MIN) << MANTISSA_BITS
    N_LOG = (E_MAX - E_MIN) << MANTISSA_BITS
    N_BINS = 2 + N_LOG             # bin 0: exactly 0; bin 1: (0, 2^-10 s); then log bins
    RELATIVE_ERROR = 2.0 ** -(MANTISSA_BITS + 1)
    ABSOLUTE_ERROR_S = 2.0 ** (E_MIN - 1)

    @classmethod
    def bins(cls, w: np.ndarray) -> np.ndarray:
        """Bin index of each wait (w >= 0, finite)."""
        w = np.ascontiguousarray(w, dtype=np.float64)
        log = (w.view(np.int64) >> cls._SHIFT) - cls._FIRST
        idx = np.clip(log, 0, cls.N_LOG - 1) + 2
        idx[w < 2.0 ** cls.E_MIN] = 1
        idx[w <= 0.0] = 0
        return idx

    @classmethod
    def values(cls) -> np.ndarray:
        """The value each bin is read as: 0, 2^-11 s, then each log bin's midpoint."""
        lower = ((np.arange(cls.N_LOG + 1, dtype=np.int64) + cls._FIRST) << cls._SHIFT
                 ).view(np.float64)
        mid = (lower[:-1] + lower[1:]) / 2.0
        return np.concatenate([[0.0, cls.ABSOLUTE_ERROR_S], mid])

    @classmethod
    def percentile(cls, counts: np.ndarray, q: float) -> float:
        """numpy's linear percentile (q in 0..100) of the waits counted in ``counts``."""
        n = int(counts.sum())
        if n == 0:
            return math.nan
        h = (n - 1) * (q / 100.0)
        lo = math.floor(h)
        cum = np.cumsum(counts)
        ks = [lo, min(lo + 1, n - 1)]
        at = np.searchsorted(cum, ks, side="right")
        vals = _VALUES[at]
        return float(vals[0] + (vals[1] - vals[0]) * (h - lo))


_VALUES = WaitHistogram.values()

# per-cell sums and counts (besides counts by outcome and the histogram)
CELL_FIELDS = ("wait_answered_s", "wait_queued_s", "waited", "in_service_level",
               "handle_answered_s", "first_resolved", "transfers_answered", "repeats",
               "retrials")
# per (interval, channel)
INTERVAL_FIELDS = ("offered", "answered", "abandoned", "queued", "wait_answered_s",
                   "in_service_level")


class Tally:
    """The tallies of one replication, folded chunk by chunk from packed contact columns."""

    def __init__(self, n_channels: int, n_types: int, thresholds_s: list[float],
                 n_slots: int, slot_s: float, retrial_channels: list[bool] | None = None
                 ) -> None:
        self.n_channels, self.n_types = n_channels, n_types
        n = n_channels * n_types
        self.outcomes = np.zeros((n, len(OUTCOMES)), dtype=np.int64)
        self.cell = {f: np.zeros(n) for f in CELL_FIELDS}
        self.hist = np.zeros((n, WaitHistogram.N_BINS), dtype=np.int64)
        # fed by the engine directly (features' own paths), per cell
        self.lost = np.zeros(n, dtype=np.int64)        # retrial channels only
        self.callbacks = np.zeros(n, dtype=np.int64)
        self.callback_unreached = np.zeros(n, dtype=np.int64)
        self.n_slots, self.slot_s = n_slots, slot_s
        self.slots = {f: np.zeros((n_slots, n_channels)) for f in INTERVAL_FIELDS}
        self._thr = np.asarray(thresholds_s, dtype=float)
        # without retrials a customer is lost when its one attempt is (the engine counts the
        # customers of retrial channels itself: their last attempt may come after the horizon)
        self._lost_here = ~np.asarray(retrial_channels or [False] * n_channels, dtype=bool)

    def fold(self, c: Contacts) -> None:
        """Add a chunk of measured contacts."""
        if not c.outcome.size:
            return
        n = self.n_channels * self.n_types
        cell = c.channel.astype(np.int64) * self.n_types + c.ctype
        out = c.outcome.astype(np.int64)
        self.outcomes += np.bincount(cell * len(OUTCOMES) + out,
                                     minlength=n * len(OUTCOMES)).reshape(n, len(OUTCOMES))
        ans = out == ANSWERED
        joined = ans | (out == ABANDONED)
        w = c.wait_s
        in_sl = ans & (w <= self._thr[c.channel])

        def add(field: str, mask: np.ndarray, weights: np.ndarray | None = None) -> None:
            self.cell[field] += np.bincount(cell[mask], weights=None if weights is None
                                            else weights[mask], minlength=n)

        add("wait_answered_s", ans, w)
        add("wait_queued_s", joined, w)
        add("waited", joined & (w > 0.0))
        add("in_service_level", in_sl)
        add("handle_answered_s", ans, c.handle_s)
        add("first_resolved", ans & (c.resolved == 1) & (c.transfers == 0))
        add("transfers_answered", ans, c.transfers.astype(float))
        add("repeats", (c.repeat & 1) != 0)
        add("retrials", (c.repeat & 2) != 0)
        lost = (out != CONTAINED) & ~ans & self._lost_here[c.channel]
        self.lost += np.bincount(cell[lost], minlength=n)
        np.add.at(self.hist, (cell[joined], WaitHistogram.bins(w[joined])), 1)

        slot = np.minimum((c.arrival_s // self.slot_s).astype(np.int64), self.n_slots - 1)
        key = slot * self.n_channels + c.channel
        size = self.n_slots * self.n_channels

        def per_slot(field: str, mask: np.ndarray | None, weights: np.ndarray | None = None
                     ) -> None:
            k = key if mask is None else key[mask]
            wt = None if weights is None else (weights if mask is None else weights[mask])
            self.slots[field] += np.bincount(k, weights=wt, minlength=size).reshape(
                self.n_slots, self.n_channels)

        per_slot("offered", None)
        per_slot("answered", ans)
        per_slot("abandoned", out == ABANDONED)
        per_slot("queued", joined)
        per_slot("wait_answered_s", ans, w)
        per_slot("in_service_level", in_sl)

    def scope(self, cells: np.ndarray | slice) -> ScopeTally:
        """The sums over some cells (a boolean mask or a slice over cell indices)."""
        return ScopeTally(
            self.outcomes[cells].sum(axis=0),
            {f: float(v[cells].sum()) for f, v in self.cell.items()},
            self.hist[cells].sum(axis=0),
            int(self.lost[cells].sum()), int(self.callbacks[cells].sum()),
            int(self.callback_unreached[cells].sum()))

    def cells_of(self, channels: list[int] | None = None, types: list[int] | None = None
                 ) -> np.ndarray:
        """Boolean mask of the cells of these channels and types (None: all of them)."""
        ch = np.repeat(np.arange(self.n_channels), self.n_types)
        ty = np.tile(np.arange(self.n_types), self.n_channels)
        mask = np.ones(ch.size, dtype=bool)
        if channels is not None:
            mask &= np.isin(ch, channels)
        if types is not None:
            mask &= np.isin(ty, types)
        return mask


class ScopeTally:
    """A scope's tallies: counts by outcome, sums, the histogram of waits."""

    __slots__ = ("outcomes", "sums", "hist", "lost", "callbacks", "callback_unreached")

    def __init__(self, outcomes: np.ndarray, sums: dict[str, float], hist: np.ndarray,
                 lost: int, callbacks: int, callback_unreached: int) -> None:
        self.outcomes = outcomes
        self.sums = sums
        self.hist = hist
        self.lost = lost
        self.callbacks = callbacks
        self.callback_unreached = callback_unreached

    def count(self, outcome: int) -> int:
        return int(self.outcomes[outcome])

    def wait_percentile(self, q: float) -> float:
        return WaitHistogram.percentile(self.hist, q)
