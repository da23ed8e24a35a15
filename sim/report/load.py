"""Reading a results folder into :class:`~sim.report.data.ReportData`: the CSVs, the
resolved scenario.yaml and summary.json, each read like any input (a regular file, capped
in size, never quoted when it does not parse) so a damaged folder is exit 2, not a
traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from sim.base.errors import InputError
from sim.inputs.yamlio import FAST_SAFE_LOADER
from sim.report.data import ReportData


def _csv(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    import io

    try:
        return pd.read_csv(io.BytesIO(_result_file(path)))
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OverflowError):
        raise InputError("not a CSV file as ccsim writes it", file=str(path)) from None


def load_folder(folder: Path | None, tables: dict[str, pd.DataFrame] | None = None,
                meta: dict | None = None, scenario: object = None) -> ReportData:
    """The report's data from a results folder; ``tables``/``meta`` given by the caller
    (the files just written) take precedence over the files; ``folder`` None reads none."""
    tables = dict(tables or {})
    if folder is None:
        return _data(tables, meta or {}, scenario, None)
    d = Path(folder)
    if meta is None:
        need = ["summary.csv", "targets.csv", "summary.json"]
        missing = [n for n in need if not (d / n).exists()]
        if missing:
            raise InputError(f"not a results folder (missing {', '.join(missing)})",
                             file=str(d))
        meta = _result_json(d / "summary.json")
    for name in ("summary", "targets", "intervals", "differences", "staffing", "sweep",
                 "roadmap", "workforce", "workforce_kpis"):
        if name not in tables or tables[name] is None:
            df = _csv(d / f"{name}.csv")
            if df is not None:
                tables[name] = df
    resolved = None
    if (d / "scenario.yaml").exists():
        try:
            resolved = yaml.load(_result_file(d / "scenario.yaml").decode("utf-8"),
                                 Loader=FAST_SAFE_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
            raise InputError("not YAML as ccsim writes it", file=str(d / "scenario.yaml")
                             ) from None
    return _data(tables, meta, scenario, resolved)


def _result_file(path: Path) -> bytes:
    """A results folder's file, read like any input (sim.base.paths: a regular file, capped)."""
    from sim.base.limits import MAX_RESULT_FILE_BYTES
    from sim.base.paths import read_input

    return read_input(path, what="a results file", max_bytes=MAX_RESULT_FILE_BYTES)


def _result_json(path: Path) -> dict:
    """summary.json's meta; a damaged file names its line, never its content."""
    try:
        doc = json.loads(_result_file(path))
    except json.JSONDecodeError as exc:
        raise InputError("not JSON as ccsim writes it", file=str(path), line=exc.lineno
                         ) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("not JSON as ccsim writes it", file=str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("meta"), dict):
        raise InputError("expected a mapping with a 'meta' mapping, as ccsim writes it",
                         file=str(path))
    return doc["meta"]


def _data(tables: dict[str, pd.DataFrame], meta: dict, scenario: object,
          resolved: object) -> ReportData:
    sc_dict, note, spec = (resolved if isinstance(resolved, dict) else None), "", None
    if sc_dict is not None and isinstance(sc_dict.get("baseline"), dict):
        # a roadmap's scenario.yaml: {"roadmap": the roadmap file, "baseline": its scenario}
        spec = sc_dict.get("roadmap") if isinstance(sc_dict.get("roadmap"), dict) else None
        sc_dict = dict(sc_dict["baseline"])
        sc_dict.update({k: spec[k] for k in ("currency", "targets") if spec and spec.get(k)})
        note = "the baseline scenario of the roadmap"
    if sc_dict is None and hasattr(scenario, "model_dump"):
        sc_dict = scenario.model_dump(mode="json", exclude_none=True)  # type: ignore[union-attr]
        note = "the first option's scenario (this folder has no scenario.yaml)"
    elif sc_dict is None and isinstance(scenario, dict):
        sc_dict = scenario
    empty = pd.DataFrame(columns=["scenario", "variant", "scope", "metric", "mean", "ci_low",
                                  "ci_high", "replications"])
    return ReportData(
        meta=meta, summary=tables.get("summary", empty),
        targets=tables.get("targets", pd.DataFrame()),
        intervals=tables.get("intervals", pd.DataFrame()),
        differences=tables.get("differences"), staffing=tables.get("staffing"),
        sweep=tables.get("sweep"), roadmap=tables.get("roadmap"),
        scenario=sc_dict if isinstance(sc_dict, dict) else None, scenario_note=note,
        roadmap_spec=spec, workforce=tables.get("workforce"),
        workforce_kpis=tables.get("workforce_kpis"))
