"""Seeds to random streams: the only place rassim turns a seed into a generator.

Rules (design guide section 3):

1. Trial ``i`` of a run seeded ``S`` draws only from ``SeedSequence(S, spawn_key=(i, k))``,
   where ``k`` is the fixed number of a named stream below (never ``hash()``). A trial's
   draws therefore depend on (S, i) alone, not on workers, chunking or trial order.
2. World streams are separate from the sender's jitter stream, and each component keys its
   draws by index (dial n, message n, connection n), so two policies on the same seed face
   the same world: policy comparisons are paired.
3. Streams hand out uniforms from small batches: a numpy scalar draw per event would
   dominate the event loop, and a batch of 32 is drawn in about the time of two scalars.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAM_IDS", "TrialStreams", "UniformStream"]

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

_BATCH = 32


class UniformStream:
    """Uniforms in [0, 1) from one generator, drawn ``_BATCH`` at a time.

    Also usable as the sender's rng (``random()``).
    """

    __slots__ = ("_generator", "_buffer", "_next")

    def __init__(self, generator: np.random.Generator) -> None:
        self._generator = generator
        self._buffer: list[float] = []
        self._next = 0

    def random(self) -> float:
        if self._next == len(self._buffer):
            self._buffer = self._generator.random(_BATCH).tolist()
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return value


class TrialStreams:
    """The named streams of one trial, created on first use."""

    __slots__ = ("seed", "trial", "_streams")

    def __init__(self, seed: int, trial: int) -> None:
        self.seed = seed
        self.trial = trial
        self._streams: dict[tuple[int, ...], UniformStream] = {}

    def get(self, name: str, *index: int) -> UniformStream:
        """The stream ``name`` (``index`` picks one of a family, e.g. fault k)."""
        key = (STREAM_IDS[name], *index)
        stream = self._streams.get(key)
        if stream is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self.trial, *key))
            stream = UniformStream(np.random.Generator(np.random.PCG64(sequence)))
            self._streams[key] = stream
        return stream
