"""Engine handlers, part 4: when agents may work an async channel — its opening hours (the
backlog is taken, oldest first, at opening time) and ``reserve_agents`` (blending: an agent
takes an async contact only if at least R agents of its tier stay idle for realtime work).

Mixed into :class:`sim.model.engine.Engine`. A channel without hours and without a reserve has no
gate (``async_gate[ch] is None``) and never reaches this module.
"""

from __future__ import annotations

from sim.inputs.calendar import Hours
from sim.model.entities import WAITING, Agent, at


class AsyncGate:
    """Opening hours and reserve of one async channel.

    ``applies[k]``: the reserve counts for tier k, i.e. its agents may serve a realtime
    channel (a tier that serves async channels only keeps nobody idle for calls)."""

    __slots__ = ("hours", "reserve", "applies")

    def __init__(self, hours: Hours | None, reserve: int, applies: list[bool]) -> None:
        self.hours = hours
        self.reserve = reserve
        self.applies = applies

    def allows(self, eng: AsyncWork, k: int, now: float) -> bool:
        """May an agent of tier k that is not idle now (it just came free, or holds
        contacts) take a contact of this channel?"""
        if self.hours is not None and not self.hours.is_open(now):
            return False
        return not self.reserve or not self.applies[k] or len(eng.idle[k]) >= self.reserve


class AsyncWork:
    """Opening hours and reserve agents of async channels."""

    def _async_agent(self, ch: int, tiers: tuple[int, ...], now: float) -> Agent | None:
        """``_find_agent`` for a gated async channel: none while it is closed; with a
        reserve R, an idle agent only from a tier that keeps R others idle, a partly busy
        one only from a tier with R idle."""
        gate = self.async_gate[ch]
        if gate.hours is not None and not gate.hours.is_open(now):
            return None
        r = gate.reserve
        if not r:
            return self._find_agent(ch, tiers)
        idle, applies = self.idle, gate.applies
        best = None
        for k in tiers:
            q = idle[k]
            if q and (not applies[k] or len(q) > r) and (best is None or q[0].since < best.since):
                best = q[0]
        if best is not None:
            return idle[best.tier].popleft()
        if self.conc[ch] > 1:
            for k in tiers:
                if applies[k] and len(idle[k]) < r:
                    continue
                for a in self.partial[k][ch]:
                    if best is None or (a.held, a.since) < (best.held, best.since):
                        best = a
            if best is not None:
                self.partial[best.tier][ch].remove(best)
        return best

    def _open_async(self, arg) -> None:  # noqa: ANN001
        """An async channel opens: idle agents take its backlog, oldest first."""
        ci, when = arg
        nxt = self.async_gate[ci].hours.opening_after(when)
        if self._goes_on(nxt):
            at(self, nxt - self.env._now, self.on_open, (ci, nxt))
        now = self.env._now
        n_ty, n_st = self.n_types, self.n_stages
        qis = range(ci * n_ty * n_st, (ci + 1) * n_ty * n_st)
        while True:  # the oldest head that an idle agent may take, until none can be served
            heads = []
            for qi in qis:
                q = self.queues[qi]
                while q and q[0].state > WAITING:
                    q.popleft()
                if q:
                    heads.append((q[0].join_t, qi))
            for _, qi in sorted(heads):
                c = self.queues[qi][0]
                waited = now - c.join_t
                tiers = self.first_by_q[qi] + tuple(
                    k for after_s, ks in self.overflow_by_q[qi] if after_s <= waited
                    for k in ks)
                agent = self._async_agent(ci, tiers, now)
                if agent is not None:
                    self.queues[qi].popleft()
                    self.waiting[ci] -= 1
                    self.queue_level[ci * n_ty + c.ty].change(now, -1)
                    self._start(c, agent, now)
                    self._park_if_room(agent)
                    break
            else:
                return
