"""Roadmap economics over months (SPEC §7.7): wage growth, discounting and volume growth
against the SPEC formulas, to the cent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.decide.roadmap import load_roadmap
from tests.test_cli import SMALL, broken, ccsim
from tests.test_roadmap import PLAN

ECON = PLAN + """economics:
  wage_growth_per_year: 0.12
  discount_rate_per_year: 0.08
"""
CENT = 0.005


def _run(tmp_path: Path, text: str, name: str = "o") -> tuple[pd.DataFrame, pd.DataFrame]:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, text, "plan.yaml")
    out = tmp_path / name
    res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "1", "--quiet")
    assert res.returncode == 0, res.stderr
    return pd.read_csv(out / "summary.csv"), pd.read_csv(out / "roadmap.csv")


def test_wage_growth_and_discounting_follow_the_spec_to_the_cent(tmp_path: Path) -> None:
    """Labour is paid hours x rate (no bot, no overhead in small.yaml), so every figure is
    known: baseline (6 x 40 + 4 x 60) x 730 = 350,400 a month; the `bots` phase pays
    58,400 less, `cut` 102,200 less; investment 100,000 in months 1-3."""
    summary, months = _run(tmp_path, ECON)
    m = np.arange(1, 13)
    wage = 1.12 ** ((m - 1) / 12)                       # (1 + g)^((m - 1) / 12)
    disc = 1.08 ** (-m / 12)                            # (1 + r)^(-m / 12)
    base = 350400.0 * wage
    saved = np.where(m <= 3, 58400.0, 102200.0) * wage
    inv = np.where(m <= 3, 100000.0, 0.0)
    net = saved - inv
    np.testing.assert_allclose(months["wage_factor"], wage, rtol=0, atol=1e-9)  # CSV: 10 digits
    np.testing.assert_allclose(months["baseline_operating_cost"], base, rtol=0, atol=CENT)
    np.testing.assert_allclose(months["operating_cost"], base - saved, rtol=0, atol=CENT)
    np.testing.assert_allclose(months["net_savings"], net, rtol=0, atol=CENT)
    np.testing.assert_allclose(months["cumulative_net"], np.cumsum(net), rtol=0, atol=CENT)
    np.testing.assert_allclose(months["discounted_net"], net * disc, rtol=0, atol=CENT)
    np.testing.assert_allclose(months["discounted_cumulative_net"], np.cumsum(net * disc),
                               rtol=0, atol=CENT)
    rm = summary[summary["scope"] == "roadmap"].set_index("metric")["mean"]
    assert rm["npv"] == pytest.approx(float((net * disc).sum()), abs=CENT)
    assert rm["roi"] == pytest.approx((saved.sum() - 300000) / 300000, rel=1e-9)
    dcum = np.cumsum(net * disc)
    first = int(np.nonzero(dcum >= 0)[0][0]) + 1   # stays >= 0 afterwards (net > 0)
    assert rm["discounted_payback_month"] == first == rm["payback_month"] == 5


def test_discounting_can_delay_the_discounted_payback(tmp_path: Path) -> None:
    """A payback that just makes it undiscounted comes later when the savings are
    discounted at 100 % a year."""
    text = PLAN.replace("investment: 300000", "investment: 480000") + (
        "economics: {discount_rate_per_year: 1.0}\n")
    summary, months = _run(tmp_path, text)
    rm = summary[summary["scope"] == "roadmap"].set_index("metric")["mean"]
    m = np.arange(1, 13)
    net = np.where(m <= 3, 58400.0 - 160000.0, 102200.0)
    cum, dcum = np.cumsum(net), np.cumsum(net * 2.0 ** (-m / 12))
    assert rm["payback_month"] == int(np.nonzero(cum >= 0)[0][0]) + 1 == 6
    assert rm["discounted_payback_month"] == int(np.nonzero(dcum >= 0)[0][0]) + 1 == 7
    np.testing.assert_allclose(months["discounted_cumulative_net"], dcum, rtol=0, atol=CENT)


def test_without_economics_nothing_changes(tmp_path: Path) -> None:
    summary, months = _run(tmp_path, PLAN)
    assert (months["wage_factor"] == 1).all() and (months["volume_factor"] == 1).all()
    assert (months["discounted_cumulative_net"] == months["cumulative_net"]).all()
    rm = summary[summary["scope"] == "roadmap"].set_index("metric")["mean"]
    assert rm["npv"] == pytest.approx(months["net_savings"].sum(), abs=CENT)


def test_volume_growth_simulates_each_state_at_the_months_it_holds(tmp_path: Path) -> None:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, PLAN + "economics: {volume_growth_per_year: 0.05}\n", "plan.yaml")
    lr = load_roadmap(plan)
    rate = {p.variant: p.scenario.channels["phone"].arrivals.rate_per_hour for p in lr.points}
    # baseline at month 1 (today) and 12 (the horizon); `bots` holds months 1-3 (reported
    # at its end, month 3); `cut`, the last phase, months 4-5 and then to month 12
    assert rate == pytest.approx({
        "baseline": 120.0, "baseline~12": 120 * 1.05 ** (11 / 12),
        "bots~1": 120.0, "bots": 120 * 1.05 ** (2 / 12),
        "cut~4": 120 * 1.05 ** (3 / 12), "cut": 120 * 1.05 ** (4 / 12),
        "cut~12": 120 * 1.05 ** (11 / 12)})
    summary, months = _run(tmp_path, PLAN + "economics: {volume_growth_per_year: 0.05}\n")
    np.testing.assert_allclose(months["volume_factor"], 1.05 ** ((np.arange(1, 13) - 1) / 12))
    # staffing is fixed, so labour -- and the savings -- do not follow the volume
    save = np.array([58400.0] * 3 + [102200.0] * 9)
    np.testing.assert_allclose(months["baseline_operating_cost"] - months["operating_cost"],
                               save, rtol=0, atol=CENT)
    # the busier states serve worse: the KPIs of the later volume points show it
    asa = summary[(summary["scope"] == "phone") & (summary["metric"] == "offered")
                  ].set_index("variant")["mean"]
    assert asa["baseline~12"] > asa["baseline"]


@pytest.mark.parametrize(("econ", "words"), [
    ("{wage_growth_per_year: 2}", ["economics.wage_growth_per_year", "less than or equal"]),
    ("{discount_rate: 0.1}", ["economics.discount_rate", "discount_rate_per_year"]),
    ("{volume_growth_per_year: .nan}", ["economics.volume_growth_per_year"]),
])
def test_bad_economics_exit_2(tmp_path: Path, econ: str, words: list[str]) -> None:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, PLAN + f"economics: {econ}\n", "plan.yaml")
    res = ccsim("validate", str(plan))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)
