"""Staffing by schedule (sim/inputs/schedule.py): weekly profiles, shifts, checks, paid hours."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.inputs.schedule import (
    Schedule,
    agents_at,
    paid_agent_hours,
    schedule_issues,
    weekly_agents,
)

PATH = ("tiers", "base", "schedule")
DAY_S = 86400


def sched(**data: Any) -> Schedule:
    return Schedule.model_validate(data)


def slot(day: int, hhmm: str, interval: int = 60) -> int:
    h, m = map(int, hhmm.split(":"))
    return day * (1440 // interval) + (h * 60 + m) // interval


def brute_force_hours(weekly: list[int], interval: int, start_s: float, end_s: float) -> float:
    """Minute-by-minute integral (start/end on whole minutes)."""
    total = sum(agents_at(weekly, interval, m * 60.0)
                for m in range(int(start_s // 60), int(end_s // 60)))
    return total / 60.0


# --- profiles ------------------------------------------------------------------------------

def test_daily_profile_repeats_every_day() -> None:
    daily = list(range(24))
    weekly = weekly_agents(sched(agents_per_interval=daily), 60)
    assert len(weekly) == 168
    assert [weekly[d * 24:(d + 1) * 24] for d in range(7)] == [daily] * 7


def test_weekly_profile_used_as_is() -> None:
    prof = [i % 11 for i in range(7 * 48)]
    assert weekly_agents(sched(agents_per_interval=prof), 30) == prof


def test_wrong_length_profile_names_both_lengths() -> None:
    issues = schedule_issues(sched(agents_per_interval=[1] * 50), 30, PATH)
    assert len(issues) == 1
    path, msg = issues[0]
    assert path == PATH + ("agents_per_interval",)
    assert "48" in msg and "336" in msg and "50" in msg
    with pytest.raises(ValueError):
        weekly_agents(sched(agents_per_interval=[1] * 50), 30)
    assert schedule_issues(sched(agents_per_interval=[1] * 48), 30, PATH) == []
    assert schedule_issues(sched(agents_per_interval=[1] * 336), 30, PATH) == []


# --- shifts --------------------------------------------------------------------------------

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def test_overlapping_day_shifts_sum_and_weekend_is_empty() -> None:
    s = sched(shifts=[{"start": "08:00", "end": "16:00", "agents": 10, "days": WEEKDAYS},
                      {"start": "14:00", "end": "22:00", "agents": 4, "days": WEEKDAYS}])
    w = weekly_agents(s, 60)
    for day in range(5):
        assert w[slot(day, "07:00")] == 0
        assert w[slot(day, "08:00")] == 10
        assert w[slot(day, "13:00")] == 10
        assert w[slot(day, "14:00")] == 14
        assert w[slot(day, "15:00")] == 14
        assert w[slot(day, "16:00")] == 4
        assert w[slot(day, "21:00")] == 4
        assert w[slot(day, "22:00")] == 0
    assert w[slot(5, "00:00"):] == [0] * 48  # Saturday and Sunday
    assert sum(w) == 5 * (10 * 8 + 4 * 8)


def test_overnight_sunday_shift_wraps_into_monday() -> None:
    s = sched(shifts=[{"start": "22:00", "end": "06:00", "agents": 3, "days": ["sun"]}])
    w = weekly_agents(s, 30)
    on = [i for i, n in enumerate(w) if n]
    assert on == list(range(slot(0, "00:00", 30), slot(0, "06:00", 30))) + \
        list(range(slot(6, "22:00", 30), slot(6, "24:00", 30)))
    assert all(w[i] == 3 for i in on)


def test_end_24_00_and_default_days() -> None:
    w = weekly_agents(sched(shifts=[{"start": "18:00", "end": "24:00", "agents": 2}]), 60)
    for day in range(7):
        assert w[slot(day, "17:00")] == 0
        assert w[slot(day, "18:00"):slot(day, "24:00")] == [2] * 6
    whole = weekly_agents(sched(shifts=[{"start": "00:00", "end": "24:00", "agents": 1}]), 60)
    assert whole == [1] * 168


def test_unquoted_yaml_times_are_understood(tmp_path) -> None:  # noqa: ANN001
    from sim.inputs.yamlio import load_yaml

    path = tmp_path / "s.yaml"
    path.write_text("shifts: [{start: 14:00, end: 22:00, agents: 1}]\n")
    data, _ = load_yaml(path)  # plain YAML 1.1 would read 14:00 as the integer 840
    shift = sched(**data).shifts[0]  # type: ignore[index]
    assert (shift.start, shift.end) == ("14:00", "22:00")


def test_integer_time_is_rejected() -> None:
    with pytest.raises(ValidationError):
        sched(shifts=[{"start": 8, "end": "16:00", "agents": 1}])


@pytest.mark.parametrize("field,value", [("start", "8:00"), ("start", "24:00"),
                                         ("end", "24:30"), ("start", "12:60"),
                                         ("end", "noon")])
def test_malformed_times_are_rejected(field: str, value: str) -> None:
    shift = {"start": "08:00", "end": "16:00", "agents": 1, field: value}
    with pytest.raises(ValidationError) as err:
        sched(shifts=[shift])
    assert err.value.errors()[0]["loc"] == ("shifts", 0, field)


def test_off_boundary_time_is_an_issue() -> None:
    s = sched(shifts=[{"start": "08:00", "end": "16:00", "agents": 1},
                      {"start": "08:15", "end": "16:00", "agents": 1}])
    issues = schedule_issues(s, 30, PATH)
    assert [p for p, _ in issues] == [PATH + ("shifts", "1", "start")]
    assert "08:15" in issues[0][1] and "30" in issues[0][1]
    assert schedule_issues(s, 15, PATH) == []
    with pytest.raises(ValueError):
        weekly_agents(s, 30)


def test_zero_length_shift_is_an_issue() -> None:
    s = sched(shifts=[{"start": "09:00", "end": "09:00", "agents": 1}])
    issues = schedule_issues(s, 30, PATH)
    assert [p for p, _ in issues] == [PATH + ("shifts", "0", "end")]
    assert "zero-length" in issues[0][1]


def test_headcount_exceeded_names_day_time_number_and_shifts() -> None:
    s = sched(headcount=12,
              shifts=[{"start": "08:00", "end": "16:00", "agents": 10, "days": ["tue"]},
                      {"start": "14:00", "end": "22:00", "agents": 4, "days": ["tue", "wed"]}])
    issues = schedule_issues(s, 30, PATH)
    assert len(issues) == 1
    path, msg = issues[0]
    assert path == PATH + ("shifts",)
    assert "Tuesday 14:00" in msg and "14 agents" in msg and "12" in msg
    assert "shifts.0" in msg and "shifts.1" in msg
    assert schedule_issues(s.model_copy(update={"headcount": 14}), 30, PATH) == []


def test_headcount_exceeded_by_profile() -> None:
    prof = [5] * 24
    prof[9] = 7
    issues = schedule_issues(sched(agents_per_interval=prof, headcount=6), 60, PATH)
    assert issues == [(PATH + ("agents_per_interval",),
                       "7 agents are scheduled on Monday 09:00, more than the headcount of 6")]


def test_exactly_one_form() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        sched()
    with pytest.raises(ValidationError, match="exactly one"):
        sched(agents_per_interval=[1] * 24, shifts=[{"start": "08:00", "end": "16:00",
                                                     "agents": 1}])
    with pytest.raises(ValidationError):
        sched(agents_per_interval=[1] * 24, agents=3)  # unknown key
    with pytest.raises(ValidationError):
        sched(shifts=[{"start": "08:00", "end": "16:00", "agents": 1, "days": ["mon", "mon"]}])


# --- time queries --------------------------------------------------------------------------

WEEKLY = [(i * 7) % 5 for i in range(7 * 24)]  # hourly, uneven


def test_paid_hours_over_a_week() -> None:
    prof = [i % 9 for i in range(7 * 48)]
    assert paid_agent_hours(prof, 30, 0, 7 * DAY_S) == pytest.approx(sum(prof) * 30 / 60)
    assert paid_agent_hours(prof, 30, -7 * DAY_S, 14 * DAY_S) == \
        pytest.approx(3 * sum(prof) * 30 / 60)


@pytest.mark.parametrize("start_s,end_s", [(0, 90 * 60), (30 * 60, 150 * 60),
                                           (-2 * 3600, 3 * 3600), (-9 * DAY_S, -8 * DAY_S),
                                           (6 * DAY_S + 80_040, 8 * DAY_S + 1_260),
                                           (100 * 60, 100 * 60)])
def test_paid_hours_partial_windows_match_brute_force(start_s: float, end_s: float) -> None:
    got = paid_agent_hours(WEEKLY, 60, start_s, end_s)
    assert got == pytest.approx(brute_force_hours(WEEKLY, 60, start_s, end_s), abs=1e-9)


def test_paid_hours_rejects_reversed_window() -> None:
    with pytest.raises(ValueError):
        paid_agent_hours(WEEKLY, 60, 10.0, 5.0)


def test_agents_at_negative_time_is_previous_week() -> None:
    w = list(range(168))
    assert agents_at(w, 60, 0.0) == 0
    assert agents_at(w, 60, 3599.9) == 0
    assert agents_at(w, 60, 3600.0) == 1
    assert agents_at(w, 60, -1.0) == 167  # Sunday 23:00 of the week before
    assert agents_at(w, 60, -3600.0) == 167
    assert agents_at(w, 60, -3600.5) == 166
    assert agents_at(w, 60, -7 * DAY_S) == 0
    assert agents_at(w, 60, 7 * DAY_S + 7200) == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=7 * 24, max_size=7 * 24),
       st.lists(st.floats(-20 * DAY_S, 20 * DAY_S, allow_nan=False), min_size=3, max_size=3))
def test_paid_hours_is_additive(weekly: list[int], times: list[float]) -> None:
    a, b, c = sorted(times)
    split = paid_agent_hours(weekly, 60, a, b) + paid_agent_hours(weekly, 60, b, c)
    whole = paid_agent_hours(weekly, 60, a, c)
    assert math.isclose(split, whole, rel_tol=1e-9, abs_tol=1e-6)
    assert whole >= -1e-9


def test_an_agent_called_back_from_leaving_never_exceeds_its_concurrency() -> None:
    """Staffing going down and up every interval with long contacts: agents asked to leave
    while busy are called back while still full; they must not take more contacts than
    their concurrency (busy agent slots never exceed the agents on duty)."""
    from sim.inputs.config import Scenario
    from sim.model.engine import Engine
    from sim.model.routing import compile_routes

    for conc in (1, 2):
        sc = Scenario.model_validate({
            "name": "flip", "horizon_hours": 24, "interval_minutes": 15,
            "channels": {"chat": {
                "arrivals": {"rate_per_hour": 12}, "mix": {"simple": 1.0}, "concurrency": conc,
                "handle_time": {"simple": {"dist": "exponential", "mean_s": 3000}}}},
            "tiers": {"t": {"schedule": {"agents_per_interval": [3, 1] * 48},
                            "cost_per_hour": 1, "serves": {"simple": 1.0}}}})
        rec = Engine(sc, compile_routes(sc), 0).run()
        assert rec.load_area[0] <= rec.available_area[0] + 1e-6, (conc, rec.load_area,
                                                                   rec.available_area)
        assert rec.busy_area[0] <= rec.available_area[0] + 1e-6
