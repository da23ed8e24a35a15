"""Scenario schema: the validated, typed form of a scenario YAML file (SPEC §3), and the
metric names of SPEC §5.

Field-level checks live on the pydantic models (unknown keys are errors, numbers have
ranges); checks that relate several fields (names that must exist, shares that must sum
to 1, profile lengths) live in sim/inputs/config_checks.py, which reports each problem with the
dotted path of the field at fault so the loader can point at the YAML line.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.base.limits import MAX_NAME_CHARS
from sim.inputs.schedule import Schedule

NAME_PATTERN = r"^[a-z0-9_-]+$"
SHARE_TOLERANCE = 1e-6

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_CHARS)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class _Strict(BaseModel):
    # every float of every model is finite (.inf/.nan are input errors); upper bounds by
    # key name are checked on the loaded mapping (sim.base.limits.check_numbers)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_hours(v: object) -> object:
    from sim.inputs.calendar import check_hours

    return check_hours(v)


OpenHours = str | dict[str, str] | None  # "HH:MM-HH:MM" or {mon-fri: "08:00-20:00", ...}


def hours_window_s(hours: str | None) -> tuple[float, float] | None:
    """(open, close) seconds after midnight of "HH:MM-HH:MM"; None = always open.
    close <= open means the window runs past midnight."""
    if hours is None:
        return None
    a, b = hours.split("-")
    to_s = [int(x.split(":")[0]) * 3600 + int(x.split(":")[1]) * 60 for x in (a, b)]
    return float(to_s[0]), float(to_s[1])


class Distribution(_Strict):
    """A positive random duration: ``{dist: lognormal, mean_s: 240, cv: 0.8}``."""

    dist: Literal["exponential", "lognormal", "gamma", "constant"]
    mean_s: Positive
    cv: NonNegative | None = None

    @model_validator(mode="after")
    def _cv_fits_dist(self) -> Distribution:
        if self.dist in ("lognormal", "gamma"):
            if self.cv is None:
                raise ValueError(f"'{self.dist}' needs 'cv' (coefficient of variation, > 0)")
            if self.cv <= 0:
                raise ValueError(f"'{self.dist}' needs cv > 0; use dist: constant for no spread")
        elif self.cv is not None:
            expected = 1.0 if self.dist == "exponential" else 0.0
            if not math.isclose(self.cv, expected):
                raise ValueError(f"'{self.dist}' has a fixed cv of {expected:g}; remove 'cv'")
        return self


class Arrivals(_Strict):
    """Poisson arrivals: a constant rate, a daily profile, or a history file."""

    rate_per_hour: NonNegative | None = None
    profile_per_hour: list[NonNegative] | None = None
    profile_file: str | None = None      # read by the loader into profile_per_hour
    profile_source: str | None = None    # where a profile came from (provenance only)
    day_factors: Annotated[list[NonNegative], Field(min_length=7, max_length=7)] | None = None
    daily_volume_cv: NonNegative = 0.0   # day-to-day volume noise: gamma factor, mean 1

    @model_validator(mode="after")
    def _exactly_one(self) -> Arrivals:
        given = [k for k in ("rate_per_hour", "profile_per_hour", "profile_file")
                 if getattr(self, k) is not None]
        if self.profile_file is not None:
            raise ValueError("profile_file is read when the scenario file is loaded "
                             "(sim.inputs.scenario.load_scenario); give rate_per_hour or "
                             "profile_per_hour here")
        if len(given) != 1:
            raise ValueError(
                "give exactly one of rate_per_hour, profile_per_hour or profile_file"
                + (f" (got {', '.join(given)})" if given else ""))
        return self


class Escalation(_Strict):
    """What a failed bot session does to the customer who then reaches an agent."""

    patience_factor: Positive = 1.0      # patience multiplied by this (< 1: less patient)
    added_handle_s: NonNegative = 0.0    # re-explaining: added to the agent's handle time


class Bot(_Strict):
    """AI self-service in front of the agent queue."""

    containment: dict[str, Share] = Field(default_factory=dict)
    handle_time: Distribution
    cost_per_session: NonNegative = 0.0
    open_hours: OpenHours = None         # "HH:MM-HH:MM" or by weekday; default: always on
    false_containment: Share = 0.0       # share of contained sessions that come back as repeats
    escalation: Escalation = Field(default_factory=Escalation)

    @field_validator("open_hours", mode="before")
    @classmethod
    def _hours(cls, v: object) -> object:
        return _check_hours(v)


class Retrial(_Strict):
    """Customers who try again after an attempt that ended abandoned, blocked or closed."""

    after_abandon_share: Share = 0.0
    after_block_share: Share = 0.0
    after_closed_share: Share = 0.0
    delay: Distribution = Field(
        default_factory=lambda: Distribution(dist="exponential", mean_s=600.0))
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3   # attempts in all, the first included


class Callback(_Strict):
    """A virtual hold: after ``offer_after_s`` in the queue a caller is offered a call back."""

    offer_after_s: NonNegative
    accept_share: Share
    reach_share: Share = 1.0


class Channel(_Strict):
    arrivals: Arrivals
    mix: dict[str, Share]
    handle_time: dict[str, Distribution]
    patience: Distribution | None = None
    service_level_threshold_s: NonNegative = 20.0
    priority: int | None = None          # default 1 (realtime), 9 (async)
    concurrency: Annotated[int, Field(ge=1)] = 1
    queue_capacity: Annotated[int, Field(ge=0)] | None = None
    bot: Bot | None = None
    mode: Literal["realtime", "async"] = "realtime"
    open_hours: OpenHours = None         # agents' hours, daily or by weekday; default: always
    repeat_channel: str | None = None    # where repeat contacts come back; default: this one
    sla_clock: Literal["wall", "open_hours"] = "wall"   # waits on the wall or business clock
    retrial: Retrial | None = None
    callback: Callback | None = None
    concurrency_slowdown: list[Positive] | None = None  # factor per contacts held (1..k)
    reserve_agents: Annotated[int, Field(ge=0)] = 0     # async: realtime agents kept idle

    @field_validator("open_hours", mode="before")
    @classmethod
    def _hours(cls, v: object) -> object:
        return _check_hours(v)

    @model_validator(mode="after")
    def _mode_rules(self) -> Channel:
        if self.mode == "async":
            if self.patience is not None:
                raise ValueError("an async channel has no abandonment: remove 'patience'")
            if self.queue_capacity is not None:
                raise ValueError("an async channel keeps a backlog: remove 'queue_capacity'")
            if self.retrial is not None:
                raise ValueError("an async channel never abandons, blocks or closes, so nobody "
                                 "retries: remove 'retrial'")
            if self.callback is not None:
                raise ValueError("an async channel has nobody on the line to call back: "
                                 "remove 'callback'")
        elif self.reserve_agents:
            raise ValueError("reserve_agents keeps agents for realtime work when they take "
                             "async contacts: it belongs on an async channel (mode: async)")
        if self.concurrency_slowdown is not None and len(self.concurrency_slowdown) != \
                self.concurrency:
            raise ValueError(f"concurrency_slowdown needs one factor per number of contacts "
                             f"held, 1 to concurrency ({self.concurrency} values; got "
                             f"{len(self.concurrency_slowdown)})")
        if self.priority is None:
            object.__setattr__(self, "priority", 9 if self.mode == "async" else 1)
        return self

    @field_validator("mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        if not mix:
            raise ValueError("at least one contact type is needed")
        total = sum(mix.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"shares must sum to 1 (they sum to {total:.6g})")
        return mix


class Tier(_Strict):
    agents: Annotated[int, Field(ge=0)] | None = None
    schedule: Schedule | None = None
    cost_per_hour: NonNegative = 0.0
    serves: dict[str, Positive]
    channels: list[str] | None = None
    shrinkage: Share = 0.0               # paid time not on queue (breaks, meetings, absence)
    coaching_share: Share = 0.0          # paid time spent coaching others (trainers)
    resolution: dict[str, Share] = Field(default_factory=dict)  # FCR by type; default 1
    absence_share: Share = 0.0           # each agent of a day's schedule absent that day

    @model_validator(mode="after")
    def _agents_or_schedule(self) -> Tier:
        if (self.agents is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'agents' or 'schedule'")
        return self

    @property
    def on_queue_factor(self) -> float:
        """Share of paid agents available for contacts."""
        return (1.0 - self.shrinkage) * (1.0 - self.coaching_share)


class RouteStep(_Strict):
    tier: str
    after_s: NonNegative = 0.0


class Resolution(_Strict):
    """What happens to a contact its agent did not resolve (FCR: tiers.*.resolution)."""

    transfer_share: Share = 0.0          # transferred to the next tier of its routing
    transfer_overhead_s: NonNegative = 0.0   # added to the transferring agent's handle time
    repeat_share: Share = 1.0            # of the rest: the customer contacts again later
    repeat_delay: Distribution = Field(
        default_factory=lambda: Distribution(dist="exponential", mean_s=86400.0))


class Costs(_Strict):
    """Costs besides labour and bot sessions."""

    overhead_per_hour: NonNegative = 0.0
    overhead_per_month: NonNegative = 0.0   # a month is 730 hours (8760 / 12)


class Target(_Strict):
    """A KPI bound: ``{metric: phone.asa_s, max: 60}``."""

    metric: str
    min: float | None = None
    max: float | None = None
    per: Literal["interval", "day"] | None = None   # SPEC 7.8: the bound holds per interval/day
    share: Share | None = None                       # ... in at least this share of them

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of 'min' or 'max'")
        if self.metric.count(".") != 1:
            raise ValueError("metric must be 'scope.metric', e.g. phone.asa_s or cost.total")
        if (self.per is None) != (self.share is None):
            raise ValueError("'per' (interval or day) and 'share' (0..1) go together")
        return self

    @property
    def bound(self) -> str:
        return "min" if self.min is not None else "max"

    @property
    def limit(self) -> float:
        return self.min if self.min is not None else self.max  # type: ignore[return-value]


class Scenario(_Strict):
    name: Name
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 1
    replications: Annotated[int, Field(ge=1)] = 10
    horizon_hours: Positive
    warmup_hours: NonNegative = 0.0
    interval_minutes: Annotated[int, Field(gt=0, le=1440)] = 30
    channels: dict[str, Channel]
    tiers: dict[str, Tier]
    routing: dict[str, list[RouteStep]] | None = None
    type_priority: dict[str, int] = Field(default_factory=dict)  # replaces channel priority
    resolution: Resolution = Field(default_factory=Resolution)
    costs: Costs = Field(default_factory=Costs)
    currency: str = "CNY"
    targets: list[Target] = Field(default_factory=list)
    variants: dict[str, dict[str, object]] = Field(default_factory=dict)
    sweep: dict[str, list[object] | str] = Field(default_factory=dict)  # grid for `sweep`
    # SPEC §7.6 uncertain inputs (path -> distribution; checked by sim/inputs/uncertain.py) and
    # their number of draws; `ccsim run` / `roadmap` sample them, other commands ignore them
    uncertain: dict[str, dict[str, object]] | None = None
    draws: Annotated[int, Field(ge=1, le=4096)] | None = None

    @property
    def contact_types(self) -> list[str]:
        """Contact types in order of first appearance across channels' mixes."""
        seen: dict[str, None] = {}
        for ch in self.channels.values():
            for t in ch.mix:
                seen.setdefault(t, None)
        return list(seen)


# --- metric names (SPEC §5) -------------------------------------------------------------

CONTACT_METRICS = (
    "offered", "bot_contained", "automation_rate", "blocked", "block_rate", "queued",
    "answered", "abandoned", "abandon_rate", "asa_s", "mean_wait_s", "p_wait",
    "wait_p90_s", "service_level", "aht_s", "mean_queue_length",
    # extensions
    "closed", "wait_p50_s", "wait_p95_s", "fcr", "transfers_per_contact", "repeat_rate",
    # SPEC §7.3
    "retrials", "customers", "lost_customer_rate", "callbacks", "callback_unreached",
)
TIER_METRICS = ("agents", "occupancy", "handled", "paid_agents")
COST_METRICS = ("labor", "bot", "total", "per_contact", "labor_share", "overhead")
RESERVED_SCOPES = ("all", "cost", "realtime", "async")
# metrics that are shares (0..1); every other metric named above is a count, a time, an
# amount of money or a number of agents (>= 0). Used to keep CIs inside the range.
SHARE_METRICS = frozenset({
    "automation_rate", "block_rate", "abandon_rate", "p_wait", "service_level", "fcr",
    "repeat_rate", "occupancy", "labor_share", "lost_customer_rate"})


def metric_range(scope: str, metric: str) -> tuple[float, float]:
    """The values a metric of SPEC §5 can take: (0, 1) for shares, (0, inf) for counts,
    times and money, and no limit for anything else (a command's own rows, e.g. savings,
    which can be negative)."""
    if metric in SHARE_METRICS:
        return 0.0, 1.0
    if scope != "roadmap" and metric in _NON_NEGATIVE:
        return 0.0, math.inf
    return -math.inf, math.inf


_NON_NEGATIVE = frozenset(CONTACT_METRICS + TIER_METRICS + COST_METRICS)


def metrics_for_scope(sc: Scenario, scope: str) -> tuple[str, ...] | None:
    """Metric names valid for ``scope`` in this scenario, or None for an unknown scope."""
    if scope == "cost":
        return COST_METRICS
    if scope in ("all", "realtime", "async") or scope in sc.channels or scope in sc.contact_types:
        return CONTACT_METRICS
    if scope in sc.tiers:
        return TIER_METRICS
    return None
