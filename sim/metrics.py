"""KPIs of one replication, computed from its flat records (SPEC §5 names, exactly).

Every metric is a one-liner over numpy columns. A rate whose denominator is zero is NaN
(e.g. ``asa_s`` when nobody was answered): it is left out of that metric's mean and CI.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import Scenario
from sim.costs import cost_metrics
from sim.records import ABANDONED, ANSWERED, BLOCKED, CLOSED, CONTAINED, RunRecord
from sim.routing import RouteTables
from sim.staffing import tier_staffing

Metrics = dict[tuple[str, str], float]


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def contact_metrics(outcome: np.ndarray, wait_s: np.ndarray, handle_s: np.ndarray,
                    threshold_s: np.ndarray, repeat: np.ndarray, transfers: np.ndarray,
                    resolved: np.ndarray, queue_area: float, horizon_s: float
                    ) -> dict[str, float]:
    """The contact metrics of one scope from its contacts' columns."""
    answered = outcome == ANSWERED
    abandoned = outcome == ABANDONED
    joined = answered | abandoned
    n_off = int(outcome.size)
    n_cont = int(np.count_nonzero(outcome == CONTAINED))
    n_closed = int(np.count_nonzero(outcome == CLOSED))
    n_block = int(np.count_nonzero(outcome == BLOCKED)) + n_closed
    n_ans = int(np.count_nonzero(answered))
    n_ab = int(np.count_nonzero(abandoned))
    n_q = n_ans + n_ab
    w_q = wait_s[joined]
    w_a = wait_s[answered]
    return {
        "offered": float(n_off),
        "bot_contained": float(n_cont),
        "automation_rate": _ratio(n_cont, n_off),
        "blocked": float(n_block),
        "block_rate": _ratio(n_block, n_q + n_block),
        "queued": float(n_q),
        "answered": float(n_ans),
        "abandoned": float(n_ab),
        "abandon_rate": _ratio(n_ab, n_q),
        "asa_s": _mean(w_a),
        "mean_wait_s": _mean(w_q),
        "p_wait": _ratio(float(np.count_nonzero(w_q > 0.0)), n_q),
        "wait_p90_s": _pct(w_q, 90),
        "service_level": _ratio(float(np.count_nonzero(w_a <= threshold_s[answered])), n_q),
        "aht_s": _mean(handle_s[answered]),
        "mean_queue_length": queue_area / horizon_s,
        "closed": float(n_closed),
        "wait_p50_s": _pct(w_q, 50),
        "wait_p95_s": _pct(w_q, 95),
        "fcr": _ratio(float(np.count_nonzero(answered & (resolved == 1) & (transfers == 0))),
                      n_ans),
        "transfers_per_contact": _ratio(float(transfers[answered].sum()), n_ans),
        "repeat_rate": _ratio(float(np.count_nonzero(repeat)), n_off),
    }


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if x.size else math.nan


def replication_metrics(sc: Scenario, tables: RouteTables, rec: RunRecord) -> Metrics:
    """All (scope, metric) values of one replication."""
    c = rec.contacts
    n_ty = len(tables.types)
    thresholds = np.array([sc.channels[ch].service_level_threshold_s for ch in tables.channels])
    thr = thresholds[c.channel] if c.channel.size else np.zeros(0)
    out: Metrics = {}

    def add_scope(scope: str, mask: np.ndarray | None, queue_area: float) -> None:
        sel = slice(None) if mask is None else mask
        vals = contact_metrics(c.outcome[sel], c.wait_s[sel], c.handle_s[sel], thr[sel],
                               c.repeat[sel], c.transfers[sel], c.resolved[sel], queue_area,
                               rec.horizon_s)
        out.update({(scope, m): v for m, v in vals.items()})

    add_scope("all", None, sum(rec.queue_area))
    if len(tables.channels) == 1:  # the one channel is 'all': reuse its numbers
        out.update({(tables.channels[0], m): v for (scope, m), v in list(out.items())})
    else:
        for ci, ch in enumerate(tables.channels):
            add_scope(ch, c.channel == ci, sum(rec.queue_area[ci * n_ty:(ci + 1) * n_ty]))
    for yi, ty in enumerate(tables.types):
        add_scope(ty, c.ctype == yi, sum(rec.queue_area[yi::n_ty]))
    for ki, tier in enumerate(tables.tiers):
        avail = rec.available_area[ki]
        out[(tier, "agents")] = avail / rec.horizon_s
        out[(tier, "occupancy")] = _ratio(rec.busy_area[ki], avail)
        out[(tier, "handled")] = float(rec.handled[ki])
        out[(tier, "paid_agents")] = rec.paid_hours[ki] * 3600.0 / rec.horizon_s
    costs = cost_metrics(sc, tables, rec, offered=out[("all", "offered")])
    out.update({("cost", m): v for m, v in costs.items()})
    return out


def interval_rows(sc: Scenario, tables: RouteTables, rec: RunRecord) -> list[dict[str, float]]:
    """Per reporting interval and channel: offered, answered, abandoned, asa_s,
    service_level, backlog at the interval's end, and per tier the agents on queue
    (``agents_<tier>``) and the mean busy agents (``busy_<tier>``: contacts in service /
    concurrency, i.e. agent slots in use)."""
    c = rec.contacts
    slot_s = sc.interval_minutes * 60.0
    n_slots = max(1, math.ceil(rec.horizon_s / slot_s - 1e-9))
    slot = np.minimum((c.arrival_s // slot_s).astype(np.int64), n_slots - 1)
    staffing = {t: tier_staffing(sc, t) for t in tables.tiers}
    busy = busy_by_interval(rec, slot_s, n_slots)
    rows = []
    for ci, ch in enumerate(tables.channels):
        thr = sc.channels[ch].service_level_threshold_s
        m = c.channel == ci
        s, out, w = slot[m], c.outcome[m], c.wait_s[m]
        ans = out == ANSWERED
        joined = ans | (out == ABANDONED)
        offered = np.bincount(s, minlength=n_slots)
        n_ans = np.bincount(s[ans], minlength=n_slots)
        n_ab = np.bincount(s[out == ABANDONED], minlength=n_slots)
        n_q = np.bincount(s[joined], minlength=n_slots)
        wait_sum = np.bincount(s[ans], weights=w[ans], minlength=n_slots)
        in_sl = np.bincount(s[ans & (w <= thr)], minlength=n_slots)
        for i in range(n_slots):
            rows.append({
                "interval": i, "start_h": i * slot_s / 3600.0, "channel": ch,
                "offered": float(offered[i]), "answered": float(n_ans[i]),
                "abandoned": float(n_ab[i]),
                "asa_s": wait_sum[i] / n_ans[i] if n_ans[i] else math.nan,
                "service_level": in_sl[i] / n_q[i] if n_q[i] else math.nan,
                "backlog": float(rec.backlog[i][ci]) if i < len(rec.backlog) else math.nan,
                **{f"agents_{t}": float(st.on_queue_at(i * slot_s))
                   for t, st in staffing.items()},
                **{f"busy_{t}": float(busy[i, k]) for k, t in enumerate(tables.tiers)},
            })
    return rows


def busy_by_interval(rec: RunRecord, slot_s: float, n_slots: int) -> np.ndarray:
    """Mean agent slots in use (contacts in service / concurrency) per measured interval
    (rows) and tier (columns)."""
    snaps = list(rec.busy_snaps[:n_slots])
    if len(snaps) < n_slots:  # the horizon ends inside an interval
        snaps.append(rec.load_area)
    cum = np.vstack([np.zeros(len(rec.load_area)), np.array(snaps, dtype=float)])
    length = np.minimum(slot_s, rec.horizon_s - np.arange(n_slots) * slot_s)
    return np.diff(cum, axis=0) / length[:, None]
