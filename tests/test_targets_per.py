"""Targets per interval and per day (SPEC §7.8): the share of (replication, interval)
pairs where the bound holds, with a Wilson 95% interval for its status."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.inputs.config import Scenario, Target
from sim.measure.targets import share_estimate, share_status
from sim.measure.uncertain_stats import wilson
from tests.test_cli import broken, ccsim

BASE = {
    "name": "t", "horizon_hours": 48, "interval_minutes": 720,
    "channels": {
        "phone": {"arrivals": {"rate_per_hour": 10}, "mix": {"simple": 1.0},
                  "handle_time": {"simple": {"dist": "exponential", "mean_s": 60}}},
        "chat": {"arrivals": {"rate_per_hour": 10}, "mix": {"simple": 1.0},
                 "handle_time": {"simple": {"dist": "exponential", "mean_s": 60}}}},
    "tiers": {"base": {"agents": 2, "cost_per_hour": 1, "serves": {"simple": 1.0}}},
}


def row(i: int, ch: str, offered: float, queued: float, answered: float, in_sl: float,
        wait_s: float, abandoned: float = 0.0, agents: float = 2.0, busy: float = 1.0
        ) -> dict:
    return {"interval": i, "channel": ch, "offered": offered, "queued": queued,
            "answered": answered, "abandoned": abandoned,
            "service_level": in_sl / queued if queued else math.nan,
            "asa_s": wait_s / answered if answered else math.nan,
            "agents_base": agents, "busy_base": busy}


# two replications x four 12-hour intervals (two days); phone and chat rows
REP1 = [row(0, "phone", 10, 10, 10, 9, 50), row(0, "chat", 10, 10, 10, 5, 300),
        row(1, "phone", 10, 10, 10, 7, 100), row(1, "chat", 0, 0, 0, 0, 0),
        row(2, "phone", 0, 0, 0, 0, 0), row(2, "chat", 4, 4, 4, 4, 0),
        row(3, "phone", 5, 0, 0, 0, 0), row(3, "chat", 6, 6, 2, 1, 40, abandoned=4)]
REP2 = [row(0, "phone", 20, 20, 20, 20, 0), row(0, "chat", 10, 10, 10, 10, 0),
        row(1, "phone", 10, 10, 10, 6, 200), row(1, "chat", 10, 10, 10, 10, 0),
        row(2, "phone", 10, 10, 10, 8, 80), row(2, "chat", 10, 10, 10, 8, 10),
        row(3, "phone", 0, 0, 0, 0, 0), row(3, "chat", 0, 0, 0, 0, 0)]


def target(metric: str, per: str = "interval", **bound: float) -> Target:
    return Target(metric=metric, per=per, share=0.9, **bound)


def test_share_of_intervals_by_hand() -> None:
    sc = Scenario.model_validate(BASE)
    est = share_estimate(target("phone.service_level", min=0.8), sc, [REP1, REP2])
    # phone pairs with contacts offered: rep1 i0 (0.9 ok), i1 (0.7 no), i3 (offered 5,
    # none queued: holds); rep2 i0 (1.0), i1 (0.6 no), i2 (0.8 ok) -> 4 of 6
    assert (est.held, est.pairs) == (4, 6)
    assert (est.share, est.ci_low, est.ci_high) == wilson(4, 6)
    # all channels pooled by counts: rep1 i0 14/20 no, i1 7/10 no, i2 4/4 ok,
    # i3 1/6 no; rep2 i0 30/30 ok, i1 16/20 ok, i2 16/20 ok -> 4 of 7 (rep2 i3 offered 0)
    est = share_estimate(target("all.service_level", min=0.8), sc, [REP1, REP2])
    assert (est.held, est.pairs) == (4, 7)
    # ASA <= 10 s on chat: rep1 i0 30 no, i2 0 ok, i3 20 no; rep2 i0 0, i1 0, i2 1 ok
    est = share_estimate(target("chat.asa_s", max=10), sc, [REP1, REP2])
    assert (est.held, est.pairs) == (4, 6)
    # abandonment <= 10%: only rep1 i3 chat (4/6) fails among 6 chat pairs
    est = share_estimate(target("chat.abandon_rate", max=0.1), sc, [REP1, REP2])
    assert (est.held, est.pairs) == (5, 6)


def test_share_of_days_by_hand() -> None:
    sc = Scenario.model_validate(BASE)
    # days = intervals (0,1) and (2,3): rep1 d0 16/20 ok, d1 0/0 queued with 5 offered
    # -> holds; rep2 d0 26/30 ok, d1 8/10 ok -> 4 of 4
    est = share_estimate(target("phone.service_level", per="day", min=0.8), sc, [REP1, REP2])
    assert (est.held, est.pairs) == (4, 4)
    # occupancy of base per day: busy/agents = 0.5 in every pair with contacts offered
    est = share_estimate(target("base.occupancy", per="day", max=0.5), sc, [REP1, REP2])
    assert (est.held, est.pairs) == (4, 4)


@pytest.mark.parametrize(("held", "pairs", "status"), [
    (100, 100, "met"), (95, 100, "uncertain"), (70, 100, "missed"), (0, 0, "uncertain")])
def test_status_from_the_wilson_interval(held: int, pairs: int, status: str) -> None:
    from sim.measure.targets import ShareEstimate

    p, lo, hi = wilson(held, pairs)
    assert share_status(target("phone.service_level", min=0.8),
                        ShareEstimate(held, pairs, p, lo, hi)) == status


RUN = """\
name: per
seed: 3
replications: 3
horizon_hours: 24
interval_minutes: 60
channels:
  phone:
    arrivals: {rate_per_hour: 120}
    open_hours: "08:00-18:00"
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 180}}
tiers:
  base: {agents: 8, cost_per_hour: 30, serves: {simple: 1.0}}
targets:
  - {metric: phone.service_level, min: 0.8}
  - {metric: phone.service_level, min: 0.8, per: interval, share: 0.9}
  - {metric: phone.service_level, min: 0.8, per: day, share: 0.5}
"""


def test_run_writes_per_interval_targets(tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = ccsim("run", str(broken(tmp_path, RUN, "p.yaml")), "--out", str(out),
                "--workers", "1", "--json")
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(out / "targets.csv")
    assert list(t.columns)[-3:] == ["per", "share", "pairs"]
    per = t[t["per"] == "interval"].iloc[0]
    # open 10 hours a day, 120 contacts an hour: every open hour has contacts
    assert per["pairs"] == 3 * 10 and per["share"] == 0.9
    # closed hours offer contacts (refused as closed) but queue none: not counted
    iv = pd.read_csv(out / "intervals.csv")
    assert len(iv[iv["offered"] > 0]) == 24 and len(iv[iv["queued"] > 0]) == 10
    assert 0 <= per["ci_low"] <= per["mean"] <= per["ci_high"] <= 1
    day = t[t["per"] == "day"].iloc[0]
    assert day["pairs"] == 3
    doc = json.loads(res.stdout)
    assert {r.get("per") for r in doc["targets"]} >= {"interval", "day"}
    html = (out / "report.html").read_text()
    assert "in ≥ 90% of intervals" in html


def test_per_target_on_a_metric_not_counted_per_interval_is_exit_2(tmp_path: Path) -> None:
    text = RUN.replace("{metric: phone.service_level, min: 0.8, per: day",
                       "{metric: phone.wait_p90_s, max: 60, per: day")
    res = ccsim("validate", str(broken(tmp_path, text, "p.yaml")))
    assert res.returncode == 2 and "not counted per interval" in res.stderr
    assert "Traceback" not in res.stderr
    text = RUN.replace("per: day, share: 0.5", "per: day")
    res = ccsim("validate", str(broken(tmp_path, text, "p.yaml")))
    assert res.returncode == 2 and "go together" in res.stderr


def test_per_targets_with_draws_by_hand() -> None:
    """With uncertain inputs a `per:` target is computed per draw: each draw's share of
    pairs (its own targets row), then mean and CI over the draws, p_met = share of draws
    whose share reaches `share` (Wilson)."""
    from sim.decide.uncertain_run import draw_shares, target_rows
    from sim.measure.stats import estimate

    t_mean = Target(metric="phone.service_level", min=0.8)
    t_per = Target(metric="phone.service_level", min=0.8, per="interval", share=0.9)
    shares = [0.95, 0.85, 0.92, 1.0]
    tt = pd.DataFrame([{"variant": f"base#{d}", "metric": t.metric, "limit": 0.8,
                        "per": t.per or "", "share": t.share, "mean": s if t.per else 0.9,
                        "pairs": 10 if t.per else math.nan}
                       for d, s in enumerate(shares) for t in (t_mean, t_per)])
    got = draw_shares(tt, [t_mean, t_per], [f"base#{d}" for d in range(4)])
    assert list(got) == [1] and list(got[1][0]) == shares and got[1][1] == 40
    rows = target_rows("s", "base", [t_mean, t_per],
                       {"phone.service_level": pd.Series([0.9] * 4).to_numpy()}, got)
    ordinary, per = rows
    assert ordinary[8] == "met" and ordinary[9] == ""   # 0.9 in every draw: CI of width 0
    assert math.isnan(ordinary[10]) and math.isnan(ordinary[11])
    est = estimate(shares, 0.0, 1.0)
    assert per[5:9] == [est.mean, est.ci_low, est.ci_high, "uncertain"]
    assert per[9:12] == ["interval", 0.9, 40]
    assert tuple(per[12:]) == wilson(3, 4)      # 0.95, 0.92, 1.0 reach 0.9; 0.85 does not


def test_run_with_draws_writes_per_targets(tmp_path: Path) -> None:
    text = RUN + ("uncertain:\n  tiers.base.agents: {dist: uniform, low: 7, high: 10}\n"
                  "draws: 3\n")
    out = tmp_path / "o"
    res = ccsim("run", str(broken(tmp_path, text, "p.yaml")), "--out", str(out),
                "--workers", "1")
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(out / "targets.csv")
    assert list(t.columns)[-6:] == ["per", "share", "pairs", "p_met", "p_low", "p_high"]
    per = t[t["per"] == "interval"].iloc[0]
    assert per["pairs"] == 3 * 3 * 10          # draws x replications x open hours
    assert 0 <= per["ci_low"] <= per["mean"] <= per["ci_high"] <= 1
    assert t[t["per"] == "day"].iloc[0]["pairs"] == 3 * 3
    assert "of intervals" in res.stdout


def test_roadmap_with_draws_writes_per_targets(tmp_path: Path) -> None:
    from tests.test_cli import SMALL
    from tests.test_roadmap import PLAN

    small = SMALL.replace("  - {metric: phone.asa_s, max: 60}\n",
                          "  - {metric: phone.asa_s, max: 60}\n  - {metric: phone.asa_s, "
                          "max: 60, per: interval, share: 0.5}\n")
    broken(tmp_path, small, "small.yaml")
    plan = broken(tmp_path, PLAN + "uncertain:\n  baseline.channels.phone.arrivals."
                  "rate_per_hour: {dist: uniform, low: 100, high: 140}\ndraws: 3\n",
                  "plan.yaml")
    out = tmp_path / "o"
    res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "1")
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(out / "targets.csv")
    per = t[t["per"] == "interval"]
    assert len(per) == len(t) / 2 and set(per["share"]) == {0.5}
    # every draw its own states: 3 draws x 3 replications x the 8 half-hour intervals
    # (the default interval) of the 4-hour horizon, all with contacts
    assert (per["pairs"] == 3 * 3 * 8).all()
    assert ((0 <= per["p_low"]) & (per["p_low"] <= per["p_met"])
            & (per["p_met"] <= per["p_high"]) & (per["p_high"] <= 1)).all()
