"""Terminal output for uncertain inputs: probabilities in plain words, P(met) per target
and option/phase, the variance split, and the inputs that move the outputs most."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from rich.table import Table
from rich.text import Text

from sim.report import console as con
from sim.report.console import styled


def _p(p: float, lo: float, hi: float) -> str:
    if not math.isfinite(p):
        return "–"
    return f"{p:.2f} ({lo:.2f}–{hi:.2f})"


def _month(x: float, horizon: int) -> str:
    return f"month {x:.0f}" if math.isfinite(x) else f"not within {horizon} months"


def missed_note(targets: pd.DataFrame, last: str) -> Text:
    """Beside a payback line: which targets the roadmap's end state misses."""
    t = targets[targets["variant"] == last] if not targets.empty else targets
    if t.empty:
        return Text()
    missed = list(t[t["status"] == "missed"]["metric"])
    unsure = list(t[t["status"] == "uncertain"]["metric"])
    if not missed and not unsure:
        return styled(f" — the end state ({last}) meets "
                      + (f"all {len(t)} targets" if len(t) > 1 else "its target"))
    out = styled(" — ", (f"but the end state ({last}) ", "bold"))
    if missed:
        out += styled((f"misses {len(missed)} of {len(t)} targets", "bold red"),
                      f" ({', '.join(missed)})")
    if unsure:
        out += styled((" and " if missed else "is ")
                      + f"uncertain on {len(unsure)} ({', '.join(unsure)})")
    return out


def payback_words(summary: pd.DataFrame, months: pd.DataFrame, horizon: int) -> Text:
    """"pays back within 60 months with probability 0.91 (0.83–0.95); ..." """
    r = summary[(summary["scope"] == "roadmap") & (summary["variant"] == "roadmap")
                ].set_index("metric")
    w = r.loc["p_payback_within_horizon"]
    text = styled(f"pays back within {horizon} months with probability ",
                  (_p(w["mean"], w["ci_low"], w["ci_high"]), "bold"))
    p10, p50, p90 = (r.loc[f"payback_month_p{q}", "mean"] for q in (10, 50, 90))
    if math.isfinite(p50):
        text += styled(f"; median payback {_month(p50, horizon)} (80% of draws between "
                       f"{_month(p10, horizon)} and {_month(p90, horizon)})")
    marks = [m for m in range(12, horizon + 1, 12)]
    if "p_paid_back" in months and marks:
        by = months.set_index("month")
        parts = [f"month {m}: " + _p(by.loc[m, "p_paid_back"], by.loc[m, "p_paid_back_low"],
                                     by.loc[m, "p_paid_back_high"])
                 for m in marks if m in by.index]
        text += styled("\nprobability of having paid back by " + "; ".join(parts))
    roi = [r.loc[f"roi_p{q}", "mean"] for q in (10, 50, 90)]
    if all(math.isfinite(x) for x in roi):
        text += styled(f"\nROI over {horizon} months: median {roi[1]:+.0%} (80% of draws "
                       f"{roi[0]:+.0%} to {roi[2]:+.0%}); NPV median "
                       f"{r.loc['npv_p50', 'mean']:,.0f}")
    return text


def p_met_table(targets: pd.DataFrame, order: Sequence[str], what: str = "phase"
                ) -> Table | None:
    """P(met): the share of draws whose mean meets each target, per option / phase."""
    if targets.empty or "p_met" not in targets:
        return None
    t = Table(title=f"P(met) by {what}: share of draws whose mean meets the target "
              "(95% Wilson interval)")
    t.add_column("metric")
    t.add_column("target")
    cols = [v for v in order if v in set(targets["variant"])]
    for v in cols:
        t.add_column(str(v), justify="right")
    targets = targets.copy()
    if "per" not in targets:   # targets per interval or day (SPEC 7.8): their own rows
        targets["per"], targets["share"] = "", math.nan
    targets["per"] = targets["per"].fillna("")
    seen = []
    for key, _g in targets.groupby(["metric", "bound", "limit", "per", "share"],
                                   sort=False, dropna=False):
        seen.append(key)
    for metric, bound, limit, per, share in seen:
        label = f"{'≥' if bound == 'min' else '≤'} {limit:g}"
        if per:
            label += f" in ≥ {100 * share:g}% of {per}s (draw: its share of pairs)"
        row: list[str | Text] = [str(metric), label]
        for v in cols:
            same = targets["share"].isna() if not per else targets["share"] == share
            g = targets[(targets["variant"] == v) & (targets["metric"] == metric)
                        & (targets["limit"] == limit) & (targets["per"] == per) & same]
            if g.empty:
                row.append("–")
                continue
            x = g.iloc[0]
            colour = "green" if x["p_low"] >= 0.9 else ("red" if x["p_high"] <= 0.1 else
                                                        "yellow")
            row.append(styled((_p(x["p_met"], x["p_low"], x["p_high"]), colour)))
        t.add_row(*row)
    return t


def variance_table(variance: pd.DataFrame, limit: int = 12) -> Table | None:
    if variance.empty:
        return None
    t = Table(title="Where the spread comes from: input uncertainty vs simulation noise "
              "(sd of one draw's mean; two-way draw × replication split)")
    for c in ("output", "mean", "sd from inputs", "sd from noise", "inputs' share", "so"):
        t.add_column(c, justify="left" if c in ("output", "so") else "right")
    for _, x in variance.head(limit).iterrows():
        share = x["share_input"]
        t.add_row(str(x["output"]), _num(x["mean"]), _num(x["sd_input"]),
                  _num(x["sd_noise"]), f"{share:.0%}" if math.isfinite(share) else "–",
                  str(x["advice"]))
    return t


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    if abs(x) < 1e-6:
        return "0"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def tornado_lines(sens: pd.DataFrame, output: str, top: int = 5) -> str:
    s = sens[sens["output"] == output].head(top)
    if s.empty:
        return ""
    lines = [f"inputs that move {output} most (rank correlation; mean in the "
             "lowest → highest tenth of the input):"]
    for _, x in s.iterrows():
        rho = x["rank_correlation"]
        lines.append(f"  {x['parameter']}: {rho:+.2f}; "
                     f"{_num(x['output_at_low'])} → {_num(x['output_at_high'])}"
                     if math.isfinite(rho) else f"  {x['parameter']}: –")
    return "\n".join(lines)


def print_uncertain_roadmap(term, tables: dict[str, pd.DataFrame], lr0, phases: list[str],  # noqa: ANN001
                            draws: int, reps: int, horizon: int, title: str | None,
                            compact: set[str] | None) -> None:
    sc = lr0.points[0].scenario
    s = tables["summary"]
    ends = s[s["variant"].isin(phases)]
    heading = title or f"roadmap {lr0.roadmap.roadmap}"
    term.print(con.kpi_table(ends, list(sc.channels), list(sc.tiers), sc.currency, only=compact,
                             title=f"{heading}: KPIs at the end of each phase, mean over "
                             f"{draws} draws of the uncertain inputs × {reps} replications "
                             "(± 95% CI half-width over the draws)"))
    pm = p_met_table(tables["targets"], phases)
    if pm is not None:
        term.print(pm)
    if "roadmap" not in tables:
        term.print("no roadmap.csv, payback or ROI: the run is incomplete")
        return
    term.print(con.roadmap_table(s, tables["roadmap"], lr0.roadmap, sc.currency))
    term.print(styled("payback: ") + payback_words(s, tables["roadmap"], horizon)
               + missed_note(tables["targets"], phases[-1]))
    var = tables["variance"]
    keep = var["output"].isin(["npv", "roi", "cumulative_net_end"]) | var["output"].str.startswith(
        phases[-1] + ":")
    vt = variance_table(var[keep], limit=20)
    if vt is not None:
        term.print(vt)
    line = tornado_lines(tables["sensitivity"], "payback_month")
    if line:
        term.print(line)


def print_uncertain_run(term, tables: dict[str, pd.DataFrame], sc, draws: int, reps: int,  # noqa: ANN001
                        title: str | None) -> None:
    s = tables["summary"]
    if "variance" not in tables:
        term.print("the run is incomplete: no summary over the draws (run it again)")
        return
    term.print(con.kpi_table(s, list(sc.channels), list(sc.tiers), sc.currency,
                             title=title or f"{sc.name}: KPIs, mean over {draws} draws of "
                             f"the uncertain inputs × {reps} replications (± 95% CI "
                             "half-width over the draws)"))
    order = list(dict.fromkeys(s["variant"]))
    pm = p_met_table(tables["targets"], order, what="option")
    if pm is not None:
        term.print(pm)
    vt = variance_table(tables["variance"])
    if vt is not None:
        term.print(vt)
    outs = list(dict.fromkeys(tables["sensitivity"]["output"]))
    if outs:
        term.print(tornado_lines(tables["sensitivity"], outs[0]))
