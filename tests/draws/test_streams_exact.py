"""The streams computed in plain Python (``sim.draws.pcg``) are numpy's, bit for bit.

``sim.draws.streams`` rule 3 promises that stream k of trial i of seed S yields exactly the
uniforms of ``Generator(PCG64(SeedSequence(S, spawn_key=(i, k, ...)))).random()``: every
published number depends on it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.draws.pcg import (
    finish,
    pcg_seed,
    seed_pool,
    seeds_block,
    spawn,
    stream_block,
    trial_block,
)
from sim.draws.streams import STREAM_IDS, PcgStream, TrialStreams, stream_seeds


def numpy_uniforms(seed: int, key: tuple[int, ...], count: int) -> list[float]:
    sequence = np.random.SeedSequence(seed, spawn_key=key)
    values: list[float] = np.random.Generator(np.random.PCG64(sequence)).random(count).tolist()
    return values


def ours(seed: int, key: tuple[int, ...], count: int) -> list[float]:
    stream = PcgStream(*pcg_seed(spawn(seed_pool(seed), key)))
    return [stream.random() for _ in range(count)]


@pytest.mark.parametrize("seed", [0, 1, 221951, 20261123, 2**32 - 1, 2**32, 2**63 - 1])
def test_every_named_stream_of_early_trials(seed: int) -> None:
    for trial in range(12):
        streams = TrialStreams(seed, trial)
        for name, number in STREAM_IDS.items():
            index = (3,) if name == "faults" else ()
            stream = streams.get(name, *index)
            got = [stream.random() for _ in range(40)]  # more than the old batch of 32
            assert got == numpy_uniforms(seed, (trial, number, *index), 40), (seed, trial, name)


words = st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**140),
                  st.sampled_from([0, 1, 2**32 - 1, 2**32, 2**64 - 1, 2**64]))


@settings(max_examples=300, deadline=None)
@given(seed=words, key=st.lists(words, min_size=1, max_size=5).map(tuple))
def test_any_seed_and_spawn_key(seed: int, key: tuple[int, ...]) -> None:
    # Multi-word seeds (beyond the pool's four words) and multi-word keys included.
    assert ours(seed, key, 5) == numpy_uniforms(seed, key, 5)


@settings(max_examples=60, deadline=None)
@given(seed=words, first=st.integers(0, 2**32 - 40), number=st.integers(0, 2**32 - 1))
def test_a_block_of_trials_seeds_each_trial_as_numpy_does(seed: int, first: int,
                                                         number: int) -> None:
    column = stream_block(trial_block(seed, first, 33), number)
    for offset in (0, 1, 32):
        state = finish(column[offset])
        assert state == pcg_seed(spawn(seed_pool(seed), (first + offset, number)))
    assert ours(seed, (first + 32, number), 3) == numpy_uniforms(seed, (first + 32, number), 3)


@pytest.mark.parametrize("trial", [255, 256, 511, 9_999_999, 2**32 - 257, 2**32 - 1, 2**32 + 5])
def test_block_edges_and_trials_past_the_blocks(trial: int) -> None:
    # Blocks of 256 trials (sim.draws.streams rule 4) near their edges, and the one-at-a-time path
    # of trial indices too large for a block (two-word ones included).
    for name in ("ras", "link"):
        stream = TrialStreams(221951, trial).get(name)
        got = [stream.random() for _ in range(3)]
        assert got == numpy_uniforms(221951, (trial, STREAM_IDS[name]), 3)


def test_the_order_trials_run_in_does_not_matter() -> None:
    # The block cache holds a few blocks; visiting trials far apart and back re-seeds them.
    trials = [700, 3, 70_000, 701, 2, 1_000_000, 3]
    first = [TrialStreams(5, t).get("dial_failures").random() for t in trials]
    again = [TrialStreams(5, t).get("dial_failures").random() for t in reversed(trials)]
    assert first == again[::-1]
    assert first == [numpy_uniforms(5, (t, STREAM_IDS["dial_failures"]), 1)[0] for t in trials]


def test_a_stream_is_created_once_per_trial() -> None:
    streams = TrialStreams(7, 3)
    assert streams.get("link") is streams.get("link")
    assert streams.get("faults", 0) is not streams.get("faults", 1)


def test_negative_entropy_is_refused_like_numpy() -> None:
    with pytest.raises(ValueError):
        np.random.SeedSequence(-1)
    with pytest.raises(ValueError):
        seed_pool(-1)


@settings(max_examples=60, deadline=None)
@given(seed=words, first=st.integers(0, 2**32 - 40),
       numbers=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5).map(tuple))
def test_several_streams_of_a_block_at_once(seed: int, first: int,
                                            numbers: tuple[int, ...]) -> None:
    # seeds_block: the fast path's streams of a trial together, the 128-bit sum on arrays.
    rows = seeds_block(trial_block(seed, first, 33), numbers)
    for offset in (0, 1, 32):
        for number, state in zip(numbers, rows[offset], strict=True):
            assert state == pcg_seed(spawn(seed_pool(seed), (first + offset, number)))


@pytest.mark.parametrize("trial", [0, 255, 256, 70_000, 2**32 - 257, 2**32 + 5])
def test_stream_seeds_are_the_named_streams(trial: int) -> None:
    names = ("ras", "dial_failures", "link", "name_path", "jitter")
    seeds = stream_seeds(221951, trial, tuple(STREAM_IDS[name] for name in names))
    for name, (state, increment) in zip(names, seeds, strict=True):
        got = PcgStream(state, increment)
        assert [got.random() for _ in range(3)] == numpy_uniforms(
            221951, (trial, STREAM_IDS[name]), 3)
