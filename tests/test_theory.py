"""The simulator against exact queueing theory.

Every statistical check compares the mean over independent replications with an exact
value and allows k = 4 standard errors (of the replication mean) — never pinned decimals.
Seeds are fixed, so the suite is deterministic. Warm-ups are many relaxation times of the
queue (start-up bias is far below one standard error). Simulations are cached per case
and shared between the parametrised checks, so each scenario runs once per session.

Time budget: the whole file runs in about a minute on one core (see ``CASES`` for sizes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest
from support import assert_close_to, assert_mean, one_channel, replicate, scenario, values

from sim.inputs.config import Scenario
from sim.measure.metrics import Metrics
from sim.measure.runner import Job, RepResult, simulate
from sim.model.arrivals import ArrivalClock
from sim.model.erlang import (
    cobham_priority_waits_s,
    erlang_a_metrics,
    erlang_b,
    erlang_c_metrics,
    mmck_metrics,
)


def expo(mean_s: float) -> dict:
    return {"dist": "exponential", "mean_s": mean_s}


def rate_for(rho: float, agents: int, aht_s: float) -> float:
    """Arrival rate per hour giving utilisation ``rho`` on ``agents`` servers."""
    return rho * agents / aht_s * 3600.0


# --------------------------------------------------------------------------- the cases
# Each case: (scenario factory, replications). Sizes are chosen for the time budget.

ERLANG_C = {  # name: (agents, rho, aht_s, horizon_h, warmup_h, reps)
    "c1-rho050": (1, 0.50, 60.0, 500.0, 5.0, 12),     # tau ~ 12 AHT = 12 min
    "c5-rho080": (5, 0.80, 300.0, 400.0, 10.0, 12),   # tau ~ 18 AHT = 1.5 h
    "c20-rho090": (20, 0.90, 300.0, 120.0, 10.0, 12),  # tau ~ 19 AHT = 1.6 h
    "c50-rho095": (50, 0.95, 300.0, 160.0, 20.0, 12),  # tau ~ 33 AHT = 2.7 h
}

ERLANG_A = {  # name: (agents, rho, aht_s, patience_s, horizon_h, warmup_h, reps)
    "c10-rho090": (10, 0.90, 300.0, 180.0, 100.0, 5.0, 10),
    "c10-rho120": (10, 1.20, 300.0, 180.0, 100.0, 5.0, 10),
}

DISTRIBUTIONS = {  # name: (handle_time, speed factor of the tier)
    "exponential": (expo(300.0), 1.0),
    "lognormal": ({"dist": "lognormal", "mean_s": 240.0, "cv": 0.8}, 1.0),
    "gamma": ({"dist": "gamma", "mean_s": 480.0, "cv": 0.5}, 1.0),
    "constant": ({"dist": "constant", "mean_s": 200.0}, 1.0),
    "lognormal-speed2": ({"dist": "lognormal", "mean_s": 240.0, "cv": 0.8}, 2.0),
}

MG1 = {  # M/G/1 at rho 0.5 (Pollaczek-Khinchine): the second moment of each law
    "lognormal": {"dist": "lognormal", "mean_s": 60.0, "cv": 0.8},
    "gamma": {"dist": "gamma", "mean_s": 60.0, "cv": 0.5},
    "constant": {"dist": "constant", "mean_s": 60.0},
}
MG1_RHO = 0.5

PROFILE = [0, 0, 0, 0, 0, 0, 20, 60, 150, 220, 240, 230, 180, 200, 230, 220, 190, 150,
           120, 90, 60, 30, 0, 0]  # per hour of day; some hours closed


def _erlang_c_case(name: str) -> tuple[Scenario, int]:
    c, rho, aht, h, w, reps = ERLANG_C[name]
    return one_channel(rate_for(rho, c, aht), expo(aht), c, horizon_hours=h,
                       warmup_hours=w, seed=101), reps


def _erlang_a_case(name: str) -> tuple[Scenario, int]:
    c, rho, aht, pat, h, w, reps = ERLANG_A[name]
    return one_channel(rate_for(rho, c, aht), expo(aht), c, patience=expo(pat),
                       horizon_hours=h, warmup_hours=w, seed=202), reps


COBHAM = {"agents": 10, "aht_s": 300.0, "rates": (60.0, 52.0)}  # rho = 0.933


def _cobham_case() -> tuple[Scenario, int]:
    c, aht = COBHAM["agents"], COBHAM["aht_s"]
    r1, r2 = COBHAM["rates"]
    ch = {"mix": {"simple": 1.0}, "handle_time": {"simple": expo(aht)}}
    sc = scenario({"vip": {"arrivals": {"rate_per_hour": r1}, "priority": 1, **ch},
                   "std": {"arrivals": {"rate_per_hour": r2}, "priority": 2, **ch}},
                  {"base": {"agents": c, "serves": {"simple": 1.0}}},
                  horizon_hours=150.0, warmup_hours=15.0, seed=303)
    return sc, 10


MMCK = {"agents": 5, "capacity": 4, "rho": 1.0, "aht_s": 300.0}
ERLANG_B = {"agents": 10, "load": 8.0, "aht_s": 300.0, "cv": 1.5}


def _mmck_case() -> tuple[Scenario, int]:
    c, n, aht = MMCK["agents"], MMCK["capacity"], MMCK["aht_s"]
    return one_channel(rate_for(MMCK["rho"], c, aht), expo(aht), c, queue_capacity=n,
                       horizon_hours=250.0, warmup_hours=5.0, seed=404), 12


def _erlang_b_case() -> tuple[Scenario, int]:
    c, aht = ERLANG_B["agents"], ERLANG_B["aht_s"]
    handle = {"dist": "lognormal", "mean_s": aht, "cv": ERLANG_B["cv"]}
    rate = ERLANG_B["load"] / aht * 3600.0
    return one_channel(rate, handle, c, queue_capacity=0, horizon_hours=200.0,
                       warmup_hours=10.0, seed=505), 10


BOT1 = {"rate": 200.0, "p": 0.4, "agents": 12, "aht_s": 300.0}
BOT2 = {"rate": 200.0, "mix": {"easy": 0.6, "hard": 0.4},
        "containment": {"easy": 0.5, "hard": 0.2}, "agents": 12, "aht_s": 300.0}
BOT_TIME = {"dist": "lognormal", "mean_s": 90.0, "cv": 0.6}


def _bot1_case() -> tuple[Scenario, int]:
    bot = {"containment": {"simple": BOT1["p"]}, "handle_time": BOT_TIME}
    return one_channel(BOT1["rate"], expo(BOT1["aht_s"]), BOT1["agents"], bot=bot,
                       horizon_hours=80.0, warmup_hours=5.0, seed=606), 10


def _bot2_case() -> tuple[Scenario, int]:
    aht = BOT2["aht_s"]
    ch = {"arrivals": {"rate_per_hour": BOT2["rate"]}, "mix": BOT2["mix"],
          "handle_time": {t: expo(aht) for t in BOT2["mix"]},
          "bot": {"containment": BOT2["containment"], "handle_time": BOT_TIME}}
    sc = scenario({"phone": ch},
                  {"base": {"agents": BOT2["agents"], "serves": {"easy": 1.0, "hard": 1.0}}},
                  horizon_hours=80.0, warmup_hours=5.0, seed=607)
    return sc, 10


CHAT = {"concurrency": 3, "agents": 4, "aht_s": 600.0, "rho": 0.85}


def _chat_case() -> tuple[Scenario, int]:
    k, c, aht = CHAT["concurrency"], CHAT["agents"], CHAT["aht_s"]
    sc = scenario({"chat": {"arrivals": {"rate_per_hour": rate_for(CHAT["rho"], k * c, aht)},
                            "mix": {"simple": 1.0}, "handle_time": {"simple": expo(aht)},
                            "concurrency": k}},
                  {"base": {"agents": c, "serves": {"simple": 1.0}}},
                  horizon_hours=200.0, warmup_hours=10.0, seed=707)
    return sc, 10


POOLED = {"agents": (4, 6), "aht_s": 300.0, "rho": 0.85}


def _pooled_case(routing: str) -> tuple[Scenario, int]:
    (a1, a2), aht = POOLED["agents"], POOLED["aht_s"]
    route = ({"simple": [{"tier": "front", "after_s": 0}, {"tier": "back", "after_s": 0}]}
             if routing == "after0" else None)
    top = {"routing": route} if route is not None else {}
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": rate_for(POOLED["rho"], a1 + a2, aht)},
                             "mix": {"simple": 1.0}, "handle_time": {"simple": expo(aht)}}},
                  {"front": {"agents": a1, "serves": {"simple": 1.0}, "cost_per_hour": 40},
                   "back": {"agents": a2, "serves": {"simple": 1.0}, "cost_per_hour": 60}},
                  horizon_hours=100.0, warmup_hours=10.0, seed=808, **top)
    return sc, 10


def _profile_scenario() -> Scenario:
    return scenario({"phone": {"arrivals": {"profile_per_hour": PROFILE},
                               "mix": {"simple": 1.0},
                               "handle_time": {"simple": expo(120.0)}}},
                    {"base": {"agents": 20, "serves": {"simple": 1.0}}},
                    horizon_hours=48.0, warmup_hours=3.0, interval_minutes=60, seed=909)


def _dist_case(name: str) -> tuple[Scenario, int]:
    handle, speed = DISTRIBUTIONS[name]
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": 300.0}, "mix": {"simple": 1.0},
                             "handle_time": {"simple": handle}}},
                  {"base": {"agents": 60, "serves": {"simple": speed}}},
                  horizon_hours=20.0, warmup_hours=1.0, seed=1010)
    return sc, 10


def _mg1_case(name: str) -> tuple[Scenario, int]:
    handle = MG1[name]
    return one_channel(rate_for(MG1_RHO, 1, handle["mean_s"]), handle, 1, horizon_hours=350.0,
                       warmup_hours=3.0, seed=1212), 10


def _rich_case() -> tuple[Scenario, int]:
    """Two channels, two types, bot, patience, finite queue, concurrency, overflow routing."""
    phone = {"arrivals": {"rate_per_hour": 150.0}, "mix": {"simple": 0.7, "complex": 0.3},
             "handle_time": {"simple": {"dist": "lognormal", "mean_s": 240, "cv": 0.8},
                             "complex": {"dist": "gamma", "mean_s": 480, "cv": 0.7}},
             "patience": expo(120.0), "queue_capacity": 6, "priority": 1,
             "bot": {"containment": {"simple": 0.4, "complex": 0.1},
                     "handle_time": BOT_TIME, "cost_per_session": 0.5}}
    chat = {"arrivals": {"rate_per_hour": 90.0}, "mix": {"simple": 0.5, "complex": 0.5},
            "handle_time": {"simple": expo(400.0), "complex": expo(700.0)},
            "patience": {"dist": "gamma", "mean_s": 300.0, "cv": 0.6}, "priority": 2,
            "concurrency": 2}
    tiers = {"base": {"agents": 7, "serves": {"simple": 1.0}},
             "advanced": {"agents": 8, "serves": {"simple": 1.25, "complex": 1.0}}}
    routing = {"simple": [{"tier": "base"}, {"tier": "advanced", "after_s": 30}],
               "complex": [{"tier": "advanced"}]}
    sc = scenario({"phone": phone, "chat": chat}, tiers, routing=routing,
                  horizon_hours=40.0, warmup_hours=5.0, seed=1111)
    return sc, 10


CASES: dict[str, Callable[[], tuple[Scenario, int]]] = {
    **{f"erlang_c/{n}": functools.partial(_erlang_c_case, n) for n in ERLANG_C},
    **{f"erlang_a/{n}": functools.partial(_erlang_a_case, n) for n in ERLANG_A},
    "cobham": _cobham_case,
    "mmck": _mmck_case,
    "erlang_b": _erlang_b_case,
    "bot1": _bot1_case,
    "bot2": _bot2_case,
    "chat": _chat_case,
    "pooled/omitted": functools.partial(_pooled_case, "omitted"),
    "pooled/after0": functools.partial(_pooled_case, "after0"),
    **{f"dist/{n}": functools.partial(_dist_case, n) for n in DISTRIBUTIONS},
    **{f"mg1/{n}": functools.partial(_mg1_case, n) for n in MG1},
    "rich": _rich_case,
}


@functools.cache
def run(case: str) -> list[Metrics]:
    sc, reps = CASES[case]()
    return replicate(sc, reps)


# --------------------------------------------------------------------------- 1. Erlang C
ERLANG_C_METRICS = ("p_wait", "service_level", "asa_s", "mean_queue_length")


@pytest.mark.parametrize("name", list(ERLANG_C))
@pytest.mark.parametrize("metric", ERLANG_C_METRICS)
def test_erlang_c(name: str, metric: str) -> None:
    c, rho, aht, *_ = ERLANG_C[name]
    exact = erlang_c_metrics(rate_for(rho, c, aht), aht, c, threshold_s=20.0)
    assert_close_to(run(f"erlang_c/{name}"), "phone", metric, getattr(exact, metric))


@pytest.mark.parametrize("name", list(ERLANG_C))
def test_erlang_c_occupancy_and_aht(name: str) -> None:
    c, rho, aht, *_ = ERLANG_C[name]
    reps = run(f"erlang_c/{name}")
    assert_close_to(reps, "base", "occupancy", rho)
    assert_close_to(reps, "phone", "aht_s", aht)
    assert np.all(values(reps, "phone", "abandoned") == 0)
    assert np.all(values(reps, "phone", "blocked") == 0)


# --------------------------------------------------------------------------- 2. Erlang A
ERLANG_A_METRICS = ("abandon_rate", "asa_s", "mean_wait_s", "service_level", "p_wait",
                    "mean_queue_length")


@pytest.mark.parametrize("name", list(ERLANG_A))
@pytest.mark.parametrize("metric", ERLANG_A_METRICS)
def test_erlang_a(name: str, metric: str) -> None:
    c, rho, aht, pat, *_ = ERLANG_A[name]
    exact = erlang_a_metrics(rate_for(rho, c, aht), aht, c, pat, threshold_s=20.0)
    assert_close_to(run(f"erlang_a/{name}"), "phone", metric, getattr(exact, metric))


# --------------------------------------------------------------------------- 3. priorities
def test_cobham_two_class_priority() -> None:
    reps = run("cobham")
    waits = cobham_priority_waits_s(COBHAM["rates"], COBHAM["aht_s"], COBHAM["agents"])
    assert_close_to(reps, "vip", "mean_wait_s", waits[0])
    assert_close_to(reps, "std", "mean_wait_s", waits[1])
    # The pooled queue is an M/M/c whatever the discipline (work-conserving, same service).
    total = sum(COBHAM["rates"])
    exact = erlang_c_metrics(total, COBHAM["aht_s"], COBHAM["agents"])
    assert_close_to(reps, "all", "p_wait", exact.p_wait)
    assert_close_to(reps, "all", "mean_wait_s", exact.mean_wait_s)


# --------------------------------------------------------------------------- 4. finite queue
def test_mmck_blocking_and_waits() -> None:
    c, n, aht = MMCK["agents"], MMCK["capacity"], MMCK["aht_s"]
    exact = mmck_metrics(rate_for(MMCK["rho"], c, aht), aht, c, n)
    reps = run("mmck")
    # SPEC block_rate = blocked / (queued + blocked) = blocked / offered without a bot,
    # which is the PASTA blocking probability pi_K of the exact model.
    for metric in ("block_rate", "mean_wait_s", "p_wait", "service_level",
                   "mean_queue_length"):
        assert_close_to(reps, "phone", metric, getattr(exact, metric))
    assert np.all(values(reps, "phone", "mean_queue_length") <= n)


def test_erlang_b_insensitivity_lognormal() -> None:
    """M/G/c/c: blocking depends on the handle-time law only through its mean."""
    reps = run("erlang_b")
    assert_close_to(reps, "phone", "block_rate", erlang_b(ERLANG_B["agents"], ERLANG_B["load"]))
    # Carried load per agent: (1 - B) A / c, also insensitive.
    carried = (1 - erlang_b(ERLANG_B["agents"], ERLANG_B["load"])) * ERLANG_B["load"]
    assert_close_to(reps, "base", "occupancy", carried / ERLANG_B["agents"])
    assert np.all(values(reps, "phone", "mean_wait_s") == 0)
    assert np.all(values(reps, "phone", "mean_queue_length") == 0)


# --------------------------------------------------------------------------- 5. bot thinning
def test_bot_containment_is_poisson_thinning() -> None:
    lam, p, c, aht = BOT1["rate"], BOT1["p"], BOT1["agents"], BOT1["aht_s"]
    sc, _ = _bot1_case()
    reps = run("bot1")
    assert_close_to(reps, "phone", "automation_rate", p)
    assert_close_to(reps, "phone", "offered", lam * sc.horizon_hours)
    assert_close_to(reps, "phone", "queued", lam * (1 - p) * sc.horizon_hours)
    exact = erlang_c_metrics(lam * (1 - p), aht, c)
    for metric in ("p_wait", "asa_s", "service_level"):
        assert_close_to(reps, "phone", metric, getattr(exact, metric))


def test_bot_containment_per_type() -> None:
    lam, mix, cont = BOT2["rate"], BOT2["mix"], BOT2["containment"]
    sc, _ = _bot2_case()
    h = sc.horizon_hours
    reps = run("bot2")
    p_all = sum(mix[t] * cont[t] for t in mix)
    assert_close_to(reps, "phone", "automation_rate", p_all)
    for t in mix:
        assert_close_to(reps, t, "automation_rate", cont[t])
        assert_close_to(reps, t, "offered", lam * mix[t] * h)
        assert_close_to(reps, t, "queued", lam * mix[t] * (1 - cont[t]) * h)
    exact = erlang_c_metrics(lam * (1 - p_all), BOT2["aht_s"], BOT2["agents"])
    for metric in ("p_wait", "asa_s"):
        assert_close_to(reps, "phone", metric, getattr(exact, metric))
        # FIFO with a common exponential handle time: each type sees the same waits.
        for t in mix:
            assert_close_to(reps, t, metric, getattr(exact, metric))


# --------------------------------------------------------------------------- 6. concurrency
@pytest.mark.parametrize("metric", ("p_wait", "asa_s", "service_level", "mean_queue_length"))
def test_chat_concurrency_is_mmkc(metric: str) -> None:
    k, c, aht = CHAT["concurrency"], CHAT["agents"], CHAT["aht_s"]
    exact = erlang_c_metrics(rate_for(CHAT["rho"], k * c, aht), aht, k * c)
    assert_close_to(run("chat"), "chat", metric, getattr(exact, metric))


def test_chat_concurrency_aht_and_occupancy_bound() -> None:
    reps = run("chat")
    assert_close_to(reps, "chat", "aht_s", CHAT["aht_s"])  # no slowdown with concurrency
    # An agent holding >= 1 contact counts as busy: occupancy exceeds load / (k c).
    assert np.all(values(reps, "base", "occupancy") > CHAT["rho"])


# --------------------------------------------------------------------------- 7. pooled tiers
@pytest.mark.parametrize("routing", ("omitted", "after0"))
def test_pooled_tiers_are_one_mmc(routing: str) -> None:
    (a1, a2), aht, rho = POOLED["agents"], POOLED["aht_s"], POOLED["rho"]
    exact = erlang_c_metrics(rate_for(rho, a1 + a2, aht), aht, a1 + a2)
    reps = run(f"pooled/{routing}")
    for metric in ("p_wait", "asa_s", "service_level"):
        assert_close_to(reps, "phone", metric, getattr(exact, metric))
    # Longest-idle-agent routing treats identical agents alike: every tier at rho.
    assert_close_to(reps, "front", "occupancy", rho)
    assert_close_to(reps, "back", "occupancy", rho)


# --------------------------------------------------------------------------- 8. arrivals
@functools.cache
def _profile_runs() -> list[RepResult]:
    sc = _profile_scenario()
    return [simulate(Job(sc.name, "base", sc, r)) for r in range(20)]


def test_profile_offered_equals_rate_integral() -> None:
    sc = _profile_scenario()
    runs = _profile_runs()
    horizon_s = sc.horizon_hours * 3600.0
    expected = ArrivalClock([float(r) for r in PROFILE], 3600.0).expected_count(0.0, horizon_s)
    assert expected == pytest.approx(sum(PROFILE) * sc.horizon_hours / 24)  # whole days
    assert_close_to([r.metrics for r in runs], "phone", "offered", expected)


def test_profile_offered_per_interval() -> None:
    sc = _profile_scenario()
    runs = _profile_runs()
    days = int(sc.horizon_hours // 24)
    per_hour = np.zeros((len(runs), 24))
    for i, r in enumerate(runs):
        rows = [row for row in r.intervals if row["channel"] == "phone"]
        assert len(rows) == sc.horizon_hours  # one row per 60-minute interval
        for row in rows:
            per_hour[i, int(row["interval"]) % 24] += row["offered"]
        assert per_hour[i].sum() == r.metrics[("phone", "offered")]
    for hour, rate in enumerate(PROFILE):
        if rate == 0:
            assert np.all(per_hour[:, hour] == 0), f"arrivals in closed hour {hour}"
        else:
            assert_mean(per_hour[:, hour], rate * days, f"offered in hour {hour}")


# --------------------------------------------------------------------------- 9. Little's law
@pytest.mark.parametrize(("case", "channel"), [
    ("erlang_a/c10-rho120", "phone"), ("rich", "phone"), ("rich", "chat"),
    ("retrial", "phone")])
def test_littles_law_per_channel(case: str, channel: str) -> None:
    """L = lambda W in each replication's measured window (exact in expectation)."""
    reps = run(case)
    sc, _ = CASES[case]()
    horizon_s = sc.horizon_hours * 3600.0
    lq = values(reps, channel, "mean_queue_length")
    lam_w = values(reps, channel, "queued") / horizon_s * values(reps, channel, "mean_wait_s")
    assert values(reps, channel, "abandoned").min() > 0  # the case has abandonment
    assert_mean(lq - lam_w, 0.0, f"{case} {channel}: L - lambda W")


# --------------------------------------------------------------------------- 10. distributions
@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_handle_time_mean(name: str) -> None:
    handle, speed = DISTRIBUTIONS[name]
    reps = run(f"dist/{name}")
    assert np.all(values(reps, "phone", "answered") == values(reps, "phone", "offered"))
    expected = handle["mean_s"] / speed  # the tier's speed factor divides handle time
    if handle["dist"] == "constant":
        assert np.allclose(values(reps, "phone", "aht_s"), expected, rtol=1e-12, atol=0)
    else:
        assert_close_to(reps, "phone", "aht_s", expected)


@pytest.mark.parametrize("name", list(MG1))
def test_pollaczek_khinchine_second_moment(name: str) -> None:
    """M/G/1 waits depend on the handle time's cv: Wq = rho E[S] (1 + cv^2) / (2 (1 - rho))."""
    handle = MG1[name]
    m, cv = handle["mean_s"], float(handle.get("cv", 0.0))
    lam = rate_for(MG1_RHO, 1, m) / 3600.0
    wq = MG1_RHO * m * (1 + cv * cv) / (2 * (1 - MG1_RHO))
    reps = run(f"mg1/{name}")
    assert_close_to(reps, "phone", "asa_s", wq)
    assert_close_to(reps, "phone", "mean_queue_length", lam * wq)
    assert_close_to(reps, "phone", "p_wait", MG1_RHO)  # PASTA: P(server busy) = rho
    assert_close_to(reps, "phone", "aht_s", m)


# --------------------------------------------------------------------------- 11. conservation
@pytest.mark.parametrize("case", ["rich", "bot2", "mmck", "erlang_a/c10-rho120", "cobham",
                                  "retrial", "callback", "slowdown", "type_priority", "reserve"])
def test_conservation_of_contacts(case: str) -> None:
    reps = run(case)
    sc, _ = CASES[case]()
    scopes = ["all", *sc.channels, *sc.contact_types]
    for i, m in enumerate(reps):
        for s in scopes:
            v = {k: m[(s, k)] for k in ("offered", "bot_contained", "blocked", "queued",
                                        "answered", "abandoned")}
            assert v["offered"] == (v["bot_contained"] + v["blocked"] + v["answered"]
                                    + v["abandoned"]), (i, s, v)
            assert v["queued"] == v["answered"] + v["abandoned"], (i, s, v)
        for k in ("offered", "bot_contained", "blocked", "queued", "answered", "abandoned"):
            assert sum(m[(c, k)] for c in sc.channels) == m[("all", k)], (i, k)
            assert sum(m[(t, k)] for t in sc.contact_types) == m[("all", k)], (i, k)
        assert sum(m[(t, "handled")] for t in sc.tiers) == m[("all", "answered")], i


# =========================================================================== 12. SPEC §7.3-7.4
# Customers who try again, callbacks, chat slowdown, priority by type, async blending: each
# against an exact result (a CTMC solved numerically where there is no closed form).


def _stationary(q: scipy.sparse.spmatrix) -> np.ndarray:  # noqa: F821
    """Stationary law of a CTMC generator (rows sum to 0): pi Q = 0, sum pi = 1."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    n = q.shape[0]
    a = q.T.tolil()
    a[0, :] = np.ones(n)
    b = np.zeros(n)
    b[0] = 1.0
    pi = spsolve(sp.csr_matrix(a), b)
    assert np.all(pi > -1e-12)
    return np.clip(pi, 0.0, None)


def _generator(n_states: int, moves: list[tuple[int, int, float]]) -> scipy.sparse.spmatrix:  # noqa: F821
    import scipy.sparse as sp

    rows, cols, vals = [], [], []
    for i, j, r in moves:
        if i != j and r > 0.0:
            rows += [i, i]
            cols += [j, i]
            vals += [r, -r]
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_states, n_states))


# --- retrials after abandonment and blocking: the (in system, in orbit) Markov chain --------
RETRIAL = {"agents": 5, "capacity": 5, "aht_s": 300.0, "rate": 60.0, "patience_s": 180.0,
           "p_abandon": 0.5, "p_block": 0.8, "delay_s": 600.0, "orbit_max": 400}


def _retrial_case() -> tuple[Scenario, int]:
    r = RETRIAL
    sc = one_channel(r["rate"], expo(r["aht_s"]), r["agents"], patience=expo(r["patience_s"]),
                     queue_capacity=r["capacity"],
                     retrial={"after_abandon_share": r["p_abandon"],
                              "after_block_share": r["p_block"], "delay": expo(r["delay_s"]),
                              "max_attempts": 100},
                     horizon_hours=60.0, warmup_hours=8.0, seed=1313)
    return sc, 12


@functools.cache
def retrial_exact() -> dict[str, float]:
    """Stationary metrics of the retrial queue: state (n in system, j in orbit); fresh
    arrivals lam, each orbit customer retries at rate delta; an attempt finding n = c + K is
    blocked and joins the orbit with p_block; a waiting customer abandons at rate theta and
    joins the orbit with p_abandon. Orbit truncated at orbit_max (its mass there ~ 0)."""
    r = RETRIAL
    c, k, jmax = r["agents"], r["capacity"], r["orbit_max"]
    lam, mu = r["rate"] / 3600.0, 1.0 / r["aht_s"]
    theta, delta = 1.0 / r["patience_s"], 1.0 / r["delay_s"]
    pa, pb = r["p_abandon"], r["p_block"]
    top = c + k
    idx = lambda n, j: n * (jmax + 1) + j  # noqa: E731
    moves = []
    for n in range(top + 1):
        for j in range(jmax + 1):
            s = idx(n, j)
            up = min(j + 1, jmax)
            if n < top:
                moves.append((s, idx(n + 1, j), lam))
                if j:
                    moves.append((s, idx(n + 1, j - 1), j * delta))
            else:
                moves.append((s, idx(n, up), lam * pb))
                if j:
                    moves.append((s, idx(n, j - 1), j * delta * (1 - pb)))
            if n:
                moves.append((s, idx(n - 1, j), min(n, c) * mu))
            if n > c:
                moves.append((s, idx(n - 1, up), (n - c) * theta * pa))
                moves.append((s, idx(n - 1, j), (n - c) * theta * (1 - pa)))
    pi = _stationary(_generator((top + 1) * (jmax + 1), moves)).reshape(top + 1, jmax + 1)
    assert pi[:, -5:].sum() < 1e-12  # the truncation is harmless
    js = np.arange(jmax + 1)
    orbit = float((pi.sum(axis=0) * js).sum())
    attempts = lam + delta * orbit
    blocked = float((pi[top] * (lam + delta * js)).sum())
    waiting = float(sum(pi[n].sum() * max(n - c, 0) for n in range(top + 1)))
    abandons = theta * waiting
    h = 3600.0 * 60.0  # the case's horizon
    return {"offered": attempts * h, "retrials": delta * orbit * h, "customers": lam * h,
            "block_rate": blocked / attempts, "abandon_rate": abandons / (attempts - blocked),
            "mean_queue_length": waiting,
            "lost_customer_rate": (blocked * (1 - pb) + abandons * (1 - pa)) / lam}


CASES["retrial"] = _retrial_case


@pytest.mark.parametrize("metric", ["offered", "retrials", "customers", "block_rate",
                                    "abandon_rate", "mean_queue_length", "lost_customer_rate"])
def test_retrials_after_abandonment_and_blocking_match_their_markov_chain(metric: str) -> None:
    reps = run("retrial")
    assert np.all(values(reps, "phone", "retrials") > 100)
    assert_close_to(reps, "phone", metric, retrial_exact()[metric])


def test_retrials_conserve_customers_and_attempts() -> None:
    for m in run("retrial"):
        assert m[("phone", "offered")] == m[("phone", "customers")] + m[("phone", "retrials")]
        assert m[("phone", "offered")] == (m[("phone", "answered")] + m[("phone", "abandoned")]
                                           + m[("phone", "blocked")])


# --- a callback offered at once, always accepted and reached: Erlang C ----------------------
CALLBACK = {"agents": 8, "rho": 0.9, "aht_s": 240.0, "patience_s": 60.0}


def _callback_case() -> tuple[Scenario, int]:
    cb = CALLBACK
    return one_channel(rate_for(cb["rho"], cb["agents"], cb["aht_s"]), expo(cb["aht_s"]),
                       cb["agents"], patience=expo(cb["patience_s"]),
                       callback={"offer_after_s": 0, "accept_share": 1.0, "reach_share": 1.0},
                       horizon_hours=150.0, warmup_hours=10.0, seed=1414), 12


CASES["callback"] = _callback_case


@pytest.mark.parametrize("metric", ("p_wait", "asa_s", "service_level", "mean_queue_length"))
def test_callback_at_once_always_accepted_and_reached_is_erlang_c(metric: str) -> None:
    """Every queued caller accepts a callback at once and is reached: nobody abandons
    (patience no longer matters) and the waits are those of M/M/c (Erlang C)."""
    cb = CALLBACK
    exact = erlang_c_metrics(rate_for(cb["rho"], cb["agents"], cb["aht_s"]), cb["aht_s"],
                             cb["agents"], threshold_s=20.0)
    reps = run("callback")
    assert np.all(values(reps, "phone", "abandoned") == 0)
    for m in reps:  # every caller who had to wait took the callback
        assert m[("phone", "callbacks")] == round(m[("phone", "p_wait")] * m[("phone", "queued")])
        assert m[("phone", "callback_unreached")] == 0
    assert_close_to(reps, "phone", metric, getattr(exact, metric))


# --- concurrency slowdown with one agent: a birth-death chain -------------------------------
SLOW = {"k": 3, "factors": [1.0, 1.25, 1.6], "work_s": 600.0, "load": 1.4, "threshold_s": 60.0}


def _slow_case() -> tuple[Scenario, int]:
    s = SLOW
    rate = s["load"] / s["work_s"] * 3600.0
    sc = scenario({"chat": {"arrivals": {"rate_per_hour": rate}, "mix": {"simple": 1.0},
                            "handle_time": {"simple": expo(s["work_s"])},
                            "concurrency": s["k"], "concurrency_slowdown": s["factors"],
                            "service_level_threshold_s": s["threshold_s"]}},
                  {"base": {"agents": 1, "serves": {"simple": 1.0}}},
                  horizon_hours=400.0, warmup_hours=20.0, seed=1515)
    return sc, 12


@functools.cache
def slow_exact() -> dict[str, float]:
    """n in system; with m = min(n, k) in service each progresses at 1 / f[m-1], so the
    departure rate is m mu / f[m-1] (exponential work, memoryless): a birth-death chain."""
    from scipy import stats

    s = SLOW
    k, f, mu = s["k"], s["factors"], 1.0 / s["work_s"]
    lam = s["load"] * mu
    dep = [0.0] + [min(n, k) * mu / f[min(n, k) - 1] for n in range(1, 4000)]
    p = np.ones(len(dep))
    for n in range(1, len(dep)):
        p[n] = p[n - 1] * lam / dep[n]
    p /= p.sum()
    n = np.arange(len(p))
    lq = float((np.maximum(n - k, 0) * p).sum())
    d_full = k * mu / f[k - 1]
    waits_if = stats.gamma.cdf(s["threshold_s"], a=np.maximum(n - k + 1, 1), scale=1 / d_full)
    return {"p_wait": float(p[k:].sum()), "mean_queue_length": lq, "asa_s": lq / lam,
            "aht_s": float((np.minimum(n, k) * p).sum()) / lam,
            "occupancy": float(p[1:].sum()),
            "service_level": float(p[:k].sum() + (p[k:] * waits_if[k:]).sum())}


CASES["slowdown"] = _slow_case


@pytest.mark.parametrize("metric", ("p_wait", "mean_queue_length", "asa_s", "aht_s",
                                    "service_level"))
def test_concurrency_slowdown_one_agent_matches_its_birth_death_chain(metric: str) -> None:
    reps = run("slowdown")
    assert_close_to(reps, "chat", metric, slow_exact()[metric])


def test_concurrency_slowdown_occupancy() -> None:
    assert_close_to(run("slowdown"), "base", "occupancy", slow_exact()["occupancy"])


# --- type_priority: Cobham's non-preemptive priority formula, by contact type ---------------
def _type_priority_case() -> tuple[Scenario, int]:
    c, aht = COBHAM["agents"], COBHAM["aht_s"]
    r1, r2 = COBHAM["rates"]
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": r1 + r2},
                             "mix": {"vip": r1 / (r1 + r2), "std": r2 / (r1 + r2)},
                             "handle_time": {"vip": expo(aht), "std": expo(aht)},
                             "priority": 5}},
                  {"base": {"agents": c, "serves": {"vip": 1.0, "std": 1.0}}},
                  type_priority={"vip": 0}, horizon_hours=300.0, warmup_hours=20.0, seed=1616)
    return sc, 16  # the low class at sigma 0.93 has long, skewed waits: a long run


CASES["type_priority"] = _type_priority_case


def test_type_priority_is_cobham_by_type() -> None:
    """One channel (priority 5), two types; type_priority vip: 0 serves vip first."""
    reps = run("type_priority")
    waits = cobham_priority_waits_s(COBHAM["rates"], COBHAM["aht_s"], COBHAM["agents"])
    assert_close_to(reps, "vip", "mean_wait_s", waits[0])
    assert_close_to(reps, "std", "mean_wait_s", waits[1])
    exact = erlang_c_metrics(sum(COBHAM["rates"]), COBHAM["aht_s"], COBHAM["agents"])
    assert_close_to(reps, "phone", "mean_wait_s", exact.mean_wait_s)


# --- reserve_agents: phone + an async backlog on one tier, the exact CTMC --------------------
RESERVE = {"agents": 4, "reserve": 1, "phone_aht_s": 300.0, "phone_load": 1.6,
           "email_aht_s": 600.0, "email_load": 1.0, "np_max": 40, "q_max": 160}


def _reserve_case() -> tuple[Scenario, int]:
    r = RESERVE
    rp = r["phone_load"] / r["phone_aht_s"] * 3600.0
    re_ = r["email_load"] / r["email_aht_s"] * 3600.0
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": rp}, "mix": {"call": 1.0},
                             "handle_time": {"call": expo(r["phone_aht_s"])}},
                   "email": {"mode": "async", "arrivals": {"rate_per_hour": re_},
                             "mix": {"mail": 1.0}, "handle_time": {"mail": expo(r["email_aht_s"])},
                             "reserve_agents": r["reserve"],
                             "service_level_threshold_s": 3600.0}},
                  {"base": {"agents": r["agents"], "serves": {"call": 1.0, "mail": 1.0}}},
                  horizon_hours=300.0, warmup_hours=20.0, seed=1717)
    return sc, 20  # per-replication ASA is skewed: 10 replications underestimate its SE


@functools.cache
def reserve_exact() -> dict[str, float]:
    """State (phone in system, e-mails in service j, e-mails waiting q). Phone has priority
    (1 vs 9); a phone caller takes any idle agent; an agent takes an e-mail only if at least
    R other agents stay idle (reserve), and a freed agent takes a waiting call first."""
    r = RESERVE
    c, res = r["agents"], r["reserve"]
    lp, mp = r["phone_load"] / r["phone_aht_s"], 1.0 / r["phone_aht_s"]
    le, me = r["email_load"] / r["email_aht_s"], 1.0 / r["email_aht_s"]
    npm, qm = r["np_max"], r["q_max"]
    states = [(n, j, q) for n in range(npm + 1) for j in range(c + 1) for q in range(qm + 1)]
    ix = {s: i for i, s in enumerate(states)}
    moves = []

    def after_free(n: int, j: int, q: int) -> tuple[int, int, int]:
        """An agent just came free in state (n, j, q): it takes a waiting call, else an
        e-mail if R others stay idle, else it stays idle."""
        p = min(n, c - j)
        if n > p:           # a call waits: it takes it (p stays, n already counts it)
            return n, j, q
        others_idle = c - p - j - 1
        if q and others_idle >= res:
            return n, j + 1, q - 1
        return n, j, q

    for n, j, q in states:
        s = ix[(n, j, q)]
        p = min(n, c - j)
        if n < npm:
            moves.append((s, ix[(n + 1, j, q)], lp))
        idle = c - p - j
        if idle - 1 >= res:
            moves.append((s, ix[(n, j + 1, q)], le))
        elif q < qm:
            moves.append((s, ix[(n, j, q + 1)], le))
        if p:
            moves.append((s, ix[after_free(n - 1, j, q)], p * mp))
        if j:
            moves.append((s, ix[after_free(n, j - 1, q)], j * me))
    pi = _stationary(_generator(len(states), moves))
    arr = np.array(states)
    n, j, q = arr[:, 0], arr[:, 1], arr[:, 2]
    p = np.minimum(n, c - j)
    assert pi[(n >= npm - 2) | (q >= qm - 2)].sum() < 1e-9  # truncation harmless
    phone_wait = float((pi * (n - p)).sum())
    email_wait = float((pi * q).sum())
    return {"phone_p_wait": float(pi[p + j == c].sum()), "phone_asa_s": phone_wait / lp,
            "phone_mean_queue_length": phone_wait, "email_asa_s": email_wait / le,
            "email_mean_queue_length": email_wait}


CASES["reserve"] = _reserve_case


@pytest.mark.parametrize("key", ["phone_p_wait", "phone_asa_s", "phone_mean_queue_length",
                                 "email_asa_s", "email_mean_queue_length"])
def test_reserve_agents_match_the_blending_markov_chain(key: str) -> None:
    channel, metric = key.split("_", 1)
    assert_close_to(run("reserve"), channel, metric, reserve_exact()[key])


def test_reserve_agents_keep_phone_waits_below_no_reserve() -> None:
    """A bound that needs no model: the reserve can only help the phones (same customers)."""
    sc, reps = _reserve_case()
    free = sc.model_copy(update={"channels": {**sc.channels, "email": sc.channels[
        "email"].model_copy(update={"reserve_agents": 0})}})
    with_r, without = run("reserve"), replicate(free, reps)
    d = values(with_r, "phone", "asa_s") - values(without, "phone", "asa_s")
    assert d.mean() < -4 * d.std(ddof=1) / np.sqrt(d.size), d
