"""Tests for sim.model.erlang against published values and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.erlang import (
    QueueResult,
    cobham_priority_waits_s,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    mmck_metrics,
)

FIELDS = (
    "p_wait",
    "service_level",
    "asa_s",
    "mean_wait_s",
    "abandon_rate",
    "block_rate",
    "occupancy",
    "mean_queue_length",
)


# --------------------------------------------------------------------------- independent reference
def reference_chain(
    rate_per_hour: float,
    aht_s: float,
    c: int,
    capacity: int,
    patience_s: float | None,
    threshold_s: float,
) -> dict[str, float]:
    """Brute-force M/M/c/K(+M) via dense linear algebra (no shared code with sim.model.erlang).

    Stationary law: solve pi Q = 0 on the full generator.  Waits: for each queue
    position build the tagged-customer absorbing CTMC and use matrix inverses /
    expm:  P(served) = (-S)^-1 s,  E[V; served] = (-S)^-2 s,
    E[min(V, tau)] = (-S)^-1 1,  P(served by T) = (-S)^-1 (I - e^{S T}) s.
    """
    lam, mu = rate_per_hour / 3600.0, 1.0 / aht_s
    theta = 0.0 if patience_s is None else 1.0 / patience_s
    n_states = c + capacity + 1
    q = np.zeros((n_states, n_states))
    for n in range(n_states):
        if n + 1 < n_states:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        q[n, n] = -q[n].sum()
    a = np.vstack([q.T, np.ones(n_states)])
    b = np.zeros(n_states + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]

    join = pi[:-1] / pi[:-1].sum()  # arrivals in the last state are blocked
    n_wait_pos = capacity  # positions k = 0..capacity-1 seen by joiners
    res = {
        "block_rate": pi[-1],
        "p_wait": join[c:].sum(),
        "occupancy": sum(min(n, c) * pi[n] for n in range(n_states)) / c,
        "mean_queue_length": sum(max(n - c, 0) * pi[n] for n in range(n_states)),
    }
    if n_wait_pos == 0:
        res.update(service_level=1.0, asa_s=0.0, mean_wait_s=0.0, abandon_rate=0.0)
        return res
    s = np.zeros((n_wait_pos, n_wait_pos))
    for j in range(n_wait_pos):
        r_j = c * mu + j * theta
        s[j, j] = -(r_j + theta)
        if j > 0:
            s[j, j - 1] = r_j
    exit_served = np.zeros(n_wait_pos)
    exit_served[0] = c * mu
    inv = np.linalg.inv(-s)
    p_served = inv @ exit_served
    e_wait_served = inv @ inv @ exit_served
    e_wait_all = inv @ np.ones(n_wait_pos)
    within = inv @ (np.eye(n_wait_pos) - scipy.linalg.expm(s * threshold_s)) @ exit_served
    qk = join[c:]
    served = join[:c].sum() + qk @ p_served
    res.update(
        service_level=join[:c].sum() + qk @ within,
        asa_s=(qk @ e_wait_served) / served,
        mean_wait_s=qk @ e_wait_all,
        abandon_rate=1.0 - served,
    )
    return res


def assert_matches(
    result: QueueResult, ref: dict[str, float], rel: float = 1e-7, abs_: float = 1e-10
) -> None:
    for name, value in ref.items():
        assert getattr(result, name) == pytest.approx(value, rel=rel, abs=abs_), name


def assert_close_results(a: QueueResult, b: QueueResult, rel: float, abs_: float = 1e-9) -> None:
    for name in FIELDS:
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=rel, abs=abs_), name


# --------------------------------------------------------------------------- published values
def test_erlang_c_published_service_level() -> None:
    r14 = erlang_c_metrics(200, 180, 14, threshold_s=20)
    assert r14.load_erlangs == pytest.approx(10.0)
    assert r14.service_level == pytest.approx(0.888, abs=5e-4)
    assert r14.p_wait == pytest.approx(0.174, abs=5e-4)
    r15 = erlang_c_metrics(200, 180, 15, threshold_s=20)
    assert r15.service_level == pytest.approx(0.941, abs=5e-4)


def test_erlang_b_published_and_closed_forms() -> None:
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    for a in (0.0, 0.3, 1.0, 7.5, 250.0):
        assert erlang_b(1, a) == pytest.approx(a / (1 + a), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (3, 2.2), (10, 5.0), (25, 30.0), (40, 12.0)])
def test_erlang_b_matches_factorial_formula(c: int, a: float) -> None:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    assert erlang_b(c, a) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


def test_erlang_c_mm1_and_unstable() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-14)
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 9.0) == 1.0
    r = erlang_c_metrics(400, 180, 20)  # 20 Erlangs on 20 agents
    assert (r.p_wait, r.service_level, r.occupancy) == (1.0, 0.0, 1.0)
    assert math.isinf(r.asa_s) and math.isinf(r.mean_wait_s) and math.isinf(r.mean_queue_length)


def test_erlang_c_mm1_closed_forms() -> None:
    # M/M/1: Wq = rho / (mu - lambda), Lq = rho^2 / (1 - rho)
    r = erlang_c_metrics(45, 60, 1)  # lambda = 1/80 s, mu = 1/60 s, rho = 0.75
    assert r.asa_s == pytest.approx(0.75 / (1 / 60 - 1 / 80), rel=1e-12)
    assert r.mean_queue_length == pytest.approx(0.75**2 / 0.25, rel=1e-12)


# --------------------------------------------------------------------------- Erlang A
def test_erlang_a_tends_to_erlang_c() -> None:
    a = erlang_a_metrics(200, 180, 14, patience_s=1e9)
    c = erlang_c_metrics(200, 180, 14)
    # abandon_rate ~ mean wait / patience ~ 8e-9, hence the absolute tolerance
    assert_close_results(a, c, rel=1e-6, abs_=1e-7)
    assert 0 < a.abandon_rate < 1e-7
    inf = erlang_a_metrics(200, 180, 14, patience_s=math.inf)
    assert inf == c


@pytest.mark.parametrize(
    ("rate", "aht", "c", "patience", "thr"),
    [
        (50, 60, 1, 120, 20),  # M/M/1+M, light
        (90, 60, 1, 30, 10),  # M/M/1+M, overloaded (A = 1.5)
        (60, 60, 1, 600, 45),  # M/M/1+M, A = 1, long patience
        (200, 180, 14, 90, 20),  # 10 Erlangs on 14 agents
        (300, 120, 8, 60, 30),  # overloaded, A = 10 on 8 agents
    ],
)
def test_erlang_a_matches_dense_reference(
    rate: float, aht: float, c: int, patience: float, thr: float
) -> None:
    r = erlang_a_metrics(rate, aht, c, patience_s=patience, threshold_s=thr)
    # A long finite waiting room makes blocking negligible -> reference for the infinite system.
    ref = reference_chain(rate, aht, c, capacity=400, patience_s=patience, threshold_s=thr)
    assert ref["block_rate"] < 1e-15
    ref["block_rate"] = 0.0
    assert_matches(r, ref)


def test_erlang_a_abandon_rate_equals_theta_times_queue() -> None:
    # Abandonment flow = theta * Lq must equal lambda * abandon_rate.
    rate, aht, c, patience = 360.0, 240.0, 20, 75.0  # A = 24 on 20 agents
    r = erlang_a_metrics(rate, aht, c, patience_s=patience)
    assert r.abandon_rate * rate / 3600 == pytest.approx(r.mean_queue_length / patience, rel=1e-10)
    # Carried load = served flow * aht.
    assert r.occupancy * c == pytest.approx(rate / 3600 * (1 - r.abandon_rate) * aht, rel=1e-10)
    assert 0 < r.service_level < 1 - r.abandon_rate


# --------------------------------------------------------------------------- M/M/c/K
@pytest.mark.parametrize(
    ("c", "rate", "aht"), [(1, 30, 60), (10, 100, 180), (14, 200, 180), (50, 3000, 72)]
)
def test_mmck_zero_capacity_is_erlang_b(c: int, rate: float, aht: float) -> None:
    r = mmck_metrics(rate, aht, c, queue_capacity=0)
    load = rate * aht / 3600
    b = erlang_b(c, load)
    assert r.block_rate == pytest.approx(b, rel=1e-10)
    assert r.p_wait == 0.0 and r.mean_queue_length == 0.0 and r.service_level == 1.0
    assert r.occupancy == pytest.approx(load * (1 - b) / c, rel=1e-10)


def test_mmck_large_capacity_is_erlang_c() -> None:
    for rate, aht, c, thr in [(200, 180, 14, 20), (250, 180, 14, 60), (50, 60, 1, 0)]:
        assert_close_results(
            mmck_metrics(rate, aht, c, queue_capacity=3000, threshold_s=thr),
            erlang_c_metrics(rate, aht, c, threshold_s=thr),
            rel=1e-9,
        )


def test_mmck_large_capacity_with_patience_is_erlang_a() -> None:
    assert_close_results(
        mmck_metrics(300, 120, 8, queue_capacity=1000, patience_s=60),
        erlang_a_metrics(300, 120, 8, patience_s=60),
        rel=1e-9,
    )


@pytest.mark.parametrize(
    ("rate", "aht", "c", "cap", "patience", "thr"),
    [
        (200, 180, 14, 5, None, 20),
        (400, 180, 14, 10, None, 15),  # overloaded, finite room keeps it stable
        (400, 180, 14, 10, 45, 15),
        (30, 60, 1, 3, 100, 30),
        (120, 60, 3, 7, None, 0),
    ],
)
def test_mmck_matches_dense_reference(rate, aht, c, cap, patience, thr) -> None:  # type: ignore[no-untyped-def]
    r = mmck_metrics(rate, aht, c, queue_capacity=cap, threshold_s=thr, patience_s=patience)
    assert_matches(r, reference_chain(rate, aht, c, cap, patience, thr))


# --------------------------------------------------------------------------- Little's law
LITTLE_CASES = [
    # (rate_per_hour, aht_s, agents, model)
    (200, 180, 14, lambda r, a, c: erlang_c_metrics(r, a, c)),
    (950, 60, 16, lambda r, a, c: erlang_c_metrics(r, a, c)),
    (200, 180, 14, lambda r, a, c: erlang_a_metrics(r, a, c, patience_s=120)),
    (240, 180, 10, lambda r, a, c: erlang_a_metrics(r, a, c, patience_s=90)),  # load = 1.2 x agents
    (
        720,
        300,
        50,
        lambda r, a, c: erlang_a_metrics(r, a, c, patience_s=200),
    ),  # load = 1.2 x agents
    (12000, 180, 500, lambda r, a, c: erlang_a_metrics(r, a, c, patience_s=30)),  # 600 Erl on 500
    (400, 180, 14, lambda r, a, c: mmck_metrics(r, a, c, 10)),
    (400, 180, 14, lambda r, a, c: mmck_metrics(r, a, c, 10, patience_s=45)),
    (200, 180, 14, lambda r, a, c: mmck_metrics(r, a, c, 0)),
]


@pytest.mark.parametrize(("rate", "aht", "c", "model"), LITTLE_CASES)
def test_littles_law(rate: float, aht: float, c: int, model) -> None:  # type: ignore[no-untyped-def]
    r = model(rate, aht, c)
    lam = rate / 3600
    assert r.load_erlangs == pytest.approx(lam * aht, rel=1e-14)
    assert r.mean_queue_length == pytest.approx(
        lam * (1 - r.block_rate) * r.mean_wait_s, rel=1e-9, abs=1e-12
    )
    # Flow balance for the agents: carried load = served flow * aht.
    served_flow = lam * (1 - r.block_rate) * (1 - r.abandon_rate)
    assert r.occupancy * c == pytest.approx(served_flow * aht, rel=1e-9)


# --------------------------------------------------------------------------- Cobham priority
def test_cobham_single_class_is_erlang_c() -> None:
    for rate, aht, c in [(200, 180, 14), (50, 60, 1), (9000, 180, 470)]:
        (w,) = cobham_priority_waits_s([rate], aht, c)
        lam, mu = rate / 3600, 1 / aht
        assert w == pytest.approx(erlang_c(c, lam / mu) / (c * mu - lam), rel=1e-12)


@pytest.mark.parametrize("rates", [[100, 100], [20, 180], [150, 30, 20], [10, 10, 10, 170]])
def test_cobham_conservation_law(rates: list[float]) -> None:
    waits = cobham_priority_waits_s(rates, 180, 14)
    assert waits == sorted(waits)  # higher priority waits less
    fifo = erlang_c_metrics(sum(rates), 180, 14).asa_s
    assert np.dot(rates, waits) / sum(rates) == pytest.approx(fifo, rel=1e-12)


def test_cobham_overload_only_low_class_unstable() -> None:
    waits = cobham_priority_waits_s([200, 200], 180, 14)  # 20 Erlangs on 14 agents
    assert math.isfinite(waits[0]) and math.isinf(waits[1])
    assert waits[0] == pytest.approx((180 / 14) / (1 - 10 / 14), rel=1e-12)


# --------------------------------------------------------------------------- scale / stability
def test_large_systems_are_finite() -> None:
    results = [
        erlang_c_metrics(480 * 20, 180, 500),
        erlang_a_metrics(480 * 20, 180, 500, patience_s=60),
        erlang_a_metrics(1000 * 20, 180, 1000, patience_s=120),
        erlang_a_metrics(1200 * 20, 180, 1000, patience_s=120),
        mmck_metrics(480 * 20, 180, 500, queue_capacity=200, patience_s=60),
    ]
    for r in results:
        for name in FIELDS:
            v = getattr(r, name)
            assert math.isfinite(v) and v >= 0, (name, v)
        assert 0 < r.p_wait < 1 and 0 < r.service_level < 1 and 0 < r.occupancy <= 1
    assert 0 < erlang_b(1000, 1000.0) < 1
    assert 0 < erlang_c(1000, 999.0) < 1


def test_input_validation() -> None:
    with pytest.raises(ValueError):
        erlang_b(0, 1.0)
    with pytest.raises(ValueError):
        erlang_c_metrics(100, 0, 3)
    with pytest.raises(ValueError):
        erlang_a_metrics(100, 180, 3, patience_s=0)
    with pytest.raises(ValueError):
        mmck_metrics(100, 180, 3, queue_capacity=-1)


# --------------------------------------------------------------------------- properties
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1000), st.floats(1e-6, 2000.0))
def test_erlang_b_bounds_and_ordering(c: int, load: float) -> None:
    b = erlang_b(c, load)
    assert (
        0 <= b < 1
    )  # tiny loads on many agents legitimately underflow (B(178, 1) = 1/178! ~ 1e-325)
    if load >= c / 2:
        assert b > 0
    assert erlang_b(c + 1, load) <= b
    if load < c:
        assert b <= erlang_c(c, load) < 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.floats(0.05, 1.5), st.floats(10.0, 600.0), st.floats(0.0, 120.0))
def test_service_level_monotone_in_agents(c: int, rho: float, aht: float, thr: float) -> None:
    rate = rho * c * 3600 / aht
    assert (
        erlang_c_metrics(rate, aht, c + 1, thr).service_level
        >= erlang_c_metrics(rate, aht, c, thr).service_level - 1e-12
    )
    a0 = erlang_a_metrics(rate, aht, c, patience_s=aht, threshold_s=thr)
    a1 = erlang_a_metrics(rate, aht, c + 1, patience_s=aht, threshold_s=thr)
    assert a1.service_level >= a0.service_level - 1e-12
    assert a1.abandon_rate <= a0.abandon_rate + 1e-12
    assert 0 <= a0.service_level <= 1 and 0 <= a0.abandon_rate < 1
