"""Expectations: the bound syntax, the intervals, and the verdicts at the interval boundaries.

The semantics under test (``sim.check.expect`` rule 1): a bound is *demonstrated* only when the
whole 95% interval lies on its side; *violated* when the whole interval lies on the wrong
side; otherwise *not demonstrated*. The boundary cases (an interval end exactly on the
bound, strict and non-strict comparisons, 0 and n successes) are where a sloppy
implementation would pass a claim the data does not support.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.check.check import has_expect_table, load_target
from sim.check.expect import (
    Verdict,
    evaluate,
    judge,
    mean_interval,
    order_statistic_ranks,
    quantile_interval,
)
from sim.scenario.bounds import Bound, parse_bound
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import ExpectSpec
from sim.stats.intervals import wilson_interval
from sim.stats.summary import QuantileSketch, Summary
from sim.trial.results import TrialResult

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


# --- the bound syntax --------------------------------------------------------------------------
@pytest.mark.parametrize(("written", "kind", "op", "value"), [
    (">= 0.99", "rate", ">=", 0.99),
    ("<=0.001", "rate", "<=", 0.001),
    ("  <   0.5  ", "rate", "<", 0.5),
    ("> 0", "rate", ">", 0.0),
    ("<= 0.1%", "rate", "<=", 0.001),
    (">= 99%", "rate", ">=", 0.99),
    ("<= 60s", "duration", "<=", 60.0),
    (">= 10m", "duration", ">=", 600.0),
    ("<= 250ms", "duration", "<=", 0.25),
    ("<= 1.5", "count", "<=", 1.5),
])
def test_bounds_are_read_as_written(written: str, kind: str, op: str, value: float) -> None:
    bound = parse_bound(written, kind)  # type: ignore[arg-type]
    assert (bound.op, bound.value, bound.kind) == (op, pytest.approx(value), kind)
    assert bound.text == f"{op} {written.split(op, 1)[1].strip()}"


@pytest.mark.parametrize(("written", "kind", "fix"), [
    (0.99, "rate", 'write the bound as a string with its comparison, e.g. ">= 0.99"'),
    ("0.99", "rate", "start with >=, <=, > or <"),
    ("== 0.5", "rate", "cannot demonstrate equality"),
    ("= 0.5", "rate", "cannot demonstrate equality"),
    ("=> 0.5", "rate", "write '>=' for '=>'"),
    ("≥ 0.5", "rate", "write '>=' for '≥'"),
    (">=", "rate", "has no value"),
    (">= abc", "rate", "'abc' is not a number"),
    (">= 1.5", "rate", "a rate is a fraction between 0 and 1"),
    (">= 150%", "rate", "a rate is a fraction between 0 and 1"),
    (">= -1", "count", "finite, non-negative"),
    (">= nan", "count", "finite, non-negative"),
    ("<= 60", "duration", "a duration needs a unit"),
    ("<= 5%", "count", "not a number"),
])
def test_bad_bounds_say_how_to_write_them(written: object, kind: str, fix: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        parse_bound(written, kind)  # type: ignore[arg-type]
    assert fix in str(error.value)


def test_an_expect_table_keeps_the_files_order_and_ranges() -> None:
    spec = ExpectSpec.model_validate({"rate_53": [">= 0.05", "<= 0.5"],
                                      "success_rate": ">= 0.9", "trials": 100,
                                      "p90_connect_time": "<= 1m", "rate_651": "<= 10%"})
    assert [(key, bound.text) for key, bound in spec.items()] == [
        ("rate_53", ">= 0.05"), ("rate_53", "<= 0.5"), ("success_rate", ">= 0.9"),
        ("p90_connect_time", "<= 1m"), ("rate_651", "<= 10%")]
    assert spec.trials == 100 and spec.seed is None
    # It serialises back to what a file would say.
    assert spec.model_dump(exclude_none=True)["rate_53"] == [">= 0.05", "<= 0.5"]


# --- errors through the loader: file, line, field, fix --------------------------------------------
BASE = """name = "t"
[ras]
connect = "1s"
authenticate = "0s"
project = "0s"
[link]
latency = "10ms"
[name_path]
lag = "1s"
"""


@pytest.mark.parametrize(("table", "field", "line", "fix"), [
    ('[expect]\nsucess_rate = ">= 0.9"\n', "expect.sucess_rate", "line 11",
     "unknown key 'sucess_rate'; bound one of success_rate, "),
    ('[expect]\nrate_x = "<= 0.1"\n', "expect.rate_x", "line 11", "rate_<code> (e.g. rate_53)"),
    ('[expect]\nrate_0 = "<= 0.1"\n', "expect.rate_0", "line 11", "unknown key"),
    ('[expect]\nsuccess_rate = 0.9\n', "expect.success_rate", "line 11",
     "write the bound as a string"),
    ('[expect]\np50_connect_time = "<= 30"\n', "expect.p50_connect_time", "line 11",
     'write "30s"'),
    ('[expect]\nrate_53 = []\n', "expect.rate_53", "line 11", "an empty list states nothing"),
    ('[expect]\ntrials = 0\nsuccess_rate = ">= 0.9"\n', "expect.trials", "line 11",
     "greater than or equal to 1"),
    ("[expect]\ntrials = 10\n", "expect", "line 10", "states no expectation"),
    ('[search]\nkinds = ["link_outag"]\n', "search.kinds.0", "line 11", "must be 'link_outage'"),
    ('[search]\nwindow = ["connected", "1m"]\n', "search.window", "line 11",
     "same milestone"),
    ('[search]\nwindow = ["2m", "1m"]\n', "search.window", "line 11", "swap them"),
    ('[search]\ndurations = ["0s", "1m"]\n', "search.durations", "line 11", "at least 1ms"),
    ('[search]\ndurations = ["5s", "1s"]\n', "search.durations", "line 11", "swap them"),
    ("[search]\ntrials = [0, 0]\n", "search.trials", "line 11", "listed twice"),
    ('[search]\nmax_fault = 2\n', "search.max_fault", "line 11", "unknown key"),
    ('[expect]\nwork_mean = "<= 3"\n', "expect.work_mean", "line 11",
     "bounds a fleet statistic, and this scenario has no [fleet] table"),
    ('[expect]\nsuccess_rate = ">= 0.5"\nsender_success_rate = ">= 0.5"\n',
     "expect.sender_success_rate", "line 12", "remove the bound or add the table"),
])
def test_bad_tables_name_file_line_field_and_fix(tmp_path: Path, table: str, field: str,
                                                  line: str, fix: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BASE + table, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "\n" not in message, message
    for fragment in (str(path), f"{line}: ", f"{field}: ", fix):
        assert fragment in message, (fragment, message)


def test_expectations_are_not_inherited_and_do_not_change_the_identity(tmp_path: Path) -> None:
    parent = tmp_path / "parent.toml"
    parent.write_text(BASE + '[expect]\nsuccess_rate = ">= 0.5"\n', encoding="utf-8")
    plain = tmp_path / "plain.toml"
    plain.write_text(BASE, encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n', encoding="utf-8")
    assert has_expect_table(parent) and not has_expect_table(child)
    with pytest.raises(ScenarioError, match="no \\[expect\\] table of its own"):
        load_target(child)
    # Claims and search bounds are not the world: the scenario's sha256 ignores them.
    assert load_scenario(parent).sha256 == load_scenario(plain).sha256
    only_trials = tmp_path / "only-trials.toml"
    only_trials.write_text('extends = "parent.toml"\n[expect]\ntrials = 5\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="states no expectation of its own"):
        load_target(only_trials)


def test_shipped_scenarios_state_the_q221951_claims() -> None:
    claims = {path.stem: [(k, b.text) for k, b in load_target(path).expect.items()]
              for path in sorted(SCENARIOS.glob("*.toml")) if has_expect_table(path)}
    assert claims == {
        "async-modem": [("rate_53", "<= 0.005")],
        "faults-link-flap": [("success_rate", ">= 0.99")],
        "fleet-outage-budget": [("success_rate", ">= 0.99"), ("dials_mean", "<= 150"),
                                ("sender_success_rate", ">= 0.999"), ("work_mean", "<= 200")],
        "fleet-outage-no-budget": [("success_rate", "<= 0.05"), ("dials_mean", ">= 500"),
                                   ("sender_success_rate", "<= 0.9"), ("work_mean", ">= 600")],
        "fleet-retry-storm": [("success_rate", ">= 0.99"), ("p50_connect_time", ">= 20m"),
                              ("sender_success_rate", ">= 0.999"),
                              ("port_utilization", "<= 60%")],
        "fleet-retry-storm-decorrelated": [("success_rate", ">= 0.99"),
                                           ("p50_connect_time", "<= 18m"),
                                           ("dials_mean", "<= 90"),
                                           ("sender_success_rate", ">= 0.999"),
                                           ("work_mean", "<= 115"),
                                           ("port_utilization", ">= 65%")],
        "fleet-retry-storm-full-jitter": [("success_rate", ">= 0.99"),
                                          ("p50_connect_time", "<= 16m"),
                                          ("dials_mean", ">= 100"),
                                          ("sender_success_rate", ">= 0.999"),
                                          ("work_mean", ">= 125"),
                                          ("port_utilization", ">= 70%")],
        "fleet-retry-storm-full-jitter-same-mean": [("success_rate", ">= 0.99"),
                                                    ("sender_success_rate", ">= 0.999"),
                                                    ("p50_connect_time", "<= 20m"),
                                                    ("work_mean", "<= 118")],
        "isdn": [("rate_53", "<= 0.005")],
        "q221951-patched": [("success_rate", ">= 0.99"), ("rate_53", "<= 0.001")],
        "q221951-rasdial-first": [("rate_53", "<= 0.005"), ("line_time_mean", ">= 10m")],
        "q221951-unpatched": [("rate_53", ">= 0.05"), ("rate_53", "<= 0.5")],
    }


# --- verdicts at the interval boundaries ---------------------------------------------------
JUDGE_CASES = [
    # (bound, low, high, status): an end exactly on the bound is on the bound's side for
    # >= and <=, and on the wrong side for > and <.
    (">= 0.5", 0.5, 0.6, "demonstrated"),
    (">= 0.5", 0.4, 0.5, "not demonstrated"),
    (">= 0.5", 0.3, 0.4999, "violated"),
    ("> 0.5", 0.5, 0.6, "not demonstrated"),
    ("> 0.5", 0.5001, 0.6, "demonstrated"),
    ("> 0.5", 0.4, 0.5, "violated"),
    ("<= 0.5", 0.4, 0.5, "demonstrated"),
    ("<= 0.5", 0.5, 0.6, "not demonstrated"),
    ("<= 0.5", 0.5001, 0.6, "violated"),
    ("< 0.5", 0.4, 0.5, "not demonstrated"),
    ("< 0.5", 0.5, 0.6, "violated"),
    (">= 0.5", 0.5, 0.5, "demonstrated"),  # a degenerate interval on the bound
    ("<= 0.5", 0.0, math.inf, "not demonstrated"),  # an open interval proves nothing
    (">= 0.5", 0.6, math.inf, "demonstrated"),
]


@pytest.mark.parametrize(("written", "low", "high", "status"), JUDGE_CASES)
def test_judge_at_the_boundaries(written: str, low: float, high: float, status: str) -> None:
    assert judge(parse_bound(written, "rate"), low, high) == status


def _rows(successes: int, failures: dict[int, int]) -> list[TrialResult]:
    rows = [TrialResult(trial=i, seed=1, outcome="connected", code=0, reason="connected",
                        attempts=1, dials=1, connect_time=10.0, end_time=10.0, line_time=10.0,
                        codes=(), faults=()) for i in range(successes)]
    for code, count in failures.items():
        rows += [TrialResult(trial=len(rows) + i, seed=1, outcome="gave_up", code=code,
                             reason="dials_exhausted", attempts=1, dials=1,
                             connect_time=math.nan, end_time=5.0, line_time=5.0, codes=(code,),
                             faults=()) for i in range(count)]
    return rows


def _verdict(spec: dict[str, object], summary: Summary) -> Verdict:
    (verdict,) = evaluate(ExpectSpec.model_validate(spec), summary)
    return verdict


def test_wilson_boundaries_decide_success_rate_verdicts() -> None:
    # 10 of 10: the Wilson interval is [0.7225, 1.0].
    summary = Summary.of(_rows(10, {}))
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert _verdict({"success_rate": f">= {low!r}"}, summary).status == "demonstrated"
    assert _verdict({"success_rate": f"> {low!r}"}, summary).status == "not demonstrated"
    above = math.nextafter(low, 1.0)
    assert _verdict({"success_rate": f">= {above!r}"}, summary).status == "not demonstrated"
    assert _verdict({"success_rate": "<= 1"}, summary).status == "demonstrated"
    assert _verdict({"success_rate": "< 1"}, summary).status == "not demonstrated"
    assert _verdict({"success_rate": f"< {low!r}"}, summary).status == "violated"


def test_a_zero_rate_cannot_be_demonstrated_only_bounded() -> None:
    # No 53 in 1,000 trials: the interval is [0, 0.0038]; "<= 0" straddles, "<= 0.004" holds.
    summary = Summary.of(_rows(1000, {}))
    assert _verdict({"rate_53": "<= 0"}, summary).status == "not demonstrated"
    assert _verdict({"rate_53": ">= 0"}, summary).status == "demonstrated"
    assert _verdict({"rate_53": "<= 0.004"}, summary).status == "demonstrated"
    assert _verdict({"rate_53": "<= 0.0038"}, summary).status == "not demonstrated"


def test_code_rates_are_final_code_shares_with_wilson_intervals() -> None:
    summary = Summary.of(_rows(900, {53: 60, 651: 40}))
    verdict = _verdict({"rate_53": ["<= 0.1"]}, summary)
    assert verdict.estimate == 0.06 and (verdict.low, verdict.high) == wilson_interval(60, 1000)
    assert verdict.describe() == "rate_53 <= 0.1: 0.0600 [0.0469, 0.0765] demonstrated"
    assert _verdict({"rate_651": ">= 10%"}, summary).describe() == (
        "rate_651 >= 10%: 0.0400 [0.0295, 0.0540] violated (interval entirely on the wrong side)")
    assert _verdict({"rate_121": "<= 0.01"}, summary).estimate == 0.0


def test_describe_prints_enough_digits_to_see_the_side() -> None:
    bound = parse_bound(">= 0.99", "rate")
    verdict = Verdict("success_rate", bound, 0.995, 0.98996, 0.999, 1000, "not demonstrated")
    assert verdict.describe() == ("success_rate >= 0.99: 0.99500 [0.98996, 0.99900] not "
                                  "demonstrated (interval straddles the bound)")
    duration = Verdict("p90_connect_time", parse_bound("<= 60s", "duration"), None, 0.0,
                       math.inf, 0, "not demonstrated")
    assert duration.describe().startswith("p90_connect_time <= 60s: - [0.0s, inf] ")


# --- quantile intervals -------------------------------------------------------------------------
def _binomial_cdf(k: int, n: int, q: float) -> float:
    return sum(math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(0, k + 1))


@pytest.mark.parametrize("n", [1, 2, 5, 10, 19, 20, 59, 100, 333])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_order_statistic_ranks_are_the_tightest_95_percent_ranks(n: int, q: float) -> None:
    low, high = order_statistic_ranks(n, q)
    assert 0 <= low < high <= n + 1
    # P(B < l) <= 2.5% and l is the largest such rank; P(B >= u) <= 2.5%, u the smallest.
    assert _binomial_cdf(low - 1, n, q) <= 0.025 + 1e-12
    assert low == n or _binomial_cdf(low, n, q) > 0.025
    assert 1 - _binomial_cdf(high - 1, n, q) <= 0.025 + 1e-12
    assert 1 - _binomial_cdf(high - 2, n, q) > 0.025
    assert _binomial_cdf(high - 1, n, q) - _binomial_cdf(low - 1, n, q) >= 0.95 - 1e-12


def test_order_statistic_ranks_for_large_n_are_near_the_normal_approximation() -> None:
    n, q = 10**8, 0.5
    low, high = order_statistic_ranks(n, q)
    half = 1.959963984540054 * math.sqrt(n * q * (1 - q))
    assert abs(low - (n * q - half)) <= 2 and abs(high - (n * q + half)) <= 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_quantile_intervals_contain_the_exact_order_statistics(values: list[float],
                                                               q: float) -> None:
    sketch = QuantileSketch()
    for value in values:
        sketch.add(value)
    estimate, low, high = quantile_interval(sketch, q)
    ordered = sorted(values)
    low_rank, high_rank = order_statistic_ranks(len(values), q)
    assert low <= (ordered[low_rank - 1] if low_rank >= 1 else 0.0)
    if high_rank <= len(values):
        assert ordered[high_rank - 1] <= high
    else:
        assert high == math.inf
    assert estimate is not None and low <= estimate <= high


def test_too_few_trials_leave_a_quantile_interval_open() -> None:
    summary = Summary.of(_rows(5, {53: 5}))
    verdict = _verdict({"p90_connect_time": "<= 60s"}, summary)
    assert verdict.n == 5 and verdict.high == math.inf
    assert verdict.status == "not demonstrated"
    none = Summary.of(_rows(0, {53: 3}))
    assert _verdict({"p50_connect_time": "<= 1h"}, none).estimate is None


# --- mean intervals ----------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=200))
def test_mean_intervals_use_the_sample_standard_deviation(values: list[int]) -> None:
    mean, low, high = mean_interval(sum(values), sum(v * v for v in values), len(values))
    assert mean == pytest.approx(statistics.fmean(values))
    half = 1.959963984540054 * statistics.stdev(values) / math.sqrt(len(values))
    assert high == pytest.approx(mean + half, abs=1e-9)
    assert low == pytest.approx(max(0.0, mean - half), abs=1e-9)


def test_mean_interval_edges() -> None:
    assert mean_interval(0, 0, 0) == (None, 0.0, math.inf)
    assert mean_interval(3, 9, 1) == (3.0, 0.0, math.inf)
    assert mean_interval(6, 12, 3) == (2.0, 2.0, 2.0)  # no spread: a point


def test_line_time_and_dials_means_from_the_summary() -> None:
    summary = Summary.of(_rows(3, {53: 1}))  # line times 10, 10, 10, 5 s; one dial each
    verdict = _verdict({"line_time_mean": ">= 5s"}, summary)
    expected = mean_interval(35 * 10**9, (300 + 25) * 10**18, 4, scale=10**9)
    assert (verdict.estimate, verdict.low, verdict.high) == expected
    assert verdict.estimate == 8.75 and verdict.status == "demonstrated"
    dials = _verdict({"dials_mean": "<= 1"}, summary)
    assert (dials.low, dials.high, dials.status) == (1.0, 1.0, "demonstrated")
    assert _verdict({"attempts_mean": "> 1"}, summary).status == "violated"


def test_bound_holds_on_single_values() -> None:
    assert Bound(">=", 1.0, "count").holds(1.0) and not Bound(">", 1.0, "count").holds(1.0)
    assert Bound("<=", 1.0, "count").holds(1.0) and not Bound("<", 1.0, "count").holds(1.0)


# --- fleet statistics ----------------------------------------------------------------------
def _fleet_rows(per_trial: list[tuple[int, int, int, int, float]]) -> list[TrialResult]:
    """Fleet rows: (senders, connected, dials, busy signals, port utilization) per trial."""
    return [TrialResult(trial=i, seed=1, outcome="connected" if ok == n else "gave_up",
                        code=0 if ok == n else 676, reason="connected" if ok == n else "budget",
                        attempts=ok, dials=dials, connect_time=60.0 if ok == n else math.nan,
                        end_time=60.0, line_time=30.0 * n, codes=(), faults=(), senders=n,
                        senders_connected=ok, busy_signals=busy, port_utilization=util)
            for i, (n, ok, dials, busy, util) in enumerate(per_trial)]


FLEET = _fleet_rows([(10, 10, 14, 4, 0.5), (10, 9, 20, 10, 0.75), (10, 10, 12, 2, 0.5),
                     (10, 8, 25, 15, 1.0)])


@pytest.mark.parametrize(("statistic", "computed", "n"), [
    ("sender_success_rate", lambda f: f.sender_success(), 40),
    ("busy_rate", lambda f: f.busy_rate(), 71),
    ("work_mean", lambda f: f.work_mean(), 4),
    ("port_utilization", lambda f: f.utilization(), 4),
])
def test_fleet_statistics_are_judged_on_the_fleet_summarys_intervals(
        statistic: str, computed: object, n: int) -> None:
    summary = Summary.of(FLEET)
    value, low, high = computed(summary.fleet)  # type: ignore[operator]
    verdict = _verdict({statistic: f">= {low!r}"}, summary)
    assert (verdict.estimate, verdict.low, verdict.high, verdict.n) == (value, low, high, n)
    assert verdict.status == "demonstrated"
    assert _verdict({statistic: f"> {high!r}"}, summary).status == "violated"


def test_fleet_statistic_values() -> None:
    summary = Summary.of(FLEET)
    assert _verdict({"sender_success_rate": ">= 0"}, summary).estimate == 37 / 40
    assert _verdict({"busy_rate": ">= 0"}, summary).estimate == 31 / 71
    assert _verdict({"work_mean": ">= 0"}, summary).estimate == (37 + 71) / 4
    assert _verdict({"port_utilization": "<= 100%"}, summary).estimate == 0.6875


def test_a_fleet_share_interval_is_never_narrower_than_independent_senders() -> None:
    # Four trials, one all-or-nothing: the senders of a trial fail together, so the
    # cluster-robust interval is wider than Wilson's on 40 independent senders.
    summary = Summary.of(_fleet_rows([(10, 10, 10, 0, 0.5)] * 3 + [(10, 0, 10, 0, 0.5)]))
    verdict = _verdict({"sender_success_rate": ">= 0.5"}, summary)
    low, high = wilson_interval(30, 40)
    assert verdict.estimate == 0.75
    assert verdict.low < low and verdict.high > high


def test_a_fleet_statistic_without_data_is_open_and_never_demonstrated() -> None:
    one = Summary.of(FLEET[:1])  # one trial: no interval
    verdict = _verdict({"sender_success_rate": ">= 0.5"}, one)
    assert (verdict.low, verdict.high, verdict.status) == (0.0, 1.0, "not demonstrated")
    work = _verdict({"work_mean": "<= 1000"}, one)
    assert (work.low, work.high, work.status) == (0.0, math.inf, "not demonstrated")
