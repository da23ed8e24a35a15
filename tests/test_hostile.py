"""Hostile input (issue #10, SPEC §7.1): every case has its expected exit code, and no
case prints a traceback or a secret planted in a file (or the environment) it points at.

The classes: paths that are not regular files, files of another kind pulled in by a
scenario, non-finite and unbounded numbers, work beyond the documented bounds, YAML bombs,
unusable --out folders, damaged results folders, option errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.base import limits
from sim.base.errors import InputError
from sim.inputs.scenario import load_scenario
from tests.test_cli import ROOT, SMALL

SECRET = "s3cr3t-7f3a9c"   # planted in files and in the environment; must never be printed


def run_ccsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "COLUMNS": "200", "CCSIM_PLANTED": SECRET})


def plant(tmp: Path) -> None:
    """Files holding the secret, in every shape a scenario might point at."""
    (tmp / "secret.txt").write_text(f"root:{SECRET}:19000:0:99999:7:::\nline two {SECRET}\n")
    (tmp / "secret.yaml").write_text(f"password: {SECRET}\n{SECRET}: 1\n")
    (tmp / "secret-bad.yaml").write_text(f"key: [{SECRET}\nother: {SECRET}\n")
    (tmp / "secret-alias.yaml").write_text(f"name: *{SECRET}\n")
    (tmp / "secret-tag.yaml").write_text(f"name: !!{SECRET} x\n")
    (tmp / "secret-dup.yaml").write_text(f"{SECRET}: 1\n{SECRET}: 2\n")
    (tmp / "secret-key.yaml").write_text(f"12: {SECRET}\n")
    (tmp / "secret-header.csv").write_text(f"{SECRET},volume\n08:00,1\n")
    (tmp / "secret-cell.csv").write_text(f"interval_start,volume\n08:00,{SECRET}\n")
    (tmp / "secret-time.csv").write_text(f"interval_start,volume\n{SECRET},3\n")
    (tmp / "secret-ragged.csv").write_text(f"interval_start,volume\n08:00,1,{SECRET}\n")
    (tmp / "secret-binary.csv").write_bytes(b"\xff\xfe" + SECRET.encode() + b"\x00\x81")
    (tmp / "loop-a.yaml").symlink_to("loop-b.yaml")
    (tmp / "loop-b.yaml").symlink_to("loop-a.yaml")
    (tmp / "adir").mkdir()
    os.mkfifo(tmp / "fifo.yaml")
    (tmp / "small.yaml").write_text(SMALL)


def scenario_with(tmp: Path, edit: Callable[[str], str], name: str = "s.yaml") -> list[str]:
    (tmp / name).write_text(edit(SMALL))
    return ["validate", name]


def rate(repl: str) -> Callable[[str], str]:
    return lambda s: s.replace("arrivals: {rate_per_hour: 120}", f"arrivals: {{{repl}}}")


def text(t: str, name: str = "s.yaml") -> Callable[[Path], list[str]]:
    def setup(tmp: Path) -> list[str]:
        (tmp / name).write_text(t)
        return ["validate", name]
    return setup


def edit(old: str, new: str) -> Callable[[Path], list[str]]:
    return lambda tmp: scenario_with(tmp, lambda s: s.replace(old, new))


def run_edited(tmp: Path, *edits: tuple[str, str], extra: list[str] | None = None
               ) -> list[str]:
    body = SMALL
    for old, new in edits:
        body = body.replace(old, new)
    (tmp / "w.yaml").write_text(body)
    return ["run", "w.yaml", "--out", "o", *(extra or [])]


def chain(tmp: Path, n: int) -> list[str]:
    for i in range(n):
        (tmp / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n")
    return ["validate", "c0.yaml"]


ROADMAP = "roadmap: r\nbaseline: small.yaml\nphases:\n  - {name: a, months: 1}\n"
BOMB = "".join(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))

# case: (setup -> command line (run in the folder of planted files), exit code, words)
CASES: dict[str, tuple[Callable[[Path], list[str]], int, list[str]]] = {
    # 1. paths a scenario names must be regular files; files of another kind never quoted
    "profile-proc-environ": (lambda t: scenario_with(t, rate("profile_file: /proc/self/environ")),
                             2, ["/proc", "profile_file"]),
    "profile-text-file": (lambda t: scenario_with(t, rate("profile_file: secret.txt")), 2,
                          ["missing column"]),
    "profile-header": (lambda t: scenario_with(t, rate("profile_file: secret-header.csv")), 2,
                       ["interval_start"]),
    "profile-bad-cell": (lambda t: scenario_with(t, rate("profile_file: secret-cell.csv")), 2,
                         ["line 2", "volume"]),
    "profile-bad-time": (lambda t: scenario_with(t, rate("profile_file: secret-time.csv")), 2,
                         ["line 2", "interval_start"]),
    "profile-ragged": (lambda t: scenario_with(t, rate("profile_file: secret-ragged.csv")), 2,
                       ["secret-ragged.csv, line 2"]),
    "profile-binary": (lambda t: scenario_with(t, rate("profile_file: secret-binary.csv")), 2,
                       ["UTF-8"]),
    "profile-directory": (lambda t: scenario_with(t, rate("profile_file: adir")), 2,
                          ["directory"]),
    "profile-dev-zero": (lambda t: scenario_with(t, rate("profile_file: /dev/zero")), 2,
                         ["device"]),
    "profile-fifo": (lambda t: scenario_with(t, rate("profile_file: fifo.yaml")), 2, ["FIFO"]),
    "profile-loop": (lambda t: scenario_with(t, rate("profile_file: loop-a.yaml")), 2,
                     ["loop"]),
    "extends-text": (text("extends: secret.txt\n"), 2, ["extends"]),
    "extends-etc-passwd": (text("extends: /etc/passwd\n"), 2, ["/etc/passwd"]),
    "extends-mapping": (text("extends: secret.yaml\n"), 2, ["not a scenario file"]),
    "extends-syntax": (text("extends: secret-bad.yaml\n"), 2, ["invalid YAML", "line"]),
    "extends-alias": (text("extends: secret-alias.yaml\n"), 2, ["invalid YAML"]),
    "extends-tag": (text("extends: secret-tag.yaml\n"), 2, ["invalid YAML"]),
    "extends-duplicate": (text("extends: secret-dup.yaml\n"), 2, ["duplicate key"]),
    "extends-number-key": (text("extends: secret-key.yaml\n"), 2, ["top-level key"]),
    "extends-loop": (text("extends: loop-a.yaml\n"), 2, ["loop"]),
    "extends-directory": (text("extends: adir\n"), 2, ["directory"]),
    "extends-dev-zero": (text("extends: /dev/zero\n"), 2, ["device"]),
    "extends-proc": (text("extends: /proc/self/environ\n"), 2, ["/proc"]),
    "extends-fifo": (text("extends: fifo.yaml\n"), 2, ["FIFO"]),
    "extends-nul": (text('extends: "a\\0b.yaml"\n'), 2, ["NUL"]),
    "extends-long-name": (text(f"extends: {'x' * 300}.yaml\n"), 2, ["too long"]),
    "extends-chain": (lambda t: chain(t, 30), 2, ["more than 20"]),
    "roadmap-baseline-secret": (text("roadmap: r\nbaseline: secret.yaml\nphases:\n"
                                     "  - {name: a, months: 1}\n", "r.yaml"), 2,
                                ["baseline", "not a scenario file"]),
    "roadmap-baseline-dir": (text("roadmap: r\nbaseline: adir\nphases:\n"
                                  "  - {name: a, months: 1}\n", "r.yaml"), 2, ["directory"]),
    "cli-file-fifo": (lambda t: ["validate", "fifo.yaml"], 2, ["FIFO"]),
    "cli-file-dir": (lambda t: ["run", "adir"], 2, ["directory"]),
    "cli-file-dev-zero": (lambda t: ["run", "/dev/zero"], 2, ["device"]),
    "cli-file-proc": (lambda t: ["validate", "/proc/self/environ"], 2, ["/proc"]),
    "cli-file-loop": (lambda t: ["validate", "loop-a.yaml"], 2, ["loop"]),
    "cli-file-huge": (text("name: x\n" + "#" * (limits.MAX_YAML_BYTES + 10) + "\n"), 2,
                      ["at most 1 MiB"]),
    "cli-file-nul": (text("name: small\x00\n"), 2, ["control character"]),
    # 5. numbers: finite, bounded; expected work bounded
    "horizon-inf": (edit("horizon_hours: 4", "horizon_hours: .inf"), 2, ["horizon_hours",
                                                                         "finite"]),
    "horizon-1e308": (edit("horizon_hours: 4", "horizon_hours: 1.0e+308"), 2, ["at most"]),
    "warmup-inf": (edit("warmup_hours: 0.5", "warmup_hours: .inf"), 2, ["warmup_hours"]),
    "rate-nan": (edit("rate_per_hour: 120", "rate_per_hour: .nan"), 2, ["rate_per_hour"]),
    "rate-string-inf": (edit("rate_per_hour: 120", "rate_per_hour: 'inf'"), 2,
                        ["rate_per_hour", "finite"]),
    "rate-huge": (edit("rate_per_hour: 120", "rate_per_hour: 1.0e+9"), 2, ["at most"]),
    "mean-inf": (edit("mean_s: 200", "mean_s: .inf"), 2, ["mean_s"]),
    "gamma-cv-inf": (edit("dist: lognormal, mean_s: 400, cv: 0.8",
                          "dist: gamma, mean_s: 400, cv: .inf"), 2, ["cv"]),
    "cv-1e308": (edit("cv: 0.8", "cv: 1.0e+308"), 2, ["cv", "at most 20"]),
    "target-nan": (edit("max: 60}", "max: .nan}"), 2, ["targets.0.max"]),
    "speed-inf": (edit("serves: {simple: 1.0}\n  advanced", "serves: {simple: .inf}\n  advanced"),
                  2, ["serves"]),
    "agents-1e9": (edit("agents: 6", "agents: 1000000000"), 2, ["at most 100,000 agents"]),
    "replications-1e20": (edit("replications: 3", "replications: 1.0e+20"), 2,
                          ["replications"]),
    "seed-huge": (edit("seed: 3", "seed: " + "9" * 30), 2, ["seed"]),
    "cost-inf": (edit("cost_per_hour: 40", "cost_per_hour: .inf"), 2, ["cost_per_hour"]),
    "long-name": (edit("name: small", "name: " + "a" * 5000), 2, ["at most 64"]),
    "long-text": (edit("name: small", "name: small\ndescription: " + "d" * 20000), 2,
                  ["description", "at most"]),
    "profile-5m": (edit("rate_per_hour: 120",
                        "profile_per_hour: [" + ",".join(["1"] * 400_000) + "]"), 2,
                   ["YAML values"]),
    "work-too-big": (lambda t: run_edited(t, ("rate_per_hour: 120", "rate_per_hour: 900000"),
                                          ("horizon_hours: 4", "horizon_hours: 8000")),
                     2, ["contacts", "at most"]),
    "work-replications": (lambda t: run_edited(t, ("rate_per_hour: 120", "rate_per_hour: 100000"),
                                               ("horizon_hours: 4", "horizon_hours: 1000"),
                                               extra=["--reps", "10000"]),
                          2, ["contacts", "at most"]),
    "validate-work-too-big": (lambda t: ["validate", *run_edited(
        t, ("rate_per_hour: 120", "rate_per_hour: 900000"),
        ("horizon_hours: 4", "horizon_hours: 8000"))[1:2]], 2, ["contacts", "at most"]),
    "intervals-too-many": (lambda t: run_edited(
        t, ("horizon_hours: 4", "horizon_hours: 8000\ninterval_minutes: 1"),
        ("rate_per_hour: 120", "rate_per_hour: 0.01")), 2, ["interval rows"]),
    "billion-laughs-sweep": (text(SMALL + "sweep:\n" + "  l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                                  + BOMB), 2, ["aliases"]),
    "recursive-alias": (text(SMALL + "sweep: &a\n  tiers.base.agents: [*a]\n"), 2,
                        ["contains itself"]),
    # 7. what used to be tracebacks
    "sweep-bad-yaml-value": (lambda t: ["sweep", "small.yaml", "--set", "description=[1",
                                        "--out", "o"], 2, ["description", "YAML"]),
    "sweep-range-nan": (lambda t: ["sweep", "small.yaml", "--set", "tiers.base.agents=nan:inf:1",
                                   "--out", "o"], 2, ["finite"]),
    "sweep-range-inf": (lambda t: ["sweep", "small.yaml", "--set", "tiers.base.agents=1:inf:1",
                                   "--out", "o"], 2, ["finite"]),
    "sweep-range-1e9": (lambda t: ["sweep", "small.yaml", "--set",
                                   "tiers.base.agents=1:1000000000:1", "--out", "o"], 2,
                        ["at most 10,000"]),
    "sweep-grid-product": (lambda t: ["sweep", "small.yaml", "--set", "tiers.base.agents=1:200:1",
                                      "--set", "tiers.advanced.agents=1:200:1", "--out", "o"],
                           2, ["40,000 points"]),
    "set-inf": (lambda t: ["run", "small.yaml", "--set", "horizon_hours=.inf", "--out", "o"], 2,
                ["horizon_hours", "finite"]),
    "erlang-inf": (lambda t: ["erlang", "--rate-per-hour", "inf", "--aht-s", "100",
                              "--agents", "3"], 2, ["--rate-per-hour"]),
    "erlang-nan": (lambda t: ["erlang", "--rate-per-hour", "10", "--aht-s", "nan",
                              "--agents", "3"], 2, ["--aht-s"]),
    "target-ci-nan": (lambda t: ["run", "small.yaml", "--target-ci", "phone.asa_s=nan",
                                 "--out", "o"], 2, ["finite"]),
    # 9. option errors: one line, exit 2
    "reps-0": (lambda t: ["run", "small.yaml", "--reps", "0"], 2, ["--reps"]),
    "reps-1e9": (lambda t: ["run", "small.yaml", "--reps", "1000000000"], 2, ["--reps"]),
    "workers-huge": (lambda t: ["run", "small.yaml", "--workers", "100000"], 2, ["--workers"]),
    "unknown-option": (lambda t: ["run", "small.yaml", "--bogus"], 2, ["--bogus"]),
    "missing-argument": (lambda t: ["run"], 2, ["Missing argument"]),
    "unknown-command": (lambda t: ["runn"], 2, ["runn"]),
    # 6. --out checked before simulating
    "out-is-file": (lambda t: ["run", "small.yaml", "--out", "secret.txt"], 2, ["is a file"]),
    "out-under-file": (lambda t: ["run", "small.yaml", "--out", "secret.txt/sub"], 2,
                       ["a file"]),
    "out-unwritable": (lambda t: ["run", "small.yaml", "--out", "/proc/ccsim-test"], 2,
                       ["cannot write"]),
    "out-too-long": (lambda t: ["run", "small.yaml", "--out", "x" * 300], 2, ["too long"]),
    "out-sweep-is-file": (lambda t: ["sweep", "small.yaml", "--set", "tiers.base.agents=5,6",
                                     "--out", "secret.txt"], 2, ["is a file"]),
    "out-roadmap-is-file": (lambda t: [text(ROADMAP, "r.yaml")(t)[0], "r.yaml", "--out",
                                       "secret.txt"] and ["roadmap", "r.yaml", "--out",
                                                          "secret.txt"], 2, ["is a file"]),
    "out-optimize-is-file": (lambda t: ["optimize", "small.yaml", "--out", "secret.txt"], 2,
                             ["is a file"]),
    "out-demo-is-file": (lambda t: ["demo", "--out", "secret.txt"], 2, ["a file"]),
}


def _damaged_folder(tmp: Path, name: str, content: bytes | None, link: str | None = None
                    ) -> list[str]:
    folder = tmp / "res"
    folder.mkdir()
    for f in ("summary.csv", "targets.csv"):
        (folder / f).write_text("scenario,variant,scope,metric,mean,ci_low,ci_high,"
                                "replications\n")
    (folder / "summary.json").write_text(json.dumps({"meta": {"command": "run"}, "rows": []}))
    target = folder / name
    target.unlink(missing_ok=True)
    if link:
        target.symlink_to(link)
    else:
        target.write_bytes(content or b"")
    return ["report", "res"]


CASES.update({
    "report-corrupt-json": (lambda t: _damaged_folder(t, "summary.json",
                                                      f'{{"meta": {SECRET}'.encode()), 2,
                            ["summary.json"]),
    "report-json-list": (lambda t: _damaged_folder(t, "summary.json", b"[1, 2]"), 2,
                         ["summary.json"]),
    "report-corrupt-csv": (lambda t: _damaged_folder(t, "summary.csv", b"a,b\n1,2,3,4\n\"" +
                                                     SECRET.encode()), 2, ["summary.csv"]),
    "report-binary-csv": (lambda t: _damaged_folder(t, "targets.csv", b"\xff\xfe\x00" * 50), 2,
                          ["targets.csv"]),
    "report-foreign-csv": (lambda t: _damaged_folder(t, "summary.csv", b"x,y\n1,2\n"), 2,
                           ["res"]),
    "report-dev-zero": (lambda t: _damaged_folder(t, "summary.json", None, "/dev/zero"), 2,
                        ["device"]),
    "report-bad-yaml": (lambda t: _damaged_folder(t, "scenario.yaml", f"x: [{SECRET}".encode()),
                        2, ["scenario.yaml"]),
})


# as a separate process (the environment is planted at start; the rest run in-process
# through the same entry point, which is much faster)
SUBPROCESS_CASES = {"profile-proc-environ", "extends-proc", "cli-file-proc", "cli-file-fifo",
                    "profile-dev-zero", "reps-0", "unknown-option", "out-is-file",
                    "report-corrupt-json", "sweep-bad-yaml-value", "erlang-inf"}


def invoke(args: list[str], cwd: Path, capfd: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> subprocess.CompletedProcess:
    """``cli.main(args)`` in this process: exit code and output as a subprocess would
    give them (signal handlers untouched, no os._exit)."""
    import cli
    from sim.base import interrupts

    def hard_exit(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(interrupts, "install", lambda: None)
    monkeypatch.setattr(cli, "_hard_exit", hard_exit)
    capfd.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(list(args))
    cap = capfd.readouterr()
    return subprocess.CompletedProcess(args, info.value.code, cap.out, cap.err)


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(tmp_path: Path, case: str, capfd: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    setup, code, words = CASES[case]
    plant(tmp_path)
    args = setup(tmp_path)
    t0 = time.monotonic()
    res = (run_ccsim(*args, cwd=tmp_path) if case in SUBPROCESS_CASES
           else invoke(args, tmp_path, capfd, monkeypatch))
    out = res.stdout + res.stderr
    assert res.returncode == code, out[-2000:]
    assert "Traceback" not in out, out[-2000:]
    assert SECRET not in out, out[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert lines and all(ln.startswith("error:") for ln in res.stderr.splitlines()
                         if ln.strip()), res.stderr[-2000:]   # one line per problem
    for w in words:
        assert w in lines[0], lines[0]
    assert time.monotonic() - t0 < 120
    assert not (tmp_path / "o").exists() or not any(  # refused before simulating
        (tmp_path / "o").glob("replications.csv"))


def test_hostile_messages_name_the_referring_line(tmp_path: Path) -> None:
    plant(tmp_path)
    (tmp_path / "s.yaml").write_text(SMALL.replace("arrivals: {rate_per_hour: 120}",
                                                   "arrivals: {profile_file: adir}"))
    res = run_ccsim("validate", "s.yaml", cwd=tmp_path)
    line = next(i for i, t in enumerate(SMALL.splitlines(), 1) if "rate_per_hour" in t)
    assert res.stderr.startswith(f"error: s.yaml, line {line}, at "
                                 "channels.phone.arrivals.profile_file: 'adir' is a directory")


# --------------------------------------------------------------------- refused quickly

@pytest.mark.parametrize("edit_", [
    lambda s: s.replace("rate_per_hour: 120", "rate_per_hour: 1000000").replace(
        "horizon_hours: 4", "horizon_hours: 8784"),
    lambda s: s.replace("replications: 3", "replications: 10000").replace(
        "rate_per_hour: 120", "rate_per_hour: 100000").replace("horizon_hours: 4",
                                                               "horizon_hours: 1000"),
    lambda s: s + "sweep:\n  l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + BOMB,
])
def test_work_beyond_the_bounds_is_refused_in_under_a_second(tmp_path: Path, edit_) -> None:  # noqa: ANN001
    path = tmp_path / "s.yaml"
    path.write_text(edit_(SMALL))
    t0 = time.perf_counter()
    with pytest.raises(InputError):
        ld = load_scenario(path)
        limits.check_work([sc for _, sc in ld.options()])
    assert time.perf_counter() - t0 < 1.0


def test_a_large_real_centre_is_within_the_bounds(tmp_path: Path) -> None:
    """500,000 contacts a day for 30 days, 10 replications, 4 options: allowed."""
    text = SMALL.replace("rate_per_hour: 120", f"rate_per_hour: {500_000 / 24:.0f}").replace(
        "horizon_hours: 4", "horizon_hours: 720").replace("replications: 3", "replications: 10")
    text += "  fewer: {tiers.base.agents: 5}\n  most: {tiers.base.agents: 9}\n"
    path = tmp_path / "big.yaml"
    path.write_text(text)
    ld = load_scenario(path)
    limits.check_work([sc for _, sc in ld.options()])
    assert len(ld.options()) == 4


def test_bounds_are_documented() -> None:
    """Every bound of sim/base/limits.py appears in docs/reference.md's Limits section."""
    doc = (ROOT / "docs" / "reference.md").read_text()
    section = doc[doc.index("## Limits"):]
    for name in dir(limits):
        if name.startswith("MAX_"):
            assert name in section, name


# --------------------------------------------------------------------- signals (item 4)
# A driver runs the CLI with markers on stderr (no product hooks): `simulating` when jobs
# start, `rep-done` after each finished replication (as the parent records it), `begin`
# once the results folder is prepared, `writing` while replications.csv is being written
# (then it sleeps a moment, so the signal lands mid-write). The test waits for a marker,
# then signals: no sleeps that flake on a loaded machine.

DRIVER = r"""
import os, sys, time
import sim.decide.study as study, sim.measure.results as results, sim.decide.optimize as op
import sim.decide.optimize_intervals as opi

def mark(what):
    sys.stderr.write(f"MARK {what}\n")
    sys.stderr.flush()

def marked(run_jobs):
    def wrapper(jobs, workers=None, on_done=None, **kw):
        def done(r):
            if on_done is not None:
                on_done(r)
            mark("rep-done")
        mark("simulating")
        return run_jobs(jobs, workers, on_done=done, **kw)
    return wrapper

study.run_jobs = marked(study.run_jobs)
op.run_jobs = marked(op.run_jobs)
opi.run_jobs = marked(opi.run_jobs)
begin = study.begin_folder
def begin_folder(out, meta):
    begin(out, meta)
    mark("begin")
    time.sleep(float(os.environ.get("CCSIM_TEST_PAUSE", "0")))
study.begin_folder = begin_folder
write = results.write_atomic
def write_atomic(path, data):
    if path.name == "replications.csv":
        mark("writing")
        time.sleep(float(os.environ.get("CCSIM_TEST_PAUSE", "0")))
    write(path, data)
results.write_atomic = write_atomic
import cli
cli.main(sys.argv[1:])
"""

LONG = SMALL.replace("horizon_hours: 4", "horizon_hours: 60").replace("replications: 3",
                                                                       "replications: 40")


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (from /proc; psutil is not a dependency)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = (Path("/proc") / entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def signalled(tmp: Path, args: list[str], marker: str, sig: int, pause_s: float = 0.0,
              nth: int = 1) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the CLI in its own process group, send ``sig`` once ``marker`` appeared ``nth``
    times on stderr; return the result and the processes of its group left after it."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "CCSIM_TEST_PAUSE": str(pause_s)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, *args], cwd=tmp, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen, lines = 0, []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if line.strip() == f"MARK {marker}":
            seen += 1
            if seen == nth:
                proc.send_signal(sig)
                break
    rest = proc.stderr.read()
    proc.wait(timeout=300)
    deadline = time.monotonic() + 60
    left = _group(proc.pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _group(proc.pid)
    err = "".join(ln for ln in [*lines, rest] if not ln.startswith("MARK"))
    assert seen == nth, err
    return subprocess.CompletedProcess(args, proc.returncode, "", err), left


def check_interrupted(out: Path, res: subprocess.CompletedProcess, left: list[int],
                      sig: int, all_done: bool = False) -> dict:
    import pandas as pd

    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    assert not left, f"processes outlived the command: {left}"
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert meta["complete"] is False and meta["error"] == "interrupted", meta
    assert meta["signal"] == signal_name(sig)
    assert not [p.name for p in out.rglob(".*")], "a temporary (half-written) file is left"
    reps = pd.read_csv(out / "replications.csv")
    assert reps.groupby(["variant", "replication"]).ngroups == meta["replications_done"]
    assert (meta["replications_done"] == meta["replications_planned"]) == all_done, meta
    assert meta["replications_done"] > 0
    for name in ("summary.csv", "intervals.csv", "targets.csv", "scenario.yaml",
                 "report.html"):
        assert (out / name).stat().st_size > 0, name
    return meta


def signal_name(sig: int) -> str:
    import signal

    return signal.Signals(sig).name


SIGINT, SIGTERM = 2, 15


@pytest.mark.parametrize("sig, workers", [(SIGINT, "1"), (SIGTERM, "2"), (SIGINT, "2")])
def test_signal_mid_run_keeps_finished_replications(tmp_path: Path, sig: int,
                                                    workers: str) -> None:
    (tmp_path / "long.yaml").write_text(LONG)
    res, left = signalled(tmp_path, ["run", "long.yaml", "--out", "o", "--workers", workers,
                                     "--quiet"], "rep-done", sig, nth=2)
    check_interrupted(tmp_path / "o", res, left, sig)


@pytest.mark.parametrize("sig", [SIGINT, SIGTERM])
def test_signal_while_writing_waits_until_every_file_is_whole(tmp_path: Path, sig: int) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    res, left = signalled(tmp_path, ["run", "s.yaml", "--out", "o", "--workers", "2"],
                          "writing", sig, pause_s=2.0)
    meta = check_interrupted(tmp_path / "o", res, left, sig, all_done=True)
    assert meta["replications_done"] == 6
    assert "while writing the results" in res.stderr


@pytest.mark.parametrize("sig", [SIGINT, SIGTERM])
def test_signal_before_simulating(tmp_path: Path, sig: int) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    res, left = signalled(tmp_path, ["run", "s.yaml", "--out", "o"], "begin", sig,
                          pause_s=30.0)
    assert res.returncode == 3 and "Traceback" not in res.stderr and not left
    assert "before simulating" in res.stderr
    meta = json.loads((tmp_path / "o" / "summary.json").read_text())["meta"]
    assert meta["complete"] is False and sorted(p.name for p in (tmp_path / "o").iterdir()
                                                ) == ["summary.json"]


def test_sigterm_mid_sweep_keeps_points_and_marks_incomplete(tmp_path: Path) -> None:
    import pandas as pd

    (tmp_path / "s.yaml").write_text(LONG.replace("replications: 40", "replications: 2"))
    args = ["sweep", "s.yaml", "--set", "tiers.base.agents=5:12:1", "--out", "o",
            "--workers", "2", "--quiet"]
    res, left = signalled(tmp_path, args, "rep-done", SIGTERM, nth=3)
    meta = check_interrupted(tmp_path / "o", res, left, SIGTERM)
    points = list((tmp_path / "o" / "points").glob("*.json"))
    assert len(pd.read_csv(tmp_path / "o" / "sweep.csv")) == len(points) >= 1
    assert meta["replications_done"] < 16


def test_sigterm_mid_roadmap(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(LONG.replace("replications: 40", "replications: 6"))
    (tmp_path / "r.yaml").write_text(ROADMAP + "  - {name: b, months: 2, set: "
                                     "{tiers.base.agents: 7}}\n")
    res, left = signalled(tmp_path, ["roadmap", "r.yaml", "--out", "o", "--workers", "2",
                                     "--quiet"], "rep-done", SIGTERM, nth=2)
    check_interrupted(tmp_path / "o", res, left, SIGTERM)
    assert not (tmp_path / "o" / "roadmap.csv").exists()


def test_sigint_mid_compare(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(LONG)
    (tmp_path / "b.yaml").write_text(LONG.replace("name: small", "name: other"))
    res, left = signalled(tmp_path, ["compare", "a.yaml", "b.yaml", "--out", "o",
                                     "--workers", "2", "--quiet"], "rep-done", SIGINT, nth=2)
    check_interrupted(tmp_path / "o", res, left, SIGINT)


def test_sigterm_mid_optimize_writes_no_staffing(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(LONG.replace("replications: 40", "replications: 4"))
    res, left = signalled(tmp_path, ["optimize", "s.yaml", "--out", "o", "--workers", "2",
                                     "--quiet"], "rep-done", SIGTERM)
    assert res.returncode == 3 and "Traceback" not in res.stderr and not left, res.stderr
    meta = json.loads((tmp_path / "o" / "summary.json").read_text())["meta"]
    assert meta["complete"] is False and meta["error"] == "interrupted"
    assert not (tmp_path / "o" / "staffing.csv").exists()


def test_sigterm_in_demo_stops_before_the_roadmap(tmp_path: Path) -> None:
    res, left = signalled(tmp_path, ["demo", "--out", "d", "--workers", "2", "--quiet"],
                          "rep-done", SIGTERM)
    check_interrupted(tmp_path / "d" / "options", res, left, SIGTERM)
    assert not (tmp_path / "d" / "roadmap" / "summary.json").exists()


def test_sigterm_mid_run_on_a_dask_local_cluster_leaves_no_worker(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    (tmp_path / "long.yaml").write_text(LONG)
    res, left = signalled(tmp_path, ["run", "long.yaml", "--out", "o", "--backend", "dask",
                                     "--workers", "2", "--quiet"], "rep-done", SIGTERM)
    check_interrupted(tmp_path / "o", res, left, SIGTERM)


# --------------------------------------------------------------------- a full disk (item 6)

FULL_DISK = r"""
import errno, os, sys
import sim.measure.results as results

budget = [int(os.environ["CCSIM_TEST_DISK_BYTES"])]

class Disk:
    def __init__(self, f):
        self.f = f
    def write(self, data):
        budget[0] -= len(data)
        if budget[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.f.write(data)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.f.close()

class OS:
    def __getattr__(self, name):
        return getattr(os, name)
    @staticmethod
    def fdopen(*a, **k):
        return Disk(os.fdopen(*a, **k))

results.os = OS()
import cli
cli.main(sys.argv[1:])
"""


def test_a_full_disk_while_writing_is_exit_3_naming_what_was_kept(tmp_path: Path) -> None:
    import pandas as pd

    (tmp_path / "s.yaml").write_text(SMALL)
    res = subprocess.run([sys.executable, "-c", FULL_DISK, "run", "s.yaml", "--out", "o",
                          "--workers", "1", "--quiet"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                              "CCSIM_TEST_DISK_BYTES": "60000"})
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    line = next(ln for ln in res.stderr.splitlines() if ln.startswith("error:"))
    assert "no space left on the disk" in line and "kept:" in line
    out = tmp_path / "o"
    kept = line.split("kept: ")[1].split(";")[0].split(", ")
    for name in kept:   # every file named as kept is whole
        if name.endswith(".csv"):
            assert len(pd.read_csv(out / name)) > 0, name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert meta["complete"] is False


# --------------------------------------------------------------------- fuzzing (item 7)

_HOSTILE_VALUES = [0, -1, 1e-300, 1e-9, 1e15, 2**63, True, "", "x", "*1e300", [], {}, None,
                   "08:00-07:00", 1e6, 100000, 0.999999, 1, 2, 0.5, 1440, [1] * 7,
                   "a" * 70, float("inf"), float("nan"), -0.0, 10**30]


def _leaves(obj: object, path: tuple = ()) -> list[tuple]:
    out: list[tuple] = [path] if path else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _leaves(v, (*path, i))
    return out


def _fuzz_once(tmp: Path, data: dict, picks: list[tuple[int, int, float]]) -> None:
    """Set some leaves to hostile values (or scale numbers), then load and, if valid and
    small, simulate one replication: only InputError may come out."""
    import copy

    import yaml

    from sim.measure.runner import Job, simulate

    data = copy.deepcopy(data)
    for leaf_i, value_i, scale in picks:
        leaves = _leaves(data)
        if not leaves:
            break
        path = leaves[leaf_i % len(leaves)]
        node = data
        for p in path[:-1]:
            node = node[p]
        old = node[path[-1]]
        if isinstance(old, int | float) and not isinstance(old, bool) and scale:
            node[path[-1]] = type(old)(old * scale) if abs(old * scale) < 1e18 else old * scale
        else:
            node[path[-1]] = copy.deepcopy(_HOSTILE_VALUES[value_i % len(_HOSTILE_VALUES)])
    file = tmp / "fuzz.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        loaded = load_scenario(file)
        limits.check_work([sc for _, sc in loaded.options()])
    except InputError as err:
        assert err.lines() and all("\n" not in ln for ln in err.lines())
        return
    for _, sc in loaded.options()[:2]:
        if limits.expected_contacts(sc) < 5_000:
            simulate(Job(sc.name, "v", sc, 0))


def test_fuzzed_scenarios_give_input_errors_or_run(tmp_path: Path) -> None:
    """Mutated copies of a scenario and of the bundled demo: every one either is an
    InputError (exit 2) or simulates without an exception (hypothesis explores)."""
    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    bases = [yaml.safe_load(SMALL.replace("horizon_hours: 4", "horizon_hours: 2")),
             yaml.safe_load((ROOT / "scenarios" / "demo.yaml").read_text().replace(
                 "horizon_hours: 8 ", "horizon_hours: 1 "))]
    pick = st.tuples(st.integers(0, 10_000), st.integers(0, 100),
                     st.sampled_from([0, 0, 0.0, -1.0, 0.001, 2.0, 1000.0, 1e9]))

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.integers(0, 1), st.lists(pick, min_size=1, max_size=3))
    def check(which: int, picks: list[tuple[int, int, float]]) -> None:
        _fuzz_once(tmp_path, bases[which], picks)

    check()


def test_a_closed_stdout_still_completes_the_results(tmp_path: Path) -> None:
    """`ccsim run ... | head -1`: the output is cut, the results folder is complete."""
    (tmp_path / "s.yaml").write_text(SMALL)
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "run", "s.yaml",
                             "--out", "o", "--workers", "1"], cwd=tmp_path,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=300)
    assert proc.returncode == 0 and "Traceback" not in err and "Exception" not in err, err
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["meta"]["complete"]
