"""Random-number streams: one independent generator per (replication, channel, source).

Streams are keyed by names, not positions, so adding a channel or a variant's new
contact type does not shift the draws of the others: the same customers arrive with the
same patience and work in every option compared (common random numbers for free).
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, *names: str) -> np.random.Generator:
    """The generator for one source of randomness, e.g. ``stream(7, 0, "phone", "arrivals")``.

    Replication ``r`` of seed ``s`` is ``SeedSequence(s).spawn(...)[r]``'s subtree, so
    replications are independent streams derived from (seed, r) alone.
    """
    seq = np.random.SeedSequence(seed, spawn_key=(replication, *(_key(n) for n in names)))
    return np.random.Generator(np.random.PCG64(seq))
