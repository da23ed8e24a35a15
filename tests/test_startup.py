"""Start-up (issue 16): `ccsim --help` and `ccsim validate` load no numeric library, and a
run loads neither scipy nor plotly (t quantiles are tabled in sim/measure/tquantiles.py; the report
builds plotly.js specs itself, sim/report/figures.py). Checked in a fresh interpreter, by the
modules it has loaded when the command returns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"numpy", "pandas", "scipy", "plotly", "pyarrow", "simpy", "jinja2"}

_PROBE = """\
import json, sys
sys.argv = ["ccsim", *json.loads(sys.argv[1])]
import cli
try:
    cli.main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded(*args: str) -> set[str]:
    """Top-level packages imported by `ccsim ARGS` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(args))], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("MODULES ")]
    assert line, done.stdout + done.stderr
    return set(json.loads(line[-1].removeprefix("MODULES ")))


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"],
                                  ["validate", "scenarios/demo.yaml"],
                                  ["validate", "scenarios/baseline.yaml"],
                                  ["validate", "scenarios/roadmap-2026.yaml"],
                                  ["validate", "scenarios/roadmap-2026-attrition.yaml"]])
def test_help_and_validate_load_no_numeric_library(args: list[str]) -> None:
    mods = loaded(*args)
    assert "cli" in mods and "typer" in mods    # the probe did run the command
    assert not mods & HEAVY, sorted(mods & HEAVY)


def test_a_tiny_run_loads_neither_scipy_nor_plotly(tmp_path: Path) -> None:
    out = tmp_path / "run"
    mods = loaded("run", "scenarios/demo.yaml", "--reps", "2", "--set", "horizon_hours=0.5",
                  "--set", "warmup_hours=0", "--workers", "1", "--quiet", "--out", str(out))
    assert (out / "summary.csv").is_file() and (out / "report.html").is_file()
    assert {"pandas", "simpy", "jinja2"} <= mods   # it did simulate and write the report
    assert not mods & {"scipy", "plotly"}, sorted(mods & {"scipy", "plotly"})
