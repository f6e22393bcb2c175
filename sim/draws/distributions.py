"""Duration distributions as scenario files write them: tagged tables.

``{ dist = "lognormal", median = "10s", p95 = "30s" }`` and friends; a bare duration string
(``"2s"``) is shorthand for a constant. Every distribution samples by inverse CDF from one
uniform draw (``ppf``). That choice is deliberate:

1. Each draw costs exactly one uniform, so a component can key its draws by index (message
   n uses uniform n of its stream) and two policies run on the same seed face the same world.
2. The map from uniform to value is monotone, so sweeping a distribution's parameter moves
   every trial's value smoothly: paired comparisons across scenario parameters stay paired.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from functools import cached_property
from statistics import NormalDist
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.draws.units import (
    DURATION_PATTERN,
    MAX_DURATION,
    MAX_DURATION_TEXT,
    format_duration,
    parse_duration,
    shorten,
)

__all__ = [
    "Constant",
    "Distribution",
    "Duration",
    "Empirical",
    "Exponential",
    "LogNormal",
    "Uniform",
]

#: JSON Schema of a duration as ``parse_duration`` accepts it. Zero needs no unit (``0`` or
#: ``"0"``), so the schema allows it too: editors must not flag what the loader accepts.
_DURATION_JSON: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN},
        {"type": "string", "pattern": r"^\s*0+(\.0*)?\s*$"},
        {"const": 0},
    ],
    "description": "a duration with a unit: us, ms, s, m, h, d (zero may be written 0); "
                   f"at most {MAX_DURATION_TEXT} ({MAX_DURATION:.0f}s)",
}

#: A duration field: ``"250ms"``, ``"1.5s"``, ``"2m"``; parsed to float seconds.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(_DURATION_JSON),
]

_Z95 = NormalDist().inv_cdf(0.95)  # 1.6448536...


def _public_inv_cdf(p: float, mu: float, sigma: float) -> float:  # pragma: no cover
    return NormalDist(mu, sigma).inv_cdf(p)


#: The normal quantile, called as ``(p, 0.0, 1.0)``. ``NormalDist().inv_cdf(p)`` checks p
#: and sigma, then returns exactly this function of (p, 0.0, 1.0) (CPython 3.11 to 3.13, in
#: C where built); calling it directly skips checks that ``LogNormal.ppf``'s clamping makes
#: moot, for the same float (``tests/test_distributions_exact.py``). Elsewhere: the public
#: method, same result, slower.
_inv_cdf: Callable[[float, float, float], float] = getattr(
    statistics, "_normal_dist_inv_cdf", _public_inv_cdf)
_TINY = 2.0**-53  # the smallest positive uniform numpy's random() returns
_ONE_MINUS_TINY = 1.0 - _TINY
#: No single draw may exceed this, the longest duration a file may write (``MAX_DURATION``,
#: 7 days): one bound for written and drawn times. Larger would leave a trial waiting in
#: virtual time for ever (a NaN or inf never gets here). The shipped scenarios' draws stay
#: many orders of magnitude below it, so the clamp never changes their results.
MAX_DRAW = MAX_DURATION
#: Most samples an empirical distribution may list.
MAX_SAMPLES = 100_000


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: float) -> float:  # pragma: no cover - abstract
        """The value at cumulative probability ``u`` in [0, 1)."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class Constant(_Dist):
    """Always ``value``."""

    dist: Literal["constant"] = "constant"
    value: Duration

    def ppf(self, u: float) -> float:
        return self.value

    def describe(self) -> str:
        return format_duration(self.value)


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be at least low; swap them")
        return self

    def ppf(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    def describe(self) -> str:
        return f"uniform({format_duration(self.low)}, {format_duration(self.high)})"


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: Duration = Field(gt=0)

    def ppf(self, u: float) -> float:
        return min(MAX_DRAW, -self.mean * math.log1p(-u))

    def describe(self) -> str:
        return f"exponential(mean {format_duration(self.mean)})"


class LogNormal(_Dist):
    """Log-normal, given either by ``median`` and ``p95`` or by ``mu`` and ``sigma``.

    ``mu`` and ``sigma`` are the mean and standard deviation of ln(seconds). The median/p95
    form is what people can read off a histogram: mu = ln(median), sigma = ln(p95/median)/z95.
    """

    dist: Literal["lognormal"]
    median: Duration | None = None
    p95: Duration | None = None
    mu: float | None = None
    sigma: float | None = None

    @model_validator(mode="after")
    def _one_parametrisation(self) -> LogNormal:
        by_quantiles = self.median is not None or self.p95 is not None
        by_moments = self.mu is not None or self.sigma is not None
        if by_quantiles == by_moments:
            raise ValueError("give either median and p95, or mu and sigma (not both, not neither)")
        if by_quantiles:
            if self.median is None or self.p95 is None:
                raise ValueError("the median/p95 form needs both median and p95")
            if self.median <= 0:
                raise ValueError("median must be positive")
            if self.p95 <= self.median:
                raise ValueError("p95 must be greater than median")
        else:
            if self.mu is None or self.sigma is None:
                raise ValueError("the mu/sigma form needs both mu and sigma")
            if not (math.isfinite(self.mu) and math.isfinite(self.sigma)):
                raise ValueError("mu and sigma must be finite numbers")
            if self.sigma < 0:
                raise ValueError("sigma must be non-negative")
            if self.mu > math.log(MAX_DRAW) or self.sigma > 10:
                raise ValueError(
                    "mu/sigma give draws of weeks or more; mu and sigma are in ln(seconds): "
                    "for a 10 s median use mu = 2.3"
                )
        return self

    @cached_property
    def log_params(self) -> tuple[float, float]:
        """(mu, sigma) of ln(seconds). Cached: ``ppf`` runs once per message, and the model
        is frozen (pydantic keeps a cached property out of dumps, hashes and equality)."""
        if self.median is not None and self.p95 is not None:
            return math.log(self.median), math.log(self.p95 / self.median) / _Z95
        assert self.mu is not None and self.sigma is not None
        return self.mu, self.sigma

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> LogNormal:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("log_params", None)  # a copy with other fields must recompute
        return copied

    def ppf(self, u: float) -> float:
        # Runs once per message. Comparisons instead of min() and max(): the same floats
        # at less than half the cost (the builtins' argument handling dominated).
        mu, sigma = self.log_params
        if u < _TINY:
            u = _TINY
        elif u > _ONE_MINUS_TINY:
            u = _ONE_MINUS_TINY
        value = math.exp(mu + sigma * _inv_cdf(u, 0.0, 1.0))
        return value if value < MAX_DRAW else MAX_DRAW

    def describe(self) -> str:
        if self.median is not None and self.p95 is not None:
            return (f"lognormal(median {format_duration(self.median)}, "
                    f"p95 {format_duration(self.p95)})")
        return f"lognormal(mu {self.mu:g}, sigma {self.sigma:g})"


class Empirical(_Dist):
    """Each listed sample equally likely (measured values, e.g. from Sender.log)."""

    dist: Literal["empirical"]
    samples: list[Duration] = Field(min_length=1, max_length=MAX_SAMPLES)

    @field_validator("samples", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        # Before the element-by-element check: a million-element list is refused at once,
        # not after a million duration parses (and a million error lines).
        if isinstance(value, list) and len(value) > MAX_SAMPLES:
            raise ValueError(f"{len(value):,} samples; at most {MAX_SAMPLES:,} (draw a "
                             "random subset of your measurements)")
        return value

    def ppf(self, u: float) -> float:
        samples = self.samples
        return samples[min(len(samples) - 1, int(u * len(samples)))]

    def describe(self) -> str:
        return f"empirical({len(self.samples)} samples)"


_FORMS = ('write a duration ("2s") or a table such as '
          '{ dist = "lognormal", median = "10s", p95 = "30s" }')


def _shorthand(value: Any) -> Any:
    """A bare duration string (or 0) is a constant distribution.

    The duration is parsed here, not in ``Constant``, so a bad one is reported at the field
    the user wrote (``ras.connect``), not at a ``ras.connect.value`` they never wrote. A value
    that is neither a duration nor a table (``true``, a list) gets the two accepted forms
    instead of pydantic's "valid dictionary or object to extract fields from".
    """
    if isinstance(value, dict | _Dist):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        parse_duration(value)  # ValueError with the fix
        return {"dist": "constant", "value": value}
    raise ValueError(f"expected a distribution, got {shorten(value)}; {_FORMS}")


class _ShorthandJsonSchema:
    """Let the JSON Schema accept the shorthand too (``duration = "8s"`` in shipped files)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [_DURATION_JSON, handler(core_schema)]}


_DIST_KINDS = ("constant", "uniform", "exponential", "lognormal", "empirical")

#: A distribution field in a scenario model.
Distribution = Annotated[
    Constant | Uniform | Exponential | LogNormal | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_shorthand),
    _ShorthandJsonSchema(),
]
