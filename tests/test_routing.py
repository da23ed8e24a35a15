"""Routing tables: priorities and transfer stages."""

from __future__ import annotations

from support import scenario

from sim.model.routing import compile_routes


def _ch(priority: int | None = None) -> dict:
    ch = {"arrivals": {"rate_per_hour": 10}, "mix": {"simple": 1.0},
          "handle_time": {"simple": {"dist": "exponential", "mean_s": 60}}}
    if priority is not None:
        ch["priority"] = priority
    return ch


def test_priority_zero_and_negative_are_kept() -> None:
    sc = scenario({"a": _ch(0), "b": _ch(), "c": _ch(-3), "d": {**_ch(), "mode": "async"}},
                  {"base": {"agents": 1, "serves": {"simple": 1.0}}})
    prios = {sc_ch: p for _, sc_ch, _, p in compile_routes(sc).tier_queues[0]}
    assert prios == {0: 0, 1: 1, 2: -3, 3: 9}


def test_transfer_goes_to_the_step_after_the_serving_tier() -> None:
    sc = scenario({"a": _ch()}, {t: {"agents": 1, "serves": {"simple": 1.0}}
                                 for t in ("base", "advanced", "trainer")},
                  routing={"simple": [{"tier": "base"}, {"tier": "advanced", "after_s": 30},
                                      {"tier": "trainer", "after_s": 90}]})
    t = compile_routes(sc)
    assert t.next_stage[0][0] == (1, 2, -1)  # base -> stage 1, advanced -> 2, trainer: none
    assert t.first_tiers[0][0][1] == (1,) and t.overflow[0][0][1] == ((60.0, (1, 2)),)
