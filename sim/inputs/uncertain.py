"""Uncertain inputs (SPEC §7.6): the ``uncertain:`` block of a scenario or roadmap file,
its distributions, their support against each field's valid range, and the draws.

Sampling is a Latin hypercube (``scipy.stats.qmc.LatinHypercube``, scrambled) of ``draws``
points, seeded from the file's ``seed`` on a stream of its own, mapped through each
distribution's quantile function. Why a Latin hypercube and not a Sobol sequence: it works
for any number of draws (Sobol wants powers of two), puts exactly one draw in each 1/n
slice of every input (so the "lowest and highest tenth" of sensitivity.csv hold n/10
draws each), and its variance is never more than n/(n-1) times that of independent draws
for any output (Owen 1997) -- so the binomial (Wilson) interval of a probability, which
assumes independent draws, stays valid (conservative for outputs that are monotone in the
inputs). Scrambled Sobol points have no such guarantee for indicator outputs such as
"target met", where quasi-Monte Carlo gains little.
"""

from __future__ import annotations

import math
import zlib
from typing import Annotated, Any, Literal

import numpy as np
import pydantic
from pydantic import Field, model_validator

from sim.base.errors import InputError
from sim.base.limits import MAX_DRAWS
from sim.inputs.config import _Strict
from sim.inputs.overrides import bounds, has_wildcard, is_count, round_count

Finite = Annotated[float, Field(allow_inf_nan=False)]
DEFAULT_DRAWS = 64


class Uncertain(_Strict):
    """``{dist: uniform, low, high}``, ``{dist: triangular, low, mode, high}``,
    ``{dist: normal, mean, sd}`` (truncated to mean +- 3 sd), ``{dist: lognormal, mean, cv}``;
    ``apply: set`` (default: the draw is the field's value), ``multiply`` (the draw
    multiplies the value before it) or ``add`` (the draw is added to it)."""

    dist: Literal["uniform", "triangular", "normal", "lognormal"]
    low: Finite | None = None
    high: Finite | None = None
    mode: Finite | None = None
    mean: Finite | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    cv: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    apply: Literal["set", "multiply", "add"] = "set"

    @model_validator(mode="after")
    def _params(self) -> Uncertain:
        need = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
                "normal": ("mean", "sd"), "lognormal": ("mean", "cv")}[self.dist]
        given = {k for k in ("low", "high", "mode", "mean", "sd", "cv")
                 if getattr(self, k) is not None}
        missing = [k for k in need if k not in given]
        extra = sorted(given - set(need))
        if missing or extra:
            raise ValueError(f"'{self.dist}' takes {', '.join(need)}"
                             + (f" (missing {', '.join(missing)})" if missing else "")
                             + (f" (not {', '.join(extra)})" if extra else ""))
        if self.dist in ("uniform", "triangular") and not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"needs low < high (got low {self.low:g}, high {self.high:g})")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError(f"needs low <= mode <= high (got {self.low:g}, {self.mode:g}, "
                             f"{self.high:g})")
        if self.dist == "lognormal" and not self.mean > 0:  # type: ignore[operator]
            raise ValueError("a lognormal needs mean > 0")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""
        if self.dist in ("uniform", "triangular"):
            return float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.dist == "normal":
            return self.mean - 3 * self.sd, self.mean + 3 * self.sd  # type: ignore[operator]
        return 0.0, math.inf

    @property
    def nominal(self) -> float:
        """The median: a representative value."""
        return float(self.ppf(np.array([0.5]))[0])

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function at u in (0, 1)."""
        from scipy import stats

        if self.dist == "uniform":
            return self.low + u * (self.high - self.low)  # type: ignore[operator]
        if self.dist == "triangular":
            c = (self.mode - self.low) / (self.high - self.low)  # type: ignore[operator]
            return stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low)  # type: ignore[operator]
        if self.dist == "normal":
            return stats.truncnorm.ppf(u, -3.0, 3.0, loc=self.mean, scale=self.sd)
        sigma = math.sqrt(math.log1p(self.cv ** 2))  # type: ignore[operator]
        mu = math.log(self.mean) - sigma ** 2 / 2  # type: ignore[arg-type]
        return np.exp(mu + sigma * stats.norm.ppf(u))

    def value(self, x: float, count: bool) -> object:
        """What the draw ``x`` sets at the path: a number, or a relative change."""
        if self.apply == "multiply":
            return f"*{x:.17g}"
        if self.apply == "add":
            return f"+{x:.17g}" if x >= 0 else f"-{-x:.17g}"
        return round_count(x) if count else float(x)


def parse_uncertain(block: object, file: str, linemap: dict, prefix: str = "uncertain"
                    ) -> dict[str, Uncertain]:
    """The ``uncertain:`` mapping of dotted path -> distribution, checked."""
    from sim.inputs.validation import input_error_from_validation, model_allowed_keys

    if not isinstance(block, dict) or not block:
        where = linemap.get((prefix,), (file, None))
        raise InputError("expected a mapping of dotted paths to distributions, e.g. "
                         "tiers.base.cost_per_hour: {dist: uniform, low: 40, high: 50}",
                         file=where[0], line=where[1], path=prefix)
    out: dict[str, Uncertain] = {}
    for path, spec in block.items():
        where = linemap.get((prefix, str(path)), (file, None))
        if not isinstance(path, str) or any(not p.strip() for p in str(path).split(".")):
            raise InputError("an uncertain input needs a dotted path", file=where[0],
                             line=where[1], path=f"{prefix}.{path}")
        if not isinstance(spec, dict):
            raise InputError("expected a distribution, e.g. {dist: uniform, low: 40, high: "
                             "50}", file=where[0], line=where[1], path=f"{prefix}.{path}")
        try:
            out[path] = Uncertain.model_validate(spec)
        except pydantic.ValidationError as err:
            raise input_error_from_validation(
                err, file=file, linemap=linemap, prefix=(prefix, path),
                allowed_keys=model_allowed_keys(Uncertain), data=spec) from None
    return out


def check_field(model: Any, parts: list[str], file: str, line: int | None, label: str
                ) -> None:
    """Exit 2 when the path is no field of the schema (with a "did you mean")."""
    import difflib

    from sim.inputs.overrides import field_type

    if field_type(model, parts) is not None:
        return
    for i in range(len(parts), 0, -1):
        found = field_type(model, parts[: i - 1]) if i > 1 else (model, [])
        if found is None:
            continue
        fields = [f for alt in _models(found[0]) for f in alt.model_fields]
        near = difflib.get_close_matches(parts[i - 1], fields, n=1)
        raise InputError(f"'{'.'.join(parts)}' is not a field of the {model.__name__.lower()}"
                         + (f": '{parts[i - 1]}' is unknown; did you mean '{near[0]}'?"
                            if near else ""), file=file, line=line, path=label)


def _models(tp: Any) -> list[Any]:
    from pydantic import BaseModel

    from sim.inputs.overrides import _unwrap

    return [t for t in _unwrap(tp) if isinstance(t, type) and issubclass(t, BaseModel)]


def check_support(path: str, dist: Uncertain, model: Any, parts: list[str], file: str,
                  line: int | None, label: str | None = None) -> None:
    """Exit 2 when the path is no field, or the distribution's support can leave the
    field's valid range."""
    label = label or f"uncertain.{path}"
    check_field(model, parts, file, line, label)
    lo, hi = dist.support
    if dist.apply == "multiply":
        if lo <= 0:
            raise InputError(f"a factor (apply: multiply) must stay > 0, but the support of "
                             f"this distribution starts at {lo:g}", file=file, line=line,
                             path=label)
        return   # factor x current value: checked on the states built at the extremes
    if dist.apply == "add":
        return
    b = bounds(model, parts)
    if b is None:
        return
    flo, flo_in, fhi, fhi_in = b
    if is_count(model, parts):
        lo, hi = float(round_count(lo)), (float(round_count(hi)) if math.isfinite(hi) else hi)
    bad_low = lo < flo or (lo == flo and not flo_in)
    bad_high = hi > fhi or (hi == fhi and not fhi_in)
    if bad_low or bad_high:
        rng = (f"{'[' if flo_in else '('}{flo:g}, {fhi:g}{']' if fhi_in else ')'}")
        raise InputError(f"the support of this {dist.dist} distribution, [{lo:g}, {hi:g}], "
                         f"leaves the field's valid range {rng}"
                         + (" (a lognormal is unbounded above: use a uniform, triangular or "
                            "normal)" if math.isinf(hi) else "")
                         + (" (a normal is truncated to mean ± 3 sd)"
                            if dist.dist == "normal" else ""),
                         file=file, line=line, path=label)


def sample(dists: dict[str, Uncertain], draws: int, seed: int) -> np.ndarray:
    """``draws`` x inputs matrix of u in (0, 1): a scrambled Latin hypercube seeded from
    ``seed`` on a stream of its own (replication streams are untouched)."""
    from scipy.stats import qmc

    seq = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"uncertain-inputs"),))
    lhs = qmc.LatinHypercube(d=len(dists), scramble=True,
                             rng=np.random.Generator(np.random.PCG64(seq)))
    u = lhs.random(draws)
    return np.clip(u, 1e-12, 1 - 1e-12)


def draw_values(dists: dict[str, Uncertain], u: np.ndarray) -> np.ndarray:
    """draws x inputs matrix of drawn values."""
    return np.column_stack([d.ppf(u[:, j]) for j, d in enumerate(dists.values())])


def as_applied(dists: dict[str, Uncertain], values: np.ndarray, counts: list[bool]
               ) -> np.ndarray:
    """The drawn values as they are applied: counts (``apply: set`` on an integer field)
    rounded to the nearest integer, halves up."""
    out = np.array(values, dtype=float)
    for j, (dist, count) in enumerate(zip(dists.values(), counts, strict=True)):
        if count and dist.apply == "set":
            out[:, j] = [round_count(x) for x in out[:, j]]
    return out


def check_draws(n: int | None, file: str, line: int | None = None) -> int:
    n = DEFAULT_DRAWS if n is None else n
    if not 1 <= n <= MAX_DRAWS:
        raise InputError(f"draws must be from 1 to {MAX_DRAWS} (got {n})", file=file,
                         line=line, path="draws")
    return n


def wildcard_free(path: str) -> bool:
    return not has_wildcard(path)
