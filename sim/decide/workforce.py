"""Workforce over the months of a roadmap (SPEC §7.7 ``workforce:``): attrition, hiring
with a lead time, new hires' learning curve and the coaching they take.

An expected-value model, deterministic (no random draws): headcounts are fractional
expected values, month by month, per tier named in the block (a tier left out keeps its
plan's headcount exactly).

Month m = 1..H, starting from the baseline's headcount (all veterans, fully trained):

1. leavers: ``H(m-1) x q`` with ``q = 1 - (1 - a)^(1/12)`` (``attrition_per_year`` a);
   every cohort (veterans, each month's hires) loses the same share, so twelve months
   with no hiring leave ``H x (1 - a)``.
2. a plan below the headcount (a phase's cut): with ``cuts: at_once`` (the default with
   ``replace`` and a hiring plan) the excess goes in the month the plan falls and counts
   among that month's leavers, as the roadmap's own cut does; with ``cuts: attrition``
   (the default with ``none``) nobody is laid off: leavers carry the cut.
3. hires: ``replace``: every month the gap ``plan - headcount - already requested`` is
   requested and joins ``hire_lead_months`` later (0: the same month), so each leaver's
   place stays empty for exactly ``hire_lead_months`` months and a plan that rises is
   reached that many months after it rises; ``none``: nobody; ``{plan: {month: n}}``: n
   join in month m (the plan's own lead time), nothing else.
4. speed: a hire of month k works in month m at ``s0 + (1 - s0) (m - k + 1/2) / L`` (the
   month's mean of a line rising from ``new_hire_speed`` s0 when they join to 1 after
   ``learning_months`` L), 1 from then on. The tier's speed factor is the headcount-
   weighted mean ``1 - sum_k n_k (1 - s_k) / H``; the scenario applies it by dividing the
   tier's handle times by it (``serves`` x factor). A busy tier's throughput is the sum
   of its agents' speeds, so the blend keeps the tier's capacity (and its contact-
   weighted mean handle time, h / mean speed) exact; it does not model which contact
   meets which agent. Resolution (FCR) is not lowered for new hires.
5. coaching: ``hires x coaching_hours_per_hire`` of the ``coached_by`` tier in the month
   they join, taken from its time on the queue (sim/decide/workforce_states.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.inputs.config import _Strict

Months = Annotated[int, Field(ge=0, le=240)]


class HiringPlan(_Strict):
    """``hiring: {plan: {3: 5, 6: 5}}``: hires joining in each month (an extension)."""

    plan: dict[Annotated[int, Field(ge=1, le=240)],
               Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]]


class TierWorkforce(_Strict):
    """One tier's entry of ``workforce:`` (SPEC §7.7; ``cuts`` is an extension)."""

    attrition_per_year: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = 0.0
    hiring: Literal["replace", "none"] | HiringPlan = "replace"
    hire_lead_months: Months = 0
    learning_months: Annotated[float, Field(ge=0.0, le=60.0, allow_inf_nan=False)] = 0.0
    new_hire_speed: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    coached_by: str | None = None
    coaching_hours_per_hire: Annotated[float, Field(ge=0.0, le=2000.0,
                                                    allow_inf_nan=False)] = 0.0
    cuts: Literal["at_once", "attrition"] | None = None

    @field_validator("hiring", mode="before")
    @classmethod
    def _words(cls, v: object) -> object:
        if isinstance(v, str) and v not in ("replace", "none"):
            raise ValueError(f"expected replace, none or {{plan: {{month: hires}}}}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _coach(self) -> TierWorkforce:
        if self.coaching_hours_per_hire > 0 and self.coached_by is None:
            raise ValueError("coaching_hours_per_hire needs coached_by: the tier whose time "
                             "the coaching takes")
        return self

    @property
    def monthly_leave_share(self) -> float:
        return 1.0 - (1.0 - self.attrition_per_year) ** (1.0 / 12.0)

    @property
    def cut_mode(self) -> str:
        if self.cuts is not None:
            return self.cuts
        return "attrition" if self.hiring == "none" else "at_once"

    def speed_at(self, age_months: int) -> float:
        """Mean speed in the ``age_months``-th month after joining (0: the month joined)."""
        lm = self.learning_months
        if lm <= 0 or age_months + 0.5 >= lm or self.new_hire_speed == 1.0:
            return 1.0
        s0 = self.new_hire_speed
        return s0 + (1.0 - s0) * (age_months + 0.5) / lm


@dataclass
class TierPath:
    """One tier's months 0..H (index = month; month 0: the baseline's state)."""

    plan: list[float]
    headcount: list[float] = field(default_factory=list)
    leavers: list[float] = field(default_factory=list)
    hires: list[float] = field(default_factory=list)
    new_hire_share: list[float] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)


def tier_path(spec: TierWorkforce, plan: list[float]) -> TierPath:
    """Months 0..len(plan)-1 of one tier whose plan headcount is ``plan[m]``."""
    q = spec.monthly_leave_share
    lead = spec.hire_lead_months
    horizon = len(plan) - 1
    veterans = float(plan[0])
    cohorts: dict[int, float] = {}           # hire month -> heads still there
    arriving: dict[int, float] = {}          # month -> requested heads joining then
    if isinstance(spec.hiring, HiringPlan):
        arriving = {int(k): float(v) for k, v in spec.hiring.plan.items()}
    out = TierPath(plan=[float(x) for x in plan], headcount=[veterans], leavers=[0.0],
                   hires=[0.0], new_hire_share=[0.0], speed=[1.0])
    pending = 0.0                            # requested, not yet joined (replace)
    for m in range(1, horizon + 1):
        head = veterans + sum(cohorts.values())
        left = head * q
        veterans *= 1.0 - q
        cohorts = {k: n * (1.0 - q) for k, n in cohorts.items()}
        head -= left
        target = float(plan[m])
        if spec.cut_mode == "at_once" and head > target + 1e-9:
            cut = head - target
            keep = target / head if head > 0 else 0.0
            veterans *= keep
            cohorts = {k: n * keep for k, n in cohorts.items()}
            left += cut
            head = target
        joined = 0.0
        if spec.hiring == "replace":
            joined = arriving.pop(m, 0.0)
            pending -= joined
            gap = target - head - joined - pending
            if gap > 1e-9:
                if lead == 0:
                    joined += gap
                else:
                    arriving[m + lead] = arriving.get(m + lead, 0.0) + gap
                    pending += gap
        else:
            joined = arriving.get(m, 0.0)
        if joined > 0:
            cohorts[m] = cohorts.get(m, 0.0) + joined
        head = veterans + sum(cohorts.values())
        if abs(head - target) <= 1e-9 * max(target, 1.0):
            head = target            # at the plan (not 62.00000000000001)
        slow = sum(n * (1.0 - spec.speed_at(m - k)) for k, n in cohorts.items())
        learning = sum(n for k, n in cohorts.items()
                       if spec.learning_months > 0 and m - k < spec.learning_months)
        out.headcount.append(head)
        out.leavers.append(left)
        out.hires.append(joined)
        out.new_hire_share.append(learning / head if head > 0 else 0.0)
        out.speed.append(1.0 - slow / head if head > 0 and slow > 0 else 1.0)
    return out


@dataclass
class WorkforcePath:
    """Every tier of ``workforce:`` over months 0..H, and the coaching each coach gives."""

    tiers: dict[str, TierPath]
    coaching_hours: dict[str, list[float]]   # coach tier -> hours per month (index = month)

    @property
    def horizon(self) -> int:
        return len(next(iter(self.tiers.values())).plan) - 1

    def ratio(self, tier: str, month: int) -> float:
        """Headcount over the plan's in ``month`` (1.0 where the plan has nobody)."""
        tp = self.tiers[tier]
        p = tp.plan[month]
        r = tp.headcount[month] / p if p > 0 else 1.0
        return 1.0 if abs(r - 1.0) < 1e-12 else r


def workforce_path(specs: dict[str, TierWorkforce], plans: dict[str, list[float]]
                   ) -> WorkforcePath:
    tiers = {t: tier_path(s, plans[t]) for t, s in specs.items()}
    horizon = len(next(iter(plans.values()))) - 1
    coaching: dict[str, list[float]] = {}
    for t, s in specs.items():
        if s.coached_by is None or s.coaching_hours_per_hire <= 0:
            continue
        hours = coaching.setdefault(s.coached_by, [0.0] * (horizon + 1))
        for m, n in enumerate(tiers[t].hires):
            hours[m] += n * s.coaching_hours_per_hire
    return WorkforcePath(tiers, coaching)


WORKFORCE_COLUMNS = ["month", "tier", "headcount", "leavers", "hires", "new_hire_share",
                     "speed"]


def workforce_rows(path: WorkforcePath) -> list[list[object]]:
    """workforce.csv rows: months 1..H, each tier of the block."""
    rows: list[list[object]] = []
    for m in range(1, path.horizon + 1):
        for t, tp in path.tiers.items():
            rows.append([m, t, tp.headcount[m], tp.leavers[m], tp.hires[m],
                         tp.new_hire_share[m], tp.speed[m]])
    return rows
