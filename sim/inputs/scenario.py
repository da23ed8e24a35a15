"""Loading a scenario file: YAML -> `extends:` -> schema -> cross-field checks -> variants.

Every problem becomes an :class:`~sim.base.errors.InputError` naming the file, the line where
known, the dotted path and what is expected.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pydantic

from sim.base.errors import InputError
from sim.base.limits import MAX_VARIANTS, MAX_YAML_BYTES
from sim.base.paths import file_sha256
from sim.inputs.config import Scenario
from sim.inputs.config_checks import semantic_issues
from sim.inputs.extends import resolve_extends
from sim.inputs.history import profile_from_csv
from sim.inputs.overrides import apply_overrides, forget_paths, matches
from sim.inputs.overrides import resolve as resolve_overrides
from sim.inputs.validation import input_error_from_validation, model_allowed_keys
from sim.inputs.yamlio import LineMap, check_bounds, locate

BASE = "base"


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    scenario: Scenario               # the scenario itself (variant "base")
    variants: dict[str, Scenario]    # each named variant, fully resolved
    raw: dict                        # the resolved mapping (after extends and overrides)
    file_hash: str

    def options(self) -> list[tuple[str, Scenario]]:
        """(variant name, scenario) pairs: "base" first, then the variants in file order."""
        return [(BASE, self.scenario), *self.variants.items()]


def validate_mapping(data: Mapping, *, file: str, linemap: LineMap,
                     prefix: tuple[str, ...] = ()) -> Scenario:
    """Bounds (sim.base.limits), schema and cross-field checks of one scenario mapping."""
    check_bounds(data, linemap, file, prefix)
    try:
        sc = Scenario.model_validate(data)
    except pydantic.ValidationError as err:
        raise input_error_from_validation(err, file=file, linemap=linemap, prefix=prefix,
                                          allowed_keys=model_allowed_keys(Scenario),
                                          data=data) from None
    issues = semantic_issues(sc)
    if issues:
        problems = []
        for path, message in issues:
            full = (*prefix, *path)
            where = locate(linemap, full)
            problems.append(InputError(message, file=where[0] if where else file,
                                       line=where[1] if where else None,
                                       path=".".join(full) or None))
        raise InputError.of(problems)
    return sc


def load_scenario(path: str | Path, overrides: Iterable[tuple[str, object]] = (),
                  origin: tuple[str, int | None, str] | None = None) -> LoadedScenario:
    """Load, resolve and validate a scenario file and its variants.

    ``overrides`` (dotted path, value) pairs, e.g. from ``--set``, apply before validation.
    ``origin`` = (file, line, field) when the path was given inside another file (a
    roadmap's ``baseline``): that file must then be a scenario file (sim.inputs.yamlio).
    """
    p = Path(path)
    data, linemap = resolve_extends(p, top_keys=Scenario.model_fields, origin=origin)
    overrides = list(overrides)
    if overrides:
        data = apply_overrides(data, overrides)
        linemap = forget_paths(linemap, [d for d, _ in overrides])
    file = str(p)
    _drop_null_variants(data)
    _load_history(data, linemap)
    base = validate_mapping(data, file=file, linemap=linemap)
    plain = {k: v for k, v in data.items() if k != "variants"}
    variants: dict[str, Scenario] = {}
    if isinstance(data.get("variants"), Mapping) and len(data["variants"]) > MAX_VARIANTS:
        raise _at(linemap, file, ("variants",), f"{len(data['variants']):,} variants; at most "
                  f"{MAX_VARIANTS:,} in one file (see Limits in docs/reference.md)")
    problems: list[InputError] = []   # of every variant, reported together
    for name, changes in (data.get("variants") or {}).items():
        if name == BASE:
            raise _at(linemap, file, ("variants", name), "'base' is the scenario itself; "
                      "choose another variant name")
        try:
            vdata, concrete = resolve_overrides(plain, changes.items())
            data["variants"][name] = dict(concrete)  # resolved numbers (SPEC §7.5)
            vdata["name"] = base.name
            variants[name] = validate_mapping(vdata, file=file,
                                              linemap=forget_paths(linemap, changes))
        except InputError as err:
            err = _variant_error(err, name, changes, linemap, file)
            problems += [err, *err.others]
    if problems:
        raise InputError.of(problems)
    return LoadedScenario(p, base, variants, copy.deepcopy(data),
                          file_sha256(p, MAX_YAML_BYTES))


def _drop_null_variants(data: dict) -> None:
    """``variants: null`` (or ``variants: {name: null}``) in a file that extends another
    drops the inherited variants (or that one variant)."""
    if "variants" in data and data["variants"] is None:
        del data["variants"]
    elif isinstance(data.get("variants"), dict):
        data["variants"] = {k: v for k, v in data["variants"].items() if v is not None}


def _load_history(data: dict, linemap: LineMap) -> None:
    """Replace each channel's ``profile_file`` by the daily profile it gives (in place).

    The path is relative to the file that declared it (which may be an ``extends`` parent).
    The source file stays on record as ``profile_source``.
    """
    interval = data.get("interval_minutes", 30)
    if not isinstance(interval, int) or interval <= 0 or 1440 % interval:
        return  # the schema reports it
    channels = data.get("channels")
    for cname, ch in (channels.items() if isinstance(channels, Mapping) else ()):
        arr = ch.get("arrivals") if isinstance(ch, dict) else None
        if not isinstance(arr, dict) or not isinstance(arr.get("profile_file"), str):
            continue
        key = ("channels", cname, "arrivals", "profile_file")
        where = linemap.get(key)
        base_dir = Path(where[0]).parent if where else Path(".")
        csv = base_dir / arr["profile_file"]
        others = [k for k in ("rate_per_hour", "profile_per_hour") if arr.get(k) is not None]
        if others:
            raise _at(linemap, str(csv), key[:-1], "give exactly one of rate_per_hour, "
                      f"profile_per_hour or profile_file (got profile_file, {others[0]})")
        arr["profile_per_hour"] = profile_from_csv(
            csv, interval, origin=(where[0] if where else "", where[1] if where else None,
                                   ".".join(key)))
        csv = Path(os.path.realpath(csv))
        arr["profile_source"] = str(csv)
        del arr["profile_file"]


def _at(linemap: LineMap, file: str, path: tuple[str, ...], message: str) -> InputError:
    where = locate(linemap, path)
    return InputError(message, file=where[0] if where else file,
                      line=where[1] if where else None, path=".".join(path))


def _variant_error(err: InputError, name: str, changes: Mapping[str, object],
                   linemap: LineMap, file: str) -> InputError:
    """Point each problem inside a variant at the override line that caused it."""
    return InputError.of([_variant_problem(e, name, changes, linemap, file)
                          for e in [err, *err.others]])


def _variant_problem(err: InputError, name: str, changes: Mapping[str, object],
                     linemap: LineMap, file: str) -> InputError:
    where = None
    for key in changes:
        if err.path and (matches(key, err.path) or key.startswith(err.path + ".")):
            where = linemap.get(("variants", name, key))
            break
    if where is None:
        where = linemap.get(("variants", name))
    return InputError(f"in variant '{name}': {err.message}",
                      file=where[0] if where else (err.file or file),
                      line=where[1] if where else err.line, path=err.path)
