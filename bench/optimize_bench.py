"""Benchmark (not a timed test): `ccsim optimize` on scenarios/baseline.yaml.

Prints the number of simulations (staffings simulated x replications, plus the
verification), the wall time, and the cost found against the input's and the lower bound
(period-by-period Erlang with ample skills, priced at the cheapest tier).

    python bench/optimize_bench.py [--scenario scenarios/baseline.yaml] [--reps 4]
                                   [--workers 2] [--out /tmp/optimize-bench]

The figures of one run are in docs/reference.md (optimize).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="/tmp/ccsim-optimize-bench")
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "cli", "optimize", args.scenario, "--reps", str(args.reps),
           "--workers", str(args.workers), "--out", args.out, "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"optimize failed ({res.returncode}): {res.stderr[-2000:]}")
    meta = json.loads(res.stdout)["meta"]
    verify = meta["replications"]  # the verification of the optimized staffing
    cur = "CNY"
    print(f"scenario            {args.scenario}")
    print(f"workers             {args.workers}   replications per staffing {args.reps}")
    print(f"staffings simulated {meta['evaluations']}")
    print(f"simulations         {meta['simulations']} in the search + {verify} verification "
          f"+ {verify} input (report)")
    print(f"wall time           {wall:,.0f} s")
    print(f"cost found          {cur} {meta['optimized_cost']:,.0f} {meta['cost_unit']} "
          f"(input {cur} {meta['input_cost']:,.0f})")
    print(f"lower bound         {cur} {meta['lower_bound']:,.0f} {meta['cost_unit']} "
          f"(all at '{meta['lower_bound_tier']}'); gap {100 * meta['gap_to_bound']:.1f}%")
    print(f"found from          {meta.get('optimized_from', 'flat search')}")
    print(f"steered targets out of reach: {meta.get('out_of_reach') or 'none'}")


if __name__ == "__main__":
    main()
