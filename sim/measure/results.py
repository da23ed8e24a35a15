"""Result files of a results folder (SPEC §5), each written atomically.

The data path ends here: replication results -> tidy tables -> files. Nothing in this
module simulates; tables are built from :class:`sim.measure.runner.RepResult` lists.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.base import interrupts
from sim.base.errors import InputError
from sim.base.limits import MAX_RESULT_FILE_BYTES
from sim.base.paths import read_input
from sim.inputs.config import Scenario, metric_range
from sim.measure.runner import RepResult
from sim.measure.stats import estimate, target_status

SUMMARY_COLUMNS = ["scenario", "variant", "scope", "metric", "mean", "ci_low", "ci_high",
                   "replications"]
TARGET_COLUMNS = ["scenario", "variant", "metric", "bound", "limit", "mean", "ci_low",
                  "ci_high", "status"]


# --- atomic writing -------------------------------------------------------------------------

_UMASK = os.umask(0)
os.umask(_UMASK)


_written: list[list[Path]] = []   # open recorders (see `recording`)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename:
    a file is either whole or absent (or its previous version), whatever happens. A
    signal arriving meanwhile waits until the file is written (sim.base.interrupts)."""
    with interrupts.held(reraise=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "wb" if isinstance(data, bytes) else "w"
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8",
                                                                    "newline": ""})) as f:
                f.write(data)
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        for names in _written:
            names.append(path)


@contextlib.contextmanager
def recording() -> Iterator[list[Path]]:
    """Collect the paths written (whole) during the block, e.g. to say what was kept
    when the disk fills up."""
    names: list[Path] = []
    _written.append(names)
    try:
        yield names
    finally:
        _written.remove(names)


def write_csv(path: Path, df: pd.DataFrame) -> None:
    write_atomic(path, df.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


# --- tables -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Option:
    """One simulated option: a scenario (or variant) and its replications."""

    scenario_name: str
    variant: str
    scenario: Scenario
    reps: list[RepResult]


def group_options(results: Iterable[RepResult],
                  scenarios: dict[tuple[str, str], Scenario]) -> list[Option]:
    """Group replication results by (scenario, variant), in the order of ``scenarios``."""
    by_key: dict[tuple[str, str], list[RepResult]] = {k: [] for k in scenarios}
    for r in results:
        by_key[(r.scenario_name, r.variant)].append(r)
    return [Option(k[0], k[1], scenarios[k], sorted(v, key=lambda r: r.replication))
            for k, v in by_key.items()]


def summary_table(options: Sequence[Option]) -> pd.DataFrame:
    rows = []
    for opt in options:
        if not opt.reps:
            continue
        for (scope, metric) in opt.reps[0].metrics:
            est = estimate([r.metrics[(scope, metric)] for r in opt.reps],
                           *metric_range(scope, metric))
            rows.append([opt.scenario_name, opt.variant, scope, metric, est.mean, est.ci_low,
                         est.ci_high, est.n])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def replications_table(options: Sequence[Option]) -> pd.DataFrame:
    rows = [[o.scenario_name, o.variant, r.replication, scope, metric, value]
            for o in options for r in o.reps for (scope, metric), value in r.metrics.items()]
    return pd.DataFrame(rows, columns=["scenario", "variant", "replication", "scope", "metric",
                                       "value"])


def targets_table(options: Sequence[Option]) -> pd.DataFrame:
    """One row per option and target. With a target ``per: interval|day`` (SPEC §7.8) the
    table gains ``per``, ``share`` and ``pairs``; such a row's mean and CI are the share
    of pairs where the bound holds and its Wilson 95% interval (sim.measure.targets)."""
    from sim.measure.targets import share_estimate, share_status

    rows = []
    periodic = any(t.per is not None for o in options for t in o.scenario.targets)
    for opt in options:
        if not opt.reps:
            continue
        for t in opt.scenario.targets:
            scope, metric = t.metric.split(".")
            extra: list = []
            if t.per is not None:
                sh = share_estimate(t, opt.scenario, [r.intervals for r in opt.reps])
                rows.append([opt.scenario_name, opt.variant, t.metric, t.bound, t.limit,
                             sh.share, sh.ci_low, sh.ci_high, share_status(t, sh),
                             t.per, t.share, sh.pairs])
                continue
            if periodic:
                extra = ["", math.nan, math.nan]
            est = estimate([r.metrics.get((scope, metric), math.nan) for r in opt.reps],
                           *metric_range(scope, metric))
            rows.append([opt.scenario_name, opt.variant, t.metric, t.bound, t.limit, est.mean,
                         est.ci_low, est.ci_high, target_status(t, est), *extra])
    return pd.DataFrame(rows, columns=TARGET_COLUMNS + (["per", "share", "pairs"]
                                                        if periodic else []))


def intervals_table(options: Sequence[Option]) -> pd.DataFrame:
    """Per interval and channel, means over replications."""
    frames = []
    for opt in options:
        if not opt.reps:
            continue
        df = pd.DataFrame([row for r in opt.reps for row in r.intervals])
        keys = ["interval", "start_h", "channel"]
        df = df.groupby(keys, sort=False).mean(numeric_only=True).reset_index()
        df.insert(0, "variant", opt.variant)
        df.insert(0, "scenario", opt.scenario_name)
        frames.append(df)
    if not frames:  # no replication finished: a header, so the file is still a table
        return pd.DataFrame(columns=["scenario", "variant", "interval", "start_h", "channel"])
    return pd.concat(frames, ignore_index=True)


def trace_table(options: Sequence[Option]) -> pd.DataFrame:
    rows = [(o.scenario_name, o.variant, *row) for o in options for r in o.reps
            for row in (r.trace or [])]
    return pd.DataFrame(rows, columns=["scenario", "variant", "replication", "contact",
                                       "time_s", "event", "channel", "type", "tier"])


# --- the folder --------------------------------------------------------------------------

def _write_summary_json(out: Path, summary: pd.DataFrame, meta: dict) -> None:
    rows = json.loads(summary.to_json(orient="records"))
    write_atomic(out / "summary.json",
                 json.dumps({"meta": meta, "rows": rows}, indent=1, allow_nan=False) + "\n")


write_summary_json = _write_summary_json


def mark_incomplete(out: Path, meta: dict, error: str) -> bool:
    """Say in ``out/summary.json`` that the folder's results are not complete: its meta
    (or ``meta`` when there is none yet) with ``complete: false`` and ``error``. Returns
    whether that could be written (best effort: used when stopping or the disk is full)."""
    rows: list = []
    path = out / "summary.json"
    try:
        old = json.loads(read_input(path, what="a summary.json",
                                    max_bytes=MAX_RESULT_FILE_BYTES)) if path.exists() else None
        if isinstance(old, dict) and isinstance(old.get("meta"), dict):
            meta, rows = {**old["meta"], **meta}, old.get("rows") or []
    except (InputError, ValueError):
        pass
    doc = {"meta": {**meta, "complete": False, "error": error}, "rows": rows}
    try:
        write_atomic(path, json.dumps(doc, indent=1, allow_nan=False, default=str) + "\n")
    except (OSError, ValueError):
        return False
    return True


def rewrite_summary(out: Path, summary: pd.DataFrame, meta: dict) -> None:
    """Write summary.csv and summary.json again (a command added rows or meta)."""
    write_csv(out / "summary.csv", summary)
    _write_summary_json(out, summary, meta)


def write_results(out: Path, options: Sequence[Option], meta: dict,
                  resolved: dict | None = None, trace: bool = False) -> dict[str, pd.DataFrame]:
    """Write every file of the results folder; returns the tables written."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "summary": summary_table(options),
        "replications": replications_table(options),
        "intervals": intervals_table(options),
        "targets": targets_table(options),
    }
    for name, df in tables.items():
        write_csv(out / f"{name}.csv", df)
    _write_summary_json(out, tables["summary"], meta)
    if resolved is not None:
        write_atomic(out / "scenario.yaml",
                     yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True))
    if trace:
        tr = trace_table(options)
        import io

        buf = io.BytesIO()
        tr.to_parquet(buf, index=False)
        write_atomic(out / "contacts.parquet", buf.getvalue())
    return tables


def staffing_doc(rows: list[dict]) -> dict:
    """The one way every output names a staffing (meta ``optimized``, the log, the
    report): from staffing.csv's rows, ``{tier: agents}`` when flat, else
    ``{tier: {interval: agents}}``."""
    out: dict = {}
    for r in rows:
        if r["interval"] == "all":
            out[r["tier"]] = int(r["agents"])
        else:
            out.setdefault(r["tier"], {})[r["interval"]] = int(r["agents"])
    return out
