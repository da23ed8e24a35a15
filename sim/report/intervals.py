"""Charts by interval (intervals.csv): small multiples, one panel per channel (or tier) on
its own y axis -- phone's seconds never flattened beside email's hours -- with the options
as lines, over weekday and clock time ("Mon 08:00").

Simulation time 0 is Monday 00:00 of the measured week (sim/inputs/schedule.py), so an
interval's ``start_h`` maps onto a date axis that starts on a Monday; plotly then writes
the ticks and the hover as weekday and clock time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.report.charts import Chart, bound, layout, option_color, target_line
from sim.report.data import MODES, ReportData, is_wait
from sim.report.figures import merge, scatter
from sim.report.figures import panels as panel_figure

WEEK_START = "2024-01-01"   # a Monday (any Monday would do: only weekday and clock show)
HOUR_MS = 3_600_000
MAX_VISIBLE_OPTIONS = 4     # more options start hidden (click the legend)
PANEL_PX = 170
MAX_POINTS = 672            # per line (two weeks of 30-minute intervals); longer: means


def time_axis(horizon_h: float) -> dict:
    """x-axis settings: ticks at round hours in weekday and clock time; a day number too
    when the horizon is longer than a week."""
    if horizon_h <= 12:
        step = 1
    elif horizon_h <= 24:
        step = 3
    elif horizon_h <= 48:
        step = 6
    elif horizon_h <= 24 * 8:
        step = 24
    else:
        step = 24 * math.ceil(horizon_h / 24 / 8)
    long = horizon_h > 24 * 7
    return {"type": "date", "tick0": WEEK_START, "dtick": step * HOUR_MS,
            "tickformat": "%a %H:%M<br>day %-j" if long else "%a %H:%M",
            "hoverformat": "%a %H:%M, day %-j" if long else "%a %H:%M",
            "minor": {"dtick": (6 if step >= 24 else step) * HOUR_MS / (1 if step >= 24
                                                                       else 2),
                      "showgrid": True, "gridcolor": "#f1f3f4"}}


def wait_unit(values: pd.Series) -> tuple[float, str]:
    """(seconds per unit, unit) so a channel's waits read as s, min or h."""
    top = float(np.nanmax(values.to_numpy(dtype=float))) if values.notna().any() else 0.0
    return (3600.0, "h") if top > 7200 else (60.0, "min") if top > 300 else (1.0, "s")


def _series(iv: pd.DataFrame, column: str) -> dict[tuple, pd.DataFrame]:
    """(scenario, variant, channel) -> its rows' start_h and ``column``, in time order."""
    return {k: g.sort_values("start_h")[["start_h", column]]
            for k, g in iv.groupby(["scenario", "variant", "channel"], sort=False)}


def panels(d: ReportData, iv: pd.DataFrame, column: str, title: str, axis: str, u: str,
           slug: str, names: list[str], metric: str | None = None) -> Chart | None:
    """One panel per channel in ``names`` (the ``channel`` column of ``iv``) that has data
    in ``column``; a line per option; targets on ``metric`` of the panel's channel, of its
    mode and of ``all`` (waits of ``all`` only when every channel has the same mode)."""
    if iv.empty or column not in iv or iv[column].isna().all():
        return None
    groups = _series(iv, column)
    present = {(k[0], k[1]) for k in groups}
    opts = [k for k in d.headline if k in present]
    empty = pd.DataFrame({"start_h": [], column: []})
    data = {(n, k): groups.get((k[0], k[1], n), empty) for n in names for k in opts}
    names = [n for n in names if any(data[(n, k)][column].notna().any() for k in opts)]
    if not names or not opts:
        return None
    modes = d.modes()
    label = {n: n + (f" ({modes[n]})" if d.mixed_modes and n in modes else "") for n in names}
    fig = panel_figure(len(names), min(0.5 / len(names), 0.12), [label[n] for n in names])
    for a in fig.layout.get("annotations", []):
        merge(a, {"x": 0, "xanchor": "left", "font": {"size": 12}})
    n_targets, starts = 0, iv["start_h"].drop_duplicates().sort_values()
    step_h = float(starts.iloc[1] - starts.iloc[0]) if len(starts) > 1 else 0.5
    horizon = float(starts.iloc[-1]) + step_h if len(starts) else 24.0
    per = bucket(len(starts))
    for row, name in enumerate(names, start=1):
        scale, uname = wait_unit(pd.concat([data[(name, k)][column] for k in opts])) \
            if u == "s" else (1.0, u)
        for i, key in enumerate(opts):
            s = data[(name, key)]
            if s.empty:
                continue
            first = float(s["start_h"].iloc[0])
            full = s.set_index("start_h")[column].reindex(
                first + step_h * np.arange(round((s["start_h"].iloc[-1] - first) / step_h) + 1))
            fig.add_trace(_line(d, key, means(full.to_numpy(dtype=float), per) / scale, first,
                                step_h * per, row == 1, i < MAX_VISIBLE_OPTIONS),
                          row=row)
        for scope in (name, modes.get(name, ""), "all"):
            if not scope or (scope == "all" and d.mixed_modes and is_wait(metric or column)) \
                    or (scope in MODES and not d.mixed_modes):
                continue
            for b, lim in bound(d, f"{scope}.{metric or column}"):
                n_targets += target_line(fig, lim, f"{scope} {'≤' if b == 'max' else '≥'}", u,
                                         scale, row=row)
        fig.update_yaxes(row=row, title={"text": f"{axis} ({uname})"})
        if u == "%":
            fig.update_yaxes(row=row, range=[0, 1.05], tickformat=".0%")
        else:
            fig.update_yaxes(row=row, rangemode="tozero")
    if per > 1:
        title += f" ({per * step_h:g}-hour means)"
    layout(fig, title, "", "", hovermode="x unified",
           legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom",
                   "x": 0, "font": {"size": 11}})
    fig.update_layout(margin={"l": 64, "r": 20, "t": 56, "b": 96})
    fig.update_xaxes(**time_axis(horizon))
    fig.update_xaxes(row=len(names), title={"text": "weekday and clock time"})
    fig.update_layout(showlegend=len(opts) > 1)
    return Chart(fig, slug, n_targets, height=100 + PANEL_PX * len(names))


def bucket(n: int) -> int:
    """Intervals per plotted point: 1, or enough that a line has at most MAX_POINTS (a
    30-day horizon of 30-minute intervals is drawn as 1.5-hour means)."""
    return max(1, math.ceil(n / MAX_POINTS))


def means(y: np.ndarray, per: int) -> np.ndarray:
    """Means of consecutive runs of ``per`` values (gaps ignored; all gaps -> gap)."""
    if per == 1:
        return y
    pad = np.full(math.ceil(len(y) / per) * per, np.nan)
    pad[: len(y)] = y
    blocks = pad.reshape(-1, per)
    n = np.sum(~np.isnan(blocks), axis=1)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, np.nansum(blocks, axis=1) / np.maximum(n, 1), np.nan)


def _line(d: ReportData, key: tuple[str, str], y: np.ndarray, first_h: float, step_h: float,
          legend: bool, visible: bool) -> dict:
    name = d.label(key)
    return scatter(x0=_date(first_h), dx=step_h * HOUR_MS, y=y.astype(np.float32),
                   mode="lines", name=name, legendgroup=name, showlegend=legend,
                   line={"color": option_color(d, key), "width": 1.6, "shape": "hv"},
                   visible=True if visible else "legendonly")


def _date(hours: float) -> str:
    minutes = round(hours * 60)
    return (pd.Timestamp(WEEK_START) + pd.Timedelta(minutes=minutes)).strftime(
        "%Y-%m-%d %H:%M")


def interval_charts(d: ReportData) -> list[Chart]:
    """Service level and ASA per channel; queue length (when intervals.csv has it) and an
    async channel's backlog; agents on queue per tier where staffing changes over time."""
    iv = d.intervals
    if iv.empty or "channel" not in iv:
        return []
    chans = [c for c in (d.channels() or list(dict.fromkeys(iv["channel"])))
             if c in set(iv["channel"])]
    modes = d.modes()
    out = [panels(d, iv, "service_level", "Service level by interval, per channel",
                  "service level", "%", "interval-service_level", chans),
           panels(d, iv, "asa_s", "Average speed of answer by interval, per channel",
                  "ASA", "s", "interval-asa_s", chans)]
    if "mean_queue_length" in iv:
        out.append(panels(d, iv, "mean_queue_length", "Queue length by interval, per channel",
                          "waiting", "contacts", "interval-mean_queue_length", chans))
    backlog = [c for c in chans if modes.get(c) == "async"]
    if backlog and "backlog" in iv and iv[iv["channel"].isin(backlog)]["backlog"].fillna(0).any():
        out.append(panels(d, iv, "backlog", "Backlog at the end of each interval, async "
                          "channels", "backlog", "contacts", "interval-backlog", backlog))
    out.append(agents_panels(d))
    return [c for c in out if c is not None]


def agents_panels(d: ReportData) -> Chart | None:
    """Agents on queue by interval: one panel per tier whose staffing changes over time,
    a line per option."""
    iv = d.intervals
    if iv.empty:
        return None
    spread = iv.groupby(["scenario", "variant"], sort=False).nunique()
    tiers = [t for t in d.tiers() if f"agents_{t}" in iv and any(
        k in spread.index and spread.loc[k, f"agents_{t}"] > 1 for k in d.headline)]
    if not tiers:
        return None
    one = iv[iv["channel"] == iv["channel"].iloc[0]]
    long = pd.concat([one.assign(channel=t, agents=one[f"agents_{t}"]) for t in tiers])
    return panels(d, long, "agents", "Agents on queue by interval, per tier", "on queue",
                  "agents", "interval-agents", tiers)
