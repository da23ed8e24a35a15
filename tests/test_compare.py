"""compare: common random numbers and paired differences."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import SMALL, broken, ccsim


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cmp")
    text = SMALL.replace("replications: 3", "replications: 12").replace(
        "horizon_hours: 4", "horizon_hours: 8")
    a = broken(d, text, "a.yaml")
    b = broken(d, text.replace("name: small", "name: bigger").replace("agents: 6", "agents: 7")
               .replace("replications: 12", "replications: 2")
               .replace("variants:\n  more: {tiers.base.agents: 8}\n", ""), "b.yaml")
    out = d / "out"
    res = ccsim("compare", str(a), str(b), "--out", str(out), "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert "Paired differences" in res.stdout and "best option" in res.stdout
    return out


def test_compare_writes_rows_for_every_option_and_differences(compared: Path) -> None:
    s = pd.read_csv(compared / "summary.csv")
    assert set(zip(s.scenario, s.variant, strict=True)) == {
        ("small", "base"), ("small", "more"), ("bigger", "base")}
    assert set(s["replications"]) <= {12}  # all options use the first file's settings
    d = pd.read_csv(compared / "differences.csv")
    assert list(d.columns) == ["scenario", "variant", "scope", "metric", "diff_mean",
                               "ci_low", "ci_high"]
    assert set(zip(d.scenario, d.variant, strict=True)) == {("small", "more"),
                                                             ("bigger", "base")}
    # Same customers in every option: offered is identical, so its difference is exactly 0.
    off = d[(d.scope == "all") & (d.metric == "offered")]
    assert (off["diff_mean"] == 0).all()


def test_paired_ci_is_much_narrower_than_independent_cis(compared: Path) -> None:
    r = pd.read_csv(compared / "replications.csv")
    sel = r[(r.scope == "phone") & (r.metric == "mean_wait_s")]
    a = sel[(sel.scenario == "small") & (sel.variant == "base")].sort_values("replication")
    b = sel[(sel.scenario == "bigger")].sort_values("replication")
    x, y = a["value"].to_numpy(), b["value"].to_numpy()
    paired_sd = np.std(y - x, ddof=1)
    independent_sd = math.sqrt(np.var(x, ddof=1) + np.var(y, ddof=1))
    assert paired_sd < 0.6 * independent_sd, (paired_sd, independent_sd)
    d = pd.read_csv(compared / "differences.csv")
    row = d[(d.scenario == "bigger") & (d.scope == "phone") & (d.metric == "mean_wait_s")]
    assert row["diff_mean"].iloc[0] == pytest.approx(float(np.mean(y - x)))
    half = (row["ci_high"].iloc[0] - row["ci_low"].iloc[0]) / 2
    assert half == pytest.approx(2.201 * paired_sd / math.sqrt(12), rel=1e-3)  # t(0.975, 11)
    assert row["ci_high"].iloc[0] < 0  # one more agent: shorter waits, with certainty
