"""sweep: grid points as variants, written as they finish, resumable."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.base.errors import InputError
from sim.decide.sweep import parse_values, points
from tests.test_cli import ROOT, SMALL, broken, ccsim


def test_parse_values() -> None:
    assert parse_values("1,2,3", "p") == [1, 2, 3]
    assert parse_values("0.4:0.6:0.1", "p") == [0.4, 0.5, 0.6]
    assert parse_values("30:34:2", "p") == [30, 32, 34]
    assert parse_values("08:00-20:00,09:00-21:00", "p") == ["08:00-20:00", "09:00-21:00"]
    with pytest.raises(InputError):
        parse_values("5:1:1", "p")
    names = [n for n, _ in points([("a.b", [1, 2]), ("c", [0.5])])]
    assert names == ["a.b=1;c=0.5", "a.b=2;c=0.5"]


def test_sweep_rows_and_yaml_block(tmp_path: Path) -> None:
    text = SMALL + "sweep:\n  tiers.base.agents: [5, 7]\n  tiers.advanced.agents: '3:4:1'\n"
    out = tmp_path / "o"
    res = ccsim("sweep", str(broken(tmp_path, text, "s.yaml")), "--out", str(out),
                "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    s = pd.read_csv(out / "summary.csv")
    assert sorted(set(s["variant"])) == sorted(
        f"tiers.base.agents={b};tiers.advanced.agents={a}" for b in (5, 7) for a in (3, 4))
    wide = pd.read_csv(out / "sweep.csv")
    assert len(wide) == 4 and {"tiers.base.agents", "phone.asa_s", "meets_all_targets"} <= set(
        wide.columns)
    # more agents, shorter waits (same customers in every point)
    w = wide.set_index("variant")["phone.asa_s"]
    assert w["tiers.base.agents=7;tiers.advanced.agents=4"] < w[
        "tiers.base.agents=5;tiers.advanced.agents=3"]


def test_bad_point_is_an_input_error(tmp_path: Path) -> None:
    res = ccsim("sweep", str(broken(tmp_path, SMALL, "s.yaml")), "--set",
                "tiers.base.agents=5,many", "--out", str(tmp_path / "o"))
    # ("-1" would be a relative change, SPEC 7.5: one agent fewer, a valid point)
    assert res.returncode == 2 and "tiers.base.agents=many" in res.stderr


def test_interrupted_sweep_resumes_without_redoing_points(tmp_path: Path) -> None:
    text = SMALL.replace("horizon_hours: 4", "horizon_hours: 60").replace(
        "replications: 3", "replications: 4")
    path = broken(tmp_path, text, "s.yaml")
    out = tmp_path / "o"
    args = ["sweep", str(path), "--set", "tiers.base.agents=6:13:1", "--out", str(out),
            "--workers", "1", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *args], cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "points").glob("*.json"))
                                         if (out / "points").exists() else []) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    first = pd.read_csv(out / "sweep.csv")
    n_first = len(first)
    assert 2 <= n_first < 8
    res = ccsim(*args[:-1])
    assert res.returncode == 0, res.stderr
    assert f"{n_first * 4} replications reused" in res.stdout
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert meta["complete"] and meta["replications_resumed"] == n_first * 4
    assert len(pd.read_csv(out / "sweep.csv")) == 8
    # a fresh, uninterrupted sweep gives the very same summary
    fresh = tmp_path / "fresh"
    args_fresh = [a if a != str(out) else str(fresh) for a in args]
    assert ccsim(*args_fresh).returncode == 0
    assert (fresh / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_changed_scenario_invalidates_points(tmp_path: Path) -> None:
    path = broken(tmp_path, SMALL, "s.yaml")
    out = tmp_path / "o"
    args = ["sweep", str(path), "--set", "tiers.base.agents=5,6", "--out", str(out),
            "--workers", "1"]
    assert ccsim(*args).returncode == 0
    path.write_text(SMALL.replace("rate_per_hour: 120", "rate_per_hour: 100"))
    res = ccsim(*args)
    assert res.returncode == 0 and "0 replications reused" in res.stdout


def test_sweep_on_a_dask_local_cluster_matches_one_worker(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = broken(tmp_path, SMALL, "s.yaml")
    common = ["sweep", str(path), "--set", "tiers.base.agents=5,6", "--quiet"]
    assert ccsim(*common, "--out", str(tmp_path / "w1"), "--workers", "1").returncode == 0
    res = ccsim(*common, "--out", str(tmp_path / "dask"), "--backend", "dask", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "w1" / "summary.csv").read_bytes() == (
        tmp_path / "dask" / "summary.csv").read_bytes()
    meta = json.loads((tmp_path / "dask" / "summary.json").read_text())["meta"]
    assert meta["backend"] == "dask"


def test_unreachable_scheduler_exits_2(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    res = ccsim("run", str(broken(tmp_path, SMALL, "s.yaml")), "--backend", "dask",
                "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "127.0.0.1:1" in res.stderr and "Traceback" not in res.stderr


def test_sweep_columns_are_named_by_the_values_that_differ() -> None:
    from sim.decide.sweep import axis_names, column_labels

    grid = [("tiers.base.agents", [30, 32]), ("channels.phone.open_hours", ["08:00-16:00"]),
            ("tiers.advanced.agents", [5, 6])]
    assert axis_names([p for p, _ in grid]) == ["base.agents", "open_hours", "advanced.agents"]
    labels = column_labels(grid)
    assert labels["tiers.base.agents=30;channels.phone.open_hours=08:00-16:00;"
                  "tiers.advanced.agents=6"] == "base.agents=30, advanced.agents=6"
    assert set(column_labels([("tiers.base.schedule.shifts.0.agents", [4, 5])]).values()) \
        == {"4", "5"}


@pytest.mark.parametrize("text, words", [
    ("nan:inf:1", "finite"), ("1:inf:1", "finite"), ("1:10:nan", "finite"),
    ("1:1000000000:1", "at most 10,000"), ("[1", "YAML"), ("1,[2", "YAML"),
])
def test_bad_ranges_and_values_are_input_errors(text: str, words: str) -> None:
    import time

    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        parse_values(text, "p")
    assert words in info.value.message and info.value.path == "p"
    assert time.perf_counter() - t0 < 0.5   # checked before any value is built


def test_the_grid_is_bounded_before_any_point_is_built() -> None:
    from sim.decide.sweep import grid_from_yaml, parse_sets

    with pytest.raises(InputError) as info:
        parse_sets(["a=1:101:1", "b=1:101:1"])
    assert "10,201 points" in info.value.message
    with pytest.raises(InputError):
        grid_from_yaml({"a": list(range(200)), "b": list(range(200))})


def test_a_damaged_or_foreign_point_file_is_simulated_again(tmp_path: Path) -> None:
    from sim.decide.sweep import load_point, save_point
    from sim.measure.runner import RepResult

    rep = RepResult("s", "tiers.base.agents=5", 0, {("all", "asa_s"): 1.5}, [], None, 0.1)
    save_point(tmp_path, "k1", [rep])
    assert load_point(tmp_path, "k1", "tiers.base.agents=5")[0].metrics == rep.metrics
    assert load_point(tmp_path, "k1", "another-point") is None   # not this point's file
    for text in ("{", "[]", '{"key": "k1", "reps": [{"replication": "x"}]}', "[" * 5000):
        (tmp_path / "points" / "k1.json").write_text(text)
        assert load_point(tmp_path, "k1") is None
    (tmp_path / "points" / "k1.json").unlink()
    (tmp_path / "points" / "k1.json").symlink_to("/dev/zero")
    assert load_point(tmp_path, "k1") is None
