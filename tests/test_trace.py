"""Exact event traces with constant durations (SPEC §3 semantics, layer (a) of the tests).

Arrivals are Poisson, so each test reads the arrival times from the engine's own trace
and recomputes, with a small hand-written recursion that shares no code with the engine,
every other event: when each contact is answered, by which tier, when it ends, abandons,
is blocked or contained. With constant handle, patience, bot and overflow times every one
of those instants is known exactly; ties between independent events have probability 0.

Each test also asserts that the situation it is about really occurred in the run (e.g. a
contact did overflow at exactly join + after_s), so a change of seeds cannot make a test
pass vacuously. Every scenario runs in a few milliseconds.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from support import one_channel, scenario

from sim.inputs.config import Scenario
from sim.measure.metrics import replication_metrics
from sim.model.engine import Engine
from sim.model.records import ABANDONED, ANSWERED, BLOCKED, CONTAINED, RunRecord
from sim.model.routing import RouteTables, compile_routes
from sim.model.tally import WaitHistogram

INF = math.inf


def const(mean_s: float) -> dict:
    return {"dist": "constant", "mean_s": mean_s}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


# --- reading a trace ---------------------------------------------------------------------


@dataclass
class Life:
    """Everything the trace says about one contact."""

    cid: int
    ch: int
    ty: int
    arrive: float
    events: dict[str, tuple[float, int]] = field(default_factory=dict)  # event -> (t, tier)

    def t(self, event: str) -> float | None:
        return self.events[event][0] if event in self.events else None

    def tier(self, event: str = "answer") -> int | None:
        return self.events[event][1] if event in self.events else None


def run(sc: Scenario, replication: int = 0) -> tuple[RouteTables, RunRecord, list[Life]]:
    tables = compile_routes(sc)
    rec = Engine(sc, tables, replication, trace=True).run()
    assert rec.trace is not None
    lives: dict[int, Life] = {}
    last_t = -INF
    for cid, t, ev, ch, ty, tier in rec.trace:
        assert t >= last_t, "trace events must be in time order"
        last_t = t
        if ev == "arrive":
            assert cid not in lives
            lives[cid] = Life(cid, ch, ty, t)
        else:
            life = lives[cid]
            assert ev not in life.events, f"contact {cid}: '{ev}' twice"
            assert (life.ch, life.ty) == (ch, ty)
            life.events[ev] = (t, tier)
    out = sorted(lives.values(), key=lambda c: c.arrive)
    assert [c.cid for c in out] == sorted(c.cid for c in out)  # ids in arrival order
    return tables, rec, out


def measured(lives: list[Life], horizon_s: float) -> list[Life]:
    return [c for c in lives if 0.0 <= c.arrive < horizon_s]


def check_against(lives: list[Life], horizon_s: float,
                  expected: dict[int, dict[str, tuple[float, int]]]) -> None:
    """Every traced event equals the expected one; measured contacts are complete.

    Contacts arriving after the horizon may be cut short when the run stops (all measured
    contacts are done), so for them only the events that did happen are compared.
    """
    for c in lives:
        exp = expected[c.cid]
        if 0.0 <= c.arrive < horizon_s:
            assert set(c.events) == set(exp), (c.cid, c.arrive, c.events, exp)
        else:
            assert set(c.events) <= set(exp), (c.cid, c.arrive, c.events, exp)
        for ev, (t, tier) in c.events.items():
            et, etier = exp[ev]
            assert close(t, et), f"contact {c.cid} ({c.arrive:.3f}): {ev} at {t} != {et}"
            assert tier == etier, f"contact {c.cid}: {ev} by tier {tier} != {etier}"


def check_records(rec: RunRecord, lives: list[Life]) -> None:
    """The records hold exactly the measured contacts, with the trace's outcome and times."""
    cs = rec.contacts
    meas = {c.arrive: c for c in measured(lives, rec.horizon_s)}
    assert sorted(cs.arrival_s.tolist()) == sorted(meas)
    for i in range(cs.arrival_s.size):
        c = meas[float(cs.arrival_s[i])]
        assert (int(cs.channel[i]), int(cs.ctype[i])) == (c.ch, c.ty)
        out = int(cs.outcome[i])
        if "contained" in c.events:
            assert out == CONTAINED and math.isnan(cs.wait_s[i])
        elif "blocked" in c.events:
            assert out == BLOCKED and math.isnan(cs.wait_s[i])
        elif "abandon" in c.events:
            assert out == ABANDONED and math.isnan(cs.handle_s[i])
            assert close(cs.wait_s[i], c.t("abandon") - c.t("queue"))
        else:
            assert out == ANSWERED
            join = c.t("queue") if "queue" in c.events else c.t("answer")
            assert close(cs.wait_s[i], c.t("answer") - join)
            assert close(cs.handle_s[i], c.t("end") - c.t("answer"))
            assert int(cs.tier[i]) == c.tier("end") == c.tier("answer")


def clipped(lo: float, hi: float, horizon_s: float) -> float:
    return max(0.0, min(hi, horizon_s) - max(lo, 0.0))


def answered_at(t_arrive: float, join: float, start: float, handle: float, tier: int
                ) -> dict[str, tuple[float, int]]:
    ev = {"answer": (start, tier), "end": (start + handle, tier)}
    if start > join:
        ev["queue"] = (join, -1)
    return ev


# --- FIFO, one tier ---------------------------------------------------------------------


@pytest.mark.parametrize("agents", [1, 2, 3])
def test_fifo_start_is_max_of_arrival_and_first_free_agent(agents: int) -> None:
    handle = 100.0
    rate = 0.85 * agents * 3600.0 / handle
    sc = one_channel(rate, const(handle), agents, horizon_hours=3.0)
    tables, rec, lives = run(sc)
    h = rec.horizon_s

    free = [-INF] * agents  # heap of the times agents come free
    expected: dict[int, dict[str, tuple[float, int]]] = {}
    waits, queue_area, busy_area = {}, 0.0, 0.0
    for c in lives:
        f = heapq.heappop(free)
        start = max(c.arrive, f)
        heapq.heappush(free, start + handle)
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
        queue_area += clipped(c.arrive, start, h)
        busy_area += clipped(start, start + handle, h)
        if c.arrive < h:
            waits[c.cid] = start - c.arrive
    check_against(lives, h, expected)
    check_records(rec, lives)
    w = np.array(list(waits.values()))
    assert (w > 0).sum() >= 5, "the scenario should make contacts wait"

    # §5 metrics follow exactly from the trace.
    m = replication_metrics(sc, tables, rec)
    assert m[("all", "offered")] == m[("all", "answered")] == m[("all", "queued")] == w.size
    assert m[("all", "abandoned")] == m[("all", "blocked")] == 0
    assert m[("phone", "asa_s")] == pytest.approx(w.mean(), rel=1e-12)
    assert m[("phone", "mean_wait_s")] == pytest.approx(w.mean(), rel=1e-12)
    assert m[("phone", "p_wait")] == pytest.approx((w > 0).mean())
    assert m[("phone", "service_level")] == pytest.approx((w <= 20.0).mean())
    for q in (50, 90, 95):  # from the histogram of waits: within its documented bound
        exact = np.percentile(w, q)
        assert abs(m[("phone", f"wait_p{q}_s")] - exact) <= (
            WaitHistogram.RELATIVE_ERROR * exact + WaitHistogram.ABSOLUTE_ERROR_S), q
    assert m[("phone", "aht_s")] == pytest.approx(handle)
    assert m[("phone", "mean_queue_length")] == pytest.approx(queue_area / h, rel=1e-9)
    assert m[("base", "occupancy")] == pytest.approx(busy_area / (agents * h), rel=1e-9)
    assert m[("base", "handled")] == w.size


# --- routing with after_s overflow ---------------------------------------------------------


def test_overflow_at_exactly_join_plus_after_s_unless_base_frees_first() -> None:
    handle, after = 100.0, 60.0
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 40.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(handle)}}},
        {"base": {"agents": 1, "serves": {"simple": 1.0}},
         "advanced": {"agents": 1, "serves": {"simple": 1.0}}},
        routing={"simple": [{"tier": "base"}, {"tier": "advanced", "after_s": after}]},
        horizon_hours=6.0)
    tables, rec, lives = run(sc)
    base, adv = tables.tiers.index("base"), tables.tiers.index("advanced")

    # One FIFO queue (the head is always the first to become eligible for either tier):
    # base may take the contact from joining, advanced only from join + after_s.
    f_base = f_adv = prev_start = -INF
    expected, how = {}, {"adv_at_after": 0, "adv_later": 0, "base_before_after": 0,
                         "base_after_after": 0}
    for c in lives:
        t_base = max(c.arrive, f_base, prev_start)
        t_adv = max(c.arrive + after, f_adv, prev_start)
        if t_base <= t_adv:
            start, tier = t_base, base
            f_base = start + handle
            if c.arrive < start < c.arrive + after:
                how["base_before_after"] += 1
            elif start > c.arrive + after:
                how["base_after_after"] += 1
        else:
            start, tier = t_adv, adv
            f_adv = start + handle
            how["adv_at_after" if start == c.arrive + after else "adv_later"] += 1
        prev_start = start
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, tier)
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    # Never to advanced before join + after_s.
    for c in lives:
        if c.tier() == adv:
            assert c.t("answer") >= c.arrive + after
    assert how["adv_at_after"] > 0, how       # advanced idle: taken at exactly join + 60
    assert how["adv_later"] > 0, how          # advanced busy at join + 60: waits for it
    assert how["base_before_after"] > 0, how  # base frees before join + 60: base takes it


def test_overflow_first_step_with_after_s_never_answers_at_once() -> None:
    """A route whose only step has after_s waits that long even with every agent idle."""
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 2.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(10.0)}}},
        {"base": {"agents": 3, "serves": {"simple": 1.0}}},
        routing={"simple": [{"tier": "base", "after_s": 30.0}]}, horizon_hours=5.0)
    _, rec, lives = run(sc)
    meas = measured(lives, rec.horizon_s)
    assert len(meas) >= 3
    for c in meas:
        assert c.t("queue") == c.arrive
        assert close(c.t("answer"), c.arrive + 30.0)
        assert close(c.t("end"), c.arrive + 40.0)


# --- longest-idle agent ---------------------------------------------------------------------


def test_new_contact_goes_to_longest_idle_agent_across_pooled_tiers() -> None:
    handle = 100.0
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 60.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(handle)}}},
        {"left": {"agents": 2, "serves": {"simple": 1.0}},
         "right": {"agents": 1, "serves": {"simple": 1.0}}},
        horizon_hours=4.0)  # routing omitted: both tiers eligible at once (pooled)
    tables, rec, lives = run(sc)
    agent_tier = [0, 0, 1]
    idle_since = [-INF, -INF, -INF]  # all idle from the start: a tie the spec leaves open
    free = [-INF, -INF, -INF]
    prev_start = -INF
    expected, cross_tier_choices = {}, 0
    for c in lives:
        idle = [i for i in range(3) if free[i] <= c.arrive]
        if idle:
            first = min(idle_since[i] for i in idle)
            tied = [i for i in idle if idle_since[i] == first]
            if len({agent_tier[i] for i in tied}) > 1:  # only the very first contacts
                tier = c.tier()
                tied = [i for i in tied if agent_tier[i] == tier]
                assert tied, c
            elif len({agent_tier[i] for i in idle}) > 1:
                cross_tier_choices += 1
            a, start = tied[0], c.arrive
        else:  # all busy: the first agent to come free takes the head of the queue
            a = min(range(3), key=lambda i: free[i])
            start = max(free[a], prev_start)
        free[a] = start + handle
        idle_since[a] = start + handle
        prev_start = start
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, agent_tier[a])
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    assert cross_tier_choices >= 10  # both tiers had idle agents, of different idle times
    n_right = sum(1 for c in lives if c.tier() == 1)
    assert 0 < n_right < len(lives)


# --- priority ---------------------------------------------------------------------------------


def test_priority_then_longest_waiting_non_preemptive() -> None:
    """Phone (priority 1) has two contact types, so two queues of equal priority: the agent
    takes the longest-waiting of them, and any phone contact before any chat one."""
    handle = {"phone": 100.0, "chat": 150.0}
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 15.0},
                   "mix": {"simple": 0.5, "complex": 0.5},
                   "handle_time": {"simple": const(handle["phone"]),
                                   "complex": const(handle["phone"])}, "priority": 1},
         "chat": {"arrivals": {"rate_per_hour": 11.0}, "mix": {"simple": 1.0},
                  "handle_time": {"simple": const(handle["chat"])}, "priority": 2}},
        {"base": {"agents": 1, "serves": {"simple": 1.0, "complex": 1.0}}}, horizon_hours=6.0)
    tables, rec, lives = run(sc)
    prio = [sc.channels[ch].priority for ch in tables.channels]
    hs = [handle[ch] for ch in tables.channels]

    # One agent: whenever it comes free it takes the (priority, arrival)-smallest waiting.
    f, i, n = -INF, 0, len(lives)
    waiting: list[tuple[int, float, int]] = []
    expected, jumps, across_type_queues = {}, 0, 0
    by_id = {c.cid: c for c in lives}
    while i < n or waiting:
        while i < n and lives[i].arrive <= f:
            c = lives[i]
            heapq.heappush(waiting, (prio[c.ch], c.arrive, c.cid))
            i += 1
        if waiting:
            start = f
            p0, a0, cid = heapq.heappop(waiting)
            if any(a < a0 for _, a, _ in waiting):
                jumps += 1  # a priority-1 contact overtakes a longer-waiting priority-2 one
            if any(p == p0 and by_id[x].ty != by_id[cid].ty for p, _, x in waiting):
                across_type_queues += 1  # the longest-waiting of two equal-priority queues
        else:
            cid = lives[i].cid
            start = lives[i].arrive
            i += 1
        c = by_id[cid]
        f = start + hs[c.ch]
        expected[cid] = answered_at(c.arrive, c.arrive, start, hs[c.ch], 0)
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    assert jumps > 0 and across_type_queues > 0, (jumps, across_type_queues)
    # Non-preemptive: services never overlap with one agent.
    spans = sorted((c.t("answer"), c.t("end")) for c in lives if "end" in c.events)
    assert all(e0 <= s1 for (_, e0), (s1, _) in zip(spans, spans[1:], strict=False))


# --- patience ---------------------------------------------------------------------------------


def test_constant_patience_abandons_at_exactly_join_plus_patience() -> None:
    handle, patience = 100.0, 50.0
    sc = one_channel(60.0, const(handle), 1, patience=const(patience),
                     horizon_hours=3.0)
    tables, rec, lives = run(sc)
    f = -INF
    expected, n_ab, n_waited = {}, 0, 0
    for c in lives:
        start = max(c.arrive, f)
        if start - c.arrive < patience:
            f = start + handle
            expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
            n_waited += start > c.arrive
        else:  # FIFO: everybody ahead was served or left; the agent is busy until f
            expected[c.cid] = {"queue": (c.arrive, -1), "abandon": (c.arrive + patience, -1)}
            n_ab += 1
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    assert n_ab > 5 and n_waited > 5
    m = replication_metrics(sc, tables, rec)
    meas = measured(lives, rec.horizon_s)
    ab = [c for c in meas if "abandon" in c.events]
    assert m[("phone", "abandoned")] == len(ab)
    assert m[("phone", "abandon_rate")] == pytest.approx(len(ab) / len(meas))
    waits = [c.t("abandon") - c.arrive if "abandon" in c.events else c.t("answer") - c.arrive
             for c in meas]
    assert m[("phone", "mean_wait_s")] == pytest.approx(np.mean(waits), rel=1e-12)


# --- queue capacity ---------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, 1, 2])
def test_queue_capacity_blocks_the_contact_that_would_exceed_it(capacity: int) -> None:
    handle = 100.0
    sc = one_channel(60.0, const(handle), 1, queue_capacity=capacity,
                     horizon_hours=3.0)
    tables, rec, lives = run(sc)
    f = -INF
    starts: list[float] = []  # service starts of accepted contacts
    expected, n_blocked = {}, 0
    for c in lives:
        waiting_now = sum(1 for s in starts if s > c.arrive)
        if f <= c.arrive:
            start = c.arrive
        elif waiting_now >= capacity:
            expected[c.cid] = {"blocked": (c.arrive, -1)}
            n_blocked += 1
            continue
        else:
            start = f
        starts.append(start)
        f = start + handle
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    assert n_blocked > 5
    if capacity == 0:
        assert all("queue" not in c.events for c in lives)  # a loss system: nobody waits
    m = replication_metrics(sc, tables, rec)
    meas = measured(lives, rec.horizon_s)
    nb = sum(1 for c in meas if "blocked" in c.events)
    assert m[("phone", "blocked")] == nb
    assert m[("phone", "block_rate")] == pytest.approx(nb / len(meas))  # queued + blocked
    assert m[("phone", "queued")] == len(meas) - nb


def test_queue_capacity_counts_only_contacts_still_waiting() -> None:
    """With patience, a contact that abandoned frees its place in the queue at once."""
    handle, patience, capacity = 100.0, 50.0, 1
    sc = one_channel(60.0, const(handle), 1, queue_capacity=capacity,
                     patience=const(patience), horizon_hours=3.0)
    _, rec, lives = run(sc)
    f = -INF
    stays: list[tuple[float, float]] = []  # (join, leave) of contacts that queued
    expected, n_blocked, n_after_abandon = {}, 0, 0
    for c in lives:
        waiting_now = sum(1 for j, leave in stays if j < c.arrive < leave)
        if f <= c.arrive:
            expected[c.cid] = answered_at(c.arrive, c.arrive, c.arrive, handle, 0)
            f = c.arrive + handle
            continue
        if waiting_now >= capacity:
            expected[c.cid] = {"blocked": (c.arrive, -1)}
            n_blocked += 1
            continue
        if any(j < c.arrive and j + patience < c.arrive < j + patience + 20.0
               for j, leave in stays if leave == j + patience):
            n_after_abandon += 1  # admitted shortly after the one before abandoned
        start = f
        if start - c.arrive < patience:
            f = start + handle
            stays.append((c.arrive, start))
            expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
        else:
            stays.append((c.arrive, c.arrive + patience))
            expected[c.cid] = {"queue": (c.arrive, -1), "abandon": (c.arrive + patience, -1)}
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    assert n_blocked > 5 and n_after_abandon > 0, (n_blocked, n_after_abandon)


# --- bot -----------------------------------------------------------------------------------


def test_bot_contains_at_bot_time_or_hands_over_to_the_queue_then() -> None:
    bot_s, handle = 30.0, 100.0
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 50.0},
                   "mix": {"simple": 0.5, "complex": 0.5},
                   "handle_time": {"simple": const(handle), "complex": const(handle)},
                   "bot": {"containment": {"simple": 1.0, "complex": 0.0},
                           "handle_time": const(bot_s), "cost_per_session": 1.0}}},
        {"base": {"agents": 1, "serves": {"simple": 1.0, "complex": 1.0}}},
        horizon_hours=4.0)
    tables, rec, lives = run(sc)
    simple, complex_ = tables.types.index("simple"), tables.types.index("complex")
    f = -INF
    expected = {}
    for c in lives:  # constant bot time: contacts leave the bot in arrival order
        if c.ty == simple:
            expected[c.cid] = {"contained": (c.arrive + bot_s, -1)}
        else:
            join = c.arrive + bot_s
            start = max(join, f)
            f = start + handle
            expected[c.cid] = answered_at(c.arrive, join, start, handle, 0)
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)

    meas = measured(lives, rec.horizon_s)
    n_simple = sum(1 for c in meas if c.ty == simple)
    esc = [c for c in meas if c.ty == complex_]
    assert n_simple > 5 and sum(1 for c in esc if "queue" in c.events) > 5
    m = replication_metrics(sc, tables, rec)
    assert m[("all", "bot_contained")] == m[("simple", "bot_contained")] == n_simple
    assert m[("all", "automation_rate")] == pytest.approx(n_simple / len(meas))
    assert m[("simple", "automation_rate")] == 1.0
    assert m[("complex", "automation_rate")] == 0.0
    assert m[("complex", "queued")] == len(esc)
    # A wait runs from joining the agent queue (after the bot), not from arrival.
    w = [c.t("answer") - c.arrive - bot_s for c in esc]
    assert m[("complex", "asa_s")] == pytest.approx(np.mean(w), rel=1e-12)
    assert rec.bot_sessions == (len(meas),)
    assert m[("cost", "bot")] == pytest.approx(len(meas) * 1.0)


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
def test_concurrency_k_chats_at_once_then_the_next_waits(k: int) -> None:
    handle = 100.0
    sc = scenario(
        {"chat": {"arrivals": {"rate_per_hour": 0.8 * k * 3600.0 / handle},
                  "mix": {"simple": 1.0}, "handle_time": {"simple": const(handle)},
                  "concurrency": k}},
        {"base": {"agents": 1, "serves": {"simple": 1.0}}}, horizon_hours=3.0)
    tables, rec, lives = run(sc)
    h = rec.horizon_s
    # One agent with k slots of one channel = k parallel FIFO servers.
    free = [-INF] * k
    expected = {}
    for c in lives:
        fr = heapq.heappop(free)
        start = max(c.arrive, fr)
        heapq.heappush(free, start + handle)
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
    check_against(lives, h, expected)
    check_records(rec, lives)

    # At some point k chats are held at once while another one waits.
    spans = [(c.t("answer"), c.t("end")) for c in lives if "end" in c.events]
    full_and_waiting = 0
    for c in lives:
        if "queue" in c.events:
            t = c.t("queue")
            assert sum(1 for s, e in spans if s <= t < e) == k
            full_and_waiting += 1
    assert full_and_waiting > 3
    # Occupancy: the agent is busy while it holds at least one chat (union of spans).
    busy, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(spans):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                busy += clipped(cur_s, cur_e, h)
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    busy += clipped(cur_s, cur_e, h)
    m = replication_metrics(sc, tables, rec)
    assert m[("base", "occupancy")] == pytest.approx(busy / h, rel=1e-9)
    assert m[("base", "occupancy")] <= 1.0


# --- tier speed factor ------------------------------------------------------------------------


def test_speed_factor_divides_handle_time() -> None:
    handle = 100.0
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 40.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(handle)}}},
        {"fast": {"agents": 1, "serves": {"simple": 2.0}}}, horizon_hours=4.0)
    tables, rec, lives = run(sc)
    f, expected = -INF, {}
    for c in lives:
        start = max(c.arrive, f)
        f = start + handle / 2.0
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle / 2.0, 0)
    check_against(lives, rec.horizon_s, expected)
    check_records(rec, lives)
    m = replication_metrics(sc, tables, rec)
    assert m[("phone", "aht_s")] == pytest.approx(50.0)


def test_speed_factor_per_tier_and_type() -> None:
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 30.0},
                   "mix": {"simple": 0.5, "complex": 0.5},
                   "handle_time": {"simple": const(100.0), "complex": const(300.0)}}},
        {"fast": {"agents": 1, "serves": {"simple": 2.0, "complex": 1.5}},
         "slow": {"agents": 1, "serves": {"simple": 0.5, "complex": 1.0}}},
        horizon_hours=6.0)
    tables, rec, lives = run(sc)
    work = {tables.types.index("simple"): 100.0, tables.types.index("complex"): 300.0}
    speed = {(tables.tiers.index("fast"), tables.types.index("simple")): 2.0,
             (tables.tiers.index("fast"), tables.types.index("complex")): 1.5,
             (tables.tiers.index("slow"), tables.types.index("simple")): 0.5,
             (tables.tiers.index("slow"), tables.types.index("complex")): 1.0}
    seen = set()
    for c in lives:
        if "end" in c.events:
            k = c.tier()
            assert close(c.t("end") - c.t("answer"), work[c.ty] / speed[(k, c.ty)])
            seen.add((k, c.ty))
    assert seen == set(speed)
    check_records(rec, lives)


# --- warm-up and the horizon ------------------------------------------------------------------


def test_warmup_not_recorded_and_contacts_followed_past_the_horizon() -> None:
    handle = 100.0
    sc = one_channel(40.0, const(handle), 1, warmup_hours=1.0, horizon_hours=1.0)
    tables, rec, lives = run(sc)
    h = rec.horizon_s
    assert h == 3600.0
    assert min(c.arrive for c in lives) >= -3600.0
    assert sum(1 for c in lives if c.arrive < 0) > 5  # warm-up contacts exist in the trace

    f, expected = -INF, {}
    queue_area = busy_area = 0.0
    for c in lives:  # warm-up contacts hold the agent and the queue into the measured period
        start = max(c.arrive, f)
        f = start + handle
        expected[c.cid] = answered_at(c.arrive, c.arrive, start, handle, 0)
        queue_area += clipped(c.arrive, start, h)
        busy_area += clipped(start, start + handle, h)
    check_against(lives, h, expected)
    check_records(rec, lives)  # exactly the contacts arriving in [0, h) are recorded

    meas = measured(lives, h)
    assert rec.contacts.arrival_s.min() >= 0.0 and rec.contacts.arrival_s.max() < h
    assert any(c.t("end") > h for c in meas)  # followed to its outcome after the horizon
    last_measured_end = max(c.t("end") for c in meas)
    assert max(t for _, t, *_ in rec.trace) == pytest.approx(last_measured_end)  # then stops
    m = replication_metrics(sc, tables, rec)
    assert m[("all", "offered")] == len(meas)
    assert m[("phone", "mean_queue_length")] == pytest.approx(queue_area / h, rel=1e-9)
    assert m[("base", "occupancy")] == pytest.approx(busy_area / h, rel=1e-9)
    assert m[("base", "occupancy")] <= 1.0


# --- callbacks (SPEC §7.3) --------------------------------------------------------------------


@pytest.mark.parametrize("reach", [1.0, 0.5])
def test_callback_at_offer_time_keeps_its_place_frees_the_line(reach: float) -> None:
    """One agent, handle 100 s, patience 50 s, a callback offered after 10 s and always
    accepted, one place on the line. FIFO: start = max(arrival, agent free); who waits 10 s
    leaves the line with a callback at join + 10 (never abandons: patience is 50 s); a
    caller is blocked only if someone is on the line (waiting, not yet called back); an
    unreached callback ends at its turn and the agent takes the next one at once."""
    handle, offer = 100.0, 10.0
    sc = one_channel(50.0, const(handle), 1, patience=const(50.0), queue_capacity=1,
                     callback={"offer_after_s": offer, "accept_share": 1.0,
                               "reach_share": reach}, horizon_hours=4.0)
    tables, rec, lives = run(sc)
    f = -INF
    kept: list[tuple[float, float]] = []   # (join, start) of callers not blocked
    expected: dict[int, dict[str, tuple[float, int]]] = {}
    n_cb = n_blocked = n_unreached = 0
    for c in lives:
        t = c.arrive
        if f <= t:
            start = t
        elif sum(1 for j, s in kept if j <= t < min(s, j + offer)) >= 1:
            expected[c.cid] = {"blocked": (t, -1)}
            n_blocked += 1
            continue
        else:
            start = f
        kept.append((t, start))
        ev: dict[str, tuple[float, int]] = {}
        if start > t:
            ev["queue"] = (t, -1)
        if start - t > offer:
            ev["callback"] = (t + offer, -1)
            n_cb += 1
        if "unreached" in c.events:
            assert "callback" in ev
            ev["unreached"] = (start, -1)
            n_unreached += 1
        else:
            ev.update(answered_at(t, t, start, handle, 0))
            f = start + handle
        expected[c.cid] = ev
    check_against(lives, rec.horizon_s, expected)
    assert n_cb > 10 and n_blocked > 3
    m = replication_metrics(sc, tables, rec)
    meas = measured(lives, rec.horizon_s)
    assert m[("phone", "callbacks")] == sum("callback" in c.events for c in meas)
    assert m[("phone", "callback_unreached")] == sum("unreached" in c.events for c in meas)
    assert m[("phone", "abandoned")] == m[("phone", "callback_unreached")]
    if reach == 1.0:
        assert n_unreached == 0
    else:
        assert n_unreached > 3


# --- repeat contacts, far ahead --------------------------------------------------------------


@pytest.mark.parametrize("delay_s", [600.0, 2_700.0, 1.5 * 86_400.0])
def test_a_repeat_contact_arrives_exactly_its_delay_after_the_service_that_failed(
        delay_s: float) -> None:
    """Nothing resolved, every unresolved contact comes back after a constant delay: each
    service end at e is followed by a repeat arrival at exactly e + delay (timers an
    interval or days ahead wait in buckets until the interval before them, see
    entities.at_later; this checks they still fire at their time, in time order)."""
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 6.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(120.0)}}},
        {"base": {"agents": 4, "serves": {"simple": 1.0}, "resolution": {"simple": 0.0}}},
        resolution={"repeat_share": 1.0, "repeat_delay": const(delay_s)},
        horizon_hours=72.0, interval_minutes=30)
    _, rec, lives = run(sc)
    ends = sorted(c.t("end") for c in lives if c.t("end") is not None)
    arrivals = {c.arrive for c in lives}
    last = max(c.arrive for c in lives)
    due = [e + delay_s for e in ends if e + delay_s <= last]
    assert len(due) > 50
    assert all(t in arrivals for t in due)  # the same float: now + delay
