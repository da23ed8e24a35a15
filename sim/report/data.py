"""What report.html is made of: the tables of one results folder, with lookups and units.

Read only from the result files (SPEC §5; sim/report/load.py reads a folder) so ``ccsim
report DIR`` renders the same page again; nothing here simulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import yaml

HOURS_PER_WEEK = 168.0
HOURS_PER_MONTH = 8760.0 / 12.0   # as sim.measure.costs
PERCENT = {"service_level", "abandon_rate", "automation_rate", "occupancy", "fcr",
           "labor_share", "p_wait", "block_rate", "repeat_rate", "roi", "lost_customer_rate",
           "absence_share", "p_met"}
COUNTS = {"offered", "bot_contained", "blocked", "queued", "answered", "abandoned",
          "closed", "handled", "mean_queue_length", "retrials", "customers", "callbacks",
          "callback_unreached"}
LOWER_IS_BETTER = ("_s", "abandon_rate", "block_rate", "repeat_rate", "mean_queue_length",
                   "transfers_per_contact", "labor", "bot", "total", "overhead",
                   "per_contact", "payback_month", "p_wait", "abandoned", "blocked",
                   "lost_customer_rate", "callback_unreached", "retrials")
# Metrics of a contact's wait (SPEC §7.2): over channels of both modes (scope `all`, or a
# contact type served on both) their mean mixes minutes-long email waits with seconds on
# the phone, so the report shows them by mode (`realtime`, `async`) and by channel.
WAIT_METRICS = {"asa_s", "mean_wait_s", "p_wait", "service_level", "mean_queue_length",
                "abandon_rate"}
MODES = ("realtime", "async")
# A metric at this value for every option means the feature behind it is not in use.
TRIVIAL = {"block_rate": 0.0, "blocked": 0.0, "closed": 0.0, "fcr": 1.0, "repeat_rate": 0.0,
           "transfers_per_contact": 0.0, "automation_rate": 0.0, "bot_contained": 0.0,
           "abandon_rate": 0.0, "retrials": 0.0, "callbacks": 0.0, "callback_unreached": 0.0,
           "lost_customer_rate": 0.0, "handled": 0.0}
HIGHER_IS_BETTER = ("service_level", "automation_rate", "fcr", "roi", "bot_contained")
Key = tuple[str, str]  # (scenario, variant)


def nan(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def unit(scope: str, metric: str, currency: str) -> str:
    """Unit of a metric as shown on axes and in tables: s, %, agents, contacts, money."""
    if metric.endswith("_s"):
        return "s"
    if metric in PERCENT:
        return "%"
    if scope == "cost":
        return currency
    if metric in ("agents", "paid_agents"):
        return "agents"
    if metric in COUNTS:
        return "contacts"
    return ""


def fmt(x: object, u: str = "", with_unit: bool = True) -> str:
    """A value in its unit: 85.2%, 17.3 s, CNY 1,234, 34.0 agents; – when missing."""
    if nan(x):
        return "–"
    v = float(x)  # type: ignore[arg-type]
    if u == "%":
        return f"{v * 100:.1f}%" if with_unit else f"{v * 100:.1f}"
    if u in ("", "s", "agents", "contacts"):
        num = (f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.3g}" if 0 < abs(v) < 1
               else f"{v:,.1f}")
        return f"{num} s" if with_unit and u == "s" else num
    num = f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"  # money
    return f"{u} {num}" if with_unit else num


def limit_text(limit: float, u: str) -> str:
    """A target's limit as written: 60 s, 85%, CNY 1,000."""
    if u == "%":
        return f"{limit * 100:g}%"
    if u == "s":
        return f"{limit:g} s"
    return f"{u} {limit:,g}" if u not in ("", "agents", "contacts") else f"{limit:g}"


def short_variant(variant: str) -> str:
    """A sweep point's name, shorter: tiers.base.agents=30;tiers.advanced.agents=20 ->
    base.agents=30, advanced.agents=20."""
    parts = []
    for p in variant.split(";"):
        path, eq, val = p.partition("=")
        parts.append(".".join(path.split(".")[-2:]) + eq + val)
    return ", ".join(parts)


def is_wait(metric: str) -> bool:
    return metric in WAIT_METRICS or (metric.startswith("wait_p") and metric.endswith("_s"))


def better_when_lower(metric: str) -> bool | None:
    """True if less is better (waits, cost), False if more is (service level), None when
    neither is plainly better (occupancy, agents, volumes)."""
    if metric.endswith(LOWER_IS_BETTER):
        return True
    return False if metric.endswith(HIGHER_IS_BETTER) else None


class PeriodBound(str):
    """A target bound "min"/"max" of a target per interval or day (SPEC 7.8)."""

    per: str
    share: float

    @classmethod
    def of(cls, bound: str, per: str, share: float) -> PeriodBound:
        b = cls(bound)
        b.per, b.share = per, float(share)
        return b


@dataclass
class ReportData:
    meta: dict
    summary: pd.DataFrame
    targets: pd.DataFrame
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)
    differences: pd.DataFrame | None = None
    staffing: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    roadmap: pd.DataFrame | None = None
    scenario: dict | None = None
    scenario_note: str = ""
    roadmap_spec: dict | None = None   # a roadmap's own YAML (phases and their changes)
    workforce: pd.DataFrame | None = None       # workforce.csv (roadmap with workforce:)
    workforce_kpis: pd.DataFrame | None = None  # workforce_kpis.csv
    _values: dict = field(default_factory=dict, repr=False)
    _scenarios: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        s = self.summary
        if not s.empty:
            self._values = {k: (m, lo, hi) for k, m, lo, hi in zip(
                zip(s["scenario"], s["variant"], s["scope"], s["metric"], strict=True),
                s["mean"], s["ci_low"], s["ci_high"], strict=True)}

    # --- what the folder holds ----------------------------------------------------------
    @property
    def command(self) -> str:
        return str(self.meta.get("command", "run"))

    @property
    def currency(self) -> str:
        return str((self.scenario or {}).get("currency") or self.meta.get("currency") or "CNY")

    @cached_property
    def options(self) -> list[Key]:
        """(scenario, variant) in the order the run gave them; a roadmap's baseline and
        phases in roadmap order."""
        if self.summary.empty:
            return []
        s = self.summary[self.summary["scope"] != "roadmap"]
        keys = list(dict.fromkeys(zip(s["scenario"], s["variant"], strict=True)))
        if self.command == "roadmap":  # baseline, then each phase's ramp points and end
            order = ["baseline", *self.phase_names]

            def when(k: Key) -> tuple[int, float]:
                phase, _, month = k[1].partition("@")
                rank = order.index(phase) if phase in order else len(order)
                return rank, float(month) if month.isdigit() else math.inf
            keys.sort(key=when)
        return keys

    @property
    def phase_names(self) -> list[str]:
        return [str(p.get("name")) for p in self.meta.get("phases") or []]

    @cached_property
    def headline(self) -> list[Key]:
        """The options of the verdict and the charts: for a roadmap the baseline and the
        end of each phase (not the ramp points in between); else every option."""
        if self.command != "roadmap":
            return self.options
        names = {"baseline", *self.phase_names}
        return [k for k in self.options if k[1] in names] or self.options

    def label(self, key: Key) -> str:
        if self.command == "sweep":
            return short_variant(key[1])
        if len({k[0] for k in self.options}) <= 1:
            return key[1]
        return key[0] if key[1] == "base" else f"{key[0]}/{key[1]}"

    def value(self, key: Key, scope: str, metric: str) -> tuple[float, float, float]:
        return self._values.get((key[0], key[1], scope, metric), (math.nan,) * 3)

    def has(self, scope: str, metric: str) -> bool:
        return any(not nan(self.value(k, scope, metric)[0]) for k in self.options)

    def target_list(self) -> list[tuple[str, str, float]]:
        """Distinct targets (metric, bound, limit) in the order declared; a target per
        interval or day (SPEC 7.8) has a :class:`PeriodBound` (== "min"/"max", with
        ``per`` and ``share``)."""
        t = self.targets
        if t.empty:
            return []
        seen: dict[tuple, tuple[str, str, float]] = {}
        for m, b, lim in zip(t["metric"], self._bounds(t), t["limit"].astype(float),
                             strict=True):
            seen.setdefault((m, str(b), getattr(b, "per", None), getattr(b, "share", None),
                             lim), (m, b, lim))
        return list(seen.values())

    @staticmethod
    def _bounds(t: pd.DataFrame) -> list[str]:
        if "per" not in t:
            return list(t["bound"])
        return [PeriodBound.of(b, p, s) if isinstance(p, str) and p else b
                for b, p, s in zip(t["bound"], t["per"], t["share"], strict=True)]

    @cached_property
    def _target_rows(self) -> dict[tuple, dict]:
        t = self.targets
        if t.empty:
            return {}
        return {(r["scenario"], r["variant"], r["metric"], b, getattr(b, "per", None),
                 float(r["limit"])): r
                for r, b in zip(t.to_dict("records"), self._bounds(t), strict=True)}

    def target_row(self, key: Key, metric: str, bound: str, limit: float) -> dict | None:
        return self._target_rows.get((key[0], key[1], metric, bound,
                                      getattr(bound, "per", None), float(limit)))

    def overall_status(self, key: Key) -> str:
        """missed if any target is missed, else uncertain if any is, else met; "" if none."""
        st = [r["status"] for m, b, lim in self.target_list()
              if (r := self.target_row(key, m, b, lim)) is not None]
        if not st:
            return ""
        return "missed" if "missed" in st else "uncertain" if "uncertain" in st else "met"

    def channels(self) -> list[str]:
        if self.scenario and isinstance(self.scenario.get("channels"), dict):
            return list(self.scenario["channels"])
        if not self.intervals.empty and "channel" in self.intervals:
            return list(dict.fromkeys(self.intervals["channel"]))
        return []

    def tiers(self) -> list[str]:
        if self.scenario and isinstance(self.scenario.get("tiers"), dict):
            return list(self.scenario["tiers"])
        occ = self.summary[self.summary["metric"] == "occupancy"] if not self.summary.empty \
            else self.summary
        return list(dict.fromkeys(occ["scope"])) if not occ.empty else []

    # --- channel modes (SPEC §7.2) ------------------------------------------------------
    def modes(self) -> dict[str, str]:
        """channel -> "realtime" or "async" (``channels.<name>.mode``, default realtime)."""
        chans = (self.scenario or {}).get("channels")
        if isinstance(chans, dict):
            return {str(c): str((v or {}).get("mode") or "realtime") if isinstance(v, dict)
                    else "realtime" for c, v in chans.items()}
        return {c: "realtime" for c in self.channels()}

    @property
    def mixed_modes(self) -> bool:
        return len(set(self.modes().values())) > 1

    def mixes_modes(self, scope: str) -> bool:
        """Whether a scope's waits mix realtime and async channels: ``all``, or a contact
        type that arrives on channels of both modes."""
        modes = self.modes()
        if len(set(modes.values())) < 2 or scope in MODES or scope in modes:
            return False
        if scope == "all":
            return True
        chans = (self.scenario or {}).get("channels") or {}
        on = {modes[c] for c, ch in chans.items()
              if isinstance(ch, dict) and scope in (ch.get("mix") or {})}
        return len(on) > 1

    def contact_scopes(self, metric: str) -> list[str]:
        """Scopes a contact metric is shown for, the aggregate first: ``all`` -- or, for a
        wait when channels of both modes run, ``realtime`` and ``async`` (where the results
        have them; never ``all``) -- then each channel when there are several."""
        chans = self.channels()
        agg = ["all"]
        if is_wait(metric) and self.mixed_modes:
            agg = [m for m in MODES if self.has(m, metric)]
        if len(chans) <= 1:
            return chans or agg
        return agg + chans

    def in_use(self, scope: str, metric: str) -> bool:
        """A value worth a row: some option has it, and not every option shows the value of
        a feature that is off (FCR 100%, automation 0%, no transfers ...)."""
        vals = [self.value(k, scope, metric)[0] for k in self.options]
        vals = [v for v in vals if not nan(v)]
        if not vals:
            return False
        trivial = TRIVIAL.get(metric)
        return trivial is None or any(abs(v - trivial) > 1e-12 for v in vals)

    # --- the scenario each option ran --------------------------------------------------
    def option_scenario(self, key: Key) -> dict | None:
        """The scenario dict of an option: the scenario with the variant's overrides (a
        roadmap phase: the sets of every phase up to it; a sweep point: its values); None
        where the folder does not say (ramp points, optimize, other compare files)."""
        if key in self._scenarios:
            return self._scenarios[key]
        self._scenarios[key] = out = self._option_scenario(key)
        return out

    def _option_scenario(self, key: Key) -> dict | None:
        from sim.inputs.overrides import apply_overrides

        sc = self.scenario
        if not sc:
            return None
        base = {k: v for k, v in sc.items() if k != "variants"}
        sets: list[tuple[str, object]] | None = None
        if self.command == "roadmap":
            phases = [p for p in (self.roadmap_spec or {}).get("phases") or []
                      if isinstance(p, dict)]
            names = [str(p.get("name")) for p in phases]
            if key[1] == "baseline":
                sets = []
            elif key[1] in names:
                sets = [kv for p in phases[: names.index(key[1]) + 1]
                        for kv in (p.get("set") or {}).items()]
        elif key[0] == sc.get("name") or len({k[0] for k in self.options}) <= 1:
            variants = sc.get("variants") or {}
            if key[1] == "base":
                sets = []
            elif isinstance(variants.get(key[1]), dict):
                sets = list(variants[key[1]].items())
            elif self.command == "sweep" and "=" in key[1]:
                sets = [(p, _point_value(v)) for p, _, v in
                        (x.partition("=") for x in key[1].split(";"))]
        if sets is None:
            return None
        try:
            return apply_overrides(base, sets)
        except Exception:  # noqa: BLE001 -- a path the report cannot follow: unknown
            return None

    def heads(self, key: Key, tier: str) -> float | None:
        """Heads on the payroll of a tier (its schedule's ``headcount``) in an option."""
        sc = self.option_scenario(key)
        t = ((sc or {}).get("tiers") or {}).get(tier)
        sched = t.get("schedule") if isinstance(t, dict) else None
        n = sched.get("headcount") if isinstance(sched, dict) else None
        return float(n) if isinstance(n, int | float) and not isinstance(n, bool) else None

    def horizon_h(self, key: Key) -> float:
        """Measured hours of an option: the scenario's horizon (with a variant's override),
        else the span of its intervals."""
        sc = self.scenario or {}
        mine = sc.get("name") in (key[0], None) or sc.get("name") not in {
            k[0] for k in self.options}
        if mine and "horizon_hours" in sc:
            over = (sc.get("variants") or {}).get(key[1]) or {}
            return float(over.get("horizon_hours", sc["horizon_hours"]))
        iv = self.intervals
        if not iv.empty and "start_h" in iv:
            mine = iv[(iv["scenario"] == key[0]) & (iv["variant"] == key[1])]["start_h"]
            starts = sorted(set(mine))
            if len(starts) >= 2:
                return starts[-1] + (starts[1] - starts[0])
        return math.nan

    def per_hour_cost(self, key: Key) -> float:
        return self.value(key, "cost", "total")[0] / self.horizon_h(key)


def _point_value(text: str) -> object:
    """A sweep point's value from its name (``*0.9`` and other text that is not YAML
    stay text)."""
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return text
