"""Maximum likelihood on interval-censored lags, the family chosen by AIC, bootstrap intervals.

Rules:

1. Each candidate family is fitted by ``scipy.stats`` (``dist.fit`` on a
   ``scipy.stats.CensoredData``, location fixed at 0): exponential (1 parameter) and
   lognormal (2). rassim writes no optimiser of its own.
2. The log-likelihood of interval data is the sum of log(F(hi) - F(lo)) (log F(hi) when
   lo = 0, log S(lo) when hi is infinite); AIC = 2k - 2 logL, and the lowest AIC wins.
3. The empirical form is not a candidate for the lag: a log never shows a lag, only an
   interval around it, and an empirical distribution needs the values themselves.
4. Intervals are percentile bootstrap intervals: the connections are resampled with
   replacement ``resamples`` times (a generator seeded by ``seed``, so a fit is repeatable),
   and the chosen family is refitted to each resample. Every parameter the scenario file
   writes gets one: the mean (exponential), the median and p95 (lognormal).
5. A family with k parameters needs the intervals' ends at k + 1 or more distinct times
   (to the millisecond): with fewer, a whole ridge of parameters fits equally well (two
   cells are matched exactly by a lognormal of any tiny spread placed at the boundary), so
   the family is not a candidate, and a bootstrap resample with fewer is counted as failed.
6. ``FitError`` says why nothing can be fitted: no two-sided or left-censored interval
   (every connection only says "later than"), or no interval at all.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sim.studies.fit.censor import Censored

__all__ = ["FAMILIES", "FamilyFit", "FitError", "LagFit", "fit_lag"]

FAMILIES = ("exponential", "lognormal")
_Z95 = float(stats.norm.ppf(0.95))
_PARAMETERS = {"exponential": 1, "lognormal": 2}


def _distinct_ends(low: np.ndarray, high: np.ndarray) -> int:
    ends = np.concatenate([low[low > 0], high[np.isfinite(high)]])
    return int(np.unique(np.round(ends, 3)).size)


class FitError(Exception):
    """Nothing can be fitted; ``str(error)`` says why and what to give instead."""


@dataclass(frozen=True, slots=True)
class FamilyFit:
    """One family's maximum-likelihood fit."""

    family: str
    estimates: dict[str, float]  # the parameters a scenario file writes, in seconds
    log_likelihood: float
    aic: float

    def table(self) -> dict[str, Any]:
        """The distribution as a scenario file's table (values in seconds, unformatted)."""
        return {"dist": self.family, **self.estimates}


@dataclass(frozen=True, slots=True)
class LagFit:
    """The chosen family, every candidate, and the chosen family's bootstrap intervals."""

    chosen: FamilyFit
    candidates: tuple[FamilyFit, ...]
    intervals: dict[str, tuple[float, float]]
    resamples: int
    failed_resamples: int
    censored: Censored


def _data(low: np.ndarray, high: np.ndarray) -> Any:
    left = low == 0.0
    right = np.isinf(high)
    both = ~left & ~right
    return stats.CensoredData(left=high[left & ~right], right=low[right & ~left],
                              interval=np.column_stack([low[both], high[both]]))


def _frozen(family: str, params: tuple[float, ...]) -> Any:
    if family == "exponential":
        return stats.expon(scale=params[0])
    return stats.lognorm(params[0], scale=params[1])


def _mle(family: str, low: np.ndarray, high: np.ndarray,
         start: tuple[float, ...] | None = None) -> tuple[float, ...]:
    data = _data(low, high)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if family == "exponential":
            kwargs = {} if start is None else {"scale": start[0]}
            _, scale = stats.expon.fit(data, floc=0, **kwargs)
            return (float(scale),)
        if start is None:
            shape, _, scale = stats.lognorm.fit(data, floc=0)
        else:
            shape, _, scale = stats.lognorm.fit(data, start[0], floc=0, scale=start[1])
        return (float(shape), float(scale))


def _log_likelihood(family: str, params: tuple[float, ...], low: np.ndarray,
                    high: np.ndarray) -> float:
    dist = _frozen(family, params)
    with np.errstate(divide="ignore"):
        mass = np.where(np.isinf(high), dist.sf(low), dist.cdf(high) - dist.cdf(low))
        return float(np.sum(np.log(np.maximum(mass, 1e-300))))


def _estimates(family: str, params: tuple[float, ...]) -> dict[str, float]:
    if family == "exponential":
        return {"mean": params[0]}
    sigma, median = params
    return {"median": median, "p95": median * math.exp(sigma * _Z95)}


def _fit_family(family: str, low: np.ndarray, high: np.ndarray) -> tuple[FamilyFit,
                                                                          tuple[float, ...]]:
    params = _mle(family, low, high)
    loglik = _log_likelihood(family, params, low, high)
    k = _PARAMETERS[family]
    return FamilyFit(family, _estimates(family, params), loglik, 2 * k - 2 * loglik), params


def fit_lag(censored: Censored, *, resamples: int = 200, seed: int = 0,
            families: tuple[str, ...] = FAMILIES) -> LagFit:
    """Fit every family in ``families`` (rules 1, 2), choose by AIC, bootstrap (rule 4)."""
    low = np.asarray(censored.low, dtype=float)
    high = np.asarray(censored.high, dtype=float)
    if low.size == 0:
        raise FitError("no connection bounds the lag (every map either hit the name cache or "
                       "no WINS round trip fits the window on this link)")
    if np.all(np.isinf(high)):
        raise FitError(f"all {low.size} connections only say the lag was later than some time "
                       "(no map ever resolved the name): the likelihood has no maximum")
    ends = _distinct_ends(low, high)
    usable = tuple(f for f in families if ends > _PARAMETERS[f])
    if not usable:
        raise FitError(f"the intervals end at only {ends} distinct time(s); "
                       "no candidate family can be fitted (give more connections)")
    fits = [_fit_family(family, low, high) for family in usable]
    chosen, params = min(fits, key=lambda pair: pair[0].aic)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in chosen.estimates}
    failed = 0
    for _ in range(resamples):
        pick = rng.integers(0, low.size, low.size)
        sub_low, sub_high = low[pick], high[pick]
        if (np.all(np.isinf(sub_high))
                or _distinct_ends(sub_low, sub_high) <= _PARAMETERS[chosen.family]):
            failed += 1
            continue
        try:
            again = _estimates(chosen.family, _mle(chosen.family, sub_low, sub_high, params))
        except (ValueError, FloatingPointError):
            failed += 1
            continue
        if not all(math.isfinite(v) for v in again.values()):
            failed += 1
            continue
        for name, value in again.items():
            draws[name].append(value)
    intervals = {name: (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))
                 for name, values in draws.items() if values}
    return LagFit(chosen, tuple(f for f, _ in fits), intervals, resamples, failed, censored)
