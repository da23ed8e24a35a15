"""Per-channel customer streams: arrival times and each contact's own random draws.

Every draw comes from its own named stream (sim.base.streams), drawn in arrival order, so two
options that differ only in staffing, routing or the bot see the same customers: the same
arrival times, types, work content and patience (common random numbers). Repeat contacts
draw from separate "repeat" streams so they do not shift the primary customers' draws, and
so do retrials ("retrial" streams) and callbacks ("callback_accept", "callback_reach").
"""

from __future__ import annotations

from sim.base.streams import stream
from sim.inputs.calendar import hours_or_none
from sim.inputs.config import Channel, Scenario
from sim.model.arrivals import DAY_S, ArrivalClock
from sim.model.distributions import Draws, sampler, uniforms, unit_exponentials


class DayFactors:
    """Volume multiplier of day d: day-of-week factor x gamma(mean 1, cv) noise."""

    __slots__ = ("_dow", "_cv", "_rng", "_cache")

    def __init__(self, dow: list[float] | None, cv: float, seed: int, rep: int,
                 channel: str) -> None:
        self._dow = dow
        self._cv = cv
        self._rng = stream(seed, rep, channel, "day_volume") if cv > 0 else None
        self._cache: dict[int, float] = {}

    def __call__(self, day: int) -> float:
        f = self._cache.get(day)
        if f is None:
            f = self._dow[day % 7] if self._dow is not None else 1.0
            if self._rng is not None:
                shape = 1.0 / (self._cv * self._cv)
                f *= float(self._rng.gamma(shape, 1.0 / shape))
            self._cache[day] = f
        return f


class Customers:
    """The draws of one kind of customer (primary or repeat) on one channel."""

    __slots__ = ("mix_u", "cum_shares", "type_ix", "single_type", "work", "patience",
                 "bot_time", "bot_u", "res_u")

    def __init__(self, ch: Channel, cname: str, types: tuple[str, ...], seed: int, rep: int,
                 kind: str, needs_resolution: bool) -> None:
        def s(*names: str):  # noqa: ANN202
            return stream(seed, rep, cname, kind, *names) if kind else stream(
                seed, rep, cname, *names)

        present = [y for y in ch.mix if ch.mix[y] > 0]
        cum, acc = [], 0.0
        for y in present:
            acc += ch.mix[y]
            cum.append(acc)
        self.mix_u = uniforms(s("mix"))
        self.cum_shares = cum
        self.type_ix = [types.index(y) for y in present]
        self.single_type = self.type_ix[0] if len(present) == 1 else -1
        self.work = {types.index(y): sampler(ch.handle_time[y], s("handle", y))
                     for y in ch.handle_time}
        self.patience = sampler(ch.patience, s("patience")) if ch.patience else None
        self.bot_time: Draws | None = None
        self.bot_u: Draws | None = None
        if ch.bot is not None:
            self.bot_time = sampler(ch.bot.handle_time, s("bot_time"))
            self.bot_u = uniforms(s("bot_containment"))
        self.res_u = uniforms(s("resolution")) if needs_resolution else None


class ChannelSource:
    """Arrivals of one channel plus its primary and repeat customers' draws."""

    __slots__ = ("clock", "mean_gap_s", "exp", "primary", "repeat", "containment",
                 "false_containment", "bot_window", "human_window", "transfer_work", "more_u",
                 "repeat_delay", "retrial", "retry_u", "retry_delay", "callback_accept_u",
                 "callback_reach_u")

    def __init__(self, sc: Scenario, cname: str, types: tuple[str, ...], rep: int,
                 needs_resolution: bool) -> None:
        ch = sc.channels[cname]
        seed = sc.seed
        a = ch.arrivals
        rates = a.profile_per_hour if a.profile_per_hour is not None else [a.rate_per_hour or 0.0]
        factors = (DayFactors(a.day_factors, a.daily_volume_cv, seed, rep, cname)
                   if a.day_factors is not None or a.daily_volume_cv > 0 else None)
        self.clock = ArrivalClock(list(rates), DAY_S / len(rates), factors)
        constant = factors is None and len(set(rates)) == 1 and rates[0] > 0
        self.mean_gap_s = 3600.0 / rates[0] if constant else 0.0
        self.exp = unit_exponentials(stream(seed, rep, cname, "arrivals"))
        self.primary = Customers(ch, cname, types, seed, rep, "", needs_resolution)
        self.repeat = Customers(ch, cname, types, seed, rep, "repeat", needs_resolution)
        bot = ch.bot
        self.containment = ([bot.containment.get(y, 0.0) for y in types] if bot else None)
        self.false_containment = bot.false_containment if bot else 0.0
        self.bot_window = hours_or_none(bot.open_hours) if bot else None
        self.human_window = hours_or_none(ch.open_hours)
        self.transfer_work = {types.index(y): sampler(ch.handle_time[y],
                                                      stream(seed, rep, cname, "transfer", y))
                              for y in ch.handle_time}
        self.more_u = uniforms(stream(seed, rep, cname, "resolution_more"))
        self.repeat_delay = sampler(sc.resolution.repeat_delay,
                                    stream(seed, rep, cname, "repeat_delay"))
        # Features that are off make no streams, so they change nothing when off.
        ret = ch.retrial  # a retrial keeps its type and work; the rest is drawn afresh
        self.retrial = (Customers(ch, cname, types, seed, rep, "retrial", needs_resolution)
                        if ret else None)
        self.retry_u = uniforms(stream(seed, rep, cname, "retrial_decision")) if ret else None
        self.retry_delay = (sampler(ret.delay, stream(seed, rep, cname, "retrial_delay"))
                            if ret else None)
        cb = ch.callback
        self.callback_accept_u = (uniforms(stream(seed, rep, cname, "callback_accept"))
                                  if cb else None)
        self.callback_reach_u = (uniforms(stream(seed, rep, cname, "callback_reach"))
                                 if cb else None)
