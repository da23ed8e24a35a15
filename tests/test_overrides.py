"""Relative changes and wildcards (SPEC §7.5): exact before/after values, the command
line unquoted, resolved numbers in scenario.yaml, and bad paths exit 2 naming the path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.base.errors import InputError
from sim.inputs.overrides import apply_overrides, parse_override, round_count
from sim.inputs.scenario import load_scenario
from tests.test_cli import SMALL, broken, ccsim

SHIFTS = """\
name: shifts
horizon_hours: 24
channels:
  phone:
    arrivals: {rate_per_hour: 60}
    mix: {simple: 0.5, complex: 0.5}
    handle_time:
      simple: {dist: exponential, mean_s: 200}
      complex: {dist: lognormal, mean_s: 410, cv: 0.8}
  chat:
    arrivals: {rate_per_hour: 30}
    mix: {simple: 1.0}
    handle_time:
      simple: {dist: constant, mean_s: 150}
tiers:
  base:
    cost_per_hour: 48
    serves: {simple: 1.0, complex: 1.0}
    schedule:
      shifts:
        - {start: "08:00", end: "16:00", agents: 20}
        - {start: "12:00", end: "20:00", agents: 7}
        - {start: "16:00", end: "23:00", agents: 3}
  advanced:
    agents: 5
    cost_per_hour: 72
    serves: {complex: 1.0}
"""


def test_wildcards_and_relative_changes_give_exact_values(tmp_path: Path) -> None:
    text = SHIFTS + """variants:
  faster: {channels.*.handle_time.*.mean_s: "*0.9"}
  cut: {tiers.base.schedule.shifts.*.agents: "*0.85"}
  plus: {tiers.advanced.agents: "+2", tiers.base.cost_per_hour: "-8"}
  pct: {tiers.base.cost_per_hour: "+10%", tiers.advanced.cost_per_hour: "-10%"}
"""
    ld = load_scenario(broken(tmp_path, text, "s.yaml"))
    f = ld.variants["faster"].channels
    assert f["phone"].handle_time["simple"].mean_s == pytest.approx(180.0)
    assert f["phone"].handle_time["complex"].mean_s == pytest.approx(369.0)
    assert f["chat"].handle_time["simple"].mean_s == pytest.approx(135.0)
    # counts (int in the schema) round to the nearest integer: 17.0, 5.95, 2.55
    shifts = ld.variants["cut"].tiers["base"].schedule.shifts
    assert [s.agents for s in shifts] == [17, 6, 3]
    assert ld.variants["plus"].tiers["advanced"].agents == 7
    assert ld.variants["plus"].tiers["base"].cost_per_hour == 40.0   # money is not rounded
    assert ld.variants["pct"].tiers["base"].cost_per_hour == pytest.approx(52.8)
    assert ld.variants["pct"].tiers["advanced"].cost_per_hour == pytest.approx(64.8)
    # the base scenario is untouched
    assert ld.scenario.channels["phone"].handle_time["simple"].mean_s == 200.0
    # raw (written as scenario.yaml) holds the concrete paths and resolved numbers
    assert ld.raw["variants"]["cut"] == {"tiers.base.schedule.shifts.0.agents": 17,
                                         "tiers.base.schedule.shifts.1.agents": 6,
                                         "tiers.base.schedule.shifts.2.agents": 3}


def test_rounding_is_half_up_and_money_keeps_fractions() -> None:
    assert [round_count(x) for x in (4.5, 5.5, 52.7, 2.4999, 3 * 0.85 * 2, 62 * 0.85)] == \
        [5, 6, 53, 2, 5, 53]  # 5.1 -> 5; 2.5 - 1e-12 (float noise) counts as 2.5
    out = apply_overrides({"tiers": {"a": {"agents": 9, "cost_per_hour": 45}}},
                          [("tiers.a.agents", "*0.5"), ("tiers.a.cost_per_hour", "*0.5")])
    assert out["tiers"]["a"] == {"agents": 5, "cost_per_hour": 22.5}


def test_a_wildcard_skips_branches_without_the_field() -> None:
    data = {"tiers": {"a": {"agents": 10}, "b": {"schedule": {"shifts": []}}}}
    out = apply_overrides(data, [("tiers.*.agents", "*0.5")])
    assert out == {"tiers": {"a": {"agents": 5}, "b": {"schedule": {"shifts": []}}}}
    # an absolute value under a wildcard sets the last key on every match
    out = apply_overrides(data, [("tiers.*.shrinkage", 0.3)])
    assert out["tiers"]["a"]["shrinkage"] == 0.3 and out["tiers"]["b"]["shrinkage"] == 0.3


def test_overrides_apply_in_order_each_relative_to_the_last() -> None:
    out = apply_overrides({"x": {"n": 10}}, [("x.n", "*2"), ("x.n", "+1"), ("x.n", "-10%")])
    assert out["x"]["n"] == pytest.approx(18.9)


@pytest.mark.parametrize(("text", "expected"), [
    ("tiers.base.agents=*0.9", "*0.9"), ("a.b=+2", "+2"), ("a.b=-1.5", "-1.5"),
    ("a.b=-10%", "-10%"), ("a.b=+ 3", "+ 3"), ("a.b=0.7", 0.7), ("a.b=!!int -1", -1),
])
def test_command_line_values_stay_relative_unquoted(text: str, expected: object) -> None:
    assert parse_override(text)[1] == expected


@pytest.mark.parametrize(("dotted", "value", "words"), [
    ("tiers.*.agentz", "*0.9", ["tiers.*.agentz", "matches nothing"]),
    ("tiers.zz.agents", "+1", ["tiers.zz.agents", "'tiers' has no 'zz'", "base"]),
    ("tiers.base.shrinkage", "*0.9", ["tiers.base.shrinkage", "needs the field to exist"]),
    ("channels.phone.handle_time.simple.dist", "*2", ["channels.phone.handle_time.simple.dist",
                                                      "not a number"]),
    ("channels.*.bot.containment.*", 0.5, ["channels.*.bot.containment.*", "matches nothing"]),
])
def test_bad_patterns_name_the_path(dotted: str, value: object, words: list[str]) -> None:
    data = yaml.safe_load(SMALL)
    with pytest.raises(InputError) as err:
        apply_overrides(data, [(dotted, value)])
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_cli_set_unquoted_and_resolved_scenario_yaml(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "small.yaml")
    out = tmp_path / "o"
    res = ccsim("run", str(path), "--reps", "2", "--workers", "1", "--quiet", "--out", str(out),
                "--set", "tiers.*.agents=*0.5", "--set", "channels.phone.arrivals."
                "rate_per_hour=+30", "--set", "tiers.base.cost_per_hour=-10%")
    assert res.returncode == 0, res.stderr
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["tiers"]["base"]["agents"] == 3 and resolved["tiers"]["advanced"]["agents"] == 2
    assert resolved["tiers"]["base"]["cost_per_hour"] == pytest.approx(36.0)
    assert resolved["channels"]["phone"]["arrivals"]["rate_per_hour"] == 150
    # the file's variant `more: {tiers.base.agents: 8}` is absolute: applied after --set
    assert resolved["variants"]["more"] == {"tiers.base.agents": 8}


@pytest.mark.parametrize(("variant", "words"), [
    ('{tiers.*.agnets: "*0.9"}', ["bad.yaml", "line 28", "in variant 'v'", "tiers.*.agnets",
                                  "matches nothing"]),
    ('{tiers.*.agents: "-10"}', ["bad.yaml", "line 28", "in variant 'v'", "tiers.base.agents",
                                 "greater than or equal to 0"]),
])
def test_a_bad_variant_pattern_exits_2_naming_line_and_path(tmp_path: Path, variant: str,
                                                            words: list[str]) -> None:
    text = SMALL.replace("variants:\n  more: {tiers.base.agents: 8}\n",
                         f"variants:\n  v: {variant}\n")
    res = ccsim("validate", str(broken(tmp_path, text)))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_cli_bad_relative_set_exits_2(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "small.yaml")
    res = ccsim("run", str(path), "--set", "tiers.base.shrinkage=*0.9")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "tiers.base.shrinkage" in res.stderr and "needs the field to exist" in res.stderr


def test_a_phase_set_is_relative_to_the_state_before_the_phase(tmp_path: Path) -> None:
    from sim.decide.roadmap import load_roadmap

    broken(tmp_path, SMALL, "small.yaml")
    plan = broken(tmp_path, """\
roadmap: plan
baseline: small.yaml
phases:
  - name: one
    months: 2
    set: {tiers.base.agents: "-2", channels.*.handle_time.*.mean_s: "*0.5"}
  - name: two
    months: 2
    ramp: true
    ramp_points: 2
    set: {tiers.base.agents: "*0.5"}
""", "plan.yaml")
    lr = load_roadmap(plan)
    by = {p.variant: p.scenario for p in lr.points}
    assert by["one"].tiers["base"].agents == 4
    assert by["one"].channels["phone"].handle_time["complex"].mean_s == 200.0
    assert by["two"].tiers["base"].agents == 2          # half of phase one's 4
    assert by["two@3"].tiers["base"].agents == 3        # the ramp half way: 4 -> 2
    assert lr.raw["phases"][0]["set"]["tiers.base.agents"] == 4
    assert lr.raw["phases"][0]["set"]["channels.phone.handle_time.simple.mean_s"] == 100.0
