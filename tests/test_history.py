"""Arrival profiles from a history CSV (profile_file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.base.errors import InputError
from sim.inputs.history import profile_from_csv
from sim.inputs.scenario import load_scenario

SCENARIO = """\
name: hist
horizon_hours: 24
interval_minutes: 60
channels:
  phone:
    arrivals: {profile_file: data/phone.csv}
    mix: {simple: 1.0}
    handle_time: {simple: {dist: exponential, mean_s: 100}}
tiers:
  base: {agents: 5, serves: {simple: 1.0}}
"""


def write_history(path: Path) -> None:
    rows = ["interval_start,volume"]
    for day in ("2024-03-04", "2024-03-05"):
        for hour in range(8, 22):
            for minute in (0, 30):
                rows.append(f"{day} {hour:02d}:{minute:02d},{10 if day.endswith('4') else 20}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")


def test_profile_averages_days_and_sums_into_intervals(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    write_history(csv)
    prof = profile_from_csv(csv, 60)
    assert len(prof) == 24
    # two 30-min rows per hour: day 1 gives 20/h, day 2 gives 40/h -> mean 30/h
    assert prof[8] == pytest.approx(30.0) and prof[21] == pytest.approx(30.0)
    assert prof[7] == 0.0 and prof[22] == 0.0
    half_hourly = profile_from_csv(csv, 30)
    assert len(half_hourly) == 48 and half_hourly[16] == pytest.approx(30.0)


def test_scenario_reads_profile_relative_to_its_file(tmp_path: Path) -> None:
    write_history(tmp_path / "data" / "phone.csv")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    sc = load_scenario(tmp_path / "s.yaml").scenario
    arr = sc.channels["phone"].arrivals
    assert arr.profile_per_hour is not None and arr.profile_per_hour[10] == pytest.approx(30.0)
    assert arr.profile_source is not None and arr.profile_source.endswith("phone.csv")


def test_missing_column_is_an_input_error(tmp_path: Path) -> None:
    csv = tmp_path / "data" / "phone.csv"
    csv.parent.mkdir()
    csv.write_text("start,calls\n08:00,5\n")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    with pytest.raises(InputError) as exc:
        load_scenario(tmp_path / "s.yaml")
    assert "interval_start" in str(exc.value) and "phone.csv" in str(exc.value)


def test_bad_volume_names_the_line(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("interval_start,volume\n08:00,5\n08:30,-3\n")
    with pytest.raises(InputError) as exc:
        profile_from_csv(csv, 30)
    assert exc.value.line == 3


def test_missing_history_file_points_at_the_key(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    with pytest.raises(InputError) as exc:
        load_scenario(tmp_path / "s.yaml")
    assert exc.value.line == 6 and "profile_file" in (exc.value.path or "")
