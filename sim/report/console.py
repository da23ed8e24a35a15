"""Terminal output with rich: KPI tables with units and CIs, target status in colour.

Plain text (no colour, no progress bar) when stdout is not a terminal or with --quiet.

Text from input files (names, descriptions, currency, error messages quoting them) is
shown literally: the console made here reads no rich markup or emoji codes in any
string (``[/bad]`` is text, not a closing tag) and replaces control characters -- ESC
sequences, BEL, CR, C1 controls, bidirectional overrides -- by visible stand-ins (ESC
shows as ␛), so nothing from input can recolour, move the cursor, retitle or clear the
terminal. Colour comes only from :class:`rich.text.Text` styles set here (``styled``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

# C0 controls but tab and newline, DEL, C1 controls, and Unicode bidi/format controls
# that reorder or hide text (Trojan Source).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2069\ufeff]")


def _stand_in(m: re.Match) -> str:
    c = ord(m.group(0))
    if c < 0x20:
        return chr(0x2400 + c)     # Unicode control pictures: ␛ for ESC, ␇ for BEL
    if c == 0x7F:
        return "\u2421"           # ␡
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def clean(text: object) -> str:
    """Text safe to print on a terminal: every control character but tab and newline
    replaced by a visible stand-in (ESC -> ␛, CR -> ␍, C1 and bidi controls -> \\x9b,
    \\u202e)."""
    return _CONTROL.sub(_stand_in, str(text))


class SafeConsole(Console):
    """A rich Console for text from input: no markup, no emoji codes, no highlighting,
    control characters replaced (:func:`clean`) in every string it renders."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kw)

    def render_str(self, text: str, **kw: Any) -> Text:  # every str, table cell, title
        kw.update(markup=False, emoji=False)
        return super().render_str(clean(text), **kw)

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        for seg in super().render(renderable, options):  # a Text built elsewhere
            if not seg.control and _CONTROL.search(seg.text):
                seg = Segment(clean(seg.text), seg.style)
            yield seg


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line with styles: ``styled(("incomplete", "bold red"), ": ", error)``; every
    part is literal text (no markup read), cleaned of control characters."""
    out = Text()
    for p in parts:
        text, style = (p, "") if isinstance(p, str) else p
        out.append(clean(text), style=style)
    return out


STATUS_STYLE = {"met": "green", "missed": "bold red", "uncertain": "yellow"}

# (metric, label, format) rows of the KPI table, shown for "all" and each channel
_CONTACT_ROWS = [
    ("offered", "offered", "{:,.0f}"),
    ("automation_rate", "automation rate", "{:.1%}"),
    ("asa_s", "ASA (s)", "{:,.1f}"),
    ("service_level", "service level", "{:.1%}"),
    ("wait_p90_s", "wait p90 (s)", "{:,.1f}"),
    ("abandon_rate", "abandon rate", "{:.1%}"),
    ("block_rate", "block rate", "{:.1%}"),
    ("closed", "refused (closed)", "{:,.0f}"),
    ("aht_s", "AHT (s)", "{:,.0f}"),
    ("fcr", "FCR", "{:.1%}"),
    ("repeat_rate", "repeat rate", "{:.1%}"),
    ("transfers_per_contact", "transfers/contact", "{:.2f}"),
]
# Rows left out when every option shows this trivial value (the feature is not in use).
_TRIVIAL = {"block_rate": 0.0, "closed": 0.0, "fcr": 1.0, "repeat_rate": 0.0,
            "transfers_per_contact": 0.0, "automation_rate": 0.0}
_TIER_ROWS = [("paid_agents", "paid at a time (avg)", "{:,.1f}"),
              ("agents", "on queue at a time (avg FTE)", "{:,.1f}"),
              ("occupancy", "occupancy", "{:.1%}")]
# Waits (SPEC §7.2): over channels of both modes they are shown by mode, never for `all`.
_WAITS = {"asa_s", "service_level", "wait_p90_s", "abandon_rate", "mean_wait_s", "p_wait",
          "mean_queue_length"}
_MODES = ("realtime", "async")
_COST_ROWS = [("labor", "labour", "{:,.0f}"), ("bot", "bot", "{:,.0f}"),
              ("overhead", "overhead", "{:,.0f}"), ("total", "total cost", "{:,.0f}"),
              ("per_contact", "cost per contact", "{:,.2f}"),
              ("labor_share", "labour share", "{:.1%}")]


def make_console(quiet: bool = False, stderr: bool = False) -> Console:
    console = SafeConsole(stderr=stderr, quiet=quiet)
    if not console.is_terminal:  # a file or a pipe: no 80-column squeeze
        console = SafeConsole(stderr=stderr, quiet=quiet, width=160)
    return console


def progress(console: Console, total: int, label: str) -> Progress:
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                    TextColumn("{task.completed}/{task.total}", markup=False),
                    TimeElapsedColumn(), TextColumn("ETA", markup=False),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not console.is_terminal or console.quiet)


def _cell(row: pd.Series | None, fmt: str) -> str:
    if row is None or not isinstance(row["mean"], float) or math.isnan(row["mean"]):
        return "–"
    text = fmt.format(row["mean"])
    lo, hi = row["ci_low"], row["ci_high"]
    if not (math.isnan(lo) or math.isnan(hi)) and hi > lo:
        half = (hi - lo) / 2.0
        pct = fmt.endswith("%}")
        if math.isclose(hi - row["mean"], row["mean"] - lo, rel_tol=1e-6, abs_tol=1e-12):
            text += " ±" + (f"{half:.1%}" if pct else fmt.format(half).lstrip())
        else:  # cut at the metric's range (a wait cannot be < 0): show both ends
            text += f" [{fmt.format(lo).strip()}, {fmt.format(hi).strip()}]"
    return text


def _mixed(channels: Sequence[str] | Mapping[str, Any], summary: pd.DataFrame) -> bool:
    """Whether channels of both modes run: from the scenario's channels (a mapping of
    name -> channel with a ``mode``), or from results with both mode scopes offered."""
    if isinstance(channels, Mapping):
        modes = {str(getattr(c, "mode", None) or (c.get("mode") if isinstance(c, dict)
                                                  else None) or "realtime")
                 for c in channels.values()}
        if len(modes) > 1:
            return True
    offered = summary[(summary["metric"] == "offered") & summary["scope"].isin(_MODES)]
    return set(offered[offered["mean"] > 0]["scope"]) == set(_MODES)


def contact_scopes(channels: Sequence[str] | Mapping[str, Any],
                   summary: pd.DataFrame) -> list[tuple[str, set[str] | None]]:
    """(scope, metrics it shows or None for every metric): ``all`` (without its waits when
    channels of both modes run), ``realtime`` and ``async`` (their waits, when mixed), then
    each channel when there are several."""
    names = list(channels)
    if len(names) <= 1:
        return [(c, None) for c in names]
    if not _mixed(channels, summary):
        return [("all", None)] + [(c, None) for c in names]
    present = set(summary["scope"])
    return ([("all", {m for m, _, _ in _CONTACT_ROWS} - _WAITS)]
            + [(m, _WAITS) for m in _MODES if m in present] + [(c, None) for c in names])


def kpi_table(summary: pd.DataFrame, channels: Sequence[str] | Mapping[str, Any],
              tiers: Sequence[str], currency: str,
              title: str = "KPIs (mean ± 95% CI half-width)",
              only: set[str] | None = None, labels: dict[str, str] | None = None) -> Table:
    """Rows: KPIs by scope; columns: one per (scenario, variant). ``only``: show just
    these metric names (a compact table); ``labels``: column headings by variant.
    ``channels``: names, or the scenario's channels (a mapping) so that waits over
    channels of both modes are shown by mode."""
    keys = list(dict.fromkeys(zip(summary["scenario"], summary["variant"], strict=True)))
    multi_scenario = len({k[0] for k in keys}) > 1
    table = Table(title=title, title_justify="left")
    table.add_column("scope")
    table.add_column("metric")
    for sc, var in keys:
        head = (labels or {}).get(var, var)
        table.add_column(f"{sc}/{head}" if multi_scenario else head, justify="right")
    idx = summary.set_index(["scenario", "variant", "scope", "metric"])

    def add(scope: str, metric: str, label: str, fmt: str) -> None:
        if only is not None and metric not in only:
            return
        cells = []
        for sc, var in keys:
            key = (sc, var, scope, metric)
            cells.append(_cell(idx.loc[key] if key in idx.index else None, fmt))
        if all(c == "–" for c in cells):
            return
        table.add_row(scope, label, *cells)

    for scope, shows in contact_scopes(channels, summary):
        for metric, label, fmt in _CONTACT_ROWS:
            if shows is not None and metric not in shows:
                continue
            if metric in _TRIVIAL and _all_equal(summary, scope, metric, _TRIVIAL[metric]):
                continue
            add(scope, metric, label, fmt)
        table.add_section()
    for tier in tiers:
        for metric, label, fmt in _TIER_ROWS:
            add(tier, metric, label, fmt)
    table.add_section()
    for metric, label, fmt in _COST_ROWS:
        if metric in ("bot", "overhead") and _all_equal(summary, "cost", metric, 0.0):
            continue
        add("cost", metric, label + (f" ({currency})" if "share" not in metric else ""), fmt)
    return table


def _all_equal(summary: pd.DataFrame, scope: str, metric: str, value: float) -> bool:
    sel = summary[(summary["scope"] == scope) & (summary["metric"] == metric)]["mean"]
    return bool((sel.fillna(value) == value).all())


def mixed_waits(targets: pd.DataFrame, channels: Sequence[str] | Mapping[str, Any] | None
                ) -> set[str]:
    """Targets on a wait whose scope mixes realtime and async channels (``all``, or a
    contact type arriving on both), given the scenario's channels (name -> channel)."""
    if not isinstance(channels, Mapping) or targets.empty:
        return set()

    def attr(c: Any, name: str) -> Any:
        return c.get(name) if isinstance(c, dict) else getattr(c, name, None)

    modes = {n: str(attr(c, "mode") or "realtime") for n, c in channels.items()}
    if len(set(modes.values())) < 2:
        return set()
    out = set()
    for metric in set(targets["metric"]):
        scope, _, name = str(metric).partition(".")
        if not (name in _WAITS or (name.startswith("wait_p") and name.endswith("_s"))):
            continue
        on = {modes[n] for n, c in channels.items() if scope in (attr(c, "mix") or {})}
        if scope == "all" or len(on) > 1:
            out.add(str(metric))
    return out


_MIXED_NOTE = ("⚠ mixes realtime and async channels (an email's hours beside the phone's "
               "seconds): read the waits by mode or channel")


def _status(status: object) -> Text:
    s = str(status)
    return Text(clean(s), style=STATUS_STYLE.get(s, ""))


def targets_table(targets: pd.DataFrame,
                  channels: Sequence[str] | Mapping[str, Any] | None = None) -> Table | None:
    """Every option and target; ``channels`` (the scenario's) marks a wait target whose
    scope mixes realtime and async channels with ⚠."""
    if targets.empty:
        return None
    multi_scenario = targets["scenario"].nunique() > 1
    mixed = mixed_waits(targets, channels)
    table = Table(title="Targets", title_justify="left",
                  caption=_MIXED_NOTE if mixed else None, caption_justify="left")
    for col in ("option", "metric", "target", "mean", "95% CI", "status"):
        table.add_column(col, justify="right" if col in ("mean", "95% CI") else "left",
                         no_wrap=col in ("metric", "status"))
    for _, r in targets.iterrows():
        option = f"{r['scenario']}/{r['variant']}" if multi_scenario else str(r["variant"])
        op = "≤" if r["bound"] == "max" else "≥"
        ci = ("–" if math.isnan(r["ci_low"]) else f"{r['ci_low']:.4g} – {r['ci_high']:.4g}")
        mean = "–" if math.isnan(r["mean"]) else f"{r['mean']:.4g}"
        bound = f"{op} {r['limit']:g}"
        if isinstance(r.get("per"), str) and r["per"]:  # SPEC 7.8: share of intervals/days
            bound += f" in ≥ {100 * r['share']:g}% of {r['per']}s"
            mean = "–" if math.isnan(r["mean"]) else f"{100 * r['mean']:.1f}% of {r['pairs']:g}"
            ci = ("–" if math.isnan(r["ci_low"]) else
                  f"{100 * r['ci_low']:.1f}% – {100 * r['ci_high']:.1f}%")
        table.add_row(option, str(r["metric"]) + (" ⚠" if r["metric"] in mixed else ""),
                      bound, mean, ci, _status(r["status"]))
    return table


_DIFF_ROWS = [("asa_s", "ASA (s)", "{:+,.1f}"), ("service_level", "service level", "pp"),
              ("abandon_rate", "abandon rate", "pp"),
              ("automation_rate", "automation rate", "pp")]


def _diff(v: float, fmt: str) -> str:
    return f"{v * 100:+.1f} pp" if fmt == "pp" else fmt.format(v)


def differences_table(diffs: pd.DataFrame, summary: pd.DataFrame,
                      channels: Sequence[str] | Mapping[str, Any]) -> Table:
    """Paired differences against the first option, with their 95% CIs; waits by mode
    when channels of both modes run (pp: percentage points)."""
    keys = list(dict.fromkeys(zip(diffs["scenario"], diffs["variant"], strict=True)))
    first = summary.iloc[0]
    table = Table(title=f"Paired differences vs {first['scenario']}/{first['variant']} "
                  "(same customers; mean [95% CI]; pp = percentage points)",
                  title_justify="left")
    table.add_column("scope")
    table.add_column("metric")
    for sc, var in keys:
        table.add_column(f"{sc}/{var}", justify="right")
    idx = diffs.set_index(["scenario", "variant", "scope", "metric"])
    rows = [(s, m, lab, f) for s, shows in contact_scopes(channels, summary)
            for m, lab, f in _DIFF_ROWS if shows is None or m in shows] + [
        ("cost", "total", "total cost", "{:+,.0f}"), ("cost", "labor_share", "labour share",
                                                      "pp")]
    for scope, metric, label, fmt in rows:
        cells = []
        for sc, var in keys:
            key = (sc, var, scope, metric)
            if key not in idx.index or math.isnan(idx.loc[key]["diff_mean"]):
                cells.append("–")
                continue
            r = idx.loc[key]
            ci = ("" if math.isnan(r["ci_low"]) else
                  f" [{_diff(r['ci_low'], fmt)}, {_diff(r['ci_high'], fmt)}]")
            cells.append(_diff(r["diff_mean"], fmt) + ci)
        if any(c != "–" for c in cells):
            table.add_row(scope, label, *cells)
    return table


def target_matrix(targets: pd.DataFrame, order: Sequence[str], what: str = "phase",
                  channels: Sequence[str] | Mapping[str, Any] | None = None) -> Table | None:
    """Targets (rows) by option or phase (columns): status in colour with the mean; ⚠ on
    a wait target whose scope mixes realtime and async channels."""
    sel = targets[targets["variant"].isin(order)]
    if sel.empty:
        return None
    mixed = mixed_waits(sel, channels)
    table = Table(title=f"Targets by {what} (met / missed / uncertain: the 95% CI straddles "
                  "the target)", title_justify="left", caption=_MIXED_NOTE if mixed else None,
                  caption_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("target")
    for v in order:
        table.add_column(v, justify="right")
    for (metric, bound, limit), grp in sel.groupby(["metric", "bound", "limit"], sort=False):
        by = grp.set_index("variant")
        cells: list[str | Text] = []
        for v in order:
            if v not in by.index:
                cells.append("–")
                continue
            r = by.loc[v]
            mean = "–" if math.isnan(r["mean"]) else f"{r['mean']:.4g}"
            cells.append(_status(r["status"]) + Text(f" {mean}"))
        table.add_row(str(metric) + (" ⚠" if metric in mixed else ""),
                      f"{'≤' if bound == 'max' else '≥'} {limit:g}", *cells)
    return table


def roadmap_table(summary: pd.DataFrame, months: pd.DataFrame, rm, currency: str  # noqa: ANN001
                  ) -> Table:
    """Per phase: months, investment, operating cost a month at its end, savings against
    the baseline (95% CI) and the cumulative net at the phase's end."""
    idx = summary.set_index(["variant", "scope", "metric"])
    table = Table(title=f"Budget phases ({currency}; operating cost and savings per month "
                  "at the end of the phase, mean [95% CI])", title_justify="left")
    for col in ("phase", "months", "investment", "operating / month",
                "savings / month vs baseline", "cumulative net at end"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    base = idx.loc[("baseline", "cost", "operating_per_month")]
    table.add_row("baseline", "–", "–", f"{base['mean']:,.0f}", "–", "–")
    end = 0
    for ph in rm.phases:
        start, end = end + 1, end + ph.months
        op = idx.loc[(ph.name, "cost", "operating_per_month")]
        sav = idx.loc[(ph.name, "cost", "savings_per_month")]
        row = months[months["month"] == min(end, len(months))]
        cum = row.iloc[0] if not row.empty else None
        table.add_row(ph.name + (" (ramp)" if ph.ramp else ""), f"{start}–{end}",
                      f"{ph.investment:,.0f}", f"{op['mean']:,.0f}",
                      f"{sav['mean']:+,.0f} [{sav['ci_low']:+,.0f}, {sav['ci_high']:+,.0f}]",
                      "–" if cum is None else f"{cum['cumulative_net']:+,.0f}")
    return table


def payback_line(summary: pd.DataFrame, horizon: int) -> Text:
    r = summary[summary["scope"] == "roadmap"].set_index("metric")
    pay, lo, hi = (r.loc[m, "mean"] for m in ("payback_month", "payback_month_low",
                                                "payback_month_high"))

    def month(x: float) -> str:
        return f"month {x:.0f}" if not math.isnan(x) else f"not within {horizon} months"

    roi = r.loc["roi"]
    text = styled("payback: ", (month(pay), "bold"), f" (range {month(lo)} – {month(hi)}, "
                  "from the 95% CI of the cumulative net)")
    if not math.isnan(roi["mean"]):
        text += styled(f"; ROI over {horizon} months: ", (f"{roi['mean']:+.0%}", "bold"),
                       f" [{roi['ci_low']:+.0%}, {roi['ci_high']:+.0%}]")
    return text
