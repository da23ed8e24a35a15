"""Reading scenario YAML: safe loading with line numbers, and turning
pydantic validation errors into one-paragraph :class:`~sim.base.errors.InputError`\\ s
(``extends`` is in :mod:`sim.inputs.extends`, dotted overrides in :mod:`sim.inputs.overrides`).

YAML is only ever read with a :class:`yaml.SafeLoader` subclass; nothing is evaluated.

A :data:`LineMap` maps a key path -- a tuple of mapping keys, with list indices written as
``str(i)`` -- to ``(file, 1-based line)`` of where that key (or list item) appears.  Look a
path up with :func:`locate`, which falls back to the longest known prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from sim.base.errors import InputError
from sim.base.limits import MAX_YAML_BYTES, MAX_YAML_NODES, check_numbers
from sim.base.paths import read_input

__all__ = [
    "LineMap",
    "load_yaml",
    "locate",
    "check_bounds",
]

LineMap = dict[tuple[str, ...], tuple[str, int]]

_MERGE_TAG = "tag:yaml.org,2002:merge"
# PyYAML's safe loader on libyaml's parser when PyYAML has it (the same data as
# yaml.safe_load, faster): for files ccsim wrote itself and for a first look at top keys.
FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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
    path that is not a regular file (sim.base.paths), a file over ``MAX_YAML_BYTES``, an empty
    file, a YAML syntax error, a duplicate key, more than ``MAX_YAML_NODES`` values after
    expanding aliases, a top level that is not a mapping, top-level keys that are not
    text, and numbers or text beyond the bounds of sim.base.limits.

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
    """Raise an InputError for every number or text beyond the bounds of sim.base.limits
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


def is_roadmap_file(data: Mapping) -> bool:
    """Whether a file's top-level mapping is a roadmap (SPEC §4; sim/decide/roadmap.py) rather
    than a scenario. Here, not there, so telling them apart loads no roadmap code."""
    return "roadmap" in data or "phases" in data


def is_roadmap_path(path: str | Path) -> bool:
    """:func:`is_roadmap_file` of the file at ``path``, from its top-level keys when composing
    it (libyaml's parser if PyYAML has it; no value constructed) gives them plainly, else
    from :func:`load_yaml`, which raises the file's :class:`InputError` -- so `validate`
    does not read a file with the slow line-numbering loader twice."""
    try:
        text = read_input(path, what="a YAML file", max_bytes=MAX_YAML_BYTES).decode("utf-8-sig")
        node = yaml.compose(text, Loader=FAST_SAFE_LOADER)
        if isinstance(node, MappingNode) and all(
                isinstance(k, ScalarNode) and k.tag != _MERGE_TAG for k, _ in node.value):
            return is_roadmap_file({k.value: None for k, _ in node.value})
    except (InputError, yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError):
        pass
    return is_roadmap_file(load_yaml(path)[0])


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
