"""Benchmark of a roadmap with uncertain inputs (issue 12): the bundled
scenarios/roadmap-2026-uncertain.yaml at its default draws and replications (a full week
per state), timed end to end, with the precision of P(payback within the horizon).

    python bench/bench_uncertain.py [--workers 2] [--draws N] [--out DIR] [-- extra ccsim args]

Target: under 10 minutes on 2 cores, with P(payback within horizon) known to +-0.05
(the half-width of its 95% Wilson interval).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--file", default=str(ROOT / "scenarios" / "roadmap-2026-uncertain.yaml"))
    ap.add_argument("--out", default=None)
    ap.add_argument("extra", nargs="*", help="more ccsim roadmap arguments (after --)")
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="bench-uncertain-"))
    cmd = [sys.executable, "-c", "import cli; cli.main()", "roadmap", a.file, "--workers",
           str(a.workers), "--out", str(out), "--quiet", *a.extra]
    if a.draws:
        cmd += ["--draws", str(a.draws)]
    t0, c0 = time.perf_counter(), os.times()
    res = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    c1 = os.times()
    if res.returncode != 0:
        print(f"ccsim roadmap exited {res.returncode}")
        return res.returncode
    meta = json.loads((out / "summary.json").read_text())["meta"]
    rows = {r["metric"]: r for r in json.loads((out / "summary.json").read_text())["rows"]
            if r["scope"] == "roadmap" and r["variant"] == "roadmap"}
    p = rows["p_payback_within_horizon"]
    half = (p["ci_high"] - p["ci_low"]) / 2
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    print(f"{a.file}: {meta['draws']} draws, {meta['replications']} replications per "
          f"state, {meta['distinct_states']} distinct states "
          f"({meta['replications_done']} simulations), workers {a.workers}")
    print(f"wall {wall:.0f} s ({wall / 60:.1f} min), CPU of the command {cpu:.0f} s; "
          f"target < 600 s on 2 cores: {'yes' if wall < 600 else 'NO'}")
    print(f"P(payback within {int(rows['horizon_months']['mean'])} months) = "
          f"{p['mean']:.3f} [{p['ci_low']:.3f}, {p['ci_high']:.3f}] (Wilson 95%): "
          f"half-width {half:.3f}; target <= 0.05: {'yes' if half <= 0.05 else 'NO'}")
    for m in ("payback_month_p10", "payback_month_p50", "payback_month_p90", "roi_p50",
              "npv_p50"):
        print(f"  {m}: {rows[m]['mean']}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
