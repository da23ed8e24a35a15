"""KPIs of one replication, computed from its tallies (SPEC §5 names, exactly).

Every scope is a set of (channel, contact type) cells of :class:`sim.model.tally.Tally`; each
metric is a one-liner over the scope's summed counts and sums (percentiles from its
histogram of waits). A rate whose denominator is zero is NaN (e.g. ``asa_s`` when nobody
was answered): it is left out of that metric's mean and CI.
"""

from __future__ import annotations

import math

import numpy as np

from sim.inputs.config import Scenario
from sim.measure.costs import cost_metrics
from sim.model.records import ABANDONED, ANSWERED, BLOCKED, CLOSED, CONTAINED, RunRecord
from sim.model.routing import RouteTables
from sim.model.staffing import tier_staffing
from sim.model.tally import ScopeTally

Metrics = dict[tuple[str, str], float]
MODE_SCOPES = ("realtime", "async")


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def contact_metrics(t: ScopeTally, queue_area: float, horizon_s: float) -> dict[str, float]:
    """The contact metrics of one scope from its tallies."""
    sums = t.sums
    n_cont, n_closed = t.count(CONTAINED), t.count(CLOSED)
    n_block = t.count(BLOCKED) + n_closed
    n_ans, n_ab = t.count(ANSWERED), t.count(ABANDONED)
    n_off = n_cont + n_block + n_ans + n_ab
    n_q = n_ans + n_ab
    n_retrials = int(sums["retrials"])
    customers = n_off - n_retrials
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
        "asa_s": _ratio(sums["wait_answered_s"], n_ans),
        "mean_wait_s": _ratio(sums["wait_queued_s"], n_q),
        "p_wait": _ratio(sums["waited"], n_q),
        "wait_p90_s": t.wait_percentile(90),
        "service_level": _ratio(sums["in_service_level"], n_q),
        "aht_s": _ratio(sums["handle_answered_s"], n_ans),
        "mean_queue_length": queue_area / horizon_s,
        "closed": float(n_closed),
        "wait_p50_s": t.wait_percentile(50),
        "wait_p95_s": t.wait_percentile(95),
        "fcr": _ratio(sums["first_resolved"], n_ans),
        "transfers_per_contact": _ratio(sums["transfers_answered"], n_ans),
        "repeat_rate": _ratio(sums["repeats"], n_off),
        "retrials": float(n_retrials),
        "customers": float(customers),
        "lost_customer_rate": _ratio(t.lost, customers),
        "callbacks": float(t.callbacks),
        "callback_unreached": float(t.callback_unreached),
    }


def replication_metrics(sc: Scenario, tables: RouteTables, rec: RunRecord) -> Metrics:
    """All (scope, metric) values of one replication."""
    tally = rec.tally
    n_ty = len(tables.types)
    out: Metrics = {}

    def add_scope(scope: str, cells: np.ndarray, channels: list[int],
                  types: list[int] | None = None) -> None:
        area = sum(rec.queue_area[ci * n_ty + yi] for ci in channels
                   for yi in (range(n_ty) if types is None else types))
        vals = contact_metrics(tally.scope(cells), area, rec.horizon_s)
        out.update({(scope, m): v for m, v in vals.items()})

    def copy_scope(src: str, dst: str) -> None:
        out.update({(dst, m): v for (scope, m), v in list(out.items()) if scope == src})

    every = list(range(len(tables.channels)))
    add_scope("all", tally.cells_of(), every)
    if len(tables.channels) == 1:  # the one channel is 'all': reuse its numbers
        copy_scope("all", tables.channels[0])
    else:
        for ci, ch in enumerate(tables.channels):
            add_scope(ch, tally.cells_of([ci]), [ci])
    for yi, ty in enumerate(tables.types):
        add_scope(ty, tally.cells_of(types=[yi]), every, [yi])
    for mode in MODE_SCOPES:
        chans = [ci for ci, ch in enumerate(tables.channels) if sc.channels[ch].mode == mode]
        if chans == every:
            copy_scope("all", mode)
        elif chans:  # a mode without channels has no rows (its metrics would all be empty)
            add_scope(mode, tally.cells_of(chans), chans)
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
    service_level, backlog at the interval's end, per tier the agents on queue
    (``agents_<tier>``) and the mean busy agents (``busy_<tier>``: contacts in service /
    concurrency, i.e. agent slots in use), and queued (answered + abandoned)."""
    t = rec.tally
    slot_s = sc.interval_minutes * 60.0
    n_slots = t.n_slots
    staffing = {k: tier_staffing(sc, k) for k in tables.tiers}
    busy = busy_by_interval(rec, slot_s, n_slots)
    sl = t.slots
    rows = []
    for ci, ch in enumerate(tables.channels):
        for i in range(n_slots):
            n_ans, n_q = sl["answered"][i, ci], sl["queued"][i, ci]
            rows.append({
                "interval": i, "start_h": i * slot_s / 3600.0, "channel": ch,
                "offered": float(sl["offered"][i, ci]), "answered": float(n_ans),
                "abandoned": float(sl["abandoned"][i, ci]),
                "asa_s": sl["wait_answered_s"][i, ci] / n_ans if n_ans else math.nan,
                "service_level": sl["in_service_level"][i, ci] / n_q if n_q else math.nan,
                "backlog": float(rec.backlog[i][ci]) if i < len(rec.backlog) else math.nan,
                **({f"agents_{k}": float(st.on_queue_at(i * slot_s))
                    for k, st in staffing.items()} if rec.agents_by_interval is None else
                   {f"agents_{k}": float(n) for k, n in zip(
                       tables.tiers, rec.agents_by_interval[i], strict=True)}),
                **{f"busy_{k}": float(busy[i, j]) for j, k in enumerate(tables.tiers)},
                "queued": float(n_q),
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
