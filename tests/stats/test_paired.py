"""Paired differences (``sim.stats.paired``): Newcombe's interval, the mergeable pair counts, and
the exact zero of a policy compared with itself."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.stats.paired import Difference, PairCounts, newcombe_independent, newcombe_paired

Z = 1.959963984540054


def textbook_wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson's interval in its textbook form (not sim.stats.summary's rearrangement)."""
    p = x / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - spread) / (1 + Z * Z / n), (centre + spread) / (1 + Z * Z / n)


def test_published_example_cavo_2012() -> None:
    # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables, ch. 8
    # (data of Cavo et al. 2012): 59 both, 6 first only, 16 second only, 80 neither.
    # Newcombe square-and-add interval: -0.0621 (95% CI -0.1186 to -0.0046).
    d = newcombe_paired(59, 6, 16, 80)
    assert round(d.estimate, 4) == -0.0621
    assert round(d.low, 4) == -0.1186
    assert round(d.high, 4) == -0.0046


@pytest.mark.parametrize(("a", "b", "c", "d", "phi"), [
    # ad - bc = 5 = n/2: Newcombe's adjustment makes phi exactly 0.
    (2, 3, 1, 4, 0.0),
    # ad - bc = -10 < 0: phi = -10 / sqrt(5 * 5 * 4 * 6), no adjustment.
    (1, 4, 3, 2, -10 / math.sqrt(5 * 5 * 4 * 6)),
    # ad - bc = 90 > n/2 = 50: phi = (90 - 50) / sqrt(40 * 60 * 35 * 65).
    (30, 10, 5, 55, (30 * 55 - 10 * 5 - 50) / math.sqrt(40 * 60 * 35 * 65)),
])
def test_hand_computed_cases(a: int, b: int, c: int, d: int, phi: float) -> None:
    # Worked by hand for the first row: p1 = 0.5 with Wilson (0.2366, 0.7634), p2 = 0.3 with
    # (0.1078, 0.6032), phi = 0: L = 0.2 - sqrt(0.2634^2 + 0.3032^2) = -0.2017 and
    # U = 0.2 + sqrt(0.2634^2 + 0.1922^2) = 0.5261. The rows are recomputed from the
    # textbook formulas here, independently of the module's arrangement.
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = textbook_wilson(a + b, n)
    l2, u2 = textbook_wilson(a + c, n)
    low = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                                 + (p2 - l2) ** 2)
    got = newcombe_paired(a, b, c, d)
    assert got.estimate == pytest.approx(p1 - p2, abs=1e-15)
    assert got.low == pytest.approx(low, abs=1e-12)
    assert got.high == pytest.approx(high, abs=1e-12)


def test_first_hand_case_in_numbers() -> None:
    got = newcombe_paired(2, 3, 1, 4)
    assert (round(got.low, 4), round(got.high, 4)) == (-0.2017, 0.5261)


def test_independent_hybrid_score_by_hand() -> None:
    # 7/34 vs 1/34: d = 6/34; L = d - sqrt((p1-l1)^2 + (u2-p2)^2), U = d + sqrt((u1-p1)^2
    # + (p2-l2)^2) with textbook Wilson intervals.
    l1, u1 = textbook_wilson(7, 34)
    l2, u2 = textbook_wilson(1, 34)
    p1, p2 = 7 / 34, 1 / 34
    got = newcombe_independent(7, 34, 1, 34)
    assert got.low == pytest.approx(p1 - p2 - math.hypot(p1 - l1, u2 - p2), abs=1e-12)
    assert got.high == pytest.approx(p1 - p2 + math.hypot(u1 - p1, p2 - l2), abs=1e-12)


def test_no_pairs_means_nothing_is_known() -> None:
    assert newcombe_paired(0, 0, 0, 0) == Difference(0.0, -1.0, 1.0)


def test_interval_stays_in_range_at_the_extremes() -> None:
    for counts in [(0, 50, 0, 0), (0, 0, 50, 0), (50, 0, 0, 0), (0, 0, 0, 50), (0, 1, 0, 0)]:
        d = newcombe_paired(*counts)
        assert -1.0 <= d.low <= d.estimate <= d.high <= 1.0


def test_a_policy_against_itself_is_exactly_zero() -> None:
    pairs = PairCounts()
    mask = 0b1011_0110_1110
    pairs.add_masks(mask, mask, 12)
    assert (pairs.candidate_only, pairs.baseline_only) == (0, 0)
    assert pairs.difference(identical=True) == Difference(0.0, 0.0, 0.0)
    # The statistical interval alone would not be degenerate: that is why identity is said.
    assert pairs.difference().estimate == 0.0
    assert pairs.difference().low < 0 < pairs.difference().high


def test_claiming_identity_with_discordant_pairs_is_a_bug() -> None:
    pairs = PairCounts(both=3, candidate_only=1)
    with pytest.raises(AssertionError, match="not reproducible"):
        pairs.difference(identical=True)


def test_masks_count_like_single_pairs() -> None:
    rng = random.Random(5)
    base = [rng.random() < 0.6 for _ in range(70)]
    cand = [rng.random() < 0.7 for _ in range(70)]
    one_by_one = PairCounts()
    for x, y in zip(base, cand, strict=True):
        one_by_one.add(x, y)
    masked = PairCounts()
    masked.add_masks(sum(1 << i for i, x in enumerate(base) if x),
                     sum(1 << i for i, y in enumerate(cand) if y), 70)
    assert masked == one_by_one
    assert masked.n == 70


def test_masks_must_fit_their_width() -> None:
    with pytest.raises(ValueError):
        PairCounts().add_masks(0b100, 0, 2)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=60), st.randoms())
def test_merging_is_order_independent(pairs: list[tuple[bool, bool]], rnd: random.Random) -> None:
    whole = PairCounts()
    for base, cand in pairs:
        whole.add(base, cand)
    # Split into random chunks, count each, merge in a random order.
    cuts = sorted(rnd.sample(range(len(pairs) + 1), k=min(3, len(pairs) + 1)))
    chunks = [pairs[i:j] for i, j in zip([0, *cuts], [*cuts, len(pairs)], strict=True)]
    rnd.shuffle(chunks)
    merged = PairCounts()
    for chunk in chunks:
        part = PairCounts()
        for base, cand in chunk:
            part.add(base, cand)
        merged.merge(part)
    assert merged == whole
    assert merged.difference() == whole.difference()
