"""``extends``: a scenario (or roadmap) file built on another one.

``extends: other.yaml`` (relative to the extending file) loads the other file first,
recursively, and deep-merges this file over it (:func:`deep_merge`); the LineMap points
each key at the file and line that gave its value. Cycles, depth beyond the limits and
files that are not scenarios are refused without quoting them (SPEC §7.1).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from sim.base.errors import InputError
from sim.base.limits import MAX_EXTENDS_DEPTH
from sim.inputs.yamlio import LineMap, _kind, load_yaml

__all__ = ["deep_merge", "resolve_extends"]


def deep_merge(parent: Mapping, child: Mapping) -> dict:
    """Merge two mappings: nested mappings merge key by key with the child winning;
    lists and scalars from the child replace the parent's."""
    merged, _ = _merge(parent, child, ())
    return merged


def _merge(parent: Mapping, child: Mapping,
           path: tuple[str, ...]) -> tuple[dict, set[tuple[str, ...]]]:
    """Deep-merge; also return the paths where the child's value replaced the parent's.

    ``key: null`` over an inherited key removes it (the field is back to its default:
    ``bot: null`` is no bot, ``channels: {email: null}`` drops the channel). A variant
    redefined under an inherited name replaces the parent's variant whole: a variant is
    one set of changes, not a mapping to merge.
    """
    out = dict(parent)
    replaced: set[tuple[str, ...]] = set()
    for key, value in child.items():
        sub = (*path, str(key))
        old = out.get(key)
        if value is None and key in out:
            del out[key]
            replaced.add(sub)
        elif (isinstance(value, Mapping) and isinstance(old, Mapping) and key in out
              and path != ("variants",)):
            out[key], more = _merge(old, value, sub)
            replaced |= more
        else:
            out[key] = value
            replaced.add(sub)
    return out, replaced


def resolve_extends(path: str | Path, *, top_keys: Iterable[str] | None = None,
                    origin: tuple[str, int | None, str] | None = None
                    ) -> tuple[dict, LineMap]:
    """Load ``path``; if it has a top-level ``extends: other.yaml`` (relative to the
    extending file), load that first (recursively) and deep-merge this file over it.

    The ``extends`` key is removed.  The LineMap points each path at the file and line
    that provided its value (child over parent).  A cycle raises :class:`InputError`.

    A file reached through a path given inside another file (``extends``, or ``origin``
    for e.g. a roadmap's baseline) is read with ``quote=False`` and, when ``top_keys`` is
    given, must be a scenario file: every top-level key one of ``top_keys``. Otherwise it
    is refused without quoting any of it (SPEC §7.1: no file disclosure).
    """
    keys = None if top_keys is None else {*top_keys, "extends"}
    return _resolve(Path(path), [], keys, origin)


def _not_a_scenario(data: dict, path: Path, keys: set[str] | None,
                    origin: tuple[str, int | None, str] | None) -> None:
    if keys is None or origin is None:
        return
    foreign = [k for k in data if k not in keys]
    if foreign:
        file, line, field = origin
        raise InputError(f"'{path}' is not a scenario file: {len(foreign)} of its "
                         f"{len(data)} top-level keys are not scenario settings (its content "
                         "is not shown)", file=file, line=line, path=field)


def _check_dropped_variants(data: dict, linemap: LineMap, file: str,
                            inherited: Mapping | None) -> None:
    """``variants: {name: null}`` drops an inherited variant: the name must be inherited."""
    own = data.get("variants")
    if not isinstance(own, Mapping):
        return
    for name, value in own.items():
        if value is None and name not in (inherited or {}):
            where = linemap.get(("variants", str(name)), (file, None))
            known = (", ".join(map(str, inherited)) or "none") if inherited is not None \
                else "none: this file extends nothing"
            raise InputError(f"'{name}: null' drops an inherited variant, but no variant "
                             f"'{name}' is inherited (inherited: {known})", file=where[0],
                             line=where[1], path=f"variants.{name}")


def _resolve(path: Path, chain: list[tuple[str, str]], keys: set[str] | None,
             origin: tuple[str, int | None, str] | None) -> tuple[dict, LineMap]:
    try:
        data, linemap = load_yaml(path, quote=origin is None, origin=origin)
    except InputError as err:
        if origin is None or err.file != str(path):
            raise
        ofile, oline, field = origin  # say where this file was named
        raise InputError(f"{err.message} (this file is the '{field}' of {ofile}"
                         + (f", line {oline}" if oline else "") + ")", file=err.file,
                         line=err.line, path=err.path) from None
    _not_a_scenario(data, path, keys, origin)
    if "extends" not in data:
        _check_dropped_variants(data, linemap, str(path), None)
        return data, linemap
    file = str(path)
    line = linemap.get(("extends",), (file, None))[1]
    target = data.pop("extends")
    linemap.pop(("extends",), None)
    if not isinstance(target, str) or not target.strip():
        raise InputError(f"expected the name of a YAML file to extend, got {_kind(target)}",
                         file=file, line=line, path="extends")
    if "\x00" in target:
        raise InputError("the file name contains a NUL character", file=file, line=line,
                         path="extends")
    parent_path = path.parent / target.strip()
    here = [*chain, (os.path.realpath(path), file)]
    real = os.path.realpath(parent_path)  # no error on a symlink loop: reading reports it
    if real in [p for p, _ in here]:
        start = [p for p, _ in here].index(real)
        names = [name for _, name in here[start:]] + [str(parent_path)]
        raise InputError(f"'extends' goes round in a cycle: {' -> '.join(names)}",
                         file=file, line=line, path="extends")
    if len(here) >= MAX_EXTENDS_DEPTH:
        raise InputError(f"more than {MAX_EXTENDS_DEPTH} files extend one another; see "
                         "Limits in docs/reference.md", file=file, line=line, path="extends")
    parent, parent_lines = _resolve(parent_path, here, keys, (file, line, "extends"))
    inherited = parent.get("variants")
    _check_dropped_variants(data, linemap, file,
                            {k: v for k, v in inherited.items() if v is not None}
                            if isinstance(inherited, Mapping) else None)
    merged, replaced = _merge(parent, data, ())
    out_lines: LineMap = {
        p: where for p, where in parent_lines.items()
        if not any(p[:i] in replaced for i in range(1, len(p) + 1))
    }
    out_lines.update(linemap)
    return merged, out_lines


