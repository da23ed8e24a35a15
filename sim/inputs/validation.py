"""Turning pydantic validation errors into one-paragraph InputErrors with file and line.

The dotted path of the user's field is recovered from pydantic's ``loc`` (dropping its own
union/tag labels), the line from the YAML line map, and "did you mean" from the schema.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.base.errors import InputError
from sim.inputs.yamlio import LineMap, _show, locate

# --------------------------------------------------------------------------- validation

_TYPE_TAG = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_PRIMITIVE_TAGS = {"int", "float", "str", "bool", "none", "bytes", "list", "dict", "set",
                   "tuple", "decimal", "date", "datetime", "time", "timedelta",
                   "constrained-int", "constrained-float", "constrained-str"}
_NO_DATA = object()


def _internal(part: str) -> bool:
    """pydantic's own loc parts: 'function-after[...]', 'list[int]', '[key]', ..."""
    return any(c in part for c in "[]()")


def _type_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _PRIMITIVE_TAGS or bool(_TYPE_TAG.match(part)))


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, Mapping):
        if part in node:
            return True, node[part]
        for key in node:
            if str(key) == str(part):
                return True, node[key]
        return False, None
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _user_path(loc: Sequence[Any], err_type: str, data: Any, linemap: LineMap,
               prefix: tuple[str, ...]) -> tuple[str, ...]:
    """Keep only the parts of a pydantic ``loc`` that are keys / indices of user data."""
    parts = [p for p in loc
             if isinstance(p, int) and not isinstance(p, bool)
             or isinstance(p, str) and not _internal(p)]
    out: list[str] = []
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if node is not _NO_DATA:
            found, child = _child(node, part)
        else:
            found, child = (*prefix, *out, str(part)) in linemap, _NO_DATA
        if found:
            out.append(str(part))
            node = child
            continue
        if last:
            if err_type in ("missing", "extra_forbidden") or not _type_tag(part):
                out.append(str(part))
            continue
        if isinstance(node, Mapping | list | tuple):
            continue  # the data says this is not one of its keys: a union / tag label
        if node is _NO_DATA and (*prefix, *out, str(parts[i + 1])) in linemap:
            continue
        if _type_tag(part):
            continue
        out.append(str(part))
        node = _NO_DATA
    return tuple(out)


def input_error_from_validation(
    err: Any,
    *,
    file: str,
    linemap: LineMap,
    prefix: tuple[str, ...] = (),
    allowed_keys: Callable[[tuple[str, ...]], list[str] | None] | None = None,
    data: Any = _NO_DATA,
) -> InputError:
    """Turn every error of a :class:`pydantic.ValidationError` into one InputError (the
    first problem in file order, carrying the others in ``.others``). For each:

    - the ``loc`` becomes a dotted path of the user's keys / list indices (pydantic's own
      parts such as union member labels or ``function-after[...]`` are dropped; pass the
      validated ``data`` to make this exact), prefixed with ``prefix``;
    - the line is that of the longest prefix of the path found in ``linemap`` (so a missing
      field points at its parent mapping); the file is the one the line is in, else
      ``file``; no line when nothing is found;
    - the message is pydantic's, plus ``(got X)`` for a scalar input; ``extra_forbidden``
      becomes "unknown key 'x'" with "did you mean 'y'?" when ``allowed_keys(parent_path)``
      (e.g. :func:`model_allowed_keys`) knows a close name; ``missing`` becomes
      "required field missing" (dropped when an unknown key of the same mapping is
      hinted to be that field).
    """
    try:
        errors = err.errors(include_url=False)
    except Exception:  # not a pydantic error after all -- still never crash
        return InputError(str(err), file=file)
    if not errors:
        return InputError(str(err) or "invalid input", file=file)
    problems = [_one_error(e, file, linemap, tuple(prefix), allowed_keys, data)
                for e in _one_union_member(errors)]
    # an unknown key whose "did you mean" names a missing field of the same mapping says
    # it all: drop the separate "required field missing" for that field
    hinted = {(e.path.rpartition(".")[0], m.group(1)) for e in problems if e.path
              for m in [re.search(r"did you mean '([^']+)'", e.message)] if m}
    kept = [e for e in problems if not (e.message == "required field missing" and e.path
                                        and tuple(e.path.rpartition(".")[::2]) in hinted)]
    return InputError.of(kept or problems)


def _one_union_member(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic reports a value that fits no member of a union once per member; keep the
    member with the fewest problems (the one the user most likely meant)."""
    def split(loc: Sequence[Any]) -> tuple[tuple[Any, ...], Any] | None:
        for i, part in enumerate(loc):
            if isinstance(part, str) and (_internal(part) or _TYPE_TAG.match(part)
                                          or part in _PRIMITIVE_TAGS):
                return tuple(loc[:i]), part
        return None

    members: dict[tuple[Any, ...], dict[Any, int]] = {}
    for e in errors:
        at = split(tuple(e.get("loc", ())))
        if at is not None:
            count = members.setdefault(at[0], {})
            count[at[1]] = count.get(at[1], 0) + 1
    best = {k: min(v, key=lambda m: v[m]) for k, v in members.items() if len(v) > 1}
    kept = []
    for e in errors:
        at = split(tuple(e.get("loc", ())))
        if at is None or at[0] not in best or best[at[0]] == at[1]:
            kept.append(e)
    return kept


def _one_error(first: Mapping[str, Any], file: str, linemap: LineMap, prefix: tuple[str, ...],
               allowed_keys: Callable[[tuple[str, ...]], list[str] | None] | None,
               data: Any) -> InputError:
    """One pydantic error as an InputError (see :func:`input_error_from_validation`)."""
    err_type = str(first.get("type", ""))
    loc = tuple(first.get("loc", ()))
    user = (*prefix, *_user_path(loc, err_type, data, linemap, tuple(prefix)))
    where = locate(linemap, user)
    dotted = ".".join(user) or None

    if err_type == "missing":
        message = "required field missing"
    elif err_type == "extra_forbidden" and user:
        key = user[-1]
        message = f"unknown key '{key}'"
        allowed = None
        if allowed_keys is not None:
            try:
                allowed = allowed_keys(tuple(user[len(prefix):-1]))
            except Exception:
                allowed = None
        if allowed:
            close = difflib.get_close_matches(key, [str(a) for a in allowed], n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            elif len(allowed) <= 15:
                message += "; expected one of: " + ", ".join(sorted(map(str, allowed)))
    else:
        message = str(first.get("msg", "invalid value"))
        for lead in ("Value error, ", "Assertion failed, "):
            if message.startswith(lead):
                message = message[len(lead):]
        shown = _show(first.get("input"))
        if shown is not None:
            message += f" (got {shown})"
    if where is None:
        return InputError(message, file=file, path=dotted)
    return InputError(message, file=where[0], line=where[1], path=dotted)


def _expand(tp: Any) -> list[Any]:
    """Unwrap Annotated / Optional / unions into concrete candidate types."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _expand(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_expand(arg))
        return out
    if tp is type(None):
        return []
    return [tp]


def _is_model(tp: Any) -> bool:
    fields = getattr(tp, "model_fields", None)
    return isinstance(tp, type) and isinstance(fields, dict)


def _model_keys(model: Any) -> list[str]:
    names: list[str] = []
    for name, field in model.model_fields.items():
        names.append(name)
        for alias in (getattr(field, "alias", None), getattr(field, "validation_alias", None)):
            if isinstance(alias, str) and alias not in names:
                names.append(alias)
    return names


def _step(tp: Any, part: str) -> list[Any]:
    out: list[Any] = []
    for cand in _expand(tp):
        if _is_model(cand):
            for name, field in cand.model_fields.items():
                if part in (name, getattr(field, "alias", None),
                            getattr(field, "validation_alias", None)):
                    out.append(field.annotation)
                    break
            continue
        origin = typing.get_origin(cand)
        args = typing.get_args(cand)
        if origin is None or not args:
            continue
        if isinstance(origin, type) and issubclass(origin, Mapping):
            out.append(args[-1])
        elif origin is tuple:
            if re.fullmatch(r"\d+", part):
                if len(args) == 2 and args[1] is Ellipsis:
                    out.append(args[0])
                elif int(part) < len(args):
                    out.append(args[int(part)])
        elif isinstance(origin, type) and issubclass(origin, Sequence | set | frozenset):
            if re.fullmatch(r"\d+", part):
                out.append(args[0])
    return out


def model_allowed_keys(model: Any) -> Callable[[tuple[str, ...]], list[str] | None]:
    """An ``allowed_keys`` callable for :func:`input_error_from_validation`: the field
    names (and aliases) of the pydantic model found at a path below ``model`` (following
    nested models, lists, dicts, Optional and unions -- a union gives all members'
    fields), or None when the path does not lead to a model."""

    def allowed(path: tuple[str, ...]) -> list[str] | None:
        current: list[Any] = [model]
        for part in path:
            current = [nxt for tp in current for nxt in _step(tp, str(part))]
            if not current:
                return None
        names: list[str] = []
        for tp in current:
            for cand in _expand(tp):
                if _is_model(cand):
                    names.extend(n for n in _model_keys(cand) if n not in names)
        return names or None

    return allowed
