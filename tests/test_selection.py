"""compare --pcs: Kim & Nelson's fully sequential selection of the cheapest option meeting
every target (sim.decide.selection)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.decide.selection import KN
from tests.test_cli import broken, ccsim


def run_kn(means: list[float], sd: float, delta: float, n0: int, rng: np.random.Generator,
           common_sd: float = 0.0, feasible: list[str] | None = None, max_reps: int = 2000,
           pcs: float = 0.95) -> KN:
    keys = [("s", f"o{i}") for i in range(len(means))]
    kn = KN(keys, pcs=pcs, delta=delta, n0=n0, max_reps=max_reps)
    status = dict(zip(keys, feasible or ["met"] * len(keys), strict=True))
    costs: dict = {k: [] for k in keys}

    def draw(n: int) -> None:
        common = rng.normal(0, common_sd, n) if common_sd else np.zeros(n)
        for k, m in zip(keys, means, strict=True):
            costs[k] += list(m + common + rng.normal(0, sd, n))

    draw(n0)
    while True:
        kn.update({k: costs[k][: len(costs[k])] for k in kn.contending()}, status)
        if kn.done():
            return kn
        draw(1)   # one more replication for everyone; KN reads only the contenders'


def test_probability_of_correct_selection_in_the_least_favourable_configuration() -> None:
    """Best option exactly delta cheaper than the others (the slippage configuration, where
    KN's guarantee is tight): the share of correct selections over many independent
    procedures is at least pcs (up to 4 standard errors)."""
    rng = np.random.default_rng(7)
    n_macro, pcs = 400, 0.9
    correct = sum(run_kn([10.0, 11.0, 11.0, 11.0], 2.0, 1.0, 10, rng, pcs=pcs).selected
                  == ("s", "o0") for _ in range(n_macro))
    p = correct / n_macro
    assert p >= pcs - 4 * math.sqrt(pcs * (1 - pcs) / n_macro), p


def test_clearly_inferior_options_leave_at_the_first_stage() -> None:
    """With common random numbers (the cost noise is shared), an option far costlier than
    a feasible one leaves after the first stage; a close one needs more replications."""
    rng = np.random.default_rng(3)
    kn = run_kn([100.0, 160.0, 100.5], 2.0, 1.0, 10, rng, common_sd=20.0)
    t = kn.table().set_index("variant")
    assert kn.selected in {("s", "o0"), ("s", "o2")}
    assert t.loc["o1", "replications"] == 10 and t.loc["o1", "status"] == "eliminated: costlier"
    assert t["replications"].max() > 10


def test_a_missed_target_removes_an_option_and_infeasible_cheaper_ones_do_not_win() -> None:
    rng = np.random.default_rng(5)
    kn = run_kn([50.0, 100.0, 130.0], 1.0, 2.0, 5, rng, feasible=["missed", "met", "met"])
    t = kn.table().set_index("variant")
    assert kn.selected == ("s", "o1")
    assert t.loc["o0", "status"] == "eliminated: a target missed"
    # none feasible
    kn = run_kn([50.0, 60.0], 1.0, 2.0, 5, rng, feasible=["missed", "missed"])
    assert kn.selected is None and "no option meets" in kn.statement("CNY")


def test_max_reps_leaves_ties_undecided() -> None:
    rng = np.random.default_rng(9)
    kn = run_kn([100.0, 100.0], 5.0, 0.01, 5, rng, max_reps=20)
    assert kn.selected is None and "undecided" in set(kn.table()["status"].str[:9])


SCEN = """\
name: {name}
seed: 4
replications: 5
horizon_hours: 8
warmup_hours: 1
channels:
  phone:
    arrivals: {{rate_per_hour: 120}}
    mix: {{simple: 1.0}}
    handle_time: {{simple: {{dist: exponential, mean_s: 180}}}}
    patience: {{dist: exponential, mean_s: 300}}
tiers:
  base: {{agents: {agents}, cost_per_hour: 40, serves: {{simple: 1.0}}}}
targets:
  - {{metric: phone.asa_s, max: 20}}
"""


def test_compare_pcs_names_the_cheapest_feasible_option(tmp_path: Path) -> None:
    files = [broken(tmp_path, SCEN.format(name=n, agents=a), f"{n}.yaml")
             for n, a in (("few", 6), ("right", 9), ("many", 14))]
    out = tmp_path / "o"
    res = ccsim("compare", *map(str, files), "--out", str(out), "--workers", "2", "--json",
                "--pcs", "0.95", "--indifference", "20", "--max-reps", "40")
    assert res.returncode == 0, res.stderr
    sel = pd.read_csv(out / "selection.csv").set_index("scenario")
    # 6 agents for 6 Erlangs: waits explode, the ASA target is missed
    assert sel.loc["few", "status"] == "eliminated: a target missed"
    assert sel.loc["right", "status"] == "selected"
    # labour cost is the same every replication: 'many' costs 5 x 40 x 8 more, at once
    assert sel.loc["many", "status"] == "eliminated: costlier"
    assert sel.loc["many", "replications"] == 5
    doc = json.loads(res.stdout)
    assert doc["meta"]["selection"]["selected"] == ["right", "base"]
    assert doc["meta"]["selection"]["replications"]["many/base"] == 5
    html = (out / "report.html").read_text()
    assert "Selection: the cheapest option meeting every target" in html
    assert "replications needed" in html
    summary = pd.read_csv(out / "summary.csv")
    reps = summary.groupby("scenario")["replications"].max()
    assert reps["many"] == 5 and reps["right"] == sel.loc["right", "replications"]


def test_pcs_without_indifference_is_exit_2(tmp_path: Path) -> None:
    f = broken(tmp_path, SCEN.format(name="a", agents=9), "a.yaml")
    res = ccsim("compare", str(f), str(f), "--pcs", "0.95")
    assert res.returncode == 2 and "--indifference" in res.stderr
    assert "Traceback" not in res.stderr
