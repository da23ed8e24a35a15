"""The uncertain inputs of a roadmap file (SPEC §7.6): which roadmap path each one names,
their checks, and the roadmap of one draw.

Paths: ``baseline.<scenario path>``, ``phases.<phase>.set.<scenario path>`` (replaces the
phase's own entries it matches; ``apply: multiply`` then scales the value before the
phase), ``phases.<phase>.investment`` / ``months``, and ``economics.<key>``. Running the
draws and their business cases is sim/decide/uncertain_roadmap.py.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from sim.base.errors import InputError
from sim.decide.roadmap import (
    BASELINE,
    Economics,
    LoadedRoadmap,
    Phase,
    Roadmap,
    RoadmapFile,
    build_roadmap,
    validate_roadmap,
)
from sim.inputs.overrides import expand, is_count, matches
from sim.inputs.uncertain import Uncertain, check_draws, check_support, parse_uncertain

__all__ = ["check_extremes", "draw_roadmap", "roadmap_inputs"]

PHASE_FIELDS = ("investment", "months")


def _target(rf: RoadmapFile, path: str) -> tuple[str, Any, list[str], str | None]:
    """(kind, schema model, field parts, phase name) of an uncertain roadmap path."""
    from sim.inputs.config import Scenario

    parts = path.split(".")
    names = [p.name for p in rf.roadmap.phases]
    if parts[0] == BASELINE and len(parts) > 1:
        return "baseline", Scenario, parts[1:], None
    if parts[0] == "economics" and len(parts) == 2:
        return "economics", Economics, parts[1:], None
    if parts[0] == "phases" and len(parts) >= 3:
        if parts[1] not in names:
            raise ValueError(f"there is no phase '{parts[1]}' (phases: {', '.join(names)})")
        if parts[2] == "set" and len(parts) > 3:
            return "set", Scenario, parts[3:], parts[1]
        if len(parts) == 3 and parts[2] in PHASE_FIELDS:
            return "phase", Phase, parts[2:], parts[1]
        raise ValueError(f"a phase's uncertain input is phases.{parts[1]}.set.<scenario "
                         f"path> or phases.{parts[1]}.investment / months")
    raise ValueError("a roadmap's uncertain path starts with baseline., phases.<phase>. "
                     "or economics.")


def roadmap_inputs(rf: RoadmapFile, draws: int | None
                   ) -> tuple[dict[str, Uncertain], int, list[bool]]:
    """The checked uncertain inputs, the number of draws, and which inputs are counts."""
    file = str(rf.path)
    dists = parse_uncertain(rf.data.get("uncertain"), file, rf.linemap)
    n = check_draws(draws if draws is not None else rf.roadmap.draws, file,
                    rf.linemap.get(("draws",), (file, None))[1])
    plain = {k: v for k, v in rf.baseline.raw.items() if k != "variants"}
    counts = []
    for p, dist in dists.items():
        line = rf.linemap.get(("uncertain", p), (file, None))[1]
        try:
            kind, model, parts, _ph = _target(rf, p)
        except ValueError as exc:
            raise InputError(str(exc), file=file, line=line, path=f"uncertain.{p}") from None
        concrete = expand(plain, ".".join(parts), True) if model.__name__ == "Scenario" \
            and kind in ("baseline", "set") else [parts]
        if kind == "baseline" and not expand(plain, ".".join(parts), dist.apply == "set"):
            raise InputError("this path matches nothing in the baseline scenario",
                             file=file, line=line, path=f"uncertain.{p}")
        for c in concrete or [parts]:
            check_support(p, dist, model, c, file, line)
        counts.append(bool(concrete) and all(is_count(model, c) for c in concrete))
    return dists, n, counts


def _with_draw(rf: RoadmapFile, dists: dict[str, Uncertain], x: np.ndarray,
               counts: list[bool]) -> tuple[dict, list[tuple[str, object]], list[str]]:
    """(roadmap data, baseline changes, shown values) of one draw."""
    data = copy.deepcopy(rf.data)
    base_changes: list[tuple[str, object]] = []
    shown = []
    for (p, dist), xi, count in zip(dists.items(), x, counts, strict=True):
        kind, _m, parts, ph = _target(rf, p)
        val = dist.value(float(xi), count)
        shown.append(f"{p} = {val}")
        rest = ".".join(parts)
        if kind == "baseline":
            base_changes.append((rest, val))
        elif kind == "economics":
            if not isinstance(data.get("economics"), dict):
                data["economics"] = {}
            data["economics"][rest] = val
        else:
            phase = next(q for q in data["phases"] if q.get("name") == ph)
            if kind == "phase":
                phase[rest] = round(float(val)) if rest == "months" else val  # type: ignore[arg-type]
            else:
                own = {k: v for k, v in (phase.get("set") or {}).items()
                       if not (k == rest or matches(rest, k))}
                own[rest] = val
                phase["set"] = own
    return data, base_changes, shown


def draw_roadmap(rf: RoadmapFile, dists: dict[str, Uncertain], x: np.ndarray,
                 counts: list[bool], reps: int | None, seed: int | None, what: str
                 ) -> tuple[LoadedRoadmap, Roadmap]:
    data, base_changes, shown = _with_draw(rf, dists, x, counts)
    file = str(rf.path)
    try:
        rm = validate_roadmap(data, file, rf.linemap)
        return build_roadmap(rf, reps, seed, base_changes, rm=rm), rm
    except InputError as err:
        key = next((p for p in dists if err.path and (
            matches(".".join(_target(rf, p)[2]), err.path.split(".set.")[-1])
            or err.path.endswith(p))), None)
        where = rf.linemap.get(("uncertain", key) if key else ("uncertain",), (file, None))
        raise InputError(f"{what} of the uncertain inputs ({'; '.join(shown)}) gives an "
                         f"invalid roadmap: {err.message}", file=where[0], line=where[1],
                         path=err.path) from None


def check_extremes(rf: RoadmapFile, dists: dict[str, Uncertain], counts: list[bool]) -> None:
    """Build the roadmap with each input at either end of its support (the others at
    their medians): a factor or a phase change that can leave a valid range is exit 2."""
    mid = np.array([d.nominal for d in dists.values()])
    for j, dist in enumerate(dists.values()):
        for end, v in zip(("low", "high"), dist.support, strict=True):
            if not math.isfinite(v):
                continue
            x = mid.copy()
            x[j] = v
            draw_roadmap(rf, dists, x, counts, None, None,
                         f"the {end} end of the support of uncertain.{list(dists)[j]}")
