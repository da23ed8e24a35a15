"""Roadmap files (SPEC §4): budget phases applied cumulatively on a baseline scenario.

Loading resolves every phase into a scenario (the phase's ``set`` on top of the previous
phases'), validates each, and lists the *points* to simulate: the baseline, each phase's
final state, and for a phase with ``ramp: true`` intermediate points in between
(``ramp_points``, default 2), where every number the phase changes moves linearly from its
value before the phase to its new value. All points run with the baseline's seed and
replication count (common random numbers).

With ``workforce:`` (SPEC §7.7, sim/decide/roadmap_workforce.py) the points after the baseline
are months holding their month's workforce, plus the states above as planned
(``<state>~plan``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, field_validator, model_validator

from sim.base.errors import InputError
from sim.base.limits import MAX_YAML_BYTES
from sim.base.paths import file_sha256
from sim.decide.roadmap_workforce import PLANNED, check_workforce, workforce_points
from sim.decide.workforce import TierWorkforce
from sim.inputs.config import Name, Scenario, Target, _Strict
from sim.inputs.extends import resolve_extends
from sim.inputs.overrides import apply_overrides, matches
from sim.inputs.overrides import resolve as resolve_overrides
from sim.inputs.scenario import LoadedScenario, load_scenario, validate_mapping
from sim.inputs.validation import input_error_from_validation, model_allowed_keys
from sim.inputs.yamlio import LineMap, locate

BASELINE = "baseline"


class Phase(_Strict):
    name: Name
    months: Annotated[int, Field(ge=1, le=240)]
    investment: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0  # spread evenly
    description: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)  # dotted path -> value, as variants
    ramp: bool = False            # reach the new values linearly over the phase's months
    ramp_points: Annotated[int, Field(ge=1, le=12)] | None = None  # default: the file's

    @field_validator("set")
    @classmethod
    def _settable(cls, v: dict[str, Any]) -> dict[str, Any]:
        fixed = [k for k in v if k.split(".")[0] in ("name", "seed", "replications",
                                                      "variants")]
        if fixed:
            raise ValueError(f"'{fixed[0]}' cannot change in a phase: every phase runs with "
                             "the baseline's name, seed and replications (common random "
                             "numbers) and has no variants")
        return v

    @field_validator("name")
    @classmethod
    def _not_baseline(cls, v: str) -> str:
        if v == BASELINE:
            raise ValueError("'baseline' names the starting point; choose another phase name")
        return v


class Economics(_Strict):
    """Money over the months (SPEC §7.7): wage growth, volume growth, discounting."""

    wage_growth_per_year: Annotated[float, Field(ge=-0.5, le=1.0, allow_inf_nan=False)] = 0.0
    volume_growth_per_year: Annotated[float, Field(ge=-0.5, le=1.0, allow_inf_nan=False)] = 0.0
    discount_rate_per_year: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0


class Roadmap(_Strict):
    roadmap: Name
    description: str | None = None
    baseline: str                                 # scenario file, relative to this file
    phases: Annotated[list[Phase], Field(min_length=1)]
    targets: list[Target] | None = None           # default: the baseline's
    horizon_months: Annotated[int, Field(ge=1, le=240)] | None = None  # default below
    ramp_points: Annotated[int, Field(ge=1, le=12)] = 2
    currency: str | None = None                   # default: the baseline's
    economics: Economics | None = None            # wage/volume growth, discounting
    workforce: dict[Name, TierWorkforce] | None = None  # SPEC §7.7, sim/decide/workforce.py
    # extra months simulated with workforce:, at most; "all": every month (no interpolation)
    workforce_points: Annotated[int, Field(ge=0, le=240)] | Literal["all"] = 8
    uncertain: dict[str, Any] | None = None       # SPEC §7.6: checked by sim/inputs/uncertain.py
    draws: Annotated[int, Field(ge=1, le=4096)] | None = None
    # replications of every state (default: the baseline's); --reps overrides
    replications: Annotated[int, Field(ge=1, le=1000)] | None = None

    @model_validator(mode="after")
    def _distinct(self) -> Roadmap:
        if self.total_months > 240:
            raise ValueError(f"the phases last {self.total_months} months; at most 240")
        names = [p.name for p in self.phases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"phase names must differ: {', '.join(twice)} appear twice")
        return self

    @property
    def total_months(self) -> int:
        return sum(p.months for p in self.phases)

    @property
    def horizon(self) -> int:
        """Months evaluated: the file's ``horizon_months``, else the roadmap plus a year
        (at least 60 months, a five-year business case)."""
        return self.horizon_months or max(60, self.total_months + 12)


@dataclass(frozen=True)
class Point:
    """One simulated state: the baseline, a phase's end, or a ramp step inside a phase."""

    variant: str          # "baseline", the phase name, "<phase>@<month>"; "<state>~<m>":
                          # the same state at the volume of month m (volume growth)
    phase: str            # the phase it belongs to ("baseline" for the baseline)
    month: int            # months after the roadmap start at which this state holds
    scenario: Scenario
    state: str = ""       # the state's name without "~<m>" (default: variant)
    volume_month: int = 0  # month whose arrival rates it has (with volume growth)

    @property
    def state_name(self) -> str:
        return self.state or self.variant


@dataclass(frozen=True)
class LoadedRoadmap:
    path: Path
    roadmap: Roadmap
    baseline: LoadedScenario
    points: list[Point]
    raw: dict
    file_hash: str
    workforce: Any = None     # sim.decide.roadmap_workforce.WorkforceRun with ``workforce:``

    def phase_end(self, name: str) -> int:
        end = 0
        for p in self.roadmap.phases:
            end += p.months
            if p.name == name:
                return end
        raise KeyError(name)


def load_roadmap(path: str | Path, reps: int | None = None, seed: int | None = None,
                 overrides: list[tuple[str, object]] | None = None) -> LoadedRoadmap:
    """Load and resolve a roadmap; ``overrides`` (e.g. ``--set horizon_hours=24``) apply
    to the baseline scenario before the phases."""
    return build_roadmap(read_roadmap(path, overrides), reps, seed)


@dataclass(frozen=True)
class RoadmapFile:
    """A roadmap file read and checked, its baseline loaded; not yet resolved."""

    path: Path
    data: dict
    linemap: LineMap
    roadmap: Roadmap
    baseline: LoadedScenario


def read_roadmap(path: str | Path, overrides: list[tuple[str, object]] | None = None
                 ) -> RoadmapFile:
    p = Path(path)
    file = str(p)
    # a roadmap may extend another (extension); a parent must be a roadmap file
    data, linemap = resolve_extends(p, top_keys=Roadmap.model_fields)
    rm = validate_roadmap(data, file, linemap)
    where = linemap.get(("baseline",), (file, None))  # relative to its file; sim.base.paths
    base_path = Path(where[0]).parent / rm.baseline
    base = load_scenario(base_path, overrides or [], origin=(where[0], where[1], "baseline"))
    if rm.workforce:
        check_workforce(rm, base.scenario, file, linemap)
    return RoadmapFile(p, data, linemap, rm, base)


def validate_roadmap(data: dict, file: str, linemap: LineMap) -> Roadmap:
    try:
        return Roadmap.model_validate(data)
    except pydantic.ValidationError as err:
        raise input_error_from_validation(err, file=file, linemap=linemap,
                                          allowed_keys=model_allowed_keys(Roadmap),
                                          data=data) from None


def build_roadmap(rf: RoadmapFile, reps: int | None = None, seed: int | None = None,
                  base_changes: list[tuple[str, object]] | None = None,
                  rm: Roadmap | None = None) -> LoadedRoadmap:
    """Resolve every state of a roadmap: the baseline (with ``base_changes``, e.g. one
    draw of uncertain baseline inputs), each phase's end and ramp points, and with volume
    growth the extra volume points. ``rm`` replaces the file's checked roadmap (a draw)."""
    p, data, linemap, base = rf.path, rf.data, rf.linemap, rf.baseline
    rm = rm or rf.roadmap
    file = str(p)
    default_reps = rm.replications or base.scenario.replications
    update: dict[str, Any] = {"seed": base.scenario.seed if seed is None else seed,
                              "replications": default_reps if reps is None else reps}
    plain = {k: v for k, v in base.raw.items() if k != "variants"}
    if base_changes:
        plain = apply_overrides(plain, base_changes)
    if rm.targets is not None:
        plain["targets"] = [t.model_dump(exclude_none=True) for t in rm.targets]
    if rm.currency is not None:
        plain["currency"] = rm.currency
    growth = rm.economics.volume_growth_per_year if rm.economics else 0.0
    horizon = rm.horizon
    states: list[tuple[str, str, int, dict, tuple[int, Phase] | None]] = [
        (BASELINE, BASELINE, 0, plain, None)]
    resolved_sets: list[dict[str, Any]] = []
    resolved: list[tuple[int, Phase, int, dict, dict, dict[str, Any]]] = []
    month = 0
    for i, phase in enumerate(rm.phases):
        after, concrete = _apply_set(plain, phase, i, file, linemap)
        resolved_sets.append(concrete)
        resolved.append((i, phase, month, plain, after, concrete))
        n = (phase.ramp_points or rm.ramp_points) if phase.ramp else 1
        months_at = sorted({month + round(j * phase.months / n) for j in range(1, n)}
                           - {month, month + phase.months}) + [month + phase.months]
        for at in months_at:  # a short phase has fewer distinct months than points
            f = (at - month) / phase.months   # the state at month `at` of a linear ramp
            state = after if f == 1.0 else _between(plain, after, concrete, f)
            variant = phase.name if f == 1.0 else f"{phase.name}@{at}"
            states.append((variant, phase.name, at, state, (i, phase)))
        plain = after
        month += phase.months
    points = []
    run = None
    planned = states[1:]
    if rm.workforce:
        states = states[:1]   # the baseline; every later state holds its month's workforce
    for variant, phase_name, at, state, ph in states:
        own = max(at, 1)
        for vm in volume_months(rm, variant, phase_name, at, horizon) if growth else [own]:
            sc = state if vm == 1 or not growth else _scaled(state, volume_factor(growth, vm))
            name = variant if vm == own else f"{variant}~{vm}"
            points.append(Point(name, phase_name, at, _validated(
                sc, update, base, file, linemap, ph), variant, vm))
    if rm.workforce:
        points, run = _workforce(rm, points, resolved, growth, update, base, file, linemap)
        for variant, phase_name, at, state, ph in planned:  # as planned: no workforce
            sc = state if not growth else _scaled(state, volume_factor(growth, max(at, 1)))
            name = f"{variant}{PLANNED}"
            points.append(Point(name, phase_name, at, _validated(
                sc, update, base, file, linemap, ph), name, max(at, 1)))
    digest = file_sha256(p, MAX_YAML_BYTES)
    raw = copy.deepcopy(data)
    for ph_raw, concrete in zip(raw.get("phases") or [], resolved_sets, strict=False):
        if isinstance(ph_raw, dict) and ph_raw.get("set"):
            ph_raw["set"] = concrete   # scenario.yaml holds resolved numbers (SPEC §7.5)
    return LoadedRoadmap(p, rm, base, points, raw, digest, run)


def _workforce(rm: Roadmap, points: list[Point], resolved: list, growth: float,
               update: dict, base: LoadedScenario, file: str, linemap: LineMap
               ) -> tuple[list[Point], Any]:
    """The baseline's points and one point per simulated month of the workforce."""
    start_state = resolved[0][3]

    def phase_at(m: int) -> tuple[int, Phase, int, dict, dict, dict] | None:
        for r in resolved:
            if r[2] < m <= r[2] + r[1].months:
                return r
        return None

    def plan_state(m: int) -> dict:
        r = phase_at(m)
        if m == 0:
            return start_state
        if r is None:
            return resolved[-1][4]
        _, ph, start, before, after, concrete = r
        f = (m - start) / ph.months
        return after if f == 1.0 or not ph.ramp else _between(before, after, concrete, f)

    def validate(state: dict, m: int) -> Scenario:
        sc = state if not growth else _scaled(state, volume_factor(growth, m))
        r = phase_at(m) or (resolved[-1] if m else None)
        return _validated(sc, update, base, file, linemap, r[:2] if r else None)

    made, run = workforce_points(rm, plan_state, points[0].scenario, validate)
    return points + [Point(v, ph, m, sc, v, max(m, 1)) for v, ph, m, sc in made], run


def volume_factor(growth_per_year: float, month: int) -> float:
    """Arrival rates of month m are multiplied by (1 + v)^((m - 1) / 12) (SPEC §7.7)."""
    return (1.0 + growth_per_year) ** ((month - 1) / 12.0)


def volume_months(rm: Roadmap, variant: str, phase: str, at: int, horizon: int) -> list[int]:
    """Months at whose volume a state is simulated under volume growth: the month it is
    reported at (``at``, the baseline at month 1), and the first and last month it is
    used in if it holds over several months (the monthly cost is interpolated linearly in
    the volume factor between them; see sim/decide/economics.py)."""
    own = max(at, 1)
    if variant == BASELINE:
        return sorted({own, horizon})
    if variant != phase:           # a ramp point: used at its own month only
        return [own]
    start, last = 0, rm.phases[-1].name == phase
    for ph in rm.phases:
        if ph.name == phase:
            first = start + 1 if not ph.ramp else own
            end = horizon if last else own
            return sorted({m for m in (first, own, end) if m <= max(horizon, own)})
        start += ph.months
    return [own]


def _scaled(state: dict, factor: float) -> dict:
    """The state with every channel's arrival rates multiplied by ``factor``."""
    out = copy.deepcopy(state)
    for ch in (out.get("channels") or {}).values():
        arr = ch.get("arrivals") if isinstance(ch, dict) else None
        if not isinstance(arr, dict):
            continue
        if isinstance(arr.get("rate_per_hour"), int | float):
            arr["rate_per_hour"] = arr["rate_per_hour"] * factor
        if isinstance(arr.get("profile_per_hour"), list):
            arr["profile_per_hour"] = [x * factor for x in arr["profile_per_hour"]]
    return out


def _apply_set(plain: dict, phase: Phase, i: int, file: str, linemap: LineMap
               ) -> tuple[dict, dict[str, Any]]:
    """The previous state with the phase's ``set`` applied (wildcards and relative changes
    resolved against that state), and the concrete changes; a bad path names the line."""
    try:
        after, concrete = resolve_overrides(plain, phase.set.items())
        return after, dict(concrete)
    except InputError as err:
        raise _phase_error(err, phase, i, file, linemap) from None


def _phase_error(err: InputError, phase: Phase, i: int, file: str,
                 linemap: LineMap) -> InputError:
    """An error in a phase's state, pointed at the roadmap line of the `set` entry that
    caused it (or at the phase)."""
    key = next((k for k in phase.set if err.path and (
        matches(k, err.path) or k.startswith(err.path + "."))), None)
    where = locate(linemap, ("phases", str(i), "set", key) if key else ("phases", str(i)))
    return InputError(f"in phase '{phase.name}': {err.message}",
                      file=where[0] if where else file, line=where[1] if where else None,
                      path=f"phases.{i}.set" + (f".{err.path}" if err.path else ""))


def _validated(state: dict, update: dict, base: LoadedScenario, file: str,
               linemap: LineMap, phase: tuple[int, Phase] | None) -> Scenario:
    """Validate a phase state; errors point at the phase's `set` line in the roadmap."""
    state = {**state, "name": base.scenario.name}
    try:
        sc = validate_mapping(state, file=str(base.path), linemap={})
    except InputError as err:
        if phase is None:  # only the roadmap's own targets can break the baseline
            where = locate(linemap, ("targets",))
            raise InputError(err.message, file=where[0] if where else file,
                             line=where[1] if where else None, path=err.path) from None
        i, ph = phase
        raise _phase_error(err, ph, i, file, linemap) from None
    return sc.model_copy(update=update)


def _between(before: dict, after: dict, changes: dict[str, Any], f: float) -> dict:
    """``after`` with every number under the changed paths moved only a fraction ``f`` of
    the way from ``before`` (counts such as agents are rounded); anything else takes the new
    value."""
    out = copy.deepcopy(after)
    for key in changes:
        old, new = _get(before, key), _get(after, key)
        out = apply_overrides(out, [(key, _mix(old, new, f, key.split(".")[-1]))])
    return out


def _get(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# keys whose values are counts: a ramp rounds them (money, rates and shares are not)
COUNT_KEYS = {"agents", "headcount", "agents_per_interval", "queue_capacity", "concurrency",
              "replications", "interval_minutes"}


def _mix(old: Any, new: Any, f: float, key: str) -> Any:
    if isinstance(new, bool) or isinstance(old, bool):
        return new
    if isinstance(new, int | float) and isinstance(old, int | float):
        value = old + f * (new - old)
        return round(value) if key in COUNT_KEYS else value
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: _mix(old.get(k), v, f, str(k)) for k, v in new.items()}
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_mix(a, b, f, key) for a, b in zip(old, new, strict=True)]
    return new
