"""The command line as a user meets it: exit codes, messages, result files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"

SMALL = """\
name: small
seed: 3
replications: 3
horizon_hours: 4
warmup_hours: 0.5
channels:
  phone:
    arrivals: {rate_per_hour: 120}
    mix: {simple: 0.7, complex: 0.3}
    handle_time:
      simple: {dist: exponential, mean_s: 200}
      complex: {dist: lognormal, mean_s: 400, cv: 0.8}
    patience: {dist: exponential, mean_s: 180}
tiers:
  base:
    agents: 6
    cost_per_hour: 40
    serves: {simple: 1.0}
  advanced:
    agents: 4
    cost_per_hour: 60
    serves: {simple: 1.0, complex: 1.0}
routing:
  simple: [{tier: base}, {tier: advanced, after_s: 30}]
targets:
  - {metric: phone.asa_s, max: 60}
variants:
  more: {tiers.base.agents: 8}
"""


def ccsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args],
                          capture_output=True, text=True, cwd=cwd or ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "COLUMNS": "200"})


def broken(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


BROKEN = {
    # case: (edit of SMALL, words the message must contain, text on the line it must name)
    "typo-in-key": (lambda s: s.replace("rate_per_hour", "rate_per_hr"),
                    ["channels.phone.arrivals.rate_per_hr", "rate_per_hour"], "rate_per_hr"),
    "negative-rate": (lambda s: s.replace("rate_per_hour: 120", "rate_per_hour: -5"),
                      ["channels.phone.arrivals.rate_per_hour", "greater than or equal to 0"],
                      "rate_per_hour: -5"),
    "mix-0.9": (lambda s: s.replace("complex: 0.3}", "complex: 0.2}"),
                ["channels.phone.mix", "sum to 1"], "mix:"),
    "unknown-tier": (lambda s: s.replace("{tier: advanced, after_s: 30}",
                                         "{tier: senior, after_s: 30}"),
                     ["routing.simple.1.tier", "unknown tier 'senior'"], "senior"),
    "bad-dist": (lambda s: s.replace("dist: lognormal", "dist: lognormale"),
                 ["channels.phone.handle_time.complex.dist", "lognormal"], "lognormale"),
    "yaml-syntax": (lambda s: s.replace("mix: {simple: 0.7, complex: 0.3}",
                                        "mix: {simple: 0.7, complex: 0.3"), ["line"], None),
    "empty": (lambda s: "", ["empty"], None),
    "negative-aht": (lambda s: s.replace("mean_s: 200", "mean_s: -200"),
                     ["channels.phone.handle_time.simple.mean_s", "greater than 0"], "-200"),
    "horizon-0": (lambda s: s.replace("horizon_hours: 4", "horizon_hours: 0"),
                  ["horizon_hours", "greater than 0"], "horizon_hours"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_validate_broken_file_exits_2_naming_the_field(tmp_path: Path, case: str) -> None:
    edit, words, marker = BROKEN[case]
    text = edit(SMALL)
    path = broken(tmp_path, text)
    res = ccsim("validate", str(path))
    assert res.returncode == 2, res.stdout + res.stderr
    msg = res.stderr
    assert "Traceback" not in msg and str(path) in msg
    assert len(msg.strip().splitlines()) == 1, msg
    for w in words:
        assert w in msg, msg
    if marker is not None:
        line = next(i for i, t in enumerate(text.splitlines(), 1) if marker in t)
        assert f"line {line}," in msg, msg


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    res = ccsim("validate", str(tmp_path / "nope.yaml"))
    assert res.returncode == 2 and "not found" in res.stderr and "Traceback" not in res.stderr


def test_validate_good_file(tmp_path: Path) -> None:
    res = ccsim("validate", str(broken(tmp_path, SMALL, "ok.yaml")))
    assert res.returncode == 0 and "ok" in res.stdout


def test_bad_variant_points_at_override_line(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL.replace("more: {tiers.base.agents: 8}",
                                          "more: {tiers.base.agents: -1}"))
    res = ccsim("validate", str(path))
    assert res.returncode == 2
    assert "variant 'more'" in res.stderr and "tiers.base.agents" in res.stderr
    line = next(i for i, t in enumerate(SMALL.splitlines(), 1) if "more:" in t)
    assert f"line {line}," in res.stderr


def test_bad_option_exits_2(tmp_path: Path) -> None:
    res = ccsim("run", str(broken(tmp_path, SMALL, "ok.yaml")), "--reps", "zero")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_run_writes_every_result_file(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "ok.yaml")
    out = tmp_path / "out"
    res = ccsim("run", str(path), "--out", str(out), "--workers", "1", "--trace")
    assert res.returncode == 0, res.stderr
    for name in ("summary.csv", "summary.json", "replications.csv", "intervals.csv",
                 "targets.csv", "scenario.yaml", "report.html", "contacts.parquet"):
        assert (out / name).stat().st_size > 0, name
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scenario", "variant", "scope", "metric", "mean",
                                     "ci_low", "ci_high", "replications"]
    assert set(summary["variant"]) == {"base", "more"}
    assert {"all", "phone", "simple", "complex", "base", "advanced", "cost"} <= set(
        summary["scope"])
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert meta["complete"] is True and meta["replications"] == 3 and meta["seed"] == 3
    targets = pd.read_csv(out / "targets.csv")
    assert set(targets["status"]) <= {"met", "missed", "uncertain"} and len(targets) == 2
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["name"] == "small" and "more" in resolved["variants"]
    trace = pd.read_parquet(out / "contacts.parquet")
    assert {"arrive", "answer", "end"} <= set(trace["event"])
    assert "KPIs" in res.stdout and "Targets" in res.stdout


def test_workers_give_identical_summary(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "ok.yaml")
    a, b = tmp_path / "w1", tmp_path / "w2"
    assert ccsim("run", str(path), "--out", str(a), "--workers", "1", "--quiet").returncode == 0
    assert ccsim("run", str(path), "--out", str(b), "--workers", "2", "--quiet").returncode == 0
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()
    assert (a / "replications.csv").read_bytes() == (b / "replications.csv").read_bytes()


def test_json_and_fail_on_missed_targets(tmp_path: Path) -> None:
    text = SMALL.replace("{metric: phone.asa_s, max: 60}", "{metric: phone.asa_s, max: 0.001}")
    path = broken(tmp_path, text, "strict.yaml")
    res = ccsim("run", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--json",
                "--fail-on-missed-targets")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"]["complete"] and any(t["status"] == "missed" for t in doc["targets"])


def test_set_override_and_seed(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "ok.yaml")
    res = ccsim("run", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--quiet",
                "--set", "tiers.base.agents=9", "--seed", "11", "--reps", "2")
    assert res.returncode == 0, res.stderr
    s = pd.read_csv(tmp_path / "o" / "summary.csv")
    agents = s[(s.variant == "base") & (s.scope == "base") & (s.metric == "agents")]["mean"]
    assert float(agents.iloc[0]) == 9.0
    assert set(s["replications"]) <= {2}
    bad = ccsim("run", str(path), "--set", "tiers.base.agents")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_erlang_published_values() -> None:
    res = ccsim("erlang", "--rate-per-hour", "200", "--aht-s", "180", "--agents", "14",
                "--threshold-s", "20", "--json")
    doc = json.loads(res.stdout)
    assert abs(doc["service_level"] - 0.888) < 5e-4 and abs(doc["p_wait"] - 0.174) < 5e-4
    res = ccsim("erlang", "--rate-per-hour", "200", "--aht-s", "180", "--agents", "15",
                "--threshold-s", "20", "--json")
    assert abs(json.loads(res.stdout)["service_level"] - 0.941) < 5e-4


def test_report_rerender(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "ok.yaml")
    out = tmp_path / "o"
    assert ccsim("run", str(path), "--out", str(out), "--workers", "1", "--quiet").returncode == 0
    (out / "report.html").unlink()
    res = ccsim("report", str(out))
    assert res.returncode == 0 and (out / "report.html").exists()
    assert ccsim("report", str(tmp_path)).returncode == 2


def test_demo_runs(tmp_path: Path) -> None:
    """The demo tells the story: options with paired differences and targets, then the
    roadmap with its budget table and payback; two results folders with reports."""
    res = ccsim("demo", "--out", str(tmp_path / "demo"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for part in ("options", "roadmap", "uncertain"):
        assert (tmp_path / "demo" / part / "report.html").exists()
        assert (tmp_path / "demo" / part / "summary.csv").exists()
    assert (tmp_path / "demo" / "roadmap" / "roadmap.csv").exists()
    assert (tmp_path / "demo" / "uncertain" / "uncertainty.csv").exists()
    for words in ("Paired differences", "Targets by option", "Targets by phase",
                  "Budget phases", "payback:", "report.html", "P(met) by phase",
                  "pays back within 60 months with probability"):
        assert words in res.stdout, words


# Interrupted runs (SIGINT/SIGTERM at markers, 1 and 2 workers, every command): see
# tests/test_hostile.py.


SCHEDULED = SMALL.replace("""  base:
    agents: 6
""", """  base:
    schedule:
      headcount: 10
      shifts:
        - {start: 08:00, end: 16:00, agents: 6}
        - {start: 14:00, end: 22:00, agents: 5}
""")


@pytest.mark.parametrize("case", ["headcount", "profile-length", "csv-columns"])
def test_validate_rejects_inconsistent_schedules_and_history(tmp_path: Path, case: str) -> None:
    if case == "headcount":
        text, words = SCHEDULED, ["tiers.base.schedule.shifts", "headcount", "14:00"]
    elif case == "profile-length":
        text = SMALL.replace("rate_per_hour: 120", "profile_per_hour: [10, 20, 30]")
        words = ["channels.phone.arrivals.profile_per_hour", "48", "got 3"]
    else:
        (tmp_path / "hist.csv").write_text("start,calls\n08:00,5\n")
        text = SMALL.replace("rate_per_hour: 120", "profile_file: hist.csv")
        words = ["hist.csv", "interval_start", "volume"]
    res = ccsim("validate", str(broken(tmp_path, text)))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    for w in words:
        assert w in res.stderr, res.stderr


def test_scheduled_tier_runs_and_reports_paid_agents(tmp_path: Path) -> None:
    text = SCHEDULED.replace("headcount: 10", "headcount: 11").replace(
        "horizon_hours: 4", "horizon_hours: 24").replace(
        "more: {tiers.base.agents: 8}", "more: {tiers.base.schedule.shifts.1.agents: 4}")
    out = tmp_path / "o"
    res = ccsim("run", str(broken(tmp_path, text, "ok.yaml")), "--out", str(out),
                "--workers", "1", "--quiet")
    assert res.returncode == 0, res.stderr
    s = pd.read_csv(out / "summary.csv").query("variant == 'base' and scope == 'base'")
    paid = float(s[s.metric == "paid_agents"]["mean"].iloc[0])
    assert paid == pytest.approx((6 * 8 + 5 * 8) / 24)
    intervals = pd.read_csv(out / "intervals.csv").query("variant == 'base'")
    at = intervals.set_index("start_h")["agents_base"]
    assert at[15.0] == 11 and at[3.0] == 0 and at[21.5] == 5


def test_target_ci_adds_replications_until_precise(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL.replace("replications: 3", "replications: 2"), "ok.yaml")
    out = tmp_path / "o"
    res = ccsim("run", str(path), "--out", str(out), "--workers", "2", "--quiet",
                "--target-ci", "phone.offered=8", "--max-reps", "64")
    assert res.returncode == 0, res.stderr
    s = pd.read_csv(out / "summary.csv").query("scope == 'phone' and metric == 'offered'")
    for _, row in s.iterrows():
        n = int(row["replications"])
        assert (row["ci_high"] - row["ci_low"]) / 2 <= 8 or n == 64
        assert n > 2  # 480 expected arrivals: sd ~22, so 2 replications are never enough
        assert n & (n - 1) == 0  # doubling from 2
    assert ccsim("run", str(path), "--target-ci", "phone.offered").returncode == 2


def test_a_child_file_can_drop_inherited_variants(tmp_path: Path) -> None:
    broken(tmp_path, SMALL, "parent.yaml")
    one = broken(tmp_path, "extends: parent.yaml\nvariants: {more: null}\n", "one.yaml")
    none = broken(tmp_path, "extends: parent.yaml\nvariants: null\n", "none.yaml")
    assert "0 variant(s)" in ccsim("validate", str(one)).stdout
    assert "0 variant(s)" in ccsim("validate", str(none)).stdout
    assert "1 variant(s)" in ccsim("validate", str(tmp_path / "parent.yaml")).stdout
    typo = broken(tmp_path, "extends: parent.yaml\nvariants:\n  mroe: null\n", "typo.yaml")
    res = ccsim("validate", str(typo))
    assert res.returncode == 2 and "line 3" in res.stderr and "inherited: more" in res.stderr


def test_a_failed_run_says_so_even_with_quiet(tmp_path: Path) -> None:
    """Contacts transferred to a tier that is never on the queue: exit 3, and the message
    names the stuck queue and tier although --quiet is given."""
    text = (SMALL.replace("    agents: 4\n", "    agents: 4\n    coaching_share: 1.0\n")
            .replace("routing:\n", "resolution: {transfer_share: 1.0}\nrouting:\n")
            .replace("    serves: {simple: 1.0}\n",
                     "    serves: {simple: 1.0}\n    resolution: {simple: 0.5}\n", 1))
    res = ccsim("run", str(broken(tmp_path, text, "stuck.yaml")), "--quiet", "--workers", "1",
                "--out", str(tmp_path / "o"))
    assert res.returncode == 3
    assert "incomplete" in res.stderr and "for advanced" in res.stderr, res.stderr


def test_a_child_file_can_drop_an_inherited_channel(tmp_path: Path) -> None:
    """`channels: {social: null}` in a file extending the demo removes the channel; the
    result runs, and a redefined variant replaces the inherited one whole."""
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {ROOT / 'scenarios' / 'demo.yaml'}\nchannels: {{social: null}}\n"
                     "variants:\n  bots-70: {channels.phone.bot.containment.simple: 0.7}\n")
    res = ccsim("validate", str(child))
    assert res.returncode == 0, res.stderr
    assert "2 channel(s)" in res.stdout and "2 variant(s)" in res.stdout
    from sim.inputs.scenario import load_scenario

    v = load_scenario(child).variants["bots-70"]
    assert set(v.channels) == {"phone", "chat"}
    assert v.channels["chat"].bot is not None
    assert v.channels["chat"].bot.containment["simple"] == 0.65   # not the parent's 0.90


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    """Schema problems of the scenario, then (once it is valid) those of every variant:
    one `error:` line each, in file order, hints kept, exit 2, no traceback."""
    text = (ROOT / "scenarios" / "demo.yaml").read_text()
    bad = text.replace("horizon_hours: 8 ", "horizon_hours: -8 ").replace(
        "rate_per_hour: 285", "rate_per_hr: 285").replace("mean_s: 210", "mean: 210")
    res = ccsim("validate", str(broken(tmp_path, bad, "bad.yaml")))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 3, res.stderr
    assert all(line.startswith(f"error: {tmp_path / 'bad.yaml'}, line ") for line in lines)
    assert [int(line.split("line ")[1].split(",")[0]) for line in lines] == sorted(
        int(line.split("line ")[1].split(",")[0]) for line in lines)
    assert "did you mean 'rate_per_hour'?" in lines[2] and "did you mean 'mean_s'?" in lines[1]
    variants = text.replace("    tiers.base.agents: 30", "    tiers.base.agnts: 30").replace(
        "containment.complex: 0.30", "containment.complex: 1.30")
    res = ccsim("validate", str(broken(tmp_path, variants, "variants.yaml")))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 2, res.stderr
    assert "in variant 'bots-70'" in lines[0] and "in variant 'more-advanced'" in lines[1]
    assert "Traceback" not in res.stderr
