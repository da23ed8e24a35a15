"""Start-up (issue 16): `ccsim --help` and `ccsim validate` load no numeric library, and a
run loads neither scipy nor plotly (t quantiles are tabled in sim/measure/tquantiles.py; the report
builds plotly.js specs itself, sim/report/figures.py). A `--quiet` run builds no terminal
table and loads no rich, nor asyncio or the process pool with one worker; validating a
scenario loads no roadmap code; the report's templates are compiled once and kept
(sim/report/bytecode.py). Checked in a fresh interpreter, by the modules it has loaded when
the command returns."""

from __future__ import annotations

import json
import os
import re
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


def loaded_full(*args: str, pycache: Path | None = None) -> tuple[set[str], str, str]:
    """Every module (dotted names) imported by `ccsim ARGS`, its stdout and its stderr;
    with ``pycache``, bytecode is written under that PYTHONPYCACHEPREFIX."""
    env = None
    if pycache is not None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    probe = _PROBE.replace('{m.split(".")[0] for m in sys.modules}', "set(sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(list(args))], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    head, sep, mods = done.stdout.rpartition("\nMODULES ")
    assert sep, done.stdout + done.stderr
    return set(json.loads(mods)), head, done.stderr


TINY = ["run", "scenarios/demo.yaml", "--reps", "1", "--set", "horizon_hours=0.5", "--set",
        "warmup_hours=0", "--workers", "1"]


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


def test_validating_a_scenario_loads_no_roadmap_code() -> None:
    mods, out, _ = loaded_full("validate", "scenarios/demo.yaml")
    assert "ok" in out and "sim.inputs.scenario" in mods
    assert not {m for m in mods if m.startswith("sim.decide")}, sorted(
        m for m in mods if m.startswith("sim.decide"))
    mods, out, _ = loaded_full("validate", "scenarios/roadmap-2026.yaml")
    assert "roadmap" in out and "sim.decide.roadmap" in mods   # a roadmap still loads it


def test_a_quiet_run_builds_no_terminal_table_and_loads_no_rich(tmp_path: Path) -> None:
    mods, out, err = loaded_full(*TINY, "--quiet", "--out", str(tmp_path / "q"))
    assert (tmp_path / "q" / "report.html").is_file()
    assert out.strip() == "" and err == "", (out, err)
    assert not {m for m in mods if m == "rich" or m.startswith("rich.")}
    assert "sim.report.console" not in mods           # the KPI / targets tables are not built
    assert not {"asyncio", "concurrent.futures.process"} & mods   # one worker, no Dask
    mods, out, _ = loaded_full(*TINY, "--json", "--out", str(tmp_path / "j"))
    assert json.loads(out)["rows"] and "rich" not in mods   # --json: the document, no tables
    mods, out, _ = loaded_full(*TINY, "--out", str(tmp_path / "t"))
    assert "KPIs" in out and "sim.report.console" in mods   # without --quiet: the tables


def test_report_templates_are_compiled_once_and_kept(tmp_path: Path) -> None:
    """The compiled templates go under PYTHONPYCACHEPREFIX (as .pyc files do), are loaded,
    not written again, by the next run, and the page is the same to the byte but for the
    run's timestamp."""
    pages, kept = [], {}
    for i in range(2):
        out = tmp_path / f"r{i}"
        loaded_full(*TINY, "--quiet", "--out", str(out), pycache=tmp_path / "pyc")
        pages.append(re.sub(r"\d{4}-\d\d-\d\dT[\d:]{8}\+00:00", "T",
                            (out / "report.html").read_text(encoding="utf-8")))
        files = {p: p.stat().st_mtime_ns for p in (tmp_path / "pyc").rglob("*.jinja")}
        assert files and kept in ({}, files), "the second run wrote them again"
        kept = files
    assert all("sim/report/templates/__pycache__" in p.as_posix() for p in kept)
    assert pages[0] == pages[1]


def test_a_kept_template_is_not_compiled_and_a_damaged_one_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2

    import sim.report.bytecode as bc
    from sim.report import page

    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001, ANN202
        compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    monkeypatch.setattr(bc, "cache_folder", lambda _templates: tmp_path)
    monkeypatch.setattr("sys.dont_write_bytecode", False)

    def render_all() -> list[str]:
        page._env.cache_clear()
        env = page._env()
        return [env.get_template(n).render for n in ("report.html.j2", "macros.html.j2")]

    try:
        monkeypatch.setattr("sys.dont_write_bytecode", True)   # PYTHONDONTWRITEBYTECODE
        render_all()
        assert "report.html.j2" in compiled and not list(tmp_path.iterdir())
        monkeypatch.setattr("sys.dont_write_bytecode", False)
        compiled.clear()
        render_all()
        assert "report.html.j2" in compiled and list(tmp_path.glob("*.jinja"))
        compiled.clear()
        render_all()
        assert compiled == []                          # loaded from the kept files
        for f in tmp_path.glob("*.jinja"):
            f.write_bytes(f.read_bytes()[:40])         # truncated
        render_all()
        assert "report.html.j2" in compiled            # compiled again, no error
        assert all(f.stat().st_size > 40 for f in tmp_path.glob("*.jinja"))   # and kept
    finally:
        page._env.cache_clear()
