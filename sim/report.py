"""report.html: one self-contained page (plotly.js embedded once, works offline, prints).

Built from the result files only (never re-simulates), so ``ccsim report DIR`` renders it
again from a results folder. The first screen is the verdict: which targets each option
meets, at what cost. Tables live in sim/report_tables.py, charts in sim/report_charts.py
and sim/report_roadmap.py, the data in sim/report_data.py.

A hidden ``#ccsim-render-status`` element is filled in the browser once the charts have
rendered (chart count, rendered count, titles, missing target lines, JavaScript errors);
tests/test_browser.py reads it from a headless Chromium.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.io as pio

from sim.report_charts import Chart, frontier, run_charts, staffing_by_interval
from sim.report_data import ReportData, load_folder
from sim.report_roadmap import roadmap_charts, roadmap_html
from sim.report_tables import (
    cost_html,
    differences_html,
    kpi_html,
    scenario_html,
    staffing_html,
    targets_html,
    verdict_html,
)
from sim.report_uncertainty import uncertainty_sections
from sim.results import write_atomic

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:20px auto;
max-width:1200px;color:#202124;padding:0 16px;line-height:1.4}
h1{font-size:1.45em;margin:0 0 .2em} h2{font-size:1.15em;margin:1.6em 0 .4em;
border-bottom:2px solid #e8eaed;padding-bottom:.2em}
nav{font-size:.85em;margin:.4em 0 1em} nav a{margin-right:1em;color:#1a73e8}
.tw{overflow-x:auto}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;width:auto}
th,td{border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f8f9fa;font-weight:600}
th:first-child,td:first-child{text-align:left}
table.verdict td,.nw,.ci{white-space:nowrap}
table.glance td,table.glance th,table.kpi td:nth-child(2),table.targets td:nth-child(2){
text-align:left}
table.verdict{font-size:.85em} table.verdict td.st{text-align:center}
table.verdict th{text-align:center} table.verdict th:first-child{text-align:left}
td.changes,table.phases th:last-child{text-align:left} td.changes{font-size:.9em}
td.st.met{background:#e6f4ea;color:#137333} td.st.missed{background:#fce8e6;color:#a50e0e}
td.st.uncertain{background:#fef7e0;color:#8a4b00} td.st{font-weight:600}
td.st .v{font-weight:400;color:#3c4043}
.met{color:#137333;font-weight:600}.missed{color:#a50e0e;font-weight:600}
.uncertain{color:#8a4b00;font-weight:600} .better{color:#137333;font-weight:600}
.worse{color:#a50e0e;font-weight:600} b.best{background:#137333;color:#fff;border-radius:3px;
padding:0 4px;font-size:.8em}
.ci{color:#5f6368;font-size:.85em} .muted{color:#5f6368;font-size:.85em}
.note{color:#5f6368;font-size:.8em;max-width:60em} .lead{font-size:1.05em}
ul.facts{margin:.3em 0;padding-left:1.2em}
figure.chart{margin:.6em 0;border:1px solid #e8eaed;border-radius:4px;padding:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px}
.grid figure.chart{margin:0;min-width:0}
figure.chart .modebar{opacity:0;transition:opacity .2s}
figure.chart:hover .modebar{opacity:1}
footer{margin-top:2em;color:#5f6368;font-size:.8em}
@page{size:A4;margin:12mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt}
.tw{overflow:visible} table td{white-space:normal!important} table{font-size:8pt}
nav,.modebar-container{display:none!important}
figure.chart,table.verdict,tr{break-inside:avoid} h2{break-after:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

# Runs before plotly.js: collect JavaScript errors for the status element.
_HEAD_JS = """window.__ccsimErrors=[];
window.addEventListener('error',function(e){__ccsimErrors.push(String(e.message||e));});
window.addEventListener('unhandledrejection',function(e){
__ccsimErrors.push('unhandled rejection: '+String(e.reason));});"""

# After load: wait until every chart has an SVG, then fill #ccsim-render-status. Also fit
# the charts to the paper when printing.
_STATUS_JS = """(function(){
function txt(f){var t=f.querySelector('.gtitle');return t?t.textContent:'';}
function check(n){
 var figs=document.querySelectorAll('figure.chart'),done=0,titles=[],missing=[];
 figs.forEach(function(f){
  if(f.querySelector('.js-plotly-plot .main-svg'))done++;
  titles.push(txt(f));
  var want=+(f.getAttribute('data-targets')||0);
  var labels=[].filter.call(f.querySelectorAll('.annotation-text'),function(a){
   return a.textContent.indexOf('target')===0;}).length;
  var dashed=[].filter.call(f.querySelectorAll('.shapelayer path'),function(p){
   var s=p.style.strokeDasharray;return s&&s!=='none';}).length;
  if(labels<want||dashed<want)missing.push(txt(f)||f.getAttribute('data-chart'));
 });
 if(done<figs.length&&n<100){setTimeout(function(){check(n+1);},100);return;}
 if(figs.length&&typeof Plotly==='undefined')__ccsimErrors.push('plotly.js did not load');
 var s=document.getElementById('ccsim-render-status');
 s.setAttribute('data-charts',figs.length);s.setAttribute('data-rendered',done);
 s.setAttribute('data-titles',JSON.stringify(titles));
 s.setAttribute('data-missing-targets',JSON.stringify(missing));
 s.setAttribute('data-errors',JSON.stringify(__ccsimErrors));
 s.setAttribute('data-state','done');
}
function plots(){return document.querySelectorAll('.js-plotly-plot');}
window.addEventListener('load',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){Plotly.Plots.resize(el);});
 check(0);});
window.addEventListener('beforeprint',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){
 var w=el.closest('.grid')?330:690;if(el.offsetWidth>w)Plotly.relayout(el,{width:w});});});
window.addEventListener('afterprint',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){
 Plotly.relayout(el,{width:null,autosize:true}).then(function(){Plotly.Plots.resize(el);});
});});
})();"""

_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
           "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


class _Charts:
    """Chart HTML in page order; plotly.js goes into the first chart only."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, charts: list[Chart], grid: bool = False) -> str:
        out = []
        for c in charts:
            div = pio.to_html(c.fig, full_html=False, include_plotlyjs=self.count == 0,
                              default_height=f"{c.height}px", config=_CONFIG)
            self.count += 1
            out.append(f"<figure class=chart data-chart='{html.escape(c.slug)}' "
                       f"data-targets='{c.targets}'>{div}</figure>")
        body = "".join(out)
        return f"<div class=grid>{body}</div>" if grid and body else body


def _sections(d: ReportData, folder: Path | None = None) -> list[tuple[str, str, str]]:
    """(anchor, heading, html) in page order."""
    charts = _Charts()
    secs = [("verdict", "Verdict: targets met and cost per option", verdict_html(d))]
    secs += uncertainty_sections(d, folder, charts)  # h-uncertain: draws of uncertain inputs
    cmd = d.command
    if cmd == "roadmap":
        small, money = roadmap_charts(d)
        secs.append(("roadmap", "Roadmap: cost, savings and payback",
                     roadmap_html(d) + charts(money)))
        if small:
            secs.append(("phases", "KPIs by phase against targets", charts(small, grid=True)))
    if cmd == "sweep":
        fr = frontier(d)
        if fr is not None:
            secs.append(("frontier", "Cost vs service frontier", charts([fr]) + (
                "<p class=note>Each point is one grid point (mean, 95% CI bars on both axes). "
                "The Pareto frontier joins the points no other point beats on both cost and "
                "service; colour: whether the point meets all its targets.</p>")))
    if d.staffing is not None and not d.staffing.empty:
        ch = staffing_by_interval(d)
        secs.append(("staffing", "Optimized staffing",
                     staffing_html(d) + (charts([ch]) if ch else "")))
    diff = differences_html(d)
    if diff:
        secs.append(("differences", "Paired differences against the reference", diff))
    secs += [("scenario", "Scenario at a glance", scenario_html(d)),
             ("targets", "Targets (mean, 95% CI)", targets_html(d)),
             ("kpis", "KPIs by channel and tier (mean, 95% CI)", kpi_html(d))]
    run = {c.slug: c for c in run_charts(d)}
    by_interval = [run[s] for s in ("interval-service_level", "interval-mean_queue_length",
                                    "interval-asa_s", "interval-agents") if s in run]
    if by_interval:
        secs.append(("intervals", "Service and queue by interval", charts(by_interval)))
    if "occupancy" in run:
        secs.append(("occupancy", "Occupancy by tier", charts([run["occupancy"]])))
    secs.append(("cost", "Cost", (charts([run["cost"]]) if "cost" in run else "")
                 + cost_html(d)))
    return secs


def render_data(d: ReportData, title: str, folder: Path | None = None) -> str:
    """The page for a results folder's data."""
    meta = d.meta
    esc = html.escape
    status = "" if meta.get("complete", True) else (
        "<p class=missed>Incomplete run: " + esc(str(meta.get("error", ""))) + (
            f" — {meta['replications_done']} of {meta['replications_planned']} replications "
            "kept" if "replications_done" in meta and "replications_planned" in meta else "")
        + ".</p>")
    secs = _sections(d, folder)
    nav = "".join(f"<a href='#{a}'>{esc(h.split(':')[0])}</a>" for a, h, _ in secs)
    body = "".join(f"<section id={a}><h2>{esc(h)}</h2>{x}</section>" for a, h, x in secs)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style><script>{_HEAD_JS}</script></head>"
        f"<body><h1>{esc(title)}</h1><p class=muted>ccsim {esc(d.command)} · ccsim "
        f"{esc(str(meta.get('ccsim_version', '')))} · seed {esc(str(meta.get('seed')))} · "
        f"{esc(str(meta.get('replications')))} replications per option · finished "
        f"{esc(str(meta.get('end', '')))}</p>{status}<nav>{nav}</nav>{body}"
        "<footer>Rendered from this folder's result files (summary.csv, targets.csv, "
        "intervals.csv, scenario.yaml and the command's own files); re-render with "
        "<code>ccsim report FOLDER</code>. 95% CIs are across independent replications.</footer>"
        "<div id=ccsim-render-status hidden data-state=pending></div>"
        f"<script>{_STATUS_JS}</script></body></html>")


def render(tables: dict[str, pd.DataFrame], meta: dict, title: str,
           scenario: object = None) -> str:
    """The page from tables already in memory (no files read)."""
    d = load_folder(None, tables, meta, scenario)
    return render_data(d, title)


def _title(meta: dict) -> str:
    name = meta.get("scenario", "scenario")
    return f"ccsim {'roadmap' if meta.get('command') == 'roadmap' else 'report'}: {name}"


def write_report(out: Path, tables: dict[str, pd.DataFrame], meta: dict, scenario: object,
                 title: str | None = None) -> Path:
    """Write out/report.html from ``tables`` plus the folder's other result files
    (differences.csv, staffing.csv, sweep.csv, roadmap.csv, scenario.yaml)."""
    d = load_folder(Path(out), tables, meta, scenario)
    path = Path(out) / "report.html"
    write_atomic(path, render_data(d, title or meta.get("title") or _title(meta), Path(out)))
    return path


def rerender(results_dir: Path) -> Path:
    """Render report.html again from a results folder's files (``ccsim report DIR``)."""
    d = load_folder(Path(results_dir))
    path = Path(results_dir) / "report.html"
    write_atomic(path, render_data(d, d.meta.get("title") or _title(d.meta),
                                   Path(results_dir)))
    return path
