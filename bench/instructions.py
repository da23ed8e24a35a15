"""Instructions per contact (valgrind's callgrind): a measure of the engine's cost that a busy
machine does not blur.

bench/bench.py times the engine next to a bare heapq loop; on a shared machine single runs
still vary by 10-40%. The number of machine instructions does not vary: this script runs
each model twice under ``valgrind --tool=callgrind`` (a small and a larger run), and divides
the difference in instructions by the difference in contacts, so start-up, imports and the
warm-up cancel out.

    python bench/instructions.py                    # Erlang A model, heapq loop, baseline.yaml
    python bench/instructions.py --scenarios scenarios/tier-mix.yaml --small 10 --large 40

Needs valgrind (Debian: ``apt-get install valgrind``). Each run takes 30-90 s (callgrind
is about 50 times slower than the machine). Instructions are not time (a cache miss costs
more than an add), so use it to compare two versions of the code, beside bench/bench.py.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One child run: simulate a model and print the contacts it simulated.
_CHILD = """\
import sys
# this checkout's code, even when another checkout is installed in editable mode
sys.meta_path = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")
                 and "editable" not in type(f).__module__]
sys.path.insert(0, {bench!r})
sys.path.insert(0, {root!r})
import bench
kind, size = sys.argv[1], float(sys.argv[2])
if kind == "heapq":
    print(bench.heapq_loop(int(size))[0])
    raise SystemExit
if kind == "erlang-a":
    sc = bench.erlang_a_scenario(int(size))
else:  # a scenario file, its horizon scaled to size percent
    sc = bench.load_scenario(kind).scenario
    sc = sc.model_copy(update={{"horizon_hours": sc.horizon_hours * size / 100.0}})
eng = bench.Engine(sc, bench.compile_routes(sc), 0)
eng.run()
print(eng.n_contacts)
"""


def instructions(kind: str, size: float) -> tuple[int, int]:
    """(instructions, contacts) of one child run under callgrind."""
    code = _CHILD.format(bench=str(ROOT / "bench"), root=str(ROOT))
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-c", code, kind, str(size)], cwd=ROOT, capture_output=True, text=True, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind for {kind}:\n{done.stderr}")
    return int(found.group(1)), int(done.stdout.split()[-1])


def per_contact(kind: str, small: float, large: float) -> tuple[float, int]:
    i1, n1 = instructions(kind, small)
    i2, n2 = instructions(kind, large)
    return (i2 - i1) / (n2 - n1), n2 - n1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, nargs=2, default=(5_000, 25_000),
                    metavar=("SMALL", "LARGE"), help="contacts of the Erlang A runs")
    ap.add_argument("--scenarios", nargs="*", default=["scenarios/baseline.yaml"])
    ap.add_argument("--small", type=float, default=10.0,
                    help="horizon of the small scenario run, percent of the file's")
    ap.add_argument("--large", type=float, default=40.0)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    small, large = args.contacts
    rows = [("heapq loop, M/M/50+M rho 0.9", *per_contact("heapq", small, large)),
            ("ccsim engine, M/M/50+M rho 0.9", *per_contact("erlang-a", small, large))]
    rows += [(f"{Path(p).name} (1 rep)", *per_contact(p, args.small, args.large))
             for p in args.scenarios]
    loop = rows[0][1]
    print(f"{'model':<34}{'contacts':>10}{'instr/contact':>15}{'heapq / this':>14}")
    for name, ir, n in rows:
        print(f"{name:<34}{n:>10,}{ir:>15,.0f}{loop / ir:>14.2f}")


if __name__ == "__main__":
    main()
