"""Engine handlers, part 6: customers who try again (SPEC §7.3) — retrials and callbacks.

Retrials (``channels.<name>.retrial``). When an attempt ends abandoned, blocked or closed,
the customer tries again with the share for that outcome, after a ``delay`` draw, while
fewer than ``max_attempts`` attempts were made. A retrial is a new contact of the same
customer on the same channel: the same type and work; its patience, bot session and first
resolution are drawn afresh (from the channel's "retrial" streams). The decisions and
delays have streams of their own, drawn in event order. A customer whose first attempt
was measured is followed to its last attempt, also past the horizon (``lost_customer_rate``
needs it): the run holds one pending unit for it until then.

Callbacks (``channels.<name>.callback``). A caller still waiting ``offer_after_s`` after
joining the queue is offered a callback and accepts with ``accept_share``. It then leaves
the line (one more place under ``queue_capacity``) but keeps its place in the queue, never
abandons, and still counts in ``mean_queue_length`` (work waiting for an agent). When an
agent takes it, the agent calls back and reaches the customer with ``reach_share``: then it
is served as usual, its wait running until the callback; if not, the contact ends
abandoned (``callback_unreached``), and may retry like any abandoned caller.

Mixed into :class:`sim.model.engine.Engine`; channels without these keys never reach this module
(``retry[ch]`` and ``callback[ch]`` are None).
"""

from __future__ import annotations

from sim.model.entities import CALLBACK, DONE, RETRIAL_FLAG, WAITING, Contact, at
from sim.model.records import ABANDONED


class Retry:
    """Retrials and callbacks."""

    # --- retrials ------------------------------------------------------------------------

    def _after_failure(self, c: Contact, outcome: int) -> None:
        """``c`` ended abandoned, blocked or closed: does its customer try again?"""
        shares, max_attempts = self.retry[c.ch]
        src = self.sources[c.ch]
        retrial = c.repeat & RETRIAL_FLAG
        attempt = c.attempt if retrial else 1
        followed = c.cust if retrial else c.measured
        share = shares[outcome]
        if attempt < max_attempts and share > 0.0 and src.retry_u() < share:
            if followed:
                self.pending += 1  # held until the customer's last attempt ends
            at(self, src.retry_delay(), self.on_retry,
                  (c.ch, c.ty, c.work_s, attempt + 1, followed, c.repeat))
        elif followed:
            self.log.tally.lost[c.ch * self.n_types + c.ty] += 1

    def _retry_arrive(self, arg) -> None:  # noqa: ANN001
        ci, ty, work_s, attempt, followed, flags = arg
        now = self.env._now
        src = self.sources[ci]
        cust = src.retrial
        cid = self.n_contacts
        self.n_contacts = cid + 1
        measured = 0.0 <= now < self.horizon_s
        c = Contact(cid, ci, ty, now, work_s,
                    cust.patience() if cust.patience is not None else float("inf"),
                    cust.res_u() if cust.res_u is not None else 0.0,
                    flags | RETRIAL_FLAG, measured)
        c.attempt = attempt
        c.cust = followed
        if measured:
            if not followed:
                self.pending += 1  # a measured contact (its customer's first was not)
        elif followed:
            self.follow_units.add(cid)  # not a measured contact, but its customer is
        self._admit(c, src, cust, now)

    def _release(self) -> None:
        self.pending -= 1
        if self.pending == 0 and self.horizon_over:
            self._stop_soon()

    # --- callbacks -----------------------------------------------------------------------

    def _offer_callback(self, arg) -> None:  # noqa: ANN001
        c = arg
        if c.state != WAITING or c.transfers:
            return  # answered (perhaps waiting again after a transfer) or abandoned
        cb = self.callback[c.ch]
        if self.sources[c.ch].callback_accept_u() < cb.accept_share:
            c.state = CALLBACK
            self.capacity[c.ch] += 1  # it left the line
            if c.measured:
                self.log.tally.callbacks[c.ch * self.n_types + c.ty] += 1
            if self.trace is not None:
                self.trace.append((c.cid, self.env._now, "callback", c.ch, c.ty, -1))

    def _call_back(self, c: Contact, now: float) -> bool:
        """An agent takes a callback (already out of the queue): True if the customer is
        reached (the caller then starts the service), else it ends abandoned."""
        self.capacity[c.ch] -= 1
        c.state = WAITING
        reach = self.callback[c.ch].reach_share
        if reach >= 1.0 or self.sources[c.ch].callback_reach_u() < reach:
            return True
        c.state = DONE
        c.first_wait = now - c.join_t
        if c.measured:
            self.log.tally.callback_unreached[c.ch * self.n_types + c.ty] += 1
        if self.trace is not None:
            self.trace.append((c.cid, now, "unreached", c.ch, c.ty, -1))
        if self.retry[c.ch] is not None:
            self._after_failure(c, ABANDONED)
        self._finish(c, ABANDONED)
        return False
