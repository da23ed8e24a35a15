"""The Python API (sim.run / sim.compare) and the workbook export (SPEC §7.9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sim
from sim.base.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SMALL = """\
name: small
seed: 3
replications: 3
horizon_hours: 4
channels:
  phone:
    arrivals: {rate_per_hour: 60}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 240}}
    patience: {dist: exponential, mean_s: 120}
tiers:
  base: {agents: 5, cost_per_hour: 40, serves: {simple: 1.0}}
targets:
  - {metric: phone.asa_s, max: 60}
variants:
  more: {tiers.base.agents: 7}
"""


def ccsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def test_run_equals_the_cli_run(small: Path, tmp_path: Path) -> None:
    res = sim.run(small, workers=1)
    assert res.complete and res.meta["replications_done"] == 6
    out = tmp_path / "cli"
    assert ccsim("run", str(small), "--out", str(out), "--workers", "1",
                 "--quiet").returncode == 0
    api = tmp_path / "api"
    res.write(api)
    for name in ("summary.csv", "replications.csv", "intervals.csv", "targets.csv"):
        assert (api / name).read_bytes() == (out / name).read_bytes(), name
    assert (api / "report.html").stat().st_size > 0
    assert sorted(res.summary["variant"].unique()) == ["base", "more"]


def test_run_applies_set_and_reps(small: Path) -> None:
    res = sim.run(small, reps=2, seed=9, set={"tiers.base.agents": 6})
    agents = res.summary.query("variant == 'base' and scope == 'base' and metric == 'agents'")
    assert agents["mean"].iloc[0] == pytest.approx(6.0)
    assert set(res.summary["replications"]) == {2} and res.meta["seed"] == 9
    # variants are applied on top of the override (their own value wins)
    more = res.summary.query("variant == 'more' and scope == 'base' and metric == 'agents'")
    assert more["mean"].iloc[0] == pytest.approx(7.0)


def test_results_do_not_depend_on_workers(small: Path) -> None:
    one = sim.run(small, workers=1).summary
    two = sim.run(small, workers=2).summary
    pd.testing.assert_frame_equal(one, two)


def test_compare_pairs_replications(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.replace("name: small", "name: other").replace("agents: 5",
                                                                        "agents: 6"))
    cmp = sim.compare([small, other], reps=3)
    d = cmp.differences
    assert set(d["scenario"]) == {"small", "other"}
    # paired difference of offered is exactly 0: the same customers arrive (CRN)
    offered = d.query("scope == 'phone' and metric == 'offered'")
    assert (offered["diff_mean"] == 0).all()
    asa = d.query("scenario == 'other' and variant == 'base' and scope == 'phone' "
                  "and metric == 'asa_s'")
    assert asa["diff_mean"].iloc[0] < 0      # one more agent: shorter waits
    assert cmp.best in {(s, v) for s, v in zip(cmp.targets["scenario"],
                                               cmp.targets["variant"], strict=True)} | {None}


def test_bad_input_raises_input_error(small: Path) -> None:
    with pytest.raises(InputError, match=r"tiers\.base\.agents"):
        sim.run(small, set={"tiers.base.agents": -1})
    with pytest.raises(InputError):
        sim.compare(small)  # type: ignore[arg-type]  - a single path, not a list
    with pytest.raises(InputError, match="not found"):
        sim.run(small.parent / "missing.yaml")


def test_import_sim_stays_light() -> None:
    code = "import sys, sim; print('pandas' in sys.modules, 'simpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    assert out == ["False", "False"]


# --- export -------------------------------------------------------------------------------

def test_export_writes_one_sheet_per_csv(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    sim.run(small, reps=2).write(out)
    (out / "evil.csv").write_text('name,value\n"=HYPERLINK(""http://x"")",1\n"\x1b[31m",\n')
    book = tmp_path / "t.xlsx"
    res = ccsim("export", str(out), "--xlsx", str(book))
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[:2] == ["summary", "targets"] and "about" in wb.sheetnames
    csvs = {p.stem for p in out.glob("*.csv")}
    assert csvs <= set(wb.sheetnames)
    ws = wb["summary"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header == list(pd.read_csv(out / "summary.csv").columns)
    first = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert first["mean"].data_type == "n" and isinstance(first["mean"].value, int | float)
    summary = pd.read_csv(out / "summary.csv")
    assert ws.max_row == len(summary) + 1
    evil = wb["evil"]
    assert evil["A2"].data_type == "s" and evil["A2"].value.startswith("=HYPERLINK")
    assert "\x1b" not in evil["A3"].value and evil["B3"].value is None


@pytest.mark.parametrize("case", ["no-folder", "not-results", "bad-suffix", "out-is-dir"])
def test_export_bad_input_is_exit_2(case: str, small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    sim.run(small, reps=2).write(out)
    folder, book = out, tmp_path / "t.xlsx"
    if case == "no-folder":
        folder = tmp_path / "nope"
    elif case == "not-results":
        folder = tmp_path
    elif case == "bad-suffix":
        book = tmp_path / "t.csv"
    else:
        book = tmp_path / "d.xlsx"
        book.mkdir()
    res = ccsim("export", str(folder), "--xlsx", str(book))
    assert res.returncode == 2 and res.stderr.startswith("error: ")
    assert "Traceback" not in res.stderr


# --- the how-to runs ----------------------------------------------------------------------

def test_howto_python_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "howto-python.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/howto-python.md", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert printed.startswith("True 9")
    assert "refused:" in printed and "tiers.base.agents" in printed
    assert (tmp_path / "results" / "python-howto" / "tables.xlsx").is_file()
    assert (tmp_path / "results" / "python-howto" / "differences.csv").is_file()
