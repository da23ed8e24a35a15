"""Warnings for valid but implausible input (issue 11): unit slips and a warm-up shorter
than the relaxation time. Unit level against hand-computed values, then end to end: a line
on stderr, exit 0, and the warning in summary.json; the bundled scenarios raise none."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from support import one_channel, scenario

from sim.inputs.scenario import load_scenario
from sim.model.plausible import relaxation_time_s, scenario_warnings

ROOT = Path(__file__).resolve().parents[1]


def expo(mean_s: float) -> dict:
    return {"dist": "exponential", "mean_s": mean_s}


def test_relaxation_time_is_morse_for_mmc() -> None:
    """tau = AHT / (c (1 - sqrt(rho))^2): 12 AHT at c = 1, rho = 0.5 (as the theory tests
    estimate); 31 AHT for 50 agents at rho 0.95."""
    sc = one_channel(30.0, expo(60.0), 1, warmup_hours=0.0)  # rho 0.5, AHT 60 s
    tau, load, c = relaxation_time_s(sc)
    assert (load, c) == (0.5, 1.0)
    assert tau == pytest.approx(60.0 / (1 - math.sqrt(0.5)) ** 2)
    assert 11.6 < tau / 60.0 < 11.7
    sc = one_channel(0.95 * 50 * 12.0, expo(300.0), 50)
    tau, _, _ = relaxation_time_s(sc)
    assert 31.0 < tau / 300.0 < 31.3


def test_warmup_shorter_than_relaxation_warns_and_patience_caps_it() -> None:
    sc = one_channel(0.95 * 50 * 12.0, expo(300.0), 50, warmup_hours=1.0)  # tau ~ 2.6 h
    assert any("relaxation time, about 2.6 h" in w for w in scenario_warnings(sc))
    ok = one_channel(0.95 * 50 * 12.0, expo(300.0), 50, warmup_hours=3.0)
    assert scenario_warnings(ok) == []
    capped = one_channel(0.95 * 50 * 12.0, expo(300.0), 50, warmup_hours=1.0,
                         patience=expo(600.0))
    assert relaxation_time_s(capped)[0] == 600.0 and scenario_warnings(capped) == []
    unstable = one_channel(1.2 * 10 * 12.0, expo(300.0), 10, warmup_hours=5.0)
    assert any("no steady state" in w for w in scenario_warnings(unstable))


def test_a_channel_closed_at_the_start_starts_empty_in_reality_too() -> None:
    sc = one_channel(0.95 * 50 * 12.0, expo(300.0), 50, warmup_hours=1.0,
                     open_hours="08:00-20:00")  # warm-up starts Sunday 23:00: closed
    assert relaxation_time_s(sc) is None and scenario_warnings(sc) == []


def test_unit_slips_warn() -> None:
    sc = scenario({"phone": {"arrivals": {"rate_per_hour": 10.0}, "mix": {"simple": 1.0},
                             "handle_time": {"simple": expo(4.0)}},
                   "email": {"mode": "async", "arrivals": {"rate_per_hour": 5.0},
                             "mix": {"mail": 1.0}, "handle_time": {"mail": expo(300.0)},
                             "service_level_threshold_s": 8.0}},
                  {"base": {"agents": 3, "serves": {"simple": 1.0, "mail": 1.0}}},
                  warmup_hours=10.0)
    w = scenario_warnings(sc)
    assert any(x.startswith("channels.phone.handle_time.simple.mean_s is 4 s") for x in w)
    assert any(x.startswith("channels.email.service_level_threshold_s is 8 s") for x in w)
    assert len(w) == 2


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_bundled_scenarios_raise_no_warning(path: Path) -> None:
    if "roadmap" in path.name:
        pytest.skip("a roadmap file")
    for _, sc in load_scenario(path).options():
        assert scenario_warnings(sc) == []


def test_warnings_on_stderr_exit_0_and_in_summary_json(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "demo.yaml").read_text().replace(
        "warmup_hours: 1 ", "warmup_hours: 0 ").replace("mean_s: 210,", "mean_s: 15,")
    f = tmp_path / "slip.yaml"
    f.write_text(text)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    v = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "validate", str(f)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert v.returncode == 0 and "warning: channels.phone.handle_time.simple.mean_s is 15 s" \
        in v.stderr, v.stderr
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "run", str(f), "--reps",
                        "2", "--workers", "1", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("warning: ")]
    assert len(lines) == len(set(lines)) >= 1  # once each, whatever the variants
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert any("15 s" in w for w in meta["warnings"])
