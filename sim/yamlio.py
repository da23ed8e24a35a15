"""Reading scenario YAML: safe loading with line numbers, ``extends``, overrides, and
turning pydantic validation errors into one-paragraph :class:`~sim.errors.InputError`\\ s.

YAML is only ever read with a :class:`yaml.SafeLoader` subclass; nothing is evaluated.

A :data:`LineMap` maps a key path -- a tuple of mapping keys, with list indices written as
``str(i)`` -- to ``(file, 1-based line)`` of where that key (or list item) appears.  Look a
path up with :func:`locate`, which falls back to the longest known prefix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from sim.errors import InputError
from sim.limits import MAX_EXTENDS_DEPTH, MAX_YAML_BYTES, MAX_YAML_NODES, check_numbers
from sim.paths import read_input

__all__ = [
    "LineMap",
    "load_yaml",
    "resolve_extends",
    "deep_merge",
    "set_dotted",
    "parse_override",
    "apply_overrides",
    "forget_paths",
    "locate",
    "check_bounds",
]

LineMap = dict[tuple[str, ...], tuple[str, int]]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"


# --------------------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, counts nodes (a file may hold at most
    ``MAX_YAML_NODES``), and records the line of every mapping key and list item of the
    objects it constructs (keyed by ``id`` of the dict / list)."""

    def __init__(self, stream: str, file: str, quote: bool = True) -> None:
        super().__init__(stream)
        self.file = file
        self.quote = quote
        self.nodes = 0
        self.key_lines: dict[int, dict[Any, int]] = {}
        self.item_lines: dict[int, list[int]] = {}

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise InputError(f"the file has more than {MAX_YAML_NODES:,} YAML values; see "
                             "Limits in docs/reference.md", file=self.file,
                             line=self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor):  # type: ignore[no-untyped-def]
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            ident = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if ident in seen:
                named = f" '{key_node.value}'" if self.quote and len(key_node.value) <= 60 \
                    else ""
                raise InputError(
                    f"duplicate key{named} (first on line {seen[ident]}, again on "
                    f"line {line}); each key may appear only once in a mapping",
                    file=self.file, line=line)
            seen[ident] = line
        return node

    def _construct_map(self, node: MappingNode):  # type: ignore[no-untyped-def]
        data: dict[Any, Any] = {}
        yield data
        data.update(self.construct_mapping(node))  # SafeConstructor resolves '<<' merges
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:  # merged keys first, own keys last: last one wins
            key = self.construct_object(key_node)  # cached: same object as the dict's key
            lines[key] = key_node.start_mark.line + 1
        self.key_lines[id(data)] = lines

    def _construct_seq(self, node):  # type: ignore[no-untyped-def]
        data: list[Any] = []
        yield data
        data.extend(self.construct_sequence(node))
        self.item_lines[id(data)] = [item.start_mark.line + 1 for item in node.value]


# YAML 1.1 reads 14:00 as the base-60 integer 840 (but 08:00 as text). Times of day are
# common in scenarios (shifts, opening hours), so H:MM / HH:MM[:SS] always stay text.
_LineLoader.yaml_implicit_resolvers = {
    k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _digit in "0123456789":
    _LineLoader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^[0-9]{1,2}:[0-5][0-9](?::[0-5][0-9])?$")))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader._construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader._construct_seq)


def _kind(value: Any) -> str:
    """A user-facing description of a YAML value's type."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


_TOKEN = re.compile(r"<[a-z ]+>|[^\w\s'\"]")


def _unquoted(text: str) -> str:
    """A PyYAML problem text without the file's content: quoted parts other than token
    names ('<stream end>') and single punctuation marks are dropped."""
    def keep(m: re.Match[str]) -> str:
        return m.group(0) if _TOKEN.fullmatch(m.group(1)) else ""
    return re.sub(r" ?'([^'\n]*)'", keep, text).strip()


def _yaml_error(err: yaml.YAMLError, file: str, text: str, quote: bool = True) -> InputError:
    if isinstance(err, ReaderError):  # a control character such as NUL
        line = text[: max(0, int(err.position))].count("\n") + 1 \
            if isinstance(err.position, int) else None
        code = err.character if isinstance(err.character, int) else None
        what = f" (U+{code:04X})" if code is not None else ""
        return InputError(f"the file holds a control character{what} that YAML does not "
                          "allow; is it a text file?", file=file, line=line)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None)
    if problem is None:  # other unmarked errors
        return InputError("invalid YAML" + (f": {err}" if quote else ""), file=file,
                          line=line)
    tab = "\\t" in problem or "\t" in problem
    text_out = f"invalid YAML: {problem if quote else _unquoted(problem)}"
    context = getattr(err, "context", None)
    cmark = getattr(err, "context_mark", None)
    if context:
        if cmark is not None and line is not None and cmark.line + 1 != line:
            context = f"{context} on line {cmark.line + 1}"
        text_out += f" ({context if quote else _unquoted(context)})"
    if tab:
        text_out += "; indent with spaces, not tabs"
    return InputError(text_out, file=file, line=line)


def _expanded_size(root: Node, file: str) -> int:
    """Nodes of the document with every alias expanded (memoised: linear in the distinct
    nodes, so a billion-laughs file is measured, not expanded). A recursive alias (a
    structure that contains itself) is refused."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]

    def children(node: Node) -> list[Node]:
        if isinstance(node, MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            sizes[nid] = min(MAX_YAML_NODES + 1,
                             1 + sum(sizes[id(c)] for c in children(node)))
            continue
        if nid in sizes:
            continue
        if nid in on_path:
            raise InputError("an alias (*name) is used inside its own anchor (&name): a "
                             "structure that contains itself", file=file,
                             line=node.start_mark.line + 1)
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _build_linemap(data: Any, loader: _LineLoader, file: str) -> LineMap:
    """Walk the constructed data, once per object (aliases are not walked twice)."""
    linemap: LineMap = {}
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        children: list[tuple[tuple[str, ...], Any]] = []
        if isinstance(obj, dict):
            lines = loader.key_lines.get(id(obj), {})
            for key, value in obj.items():
                sub = (*path, str(key))
                line = lines.get(key)
                if line is not None:
                    linemap[sub] = (file, line)
                if isinstance(value, dict | list):
                    children.append((sub, value))
        elif isinstance(obj, list):
            item_lines = loader.item_lines.get(id(obj), [])
            for i, value in enumerate(obj):
                sub = (*path, str(i))
                if i < len(item_lines):
                    linemap[sub] = (file, item_lines[i])
                if isinstance(value, dict | list):
                    children.append((sub, value))
        stack.extend(reversed(children))  # depth-first in document order: the anchor's
        # own place is walked before later aliases of it
    return linemap


def load_yaml(path: str | Path, *, quote: bool = True,
              origin: tuple[str, int | None, str] | None = None) -> tuple[dict, LineMap]:
    """Safe-load a YAML file whose top level is a mapping.

    Returns the data and a :data:`LineMap` for every mapping key and list item at any
    depth.  Raises :class:`InputError` (with the file, and the line where known) for a
    path that is not a regular file (sim.paths), a file over ``MAX_YAML_BYTES``, an empty
    file, a YAML syntax error, a duplicate key, more than ``MAX_YAML_NODES`` values after
    expanding aliases, a top level that is not a mapping, top-level keys that are not
    text, and numbers or text beyond the bounds of sim.limits.

    ``quote=False`` (a file reached through a path inside another file): messages never
    quote the file's text. ``origin`` = (file, line, field) where the path was given.
    """
    file = str(path)
    raw = read_input(path, what="a YAML file", max_bytes=MAX_YAML_BYTES,
                     **(dict(zip(("file", "line", "field"), origin, strict=True))
                        if origin else {}))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("the file is not valid UTF-8 text", file=file, line=line) from None

    empty = InputError(
        "the file is empty; expected a mapping of scenario settings (key: value lines)",
        file=file)
    loader = None
    try:
        loader = _LineLoader(text, file, quote)
        node = loader.get_single_node()
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL_TAG
                            and node.value in ("", "~", "null", "Null", "NULL")):
            raise empty
        if _expanded_size(node, file) > MAX_YAML_NODES:
            raise InputError(f"the file expands to more than {MAX_YAML_NODES:,} YAML values "
                             "through its aliases (*name); see Limits in docs/reference.md",
                             file=file)
        data = loader.construct_document(node)
        if not isinstance(data, dict):
            raise InputError(
                f"the top level must be a mapping (key: value lines), but it is {_kind(data)}",
                file=file, line=node.start_mark.line + 1)
        linemap = _build_linemap(data, loader, file)
    except InputError:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, text, quote) from None
    except RecursionError:
        raise InputError("the YAML is nested too deeply", file=file) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. "!!int abc"
        raise InputError("cannot read a value" + (f": {exc}" if quote else " (a value does "
                         "not match its !!tag)"), file=file) from None
    finally:
        if loader is not None:
            loader.dispose()

    for key in data:
        if not isinstance(key, str):
            where = linemap.get((str(key),), (file, None))
            shown = (_show(key) or repr(key)) if quote else None
            if isinstance(key, bool):
                what = ((f"a top-level key was read as {shown}" if shown else
                         "a top-level key was read as true/false") + " (YAML reads "
                        "yes/no/on/off as true/false); put the key in quotes, e.g. \"on\": ...")
            elif shown:
                what = (f"the top-level key {shown} is {_kind(key)}, not a name; put the key "
                        f"in quotes, e.g. \"{shown}\": ...")
            else:
                what = f"a top-level key is {_kind(key)}, not a name; put it in quotes"
            raise InputError(what, file=file, line=where[1])
    check_bounds(data, linemap, file)
    return data, linemap


def check_bounds(data: Mapping, linemap: LineMap, file: str,
                 prefix: tuple[str, ...] = ()) -> None:
    """Raise an InputError for every number or text beyond the bounds of sim.limits
    (non-finite numbers included), each at its file, line and dotted path."""
    problems = []
    for path, message in check_numbers(data):
        full = (*prefix, *path)
        where = locate(linemap, full)
        problems.append(InputError(message, file=where[0] if where else file,
                                   line=where[1] if where else None,
                                   path=".".join(full) or None))
    if problems:
        raise InputError.of(problems)


# --------------------------------------------------------------------------- extends


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


# --------------------------------------------------------------------------- overrides


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
                f"cannot set it: '{where}' is {_kind(node)} ({_show(node)}), not a mapping",
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
    from sim.overrides import is_relative  # SPEC §7.5: *0.9, +2, -10% stay relative text

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
    (wildcards and relative changes: sim/overrides.py)."""
    from sim.overrides import resolve

    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    return resolve(data, items, set_dotted=set_dotted)[0]


def forget_paths(linemap: LineMap, dotted_paths: Iterable[str]) -> LineMap:
    """A copy of ``linemap`` without the entries at or under the given dotted paths --
    use it after applying overrides so errors in overridden values do not point at the
    (replaced) line of the file."""
    drop = [tuple(d.split(".")) for d in dotted_paths]
    return {p: where for p, where in linemap.items()
            if not any(len(p) >= len(d) and all(a in ("*", b) for a, b in zip(d, p[:len(d)],
                                                                               strict=True))
                       for d in drop)}


def locate(linemap: LineMap, path: Sequence[str | int]) -> tuple[str, int] | None:
    """(file, line) of the longest prefix of ``path`` present in ``linemap``, or None."""
    key = tuple(str(p) for p in path)
    for i in range(len(key), 0, -1):
        where = linemap.get(key[:i])
        if where is not None:
            return where
    return None


def _show(value: Any) -> str | None:
    """How to show an offending scalar input, or None for containers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return None
