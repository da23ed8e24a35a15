"""Every bound ccsim puts on its input, in one place (SPEC §7.1; docs/reference.md, Limits).

Input is hostile: any number may be ``.inf``, ``1e308`` or ``1e20`` replications, any file
may be ``/dev/zero``. The bounds below are far above any real contact centre (every
bundled scenario and a 500,000-contacts-a-day centre simulated for 30 days pass), and low
enough that input within them cannot run for days or exhaust memory. Input beyond them is
refused before anything is simulated (exit 2), naming the file, line and dotted path.

:func:`check_numbers` walks a loaded mapping and applies the per-key bounds (units are in
the key names: ``*_s`` seconds, ``*_hours`` hours, ...); :func:`check_work` refuses a run
whose *expected* size (contacts offered x replications x options) is beyond the bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from sim.base.errors import InputError

# --- files --------------------------------------------------------------------------------
MAX_YAML_BYTES = 1024 * 1024          # a scenario or roadmap file (the largest bundled: 23 kB)
MAX_YAML_NODES = 200_000              # YAML nodes after expanding aliases (billion laughs)
MAX_CSV_BYTES = 32 * 1024 * 1024      # a history CSV (a year of 1-minute rows is ~13 MB)
MAX_CSV_ROWS = 2_000_000              # rows of a history CSV
MAX_RESULT_FILE_BYTES = 256 * 1024 * 1024  # a file of a results folder read back (report)
MAX_EXTENDS_DEPTH = 20               # files extending one another

# --- text ---------------------------------------------------------------------------------
MAX_NAME_CHARS = 64                   # scenario, roadmap, phase, channel, tier, type names
MAX_KEY_CHARS = 200                   # any mapping key (variant names, dotted paths)
MAX_TEXT_CHARS = 10_000               # any text value (description, currency, ...)

# --- numbers (by key name; see _LIMIT_BY_KEY) --------------------------------------------
MAX_NUMBER = 1e15                     # any number not named below (money, shares, seeds...)
MAX_HOURS = 8784.0                    # horizon_hours, warmup_hours: 366 days
MAX_DURATION_S = 31_622_400.0         # any *_s (mean_s, after_s, thresholds): 366 days
MAX_RATE_PER_HOUR = 1_000_000.0       # rate_per_hour and each profile_per_hour value
MAX_CV = 20.0                         # cv of a duration, daily_volume_cv
MAX_AGENTS = 100_000                  # agents, headcount, agents of a shift or an interval
MAX_SPEED = 100.0                     # a tier's speed factor in serves
MAX_REPLICATIONS = 10_000             # replications, --reps, --max-reps
MAX_DRAWS = 4096                      # draws of uncertain inputs, --draws (sim/inputs/uncertain.py)
MAX_WORKERS = 256                     # --workers
MAX_SEED = 10**15                     # seed, --seed (= MAX_NUMBER)

# --- counts and expected work ------------------------------------------------------------
MAX_VARIANTS = 1_000                  # variants of one scenario file
MAX_GRID_POINTS = 10_000              # points of a sweep (the product of its axes)
MAX_CONTACTS_PER_REPLICATION = 50_000_000   # expected contacts offered in one replication
MAX_CONTACTS_PER_COMMAND = 2_000_000_000    # ... x replications x options of one command
MAX_TRACED_CONTACTS = 5_000_000       # expected contacts of one command with --trace
MAX_INTERVAL_ROWS = 1_000_000         # interval x channel rows of every replication held

_LIMIT_BY_KEY: dict[str, tuple[float, str]] = {
    "horizon_hours": (MAX_HOURS, "hours (366 days)"),
    "warmup_hours": (MAX_HOURS, "hours (366 days)"),
    "rate_per_hour": (MAX_RATE_PER_HOUR, "contacts per hour"),
    "profile_per_hour": (MAX_RATE_PER_HOUR, "contacts per hour"),
    "cv": (MAX_CV, ""),
    "daily_volume_cv": (MAX_CV, ""),
    "agents": (MAX_AGENTS, "agents"),
    "headcount": (MAX_AGENTS, "agents"),
    "agents_per_interval": (MAX_AGENTS, "agents"),
    "serves": (MAX_SPEED, "(a speed factor)"),
    "replications": (MAX_REPLICATIONS, "replications"),
    "draws": (MAX_DRAWS, "draws"),
}


def limit_for(key: str) -> tuple[float, str]:
    """(upper bound, unit) for a number under mapping key ``key`` (the last part of a
    dotted override path counts: ``tiers.base.agents`` is an ``agents``)."""
    name = key.rsplit(".", 1)[-1]
    if name in _LIMIT_BY_KEY:
        return _LIMIT_BY_KEY[name]
    if name.endswith("_s"):
        return MAX_DURATION_S, "seconds (366 days)"
    return MAX_NUMBER, ""


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def show_number(x: float | int) -> str:
    """A number as the user would write it (``.inf`` for YAML's infinity)."""
    if isinstance(x, float) and not math.isfinite(x):
        return ".nan" if math.isnan(x) else (".inf" if x > 0 else "-.inf")
    if isinstance(x, int) and abs(x) >= 10**16:
        return f"a {len(str(abs(x)))}-digit number"
    return repr(x)


def _walk(data: Any) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(path, governing key, value) of every scalar and key below ``data``, iteratively
    (containers shared through YAML aliases are walked once)."""
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], str, Any]] = [((), "", data)]
    while stack:
        path, key, obj = stack.pop()
        if isinstance(obj, dict):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            for k, v in obj.items():
                yield (*path, str(k)), "", k   # the key itself (checked as text)
                stack.append(((*path, str(k)), str(k), v))
        elif isinstance(obj, list | tuple):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            for i, v in enumerate(obj):
                stack.append(((*path, str(i)), key, v))
        else:
            yield path, key, obj


def number_issue(key: str, value: Any) -> str | None:
    """What is wrong with one scalar under ``key``, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return (f"every number must be finite (got {show_number(value)}); give a number of "
                "at most " + _fmt(limit_for(key)[0]))
    limit, unit = limit_for(key)
    if abs(value) > limit:
        return (f"at most {_fmt(limit)}{' ' + unit if unit else ''} is allowed "
                f"(got {show_number(value) if isinstance(value, int) else _fmt(value)}); "
                "see Limits in docs/reference.md")
    return None


def check_numbers(data: Any) -> list[tuple[tuple[str, ...], str]]:
    """Every bound problem in a loaded mapping: (path, message), in no particular order.

    Numbers must be finite and within the bound of their key (:func:`limit_for`); text
    values at most ``MAX_TEXT_CHARS`` characters, keys ``MAX_KEY_CHARS``.
    """
    issues: list[tuple[tuple[str, ...], str]] = []
    for path, key, value in _walk(data):
        if isinstance(value, str):
            limit = MAX_KEY_CHARS if key == "" and path else MAX_TEXT_CHARS
            if len(value) > limit:
                what = "a key" if limit == MAX_KEY_CHARS else "a text"
                issues.append((path[:-1] if limit == MAX_KEY_CHARS else path,
                               f"{what} of {len(value):,} characters; at most {limit:,}"))
            continue
        problem = number_issue(key, value)
        if problem:
            issues.append((path, problem))
    return issues


# --- expected work -------------------------------------------------------------------------

def _hours_by_weekday(start_h: float, end_h: float) -> list[float]:
    """Hours of [start_h, end_h) on each weekday; hour 0 is a Monday 00:00 (warm-up is at
    negative hours). At most 366 days each side, so a short loop."""
    hours = [0.0] * 7
    t = start_h
    while t < end_h:
        day = math.floor(t / 24.0)
        step = min(end_h, (day + 1) * 24.0) - t
        hours[day % 7] += step
        t += step
    return hours


def expected_contacts(sc: Any) -> float:
    """Expected contacts offered in one replication (first attempts, warm-up included):
    each channel's mean rate of the day (a profile's mean) x the hours of each weekday
    in the simulated period x that day's factor."""
    by_day = _hours_by_weekday(-float(sc.warmup_hours), float(sc.horizon_hours))
    total = 0.0
    for ch in sc.channels.values():
        arr = ch.arrivals
        if arr.profile_per_hour:
            rate = sum(arr.profile_per_hour) / len(arr.profile_per_hour)
        else:
            rate = float(arr.rate_per_hour or 0.0)
        factors = list(arr.day_factors) if arr.day_factors else [1.0] * 7
        total += rate * sum(h * f for h, f in zip(by_day, factors, strict=True))
    return total


def check_work(scenarios: Sequence[Any], *, replications: Sequence[int] | None = None,
               trace: bool = False, what: str = "this command") -> None:
    """Refuse (InputError) a run whose expected size is beyond the bounds, before any
    simulation. ``replications`` (default: each scenario's) is per scenario."""
    reps = list(replications) if replications is not None else [
        int(sc.replications) for sc in scenarios]
    total = 0.0
    rows = 0
    for sc, n in zip(scenarios, reps, strict=True):
        rows += math.ceil(float(sc.horizon_hours) * 60.0 / sc.interval_minutes) * len(
            sc.channels) * n
        per_rep = expected_contacts(sc)
        if per_rep > MAX_CONTACTS_PER_REPLICATION:
            raise InputError(
                f"one replication would offer about {per_rep:,.0f} contacts (rates x "
                f"(horizon_hours + warmup_hours)); at most "
                f"{MAX_CONTACTS_PER_REPLICATION:,} are allowed: shorten the horizon or "
                "lower the rates (see Limits in docs/reference.md)", path="horizon_hours")
        total += per_rep * n
    if total > MAX_CONTACTS_PER_COMMAND:
        raise InputError(
            f"{what} would simulate about {total:,.0f} contacts ({len(scenarios)} option(s) "
            f"x replications); at most {MAX_CONTACTS_PER_COMMAND:,} are allowed: use fewer "
            "replications, options or grid points, or a shorter horizon (see Limits in "
            "docs/reference.md)")
    if rows > MAX_INTERVAL_ROWS:
        raise InputError(
            f"{what} would keep {rows:,} interval rows (horizon_hours / interval_minutes x "
            f"channels x replications x options); at most {MAX_INTERVAL_ROWS:,}: use longer "
            "intervals, a shorter horizon or fewer replications (see Limits in "
            "docs/reference.md)", path="interval_minutes")
    if trace and total > MAX_TRACED_CONTACTS:
        raise InputError(
            f"--trace would record about {total:,.0f} contacts; at most "
            f"{MAX_TRACED_CONTACTS:,} can be traced in one command (one row per event): "
            "trace fewer replications or a shorter horizon", path="--trace")
