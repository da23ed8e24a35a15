"""Overrides: dotted ``PATH=VALUE`` changes to a scenario mapping (variants, ``--set`` and a
roadmap phase's ``set``), with relative changes and wildcards (SPEC §7.5).

- A path segment ``*`` matches every key of a mapping (or every item of a list) at that
  level. Under a wildcard, a branch where a later segment (other than the last one) does
  not exist is skipped; the last segment may be new for an absolute value (it is set).
  A pattern that matches nothing is an error naming the path.
- A text value ``"*F"`` multiplies the current number by F; ``"+N"`` / ``"-N"`` add N
  to it (also ``"+10%"`` / ``"-10%"``: multiply by 1.1 / 0.9, an extension). The field
  must exist and hold a number (a wildcard branch where it is missing is skipped).
- A field that the scenario schema types as an integer (a count: agents, headcount,
  queue capacity, ...) gets the result rounded to the nearest integer, halves up.

:func:`resolve` applies a list of overrides and returns the concrete (path, value) pairs
it set, so results and later steps (ramps) see resolved numbers, not patterns.
"""

from __future__ import annotations

import copy
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sim.base.errors import InputError
from sim.inputs.yamlio import LineMap, _kind
from sim.inputs.yamlio import _show as _show_scalar

WILDCARD = "*"
_NUMBER = r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
RELATIVE = re.compile(rf"^\s*(?P<op>[*+-])\s*(?P<num>{_NUMBER})\s*(?P<pct>%)?\s*$")


def is_relative(value: object) -> bool:
    """A relative change: text ``*F``, ``+N``, ``-N`` (``+N%`` / ``-N%``)."""
    m = RELATIVE.match(value) if isinstance(value, str) else None
    return m is not None and not (m.group("op") == "*" and m.group("pct"))


def has_wildcard(dotted: str) -> bool:
    return WILDCARD in dotted.split(".")


def needs_resolving(dotted: str, value: object) -> bool:
    return has_wildcard(dotted) or is_relative(value)


def matches(pattern: str, path: str) -> bool:
    """Whether the concrete dotted ``path`` is ``pattern`` or lies under it (``*`` matches
    any one segment)."""
    pp, cp = pattern.split("."), path.split(".")
    if len(cp) < len(pp):
        return False
    return all(a == WILDCARD or a == b for a, b in zip(pp, cp, strict=False))


# --------------------------------------------------------------------------- expansion

def _child_keys(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [(str(k), k) for k in node]
    if isinstance(node, list):
        return [(str(i), i) for i in range(len(node))]
    return []


def _lookup(node: Any, part: str) -> tuple[bool, Any]:
    """(found, key) of ``part`` in a mapping / list node."""
    if isinstance(node, dict):
        for k in node:
            if str(k) == part:
                return True, k
        return False, part
    if isinstance(node, list) and re.fullmatch(r"\d+", part) and int(part) < len(node):
        return True, int(part)
    return False, part


def expand(data: Any, dotted: str, leaf_may_be_new: bool) -> list[list[str]]:
    """Concrete paths (lists of segments) that ``dotted`` matches in ``data``."""
    parts = dotted.split(".")
    out: list[list[str]] = []

    def walk(node: Any, depth: int, prefix: list[str]) -> None:
        part = parts[depth]
        last = depth == len(parts) - 1
        if part == WILDCARD:
            for name, key in _child_keys(node):
                if last:
                    out.append([*prefix, name])
                else:
                    walk(node[key], depth + 1, [*prefix, name])
            return
        found, key = _lookup(node, part)
        if last:
            if found or (leaf_may_be_new and isinstance(node, dict)):
                out.append([*prefix, part])
            return
        if found:
            walk(node[key], depth + 1, [*prefix, part])

    walk(data, 0, [])
    return out


# --------------------------------------------------------------------------- schema types

def _unwrap(tp: Any) -> list[Any]:
    """The non-None alternatives of a type (Optional / Union / Annotated stripped)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) if a is not type(None) for t in _unwrap(a)]
    return [tp]


def _annotated_bounds(tp: Any) -> list[Any]:
    """Constraint objects (annotated_types Ge/Gt/Le/Lt) of an Annotated type."""
    out: list[Any] = []
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        args = typing.get_args(tp)
        for meta in args[1:]:
            out += list(getattr(meta, "metadata", [])) or [meta]
        out += _annotated_bounds(args[0])
    elif origin in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            out += _annotated_bounds(a)
    return out


def field_type(model: Any, parts: list[str]) -> tuple[Any, list[Any]] | None:
    """(leaf type, its constraints) of a concrete path in a pydantic model, or None
    where the path leaves the schema (free-form mappings, unknown keys)."""
    from pydantic import BaseModel

    tp: Any = model
    constraints: list[Any] = []
    for part in parts:
        nxt = None
        for alt in _unwrap(tp):
            if isinstance(alt, type) and issubclass(alt, BaseModel):
                fi = alt.model_fields.get(part)
                if fi is not None:
                    nxt = fi.annotation
                    constraints = list(fi.metadata) + _annotated_bounds(fi.annotation)
                    break
            origin = typing.get_origin(alt)
            if origin is dict:
                nxt = typing.get_args(alt)[1]
                constraints = _annotated_bounds(nxt)
                break
            if origin is list:
                nxt = typing.get_args(alt)[0]
                constraints = _annotated_bounds(nxt)
                break
        if nxt is None:
            return None
        tp = nxt
    return tp, constraints


def is_count(model: Any, parts: list[str]) -> bool:
    """Whether the schema types this field as an integer (and not as a float)."""
    found = field_type(model, parts)
    if found is None:
        return False
    alts = _unwrap(found[0])
    return int in alts and float not in alts


def bounds(model: Any, parts: list[str]) -> tuple[float, bool, float, bool] | None:
    """(low, low inclusive, high, high inclusive) of a numeric field, or None."""
    found = field_type(model, parts)
    if found is None:
        return None
    tp, cons = found
    if not any(t in (int, float) for t in _unwrap(tp)):
        return None
    lo, lo_in, hi, hi_in = -math.inf, True, math.inf, True
    for c in cons:
        for attr, inclusive, is_low in (("ge", True, True), ("gt", False, True),
                                        ("le", True, False), ("lt", False, False)):
            v = getattr(c, attr, None)
            if v is None:
                continue
            if is_low and v >= lo:
                lo, lo_in = float(v), inclusive
            elif not is_low and v <= hi:
                hi, hi_in = float(v), inclusive
    return lo, lo_in, hi, hi_in


def round_count(x: float) -> int:
    """Nearest integer, halves up (62 x 0.85 = 52.7 -> 53; 4.5 -> 5)."""
    return int(math.floor(round(x, 9) + 0.5))


# --------------------------------------------------------------------------- applying

def relative_value(current: Any, change: str, dotted: str) -> float:
    """``current`` changed by a relative text ``*F`` / ``+N`` / ``-N`` / ``+-N%``."""
    m = RELATIVE.match(change)
    assert m is not None
    if isinstance(current, bool) or not isinstance(current, int | float):
        what = "missing" if current is None else f"not a number ({_show(current)})"
        raise InputError(f"a relative change {change.strip()!r} needs a number to change, "
                         f"but the field is {what}; give an absolute value", path=dotted)
    num = float(m.group("num"))
    op = m.group("op")
    if m.group("pct"):
        return current * (1 + (num if op == "+" else -num) / 100.0)
    if op == "*":
        return current * num
    return current + num if op == "+" else current - num


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _get(data: Any, parts: list[str]) -> Any:
    node = data
    for part in parts:
        found, key = _lookup(node, part)
        if not found:
            return None
        node = node[key]
    return node


def resolve(data: dict, items: Iterable[tuple[str, object]], model: Any = None,
            ) -> tuple[dict, list[tuple[str, object]]]:
    """A deep copy of ``data`` with every override applied in order, and the concrete
    (dotted path, value) pairs set. ``model`` (default: the Scenario schema) types the
    fields for rounding counts."""
    if model is None:
        from sim.inputs.config import Scenario

        model = Scenario
    out = copy.deepcopy(data)
    done: list[tuple[str, object]] = []
    for dotted, value in items:
        if not isinstance(dotted, str) or not needs_resolving(dotted, value):
            set_dotted(out, dotted, copy.deepcopy(value))
            done.append((dotted, copy.deepcopy(value)))
            continue
        rel = is_relative(value)
        wild = has_wildcard(dotted)
        if any(not p.strip() for p in dotted.split(".")):
            set_dotted(out, dotted, value)  # raises the usual empty-part error
        paths = expand(out, dotted, leaf_may_be_new=not rel)
        if rel and wild:  # under a wildcard, a branch without the number is no match
            paths = [p for p in paths if _get(out, p) is not None]
        if not paths:
            raise InputError(_no_match(out, dotted, rel), path=dotted)
        for parts in paths:
            concrete = ".".join(parts)
            new: object = copy.deepcopy(value)
            if rel:
                x = relative_value(_get(out, parts), str(value), concrete)
                if not math.isfinite(x):
                    raise InputError(f"the relative change {str(value).strip()!r} gives "
                                     f"{x}, not a finite number", path=concrete)
                new = round_count(x) if is_count(model, parts) else x
            set_dotted(out, concrete, new)
            done.append((concrete, new))
    return out, done


def _no_match(data: Any, dotted: str, rel: bool) -> str:
    parts = dotted.split(".")
    node, where = data, []
    for part in parts[:-1]:
        if part == WILDCARD:
            break
        found, key = _lookup(node, part)
        if not found:
            known = ", ".join(n for n, _ in _child_keys(node)[:12]) or "nothing"
            return (f"nothing matches this path: '{'.'.join(where) or 'the top level'}' has "
                    f"no '{part}' (it has: {known})")
        node, where = node[key], [*where, part]
        if not isinstance(node, dict | list):
            return (f"nothing matches this path: '{'.'.join(where)}' is {_show(node)}, "
                    "not a mapping or list")
    if rel and not has_wildcard(dotted):
        return ("a relative change needs the field to exist in the scenario (it is not "
                "there; an omitted field takes its default): give an absolute value")
    return ("the wildcard '*' matches nothing here" + (
        " that holds a number to change" if rel else "") + "; check the path")


# --------------------------------------------------------------------------- dotted paths


def _split_path(dotted: str) -> list[str]:
    parts = dotted.split(".") if isinstance(dotted, str) else []
    if not parts or any(not part.strip() for part in parts):
        raise InputError(
            "the override path is empty or has an empty part; expected dotted names "
            "like channels.phone.arrivals.rate_per_hour", path=str(dotted) or None)
    return [part.strip() for part in parts]


def _find_key(mapping: Mapping, part: str) -> Any:
    """The key of ``mapping`` that ``part`` names (exact, else by str(); else part)."""
    if part in mapping:
        return part
    for key in mapping:
        if str(key) == part:
            return key
    return part


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``dotted == "a.b.c"``, in place.

    Missing (or null) intermediate mappings are created.  A numeric part indexes an
    existing list (``tiers.0.agents``).  Raises :class:`InputError` (with ``path=dotted``)
    for an empty path / empty part, or when it would descend into anything else.
    """
    parts = _split_path(dotted)
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[:depth]) or "the top level"
        if isinstance(node, dict):
            key = _find_key(node, part)
            if last:
                node[key] = value
                return
            if node.get(key) is None:
                node[key] = {}
            node = node[key]
        elif isinstance(node, list):
            if not re.fullmatch(r"\d+", part) or int(part) >= len(node):
                raise InputError(
                    f"cannot set it: '{where}' is a list of {len(node)} items, so the next "
                    f"part must be an index from 0 to {len(node) - 1}, not '{part}'",
                    path=dotted)
            if last:
                node[int(part)] = value
                return
            if node[int(part)] is None:
                node[int(part)] = {}
            node = node[int(part)]
        else:
            raise InputError(
                f"cannot set it: '{where}' is {_kind(node)} ({_show_scalar(node)}), not a mapping",
                path=dotted)


def parse_override(text: str) -> tuple[str, object]:
    """Parse a CLI ``PATH=VALUE``; the value is read as YAML (``0.7`` -> float,
    ``[a, b]`` -> list, ``abc`` -> str, empty -> None)."""
    if "=" not in text:
        raise InputError(f"override '{text}' must look like PATH=VALUE, "
                         "e.g. channels.phone.arrivals.rate_per_hour=120")
    dotted, _, raw = text.partition("=")
    dotted = dotted.strip()
    _split_path(dotted)
    if is_relative(raw):
        return dotted, raw.strip()
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"cannot read the override value {raw.strip()!r} as YAML: {problem}",
                         path=dotted) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InputError(f"cannot read the override value {raw.strip()!r}: {exc}",
                         path=dotted) from None
    return dotted, value


def apply_overrides(data: dict,
                    overrides: Mapping[str, object] | Iterable[tuple[str, object]]) -> dict:
    """Return a deep copy of ``data`` with every ``dotted path -> value`` applied in order
    (wildcards and relative changes: :func:`resolve`)."""
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    return resolve(data, items)[0]


def forget_paths(linemap: LineMap, dotted_paths: Iterable[str]) -> LineMap:
    """A copy of ``linemap`` without the entries at or under the given dotted paths --
    use it after applying overrides so errors in overridden values do not point at the
    (replaced) line of the file."""
    drop = [tuple(d.split(".")) for d in dotted_paths]
    return {p: where for p, where in linemap.items()
            if not any(len(p) >= len(d) and all(a in ("*", b) for a, b in zip(d, p[:len(d)],
                                                                               strict=True))
                       for d in drop)}
