"""Durations with units and the duration distributions, as scenario files write them.

Rules under test (sim/draws/units.py, sim/draws/distributions.py):

1. A duration needs a unit (a bare number is ambiguous); zero may be written bare. Negative,
   boolean, non-finite and unreadable values are errors whose message carries the fix.
2. Each distribution samples by inverse CDF from one uniform: ``ppf`` at known points gives
   known values (exactly, or to 1e-9 relative where a normal quantile is involved).
3. Distributions validate eagerly: wrong order, a missing or doubled parametrisation, an
   empty sample list are errors naming the fix. A bare duration is shorthand for a constant.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sim.draws.distributions import (
    MAX_DRAW,
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Uniform,
)
from sim.draws.units import MAX_DURATION, format_duration, parse_duration

DIST = TypeAdapter(Distribution)


def dist(value: object):
    return DIST.validate_python(value)


def dist_error(value: object) -> str:
    with pytest.raises(ValidationError) as info:
        DIST.validate_python(value)
    return str(info.value)


# --- parse_duration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("1.5s", 1.5),
        ("2m", 120.0),
        ("2min", 120.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("500us", 0.0005),
        ("0", 0.0),
        ("0.0", 0.0),
        ("0s", 0.0),
        (0, 0.0),
        (0.0, 0.0),
        (" 45s ", 45.0),
        ("1e3ms", 1.0),
        ("10 s", 10.0),
    ],
)
def test_parse_duration_accepts(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12, abs=0.0)
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (30, 'write "30s"'),  # a bare number: seconds or minutes?
        (1.5, 'write "1.5s"'),
        ("30", 'write "30s"'),  # the same mistake, quoted
        ("1.5", 'write "1.5s"'),
        (-1, "needs a unit"),
        ("-1s", "cannot be negative"),
        ("-0.5ms", "remove the minus sign"),
        (True, "expected a duration"),
        (False, "expected a duration"),
        (None, "expected a duration"),
        ([1, "s"], "expected a duration"),
        ("", "cannot read"),
        ("soon", "cannot read"),
        ("2 weeks", "cannot read"),
        ("1.5.2s", "cannot read"),
        ("s", "cannot read"),
        ("nan", "cannot read"),
        ("NaNs", "cannot read"),
        ("inf s", "cannot read"),
        ("infinity", "cannot read"),
        ("1e999s", "at most 7 days"),
        (float("nan"), "needs a unit"),
        (float("inf"), "needs a unit"),
    ],
)
def test_parse_duration_rejects_with_the_fix(value: object, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert fragment in str(info.value)


def test_the_generic_error_shows_examples_of_the_right_form() -> None:
    with pytest.raises(ValueError, match=r'"250ms", "1.5s", "2m", "1h"'):
        parse_duration("a while")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0s"), (0.25, "250ms"), (1.5, "1.5s"), (120.0, "2m"), (3600.0, "1h"), (90.0, "90s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.sampled_from([("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)]),
)
def test_parse_duration_scales_by_the_unit(number: float, unit: tuple[str, float]) -> None:
    suffix, factor = unit
    assume(number * factor <= MAX_DURATION)
    text = f"{number!r}{suffix}"  # repr may use an exponent (1e-05): also a valid duration
    assert parse_duration(text) == pytest.approx(number * factor, rel=1e-12, abs=0.0)


# --- ppf at known points ------------------------------------------------------------------
def test_constant_is_constant() -> None:
    d = dist({"dist": "constant", "value": "2s"})
    assert isinstance(d, Constant)
    assert [d.ppf(u) for u in (0.0, 0.5, 0.999999)] == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(("u", "value"), [(0.0, 2.0), (0.25, 3.0), (0.5, 4.0), (1.0, 6.0)])
def test_uniform_ppf(u: float, value: float) -> None:
    d = dist({"dist": "uniform", "low": "2s", "high": "6s"})
    assert isinstance(d, Uniform)
    assert d.ppf(u) == value


def test_uniform_may_be_degenerate() -> None:
    d = dist({"dist": "uniform", "low": "3s", "high": "3s"})
    assert d.ppf(0.7) == 3.0


def test_exponential_median_is_mean_ln2() -> None:
    d = dist({"dist": "exponential", "mean": "3s"})
    assert isinstance(d, Exponential)
    assert d.ppf(0.0) == 0.0
    assert d.ppf(0.5) == pytest.approx(3.0 * math.log(2), rel=1e-12)
    assert d.ppf(1 - math.exp(-1)) == pytest.approx(3.0, rel=1e-12)  # the mean's quantile


def test_exponential_draws_are_capped_at_the_maximum_duration() -> None:
    d = dist({"dist": "exponential", "mean": "7d"})
    assert MAX_DRAW == MAX_DURATION  # one bound for written and drawn times
    assert d.ppf(1 - 2.0**-53) == MAX_DRAW


@pytest.mark.parametrize("written", ["7.0001d", "604801s", "169h", "1e300s", "1e999s",
                                     "10081m", "604800001ms"])
def test_every_duration_is_at_most_seven_days(written: str) -> None:
    assert parse_duration("7d") == MAX_DURATION == 604800.0
    with pytest.raises(ValueError, match=r'at most 7 days \("7d", 604800s\)'):
        parse_duration(written)


def test_the_maximum_duration_is_the_policys() -> None:
    # One maximum: a scenario duration and a policy wait share it (sender/policy.py).
    from sender import policy
    assert policy._MAX_SECONDS == MAX_DURATION


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("x" * 1_000_000)
    assert len(str(caught.value)) < 200
    assert "1,000,000 characters" in str(caught.value)


def test_a_huge_samples_list_is_refused_before_its_elements() -> None:
    # Element-by-element validation of a million samples took seconds; the length comes first.
    with pytest.raises(ValidationError, match="1,000,000 samples; at most 100,000"):
        dist({"dist": "empirical", "samples": [object()] * 1_000_000})


@pytest.mark.parametrize(("median", "p95"), [("10s", "30s"), ("600ms", "1.8s"), ("1s", "12s")])
def test_lognormal_median_p95_form(median: str, p95: str) -> None:
    d = dist({"dist": "lognormal", "median": median, "p95": p95})
    assert isinstance(d, LogNormal)
    assert d.ppf(0.5) == pytest.approx(parse_duration(median), rel=1e-9)
    assert d.ppf(0.95) == pytest.approx(parse_duration(p95), rel=1e-9)


def test_lognormal_mu_sigma_form() -> None:
    d = dist({"dist": "lognormal", "mu": 2.0, "sigma": 0.5})
    assert d.ppf(0.5) == pytest.approx(math.exp(2.0), rel=1e-9)
    one_sigma = NormalDist().cdf(1.0)
    assert d.ppf(one_sigma) == pytest.approx(math.exp(2.5), rel=1e-9)
    assert d.log_params == (2.0, 0.5)


def test_lognormal_ppf_is_finite_at_the_ends() -> None:
    d = dist({"dist": "lognormal", "median": "1s", "p95": "12s"})
    low, high = d.ppf(0.0), d.ppf(1.0)
    assert 0 < low < 1 < high <= MAX_DRAW


@given(st.floats(0, 1), st.floats(0, 1))
def test_lognormal_ppf_is_monotone(a: float, b: float) -> None:
    d = dist({"dist": "lognormal", "median": "600ms", "p95": "1.8s"})
    lo, hi = sorted((a, b))
    assert d.ppf(lo) <= d.ppf(hi)


@pytest.mark.parametrize(
    ("u", "value"),
    [(0.0, 1.0), (0.2499, 1.0), (0.25, 2.0), (0.5, 3.0), (0.7499, 3.0), (0.75, 4.0),
     (0.999999, 4.0), (1.0, 4.0)],
)
def test_empirical_picks_by_index(u: float, value: float) -> None:
    d = dist({"dist": "empirical", "samples": ["1s", "2s", "3s", "4s"]})
    assert isinstance(d, Empirical)
    assert d.ppf(u) == value


# --- shorthand ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "seconds"), [("2s", 2.0), ("250ms", 0.25), ("0", 0.0), (0, 0.0)])
def test_a_bare_duration_is_a_constant(value: object, seconds: float) -> None:
    d = dist(value)
    assert isinstance(d, Constant)
    assert d == Constant(value=value)
    assert d.value == d.ppf(0.3) == seconds


def test_a_model_instance_passes_through() -> None:
    c = Constant(value="1s")
    assert dist(c) is c


# --- validation errors --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"dist": "uniform", "low": "5s", "high": "1s"}, "high must be at least low; swap them"),
        ({"dist": "lognormal", "median": "10s", "p95": "10s"}, "p95 must be greater than median"),
        ({"dist": "lognormal", "median": "10s", "p95": "5s"}, "p95 must be greater than median"),
        ({"dist": "lognormal", "median": "0", "p95": "5s"}, "median must be positive"),
        ({"dist": "lognormal", "median": "1s", "p95": "5s", "mu": 1.0, "sigma": 1.0},
         "not both, not neither"),
        ({"dist": "lognormal"}, "not both, not neither"),
        ({"dist": "lognormal", "median": "1s"}, "needs both median and p95"),
        ({"dist": "lognormal", "mu": 1.0}, "needs both mu and sigma"),
        ({"dist": "lognormal", "mu": 1.0, "sigma": -1.0}, "sigma must be non-negative"),
        ({"dist": "lognormal", "mu": 40.0, "sigma": 1.0}, "for a 10 s median use mu = 2.3"),
        ({"dist": "lognormal", "mu": float("nan"), "sigma": 1.0}, "finite"),
        ({"dist": "empirical", "samples": []}, "at least 1 item"),
        ({"dist": "empirical", "samples": ["1s", "2"]}, 'write "2s"'),
        ({"dist": "exponential", "mean": "0"}, "greater than 0"),
        ({"dist": "exponential", "mean": 3}, 'write "3s"'),
        ({"dist": "constant", "value": "-2s"}, "cannot be negative"),
        ({"dist": "uniform", "low": "1s", "high": "2s", "mode": "1s"}, "Extra inputs"),
        ({"dist": "gamma", "shape": 2}, "constant"),  # names the known tags
        ("2", 'write "2s"'),
        (2, 'write "2s"'),
        ("-2s", "cannot be negative"),
        ("soon", "cannot read"),
        (True, 'write a duration ("2s") or a table'),
        ([1, 2], 'write a duration ("2s") or a table'),
    ],
)
def test_distribution_validation_errors(value: object, fragment: str) -> None:
    assert fragment in dist_error(value)


def test_describe_is_readable() -> None:
    assert dist("2s").describe() == "2s"
    assert dist({"dist": "uniform", "low": "1s", "high": "2m"}).describe() == "uniform(1s, 2m)"
    assert "median 10s" in dist({"dist": "lognormal", "median": "10s", "p95": "30s"}).describe()
    assert dist({"dist": "empirical", "samples": ["1s"]}).describe() == "empirical(1 samples)"
