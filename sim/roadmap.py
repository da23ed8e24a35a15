"""Roadmap files (SPEC §4): budget phases applied cumulatively on a baseline scenario.

Loading resolves every phase into a scenario (the phase's ``set`` on top of the previous
phases'), validates each, and lists the *points* to simulate: the baseline, each phase's
final state, and for a phase with ``ramp: true`` intermediate points in between
(``ramp_points``, default 2), where every number the phase changes moves linearly from its
value before the phase to its new value. All points run with the baseline's seed and
replication count (common random numbers).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import Field, field_validator, model_validator

from sim.config import Name, Scenario, Target, _Strict
from sim.errors import InputError
from sim.limits import MAX_YAML_BYTES
from sim.paths import file_sha256
from sim.scenario import LoadedScenario, load_scenario, validate_mapping
from sim.validation import input_error_from_validation, model_allowed_keys
from sim.yamlio import LineMap, apply_overrides, load_yaml, locate

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


class Roadmap(_Strict):
    roadmap: Name
    description: str | None = None
    baseline: str                                 # scenario file, relative to this file
    phases: Annotated[list[Phase], Field(min_length=1)]
    targets: list[Target] | None = None           # default: the baseline's
    horizon_months: Annotated[int, Field(ge=1, le=240)] | None = None  # default below
    ramp_points: Annotated[int, Field(ge=1, le=12)] = 2
    currency: str | None = None                   # default: the baseline's

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

    variant: str          # "baseline", the phase name, or "<phase>@<month>"
    phase: str            # the phase it belongs to ("baseline" for the baseline)
    month: int            # months after the roadmap start at which this state holds
    scenario: Scenario


@dataclass(frozen=True)
class LoadedRoadmap:
    path: Path
    roadmap: Roadmap
    baseline: LoadedScenario
    points: list[Point]
    raw: dict
    file_hash: str

    def phase_end(self, name: str) -> int:
        end = 0
        for p in self.roadmap.phases:
            end += p.months
            if p.name == name:
                return end
        raise KeyError(name)


def is_roadmap_file(data: dict) -> bool:
    return "roadmap" in data or "phases" in data


def load_roadmap(path: str | Path, reps: int | None = None, seed: int | None = None,
                 overrides: list[tuple[str, object]] | None = None) -> LoadedRoadmap:
    """Load and resolve a roadmap; ``overrides`` (e.g. ``--set horizon_hours=24``) apply
    to the baseline scenario before the phases."""
    p = Path(path)
    file = str(p)
    data, linemap = load_yaml(p)
    try:
        rm = Roadmap.model_validate(data)
    except pydantic.ValidationError as err:
        raise input_error_from_validation(err, file=file, linemap=linemap,
                                          allowed_keys=model_allowed_keys(Roadmap),
                                          data=data) from None
    base_path = p.parent / rm.baseline
    where = linemap.get(("baseline",), (file, None))  # a path given in a file: sim.paths
    base = load_scenario(base_path, overrides or [], origin=(where[0], where[1], "baseline"))
    update: dict[str, Any] = {"seed": base.scenario.seed if seed is None else seed,
                              "replications": (base.scenario.replications if reps is None
                                               else reps)}
    plain = {k: v for k, v in base.raw.items() if k != "variants"}
    if rm.targets is not None:
        plain["targets"] = [t.model_dump(exclude_none=True) for t in rm.targets]
    if rm.currency is not None:
        plain["currency"] = rm.currency
    points = [Point(BASELINE, BASELINE, 0, _validated(plain, update, base, file, linemap,
                                                       None))]
    month = 0
    for i, phase in enumerate(rm.phases):
        after = _apply_set(plain, phase, i, file, linemap)
        n = (phase.ramp_points or rm.ramp_points) if phase.ramp else 1
        months_at = sorted({month + round(j * phase.months / n) for j in range(1, n)}
                           - {month, month + phase.months}) + [month + phase.months]
        for at in months_at:  # a short phase has fewer distinct months than points
            f = (at - month) / phase.months   # the state at month `at` of a linear ramp
            state = after if f == 1.0 else _between(plain, after, phase.set, f)
            variant = phase.name if f == 1.0 else f"{phase.name}@{at}"
            points.append(Point(variant, phase.name, at, _validated(
                state, update, base, file, linemap, (i, phase))))
        plain = after
        month += phase.months
    digest = file_sha256(p, MAX_YAML_BYTES)
    return LoadedRoadmap(p, rm, base, points, data, digest)


def _apply_set(plain: dict, phase: Phase, i: int, file: str, linemap: LineMap) -> dict:
    """The previous state with the phase's ``set`` applied; a bad path names the line."""
    try:
        return apply_overrides(plain, phase.set.items()) if phase.set else copy.deepcopy(plain)
    except InputError as err:
        raise _phase_error(err, phase, i, file, linemap) from None


def _phase_error(err: InputError, phase: Phase, i: int, file: str,
                 linemap: LineMap) -> InputError:
    """An error in a phase's state, pointed at the roadmap line of the `set` entry that
    caused it (or at the phase)."""
    key = next((k for k in phase.set if err.path and (
        err.path == k or err.path.startswith(k + ".") or k.startswith(err.path + "."))), None)
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
