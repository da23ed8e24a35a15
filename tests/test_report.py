"""report.html: the sections, charts and numbers a project lead reads, for every kind of
results folder (run, compare, sweep, optimize, roadmap), rendered from the files only.

The folders here are small synthetic ones in the SPEC §5 formats (fast, and every number
is known); one test renders a real short run end to end. tests/test_browser.py loads the
same folders in a real browser.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.report.charts import pareto
from sim.report.data import short_variant
from sim.report.page import rerender

ROOT = Path(__file__).resolve().parents[1]
HORIZON_H = 4.0

SCENARIO = {
    "name": "t", "description": "two channels, two tiers", "seed": 5, "replications": 3,
    "horizon_hours": HORIZON_H, "warmup_hours": 0.5, "interval_minutes": 30,
    "currency": "CNY",
    "channels": {
        "phone": {"arrivals": {"rate_per_hour": 320}, "mix": {"simple": 0.7, "complex": 0.3},
                  "handle_time": {"simple": {"dist": "exponential", "mean_s": 210},
                                  "complex": {"dist": "exponential", "mean_s": 420}},
                  "patience": {"dist": "exponential", "mean_s": 180},
                  "service_level_threshold_s": 60,
                  "bot": {"containment": {"simple": 0.4}, "cost_per_session": 0.5,
                          "handle_time": {"dist": "exponential", "mean_s": 90}}},
        "chat": {"arrivals": {"profile_per_hour": [10, 30]}, "mix": {"simple": 1.0},
                 "handle_time": {"simple": {"dist": "exponential", "mean_s": 300}},
                 "concurrency": 2},
    },
    "tiers": {"base": {"agents": 12, "cost_per_hour": 45, "serves": {"simple": 1.0}},
              "advanced": {"schedule": {"shifts": [{"start": "08:00", "end": "16:00",
                                                    "agents": 5}]},
                           "cost_per_hour": 60, "serves": {"simple": 1.0, "complex": 0.8}}},
    "targets": [{"metric": "phone.asa_s", "max": 60}, {"metric": "all.service_level",
                                                       "min": 0.8},
                {"metric": "base.occupancy", "max": 0.85}],
    "variants": {"more": {"tiers.base.agents": 14}},
}
TARGETS = [("phone.asa_s", "max", 60.0), ("all.service_level", "min", 0.8),
           ("base.occupancy", "max", 0.85)]


def _metrics(i: int, cost: float, asa: float) -> list[tuple[str, str, float]]:
    rows = []
    for scope in ("all", "phone", "chat", "complex"):
        rows += [(scope, "offered", 1000.0), (scope, "asa_s", asa), (scope, "service_level",
                 0.9 - 0.05 * i), (scope, "abandon_rate", 0.04), (scope, "automation_rate",
                 0.3), (scope, "aht_s", 300.0), (scope, "fcr", 0.92)]
    for tier in ("base", "advanced"):
        rows += [(tier, "agents", 12.0 + i), (tier, "paid_agents", 12.0 + i),
                 (tier, "occupancy", 0.8 + 0.03 * i), (tier, "handled", 400.0)]
    rows += [("cost", "labor", cost - 100), ("cost", "bot", 60.0), ("cost", "overhead", 40.0),
             ("cost", "total", cost), ("cost", "per_contact", cost / 1000),
             ("cost", "labor_share", (cost - 100) / cost)]
    return rows


def make_folder(folder: Path, command: str, options: list[tuple[str, str]],
                statuses: list[list[str]] | None = None, costs: list[float] | None = None,
                asa: list[float] | None = None, scenario: dict | None = SCENARIO,
                meta: dict | None = None, queue_column: bool = False) -> Path:
    """A results folder in the SPEC §5 formats; option i costs costs[i] over the horizon,
    has phone/all asa_s asa[i] and target statuses statuses[i] (targets as TARGETS)."""
    folder.mkdir(parents=True, exist_ok=True)
    costs = costs or [1000.0 + 100 * i for i in range(len(options))]
    asa = asa or [20.0 + 10 * i for i in range(len(options))]
    statuses = statuses or [["met"] * len(TARGETS)] * len(options)
    summary, targets, intervals = [], [], []
    for i, (sc, var) in enumerate(options):
        for scope, metric, v in _metrics(i, costs[i], asa[i]):
            summary.append([sc, var, scope, metric, v, v * 0.95, v * 1.05, 3])
        for (metric, bound, limit), st in zip(TARGETS, statuses[i], strict=True):
            mean = next(v for s, m, v in _metrics(i, costs[i], asa[i])
                        if f"{s}.{m}" == metric)
            targets.append([sc, var, metric, bound, limit, mean, mean * 0.9, mean * 1.1, st])
        for k in range(int(HORIZON_H * 2)):
            for ch in ("phone", "chat"):
                row = {"scenario": sc, "variant": var, "interval": k, "start_h": k / 2,
                       "channel": ch, "offered": 100.0, "answered": 90.0, "abandoned": 5.0,
                       "asa_s": asa[i] + k, "service_level": 0.85 - 0.01 * k, "backlog": 0.0,
                       "agents_base": 12.0 + i, "agents_advanced": 5.0}
                if queue_column:
                    row["mean_queue_length"] = 1.0 + k / 10
                intervals.append(row)
    pd.DataFrame(summary, columns=["scenario", "variant", "scope", "metric", "mean", "ci_low",
                                   "ci_high", "replications"]).to_csv(
        folder / "summary.csv", index=False)
    pd.DataFrame(targets, columns=["scenario", "variant", "metric", "bound", "limit", "mean",
                                   "ci_low", "ci_high", "status"]).to_csv(
        folder / "targets.csv", index=False)
    pd.DataFrame(intervals).to_csv(folder / "intervals.csv", index=False)
    doc = {"meta": {"ccsim_version": "0.1.0", "command": command, "scenario": options[0][0],
                    "seed": 5, "replications": 3, "end": "2026-01-01T00:00:00+00:00",
                    "complete": True, **(meta or {})}, "rows": []}
    (folder / "summary.json").write_text(json.dumps(doc))
    if scenario is not None:
        (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    return folder


def make_run(folder: Path, **kw: object) -> Path:
    return make_folder(folder, "run", [("t", "base"), ("t", "more"), ("t", "cheap")],
                       statuses=[["met", "met", "met"], ["met", "uncertain", "met"],
                                 ["missed", "met", "met"]],
                       costs=[1000.0, 1200.0, 800.0], **kw)  # type: ignore[arg-type]


def make_compare(folder: Path) -> Path:
    opts = [("a", "base"), ("b", "base")]
    make_folder(folder, "compare", opts, scenario=None)
    diffs = [["b", "base", "all", "asa_s", 10.0, 5.0, 15.0],       # worse, CI excludes 0
             ["b", "base", "cost", "total", -150.0, -200.0, -100.0],  # better
             ["b", "base", "all", "service_level", 0.01, -0.02, 0.04]]  # inconclusive
    pd.DataFrame(diffs, columns=["scenario", "variant", "scope", "metric", "diff_mean",
                                 "ci_low", "ci_high"]).to_csv(folder / "differences.csv",
                                                              index=False)
    return folder


SWEEP_POINTS = [f"tiers.base.agents={b};tiers.advanced.agents={a}"
                for b in (4, 5, 6) for a in (2, 3)]


def make_sweep(folder: Path) -> Path:
    # cost rises with agents; asa falls, except point 3 (dominated by point 2)
    costs = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0, 1500.0]
    asa = [50.0, 40.0, 30.0, 35.0, 20.0, 15.0]
    make_folder(folder, "sweep", [("t", p) for p in SWEEP_POINTS], costs=costs, asa=asa)
    pd.DataFrame({"variant": SWEEP_POINTS, "cost.total": costs}).to_csv(
        folder / "sweep.csv", index=False)
    return folder


def make_optimize(folder: Path, flat: bool = False) -> Path:
    make_folder(folder, "optimize", [("t", "optimized"), ("t", "input")], scenario=None,
                meta={"search_start": {"base": 14, "advanced": 6}, "evaluations": 9})
    if flat:
        rows = [("base", "all", 11), ("advanced", "all", 4)]
    else:
        rows = [(t, f"Mon {h:02d}:00", n + h // 4) for t, n in (("base", 8), ("advanced", 3))
                for h in range(8, 18)]
    pd.DataFrame(rows, columns=["tier", "interval", "agents"]).to_csv(
        folder / "staffing.csv", index=False)
    return folder


PHASES = [{"name": "pilot", "months": 6, "investment": 100000},
          {"name": "scale", "months": 18, "investment": 50000}]
ROADMAP_YAML = {"roadmap": "rm", "baseline": "t.yaml", "horizon": 24,
                "phases": [{**PHASES[0], "set": {"channels.phone.bot.containment.simple": 0.6}},
                           {**PHASES[1], "ramp": True, "set": {
                               "tiers.base.agents": 10,
                               "tiers.advanced.schedule.shifts": [
                                   {"start": "08:00", "end": "16:00", "agents": 4},
                                   {"start": "12:00", "end": "20:00", "agents": 2}]}}]}


def make_roadmap(folder: Path, paid_back: bool = True) -> Path:
    """As `ccsim roadmap` writes it: points baseline, pilot, a ramp point scale@12 and
    scale (given out of order here), scenario.yaml = {"roadmap": ..., "baseline": ...}."""
    opts = [("rm", "baseline"), ("rm", "scale@12"), ("rm", "scale"), ("rm", "pilot")]
    make_folder(folder, "roadmap", opts, statuses=[["met", "missed", "met"],
                                                   ["met", "met", "met"],
                                                   ["met", "met", "met"],
                                                   ["met", "uncertain", "met"]],
                costs=[1000.0, 900.0, 1100.0, 1050.0],
                scenario={"roadmap": ROADMAP_YAML, "baseline": SCENARIO},
                meta={"phases": PHASES})
    rows, cum = [], 0.0
    for month in range(1, 25):
        phase = "pilot" if month <= 6 else "scale"
        inv = 100000.0 if month == 1 else 50000.0 if month == 7 else 0.0
        op = (190000.0 if phase == "pilot" else 150000.0) if paid_back else 199000.0
        net = 200000.0 - op - inv
        cum += net
        rows.append([month, phase, inv, op, 200000.0, net, cum, cum - 5000 * month,
                     cum + 5000 * month])
    pd.DataFrame(rows, columns=["month", "phase", "investment", "operating_cost",
                                "baseline_operating_cost", "net_savings", "cumulative_net",
                                "cumulative_net_low", "cumulative_net_high"]).to_csv(
        folder / "roadmap.csv", index=False)
    nan = float("nan")
    extra = [["rm", "roadmap", "roadmap", m, v, lo, hi, 3] for m, v, lo, hi in (
        ("payback_month", 9.0 if paid_back else nan, 8.0 if paid_back else nan,
         11.0 if paid_back else nan),
        ("payback_month_low", 8.0 if paid_back else nan, nan, nan),
        ("payback_month_high", 11.0 if paid_back else nan, nan, nan),
        ("roi", 1.5 if paid_back else nan, 1.2, 1.8))]
    extra += [["rm", v, "roadmap", "investment", 1.0, nan, nan, 3] for v in ("pilot", "scale")]
    summary = pd.read_csv(folder / "summary.csv")
    pd.concat([summary, pd.DataFrame(extra, columns=summary.columns)]).to_csv(
        folder / "summary.csv", index=False)
    return folder


# --- reading the page back --------------------------------------------------------------

class _Tables(HTMLParser):
    """Every <table>: rows of (class, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._cur: list | None = None
        self._cell: list | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table":
            self._cur = self.tables.setdefault(a.get("class") or f"t{len(self.tables)}", [])
        elif tag == "tr" and self._cur is not None:
            self._cur.append([])
        elif tag in ("td", "th") and self._cur is not None:
            self._cell = [a.get("class") or "", ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._cur is not None:
            self._cur[-1].append((self._cell[0], " ".join(self._cell[1].split())))
            self._cell = None
        elif tag == "table":
            self._cur = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1] += data


def tables_of(page: str) -> dict[str, list[list[tuple[str, str]]]]:
    p = _Tables()
    p.feed(re.sub(r"<script.*?</script>", "", page, flags=re.S))
    return p.tables


def _plain(x: object) -> object:
    """Plotly's typed arrays ({"dtype": "i1", "bdata": base64}) as lists."""
    if isinstance(x, dict):
        if set(x) >= {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist()
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def figures(page: str) -> list[dict]:
    """The plotly figures of the page: {"data": [...], "layout": {...}} each, as embedded
    (JSON in <script type="application/json" class=fig>), strings unescaped as plotly
    shows them."""
    dec = json.JSONDecoder(object_hook=_plain)
    out = []
    for m in re.finditer(r'<script type="application/json" class=fig>(.*?)</script>', page,
                         re.S):
        out.append(_shown(dec.decode(m.group(1))))
    return out


def _shown(x: object) -> object:
    """Strings as plotly displays them (it decodes &lt; &gt; &amp;)."""
    if isinstance(x, str):
        return x.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if isinstance(x, dict):
        return {k: _shown(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_shown(v) for v in x]
    return x


def titled(page: str) -> dict[str, dict]:
    return {f["layout"]["title"]["text"]: f for f in figures(page)}


def target_lines(fig: dict) -> list[str]:
    """Labels of dashed horizontal target lines (a dashed shape plus a "target" label)."""
    dashed = [s for s in fig["layout"].get("shapes", [])
              if s.get("line", {}).get("dash") == "dash"]
    labels = [a["text"] for a in fig["layout"].get("annotations", [])
              if a.get("text", "").startswith("target")]
    assert len(dashed) >= len(labels), "a target label without its dashed line"
    return labels


def render(folder: Path) -> str:
    return rerender(folder).read_text(encoding="utf-8")


def verdict(page: str) -> dict[str, list[tuple[str, str]]]:
    rows = tables_of(page)["verdict"]
    return {r[0][1].replace(" best", ""): r for r in rows[1:]}


# --- run ---------------------------------------------------------------------------------

def test_run_report_has_every_section_and_the_verdict(tmp_path: Path) -> None:
    page = render(make_run(tmp_path / "run"))
    for sec in ("verdict", "scenario", "targets", "kpis", "intervals", "occupancy", "cost"):
        assert f'<section id="{sec}">' in page, sec
    assert page.index('<section id="verdict">') < page.index('<section id="scenario">')
    head = tables_of(page)["verdict"][0]
    assert [c[1] for c in head] == ["option", "all targets", "cost / week", "cost / month",
                                    "phone.asa_s ≤ 60 s", "all.service_level ≥ 80%",
                                    "base.occupancy ≤ 85%"]
    v = verdict(page)
    assert [c[0] for c in v["base"][4:]] == ["st met"] * 3
    assert v["more"][5][0] == "st uncertain" and v["more"][1][0] == "st uncertain"
    assert v["cheap"][4][0] == "st missed" and v["cheap"][1][1].endswith("2 of 3 met")
    assert v["cheap"][4][1] == "✗ missed40.0 s"  # option 2: asa 40 s (the <br> adds no space)
    # cost run-rate: 1000 over a 4 h horizon = 250/h -> 42,000 a week, 182,500 a month
    assert v["base"][2][1] == "CNY 42,000" and v["base"][3][1] == "CNY 182,500"
    # the cheapest option meeting every target is base (cheap misses one, more uncertain)
    assert "best" in tables_of(page)["verdict"][1][0][1]
    assert "Cheapest option meeting every target: <b>base</b>" in page


def rows_by(table: list[list[tuple[str, str]]], first: int = 2) -> dict[tuple, list[str]]:
    """Rows of a grouped table (scope shown only on a block's first row) by their first
    ``first`` cells, the group name carried down."""
    out, group = {}, ""
    for r in table[1:]:
        group = r[0][1] or group
        out[(group, *[c[1] for c in r[1:first]])] = [c[1] for c in r[first:]]
    return out


def test_run_report_scenario_kpis_and_costs(tmp_path: Path) -> None:
    page = render(make_run(tmp_path / "run"))
    glance = tables_of(page)["glance channels"]
    assert [c[1] for c in glance[0]] == ["channel", "arrivals", "mix", "mean handle time",
                                         "patience", "SL threshold", "concurrency",
                                         "bot containment"]  # no mode, open hours: not used
    phone = next(r for r in glance if r[0][1] == "phone")
    assert phone[1][1] == "320 /h" and "simple 40%" in phone[7][1]
    assert "CNY 0.50/session" in phone[7][1]
    chat = next(r for r in glance if r[0][1] == "chat")
    assert chat[1][1] == "profile: mean 20 /h, peak 30 /h" and chat[7][1] == "no bot"
    assert "horizon 4 h measured (from Monday 00:00) after 0.5 h warm-up" in page
    tiers = {r[0][1]: [c[1] for c in r] for r in tables_of(page)["glance tiers"]}
    assert tiers["tier"] == ["tier", "agents on duty", "cost / hour", "serves (speed)"]
    assert tiers["base"][1] == "12 on duty around the clock"
    assert tiers["advanced"][1] == "1 shift pattern, at most 5 on duty at once"
    assert "tiers.base.agents = 14" in page
    kpi = tables_of(page)["kpi"]
    assert [c[1] for c in kpi[0]] == ["scope", "metric", "base", "more", "cheap"]
    rows = rows_by(kpi)
    assert rows[("all", "ASA: mean wait of answered")][0] == "20.0 s [19.0, 21.0]"
    assert rows[("phone", "service level")][0] == "90.0% [85.5, 94.5]"
    assert rows[("chat", "first-contact resolution")][2] == "92.0% [87.4, 96.6]"
    assert not any(k[1].startswith("block rate") for k in rows)   # no metric, no row
    tier = rows_by(tables_of(page)["kpi tiers"])
    assert tier[("base", "agents on queue at a time (average FTE)")][0] == "12.0 [11.4, 12.6]"
    assert ("base", "heads on the payroll") not in tier   # no headcount in the scenario
    cost = tables_of(page)["cost"]
    assert [c[1] for c in cost[1]] == ["base", "CNY 900", "CNY 60.00", "CNY 40.00",
                                       "CNY 1,000 [950, 1,050]", "CNY 1.00 [0.95, 1.05]",
                                       "90.0%", "CNY 42,000", "CNY 182,500"]


def test_only_the_rows_a_scenario_uses(tmp_path: Path) -> None:
    """FCR 100% and automation 0% for every option: the features are off, no rows; a
    tier's heads on the payroll come from its headcount, per option."""
    folder = make_run(tmp_path / "run")
    s = pd.read_csv(folder / "summary.csv")
    s.loc[s["metric"] == "fcr", ["mean", "ci_low", "ci_high"]] = 1.0
    s.loc[(s["metric"] == "automation_rate") & (s["scope"] == "chat"),
          ["mean", "ci_low", "ci_high"]] = 0.0
    s.to_csv(folder / "summary.csv", index=False)
    sc = json.loads(json.dumps(SCENARIO))
    sc["tiers"]["advanced"]["schedule"]["headcount"] = 9
    sc["tiers"]["advanced"]["coaching_share"] = 0.6
    sc["variants"] = {"more": {"tiers.advanced.schedule.headcount": 11}}
    (folder / "scenario.yaml").write_text(yaml.safe_dump(sc, sort_keys=False))
    page = render(folder)
    rows = rows_by(tables_of(page)["kpi"])
    assert not any(k[1] == "first-contact resolution" for k in rows)
    assert ("chat", "automation rate (bot)") not in rows and (
        "phone", "automation rate (bot)") in rows
    tier = rows_by(tables_of(page)["kpi tiers"])
    assert tier[("advanced", "heads on the payroll")] == ["9", "11", "–"]  # cheap: unknown
    assert ("base", "heads on the payroll") not in tier
    tiers = {r[0][1]: [c[1] for c in r] for r in tables_of(page)["glance tiers"]}
    assert tiers["tier"] == ["tier", "heads on the payroll", "agents on duty", "cost / hour",
                             "serves (speed)", "coaching share"]
    assert tiers["advanced"][1] == "9" and tiers["advanced"][5] == "60%"
    assert "45 heads working 40 of 168 hours are 10.7 at a time" in page


def test_run_report_charts_with_titles_units_and_target_lines(tmp_path: Path) -> None:
    page = render(make_run(tmp_path / "run"))
    figs = titled(page)
    sl = figs["Service level by interval, per channel"]
    # one panel per channel, each with its own y axis; the options as lines
    assert [a["text"] for a in sl["layout"]["annotations"] if not a["text"].startswith(
        "target")] == ["phone", "chat"]
    assert sl["layout"]["yaxis"]["title"]["text"] == "service level (%)"
    assert sl["layout"]["yaxis2"]["title"]["text"] == "service level (%)"
    assert [t["name"] for t in sl["data"]] == ["base", "more", "cheap"] * 2
    assert {t["yaxis"] for t in sl["data"]} == {"y", "y2"}
    assert target_lines(sl) == ["target all ≥ 80%"] * 2
    asa = figs["Average speed of answer by interval, per channel"]
    assert asa["layout"]["yaxis"]["title"]["text"] == "ASA (s)"
    assert target_lines(asa) == ["target phone ≤ 60 s"]   # on the phone panel only
    occ = figs["Occupancy by tier (mean, 95% CI)"]
    assert target_lines(occ) == ["target base ≤ 85%"]
    assert [t["name"] for t in occ["data"]] == ["base", "more", "cheap"]
    cost = next(f for t, f in figs.items() if t.startswith("Cost breakdown"))
    assert [t["name"] for t in cost["data"]] == ["labour", "bot", "overhead"]
    assert cost["layout"]["yaxis"]["title"]["text"] == "cost over the horizon (4 h) (CNY)"
    assert "labour 90%" in [a["text"] for a in cost["layout"]["annotations"]]
    for t, f in figs.items():
        lay = f["layout"]
        assert any(lay[a].get("title", {}).get("text") for a in lay if a.startswith("xaxis")), t
        assert all(lay[a].get("title", {}).get("text") for a in lay if a.startswith("yaxis")), t


def test_interval_time_axis_is_weekday_and_clock(tmp_path: Path) -> None:
    """Time 0 is Monday 00:00: the x axis is a date axis from a Monday, ticks and hover in
    weekday and clock time; each line starts at its first interval, 30 minutes apart."""
    figs = titled(render(make_run(tmp_path / "run")))
    sl = figs["Service level by interval, per channel"]
    ax = sl["layout"]["xaxis2"]          # the bottom panel's axis carries the ticks
    assert ax["type"] == "date" and ax["tickformat"] == "%a %H:%M"
    assert ax["hoverformat"] == "%a %H:%M" and ax["tick0"] == "2024-01-01"
    assert ax["title"]["text"] == "weekday and clock time"
    assert pd.Timestamp("2024-01-01").day_name() == "Monday"
    tr = sl["data"][0]
    assert tr["x0"] == "2024-01-01 00:00" and tr["dx"] == 30 * 60_000 and "x" not in tr
    assert [round(v, 4) for v in tr["y"]] == [round(0.85 - 0.01 * k, 4) for k in range(8)]


def test_time_axis_ticks_by_horizon() -> None:
    from sim.report.intervals import time_axis

    assert time_axis(8)["dtick"] == 3_600_000 and time_axis(24)["dtick"] == 3 * 3_600_000
    assert time_axis(168)["dtick"] == 24 * 3_600_000
    assert time_axis(168)["tickformat"] == "%a %H:%M"
    long = time_axis(24 * 28)
    assert long["tickformat"] == "%a %H:%M<br>day %-j" and long["dtick"] == 4 * 86_400_000


def test_waits_by_mode_when_channels_of_both_modes_run(tmp_path: Path) -> None:
    """chat async beside phone: no `all` wait row, chart line or difference (all.asa_s
    mixes hours with seconds); realtime/async rows where the results have them; the
    target on all.service_level is flagged; each channel's ASA panel in its own unit."""
    sc = json.loads(json.dumps(SCENARIO))
    sc["channels"]["chat"] = {**sc["channels"]["chat"], "mode": "async"}
    folder = make_run(tmp_path / "run", scenario=sc)
    s = pd.read_csv(folder / "summary.csv")
    rt = s[s["scope"] == "phone"].assign(scope="realtime")
    iv = pd.read_csv(folder / "intervals.csv")
    iv.loc[iv["channel"] == "chat", "asa_s"] = 20_000.0
    iv.to_csv(folder / "intervals.csv", index=False)
    pd.concat([s, rt]).to_csv(folder / "summary.csv", index=False)
    page = render(folder)
    rows = rows_by(tables_of(page)["kpi"])
    assert ("all", "ASA: mean wait of answered") not in rows
    assert ("all", "service level") not in rows and ("all", "offered (contacts)") in rows
    assert ("realtime", "ASA: mean wait of answered") in rows
    assert ("async", "ASA: mean wait of answered") not in rows   # not in these results
    assert ("chat", "ASA: mean wait of answered") in rows
    figs = titled(page)
    asa = figs["Average speed of answer by interval, per channel"]
    assert [a["text"] for a in asa["layout"]["annotations"] if not a["text"].startswith(
        "target")] == ["phone (realtime)", "chat (async)"]
    assert asa["layout"]["yaxis"]["title"]["text"] == "ASA (s)"
    assert asa["layout"]["yaxis2"]["title"]["text"] == "ASA (h)"
    assert max(asa["data"][3]["y"]) == pytest.approx(20_000 / 3600, rel=1e-6)
    assert target_lines(asa) == ["target phone ≤ 60 s"]   # never all.asa_s on a panel
    sl = figs["Service level by interval, per channel"]
    assert target_lines(sl) == []     # all.service_level mixes modes: on no panel
    assert "all.service_level ≥ 80% ⚠" in [c[1] for c in tables_of(page)["verdict"][0]]
    assert "phone.asa_s ≤ 60 s" in [c[1] for c in tables_of(page)["verdict"][0]]
    assert ("all.service_level: a mean over channels of both modes (realtime phone; async "
            "chat)") in " ".join(page.split())


def test_queue_length_chart_when_intervals_have_it(tmp_path: Path) -> None:
    figs = titled(render(make_run(tmp_path / "run", queue_column=True)))
    assert "Queue length by interval, per channel" in figs
    assert "Average speed of answer by interval, per channel" in figs
    assert "Queue length by interval, per channel" not in titled(render(make_run(
        tmp_path / "run2")))


def test_report_is_offline_small_and_embeds_plotly_once(tmp_path: Path) -> None:
    page = render(make_run(tmp_path / "run"))
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=['\"]?https?:", page)
    assert len(re.findall(r"\* plotly\.js \(basic - minified\) v\d", page)) == 1
    assert "plotly.js 4.1.1 (MIT licence)" in page
    assert len(page.encode()) < 1_500_000
    assert '<div id=ccsim-render-status hidden data-state=pending></div>' in page
    assert "@media print" in page


def test_incomplete_run_is_flagged(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "run")
    doc = json.loads((folder / "summary.json").read_text())
    doc["meta"].update(complete=False, error="worker died", replications_done=4,
                       replications_planned=9)
    (folder / "summary.json").write_text(json.dumps(doc))
    assert "Incomplete run: worker died — 4 of 9 replications kept." in render(folder)


def test_a_folder_without_results_still_renders(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "summary.csv").write_text("scenario,variant,scope,metric,mean,ci_low,ci_high,"
                                        "replications\n")
    (folder / "targets.csv").write_text("scenario,variant,metric,bound,limit,mean,ci_low,"
                                        "ci_high,status\n")
    (folder / "intervals.csv").write_text("\n")
    (folder / "summary.json").write_text(json.dumps(
        {"meta": {"command": "run", "complete": False, "error": "interrupted"}, "rows": []}))
    page = render(folder)
    assert "No finished replications" in page and "Incomplete run: interrupted." in page
    assert "<figure class=chart" not in page


# --- compare, sweep, optimize ---------------------------------------------------------------

def test_compare_report_shows_paired_differences(tmp_path: Path) -> None:
    page = render(make_compare(tmp_path / "cmp"))
    assert '<section id="differences">' in page and "Each option minus <b>a</b>" in page
    diff = {r[0][1]: r[1] for r in tables_of(page)["diff"][1:]}
    assert diff["all.asa_s"] == ("worse", "+10.0 s [+5.0 s, +15.0 s]")
    assert diff["cost.total"] == ("better", "CNY -150 [CNY -200, CNY -100]")
    assert diff["all.service_level"][0] == ""  # the CI includes 0
    assert set(verdict(page)) == {"a", "b"}
    assert "This folder has no scenario.yaml" in page


def test_sweep_report_has_the_frontier(tmp_path: Path) -> None:
    page = render(make_sweep(tmp_path / "sweep"))
    assert '<section id="frontier">' in page
    fig = next(f for t, f in titled(page).items() if t.startswith("Cost vs service"))
    assert fig["layout"]["xaxis"]["title"]["text"] == \
        "total cost over the horizon (4 h) (CNY)"
    assert fig["layout"]["yaxis"]["title"]["text"] == "phone.asa_s (s)"
    assert target_lines(fig) == ["target phone.asa_s ≤ 60 s"]
    front = next(t for t in fig["data"] if t["name"] == "Pareto frontier")
    assert front["x"] == [1000.0, 1100.0, 1200.0, 1400.0, 1500.0]  # 1300 is dominated
    labels = [x for t in fig["data"] if t["name"] != "Pareto frontier" for x in t["text"]]
    assert sorted(labels) == sorted(f"{b}/{a}" for b in (4, 5, 6) for a in (2, 3))
    assert fig["layout"]["title"]["subtitle"]["text"] == \
        "points labelled base.agents/advanced.agents"
    assert "base.agents=4, advanced.agents=2" in verdict(page)


def test_pareto_and_short_names() -> None:
    pts = [(1.0, 50.0), (2.0, 40.0), (3.0, 45.0), (2.0, 60.0), (float("nan"), 1.0)]
    assert pareto(pts, lower_better=True) == [True, True, False, False, False]
    assert pareto([(1.0, 0.7), (2.0, 0.9), (3.0, 0.8)], lower_better=False) == [
        True, True, False]
    assert short_variant("tiers.base.agents=30;channels.phone.bot.containment.simple=0.7") \
        == "base.agents=30, containment.simple=0.7"


def test_optimize_report_staffing_by_interval(tmp_path: Path) -> None:
    page = render(make_optimize(tmp_path / "opt"))
    assert '<section id="staffing">' in page
    fig = titled(page)["Optimized staffing by interval"]
    assert [t["name"] for t in fig["data"]] == ["base", "advanced"]
    assert fig["data"][0]["x"][0] == "Mon 08:00" and fig["data"][0]["y"][-1] == 12
    assert fig["layout"]["yaxis"]["title"]["text"] == "agents scheduled (agents)"
    rows = tables_of(page)["staffing"]
    assert [c[1] for c in rows[1]] == ["base", "agents per interval (see the chart)",
                                       "peak 12", "–"]


def test_optimize_report_flat_staffing(tmp_path: Path) -> None:
    page = render(make_optimize(tmp_path / "opt", flat=True))
    assert "Optimized staffing by interval" not in titled(page)
    rows = tables_of(page)["staffing"]
    assert [c[1] for c in rows[1]] == ["base", "flat (whole horizon)", "11", "–"]
    assert "9 staffings simulated" in page


# --- roadmap -------------------------------------------------------------------------------

def test_roadmap_report(tmp_path: Path) -> None:
    page = render(make_roadmap(tmp_path / "rm"))
    for sec in ("verdict", "roadmap", "phases", "scenario"):
        assert f'<section id="{sec}">' in page
    # the verdict: baseline and phase ends in roadmap order; the ramp point scale@12 (all
    # met and cheapest) is not a choice, so scale is the best
    assert list(verdict(page)) == ["baseline", "pilot", "scale"]
    assert "Cheapest option meeting every target: <b>scale</b>" in page
    assert "1 ramp point(s) inside phases" in page
    assert [r[0][1] for r in tables_of(page)["targets"][1:]][::3] == [
        "baseline", "pilot", "scale@12", "scale"]
    assert "Pays back in month <b>9</b> (range 8–11); ROI 150%" in page
    figs = titled(page)
    for metric, label in (("phone.asa_s", "target ≤ 60 s"), ("all.service_level",
                                                             "target ≥ 80%"),
                          ("base.occupancy", "target ≤ 85%")):
        fig = figs[f"{metric} by phase"]
        assert fig["data"][0]["x"] == ["baseline", "pilot", "scale"]
        assert target_lines(fig) == [label]
    cost = figs["Monthly cost vs baseline"]
    assert [t["name"] for t in cost["data"]] == ["operating cost", "investment",
                                                 "baseline operating cost"]
    assert cost["layout"]["yaxis"]["title"]["text"] == "cost per month (CNY)"
    cum = figs["Cumulative net savings and payback"]
    assert any(t.get("fill") == "tonexty" for t in cum["data"])   # the low..high band
    notes = [a["text"] for a in cum["layout"]["annotations"]]
    assert "payback month 9" in notes and "payback range" in notes
    vline = [s for s in cum["layout"]["shapes"] if s.get("x0") == 9.0 and s.get("x1") == 9.0]
    band = [s for s in cum["layout"]["shapes"] if (s.get("x0"), s.get("x1")) == (8.0, 11.0)]
    assert vline and band
    phases = tables_of(page)["phases"]
    assert [c[1] for c in phases[1]] == ["pilot", "6", "1–6", "CNY 100,000",
                                         "channels.phone.bot.containment.simple = 0.6"]
    scale = phases[2][-1][1]  # a shift list is named, not dumped
    assert "tiers.base.agents = 10" in scale and "08:00" not in scale
    assert "tiers.advanced.schedule.shifts (new: 2 entries)" in scale
    # the scenario at a glance is the roadmap's baseline; a 4 h horizon for the run-rate
    assert "From the baseline scenario of the roadmap" in page and "320 /h" in page
    assert verdict(page)["baseline"][3][1] == "CNY 182,500"


def test_roadmap_not_paid_back(tmp_path: Path) -> None:
    page = render(make_roadmap(tmp_path / "rm", paid_back=False))
    assert "Does not pay back within 24 months" in page
    notes = [a["text"] for a in titled(page)["Cumulative net savings and payback"]["layout"]
             .get("annotations", [])]
    assert not any(n.startswith("payback") for n in notes)


# --- the command ---------------------------------------------------------------------------

def ccsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_ccsim_report_rerenders_from_the_files(tmp_path: Path) -> None:
    folder = make_roadmap(tmp_path / "rm")
    res = ccsim("report", str(folder))
    assert res.returncode == 0, res.stderr
    assert f"report: {folder / 'report.html'}" in res.stdout
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Cumulative net savings and payback" in page
    (folder / "roadmap.csv").unlink()   # the page follows the files
    assert ccsim("report", str(folder)).returncode == 0
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Cumulative net savings and payback" not in page
    assert "No roadmap economics in this folder" in page
    (tmp_path / "empty").mkdir()
    bad = ccsim("report", str(tmp_path / "empty"))
    assert bad.returncode == 2 and "not a results folder" in bad.stderr


SMALL = """\
name: small
seed: 3
replications: 2
horizon_hours: 3
warmup_hours: 0.5
channels:
  phone:
    arrivals: {rate_per_hour: 120}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 200}}
    patience: {dist: exponential, mean_s: 180}
tiers:
  base: {agents: 8, cost_per_hour: 40, serves: {simple: 1.0}}
targets:
  - {metric: phone.asa_s, max: 60}
variants:
  fewer: {tiers.base.agents: 6}
"""


def test_real_run_report(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    out = tmp_path / "out"
    res = ccsim("run", str(tmp_path / "small.yaml"), "--out", str(out), "--workers", "1",
                "--quiet")
    assert res.returncode == 0, res.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    targets = pd.read_csv(out / "targets.csv")
    v = verdict(page)
    assert list(v) == ["base", "fewer"]
    for _, t in targets.iterrows():
        assert v[t["variant"]][4][0] == f"st {t['status']}"
    summary = pd.read_csv(out / "summary.csv")
    total = summary[(summary.variant == "base") & (summary.metric == "total")]["mean"].iloc[0]
    assert v["base"][3][1] == f"CNY {total / 3 * 730:,.0f}"
    assert {"Service level by interval, per channel",
            "Average speed of answer by interval, per channel",
            "Occupancy by tier (mean, 95% CI)"} <= set(titled(page))
    first = tables_of(page)
    (out / "report.html").unlink()
    assert ccsim("report", str(out)).returncode == 0
    assert tables_of((out / "report.html").read_text(encoding="utf-8")) == first


@pytest.mark.parametrize("maker", [make_run, make_compare, make_sweep, make_optimize,
                                   make_roadmap])
def test_every_kind_renders_a_chart_per_figure(tmp_path: Path, maker) -> None:  # noqa: ANN001
    page = render(maker(tmp_path / "f"))
    n = page.count("<figure class=chart")
    assert n == len(figures(page)) >= 4
    assert page.count("data-targets=") == n


# --- hostile strings (SPEC §7.1: text from input is HTML-escaped) --------------------------

PWN = "document.body.setAttribute('data-pwned','{}')"
HOSTILE = {
    "t": f"<img src=x onerror=\"{PWN.format('img')}\">",
    "base": f"</script><script>{PWN.format('script')}</script>",
    "more": f"\"'><svg onload=\"{PWN.format('svg')}\">",
    "cheap": f"<a href=\"javascript:{PWN.format('a')}\">link</a>",
    "phone": "<b>bold</b> &amp; <i>it</i> {{ 7*7 }}",
    "chat": f"<iframe srcdoc=\"<script>{PWN.format('iframe')}</script>\"></iframe>",
    "advanced": f"<style>body{{display:none}}</style><x onmouseover=\"{PWN.format('x')}\">",
    "CNY": f"<script>{PWN.format('currency')}</script>",
    "pilot": f"<body onload=\"{PWN.format('body')}\">",
    "scale": "-->&lt;<!--",
}


def _hostile_name(x: object) -> object:
    """A name, or a scope.metric / path=value / phase@month made of names, made hostile."""
    if not isinstance(x, str):
        return x
    if x in HOSTILE:
        return HOSTILE[x]
    for sep in ("@", ".", "="):
        head, s, tail = x.partition(sep)
        if s and head in HOSTILE:
            return HOSTILE[head] + s + tail
    return x


def _hostile_tree(x: object) -> object:
    if isinstance(x, dict):
        return {_hostile_name(k): _hostile_tree(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_hostile_tree(v) for v in x]
    return _hostile_name(x)


def make_hostile(folder: Path, kind: str = "run") -> Path:
    """A results folder whose every string -- scenario, option, channel, tier, phase
    names, currency, description, metric scopes, meta fields -- is an injection attempt."""
    (make_roadmap if kind == "roadmap" else make_run)(folder)
    for csv in folder.glob("*.csv"):
        df = pd.read_csv(csv)
        for col in df.columns:
            if pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object:
                df[col] = df[col].map(_hostile_name)
        df.columns = [f"agents_{_hostile_name(c[7:])}" if c.startswith("agents_") else c
                      for c in df.columns]
        df.to_csv(csv, index=False)
    sc = yaml.safe_load((folder / "scenario.yaml").read_text())
    sc = _hostile_tree(sc)
    base = sc["baseline"] if kind == "roadmap" else sc
    base["description"] = HOSTILE["t"] + " " + HOSTILE["base"]
    base["currency"] = HOSTILE["CNY"]
    if kind == "roadmap":
        sc["roadmap"]["currency"] = HOSTILE["CNY"]
    (folder / "scenario.yaml").write_text(yaml.safe_dump(sc, sort_keys=False))
    doc = json.loads((folder / "summary.json").read_text())
    doc["meta"] = _hostile_tree(doc["meta"])
    doc["meta"].update(title=HOSTILE["more"], ccsim_version=HOSTILE["base"],
                       end=HOSTILE["t"], complete=False, error=HOSTILE["chat"],
                       replications_done=HOSTILE["advanced"], replications_planned=3)
    (folder / "summary.json").write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize("kind", ["run", "roadmap"])
def test_hostile_strings_are_text_in_the_page(tmp_path: Path, kind: str) -> None:
    page = render(make_hostile(tmp_path / kind, kind))
    html_part = re.sub(r"<script>.*?</script>|<script type=\"application/json\" class=fig>"
                       r".*?</script>", "", page, flags=re.S)
    for bad in ("<img", "<svg", "<iframe", "<a href=\"javascript", "<x ", "<body onload",
                "<b>bold", "<style>body", "<!--"):
        assert bad not in html_part, bad
    assert "&lt;img src=x onerror=" in html_part and "&lt;/script&gt;&lt;script&gt;" in html_part
    assert "&#34;&#39;&gt;&lt;svg onload=" in html_part   # quotes escaped: no attribute breakout
    # every <script> element is the page's own: head, plotly.js, report.js, one per figure
    n_figs = page.count("<figure class=chart")
    assert page.count("<script") == 3 + n_figs
    assert page.count("</script>") == 3 + n_figs
    # in the figures, names are escaped for plotly's markup and decode to the literal text
    raw = re.findall(r'<script type="application/json" class=fig>(.*?)</script>', page, re.S)
    assert raw and not any(re.search(r"[<>]|&(?!amp;|lt;|gt;)", r) for r in raw)  # \u003c
    shown = set(_strings(figures(page)))
    assert HOSTILE["base"] in shown and HOSTILE["advanced"] in shown     # tier names (x)
    assert (HOSTILE["phone"] if kind == "run" else HOSTILE["pilot"]) in shown
    assert not any("<" in x for x in _strings([json.loads(r) for r in raw]))  # as sent


def _strings(x: object) -> list[str]:
    if isinstance(x, str):
        return [x]
    if isinstance(x, dict):
        return [s for v in x.values() for s in _strings(v)]
    if isinstance(x, list):
        return [s for v in x for s in _strings(v)]
    return []


def test_plot_text_escaping() -> None:
    from sim.report.charts import escape_spec, plot_text

    assert plot_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    spec = {"data": [{"name": "<i>", "y": {"dtype": "f4", "bdata": "AAA<"},
                      "hovertemplate": "%{y}<extra></extra>"}],
            "layout": {"xaxis": {"tickformat": "%a<br>%H", "ticktext": ["<a>"]}}}
    out = escape_spec(spec)
    assert out["data"][0]["name"] == "&lt;i&gt;" and out["data"][0]["y"]["bdata"] == "AAA<"
    assert out["data"][0]["hovertemplate"] == "%{y}<extra></extra>"
    assert out["layout"]["xaxis"] == {"tickformat": "%a<br>%H", "ticktext": ["&lt;a&gt;"]}


# --- the terminal (SPEC §7.1: input shown literally, no markup, no control characters) -----

TERMINAL_HOSTILE = ["[/bad]", "[bold red]markup[/]", "\x1b[31mred\x1b[0m", ":smile:",
                    "\x1b]0;pwned\x07title", "\x1b[2J\x1b[Hclear", "a\rb", "\x9b31m",
                    "rtl\u202eevil", "[link=https://x.example]click[/link]"]


def _terminal(*renderables: object) -> str:
    """What a colour terminal receives from the ccsim console."""
    import io

    from sim.report.console import SafeConsole

    buf = io.StringIO()
    term = SafeConsole(file=buf, force_terminal=True, color_system="truecolor", width=200)
    for r in renderables:
        term.print(r)
    return buf.getvalue()


def test_clean_replaces_every_control_character_visibly() -> None:
    from sim.report.console import clean

    assert clean("a\x1b[31mb") == "a␛[31mb" and clean("x\x07\x00") == "x␇␀"
    assert clean("a\rb\x7f") == "a␍b␡" and clean("\x9b2J") == "\\x9b2J"
    assert clean("rtl\u202eevil\u2066") == "rtl\\u202eevil\\u2066"
    assert clean("tab\tand\nnewline [b] :x: é 中") == "tab\tand\nnewline [b] :x: é 中"
    assert all(clean(chr(c)) != chr(c) for c in [*range(0, 9), *range(11, 32), *range(127, 160)])


def test_terminal_shows_input_literally() -> None:
    """Markup, emoji codes, links and control sequences in names and titles are printed as
    text: `[/bad]` never raises, nothing from input recolours, retitles or clears."""
    from sim.report.console import (
        differences_table,
        kpi_table,
        styled,
        target_matrix,
        targets_table,
    )

    names = TERMINAL_HOSTILE
    summary = pd.DataFrame(
        [["t", v, s, m, 0.5, 0.4, 0.6, 3] for v in names for s in ("phone", names[1])
         for m in ("asa_s", "service_level")]
        + [["t", v, "cost", "total", 10.0, 9.0, 11.0, 3] for v in names],
        columns=["scenario", "variant", "scope", "metric", "mean", "ci_low", "ci_high",
                 "replications"])
    targets = pd.DataFrame([["t", v, "phone.asa_s", "max", 60.0, 0.5, 0.4, 0.6, "met"]
                            for v in names],
                           columns=["scenario", "variant", "metric", "bound", "limit", "mean",
                                    "ci_low", "ci_high", "status"])
    diffs = pd.DataFrame([["t", v, "phone", "asa_s", 1.0, 0.5, 1.5] for v in names[1:]],
                         columns=["scenario", "variant", "scope", "metric", "diff_mean",
                                  "ci_low", "ci_high"])
    out = _terminal(kpi_table(summary, ["phone", names[1]], [names[0]], names[2],
                              title=names[4]),
                    targets_table(targets), target_matrix(targets, names, "option"),
                    differences_table(diffs, summary, ["phone"]),
                    styled(("incomplete", "bold red"), ": ", names[0]), names[5])
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)       # the console's own colours
    for shown in ("[/bad]", "[bold red]markup[/]", "␛[31mred␛[0m", ":smile:",
                  "␛]0;pwned␇title", "␛[2J␛[Hclear", "a␍b", "\\x9b31m", "rtl\\u202eevil",
                  "[link=https://x.example]click[/link]"):
        assert shown in plain, shown
    assert "😄" not in out and "\x07" not in out and "\r" not in out and "\x9b" not in out
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x1b[H" not in out
    assert set(re.findall(r"\x1b\[[0-9;]*[A-Za-z]", out)) <= {
        m for m in re.findall(r"\x1b\[[0-9;]*m", out)}  # only colour codes, from ccsim
    assert "\x1b[31mred" not in out


def test_cli_prints_hostile_names_literally(tmp_path: Path) -> None:
    """A scenario whose variant names and description hold markup, `[/bad]` and ESC
    sequences: the run finishes (exit 0), prints them as text, and no ESC reaches the
    terminal (the console adds no colour on a pipe, so any ESC would come from input)."""
    doc = yaml.safe_load(SMALL)
    doc["description"] = "\x1b]0;pwned\x07 [bold]desc[/] <img src=x onerror=alert(1)>"
    doc["currency"] = "[red]CNY[/] \x1b[2J"
    doc["variants"] = {n: {"tiers.base.agents": 6 + i} for i, n in enumerate(
        ["[/bad]", "[bold red]markup[/] \x1b[31mred", ":smile: \u202eevil"])}
    (tmp_path / "h.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    res = ccsim("run", str(tmp_path / "h.yaml"), "--out", str(tmp_path / "out"),
                "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for text in (res.stdout, res.stderr):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", text), repr(text[:300])
    assert "[/bad]" in res.stdout and "[bold red]markup[/] ␛[31mred" in res.stdout
    assert ":smile: \\u202eevil" in res.stdout and "[red]CNY[/] ␛[2J" in res.stdout
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page


def test_long_horizons_are_drawn_as_means() -> None:
    """A line has at most 672 points: a 30-day horizon of 30-minute intervals (1,440) is
    drawn as means of 3 intervals; gaps (closed hours) stay gaps."""
    from sim.report.intervals import bucket, means

    assert bucket(336) == 1 and bucket(672) == 1 and bucket(1440) == 3
    y = np.array([1.0, 2.0, 3.0, np.nan, np.nan, np.nan, 4.0, np.nan])
    assert np.allclose(means(y, 3), [2.0, np.nan, 4.0], equal_nan=True)
    assert means(y, 1) is y


def test_terminal_marks_wait_targets_that_mix_modes() -> None:
    """With chat async beside the phone, all.asa_s and a contact type on both channels
    (simple) get ⚠ and the note; phone.asa_s and all.aht_s do not; without the
    scenario's channels nothing is marked."""
    from types import SimpleNamespace

    from sim.report.console import mixed_waits, target_matrix, targets_table

    chans = {"phone": SimpleNamespace(mode="realtime", mix={"simple": 1.0}),
             "chat": SimpleNamespace(mode="async", mix={"simple": 0.5, "other": 0.5})}
    metrics = ["all.asa_s", "simple.service_level", "phone.asa_s", "all.aht_s",
               "other.asa_s"]
    targets = pd.DataFrame([["t", "base", m, "max", 60.0, 1.0, 0.5, 1.5, "met"]
                            for m in metrics],
                           columns=["scenario", "variant", "metric", "bound", "limit", "mean",
                                    "ci_low", "ci_high", "status"])
    assert mixed_waits(targets, chans) == {"all.asa_s", "simple.service_level"}
    assert mixed_waits(targets, list(chans)) == set()
    out = _terminal(targets_table(targets, chans), target_matrix(targets, ["base"],
                                                                  channels=chans))
    assert out.count("all.asa_s ⚠") == 2 and out.count("simple.service_level ⚠") == 2
    assert "phone.asa_s ⚠" not in out and "other.asa_s ⚠" not in out
    assert out.count("mixes realtime and async channels") == 2


def test_terminal_waits_by_mode_when_results_have_both_modes() -> None:
    """With `realtime` and `async` rows offered in the results (SPEC §7.2), the KPI and
    paired-difference tables show waits by mode and by channel, never `all`'s; the
    channels' modes come from the scenario or, given only names, from those rows."""
    from sim.report.console import differences_table, kpi_table

    scopes = ["all", "realtime", "async", "phone", "email"]
    summary = pd.DataFrame(
        [["t", v, s, m, x, x * 0.9, x * 1.1, 3] for v in ("base", "more") for s in scopes
         for m, x in (("offered", 100.0), ("asa_s", 50.0), ("service_level", 0.8),
                      ("aht_s", 300.0))],
        columns=["scenario", "variant", "scope", "metric", "mean", "ci_low", "ci_high",
                 "replications"])
    diffs = pd.DataFrame([["t", "more", s, m, 1.0, 0.5, 1.5] for s in scopes
                          for m in ("asa_s", "service_level")],
                         columns=["scenario", "variant", "scope", "metric", "diff_mean",
                                  "ci_low", "ci_high"])
    for chans in (["phone", "email"], {"phone": {"mode": "realtime"},
                                       "email": {"mode": "async"}}):
        out = _terminal(kpi_table(summary, chans, [], "CNY"),
                        differences_table(diffs, summary, chans))
        rows = [" ".join(line.strip("│┃ ").split()) for line in out.splitlines()]
        waits = [r for r in rows if "ASA (s)" in r or "service level" in r]
        assert not any(r.startswith("all ") for r in waits), waits
        for scope in ("realtime", "async", "phone", "email"):
            assert sum(r.startswith(f"{scope} │ ASA (s)") for r in waits) == 2, (scope, waits)
        assert any(r.startswith("all │ AHT (s)") for r in rows)
        assert "+100.0 pp" in out   # a share's difference in percentage points
    one_mode = summary[~summary["scope"].isin(["async"])]
    out = _terminal(kpi_table(one_mode, ["phone", "email"], [], "CNY"))
    rows = [" ".join(line.strip("│┃ ").split()) for line in out.splitlines()]
    assert any(r.startswith("all │ ASA (s)") for r in rows), rows   # one mode: all is fine


def test_error_messages_never_carry_control_characters(tmp_path: Path) -> None:
    """An input error quoting a path with ESC and BEL prints them as ␛ and ␇ (exit 2)."""
    res = ccsim("run", str(tmp_path / "x\x1b[2J\x07.yaml"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "x␛[2J␇.yaml" in res.stderr and "\x1b" not in res.stderr + res.stdout
