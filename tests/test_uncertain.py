"""Uncertain inputs (SPEC §7.6): results against exact answers, Latin hypercube
properties, variance split, workers, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.inputs.uncertain import Uncertain, sample
from sim.measure.uncertain_stats import quantile, sensitivity, variance_split, wilson
from tests.test_cli import SMALL, broken, ccsim
from tests.test_roadmap import PLAN

INVEST = "  phases.bots.investment: {dist: uniform, low: 200000, high: 400000}\n"


def plan_with(*lines: str, draws: int = 40) -> str:
    return PLAN + "uncertain:\n" + INVEST + "".join(lines) + f"draws: {draws}\n"


UNCERTAIN_PLAN = plan_with()

BOT_CENTRE = """\
name: bots
seed: 11
replications: 2
horizon_hours: 4
channels:
  phone:
    arrivals: {rate_per_hour: 1500}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 60}}
    bot: {containment: {simple: 0.5}, handle_time: {dist: constant, mean_s: 30}}
  chat:
    arrivals: {rate_per_hour: 1500}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 60}}
    bot: {containment: {simple: 0.5}, handle_time: {dist: constant, mean_s: 30}}
tiers:
  base: {agents: 30, cost_per_hour: 40, serves: {simple: 1.0}}
targets:
  - {metric: all.automation_rate, min: 0.6}
uncertain:
  channels.*.bot.containment.simple: {dist: uniform, low: 0.3, high: 0.7}
  channels.phone.service_level_threshold_s: {dist: uniform, low: 10, high: 30}
draws: 40
"""


def _roadmap(tmp_path: Path, text: str, name: str = "o", *args: str
             ) -> tuple[pd.DataFrame, Path, dict]:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, text, "plan.yaml")
    out = tmp_path / name
    res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "2", "--json", *args)
    assert res.returncode == 0, res.stderr
    return pd.read_csv(out / "summary.csv"), out, json.loads(res.stdout)


def _hand_payback(invest: float) -> int:
    """Labour saves 58,400 a month in months 1-3 (investment spread over them), then
    102,200: the first month whose cumulative net is >= 0."""
    cum, m = 0.0, 0
    while cum < 0 or m == 0:
        m += 1
        cum += (58400.0 - invest / 3) if m <= 3 else 102200.0
    return m


def test_an_uncertain_investment_gives_the_payback_distribution_by_hand(tmp_path: Path
                                                                        ) -> None:
    """With staffing fixed, savings are deterministic: payback is 4 when I <= 277,400,
    5 when I <= 379,600, else 6. With I ~ U(200k, 400k): P = 0.387 / 0.511 / 0.102; a
    Latin hypercube puts exactly one draw in each 1/40 of the range, so the shares of the
    40 draws are within 1/40 of these."""
    summary, out, doc = _roadmap(tmp_path, UNCERTAIN_PLAN)
    unc = pd.read_csv(out / "uncertainty.csv")
    rm = unc[unc["variant"] == "roadmap"].sort_values("draw")
    inv = rm["phases.bots.investment"].to_numpy()
    assert len(rm) == 40 and inv.min() >= 200000 and inv.max() <= 400000
    assert list(rm["payback_month"]) == [_hand_payback(i) for i in inv]   # each draw
    share = {m: float(np.mean(rm["payback_month"] == m)) for m in (4, 5, 6)}
    for m, p in {4: 0.387, 5: 0.511, 6: 0.102}.items():
        assert abs(share[m] - p) <= 1 / 40 + 1e-9, (m, share)
    # roi by hand for every draw: savings over 12 months are 3 x 58,400 + 9 x 102,200
    assert np.allclose(rm["roi"], (3 * 58400 + 9 * 102200 - inv) / inv)
    r = summary[summary["scope"] == "roadmap"].set_index("metric")
    pay = rm["payback_month"].to_numpy()
    for q in (10, 50, 90):
        assert r.loc[f"payback_month_p{q}", "mean"] == quantile(pay, q / 100, never=True)
    assert r.loc["p_payback_within_horizon", "mean"] == 1.0
    assert r.loc["p_payback_within_horizon", "ci_low"] == pytest.approx(wilson(40, 40)[1])
    assert r.loc["roi_p50", "mean"] == pytest.approx(np.median(rm["roi"]))
    # only the money is uncertain: every state is simulated once, not once per draw
    assert doc["meta"]["distinct_states"] == 3 and doc["meta"]["draws"] == 40
    months = pd.read_csv(out / "roadmap.csv")
    assert months.set_index("month").loc[4, "p_paid_back"] == pytest.approx(share[4])
    assert months.set_index("month").loc[5, "p_paid_back"] == pytest.approx(share[4] + share[5])
    sens = pd.read_csv(out / "sensitivity.csv")
    top = sens[sens["output"] == "payback_month"].iloc[0]
    assert top["parameter"] == "phases.bots.investment" and top["rank_correlation"] > 0.9
    assert top["output_at_low"] == 4 and top["output_at_high"] == 6


def test_p_met_of_an_uncertain_containment_is_a_quarter(tmp_path: Path) -> None:
    """One contact type, a bot on every channel: automation = containment, so with
    containment ~ U(0.3, 0.7), P(automation >= 0.6) = 0.25. The threshold of phone's
    service level changes no automation: it ranks last, its rank correlation near 0."""
    path = broken(tmp_path, BOT_CENTRE, "bots.yaml")
    out = tmp_path / "o"
    res = ccsim("run", str(path), "--out", str(out), "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(out / "targets.csv").iloc[0]
    assert t["p_low"] <= 0.25 <= t["p_high"], t
    # each draw's mean is its containment +- binomial noise (sd ~0.006 with ~8,000
    # contacts): only draws within 4 sd of 0.6 can fall on the other side
    unc = pd.read_csv(out / "uncertainty.csv")
    c = unc["channels.*.bot.containment.simple"]
    assert np.allclose(unc["all.automation_rate"], c, atol=0.03)
    assert abs(t["p_met"] - 0.25) <= 1 / 40 + float(np.mean(abs(c - 0.6) < 0.025))
    sens = pd.read_csv(out / "sensitivity.csv")
    auto = sens[sens["output"] == "all.automation_rate"]
    assert list(auto["parameter"]) == ["channels.*.bot.containment.simple",
                                       "channels.phone.service_level_threshold_s"]
    assert auto.iloc[0]["rank_correlation"] > 0.95
    assert abs(auto.iloc[1]["rank_correlation"]) < 4 / math.sqrt(40 - 1)
    resolved = (out / "scenario.yaml").read_text()
    assert "draws: 40" in resolved


def test_results_do_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    text = plan_with("  phases.cut.set.tiers.advanced.agents: {dist: uniform, low: 2, "
                     "high: 4}\n", draws=4)
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, text, "plan.yaml")
    files = {}
    for w in ("1", "2"):
        out = tmp_path / f"w{w}"
        res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", w, "--quiet")
        assert res.returncode == 0, res.stderr
        files[w] = {f: (out / f).read_bytes() for f in ("summary.csv", "uncertainty.csv",
                                                        "sensitivity.csv", "roadmap.csv",
                                                        "targets.csv", "variance.csv")}
    assert files["1"] == files["2"]


def test_draws_on_the_command_line_and_common_random_numbers(tmp_path: Path) -> None:
    """--draws overrides the file; a draw whose state equals another's gives the same
    replications (same seeds): advanced agents drawn from U(2.6, 3.4) always round to 3."""
    text = plan_with("  phases.cut.set.tiers.advanced.agents: "
                     "{dist: uniform, low: 2.6, high: 3.4}\n")
    summary, out, doc = _roadmap(tmp_path, text, "o", "--draws", "5")
    assert doc["meta"]["draws"] == 5 and doc["meta"]["distinct_states"] == 3
    unc = pd.read_csv(out / "uncertainty.csv")
    assert set(unc["phases.cut.set.tiers.advanced.agents"]) == {3}
    cut = summary[(summary["variant"] == "cut") & (summary["scope"] == "advanced")
                  & (summary["metric"] == "agents")]
    # the same state in every draw: simulated once, its replications' CI
    assert cut["mean"].iloc[0] == 3 and cut["replications"].iloc[0] == 3


def test_latin_hypercube_puts_one_draw_in_each_slice() -> None:
    dists = {"a": Uncertain(dist="uniform", low=0, high=1),
             "b": Uncertain(dist="normal", mean=0, sd=1)}
    u = sample(dists, 25, seed=3)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * 25).astype(int)) == list(range(25))
    assert np.array_equal(u, sample(dists, 25, seed=3))
    assert not np.array_equal(u, sample(dists, 25, seed=4))


@pytest.mark.parametrize(("spec", "q", "expected"), [
    ({"dist": "uniform", "low": 2, "high": 6}, 0.25, 3.0),
    ({"dist": "triangular", "low": 0, "mode": 1, "high": 2}, 0.5, 1.0),
    ({"dist": "triangular", "low": 0, "mode": 0, "high": 1}, 0.75, 0.5),
    ({"dist": "normal", "mean": 10, "sd": 2}, 0.5, 10.0),
    ({"dist": "lognormal", "mean": 1, "cv": 0.5}, 0.5, 1 / math.sqrt(1.25)),
])
def test_quantile_functions(spec: dict, q: float, expected: float) -> None:
    assert Uncertain(**spec).ppf(np.array([q]))[0] == pytest.approx(expected)


def test_normal_is_truncated_at_three_sd_and_lognormal_keeps_its_mean() -> None:
    n = Uncertain(dist="normal", mean=5, sd=1)
    assert n.support == (2, 8)
    assert n.ppf(np.array([1e-12]))[0] >= 2 - 1e-9 and n.ppf(np.array([1 - 1e-12]))[0] <= 8
    ln = Uncertain(dist="lognormal", mean=420, cv=0.1)
    u = (np.arange(20000) + 0.5) / 20000
    assert ln.ppf(u).mean() == pytest.approx(420, rel=1e-3)


def test_wilson_interval() -> None:
    p, lo, hi = wilson(10, 40)
    assert p == 0.25 and lo == pytest.approx(0.1419, abs=1e-4) and hi == pytest.approx(
        0.4019, abs=1e-4)
    assert wilson(0, 10)[1] == 0 and wilson(10, 10)[2] == 1


def test_variance_split_recovers_input_and_noise() -> None:
    """y[d, r] = a_d + b_r + e_dr with sd(a) = 3, sd(b) = 2, sd(e) = 1 (b shared by all
    draws: common random numbers). Input variance ~9; noise in a draw mean (b + e)/R."""
    rng = np.random.default_rng(5)
    d, r = 400, 5
    y = (rng.normal(0, 3, d)[:, None] + rng.normal(0, 2, r)[None, :]
         + rng.normal(0, 1, (d, r)))
    s = variance_split(y)
    se = 9 * math.sqrt(2 / (d - 1))        # sd of a sample variance of 400 normals
    assert abs(s.input_var - 9) < 4 * se
    # the noise estimate is the within-draw variance over R: (var(b) + 1) / R, with
    # var(b) measured on the 5 replications actually drawn
    b = y.mean(axis=0) - y.mean()
    assert s.noise_var == pytest.approx((np.var(y - y.mean(axis=1, keepdims=True), axis=1,
                                                ddof=1).mean()) / r)
    assert s.noise_var > 0 and s.input_share > 0.8
    assert abs(b).max() < 10
    flat = variance_split(np.tile(np.arange(4.0), (6, 1)))     # only noise
    assert flat.input_var == 0 and flat.noise_var > 0


def test_sensitivity_ranks_a_dead_parameter_last() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((200, 2))
    y = 3 * x[:, 0] + rng.normal(0, 0.1, 200)
    rows = sensitivity(x, ["live", "dead"], y)
    assert [r[0] for r in rows] == ["live", "dead"]
    assert rows[0][1] > 0.9 and abs(rows[1][1]) < 4 / math.sqrt(199)
    assert rows[0][2] < 0.5 < rows[0][3]     # mean of y in the lowest / highest tenth


@pytest.mark.parametrize(("block", "words"), [
    ("  tiers.base.cost_per_hour: {dist: uniform, low: 50, high: 40}",
     ["uncertain.tiers.base.cost_per_hour", "low < high", "line 30"]),
    ("  tiers.base.agentz: {dist: uniform, low: 4, high: 8}",
     ["uncertain.tiers.base.agentz", "not a field", "agents"]),
    ("  tiers.nope.agents: {dist: uniform, low: 4, high: 8}",
     ["uncertain.tiers.nope.agents", "matches nothing"]),
    ("  channels.phone.patience.mean_s: {dist: normal, mean: 10, sd: 5}",
     ["uncertain.channels.phone.patience.mean_s", "[-5, 25]", "valid range"]),
    ("  channels.phone.mix.simple: {dist: uniform, low: 0.5, high: 1.2}",
     ["uncertain.channels.phone.mix.simple", "valid range [0, 1]"]),
    ("  channels.phone.mix.simple: {dist: lognormal, mean: 0.5, cv: 0.1}",
     ["uncertain.channels.phone.mix.simple", "unbounded above"]),
    ("  tiers.base.cost_per_hour: {dist: uniform, low: 4}",
     ["uncertain.tiers.base.cost_per_hour", "missing high"]),
    ("  tiers.base.cost_per_hour: {dist: beta, low: 4, high: 5}",
     ["uncertain.tiers.base.cost_per_hour.dist", "uniform"]),
    ("  tiers.base.cost_per_hour: {dist: uniform, low: 4, high: 5, apply: multiply}\n"
     "  tiers.base.agents: {dist: uniform, low: -1, high: 2, apply: multiply}",
     ["uncertain.tiers.base.agents", "must stay > 0"]),
])
def test_bad_uncertain_inputs_exit_2(tmp_path: Path, block: str, words: list[str]) -> None:
    text = SMALL + "uncertain:\n" + block + "\ndraws: 4\n"
    path = broken(tmp_path, text)
    res = ccsim("run", str(path), "--workers", "1", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("block", "words"), [
    ("  phases.nope.investment: {dist: uniform, low: 1, high: 2}",
     ["plan.yaml", "uncertain.phases.nope.investment", "no phase 'nope'", "bots, cut"]),
    ("  phases.bots.investment: {dist: normal, mean: 100, sd: 50}",
     ["uncertain.phases.bots.investment", "valid range"]),
    ("  phases.bots.ramp: {dist: uniform, low: 0, high: 1}",
     ["uncertain.phases.bots.ramp", "investment / months"]),
    ("  tiers.base.agents: {dist: uniform, low: 1, high: 2}",
     ["uncertain.tiers.base.agents", "starts with baseline."]),
    # a factor on the phase's set that can push a count below 0 is found at the extremes
    ("  phases.bots.set.tiers.base.agents: {dist: uniform, low: -7, high: 1, apply: add}",
     ["plan.yaml", "low end of the support of uncertain.phases.bots.set.tiers.base.agents",
      "greater than or equal to 0"]),
    ("  economics.wage_growth_per_year: {dist: uniform, low: 0, high: 3}",
     ["uncertain.economics.wage_growth_per_year", "valid range"]),
])
def test_bad_uncertain_roadmaps_exit_2(tmp_path: Path, block: str, words: list[str]) -> None:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, PLAN + "uncertain:\n" + block + "\ndraws: 4\n", "plan.yaml")
    res = ccsim("roadmap", str(plan), "--workers", "1", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_draws_without_uncertain_inputs_is_an_error(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "small.yaml")
    res = ccsim("run", str(path), "--draws", "4")
    assert res.returncode == 2 and "--draws needs an uncertain: block" in res.stderr


def test_draws_run_on_the_dask_backend_unchanged(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    text = plan_with("  phases.cut.set.tiers.advanced.agents: {dist: uniform, low: 2, "
                     "high: 4}\n", draws=3)
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, text, "plan.yaml")
    files = {}
    for backend in ("local", "dask"):
        out = tmp_path / backend
        res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "2", "--quiet",
                    "--backend", backend)
        assert res.returncode == 0, res.stderr
        files[backend] = {f: (out / f).read_bytes() for f in (
            "summary.csv", "uncertainty.csv", "roadmap.csv", "targets.csv")}
    assert files["local"] == files["dask"]
