"""A roadmap with ``workforce:`` (SPEC §7.7): its checks against the baseline's tiers, the
workforce month by month (sim/decide/workforce.py), the months simulated with it
(sim/decide/workforce_states.py) and the monthly KPIs and costs interpolated between them.

With ``workforce:`` every state simulated after month 0 holds the workforce of its month:
the end of each phase (named after the phase, as without the block, so the phase tables
stay), ramp points and the extra months ``<phase>@<month>`` (``after@<month>`` once the
phases are over). The baseline (month 0) is the operation before the roadmap: the plan's
headcount, all trained, and the comparison of the economics. A month that is not
simulated takes its costs and KPIs linearly between the simulated months around it
(there is always a simulated month on each side of a phase's step, so no month mixes
two phases' states); with volume growth each state is simulated at its own month's
volume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.base.errors import InputError
from sim.decide.workforce import WorkforcePath, workforce_path
from sim.decide.workforce_states import (
    apply_workforce,
    coach_share,
    knot_months,
    on_queue_hours_per_month,
    plan_heads,
)
from sim.inputs.config import Scenario
from sim.inputs.yamlio import LineMap, locate

BASELINE = "baseline"
PLANNED = "~plan"   # a state of the roadmap as planned (no workforce): "<state>~plan"


@dataclass
class WorkforceRun:
    """The workforce of a roadmap and the months simulated with it."""

    path: WorkforcePath
    knots: dict[int, str]                       # simulated month -> variant
    phase_of: dict[int, str]                    # month -> phase ("after" past the last)
    coaching: list[dict] = field(default_factory=list)  # per (month, coach): hours
    plan_months: int = 0
    planned: dict[int, tuple[str, str, float]] = field(default_factory=dict)  # as planned

    def meta(self) -> dict:
        return {"simulated_months": sorted(self.knots), "coaching": self.coaching,
                "plan_headcount": {t: tp.plan[1:] for t, tp in self.path.tiers.items()}}


def check_workforce(rm, sc: Scenario, file: str, linemap: LineMap) -> None:  # noqa: ANN001
    """Tier names against the baseline's tiers (the schema checked the numbers)."""
    if not rm.workforce:
        return

    def fail(msg: str, *path: str) -> InputError:
        where = locate(linemap, ("workforce", *path))
        return InputError(msg, file=where[0] if where else file,
                          line=where[1] if where else None, path=".".join(("workforce",
                                                                            *path)))

    tiers = list(sc.tiers)
    if rm.uncertain:
        raise fail("workforce: and uncertain: cannot be combined yet; run the workforce "
                   "without the uncertain: block")
    for name, spec in rm.workforce.items():
        if name not in tiers:
            raise fail(f"{name!r} is not a tier of the baseline (tiers: {', '.join(tiers)})",
                       name)
        if spec.coached_by is not None and spec.coached_by not in tiers:
            raise fail(f"coached_by must be a tier of the baseline (tiers: "
                       f"{', '.join(tiers)}), got {spec.coached_by!r}", name, "coached_by")
        plan = getattr(spec.hiring, "plan", None) or {}
        late = [m for m in plan if m > max(rm.horizon, rm.total_months)]
        if late:
            raise fail(f"hiring plan month {late[0]} is after the roadmap's last month "
                       f"({max(rm.horizon, rm.total_months)})", name, "hiring", "plan",
                       str(late[0]))


def phase_months(rm) -> dict[int, str]:  # noqa: ANN001
    out, start = {}, 0
    for ph in rm.phases:
        for m in range(start + 1, start + ph.months + 1):
            out[m] = ph.name
        start += ph.months
    return out


def fixed_knots(rm) -> set[int]:  # noqa: ANN001
    """Phase starts (no ramp), ramp points and phase ends."""
    out, start = set(), 0
    for ph in rm.phases:
        n = (ph.ramp_points or rm.ramp_points) if ph.ramp else 1
        out |= {start + round(j * ph.months / n) for j in range(1, n)}
        if not ph.ramp:
            out.add(start + 1)
        start += ph.months
        out.add(start)
    return out


def workforce_points(rm, plan_state: Callable[[int], dict], base_sc: Scenario,  # noqa: ANN001
                     validate: Callable[[dict, int], Scenario]
                     ) -> tuple[list[tuple[str, str, int, Scenario]], WorkforceRun]:
    """(variant, phase, month, scenario) of every simulated month after month 0, and the
    workforce. ``plan_state(m)``: the plan's state of month m (volume included);
    ``validate(state, m)``: the checked scenario of a state of month m."""
    months = max(rm.horizon, rm.total_months)
    minutes = base_sc.interval_minutes
    states = {m: plan_state(m) for m in range(months + 1)}
    plans = {t: [plan_heads(states[m], t, minutes) for m in range(months + 1)]
             for t in rm.workforce}
    path = workforce_path(rm.workforce, plans)
    scale = {c: on_queue_hours_per_month(base_sc, c) for c in path.coaching_hours}
    if rm.workforce_points == "all":
        knots = list(range(rm.horizon + 1))
    else:
        knots = knot_months(fixed_knots(rm), path, scale, rm.workforce_points, rm.horizon)
    knots = sorted(set(knots) | {k for k in fixed_knots(rm) if k <= months})
    phase_of = phase_months(rm)
    ends = {}
    start = 0
    for ph in rm.phases:
        start += ph.months
        ends[start] = ph.name
    out: list[tuple[str, str, int, Scenario]] = []
    run = WorkforceRun(path, {0: BASELINE}, phase_of, plan_months=months,
                       planned=planned_weights(rm))
    for m in knots:
        if m == 0:
            continue
        phase = phase_of.get(m, "after")
        variant = ends.get(m, f"{phase}@{m}")
        state = apply_workforce(states[m], path, m)
        sc = validate(state, m)
        for coach, hours in path.coaching_hours.items():
            if hours[m] <= 0:
                continue
            share, taken = coach_share(sc, coach, hours[m])
            state["tiers"][coach]["coaching_share"] = share
            run.coaching.append({"month": m, "tier": coach, "hours": hours[m],
                                 "taken_hours": taken, "coaching_share": share})
        if any(c["month"] == m for c in run.coaching):
            sc = validate(state, m)
        out.append((variant, phase, m, sc))
        run.knots[m] = variant
    return out, run


def planned_weights(rm) -> dict[int, tuple[str, str, float]]:  # noqa: ANN001
    """Month -> (state before, state after, weight of the one after) of the roadmap as
    planned (no workforce): a phase's end from its first month, a ramp linear between
    its points (as the economics without ``workforce:`` take them)."""
    out: dict[int, tuple[str, str, float]] = {}
    prev, start = (BASELINE, 0), 0
    for ph in rm.phases:
        end = start + ph.months
        n = (ph.ramp_points or rm.ramp_points) if ph.ramp else 1
        inner = sorted({start + round(j * ph.months / n) for j in range(1, n)}
                       - {start, end})
        knots = [prev] + [(f"{ph.name}@{m}{PLANNED}", m) for m in inner] + [
            (f"{ph.name}{PLANNED}", end)]
        for m in range(start + 1, end + 1):
            if not ph.ramp:
                out[m] = (knots[-1][0], knots[-1][0], 0.0)
                continue
            for (va, a), (vb, b) in zip(knots, knots[1:], strict=False):
                if a < m <= b:
                    out[m] = (va, vb, (m - a) / (b - a))
                    break
        prev, start = knots[-1], end
    out[0] = (BASELINE, BASELINE, 0.0)
    out[-1] = (prev[0], prev[0], 0.0)    # after the last phase
    return out
