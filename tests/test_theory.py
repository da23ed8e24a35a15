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

from sim.arrivals import ArrivalClock
from sim.config import Scenario
from sim.erlang import (
    cobham_priority_waits_s,
    erlang_a_metrics,
    erlang_b,
    erlang_c_metrics,
    mmck_metrics,
)
from sim.metrics import Metrics
from sim.runner import Job, RepResult, simulate


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
    ("erlang_a/c10-rho120", "phone"), ("rich", "phone"), ("rich", "chat")])
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
@pytest.mark.parametrize("case", ["rich", "bot2", "mmck", "erlang_a/c10-rho120", "cobham"])
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
