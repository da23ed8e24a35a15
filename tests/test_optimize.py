"""optimize: lowest-cost staffing meeting the targets, checked against Erlang A."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.model.erlang import erlang_a_metrics
from tests.test_cli import broken, ccsim

ONE_TIER = """\
name: opt
seed: 5
replications: 8
horizon_hours: 48
warmup_hours: 2
channels:
  phone:
    arrivals: {rate_per_hour: 240}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 300}}
    patience: {dist: exponential, mean_s: 200}
tiers:
  base: {agents: 5, cost_per_hour: 40, serves: {simple: 1.0}}
targets:
  - {metric: phone.asa_s, max: 15}
  - {metric: all.automation_rate, min: 0.0}
"""


def test_optimize_single_tier_matches_erlang_a(tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = ccsim("optimize", str(broken(tmp_path, ONE_TIER, "o.yaml")), "--out", str(out),
                "--workers", "2", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    staffing = pd.read_csv(out / "staffing.csv")
    agents = int(staffing.set_index("tier").loc["base", "agents"])
    # the fewest agents that meet ASA <= 15 s in exact Erlang A
    exact = next(c for c in range(1, 100)
                 if erlang_a_metrics(240, 300, c, 200, 20).asa_s <= 15)
    assert exact <= agents <= exact + 2, (agents, exact)
    targets = [t for t in doc["targets"] if t["variant"] == "optimized"]
    assert all(t["status"] == "met" for t in targets)
    assert doc["meta"]["evaluations"] >= 1 and doc["meta"]["optimized"] == {"base": agents}


def test_optimize_needs_a_steerable_target(tmp_path: Path) -> None:
    text = ONE_TIER.replace("  - {metric: phone.asa_s, max: 15}\n", "")
    res = ccsim("optimize", str(broken(tmp_path, text, "o.yaml")))
    assert res.returncode == 2 and "staffing can move" in res.stderr
