"""Sweeps: a grid of dotted-path overrides, one option per grid point, resumable.

Each finished point is saved at once in the results folder (``points/<key>.json``) and
appended to ``sweep.csv``; running the same sweep into the same folder again loads the
finished points and simulates only the rest. A point's key hashes everything that
determines its results (the resolved scenario, seed and replications), so a changed
scenario invalidates old points instead of mixing them in.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from sim.base.errors import InputError
from sim.base.limits import MAX_GRID_POINTS, MAX_RESULT_FILE_BYTES
from sim.base.paths import read_input
from sim.measure.metrics import Metrics
from sim.measure.runner import RepResult

Grid = list[tuple[str, list[object]]]


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_values(text: str, path: str) -> list[object]:
    """``v1,v2,...`` (each read as YAML) or ``start:stop:step`` (numbers, stop included).

    A range has finite numbers and at most ``MAX_GRID_POINTS`` values (checked before
    any is built); a value that is not valid YAML is an InputError at ``path``."""
    parts = text.split(":")
    if len(parts) == 3:
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            start = None  # not a range: e.g. "08:00-22:00" is an ordinary value
        if start is not None:
            if not all(math.isfinite(x) for x in (start, stop, step)):
                raise InputError(f"range {_short(text)} needs finite numbers", path=path)
            if step <= 0 or stop < start:
                raise InputError(f"range {_short(text)} needs step > 0 and stop >= start",
                                 path=path)
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_GRID_POINTS:
                raise InputError(f"range {_short(text)} has {count:,.0f} values; a sweep has "
                                 f"at most {MAX_GRID_POINTS:,} points (see Limits in "
                                 "docs/reference.md)", path=path)
            as_int = all(float(p).is_integer() for p in parts)
            return [int(start + i * step) if as_int else round(start + i * step, 12)
                    for i in range(int(count))]
    items = text.split(",")
    if len(items) > MAX_GRID_POINTS:
        raise InputError(f"{len(items):,} values; a sweep has at most {MAX_GRID_POINTS:,} "
                         "points", path=path)
    return [_yaml_value(v, path) for v in items]


def _yaml_value(text: str, path: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(f"cannot read the value {_short(text.strip())} as YAML: {problem}; "
                         "put text in quotes", path=path) from None
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise InputError(f"cannot read the value {_short(text.strip())}", path=path) from None


def parse_sets(sets: Iterable[str]) -> Grid:
    grid: Grid = []
    for s in sets:
        if "=" not in s:
            raise InputError(f"--set {_short(s)}: expected PATH=V1,V2,... or "
                             "PATH=START:STOP:STEP")
        path, values = s.split("=", 1)
        if not path.strip():
            raise InputError(f"--set {_short(s)}: the path before '=' is empty")
        grid.append((path.strip(), parse_values(values.strip(), path.strip())))
    check_grid(grid)
    return grid


def grid_from_yaml(block: dict[str, object]) -> Grid:
    """A scenario's ``sweep:`` block: ``{path: [v1, v2]}`` or ``{path: "start:stop:step"}``."""
    grid: Grid = []
    for path, values in block.items():
        if isinstance(values, list):
            if len(values) > MAX_GRID_POINTS:
                raise InputError(f"{len(values):,} values; a sweep has at most "
                                 f"{MAX_GRID_POINTS:,} points", path=f"sweep.{path}")
            grid.append((path, values))
        elif isinstance(values, str):
            grid.append((path, parse_values(values, f"sweep.{path}")))
        else:
            raise InputError("expected a list of values or 'start:stop:step'",
                             path=f"sweep.{path}")
    check_grid(grid)
    return grid


def check_grid(grid: Grid) -> None:
    """At most ``MAX_GRID_POINTS`` points in all (the product of the axes' lengths)."""
    n = math.prod(len(v) for _, v in grid)
    if n > MAX_GRID_POINTS:
        raise InputError(f"the grid has {n:,} points ({' x '.join(str(len(v)) for _, v in grid)}"
                         f"); a sweep has at most {MAX_GRID_POINTS:,} (see Limits in "
                         "docs/reference.md)", path=grid[0][0] if grid else None)
    empty = [p for p, v in grid if not v]
    if empty:
        raise InputError("no values to sweep", path=empty[0])


def _show(v: object) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def points(grid: Grid) -> list[tuple[str, list[tuple[str, object]]]]:
    """Grid points as (name ``path=value;path=value``, overrides), paths in given order."""
    paths = [p for p, _ in grid]
    out = []
    for combo in itertools.product(*(vals for _, vals in grid)):
        pairs = list(zip(paths, combo, strict=True))
        out.append((";".join(f"{p}={_show(v)}" for p, v in pairs), pairs))
    return out


def axis_names(paths: Sequence[str]) -> list[str]:
    """Short names for grid axes: the shortest tail of each dotted path that tells it
    apart from the others (``tiers.base.agents`` -> ``agents``; two ``agents`` axes ->
    ``base.agents``, ``advanced.agents``)."""
    parts = [p.split(".") for p in paths]
    out = []
    for i, mine in enumerate(parts):
        for k in range(1, len(mine) + 1):
            tail = mine[-k:]
            if all(other[-k:] != tail for j, other in enumerate(parts) if j != i):
                break
        out.append(".".join(tail))
    return out


def column_labels(grid: Grid) -> dict[str, str]:
    """Point name -> a short column heading made of the values that differ between
    points (``agents=32, open=08:00-16:00``; one axis: just the value, ``32``)."""
    varying = [i for i, (_, vals) in enumerate(grid) if len(vals) > 1] or list(range(len(grid)))
    names = axis_names([grid[i][0] for i in varying])
    out = {}
    for name, pairs in points(grid):
        shown = [_show(pairs[i][1]) for i in varying]
        out[name] = (shown[0] if len(varying) == 1 else
                     ", ".join(f"{n}={v}" for n, v in zip(names, shown, strict=True)))
    return out


def point_key(resolved: dict, seed: int, replications: int) -> str:
    doc = json.dumps({"scenario": resolved, "seed": seed, "replications": replications},
                     sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


# --- saving and loading finished points ------------------------------------------------

def save_point(folder: Path, key: str, reps: Sequence[RepResult]) -> None:
    from sim.measure.results import write_atomic

    doc = {"key": key, "variant": reps[0].variant, "scenario": reps[0].scenario_name,
           "reps": [{"replication": r.replication, "wall_s": r.wall_s,
                     "metrics": [[s, m, v] for (s, m), v in r.metrics.items()],
                     "intervals": r.intervals} for r in reps]}
    write_atomic(folder / "points" / f"{key}.json", json.dumps(doc))


def load_point(folder: Path, key: str, variant: str | None = None) -> list[RepResult] | None:
    """A finished point saved by an earlier run, or None (none, or a damaged or foreign
    file: the point is simulated again)."""
    path = folder / "points" / f"{key}.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(read_input(path, what="a sweep point file",
                                    max_bytes=MAX_RESULT_FILE_BYTES))
        if doc["key"] != key or (variant is not None and doc["variant"] != variant):
            return None
        out = []
        for r in doc["reps"]:
            metrics: Metrics = {(str(s), str(m)): float(v) for s, m, v in r["metrics"]}
            out.append(RepResult(str(doc["scenario"]), str(doc["variant"]),
                                 int(r["replication"]), metrics, list(r["intervals"]), None,
                                 float(r["wall_s"])))
    except (InputError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError):
        return None  # a damaged file: simulate the point again
    return out


def wide_row(name: str, pairs: list[tuple[str, object]], reps: Sequence[RepResult],
             columns: Sequence[tuple[str, str]], met: bool | None) -> dict[str, object]:
    """One sweep.csv row: the point, its values, and the mean of each key metric."""
    row: dict[str, object] = {"variant": name}
    row.update({p: _show(v) for p, v in pairs})
    for scope, metric in columns:
        vals = [r.metrics.get((scope, metric), math.nan) for r in reps]
        finite = [v for v in vals if math.isfinite(v)]
        row[f"{scope}.{metric}"] = sum(finite) / len(finite) if finite else math.nan
    row["meets_all_targets"] = "" if met is None else met
    return row
