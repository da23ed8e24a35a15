"""Staffing by schedule: ``tiers.<name>.schedule`` instead of ``tiers.<name>.agents``.

A schedule gives the number of agents on duty in each interval slot of a week, either as
a profile (``agents_per_interval``: one value per slot of a day, repeated every day, or
one per slot of a week, Monday first) or as a list of ``shifts``.  Simulation time 0 is
Monday 00:00 of the first measured week and the week repeats (negative times are warm-up).

A shift covers a slot when it covers the slot's start instant; ``end <= start`` means the
shift runs past midnight into the next day (Sunday night wraps into Monday).  ``days`` are
the days a shift *starts* on.

YAML note: plain YAML 1.1 reads an unquoted ``14:00`` as the base-60 integer 840; ccsim's
loader keeps ``HH:MM`` as text, and time fields accept only ``"HH:MM"``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_PER_DAY = 1440
WEEK_S = 7 * MINUTES_PER_DAY * 60

Issue = tuple[tuple[str, ...], str]
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _minutes(hhmm: str) -> int:
    """Minutes after midnight of a validated ``"HH:MM"`` (``"24:00"`` -> 1440)."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _time_field(value: object, allow_24: bool) -> object:
    """Accept ``"HH:MM"``; reject anything else (the YAML loader keeps 14:00 as text)."""
    if isinstance(value, str) and (_TIME.match(value) or (allow_24 and value == "24:00")):
        return value
    bounds = "00:00..24:00" if allow_24 else "00:00..23:59"
    raise ValueError(f"expected a time \"HH:MM\" in {bounds}")


class Shift(BaseModel):
    """``{start: "08:00", end: "16:00", agents: 12, days: [mon, tue, wed, thu, fri]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str
    agents: Annotated[int, Field(ge=0)]
    days: list[Day] = Field(default_factory=lambda: list(DAYS))

    @field_validator("start", mode="before")
    @classmethod
    def _start_time(cls, value: object) -> object:
        return _time_field(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end_time(cls, value: object) -> object:
        return _time_field(value, allow_24=True)

    @field_validator("days")
    @classmethod
    def _distinct_days(cls, days: list[str]) -> list[str]:
        if not days:
            raise ValueError("give at least one day (omit 'days' for every day)")
        twice = sorted({d for d in days if days.count(d) > 1}, key=DAYS.index)
        if twice:
            raise ValueError(f"day(s) listed twice: {', '.join(twice)}")
        return days

    @property
    def minutes(self) -> tuple[int, int]:
        """(start minute, length in minutes); length 0 when start == end."""
        start, end = _minutes(self.start), _minutes(self.end)
        if end == MINUTES_PER_DAY:
            return start, end - start
        return start, (end - start) % MINUTES_PER_DAY  # end < start: past midnight

    def label(self, i: int) -> str:
        return f"shifts.{i} ({self.start}-{self.end}, {self.agents} agents)"


class Schedule(BaseModel):
    """Agents on duty over the week: ``agents_per_interval`` or ``shifts`` (exactly one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents_per_interval: list[Annotated[int, Field(ge=0)]] | None = None
    shifts: list[Shift] | None = None
    headcount: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.agents_per_interval is None) == (self.shifts is None):
            raise ValueError("give exactly one of agents_per_interval (a daily or weekly "
                             "profile) or shifts" + (" (got both)" if self.shifts else ""))
        return self


def shift_slots(shift: Shift, interval_minutes: int) -> list[int]:
    """Week slot indices a (boundary-aligned, non-empty) shift covers, wrapping the week."""
    per_day = MINUTES_PER_DAY // interval_minutes
    start, length = shift.minutes
    first, count = start // interval_minutes, length // interval_minutes
    return [(DAYS.index(d) * per_day + first + k) % (7 * per_day)
            for d in shift.days for k in range(count)]


def _structural_issues(schedule: Schedule, interval_minutes: int,
                       path: tuple[str, ...]) -> list[Issue]:
    """Problems that make the weekly profile undefined (lengths, shift times)."""
    if interval_minutes <= 0 or MINUTES_PER_DAY % interval_minutes:
        return [(("interval_minutes",), "must divide a day (1440 minutes) evenly")]
    per_day = MINUTES_PER_DAY // interval_minutes
    issues: list[Issue] = []
    prof = schedule.agents_per_interval
    if prof is not None and len(prof) not in (per_day, 7 * per_day):
        issues.append((path + ("agents_per_interval",),
                       f"needs one value per interval of a day ({per_day} values) or of a "
                       f"week ({7 * per_day} values, Monday first) for interval_minutes "
                       f"{interval_minutes} (got {len(prof)})"))
    for i, shift in enumerate(schedule.shifts or []):
        here = path + ("shifts", str(i))
        if shift.minutes[1] == 0:
            issues.append((here + ("end",),
                           f"start and end are both {shift.start}: a zero-length shift "
                           "(a whole day is start 00:00, end 24:00)"))
        for key in ("start", "end"):
            value = getattr(shift, key)
            if _minutes(value) % interval_minutes:
                issues.append((here + (key,),
                               f"{value} is not on an interval boundary; shifts must start "
                               f"and end on multiples of interval_minutes ({interval_minutes})"))
    return issues


def weekly_agents(schedule: Schedule, interval_minutes: int) -> list[int]:
    """Scheduled agents for each slot of a week (len 7*1440/interval_minutes, Monday 00:00
    first).  Raises ValueError for a schedule with issues (see :func:`schedule_issues`);
    the headcount is not checked here."""
    issues = _structural_issues(schedule, interval_minutes, ("schedule",))
    if issues:
        raise ValueError("; ".join(f"{'.'.join(p)}: {m}" for p, m in issues))
    per_day = MINUTES_PER_DAY // interval_minutes
    if schedule.agents_per_interval is not None:
        prof = list(schedule.agents_per_interval)
        return prof * 7 if len(prof) == per_day else prof
    weekly = [0] * (7 * per_day)
    for shift in schedule.shifts or []:
        for slot in shift_slots(shift, interval_minutes):
            weekly[slot] += shift.agents
    return weekly


def schedule_issues(schedule: Schedule, interval_minutes: int,
                    path: tuple[str, ...]) -> list[Issue]:
    """Cross-field problems, each (dotted path tuple, message), for a schedule at ``path``
    (e.g. ``("tiers", "base", "schedule")``): profile length, shift times off the interval
    grid or of zero length, and scheduled agents above ``headcount``."""
    issues = _structural_issues(schedule, interval_minutes, path)
    if issues or schedule.headcount is None:
        return issues
    weekly = weekly_agents(schedule, interval_minutes)
    over = next((s for s, n in enumerate(weekly) if n > schedule.headcount), None)
    if over is None:
        return []
    per_day = MINUTES_PER_DAY // interval_minutes
    when = f"{DAY_NAMES[over // per_day]} {_clock(over % per_day * interval_minutes)}"
    msg = (f"{weekly[over]} agents are scheduled on {when}, more than the headcount of "
           f"{schedule.headcount}")
    if schedule.shifts is None:
        return [(path + ("agents_per_interval",), msg)]
    there = [shift.label(i) for i, shift in enumerate(schedule.shifts)
             if shift.agents and over in shift_slots(shift, interval_minutes)]
    return [(path + ("shifts",), f"{msg}; shifts on duty then: {', '.join(there)}")]


def _cumulative_s(weekly: list[int], slot_s: float, t_s: float) -> float:
    """Agent-seconds scheduled over [0, t_s) (negative for t_s < 0), the week repeating."""
    week_s = slot_s * len(weekly)
    weeks = math.floor(t_s / week_s)
    rest = t_s - weeks * week_s
    if rest >= week_s:  # rounding of a tiny negative t_s
        weeks, rest = weeks + 1, 0.0
    rest = max(rest, 0.0)
    full = min(int(rest // slot_s), len(weekly) - 1)
    partial = sum(weekly[:full]) * slot_s + weekly[full] * (rest - full * slot_s)
    return weeks * sum(weekly) * slot_s + partial


def paid_agent_hours(weekly: list[int], interval_minutes: int, start_s: float,
                     end_s: float) -> float:
    """Integral of scheduled agents over [start_s, end_s) (seconds from Monday 00:00 of
    week 0; the week repeats; start_s may be negative for warm-up), in agent-hours."""
    if end_s < start_s:
        raise ValueError(f"end_s ({end_s}) is before start_s ({start_s})")
    if not weekly:
        return 0.0
    slot_s = interval_minutes * 60.0
    return (_cumulative_s(weekly, slot_s, end_s) - _cumulative_s(weekly, slot_s, start_s)) \
        / 3600.0


def agents_at(weekly: list[int], interval_minutes: int, t_s: float) -> int:
    """Scheduled agents at time ``t_s`` (seconds from Monday 00:00 of week 0; the week
    repeats, negative times are in earlier weeks).  A slot includes its start instant."""
    return weekly[math.floor(t_s / (interval_minutes * 60.0)) % len(weekly)]
