"""The fast paths of ``Distribution.ppf`` give the very floats of the plain formulas.

``LogNormal.ppf`` calls the standard normal quantile directly and caches (mu, sigma);
both are optimizations, so the value must equal ``exp(mu + sigma * NormalDist().inv_cdf(u))``
computed the obvious way, bit for bit.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from hypothesis import given
from hypothesis import strategies as st

from sim.draws.distributions import _TINY, MAX_DRAW, LogNormal

_Z95 = NormalDist().inv_cdf(0.95)


def plain(median: float, p95: float, u: float) -> float:
    mu, sigma = math.log(median), math.log(p95 / median) / _Z95
    z = NormalDist().inv_cdf(min(max(u, _TINY), 1.0 - _TINY))
    return min(MAX_DRAW, math.exp(mu + sigma * z))


uniforms = st.one_of(st.floats(0.0, 1.0, exclude_max=True),
                     st.sampled_from([0.0, _TINY, 0.5, 1.0 - _TINY, 0.02425, 0.97575]))


@given(u=uniforms)
def test_lognormal_by_quantiles_matches_the_plain_formula(u: float) -> None:
    for median, p95 in (("600ms", "1.8s"), ("6s", "18s"), ("1s", "12s"), ("2.5s", "8s")):
        dist = LogNormal.model_validate({"dist": "lognormal", "median": median, "p95": p95})
        assert dist.median is not None and dist.p95 is not None
        assert dist.ppf(u) == plain(dist.median, dist.p95, u)


@given(u=uniforms)
def test_lognormal_by_moments_matches_the_plain_formula(u: float) -> None:
    dist = LogNormal.model_validate({"dist": "lognormal", "mu": 2.3, "sigma": 0.7})
    z = NormalDist().inv_cdf(min(max(u, _TINY), 1.0 - _TINY))
    assert dist.ppf(u) == min(MAX_DRAW, math.exp(2.3 + 0.7 * z))


def test_copies_with_other_parameters_do_not_reuse_the_old_ones() -> None:
    dist = LogNormal.model_validate({"dist": "lognormal", "median": "1s", "p95": "12s"})
    other = dist.model_copy(update={"median": 2.0})
    assert other.ppf(0.5) == plain(2.0, 12.0, 0.5) != dist.ppf(0.5)
