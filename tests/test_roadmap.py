"""ccsim roadmap: phases applied cumulatively, exact economics, CRN, ramps, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.decide.economics import ROADMAP_COLUMNS, _payback
from tests.test_cli import SMALL, broken, ccsim

PLAN = """\
roadmap: plan
baseline: small.yaml
horizon_months: 12
phases:
  - name: bots
    months: 3
    investment: 300000
    set: {tiers.base.agents: 4}
  - name: cut
    months: 2
    investment: 0
    set: {tiers.advanced.agents: 3}
"""


def write_plan(tmp_path: Path, text: str = PLAN) -> Path:
    broken(tmp_path, SMALL, "small.yaml")
    return broken(tmp_path, text, "plan.yaml")


def run(tmp_path: Path, plan: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    out = tmp_path / name
    res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "2", "--json")
    assert res.returncode == 0, res.stderr
    return (pd.read_csv(out / "summary.csv"), pd.read_csv(out / "roadmap.csv"),
            json.loads(res.stdout))


def test_roadmap_economics_are_exact_for_a_fixed_labour_bill(tmp_path: Path) -> None:
    """Labour is paid hours x rate, whatever the customers do: cutting 2 base agents
    (CNY 40/h) saves 2 x 40 x 730 = 58,400 a month; then 1 advanced (60/h) 43,800 more."""
    summary, months, doc = run(tmp_path, write_plan(tmp_path), "o")
    assert list(months.columns) == ROADMAP_COLUMNS
    assert list(months["month"]) == list(range(1, 13))
    assert list(months["phase"]) == ["bots"] * 3 + ["cut"] * 2 + ["after"] * 7
    save = np.array([58400.0] * 3 + [102200.0] * 9)
    inv = np.array([100000.0] * 3 + [0.0] * 9)
    assert np.allclose(months["baseline_operating_cost"] - months["operating_cost"], save)
    assert np.allclose(months["investment"], inv)
    assert np.allclose(months["net_savings"], save - inv)
    assert np.allclose(months["cumulative_net"], np.cumsum(save - inv))
    rm = summary[summary["scope"] == "roadmap"].set_index("metric")["mean"]
    # cumulative: -41,600 -83,200 -124,800 -22,600 +79,600 ... -> month 5
    assert rm["payback_month"] == 5
    assert rm["roi"] == pytest.approx((save.sum() - 300000) / 300000)
    assert set(summary["variant"]) == {"baseline", "bots", "cut", "roadmap"}
    bots = summary[(summary["variant"] == "bots") & (summary["scope"] == "base")]
    assert bots.set_index("metric").loc["agents", "mean"] == 4
    cut = summary[(summary["variant"] == "cut")].set_index(["scope", "metric"])["mean"]
    assert cut[("base", "agents")] == 4 and cut[("advanced", "agents")] == 3  # cumulative
    assert {t["variant"] for t in doc["targets"]} == {"baseline", "bots", "cut"}
    assert [m["cumulative_net"] for m in doc["roadmap"]] == pytest.approx(
        list(np.cumsum(save - inv)))
    assert doc["meta"]["phases"][0] == {"name": "bots", "months": 3, "investment": 300000.0,
                                        "ramp": False, "end_month": 3}


def test_changing_an_investment_changes_only_payback_and_roi(tmp_path: Path) -> None:
    a_sum, a_months, _ = run(tmp_path, write_plan(tmp_path), "a")
    other = PLAN.replace("investment: 300000", "investment: 600000")
    b_sum, b_months, _ = run(tmp_path, write_plan(tmp_path, other), "b")
    kpis = ["scenario", "variant", "scope", "metric"]
    keep_a = a_sum[a_sum["scope"] != "roadmap"].set_index(kpis)
    keep_b = b_sum[b_sum["scope"] != "roadmap"].set_index(kpis)
    pd.testing.assert_frame_equal(keep_a, keep_b)          # every KPI, bitwise
    for col in ("operating_cost", "baseline_operating_cost"):
        assert (a_months[col] == b_months[col]).all()
    ra = a_sum[a_sum["scope"] == "roadmap"].set_index(["variant", "metric"])["mean"]
    rb = b_sum[b_sum["scope"] == "roadmap"].set_index(["variant", "metric"])["mean"]
    assert rb[("roadmap", "payback_month")] > ra[("roadmap", "payback_month")]
    assert rb[("roadmap", "roi")] < ra[("roadmap", "roi")]


def test_a_ramp_simulates_points_in_between_and_interpolates(tmp_path: Path) -> None:
    text = PLAN.replace("    investment: 300000\n", "    investment: 300000\n    ramp: true\n"
                        "    ramp_points: 3\n").replace("tiers.base.agents: 4",
                                                        "tiers.base.agents: 3")
    summary, months, doc = run(tmp_path, write_plan(tmp_path, text), "r")
    # base 6 -> 3 over 3 months: points at months 1 and 2 with 5 and 4 agents
    agents = summary[(summary["scope"] == "base") & (summary["metric"] == "agents")
                     ].set_index("variant")["mean"]
    assert agents["bots@1"] == 5 and agents["bots@2"] == 4 and agents["bots"] == 3
    assert [p["variant"] for p in doc["meta"]["points"]] == ["baseline", "bots@1", "bots@2",
                                                             "bots", "cut"]
    saved = months["baseline_operating_cost"] - months["operating_cost"]
    assert np.allclose(saved[:3], [1 * 40 * 730, 2 * 40 * 730, 3 * 40 * 730])


def test_payback_is_the_month_from_which_the_curve_stays_positive() -> None:
    assert _payback(np.array([-1.0, 2.0, -1.0, 0.0, 3.0])) == 4
    assert _payback(np.array([1.0, 2.0])) == 1
    assert np.isnan(_payback(np.array([-1.0, -2.0])))


@pytest.mark.parametrize(("edit", "words"), [
    (lambda s: s.replace("tiers.base.agents: 4", "tiers.base.agnets: 4"),
     ["plan.yaml", "line 8", "phase 'bots'", "agnets"]),
    (lambda s: s.replace("months: 3", "months: 0"), ["plan.yaml", "phases.0.months",
                                                    "greater than or equal to 1"]),
    (lambda s: s.replace("name: cut", "name: bots"), ["plan.yaml", "bots appear twice"]),
    (lambda s: s.replace("small.yaml", "nothere.yaml"), ["plan.yaml", "line 2", "baseline",
                                                         "not found"]),
    (lambda s: s.replace("horizon_months", "horizon_month"), ["plan.yaml", "horizon_month",
                                                               "horizon_months"]),
])
def test_bad_roadmaps_exit_2_naming_file_line_and_path(tmp_path: Path, edit, words) -> None:  # noqa: ANN001
    plan = write_plan(tmp_path, edit(PLAN))
    for cmd in ("validate", "roadmap"):
        res = ccsim(cmd, str(plan))
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr
        for w in words:
            assert w in res.stderr, (w, res.stderr)


def test_validate_accepts_a_roadmap(tmp_path: Path) -> None:
    res = ccsim("validate", str(write_plan(tmp_path)))
    assert res.returncode == 0 and "roadmap 'plan'" in res.stdout


def test_ramp_points_are_distinct_months_with_linear_states(tmp_path: Path) -> None:
    """More ramp points than months: one state per distinct month; the state at month m
    of an n-month ramp is the fraction m/n of the change; money is not rounded."""
    from sim.decide.roadmap import load_roadmap
    text = PLAN.replace("    investment: 300000\n", "    investment: 300000\n    ramp: true\n"
                        "    ramp_points: 7\n").replace(
        "set: {tiers.base.agents: 4}", "set: {tiers.base.cost_per_hour: 45, tiers.base.agents: 3}")
    lr = load_roadmap(write_plan(tmp_path, text))
    bots = [p for p in lr.points if p.phase == "bots"]
    assert [p.month for p in bots] == [1, 2, 3] and [p.variant for p in bots][-1] == "bots"
    assert [p.scenario.tiers["base"].cost_per_hour for p in bots] == pytest.approx(
        [40 + 5 / 3, 40 + 10 / 3, 45])
    assert [p.scenario.tiers["base"].agents for p in bots] == [5, 4, 3]


@pytest.mark.parametrize(("edit", "words"), [
    (lambda s: s.replace("tiers.base.agents: 4", "seed: 4"), ["plan.yaml", "'seed' cannot"]),
    (lambda s: s.replace("tiers.base.agents: 4", "tiers.base.agents.x: 4"),
     ["plan.yaml", "line 8", "phase 'bots'", "phases.0.set.tiers.base.agents.x"]),
    (lambda s: s.replace("months: 3", "months: 100000"), ["phases.0.months", "240"]),
])
def test_more_bad_roadmaps_exit_2(tmp_path: Path, edit, words) -> None:  # noqa: ANN001
    res = ccsim("validate", str(write_plan(tmp_path, edit(PLAN))))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_payback_of_an_undefined_curve_is_empty() -> None:
    assert np.isnan(_payback(np.array([np.nan, 1.0])))
