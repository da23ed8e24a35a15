"""From an on-queue requirement to paid staffing: rounding and the shift cover.

Paid agents are the fewest whose on-queue share (``sim.model.staffing`` rounding) reaches the
requirement. A tier planned with ``shifts`` keeps its shift patterns (start, end, days):
their sizes are chosen by an integer program covering the paid requirement of every slot
at the fewest paid hours (``scipy.optimize.milp``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.inputs.schedule import Shift, shift_slots


def paid_for(on_queue: int, factor: float) -> int:
    """Fewest paid agents whose on-queue count ``floor(paid x factor + 0.5)`` >= on_queue."""
    if on_queue <= 0:
        return 0
    paid = max(0, math.ceil((on_queue - 0.5) / factor - 1e-9))
    while math.floor(paid * factor + 0.5) < on_queue:
        paid += 1
    return paid


def cover_with_shifts(shifts: list[Shift], paid: list[int], interval_minutes: int
                      ) -> tuple[list[Shift], int]:
    """Sizes for the tier's shift patterns covering ``paid`` (per week slot) at the fewest
    paid hours; returns the shifts and the agent-slots of requirement no pattern covers."""
    patterns: list[Shift] = []
    for s in shifts:
        if all((p.start, p.end, p.days) != (s.start, s.end, s.days) for p in patterns):
            patterns.append(s)
    n = len(paid)
    if not patterns:  # nothing to size: the whole requirement is uncovered
        return [], int(sum(paid))
    a = np.zeros((n, len(patterns)))
    for j, p in enumerate(patterns):
        for slot in shift_slots(p, interval_minutes):
            a[slot, j] += 1
    need = np.array(paid, dtype=float)
    coverable = a.sum(axis=1) > 0
    uncovered = int(need[~coverable].sum())
    hours = a.sum(axis=0)
    res = milp(c=hours, integrality=np.ones(len(patterns)), bounds=Bounds(0, np.inf),
               constraints=LinearConstraint(a[coverable], lb=need[coverable], ub=np.inf))
    if res.x is None:  # cannot happen: every coverable slot can be covered by enough agents
        raise RuntimeError(f"shift covering failed: {res.message}")
    sizes = [int(round(x)) for x in res.x]
    return [p.model_copy(update={"agents": k}) for p, k in zip(patterns, sizes, strict=True)
            if k > 0], uncovered
