"""Seeds to random streams: the only place rassim turns a seed into a generator.

Rules (design guide section 3):

1. Trial ``i`` of a run seeded ``S`` draws only from ``SeedSequence(S, spawn_key=(i, k))``,
   where ``k`` is the fixed number of a named stream below (never ``hash()``). A trial's
   draws therefore depend on (S, i) alone, not on workers, chunking or trial order.
2. World streams are separate from the sender's jitter stream, and each component keys its
   draws by index (dial n, message n, connection n), so two policies on the same seed face
   the same world: policy comparisons are paired.
3. A named stream's uniforms are exactly those of ``numpy.random.Generator(
   numpy.random.PCG64(SeedSequence(S, spawn_key=(i, k, ...)))).random()``, bit for bit, but
   computed in plain Python (``sim.draws.pcg``): a trial uses four or five streams and about
   twenty uniforms, and building numpy's three objects per stream cost ~13 us (a fifth of
   a trial), where the same arithmetic on Python ints costs ~3 us per stream and ~0.3 us per
   uniform, with no batch to draw ahead (a numpy scalar draw per event, the reason the design
   guide asks for batches, costs more than that).
4. The plain named streams (no index) of consecutive trials are seeded a block of
   ``_BLOCK`` trials at a time (``sim.draws.pcg``, "many trials at once"), which leaves ~1 us of
   work per stream. Blocks are only a cache: a stream's uniforms are the same whichever
   path made them, and whatever else ran in the process before (rule 1).
"""

from __future__ import annotations

import threading
from typing import Protocol

from sim.draws.pcg import (
    MASK64,
    MASK128,
    PCG_MULTIPLIER,
    TO_UNIT,
    Pool,
    PoolBlock,
    finish,
    pcg_seed,
    seed_pool,
    seeds_block,
    spawn,
    stream_block,
    trial_block,
)

__all__ = ["STREAM_IDS", "PcgStream", "TrialStreams", "UniformStream", "stream_seeds"]

#: Fixed stream numbers. Append only: renumbering changes every published result.
STREAM_IDS: dict[str, int] = {
    "ras": 1,
    "link": 2,
    "name_path": 3,
    "jitter": 4,
    "faults": 5,
    "dial_failures": 6,
    "fleet": 7,
}

_MASK53 = (1 << 53) - 1
_TWICE = (1 << 64) + 1  # a 64-bit word times this is the word written twice


class UniformStream(Protocol):
    """What a component draws from: uniforms in [0, 1), one per call. Also the sender's rng."""

    def random(self) -> float: ...


class PcgStream:
    """One named stream of a trial: numpy's PCG64 uniforms, one at a time (rule 3, ``sim.draws.pcg``
    rule 4). Starts from ``(state, increment)`` as ``sim.draws.pcg.pcg_seed`` gives them."""

    __slots__ = ("_state", "_increment")

    def __init__(self, state: int, increment: int) -> None:
        self._state = state
        self._increment = increment

    def random(self) -> float:
        state = (self._state * PCG_MULTIPLIER + self._increment) & MASK128
        self._state = state
        # The top 53 bits of (high ^ low) rotated right by the top 6 bits of the state, read
        # from that word written twice (times 2^64 + 1: one multiplication instead of a
        # shift and an or): fewer big-int operations than rotating and then shifting, for
        # the same bits (``tests/draws/test_streams_exact.py``).
        return ((((state ^ (state >> 64)) & MASK64) * _TWICE >> ((state >> 122) + 11))
                & _MASK53) * TO_UNIT


#: Trials per block of stream seeds (rule 4): big enough to spread numpy's per-call cost,
#: small enough that replaying one trial seeds only a few hundred.
_BLOCK = 256
_LAST_BLOCKED_TRIAL = 2**32 - _BLOCK  # trial indices of one 32-bit word only
_MAX_BLOCKS = 4


class _SeedBlocks:
    """The stream seeds of the last few blocks of trials (rule 4), per process.

    A run goes through its trials in order, so the oldest block is dropped first. Lookups
    are single dict operations (atomic under the GIL); adding a block takes a lock, as Dask
    may run chunks in threads of one process. Two threads may both seed the same block:
    the values are equal, so either copy serves.
    """

    def __init__(self) -> None:
        self._blocks: dict[tuple[int, int],
                           tuple[PoolBlock, dict[int, list[tuple[int, int]]]]] = {}
        self._lock = threading.Lock()
        self._rows: dict[tuple[int, int, tuple[int, ...]], list[tuple[tuple[int, int], ...]]] = {}

    def seeds(self, seed: int, trial: int, number: int) -> tuple[int, int]:
        """PCG64's first (state, increment) of stream ``number`` of ``trial``."""
        first = trial - trial % _BLOCK
        return self._column(seed, first, number)[trial - first]

    def _block(self, seed: int, first: int
               ) -> tuple[PoolBlock, dict[int, list[tuple[int, int]]]]:
        """The pools of the block of trials from ``first``, and its columns so far."""
        block = self._blocks.get((seed, first))
        if block is None:
            block = (trial_block(seed, first, _BLOCK), {})
            with self._lock:
                while len(self._blocks) >= _MAX_BLOCKS:
                    del self._blocks[next(iter(self._blocks))]
                self._blocks[(seed, first)] = block
        return block

    def _column(self, seed: int, first: int, number: int) -> list[tuple[int, int]]:
        """Stream ``number``'s seeds for the block of trials from ``first``."""
        pools, columns = self._block(seed, first)
        column = columns.get(number)
        if column is None:
            column = columns[number] = [finish(words) for words in stream_block(pools, number)]
        return column

    def row(self, seed: int, trial: int, numbers: tuple[int, ...]
            ) -> tuple[tuple[int, int], ...]:
        """``seeds`` of each of ``numbers`` for ``trial`` with one look-up: the fast path
        (``sim.trial.fast``) asks for the same streams trial after trial, so the block keeps
        one row per trial for each set of numbers asked for."""
        first = trial - trial % _BLOCK
        rows = self._rows.get((seed, first, numbers))
        if rows is None:
            block = self._block(seed, first)
            rows = seeds_block(block[0], numbers)
            with self._lock:
                while len(self._rows) >= _MAX_BLOCKS:
                    del self._rows[next(iter(self._rows))]
                self._rows[(seed, first, numbers)] = rows
        return rows[trial - first]


_SEED_BLOCKS = _SeedBlocks()


class TrialStreams:
    """The named streams of one trial, created on first use."""

    __slots__ = ("seed", "trial", "_streams", "_pool")

    def __init__(self, seed: int, trial: int) -> None:
        self.seed = seed
        self.trial = trial
        self._streams: dict[tuple[int, ...], UniformStream] = {}
        #: The seed sequence's pool after (seed, trial), shared by the trial's streams.
        self._pool: Pool | None = None

    def get(self, name: str, *index: int) -> UniformStream:
        """The stream ``name`` (``index`` picks one of a family, e.g. fault k)."""
        key = (STREAM_IDS[name], *index)
        stream = self._streams.get(key)
        if stream is None:
            if not index and 0 <= self.trial < _LAST_BLOCKED_TRIAL:
                stream = PcgStream(*_SEED_BLOCKS.seeds(self.seed, self.trial, key[0]))
            else:
                pool = self._pool
                if pool is None:
                    pool = self._pool = spawn(seed_pool(self.seed), (self.trial,))
                stream = PcgStream(*pcg_seed(spawn(pool, key)))
            self._streams[key] = stream
        return stream


def stream_seeds(seed: int, trial: int, numbers: tuple[int, ...]
                 ) -> tuple[tuple[int, int], ...]:
    """PCG64's first (state, increment) of each named stream ``numbers`` (``STREAM_IDS``
    values, no index) of ``trial``: the same as ``TrialStreams(seed, trial).get(name)``
    gives, for several streams in one call (rule 4)."""
    if 0 <= trial < _LAST_BLOCKED_TRIAL:
        return _SEED_BLOCKS.row(seed, trial, numbers)
    pool = spawn(seed_pool(seed), (trial,))
    return tuple(pcg_seed(spawn(pool, (number,))) for number in numbers)
