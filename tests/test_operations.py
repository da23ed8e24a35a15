"""Operations features against exact values: resolution, repeats and transfers, schedules,
shrinkage and costs, async backlogs, opening hours, bot failure modes, daily volume.

Statistical checks compare the mean over independent replications with an exact value and
allow k = 4 standard errors of the replication mean (never pinned decimals). Accounting
checks (costs, conservation, schedules) are exact and hold in every replication. Seeds are
fixed, so the file is deterministic. Simulations are cached per case and shared.

Time budget: the whole file runs in well under a minute on one core.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from scipy import stats
from support import K, assert_close_to, assert_mean, scenario, values

from sim.inputs.config import Scenario
from sim.measure.metrics import Metrics, interval_rows, replication_metrics
from sim.model.engine import Engine
from sim.model.erlang import erlang_c_metrics
from sim.model.records import ABANDONED, ANSWERED, CLOSED, CONTAINED, RunRecord
from sim.model.routing import RouteTables, compile_routes

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def expo(mean_s: float) -> dict:
    return {"dist": "exponential", "mean_s": mean_s}


def const(mean_s: float) -> dict:
    return {"dist": "constant", "mean_s": mean_s}


def assert_positive(x: Sequence[float], label: str, k: float = K) -> None:
    """Mean of per-replication (paired) values ``x`` above zero by more than k SE."""
    x = np.asarray(x, dtype=float)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert x.mean() > k * se, f"{label}: mean {x.mean():.4g} not > {k} SE = {k * se:.3g}"


class Run:
    """One replication run through the engine directly: records, metrics, intervals."""

    def __init__(self, sc: Scenario, replication: int, trace: bool = False) -> None:
        self.sc = sc
        self.tables: RouteTables = compile_routes(sc)
        self.rec: RunRecord = Engine(sc, self.tables, replication, trace=trace,
                                     keep_contacts=True).run()
        self.m: Metrics = replication_metrics(sc, self.tables, self.rec)
        self.intervals = interval_rows(sc, self.tables, self.rec)

    @property
    def c(self):  # noqa: ANN201
        return self.rec.contacts

    def ch(self, name: str) -> np.ndarray:
        return self.c.channel == self.tables.channels.index(name)

    def tier(self, name: str) -> int:
        return self.tables.tiers.index(name)


def runs(sc: Scenario, reps: int, trace: bool = False) -> list[Run]:
    return [Run(sc, r, trace) for r in range(reps)]


def metrics(rs: Sequence[Run]) -> list[Metrics]:
    return [r.m for r in rs]


def tod_h(t: np.ndarray | float) -> np.ndarray | float:
    """Hour of day of simulation time(s) t (t = 0 is Monday 00:00)."""
    return (np.asarray(t) % DAY_S) / 3600.0


# =========================================================================== 1. Jackson network
# FCR f, every unresolved contact comes back after an exponential delay: an open Jackson
# network (the agent queue, an infinite-server delay node, Bernoulli feedback 1 - f). The
# agent queue's stationary law is M/M/c with the total arrival rate lam / f, and arrivals
# (external and fed back) see it (arrival theorem), so p_wait and ASA are Erlang C's.
JACKSON = {"agents": 10, "aht_s": 300.0, "rho": 0.85, "fcr": 0.7, "delay_s": 600.0}


def _jackson_rates() -> tuple[float, float]:
    j = JACKSON
    total = j["rho"] * j["agents"] / j["aht_s"] * 3600.0  # lam / f per hour
    return total * j["fcr"], total


@functools.cache
def jackson_runs() -> list[Run]:
    j = JACKSON
    lam, _ = _jackson_rates()
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": lam}, "mix": {"simple": 1.0},
                             "handle_time": {"simple": expo(j["aht_s"])}}},
                  {"base": {"agents": j["agents"], "serves": {"simple": 1.0},
                            "resolution": {"simple": j["fcr"]}}},
                  resolution={"transfer_share": 0.0, "repeat_share": 1.0,
                              "repeat_delay": expo(j["delay_s"])},
                  horizon_hours=120.0, warmup_hours=10.0, seed=2101)
    return runs(sc, 12)


@pytest.mark.parametrize("metric", ("p_wait", "asa_s", "service_level", "mean_queue_length"))
def test_jackson_feedback_queue_is_erlang_c_at_total_rate(metric: str) -> None:
    j = JACKSON
    _, total = _jackson_rates()
    exact = erlang_c_metrics(total, j["aht_s"], j["agents"], threshold_s=20.0)
    assert_close_to(metrics(jackson_runs()), "phone", metric, getattr(exact, metric))


def test_jackson_flows() -> None:
    j = JACKSON
    _, total = _jackson_rates()
    reps = metrics(jackson_runs())
    h = jackson_runs()[0].sc.horizon_hours
    assert_close_to(reps, "phone", "offered", total * h)          # primaries + repeats
    assert_close_to(reps, "phone", "repeat_rate", 1.0 - j["fcr"])
    assert_close_to(reps, "phone", "fcr", j["fcr"])
    assert_close_to(reps, "base", "occupancy", j["rho"])
    assert np.all(values(reps, "phone", "transfers_per_contact") == 0)
    assert np.all(values(reps, "phone", "answered") == values(reps, "phone", "offered"))


# =========================================================================== 2. labour and staffing
SHIFTS = [  # interval 30 min; paid heads per slot are multiples of 5 (x 0.8 is exact)
    {"start": "06:00", "end": "14:00", "agents": 10, "days": ["mon", "tue", "wed", "thu", "fri"]},
    {"start": "13:30", "end": "22:00", "agents": 5},
    {"start": "22:00", "end": "06:00", "agents": 5, "days": ["fri", "sat", "sun"]},  # wraps
    {"start": "09:00", "end": "24:00", "agents": 5, "days": ["sat"]},
]
LABOUR = {"cost_per_hour": 40.0, "shrinkage": 0.2, "handle_s": 300.0, "horizon_h": 180.0,
          "trainer_agents": 8, "coaching": 0.25, "trainer_cost": 90.0}


def _hhmm_s(x: str) -> float:
    h, m = x.split(":")
    return int(h) * 3600.0 + int(m) * 60.0


def paid_heads(t_s: float) -> int:
    """Agents the shifts put on duty at time t (independent of sim.inputs.schedule/staffing)."""
    n = 0
    for sh in SHIFTS:
        start, end = _hhmm_s(sh["start"]), _hhmm_s(sh["end"])
        length = end - start if end > start else end - start + DAY_S
        for d in sh.get("days", DAYS):
            if (t_s - (DAYS.index(d) * DAY_S + start)) % WEEK_S < length:
                n += sh["agents"]
    return n


def _labour_scenario(coaching: float) -> Scenario:
    p = LABOUR
    return scenario(
        {"phone": {"arrivals": {"rate_per_hour": 30.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(p["handle_s"])}, "patience": expo(600.0)}},
        {"base": {"schedule": {"shifts": SHIFTS}, "shrinkage": p["shrinkage"],
                  "cost_per_hour": p["cost_per_hour"], "serves": {"simple": 1.0}},
         "trainer": {"agents": p["trainer_agents"], "coaching_share": coaching,
                     "cost_per_hour": p["trainer_cost"], "serves": {"simple": 1.0}}},
        horizon_hours=p["horizon_h"], warmup_hours=2.0, interval_minutes=30, seed=2202)


@functools.cache
def labour_runs(coaching: float) -> list[Run]:
    return runs(_labour_scenario(coaching), 3)


def test_labour_cost_is_paid_heads_times_hours_exactly() -> None:
    p = LABOUR
    slot_s = 1800.0
    n_slots = int(p["horizon_h"] * 3600 / slot_s)
    heads = [paid_heads(i * slot_s) for i in range(n_slots)]
    assert min(heads) == 0 and max(heads) == 15  # nights off, overlap of shifts
    base_hours = sum(heads) * slot_s / 3600.0
    trainer_hours = p["trainer_agents"] * p["horizon_h"]
    exact = base_hours * p["cost_per_hour"] + trainer_hours * p["trainer_cost"]
    labor = values(metrics(labour_runs(p["coaching"])), "cost", "labor")
    assert np.all(labor == labor[0]), labor  # deterministic: the same in every replication
    assert labor[0] == pytest.approx(exact, rel=1e-12)
    for r in labour_runs(p["coaching"]):
        assert r.m[("base", "paid_agents")] == pytest.approx(
            sum(heads) * slot_s / (p["horizon_h"] * 3600), rel=1e-12)
        assert r.m[("trainer", "paid_agents")] == pytest.approx(p["trainer_agents"], rel=1e-12)


def test_on_queue_agents_follow_shrinkage() -> None:
    """Mean on-queue agents = paid x (1 - shrinkage) (exact rounding here), plus only the
    time agents going off shift spend finishing a contact (< one handle time each)."""
    p = LABOUR
    slot_s = 1800.0
    n_slots = int(p["horizon_h"] * 3600 / slot_s)
    on_q = [paid_heads(i * slot_s) * (1 - p["shrinkage"]) for i in range(-1, n_slots)]
    assert all(float(x).is_integer() for x in on_q)
    horizon_s = p["horizon_h"] * 3600.0
    exact = sum(on_q[1:]) * slot_s / horizon_s
    leaving = sum(max(0.0, a - b) for a, b in zip(on_q, on_q[1:], strict=False))
    slack = leaving * p["handle_s"] / horizon_s
    for r in labour_runs(p["coaching"]):
        agents = r.m[("base", "agents")]
        assert exact - 1e-9 <= agents <= exact + slack, (agents, exact, slack)
        assert agents == pytest.approx(r.m[("base", "paid_agents")] * (1 - p["shrinkage"]),
                                       abs=slack + 1e-9)
        rows = [row for row in r.intervals if row["channel"] == "phone"]
        assert [row["agents_base"] for row in rows] == on_q[1:]


def test_coaching_share_reduces_on_queue_trainers() -> None:
    p = LABOUR
    coached = labour_runs(p["coaching"])
    plain = labour_runs(0.0)
    on_q = round(p["trainer_agents"] * (1 - p["coaching"]))
    assert on_q < p["trainer_agents"]
    for a, b in zip(coached, plain, strict=True):
        assert a.m[("trainer", "agents")] == pytest.approx(on_q, rel=1e-12)
        assert b.m[("trainer", "agents")] == pytest.approx(p["trainer_agents"], rel=1e-12)
        # coaching is paid time: labour is the same with and without it
        assert a.m[("cost", "labor")] == b.m[("cost", "labor")]
        assert a.m[("trainer", "handled")] < b.m[("trainer", "handled")]


# =========================================================================== 3. overhead
def test_overhead_total_and_labor_share() -> None:
    oh_hour, oh_month, price, h = 120.0, 73000.0, 0.7, 50.0
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 60.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": expo(240.0)},
                   "bot": {"containment": {"simple": 0.3}, "handle_time": expo(60.0),
                           "cost_per_session": price}}},
        {"base": {"agents": 4, "cost_per_hour": 50.0, "serves": {"simple": 1.0}}},
        costs={"overhead_per_hour": oh_hour, "overhead_per_month": oh_month},
        horizon_hours=h, seed=2303)
    for r in runs(sc, 3):
        m = r.m
        overhead = oh_hour * h + oh_month * h / 730.0
        assert m[("cost", "overhead")] == pytest.approx(overhead, rel=1e-12)
        assert m[("cost", "labor")] == pytest.approx(4 * 50.0 * h, rel=1e-12)
        assert m[("cost", "bot")] == pytest.approx(m[("phone", "offered")] * price, rel=1e-12)
        total = m[("cost", "labor")] + m[("cost", "bot")] + overhead
        assert m[("cost", "total")] == pytest.approx(total, rel=1e-12)
        assert m[("cost", "labor_share")] == pytest.approx(m[("cost", "labor")] / total,
                                                           rel=1e-12)
        assert m[("cost", "per_contact")] == pytest.approx(total / m[("all", "offered")],
                                                           rel=1e-12)


# =========================================================================== 4. async channels
NIGHT_OFF = [0] * 8 + [3] * 12 + [0] * 4  # social team on 08:00-20:00 (interval 60 min)
PHONE = {"arrivals": {"rate_per_hour": 110.0}, "mix": {"simple": 1.0},
         "handle_time": {"simple": {"dist": "lognormal", "mean_s": 300.0, "cv": 0.8}},
         "patience": expo(120.0), "queue_capacity": 3,
         "bot": {"containment": {"simple": 0.3}, "handle_time": expo(60.0)}}
SOCIAL = {"mode": "async", "arrivals": {"rate_per_hour": 8.0}, "mix": {"post": 1.0},
          "handle_time": {"post": expo(300.0)}}


def same(x: Any, y: Any) -> bool:
    """Bitwise-equal values (NaN equals NaN)."""
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y and type(x) is type(y)


def _async_scenario(with_social: bool, social_tier: dict | None = None,
                    social: dict | None = None) -> Scenario:
    channels: dict[str, Any] = {"phone": PHONE}
    tiers: dict[str, Any] = {"base": {"agents": 7, "cost_per_hour": 40.0,
                                      "serves": {"simple": 1.0}}}
    if with_social:
        channels["social"] = social or SOCIAL
        tiers["team"] = social_tier or {
            "schedule": {"agents_per_interval": NIGHT_OFF}, "cost_per_hour": 30.0,
            "serves": {"post": 1.0}, "resolution": {"post": 0.9}}
    return scenario(channels, tiers, horizon_hours=72.0, warmup_hours=2.0,
                    interval_minutes=60, seed=2404)


@functools.cache
def async_runs(with_social: bool) -> list[Run]:
    return runs(_async_scenario(with_social), 3)


def test_async_channel_leaves_realtime_metrics_bitwise_unchanged() -> None:
    """Common random numbers: streams are keyed by channel name and the social channel has
    its own tier, so adding it changes nothing for phone, its type or its tier."""
    for a, b in zip(async_runs(True), async_runs(False), strict=True):
        keys = [k for k in b.m if k[0] in ("phone", "simple", "base")]
        assert len(keys) > 40
        for k in keys:
            assert same(a.m[k], b.m[k]), (k, a.m[k], b.m[k])
        ph = [row for row in a.intervals if row["channel"] == "phone"]
        pb = [row for row in b.intervals if row["channel"] == "phone"]
        assert len(ph) == len(pb)
        for x, y in zip(ph, pb, strict=True):
            assert set(x) - set(y) == {"agents_team", "busy_team"}
            assert all(same(x[k], y[k]) for k in y), (x, y)
        assert a.m[("phone", "abandoned")] > 0 and a.m[("phone", "blocked")] > 0


def test_async_contacts_wait_overnight_for_scheduled_agents() -> None:
    for r in async_runs(True):
        m, s = r.m, r.ch("social")
        assert m[("social", "offered")] > 0
        assert m[("social", "closed")] == 0 and m[("social", "blocked")] == 0
        assert m[("social", "abandoned")] == 0
        assert m[("social", "answered")] == m[("social", "offered")]
        # nobody answered while the team is off (20:00-08:00)
        answer_h = tod_h(r.c.arrival_s[s] + r.c.wait_s[s])
        assert np.all((answer_h >= 8.0) & (answer_h < 20.0)), answer_h.min()
        assert np.any(tod_h(r.c.arrival_s[s]) < 8.0)  # night arrivals exist and were kept
        backlog = np.array([row["backlog"] for row in r.intervals
                            if row["channel"] == "social"])
        for day in range(3):  # backlog at 20:00, 21:00, ..., 08:00 next day: nobody takes any
            night = backlog[day * 24 + 19: day * 24 + 32]
            assert np.all(np.diff(night) >= 0), (day, night)
        for day in range(1, 3):
            at_open = backlog[day * 24 + 7]   # end of 07:00-08:00: before agents come on
            later = backlog[day * 24 + 11]    # end of 11:00-12:00
            assert at_open > 0 and later < at_open, (day, at_open, later)


def test_async_open_hours_hold_backlog_until_opening() -> None:
    """open_hours are the channel's agents' hours: an async contact arriving when closed
    joins the backlog (it is not refused) and waits for the channel to open, although
    agents are on duty around the clock."""
    team = {"agents": 3, "serves": {"post": 1.0}}
    sc = _async_scenario(True, social_tier=team, social={**SOCIAL, "open_hours": "08:00-20:00"})
    for r in runs(sc, 2):
        s = r.ch("social")
        assert r.m[("social", "closed")] == 0
        assert r.m[("social", "answered")] == r.m[("social", "offered")]
        answer_h = tod_h(r.c.arrival_s[s] + r.c.wait_s[s])
        outside = (answer_h < 8.0) | (answer_h >= 20.0)
        assert not np.any(outside), (
            f"{int(outside.sum())} social contacts answered while the channel is closed")


def _email(rate_per_day: float, team: dict) -> Scenario:
    email = {"mode": "async", "open_hours": "08:00-16:00",
             "arrivals": {"rate_per_hour": rate_per_day / 24.0}, "mix": {"post": 1.0},
             "handle_time": {"post": const(600.0)}}
    return scenario({"email": email}, {"team": team}, horizon_hours=168.0,
                    interval_minutes=60, seed=2405)


def test_async_backlog_still_there_a_week_after_arrivals_end_is_served() -> None:
    """Issue 10 item 8: 2 agents answer 2 x 6 = 12 e-mails an hour for 8 hours a day (96 a
    day) while 240 a day arrive; the measured week's backlog lasts until day ~17.5, more
    than a week after arrivals stop (day 8). Every measured e-mail is answered, in hours."""
    r = Run(_email(240.0, {"agents": 2, "serves": {"post": 1.0}}), 0)
    c, m = r.c, r.m
    assert m[("email", "answered")] == m[("email", "offered")] > 1500
    done_s = c.arrival_s + c.wait_s
    assert done_s.max() > (168 + 24 + 168) * 3600.0  # beyond the old week-long cut-off
    assert np.all((tod_h(done_s) >= 8.0) & (tod_h(done_s) < 16.0))


def test_async_backlog_no_agent_can_ever_take_fails_clearly() -> None:
    """Agents only at night (00:00-06:00) for a channel open 08:00-16:00: no measured e-mail
    can ever be answered; the run stops with a SimulationError naming the queue."""
    from sim.model.engine import SimulationError

    night = {"schedule": {"agents_per_interval": [2] * 6 + [0] * 18},
             "serves": {"post": 1.0}}
    sc = _email(24.0, night)
    with pytest.raises(SimulationError, match=r"never served.*email/post for team"):
        Engine(sc, compile_routes(sc), 0).run()


# =========================================================================== 5. opening hours
OPEN = {"rate": 60.0, "hours": (8.0, 20.0), "days": 3, "bot_s": 60.0, "containment": 0.4}


def _open_scenario(bot: dict | None, open_hours: str | None = "08:00-20:00") -> Scenario:
    ch: dict[str, Any] = {"arrivals": {"rate_per_hour": OPEN["rate"]}, "mix": {"simple": 1.0},
                          "handle_time": {"simple": expo(300.0)}, "patience": expo(300.0)}
    if open_hours:
        ch["open_hours"] = open_hours
    if bot:
        ch["bot"] = bot
    return scenario({"phone": ch}, {"base": {"agents": 7, "serves": {"simple": 1.0}}},
                    horizon_hours=24.0 * OPEN["days"], seed=2505)


def _in_hours(t: np.ndarray) -> np.ndarray:
    lo, hi = OPEN["hours"]
    h = tod_h(t)
    return (h >= lo) & (h < hi)


def test_realtime_closed_hours_refuse_contacts() -> None:
    rs = runs(_open_scenario(None), 6)
    for r in rs:
        c, m = r.c, r.m
        night = ~_in_hours(c.arrival_s)
        assert np.all(c.outcome[night] == CLOSED)
        assert not np.any(c.outcome[~night] == CLOSED)
        assert m[("phone", "closed")] == night.sum() > 0
        assert m[("phone", "blocked")] == m[("phone", "closed")]  # no queue_capacity here
        rows = [row for row in r.intervals if row["channel"] == "phone"]
        for row in rows:
            if not _in_hours(np.array(row["start_h"] * 3600.0)):
                assert row["answered"] == 0 and row["abandoned"] == 0, row
    closed_h = 24.0 - (OPEN["hours"][1] - OPEN["hours"][0])
    assert_close_to(metrics(rs), "phone", "closed", OPEN["rate"] * closed_h * OPEN["days"])


def test_bot_open_24h_contains_at_night_when_agents_are_closed() -> None:
    bot = {"containment": {"simple": OPEN["containment"]}, "handle_time": const(OPEN["bot_s"]),
           "open_hours": "00:00-24:00"}
    rs = runs(_open_scenario(bot), 6)
    night_contained = []
    for r in rs:
        c = r.c
        joins_open = _in_hours(c.arrival_s + OPEN["bot_s"])  # the gate is met after the bot
        out = c.outcome
        assert np.all(np.isin(out[~joins_open], (CONTAINED, CLOSED)))
        assert np.all(np.isin(out[joins_open], (CONTAINED, ANSWERED, ABANDONED)))
        assert r.m[("phone", "closed")] == np.count_nonzero(out == CLOSED) > 0
        night_contained.append(np.count_nonzero((out == CONTAINED) & ~_in_hours(c.arrival_s)))
    closed_h = 24.0 - (OPEN["hours"][1] - OPEN["hours"][0])
    assert_mean(night_contained, OPEN["rate"] * closed_h * OPEN["days"] * OPEN["containment"],
                "contained at night")


def test_bot_open_hours_limit_sessions() -> None:
    """A bot with hours serves only arrivals within them; the rest go straight to agents."""
    bot = {"containment": {"simple": 1.0}, "handle_time": const(30.0), "cost_per_session": 1.0,
           "open_hours": "08:00-20:00"}
    for r in runs(_open_scenario(bot, open_hours=None), 2):
        c = r.c
        in_h = _in_hours(c.arrival_s)
        assert np.all(c.outcome[in_h] == CONTAINED)
        assert not np.any(c.outcome[~in_h] == CONTAINED)
        assert r.m[("cost", "bot")] == in_h.sum()


# =========================================================================== 6. transfers
def _transfer_scenario(handle: dict, patience: dict | None = None) -> Scenario:
    ch: dict[str, Any] = {"arrivals": {"rate_per_hour": 40.0}, "mix": {"simple": 1.0},
                          "handle_time": {"simple": handle}}
    if patience:
        ch["patience"] = patience
    return scenario(
        {"phone": ch},
        {"base": {"agents": 7, "serves": {"simple": 1.0}, "resolution": {"simple": 0.0}},
         "advanced": {"agents": 6, "serves": {"simple": 2.0}}},   # twice as fast
        # advanced only ever gets transferred contacts (its first-queue delay is never reached)
        routing={"simple": [{"tier": "base"}, {"tier": "advanced", "after_s": 1.0e7}]},
        resolution={"transfer_share": 1.0, "transfer_overhead_s": 30.0, "repeat_share": 0.0},
        horizon_hours=60.0, warmup_hours=2.0, seed=2606)


@pytest.mark.parametrize("dist", ("constant", "exponential"))
def test_transfer_every_contact_once(dist: str) -> None:
    mean = 240.0
    handle = const(mean) if dist == "constant" else expo(mean)
    rs = runs(_transfer_scenario(handle, patience=expo(200.0)), 6)
    expected_aht = mean + 30.0 + mean / 2.0   # base leg + overhead + advanced leg
    for r in rs:
        m, c = r.m, r.c
        ans = c.outcome == ANSWERED
        assert m[("phone", "abandoned")] > 0          # the first queue has patience ...
        assert np.all(c.transfers[ans] == 1)          # ... the transfer leg has none
        assert np.all(c.transfers[c.outcome == ABANDONED] == 0)
        assert np.all(c.tier[ans] == r.tier("base"))  # tier = first tier
        assert m[("phone", "transfers_per_contact")] == 1.0
        assert m[("phone", "fcr")] == 0.0
        assert m[("base", "handled")] == m[("advanced", "handled")] == m[("phone", "answered")]
        if dist == "constant":
            assert np.allclose(c.handle_s[ans], expected_aht, rtol=1e-12, atol=0)
    if dist == "exponential":
        assert_close_to(metrics(rs), "phone", "aht_s", expected_aht)


def test_transfer_legs_pass_closing_time() -> None:
    """Opening hours refuse new contacts only: a transfer after closing is still served."""
    base = _transfer_scenario(const(240.0))
    phone = base.channels["phone"].model_dump(exclude_none=True)
    sc = scenario({"phone": {**phone, "open_hours": "08:00-20:00"}},
                  {k: t.model_dump(exclude_none=True) for k, t in base.tiers.items()},
                  routing={k: [st.model_dump() for st in v] for k, v in base.routing.items()},
                  resolution=base.resolution.model_dump(), horizon_hours=48.0, seed=2608)
    late = 0
    for rep in range(2):
        r = Run(sc, rep, trace=True)
        c = r.c
        assert np.all(c.transfers[c.outcome == CLOSED] == 0)
        assert np.all(c.transfers[c.outcome == ANSWERED] == 1)
        late += sum(1 for _, t, ev, *_ in r.rec.trace
                    if ev == "transfer" and not _in_hours(np.array(t)))
    assert late > 0  # some transfers did happen after closing


def test_transfer_goes_to_a_later_tier_than_the_one_that_served() -> None:
    """ENGINE BUG (kept failing on purpose): with pooled routing [base, advanced(after 0)]
    a contact first served by advanced, the last tier of its routing, has no next tier, yet
    it is 'transferred' to advanced again (transfers advance the routing *stage*, not past
    the tier that served)."""
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 60.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": expo(300.0)}}},
        {"base": {"agents": 3, "serves": {"simple": 1.0}, "resolution": {"simple": 0.0}},
         "advanced": {"agents": 3, "serves": {"simple": 1.0}, "resolution": {"simple": 0.0}}},
        routing={"simple": [{"tier": "base"}, {"tier": "advanced"}]},
        resolution={"transfer_share": 1.0, "repeat_share": 0.0},
        horizon_hours=20.0, seed=2607)
    r = Run(sc, 0)
    c = r.c
    first_adv = (c.outcome == ANSWERED) & (c.tier == r.tier("advanced"))
    assert first_adv.sum() > 0
    assert np.all(c.transfers[first_adv] == 0), (
        f"{int((c.transfers[first_adv] > 0).sum())} of {int(first_adv.sum())} contacts "
        "first served by 'advanced' were transferred from advanced to advanced")


# =========================================================================== 7. false containment
# Every contact (primary or repeat) meets the bot: contained with prob c, and a contained
# one comes back with prob q, so each contact spawns a repeat with prob p = c q. The total
# offered rate L solves L = lam + p L: L = lam / (1 - p), repeats arrive at p L, and
# repeat_rate = p L / L = c q exactly (not c q / (1 + c q), which would hold if repeats
# skipped the bot).
FALSE = {"rate": 100.0, "c": 0.6, "q": 0.5}


@functools.cache
def false_runs() -> list[Run]:
    f = FALSE
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": f["rate"]}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": expo(300.0)},
                   "bot": {"containment": {"simple": f["c"]}, "handle_time": expo(60.0),
                           "false_containment": f["q"]}}},
        {"base": {"agents": 12, "serves": {"simple": 1.0}}},
        resolution={"repeat_delay": expo(600.0)},
        horizon_hours=80.0, warmup_hours=4.0, seed=2707)
    return runs(sc, 10)


def test_false_containment_repeats() -> None:
    f = FALSE
    p = f["c"] * f["q"]
    rs = false_runs()
    reps = metrics(rs)
    h = rs[0].sc.horizon_hours
    assert_close_to(reps, "phone", "repeat_rate", p)
    assert_close_to(reps, "phone", "offered", f["rate"] * h / (1 - p))
    assert_close_to(reps, "phone", "automation_rate", f["c"])
    assert np.all(values(reps, "phone", "fcr") == 1.0)  # agents resolve everything


# =========================================================================== 8. escalation
ESC = {"handle_s": 300.0, "added_s": 60.0}


@functools.cache
def escalation_runs(factor: float, added_s: float) -> list[Run]:
    sc = scenario(
        {"phone": {"arrivals": {"rate_per_hour": 100.0}, "mix": {"simple": 1.0},
                   "handle_time": {"simple": const(ESC["handle_s"])},
                   "patience": expo(120.0),
                   "bot": {"containment": {"simple": 0.3}, "handle_time": const(60.0),
                           "escalation": {"patience_factor": factor,
                                          "added_handle_s": added_s}}}},
        {"base": {"agents": 6, "serves": {"simple": 1.0}}},
        horizon_hours=20.0, warmup_hours=1.0, seed=2808)
    return runs(sc, 8)


def test_escalation_impatience_raises_abandonment() -> None:
    a = values(metrics(escalation_runs(0.5, 0.0)), "phone", "abandon_rate")
    b = values(metrics(escalation_runs(1.0, 0.0)), "phone", "abandon_rate")
    assert_positive(a - b, "abandon_rate(factor 0.5) - abandon_rate(factor 1), paired")
    # CRN: the same customers arrive and meet the bot alike
    for x, y in zip(escalation_runs(0.5, 0.0), escalation_runs(1.0, 0.0), strict=True):
        for k in ("offered", "bot_contained", "queued"):
            assert x.m[("phone", k)] == y.m[("phone", k)]


def test_escalation_added_handle_time() -> None:
    for x, y in zip(escalation_runs(1.0, ESC["added_s"]), escalation_runs(1.0, 0.0),
                    strict=True):
        assert x.m[("phone", "aht_s")] == pytest.approx(ESC["handle_s"] + ESC["added_s"],
                                                        rel=1e-12)
        assert y.m[("phone", "aht_s")] == pytest.approx(ESC["handle_s"], rel=1e-12)


# =========================================================================== 9. daily volume
WEEK_FACTORS = [1, 1, 1, 1, 1, 0.5, 0]


def test_day_factors_scale_each_day() -> None:
    rate = 30.0
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": rate, "day_factors": WEEK_FACTORS},
                             "mix": {"simple": 1.0}, "handle_time": {"simple": expo(120.0)}}},
                  {"base": {"agents": 4, "serves": {"simple": 1.0}}},
                  horizon_hours=168.0, interval_minutes=60, seed=2909)
    rs = runs(sc, 10)
    assert_close_to(metrics(rs), "phone", "offered", rate * 24 * sum(WEEK_FACTORS))
    per_day = np.array([[sum(row["offered"] for row in r.intervals
                             if row["channel"] == "phone" and row["interval"] // 24 == d)
                         for d in range(7)] for r in rs])
    assert np.all(per_day[:, 6] == 0)  # Sunday factor 0
    for d in (0, 5):
        assert_mean(per_day[:, d], rate * 24 * WEEK_FACTORS[d], f"offered on day {d}")


@functools.cache
def one_day_offered(cv: float) -> np.ndarray:
    arrivals: dict[str, Any] = {"rate_per_hour": 100.0}
    if cv > 0:
        arrivals["daily_volume_cv"] = cv
    sc = scenario({"phone": {"arrivals": arrivals, "mix": {"simple": 1.0},
                             "handle_time": {"simple": expo(60.0)}}},
                  {"base": {"agents": 12, "serves": {"simple": 1.0}}},
                  horizon_hours=24.0, seed=3010)
    return np.array([r.m[("phone", "offered")] for r in runs(sc, 40)])


def test_daily_volume_cv_keeps_mean_adds_variance() -> None:
    lam_t, cv, n = 100.0 * 24, 0.3, 40
    noisy, plain = one_day_offered(cv), one_day_offered(0.0)
    assert_mean(noisy, lam_t, "offered per day, cv 0.3")
    assert_mean(plain, lam_t, "offered per day, Poisson")
    # Poisson: (n-1) s^2 / (lam T) ~ chi2(n-1); gamma day factor: var = lam T + (cv lam T)^2
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1)
    ratio_plain = plain.var(ddof=1) / lam_t
    ratio_noisy = noisy.var(ddof=1) / lam_t
    assert lo <= ratio_plain <= hi, ratio_plain
    assert ratio_noisy > hi, ratio_noisy  # clearly over-dispersed (expected ~ 1 + 0.09 lam T)
    assert ratio_noisy > 10 * hi


# =========================================================================== 10. conservation
@functools.cache
def rich_runs() -> list[Run]:
    phone = {"arrivals": {"rate_per_hour": 90.0}, "mix": {"simple": 0.7, "complex": 0.3},
             "handle_time": {"simple": expo(240.0), "complex": expo(480.0)},
             "patience": expo(150.0), "queue_capacity": 10, "open_hours": "07:00-22:00",
             "bot": {"containment": {"simple": 0.4, "complex": 0.1}, "handle_time": expo(60.0),
                     "false_containment": 0.3, "cost_per_session": 0.5,
                     "escalation": {"patience_factor": 0.7, "added_handle_s": 20.0}}}
    chat = {"arrivals": {"rate_per_hour": 40.0}, "mix": {"simple": 0.5, "complex": 0.5},
            "handle_time": {"simple": expo(400.0), "complex": expo(600.0)},
            "patience": expo(300.0), "concurrency": 2, "priority": 2, "repeat_channel": "phone"}
    social = {"mode": "async", "arrivals": {"rate_per_hour": 6.0},
              "mix": {"complex": 0.5, "post": 0.5},
              "handle_time": {"complex": expo(600.0), "post": expo(300.0)}}
    tiers = {
        "base": {"agents": 6, "serves": {"simple": 1.0}, "resolution": {"simple": 0.7},
                 "shrinkage": 0.1},
        "advanced": {"agents": 7, "serves": {"simple": 1.2, "complex": 1.0},
                     "resolution": {"simple": 0.9, "complex": 0.6}},
        "trainer": {"schedule": {"agents_per_interval": [1] * 16 + [4] * 24 + [1] * 8},
                    "coaching_share": 0.2,
                    "serves": {"complex": 1.0, "post": 1.0}, "resolution": {"complex": 0.9}},
    }
    routing = {"simple": [{"tier": "base"}, {"tier": "advanced", "after_s": 60.0}],
               "complex": [{"tier": "advanced"}, {"tier": "trainer", "after_s": 120.0}],
               "post": [{"tier": "trainer"}]}
    sc = scenario({"phone": phone, "chat": chat, "social": social}, tiers, routing=routing,
                  resolution={"transfer_share": 0.5, "transfer_overhead_s": 20.0,
                              "repeat_share": 0.6, "repeat_delay": expo(1800.0)},
                  horizon_hours=48.0, warmup_hours=2.0, seed=3111)
    return runs(sc, 4)


COUNTS = ("offered", "bot_contained", "blocked", "queued", "answered", "abandoned", "closed")


def test_conservation_with_repeats_and_transfers() -> None:
    for i, r in enumerate(rich_runs()):
        sc, m, c = r.sc, r.m, r.c
        scopes = ["all", *sc.channels, *sc.contact_types]
        for s in scopes:
            v = {k: m[(s, k)] for k in COUNTS}
            assert v["offered"] == (v["bot_contained"] + v["blocked"] + v["answered"]
                                    + v["abandoned"]), (i, s, v)
            assert v["queued"] == v["answered"] + v["abandoned"], (i, s, v)
        for k in COUNTS:
            assert sum(m[(ch, k)] for ch in sc.channels) == m[("all", k)], (i, k)
            assert sum(m[(t, k)] for t in sc.contact_types) == m[("all", k)], (i, k)
        transfers = round(m[("all", "transfers_per_contact")] * m[("all", "answered")])
        assert transfers == c.transfers[c.outcome == ANSWERED].sum() > 0
        assert np.all(c.transfers[c.outcome != ANSWERED] == 0)
        assert sum(m[(t, "handled")] for t in sc.tiers) == m[("all", "answered")] + transfers
        # every feature is exercised
        for s, k in (("phone", "closed"), ("phone", "bot_contained"), ("all", "abandoned"),
                     ("all", "repeat_rate"), ("social", "answered")):
            assert m[(s, k)] > 0, (i, s, k)
        assert m[("social", "abandoned")] == m[("social", "blocked")] == 0


def test_repeat_channel_receives_the_repeats() -> None:
    for r in rich_runs():
        assert r.m[("chat", "repeat_rate")] == 0.0     # chat's repeats come back on phone
        assert r.m[("phone", "repeat_rate")] > 0.0


# =========================================================================== 11. more agents
def _fifo_scenario(agents: int, fcr: float, rate: float) -> Scenario:
    tier: dict[str, Any] = {"agents": agents, "serves": {"simple": 1.0}}
    if fcr < 1:
        tier["resolution"] = {"simple": fcr}
    return scenario({"phone": {"arrivals": {"rate_per_hour": rate}, "mix": {"simple": 1.0},
                               "handle_time": {"simple": expo(300.0)}}},
                    {"base": tier},
                    resolution={"repeat_share": 1.0, "repeat_delay": expo(900.0)},
                    horizon_hours=30.0, warmup_hours=3.0, seed=3212)


def _sorted_waits(r: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = r.c
    o = np.lexsort((c.repeat, c.arrival_s))
    return c.arrival_s[o], c.repeat[o], c.wait_s[o]


def test_more_agents_never_worse_without_repeats_pathwise() -> None:
    """FIFO M/M/c, work drawn at arrival: each customer's wait is non-increasing in c
    (Kiefer-Wolfowitz workload recursion is monotone), in every replication."""
    for rep in range(4):
        a, b = Run(_fifo_scenario(9, 1.0, 95.0), rep), Run(_fifo_scenario(10, 1.0, 95.0), rep)
        ta, _, wa = _sorted_waits(a)
        tb, _, wb = _sorted_waits(b)
        assert np.array_equal(ta, tb)
        assert np.all(wb <= wa + 1e-9)
        assert b.m[("phone", "mean_wait_s")] <= a.m[("phone", "mean_wait_s")]


def test_more_agents_never_worse_with_repeats_in_the_mean() -> None:
    """With FCR < 1 the primary customers and their resolution draws are CRN-stable
    (drawn at arrival), but repeats come back after service *ends* plus a delay drawn in
    completion order, and repeat customers' draws follow repeat arrival order: with more
    agents the repeats arrive at other times with other work, so waits are not comparable
    customer by customer (here, at 9 vs 10 agents and 87.5 contacts/h in all, some primary
    customer waits longer with 10 agents in about half the replications), nor need the
    mean be, replication by replication. The mean wait is lower with c + 1 agents in
    expectation: the paired difference is > 0 by 4 SE."""
    diffs = []
    for rep in range(10):
        a, b = Run(_fifo_scenario(9, 0.8, 70.0), rep), Run(_fifo_scenario(10, 0.8, 70.0), rep)
        ta, ra, _ = _sorted_waits(a)
        tb, rb, _ = _sorted_waits(b)
        assert np.array_equal(ta[ra == 0], tb[rb == 0])   # the same primary customers
        assert a.m[("phone", "repeat_rate")] > 0
        diffs.append(a.m[("phone", "mean_wait_s")] - b.m[("phone", "mean_wait_s")])
    assert_positive(diffs, "mean_wait_s(c) - mean_wait_s(c+1), paired")


# =========================================================================== 12. schedule changes
DAY_PROFILE = [2] * 8 + [6] * 4 + [3] * 6 + [1] * 6  # hourly: cuts at 12:00 and 18:00
SERVICE_S = 600.0


def _schedule_scenario() -> Scenario:
    return scenario({"phone": {"arrivals": {"rate_per_hour": 40.0}, "mix": {"simple": 1.0},
                               "handle_time": {"simple": const(SERVICE_S)},
                               "patience": expo(300.0)}},
                    {"base": {"schedule": {"agents_per_interval": DAY_PROFILE},
                              "serves": {"simple": 1.0}}},
                    horizon_hours=48.0, interval_minutes=60, seed=3313)


def test_schedule_change_mid_day_agents_follow_it() -> None:
    sc = _schedule_scenario()
    for rep in range(2):
        eng = Engine(sc, compile_routes(sc), rep)
        for i in range(48):
            eng.advance(i * 3600.0 + 1800.0)  # the middle of interval i
            duty = eng.on_duty[0]
            active = [a for a in duty if not a.leaving]
            assert len(active) == DAY_PROFILE[i % 24], (i, len(active))
            assert all(a.held > 0 for a in duty if a.leaving)  # only busy agents stay on
            assert all(not a.leaving for a in eng.idle[0])
        rec = eng.run()
        rows = interval_rows(sc, compile_routes(sc), rec)
        assert [row["agents_base"] for row in rows] == [float(DAY_PROFILE[i % 24])
                                                        for i in range(48)]


def test_agent_going_off_shift_finishes_its_contact() -> None:
    sc = _schedule_scenario()
    spanning = 0
    for rep in range(2):
        r = Run(sc, rep, trace=True)
        ans = r.c.outcome == ANSWERED
        assert np.all(r.c.handle_s[ans] == SERVICE_S)  # no contact is cut short
        start: dict[int, float] = {}
        in_service: dict[int, float] = {}
        for cid, t, ev, *_ in r.rec.trace:
            if ev == "answer":
                start[cid] = t
                in_service[cid] = t
                b = math.floor(t / 3600.0) * 3600.0  # start of the current interval
                n_now = DAY_PROFILE[int(b // 3600) % 24]
                n_prev = DAY_PROFILE[int(b // 3600 - 1) % 24]
                # agents going off take nothing new: services started since the boundary fit
                # the new staffing, and in total no more than the larger of the two run
                assert sum(1 for s in in_service.values() if s >= b) <= n_now, (t, n_now)
                assert len(in_service) <= max(n_now, n_prev), (t, len(in_service))
            elif ev == "end":
                assert t - start[cid] == pytest.approx(SERVICE_S, abs=1e-6)
                s = in_service.pop(cid)
                for cut in (12.0, 18.0):  # staffing cuts
                    bnd = math.floor(s / DAY_S) * DAY_S + cut * 3600.0
                    if s < bnd < t:
                        spanning += 1
    assert spanning > 0  # some services did run across a cut in staffing


# =========================================================================== 13. SPEC §7.2, §7.4
# Weekday opening hours, the business-hours clock, unplanned absence, features that are off.
WEEKDAYS = {0: (8.0, 20.0), 1: (8.0, 20.0), 2: (8.0, 20.0), 3: (8.0, 20.0), 4: (8.0, 20.0),
            5: (9.0, 13.0)}  # {mon-fri: "08:00-20:00", sat: "09:00-13:00"}; sunday closed
WEEKDAY_HOURS = {"mon-fri": "08:00-20:00", "sat": "09:00-13:00"}


def open_by_hand(t: float, days: dict[int, tuple[float, float]]) -> bool:
    lo, hi = days.get(int(t // DAY_S) % 7, (0.0, 0.0))
    return lo <= (t % DAY_S) / 3600.0 < hi


def open_seconds_by_hand(a: float, b: float, days: dict[int, tuple[float, float]]) -> float:
    """Open seconds in [a, b), day by day."""
    total, d = 0.0, math.floor(a / DAY_S)
    while d * DAY_S < b:
        lo, hi = days.get(d % 7, (0.0, 0.0))
        total += max(0.0, min(b, d * DAY_S + hi * 3600) - max(a, d * DAY_S + lo * 3600))
        d += 1
    return total


def test_weekday_open_hours_refuse_exactly_outside_them() -> None:
    phone = {"arrivals": {"rate_per_hour": 20.0}, "mix": {"simple": 1.0},
             "handle_time": {"simple": const(60.0)}, "open_hours": WEEKDAY_HOURS,
             "bot": {"containment": {"simple": 0.5}, "handle_time": const(30.0),
                     "open_hours": {"sat-sun": "00:00-24:00"}}}
    sc = scenario({"phone": phone}, {"base": {"agents": 3, "serves": {"simple": 1.0}}},
                  horizon_hours=336.0, interval_minutes=60, seed=2601)
    r = Run(sc, 0, trace=True)
    arrive = {cid: t for cid, t, ev, *_ in r.rec.trace if ev == "arrive"}
    closed = {cid for cid, t, ev, *_ in r.rec.trace if ev == "closed"}
    contained = {cid for cid, t, ev, *_ in r.rec.trace if ev == "contained"}
    weekend = {cid for cid, t in arrive.items() if int(t // DAY_S) % 7 >= 5}
    for cid, t in arrive.items():  # the weekend bot takes 30 s before the queue is asked
        join = t + 30.0 if cid in weekend else t
        if cid not in contained and join < (336 + 24) * 3600 - 60:
            assert (cid in closed) == (not open_by_hand(join, WEEKDAYS)), (cid, t)
    meas = [cid for cid, t in arrive.items() if 0 <= t < 336 * 3600]
    assert r.m[("phone", "closed")] == sum(cid in closed for cid in meas) > 100
    assert r.rec.bot_sessions[0] == sum(cid in weekend for cid in meas) > 50
    assert any(int(arrive[cid] // DAY_S) % 7 == 5 and cid not in closed
               for cid in meas)  # saturday 09:00-13:00 is open


EMAIL_HOURS = {"mon-fri": "08:00-17:00"}
EMAIL_DAYS = {d: (8.0, 17.0) for d in range(5)}


def _business_email(clock: str, agents: int = 3) -> Scenario:
    email = {"mode": "async", "open_hours": EMAIL_HOURS, "sla_clock": clock,
             "arrivals": {"rate_per_hour": 4.0}, "mix": {"mail": 1.0},
             "handle_time": {"mail": const(120.0)}, "service_level_threshold_s": 8 * 3600.0}
    return scenario({"email": email}, {"team": {"agents": agents, "serves": {"mail": 1.0}}},
                    horizon_hours=336.0, interval_minutes=60, seed=2602)


def test_business_clock_counts_open_time_only() -> None:
    """Waits on the business clock equal the open seconds between join and answer, computed
    by hand day by day; every wait metric (and intervals.csv's asa_s) uses them."""
    r = Run(_business_email("open_hours"), 0, trace=True)
    c = r.c
    wall = c.wait_s  # the records hold the business-clock wait already
    answer = {}
    for cid, t, ev, *_ in r.rec.trace:
        if ev == "answer":
            answer[cid] = t
    arrive = {cid: t for cid, t, ev, *_ in r.rec.trace if ev == "arrive"}
    by_arrival = {t: open_seconds_by_hand(t, answer[cid], EMAIL_DAYS)
                  for cid, t in arrive.items() if cid in answer}
    bw = np.array([by_arrival[float(t)] for t in c.arrival_s])
    assert np.allclose(wall, bw, rtol=1e-9, atol=1e-6)
    assert r.m[("email", "asa_s")] == pytest.approx(bw.mean(), rel=1e-9)
    assert r.m[("email", "p_wait")] == pytest.approx((bw > 0).mean())
    assert r.m[("email", "service_level")] == pytest.approx((bw <= 8 * 3600.0).mean())
    exact90 = np.percentile(bw, 90)
    assert abs(r.m[("email", "wait_p90_s")] - exact90) <= 1e-3 * exact90 + 1e-3
    # weekend and night e-mails wait many wall hours but few business hours
    wall_s = np.array([answer[cid] - t for cid, t in arrive.items()
                       if cid in answer and 0 <= t < 336 * 3600])
    assert wall_s.max() > 60 * 3600 and bw.max() < 4 * 3600  # Monday's backlog: ~3 h


def test_business_clock_meets_8_business_hours_when_answered_within_an_hour_of_opening(
        ) -> None:
    """Issue 11's acceptance: every e-mail answered within an hour of opening meets "90% in 8
    business hours"; on the wall clock the same e-mails miss it (nights and weekends)."""
    biz = Run(_business_email("open_hours", agents=10), 0, trace=True)
    wall = Run(_business_email("wall", agents=10), 0)
    answered_h = np.array([(t % DAY_S) / 3600.0 for _, t, ev, *_ in biz.rec.trace
                           if ev == "answer"])
    assert answered_h.min() >= 8.0 and biz.c.wait_s.max() < 3600.0  # within the first hour
    assert biz.m[("email", "service_level")] == 1.0
    assert wall.m[("email", "service_level")] < 0.6
    assert biz.m[("email", "answered")] == wall.m[("email", "answered")]  # same customers


ABSENCE = {"agents": 20, "p": 0.15, "days": 28}


@functools.cache
def absence_runs(schedule: bool) -> list[Run]:
    a = ABSENCE
    tier: dict[str, Any] = {"serves": {"simple": 1.0}, "absence_share": a["p"]}
    if schedule:  # two shifts a day: 08-16 x 10, 12-20 x 6 (interval 60 min)
        tier["schedule"] = {"shifts": [{"start": "08:00", "end": "16:00", "agents": 10},
                                       {"start": "12:00", "end": "20:00", "agents": 6}]}
    else:
        tier["agents"] = a["agents"]
    phone = {"arrivals": {"rate_per_hour": 0.5}, "mix": {"simple": 1.0},
             "handle_time": {"simple": const(1.0)}}
    sc = scenario({"phone": phone}, {"base": tier}, horizon_hours=24.0 * a["days"],
                  interval_minutes=60, seed=2603)
    return runs(sc, 12)


def test_absence_present_agents_are_binomial() -> None:
    """Constant 20 agents, each absent a day with p = 0.15: the agents on the queue each day
    are Binomial(20, 0.85) — mean 17, variance 2.55 (days independent; replications give
    the tolerance). Pay is unchanged."""
    a = ABSENCE
    n, p = a["agents"], a["p"]
    means, variances = [], []
    for r in absence_runs(False):
        daily = np.array([row["agents_base"] for row in r.intervals][::24])
        assert np.all(np.array([row["agents_base"] for row in r.intervals]).reshape(-1, 24)
                      == daily[:, None])  # all day long
        means.append(daily.mean())
        variances.append(daily.var(ddof=1))
        assert r.m[("base", "agents")] == pytest.approx(daily.mean(), rel=1e-9)
        assert r.m[("base", "paid_agents")] == n
    assert_mean(means, n * (1 - p), "mean agents present")
    assert_mean(variances, n * p * (1 - p), "variance of agents present")


def test_absence_per_shift_agent_day() -> None:
    """Shifts 08-16 x 10 and 12-20 x 6: at 09:00 Binomial(10, 0.85); at 13:00 the sum of both
    shifts' presents (the same 08-16 agents as at 09:00); at 17:00 Binomial(6, 0.85)."""
    p = ABSENCE["p"]
    m9, v9, m13, v13, m17 = [], [], [], [], []
    for r in absence_runs(True):
        day = np.array([row["agents_base"] for row in r.intervals]).reshape(-1, 24)
        assert np.all(day[:, 8:12] == day[:, [8]])      # one draw per shift and day
        assert np.all(day[:, 12:16] >= day[:, 8:12])    # the 08-16 agents plus the others
        assert np.all(day[:, :8] == 0) and np.all(day[:, 20:] == 0)
        m9.append(day[:, 9].mean())
        v9.append(day[:, 9].var(ddof=1))
        m13.append(day[:, 13].mean())
        v13.append(day[:, 13].var(ddof=1))
        m17.append(day[:, 17].mean())
    assert_mean(m9, 10 * (1 - p), "09:00 mean")
    assert_mean(v9, 10 * p * (1 - p), "09:00 variance")
    assert_mean(m13, 16 * (1 - p), "13:00 mean")
    assert_mean(v13, 16 * p * (1 - p), "13:00 variance")
    assert_mean(m17, 6 * (1 - p), "17:00 mean")


def test_features_that_are_off_leave_results_bitwise_unchanged() -> None:
    """Retrial shares 0, callbacks never accepted, slowdown factors all 1, reserve 0,
    absence 0, a type priority equal to the channel's, the business clock without hours:
    every metric is bitwise what it is without these keys."""
    base = rich_runs()[0].sc
    ch = {k: dict(v) for k, v in base.model_dump(exclude_none=True)["channels"].items()}
    ph, chat = next(iter(ch)), list(ch)[1]
    ch[ph]["retrial"] = {"after_abandon_share": 0.0, "after_block_share": 0.0}
    ch[ph]["callback"] = {"offer_after_s": 30, "accept_share": 0.0}
    ch[chat]["sla_clock"] = "open_hours"  # chat has no open_hours: the clock is the wall's
    ch[chat]["concurrency_slowdown"] = [1.0] * ch[chat]["concurrency"]
    ch["social"]["reserve_agents"] = 0
    data = base.model_dump(exclude_none=True)
    data["channels"] = ch
    data["tiers"]["base"]["absence_share"] = 0.0
    data["type_priority"] = {t: int(base.channels[ph].priority) for t in base.channels[ph].mix
                             if all(t not in c.mix or c.priority == base.channels[ph].priority
                                    for c in base.channels.values())}
    off = Scenario.model_validate(data)
    for rep, r in enumerate(rich_runs()[:2]):
        o = Run(off, rep)
        assert r.m.keys() == o.m.keys()
        assert all(same(r.m[k], o.m[k]) for k in r.m), [k for k in r.m if not same(r.m[k], o.m[k])]


def test_callbacks_are_offered_to_first_legs_only() -> None:
    """A transferred caller waiting for its next tier is still on the line (a transfer leg
    never abandons and is offered no callback), even when its first leg's offer time falls
    in that wait."""
    phone = {"arrivals": {"rate_per_hour": 130.0}, "mix": {"simple": 1.0},
             "handle_time": {"simple": const(20.0)}, "patience": expo(300.0),
             "callback": {"offer_after_s": 30.0, "accept_share": 1.0}}
    sc = scenario({"phone": phone},
                  {"base": {"agents": 1, "serves": {"simple": 1.0}, "resolution": {"simple": 0.0}},
                   "advanced": {"agents": 1, "serves": {"simple": 1.0}}},
                  routing={"simple": [{"tier": "base"}, {"tier": "advanced"}]},
                  resolution={"transfer_share": 1.0}, horizon_hours=8.0, seed=2604)
    r = Run(sc, 0, trace=True)
    seen: dict[int, list[str]] = {}
    for cid, _, ev, *_ in r.rec.trace:
        seen.setdefault(cid, []).append(ev)
    late = [cid for cid, evs in seen.items()
            if "callback" in evs and "transfer" in evs and evs.index("callback") > evs.index(
                "transfer")]
    assert not late, late[:5]
    assert sum("callback" in evs for evs in seen.values()) > 0  # first legs did get them
    waited_after_transfer = sum(1 for evs in seen.values() if evs.count("queue") >= 1
                                and "transfer" in evs and evs[evs.index("transfer") + 1] == "queue")
    assert waited_after_transfer > 20
