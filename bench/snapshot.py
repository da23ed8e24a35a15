"""Snapshot of the engine's results, to check that a change leaves them bitwise unchanged.

For every bundled scenario (scenarios/*.yaml but the roadmaps) it writes, into
OUT/<scenario>/, the ``summary.csv``, ``replications.csv`` and ``intervals.csv`` of
``ccsim run --reps 2 --workers 1``, and ``digests.txt``: a SHA-256 digest of every field of
the traced :class:`~sim.model.records.RunRecord` of replications 0 and 1 (tallies, levels, the
event trace and the per-contact columns). Take one before and one after a change:

    python bench/snapshot.py /tmp/before          # on the old code
    python bench/snapshot.py /tmp/after           # on the new code
    diff -r /tmp/before /tmp/after && echo identical

``--only demo baseline`` limits it to some scenarios; ``--digests`` skips the ``ccsim run``
files (faster). About 4 minutes for all of them on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.inputs.scenario import load_scenario  # noqa: E402
from sim.model.engine import Engine  # noqa: E402
from sim.model.records import RunRecord  # noqa: E402
from sim.model.routing import compile_routes  # noqa: E402

TALLY_FIELDS = ("outcomes", "cell", "hist", "lost", "callbacks", "callback_unreached", "slots")


def _feed(h: hashlib._Hash, v: object) -> None:
    """Hash a value exactly: arrays by dtype, shape and bytes, floats by repr."""
    if v is None:
        h.update(b"N")
    elif isinstance(v, np.ndarray):
        h.update(f"{v.dtype}{v.shape}".encode())
        h.update(np.ascontiguousarray(v).tobytes())
    elif isinstance(v, list | tuple):
        h.update(b"(")
        for x in v:
            _feed(h, x)
        h.update(b")")
    elif isinstance(v, dict):
        for k in sorted(v):
            h.update(repr(k).encode())
            _feed(h, v[k])
    else:
        h.update(repr(v).encode())


def record_digest(rec: RunRecord) -> str:
    """A digest of every field of a replication's record."""
    h = hashlib.sha256()
    for name in rec.__dataclass_fields__:
        v = getattr(rec, name)
        h.update(name.encode())
        if name == "tally":
            for f in TALLY_FIELDS:
                _feed(h, getattr(v, f))
        elif name == "contacts" and v is not None:
            for f in v.__dataclass_fields__:
                _feed(h, getattr(v, f))
        else:
            _feed(h, v)
    return h.hexdigest()[:16]


def snapshot(path: Path, out: Path, files: bool) -> None:
    d = out / path.stem
    d.mkdir(parents=True, exist_ok=True)
    if files:
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "run",
                                  str(path), "--reps", "2", "--workers", "1", "--quiet",
                                  "--out", str(Path(tmp) / "run")], cwd=ROOT,
                                 capture_output=True, text=True)
            if res.returncode != 0:
                (d / "error.txt").write_text(res.stdout + res.stderr)
            for name in ("summary.csv", "replications.csv", "intervals.csv"):
                f = Path(tmp) / "run" / name
                if f.exists():
                    shutil.copy(f, d / name)
    sc = load_scenario(str(path)).scenario
    lines = [f"rep{r} {record_digest(Engine(sc, compile_routes(sc), r, trace=True).run())}"
             for r in (0, 1)]
    (d / "digests.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--only", nargs="*", default=None, metavar="NAME")
    ap.add_argument("--digests", action="store_true", help="only the record digests")
    args = ap.parse_args()
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if "roadmap" in path.name or (args.only and path.stem not in args.only):
            continue
        snapshot(path, args.out, not args.digests)
        print(path.stem, flush=True)


if __name__ == "__main__":
    main()
