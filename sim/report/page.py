"""report.html: one self-contained page (works offline, prints, under 1.5 MB).

Built from the result files only (never re-simulates), so ``ccsim report DIR`` renders it
again from a results folder. The page is a Jinja2 template (sim/report/templates/report.html.j2)
with autoescaping on: every value from the files is text, so a name such as
``<img src=x onerror=...>`` is shown, never run. The first screen is the verdict: which
targets each option meets, at what cost.

A section is one entry of :data:`SECTIONS` -- anchor, heading, a template in
sim/report/templates/sections/ and a data function ``ReportData -> dict | None`` (None leaves
the section out) -- so a new section is one template and one function. Tables are built
in sim/report/tables.py and sim/report/glance.py, charts in sim/report/charts.py,
sim/report/intervals.py and sim/report/roadmap.py, the data in sim/report/data.py.

Charts are plotly figures embedded as JSON and drawn by the vendored plotly.js basic
bundle (sim/report/assets/). A hidden ``#ccsim-render-status`` element is filled in the browser
once the charts have rendered; tests/test_browser.py reads it from a headless Chromium.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sim.measure.results import write_atomic
from sim.report.charts import cost_breakdown, frontier, occupancy, staffing_by_interval
from sim.report.data import ReportData
from sim.report.glance import scenario_data
from sim.report.intervals import interval_charts
from sim.report.load import load_folder
from sim.report.parts import Section, SectionData
from sim.report.roadmap import kpis_by_phase, roadmap_data
from sim.report.selection import selection_data
from sim.report.tables import (
    cost_data,
    differences_data,
    kpi_data,
    targets_data,
    verdict_data,
)
from sim.report.uncertainty import attach_uncertainty, uncertainty_data

PLOTLY_JS = "plotly-basic.min.js"


def _roadmap(d: ReportData) -> dict | None:
    return roadmap_data(d) if d.command == "roadmap" else None


def _phases(d: ReportData) -> dict | None:
    charts = kpis_by_phase(d) if d.command == "roadmap" else []
    return {"charts": charts, "grid": True} if charts else None


def _frontier(d: ReportData) -> dict | None:
    fr = frontier(d) if d.command == "sweep" else None
    return None if fr is None else {"charts": [fr], "note": (
        "Each point is one grid point (mean, 95% CI bars on both axes). The Pareto frontier "
        "joins the points no other point beats on both cost and service; colour: whether "
        "the point meets all its targets.")}


def _staffing(d: ReportData) -> dict | None:
    from sim.report.optimize import optimize_data

    rows = optimize_data(d)
    if rows is None:
        return None
    ch = staffing_by_interval(d)
    return {**rows, "charts": [ch] if ch else []}


def _intervals(d: ReportData) -> dict | None:
    charts = interval_charts(d)
    return {"charts": charts, "intro": (
        "One panel per channel, each on its own scale (seconds, minutes or hours), the "
        "options as lines; weekday and clock time from Monday 00:00 of the measured week. "
        "Dashed lines are targets.")} if charts else None


def _occupancy(d: ReportData) -> dict | None:
    ch = occupancy(d)
    return {"charts": [ch]} if ch else None


def _cost(d: ReportData) -> dict:
    ch = cost_breakdown(d)
    return {**cost_data(d), "charts": [ch] if ch else []}


# (anchor, heading, template in sim/report/templates/sections/, data function), in page order
SECTIONS: list[tuple[str, str, str, SectionData]] = [
    ("verdict", "Verdict: targets met and cost per option", "verdict", verdict_data),
    # h-uncertain: draws of uncertain inputs (the folder's uncertainty/sensitivity/variance)
    ("uncertainty", "Uncertainty: how sure are we?", "uncertainty", uncertainty_data),
    ("roadmap", "Roadmap: cost, savings and payback", "roadmap", _roadmap),
    ("phases", "KPIs by phase against targets", "charts", _phases),
    ("frontier", "Cost vs service frontier", "charts", _frontier),
    ("staffing", "Optimized staffing", "staffing", _staffing),
    ("selection", "Selection: the cheapest option meeting every target", "selection",
     selection_data),
    ("differences", "Paired differences against the reference", "differences",
     differences_data),
    ("intervals", "Service and waits by interval, per channel", "charts", _intervals),
    ("kpis", "KPIs by channel and tier (mean, 95% CI)", "kpis", kpi_data),
    ("occupancy", "Occupancy by tier", "charts", _occupancy),
    ("cost", "Cost", "cost", _cost),
    ("targets", "Targets (mean, 95% CI)", "targets", targets_data),
    ("scenario", "Scenario at a glance", "scenario", scenario_data),
]


@cache
def _env():  # noqa: ANN202
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from sim.report.bytecode import TemplateCache, cache_folder

    settings = {"autoescape": True, "keep_trailing_newline": True}
    env = Environment(loader=PackageLoader("sim.report", "templates"),
                      undefined=StrictUndefined, bytecode_cache=TemplateCache(
                          cache_folder(Path(__file__).parent / "templates"), repr(settings)),
                      **settings)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    return env


@cache
def plotly_js() -> tuple[str, str]:
    """(the vendored plotly.js bundle, its version). It is inserted raw into a <script>;
    a "</script" or "<!--" inside would end or change that element, so it must have none."""
    from markupsafe import Markup

    text = resources.files("sim.report").joinpath("assets", PLOTLY_JS).read_text(encoding="utf-8")
    if re.search(r"</script|<!--", text, re.I):
        raise RuntimeError(f"sim/report/assets/{PLOTLY_JS} contains '</script' or '<!--'")
    version = re.search(r"plotly\.js \(basic - minified\) v([\d.]+)", text[:300])
    return Markup(text), version.group(1) if version else "?"


def sections(d: ReportData) -> list[Section]:
    out = []
    for anchor, heading, template, fn in SECTIONS:
        data = fn(d)
        if data is not None:
            out.append(Section(anchor, heading, template, data))
    return out


def render_data(d: ReportData, title: str) -> str:
    """The page for a results folder's data."""
    meta = d.meta
    secs = sections(d)
    incomplete = None if meta.get("complete", True) else {
        "error": str(meta.get("error", "")),
        "done": meta.get("replications_done") if "replications_planned" in meta else None,
        "planned": meta.get("replications_planned")}
    has_charts = any(s.data.get("charts") for s in secs)
    js, version = plotly_js() if has_charts else ("", "")
    return _env().get_template("report.html.j2").render(
        d=d, meta={k: meta.get(k, "") for k in ("ccsim_version", "seed", "replications",
                                                 "end")},
        title=title, sections=secs, incomplete=incomplete, has_charts=has_charts,
        plotly_js=js, plotly_version=version)


def render(tables: dict[str, pd.DataFrame], meta: dict, title: str,
           scenario: object = None) -> str:
    """The page from tables already in memory (no files read)."""
    return render_data(load_folder(None, tables, meta, scenario), title)


def _title(meta: dict) -> str:
    name = meta.get("scenario", "scenario")
    return f"ccsim {'roadmap' if meta.get('command') == 'roadmap' else 'report'}: {name}"


def write_report(out: Path, tables: dict[str, pd.DataFrame], meta: dict, scenario: object,
                 title: str | None = None) -> Path:
    """Write out/report.html from ``tables`` plus the folder's other result files
    (differences.csv, staffing.csv, sweep.csv, roadmap.csv, scenario.yaml)."""
    d = attach_uncertainty(load_folder(Path(out), tables, meta, scenario), Path(out))
    path = Path(out) / "report.html"
    write_atomic(path, render_data(d, str(title or meta.get("title") or _title(meta))))
    return path


def rerender(results_dir: Path) -> Path:
    """Render report.html again from a results folder's files (``ccsim report DIR``)."""
    d = attach_uncertainty(load_folder(Path(results_dir)), Path(results_dir))
    path = Path(results_dir) / "report.html"
    write_atomic(path, render_data(d, str(d.meta.get("title") or _title(d.meta))))
    return path
