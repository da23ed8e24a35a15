"""Workforce over a roadmap's months (SPEC §7.7 ``workforce:``): attrition, hiring lead
time, the learning curve and coaching, against exact expected values; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.decide.roadmap import load_roadmap
from sim.decide.workforce import WORKFORCE_COLUMNS, TierWorkforce, tier_path
from sim.decide.workforce_states import coach_share, on_queue_hours_per_month
from sim.inputs.scenario import load_scenario
from sim.measure.workforce_dips import service_dips
from tests.test_cli import SMALL, broken, ccsim
from tests.test_roadmap import PLAN

ROOT = Path(__file__).resolve().parents[1]

GROW = """\
roadmap: grow
baseline: small.yaml
horizon_months: 8
phases:
  - name: grow
    months: 3
    set: {tiers.base.agents: 8}
  - name: hold
    months: 2
"""


def _run(tmp_path: Path, text: str, name: str = "o") -> tuple[Path, dict]:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, text, f"{name}.yaml")
    out = tmp_path / name
    res = ccsim("roadmap", str(plan), "--out", str(out), "--workers", "1", "--quiet")
    assert res.returncode == 0, res.stderr
    meta = json.loads((out / "summary.json").read_text())["meta"]
    return out, meta


def _value(summary: pd.DataFrame, variant: str, scope: str, metric: str) -> float:
    row = summary[(summary["variant"] == variant) & (summary["scope"] == scope)
                  & (summary["metric"] == metric)]
    assert len(row) == 1, (variant, scope, metric)
    return float(row["mean"].iloc[0])


# --------------------------------------------------------------------- the monthly model

def test_without_hiring_a_year_of_attrition_leaves_h_times_one_minus_a() -> None:
    spec = TierWorkforce(attrition_per_year=0.18, hiring="none")
    path = tier_path(spec, [124.0] * 13)
    assert path.headcount[12] == pytest.approx(124 * (1 - 0.18), rel=1e-12)
    assert sum(path.leavers) == pytest.approx(124 * 0.18, rel=1e-12)
    q = 1 - (1 - 0.18) ** (1 / 12)
    assert path.leavers[1] == pytest.approx(124 * q, rel=1e-12)
    assert sum(path.hires) == 0


def test_workforce_csv_after_a_year_without_hiring(tmp_path: Path) -> None:
    """Through `ccsim roadmap`: base has 6 agents; the plan cuts it to 4, but with
    ``none`` attrition carries the cut, so month 12 holds 6 x (1 - 0.18) = 4.92."""
    text = PLAN + "workforce:\n  base: {attrition_per_year: 0.18, hiring: none}\n"
    out, _ = _run(tmp_path, text)
    wf = pd.read_csv(out / "workforce.csv")
    assert list(wf.columns) == WORKFORCE_COLUMNS
    assert list(wf["month"]) == list(range(1, 13)) and set(wf["tier"]) == {"base"}
    assert wf["headcount"].iloc[-1] == pytest.approx(6 * 0.82, abs=1e-6)
    assert wf["hires"].sum() == 0 and (wf["speed"] == 1).all()


def test_replace_with_lead_time_l_leaves_each_gap_open_l_months() -> None:
    q = 1 - (1 - 0.18) ** (1 / 12)
    for lead in (0, 1, 2, 4):
        spec = TierWorkforce(attrition_per_year=0.18, hiring="replace",
                             hire_lead_months=lead)
        path = tier_path(spec, [50.0] * 25)
        for m in range(1, 25):
            open_gaps = sum(path.leavers[max(m - lead + 1, 1):m + 1]) if lead else 0.0
            assert 50 - path.headcount[m] == pytest.approx(open_gaps, abs=1e-9), (lead, m)
            hired = path.leavers[m - lead] if m > lead else (path.leavers[m] if not lead
                                                             else 0.0)
            assert path.hires[m] == pytest.approx(hired, abs=1e-9), (lead, m)
        assert path.leavers[1] == pytest.approx(50 * q)


def test_replace_reaches_a_higher_plan_exactly_l_months_later(tmp_path: Path) -> None:
    """The plan raises base from 6 to 8 agents in month 1; with a 2-month lead time
    months 1 and 2 run with 6 (simulated at month 1), month 3 with 8."""
    text = GROW + "workforce:\n  base: {hiring: replace, hire_lead_months: 2}\n"
    out, meta = _run(tmp_path, text)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Workforce by month" in html and "roadmap-workforce" in html
    wf = pd.read_csv(out / "workforce.csv")
    assert list(wf["headcount"]) == [6, 6, 8, 8, 8, 8, 8, 8]
    assert list(wf["hires"]) == [0, 0, 2, 0, 0, 0, 0, 0]
    assert meta["workforce"]["plan_headcount"]["base"][:3] == [8, 8, 8]
    s = pd.read_csv(out / "summary.csv")
    assert _value(s, "grow@1", "base", "paid_agents") == 6
    assert _value(s, "grow", "base", "paid_agents") == 8
    months = pd.read_csv(out / "roadmap.csv")
    # labour 40/h x 730 h: months 1-2 pay 6 agents, then 8 (simulated at 1, 3 and 8)
    base_pay = 6 * 40 * 730 + 4 * 60 * 730
    assert list(months["operating_cost"].round(6)) == [base_pay] * 2 + [base_pay
                                                                        + 2 * 40 * 730] * 6


# ---------------------------------------------------------------------------- coaching

def test_coaching_hours_are_the_coach_tiers_lost_on_queue_hours(tmp_path: Path) -> None:
    """One hire in month 4 coached 730 h (a month of one agent) by advanced: advanced's
    agents on the queue fall by exactly one in that month, i.e. 730 h a month lost."""
    text = PLAN + ("workforce:\n  base: {hiring: {plan: {4: 1}}, coached_by: advanced, "
                   "coaching_hours_per_hire: 730}\n")
    out, meta = _run(tmp_path, text)
    s = pd.read_csv(out / "summary.csv")
    wf = pd.read_csv(out / "workforce.csv")
    hires = float(wf.loc[wf["month"] == 4, "hires"].iloc[0])
    assert hires == 1
    lost = (_value(s, "cut", "advanced", "agents")
            - _value(s, "cut@4", "advanced", "agents")) * 730
    assert lost == pytest.approx(hires * 730, abs=1e-9)
    assert _value(s, "cut@4", "advanced", "paid_agents") == 3   # paid as before
    given = {c["month"]: c for c in meta["workforce"]["coaching"]}
    assert given[4]["hours"] == 730 and given[4]["taken_hours"] == pytest.approx(730)


def test_coaching_from_a_rostered_tier_is_taken_to_the_slot() -> None:
    """On baseline.yaml's seniors (shifts, half-hour slots, on-queue agents rounded per
    slot) the on-queue month falls by the achievable amount nearest the asked hours."""
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml").scenario
    full = on_queue_hours_per_month(sc, "advanced")
    own = sc.tiers["advanced"].coaching_share
    grid = [own + (1 - own) * i / 400 for i in range(401)]
    achievable = [full - on_queue_hours_per_month(sc, "advanced", s) for s in grid]
    for hours in (40.0, 120.0, 400.0):
        share, taken = coach_share(sc, "advanced", hours)
        assert taken == pytest.approx(full - on_queue_hours_per_month(sc, "advanced", share))
        assert min(abs(x - hours) for x in achievable) >= abs(taken - hours) - 1e-9
        assert abs(taken - hours) <= 0.2 * hours, (hours, taken)
    share, taken = coach_share(sc, "advanced", 1e6)   # more than it has: all of it
    assert share == 1.0 and taken == pytest.approx(full)


# ------------------------------------------------------------------ the learning curve

def test_learning_curve_blends_speed_and_is_inert_at_speed_one() -> None:
    spec = TierWorkforce(hiring={"plan": {1: 10}}, learning_months=2, new_hire_speed=0.6,
                         cuts="attrition")
    path = tier_path(spec, [40.0] * 5)
    # 10 of 50 heads at 0.6 + 0.4 x 0.25 = 0.7, then 0.9, then 1
    assert path.speed[1] == pytest.approx(1 - 10 * 0.3 / 50)
    assert path.speed[2] == pytest.approx(1 - 10 * 0.1 / 50)
    assert path.speed[3] == 1 and path.new_hire_share[1] == pytest.approx(0.2)
    assert path.new_hire_share[3] == 0


WF = ("workforce:\n  base: {attrition_per_year: 0.3, hiring: replace, hire_lead_months: 1, "
      "coached_by: advanced, coaching_hours_per_hire: 100%s}\n")


def test_new_hire_speed_one_changes_nothing_bitwise(tmp_path: Path) -> None:
    """Common random numbers: a learning curve at speed 1 gives byte-identical results to
    none at all; at speed 0.5 the base tier's handle time rises."""
    files = ("summary.csv", "roadmap.csv", "replications.csv", "workforce_kpis.csv")
    plain, _ = _run(tmp_path, PLAN + WF % "", "plain")
    one, _ = _run(tmp_path, PLAN + WF % ", learning_months: 3, new_hire_speed: 1", "one")
    for f in files:
        assert (plain / f).read_bytes() == (one / f).read_bytes(), f
    a, b = pd.read_csv(plain / "workforce.csv"), pd.read_csv(one / "workforce.csv")
    assert (b["new_hire_share"] > 0).any()     # the hires are learning, at full speed
    pd.testing.assert_frame_equal(a.drop(columns="new_hire_share"),
                                  b.drop(columns="new_hire_share"), check_exact=True)
    slow, _ = _run(tmp_path, PLAN + WF % ", learning_months: 3, new_hire_speed: 0.5",
                   "slow")
    w = pd.read_csv(slow / "workforce.csv")
    assert (w["speed"] < 1).any()
    assert (plain / "summary.csv").read_bytes() != (slow / "summary.csv").read_bytes()


def test_a_workforce_that_changes_nothing_leaves_the_roadmap_as_it_was(tmp_path: Path
                                                                        ) -> None:
    """No attrition, replace: every state is the plan's, so the phases' KPIs and the
    money are bitwise those of the roadmap without the block."""
    before, _ = _run(tmp_path, PLAN, "before")
    after, meta = _run(tmp_path, PLAN + "workforce:\n  base: {hiring: replace}\n", "after")
    assert (before / "roadmap.csv").read_bytes() == (after / "roadmap.csv").read_bytes()
    a, b = pd.read_csv(before / "summary.csv"), pd.read_csv(after / "summary.csv")
    keep = b["variant"].isin(a["variant"])
    pd.testing.assert_frame_equal(a, b[keep].reset_index(drop=True), check_exact=True)
    assert meta["workforce"]["simulated_months"][0] == 0


def test_months_in_between_are_interpolated_from_the_simulated_ones(tmp_path: Path
                                                                     ) -> None:
    broken(tmp_path, SMALL, "small.yaml")
    text = PLAN + "workforce:\n  base: {attrition_per_year: 0.5, hiring: none}\n"
    lr = load_roadmap(broken(tmp_path, text, "p.yaml"))
    knots = sorted(lr.workforce.knots)
    assert knots[0] == 0 and knots[-1] == 12 and {1, 3, 4, 5} <= set(knots)
    every = load_roadmap(broken(tmp_path, text + "workforce_points: all\n", "q.yaml"))
    assert sorted(every.workforce.knots) == list(range(13))


def test_service_dips_are_months_in_training_that_miss_what_the_plan_meets() -> None:
    wf = pd.DataFrame({"month": [1, 2, 3, 4], "tier": ["base"] * 4,
                       "headcount": [10.0] * 4, "leavers": [0.0] * 4,
                       "hires": [2.0, 0, 0, 0], "new_hire_share": [0.2, 0.2, 0.0, 0.0],
                       "speed": [0.8, 0.9, 1.0, 1.0]})
    asa = [70.0, 50.0, 80.0, 40.0]        # month 3 misses, but nobody is learning
    planned = [40.0, 40.0, 40.0, 90.0]
    kpis = pd.DataFrame({"month": [1, 2, 3, 4], "phase": ["p"] * 4,
                         "metric": ["phone.asa_s"] * 4, "mean": asa, "planned": planned,
                         "simulated": [True] * 4})
    targets = [{"metric": "phone.asa_s", "max": 60}, {"metric": "cost.total", "max": 1}]
    found = service_dips(wf, kpis, targets, coaching_months=set())
    assert [m for m, _ in found] == [1] and "phone.asa_s 70" in found[0][1]
    # coaching makes month 3 a training month; month 4's plan misses too: not a dip
    assert [m for m, _ in service_dips(wf, kpis, targets, {3, 4})] == [1, 3]
    # without a service target: service level more than 0.05 below the plan's
    sl = kpis.assign(metric="phone.service_level", mean=[0.70, 0.78, 0.5, 0.5],
                     planned=[0.8, 0.8, 0.8, 0.8])
    assert [m for m, _ in service_dips(wf, sl, [], set())] == [1]


# ---------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("block", "words"), [
    ("{novice: {attrition_per_year: 0.1}}", ["workforce.novice", "not a tier", "base"]),
    ("{base: {coached_by: coach, coaching_hours_per_hire: 10}}",
     ["workforce.base.coached_by", "coach"]),
    ("{base: {attrition_per_year: 1.0}}", ["workforce.base.attrition_per_year", "less than"]),
    ("{base: {hire_lead_months: -1}}", ["workforce.base.hire_lead_months"]),
    ("{base: {new_hire_speed: .nan}}", ["workforce.base.new_hire_speed"]),
    ("{base: {learning_months: .inf}}", ["workforce.base.learning_months"]),
    ("{base: {hiring: sometimes}}", ["workforce.base.hiring", "replace"]),
    ("{base: {coaching_hours_per_hire: 10}}", ["workforce.base", "coached_by"]),
    ("{base: {hiring: {plan: {30: 2}}}}", ["workforce.base.hiring.plan.30", "last month"]),
    ("{base: {attrition: 0.1}}", ["workforce.base.attrition", "attrition_per_year"]),
    ("{base: {cuts: later}}", ["workforce.base.cuts", "at_once"]),
    ("{base: {hiring: none}}\nuncertain: {tiers.base.agents: {dist: uniform, low: 3, "
     "high: 5}}", ["workforce", "uncertain"]),
])
def test_bad_workforce_exits_2_with_file_line_and_path(tmp_path: Path, block: str,
                                                       words: list[str]) -> None:
    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, PLAN + f"workforce: {block}\n", "plan.yaml")
    res = ccsim("validate", str(plan))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "plan.yaml" in res.stderr and "line 13" in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_a_cut_goes_at_once_with_replace_and_by_attrition_when_asked() -> None:
    q = 1 - (1 - 0.18) ** (1 / 12)
    plan = [124.0] + [62.0] * 24
    at_once = tier_path(TierWorkforce(attrition_per_year=0.18), plan)
    assert at_once.headcount[1] == 62 and at_once.leavers[1] == pytest.approx(62)
    slow = tier_path(TierWorkforce(attrition_per_year=0.18, cuts="attrition"), plan)
    assert slow.headcount[12] == pytest.approx(124 * 0.82) and sum(slow.hires) == 0
    assert slow.leavers[1] == pytest.approx(124 * q)
    frozen = tier_path(TierWorkforce(attrition_per_year=0.18, hiring="none"), plan)
    assert frozen.headcount == slow.headcount          # none: attrition carries the cut


def test_simulated_months_cost_the_same_whichever_months_are_simulated(tmp_path: Path
                                                                        ) -> None:
    """Common random numbers: a month simulated in both runs costs the same to the cent;
    the months the default interpolates are simulated directly with ``all``."""
    text = PLAN + ("workforce:\n  base: {attrition_per_year: 0.6, hiring: replace, "
                   "hire_lead_months: 3, cuts: attrition}\n")
    default, meta = _run(tmp_path, text, "default")
    every, meta_all = _run(tmp_path, text + "workforce_points: all\n", "every")
    assert meta_all["workforce"]["simulated_months"] == list(range(13))
    a = pd.read_csv(default / "roadmap.csv").set_index("month")["operating_cost"]
    b = pd.read_csv(every / "roadmap.csv").set_index("month")["operating_cost"]
    for m in meta["workforce"]["simulated_months"][1:]:
        assert a[m] == pytest.approx(b[m], abs=0.005), m
    inside = [m for m in range(1, 13) if m not in meta["workforce"]["simulated_months"]]
    assert inside and all(min(a[m - 1], a[m + 1]) - 0.005 <= a[m] <= max(a[m - 1], a[m + 1])
                          + 0.005 for m in inside if 1 < m < 12)
