"""Exact / closed-form queueing results for contact-center staffing.

Used by the ``ccsim erlang`` CLI command and by tests that validate the
discrete-event simulator against theory.

Models (lambda = arrival rate, mu = 1/AHT, c = agents, A = lambda/mu Erlangs,
theta = 1/patience):

* Erlang B  (M/M/c/c loss system)                      -> :func:`erlang_b`
* Erlang C  (M/M/c, infinite patience & queue)         -> :func:`erlang_c`, :func:`erlang_c_metrics`
* Erlang A  (M/M/c+M, Palm 1943; Garnett, Mandelbaum & Reiman 2002)
                                                       -> :func:`erlang_a_metrics`
* M/M/c/K and M/M/c/K+M (finite waiting room)          -> :func:`mmck_metrics`
* Non-preemptive priority M/M/c (Cobham 1954)          -> :func:`cobham_priority_waits_s`

Conventions
-----------
All waits are in seconds, rates in contacts per hour.  ``service_level``,
``p_wait``, ``asa_s``, ``mean_wait_s`` and ``abandon_rate`` are conditional on
the contact *joining* the queue (i.e. not blocked); ``block_rate`` is relative
to offered contacts.  A contact that reaches an agent exactly at the threshold
counts as within service level (``wait <= threshold_s``); abandoned contacts
never count as within service level, whatever their wait.

Birth-death models are solved in log space (no factorials), so 1..1000+ agents
and loads of ~1000 Erlangs are fine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, gammainc, logsumexp

__all__ = [
    "QueueResult",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "erlang_a_metrics",
    "mmck_metrics",
    "cobham_priority_waits_s",
]

SECONDS_PER_HOUR = 3600.0
#: Relative probability mass allowed beyond the truncation point of an infinite chain.
_TAIL_EPS = 1e-18
#: Hard cap on the number of states of a truncated chain (memory guard).
_MAX_STATES = 5_000_000


@dataclass(frozen=True, slots=True)
class QueueResult:
    """Steady-state performance of a multi-server queue (see module docstring)."""

    load_erlangs: float  # offered load A = lambda * aht
    agents: int
    p_wait: float  # P(arrival finds all agents busy | joins)
    service_level: float  # P(answered AND wait <= threshold_s | joins)
    asa_s: float  # mean wait of ANSWERED contacts, seconds
    mean_wait_s: float  # mean wait of all who joined (answered + abandoned), seconds
    abandon_rate: float  # abandoned / joined
    block_rate: float  # blocked / offered
    occupancy: float  # carried load / agents
    mean_queue_length: float  # time-average number waiting (not in service)
    threshold_s: float


# --------------------------------------------------------------------------- validation
def _check_agents(agents: int) -> int:
    if isinstance(agents, bool) or int(agents) != agents or agents < 1:
        raise ValueError(f"agents must be a positive integer, got {agents!r}")
    return int(agents)


def _check_common(rate_per_hour: float, aht_s: float, threshold_s: float) -> None:
    if not (rate_per_hour >= 0 and math.isfinite(rate_per_hour)):
        raise ValueError(f"rate_per_hour must be finite and >= 0, got {rate_per_hour!r}")
    if not (aht_s > 0 and math.isfinite(aht_s)):
        raise ValueError(f"aht_s must be finite and > 0, got {aht_s!r}")
    if not threshold_s >= 0:
        raise ValueError(f"threshold_s must be >= 0, got {threshold_s!r}")


# --------------------------------------------------------------------------- Erlang B / C
def erlang_b(agents: int, load_erlangs: float) -> float:
    """Erlang B blocking probability B(c, A) of the M/M/c/c loss system.

    Uses the stable recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))
    (e.g. Cooper, *Introduction to Queueing Theory*, eq. 3.3.12).
    """
    c = _check_agents(agents)
    if not (load_erlangs >= 0 and math.isfinite(load_erlangs)):
        raise ValueError(f"load_erlangs must be finite and >= 0, got {load_erlangs!r}")
    b = 1.0
    for n in range(1, c + 1):
        b = load_erlangs * b / (n + load_erlangs * b)
    return b


def erlang_c(agents: int, load_erlangs: float) -> float:
    """Erlang C probability of waiting C(c, A) = P(W > 0) in M/M/c.

    C = c B / (c - A (1 - B)) with B = B(c, A) (Cooper eq. 3.4.12).  Returns 1.0
    when A >= c (unstable queue: every arrival eventually waits).
    """
    c = _check_agents(agents)
    if load_erlangs >= c:
        return 1.0
    b = erlang_b(c, load_erlangs)
    return c * b / (c - load_erlangs * (1.0 - b))


def erlang_c_metrics(
    rate_per_hour: float, aht_s: float, agents: int, threshold_s: float = 20.0
) -> QueueResult:
    """Closed-form M/M/c metrics.

    With C = C(c, A), mu = 1/aht_s and lambda the arrival rate per second:
    P(W <= t) = 1 - C exp(-(c mu - lambda) t), ASA = C / (c mu - lambda),
    Lq = lambda * ASA (Little).  If A >= c the queue is unstable: p_wait = 1,
    service_level = 0, waits and queue length are inf, occupancy = 1.
    """
    c = _check_agents(agents)
    _check_common(rate_per_hour, aht_s, threshold_s)
    lam = rate_per_hour / SECONDS_PER_HOUR
    mu = 1.0 / aht_s
    load = lam * aht_s
    if load >= c:
        inf = math.inf
        return QueueResult(load, c, 1.0, 0.0, inf, inf, 0.0, 0.0, 1.0, inf, float(threshold_s))
    p_wait = erlang_c(c, load)
    gap = c * mu - lam
    asa = p_wait / gap
    sl = 1.0 - p_wait * math.exp(-gap * threshold_s)
    return QueueResult(
        load_erlangs=load,
        agents=c,
        p_wait=p_wait,
        service_level=sl,
        asa_s=asa,
        mean_wait_s=asa,
        abandon_rate=0.0,
        block_rate=0.0,
        occupancy=load / c,
        mean_queue_length=lam * asa,
        threshold_s=float(threshold_s),
    )


# --------------------------------------------------------------------------- birth-death core
def _log_pi(lam: float, mu: float, theta: float, c: int, n_max: int) -> np.ndarray:
    """Unnormalised log stationary probabilities of states 0..n_max.

    Birth rate lambda, death rate d_n = min(n, c) mu + max(n - c, 0) theta;
    pi_n / pi_{n-1} = lambda / d_n (detailed balance).
    """
    n = np.arange(1, n_max + 1, dtype=float)
    death = np.minimum(n, c) * mu + np.maximum(n - c, 0.0) * theta
    with np.errstate(divide="ignore"):
        steps = math.log(lam) - np.log(death) if lam > 0 else np.full(n_max, -np.inf)
    return np.concatenate(([0.0], np.cumsum(steps)))


def _truncation_point(lam: float, mu: float, theta: float, c: int) -> int:
    """Smallest (doubling) n_max such that the tail mass beyond it is < _TAIL_EPS."""
    # Beyond the mode the ratio lambda/d_n is < 1 and decreasing.
    k_mode = max(0.0, math.ceil((lam - c * mu) / theta)) if theta > 0 else 0.0
    extra = 64
    while True:
        n_max = int(c + k_mode + extra)
        if n_max > _MAX_STATES:
            raise ValueError(
                "Erlang A chain needs more than "
                f"{_MAX_STATES} states (patience too long for the overload); "
                "use erlang_c_metrics for infinite patience"
            )
        logp = _log_pi(lam, mu, theta, c, n_max)
        q = lam / (c * mu + (n_max + 1 - c) * theta)  # ratio at the next state
        if q < 1.0:
            # tail <= pi_N * q / (1 - q) (geometric bound); require it negligible.
            log_tail = logp[-1] + math.log(q) - math.log1p(-q) if q > 0 else -math.inf
            if log_tail - logsumexp(logp) < math.log(_TAIL_EPS):
                return n_max
        extra *= 2


def _birth_death_metrics(
    rate_per_hour: float,
    aht_s: float,
    c: int,
    theta: float,
    n_max: int,
    blocking: bool,
    threshold_s: float,
) -> QueueResult:
    """Metrics of the chain on 0..n_max (PASTA: arrivals see pi).

    If ``blocking``, arrivals in state n_max are lost (M/M/c/K, K = n_max);
    otherwise n_max is a truncation of an infinite chain.

    For an arrival seeing k = n - c >= 0 waiting, its time to reach an agent V
    is a sum of Exp(r_j), r_j = c mu + j theta, j = 0..k.  With patience
    tau ~ Exp(theta):
      P(served | k)       = prod_j r_j / (r_j + theta) = c mu / (c mu + (k+1) theta)
      E[V; served | k]    = P(served | k) * sum_{j=1}^{k+1} 1 / (c mu + j theta)
      E[min(V, tau) | k]  = (1 - P(served | k)) / theta = (k+1) / (c mu + (k+1) theta)
      P(V <= T, V < tau)  = P(served | k) * P(V' <= T)
    where V' (exponential tilting of V) is a sum of Exp(c mu + j theta),
    j = 1..k+1: rates in arithmetic progression, i.e. the (k+1)-th order
    statistic of (c mu + theta)/theta + k iid Exp(theta) variables, so
    P(V' <= T) = I_{1 - exp(-theta T)}(k + 1, (c mu + theta) / theta)
    (regularised incomplete beta).  For theta = 0, V ~ Erlang(k+1, c mu) and
    P(V <= T) = P(k + 1, c mu T) (regularised lower incomplete gamma).
    """
    lam = rate_per_hour / SECONDS_PER_HOUR
    mu = 1.0 / aht_s
    load = lam * aht_s
    logp = _log_pi(lam, mu, theta, c, n_max)
    pi = np.exp(logp - logsumexp(logp))
    states = np.arange(n_max + 1)
    waiting = np.maximum(states - c, 0)

    block = float(pi[-1]) if blocking else 0.0
    joinable = pi[:-1] if blocking else pi  # arrivals that join see these states
    join_mass = joinable.sum()
    q_free = float(joinable[:c].sum() / join_mass)  # P(an agent is free | join)
    q_wait = joinable[c:] / join_mass  # P(sees k = 0, 1, ... waiting | join)

    k1 = np.arange(1, q_wait.size + 1, dtype=float)  # k + 1 stages to reach an agent
    cmu = c * mu
    if theta > 0:
        p_served = cmu / (cmu + k1 * theta)
        e_wait_served = p_served * np.cumsum(1.0 / (cmu + k1 * theta))
        e_wait_all = k1 / (cmu + k1 * theta)
        x = -math.expm1(-theta * threshold_s)
        within = p_served * betainc(k1, (cmu + theta) / theta, x)
    else:
        p_served = np.ones_like(k1)
        e_wait_served = k1 / cmu
        e_wait_all = e_wait_served
        within = gammainc(k1, cmu * threshold_s)

    mean_wait = float(q_wait @ e_wait_all)
    abandon = theta * mean_wait  # = sum_k q_k (1 - P(served | k)), no cancellation
    served = q_free + float(q_wait @ p_served)  # direct sum, accurate when abandon ~ 1
    return QueueResult(
        load_erlangs=load,
        agents=c,
        p_wait=min(1.0, float(q_wait.sum())),
        service_level=min(1.0, q_free + float(q_wait @ within)),
        asa_s=float(q_wait @ e_wait_served) / served,
        mean_wait_s=mean_wait,
        abandon_rate=abandon,
        block_rate=block,
        occupancy=min(1.0, float(pi @ np.minimum(states, c)) / c),
        mean_queue_length=float(pi @ waiting),
        threshold_s=float(threshold_s),
    )


# --------------------------------------------------------------------------- public models
def erlang_a_metrics(
    rate_per_hour: float,
    aht_s: float,
    agents: int,
    patience_s: float,
    threshold_s: float = 20.0,
) -> QueueResult:
    """Exact M/M/c+M (Erlang A / Palm) metrics with mean patience ``patience_s``.

    Always stable (also for A > c).  Solved on the birth-death chain with death
    rate min(n, c) mu + max(n - c, 0) theta, truncated where the remaining tail
    mass is < 1e-18; per-position wait formulas in :func:`_birth_death_metrics`
    (cf. Mandelbaum & Zeltyn 2007, "Service engineering in action", Sec. 3).
    ``patience_s = inf`` falls back to :func:`erlang_c_metrics`.
    """
    c = _check_agents(agents)
    _check_common(rate_per_hour, aht_s, threshold_s)
    if not patience_s > 0:
        raise ValueError(f"patience_s must be > 0, got {patience_s!r}")
    if math.isinf(patience_s):
        return erlang_c_metrics(rate_per_hour, aht_s, c, threshold_s)
    theta = 1.0 / patience_s
    lam, mu = rate_per_hour / SECONDS_PER_HOUR, 1.0 / aht_s
    n_max = _truncation_point(lam, mu, theta, c)
    return _birth_death_metrics(rate_per_hour, aht_s, c, theta, n_max, False, threshold_s)


def mmck_metrics(
    rate_per_hour: float,
    aht_s: float,
    agents: int,
    queue_capacity: int,
    threshold_s: float = 20.0,
    patience_s: float | None = None,
) -> QueueResult:
    """Exact M/M/c/K (optionally +M) metrics, K = agents + queue_capacity.

    ``queue_capacity`` is the maximum number *waiting*; 0 gives the Erlang B loss
    system.  ``block_rate`` = pi_K (PASTA); all other metrics are conditional on
    joining.  ``patience_s`` None (or inf) means no abandonment.
    """
    c = _check_agents(agents)
    _check_common(rate_per_hour, aht_s, threshold_s)
    if (
        isinstance(queue_capacity, bool)
        or int(queue_capacity) != queue_capacity
        or queue_capacity < 0
    ):
        raise ValueError(f"queue_capacity must be an integer >= 0, got {queue_capacity!r}")
    if patience_s is not None and not patience_s > 0:
        raise ValueError(f"patience_s must be > 0, got {patience_s!r}")
    theta = 0.0 if patience_s is None or math.isinf(patience_s) else 1.0 / patience_s
    n_max = c + int(queue_capacity)
    return _birth_death_metrics(rate_per_hour, aht_s, c, theta, n_max, True, threshold_s)


def cobham_priority_waits_s(
    rates_per_hour: Sequence[float], aht_s: float, agents: int
) -> list[float]:
    """Mean wait per class in a non-preemptive priority M/M/c queue (Cobham 1954).

    All classes share exponential service with mean ``aht_s``; index 0 has the
    highest priority.  W_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)) with
    sigma_k = sum_{i<=k} lambda_i / (c mu) and W0 = C(c, A) / (c mu), A the total
    load (Kleinrock, *Queueing Systems Vol. 2*, eq. 3.33 / Gross & Harris 3.4).
    Returns the mean over all contacts of the class (zero waits included), in
    seconds; inf where sigma_k >= 1.  If the total load is >= c then C = 1, i.e.
    agents are always busy and only the higher classes may remain stable.
    """
    c = _check_agents(agents)
    if not (aht_s > 0 and math.isfinite(aht_s)):
        raise ValueError(f"aht_s must be finite and > 0, got {aht_s!r}")
    rates = [float(r) for r in rates_per_hour]
    if any(not (r >= 0 and math.isfinite(r)) for r in rates):
        raise ValueError(f"rates_per_hour must be finite and >= 0, got {rates_per_hour!r}")
    mu = 1.0 / aht_s
    cmu = c * mu
    lams = [r / SECONDS_PER_HOUR for r in rates]
    w0 = erlang_c(c, sum(lams) * aht_s) / cmu
    waits: list[float] = []
    sigma_prev = 0.0
    for lam in lams:
        sigma = sigma_prev + lam / cmu
        if sigma >= 1.0:
            waits.append(math.inf)
        else:
            waits.append(w0 / ((1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return waits
