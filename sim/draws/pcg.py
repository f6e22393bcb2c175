"""numpy's ``SeedSequence`` and ``PCG64`` seeding, recomputed cheaply and bit for bit.

Why: a trial needs four or five named streams (``sim.draws.streams``). Building numpy's
``SeedSequence``, ``PCG64`` and ``Generator`` for each cost ~13 us, a fifth of a trial. The
same arithmetic on Python ints costs ~3 us, part of it shared between streams; done with
numpy arrays for a block of consecutive trials at once (the end of this module), it leaves
~1 us per stream.

Contract: for non-negative integers, ``PcgStream(*pcg_seed(spawn(seed_pool(seed), (i, *key))))``
(``sim.draws.streams``) yields exactly the floats of ``numpy.random.Generator(numpy.random.PCG64(
numpy.random.SeedSequence(seed, spawn_key=(i, *key)))).random()``, and so does
``finish(stream_block(trial_block(seed, first, count), k)[i - first])`` for a key (k,).
``tests/test_streams_exact.py`` checks this against numpy for many seeds and keys,
multi-word ones included.

Theory of operation (numpy >= 1.19: ``bit_generator.pyx`` and ``pcg64.h``):

1. Entropy words. A non-negative integer is its 32-bit words, least significant first (0 is
   one word, 0). With a spawn key, the seed's words are padded with zeros to the pool size
   (4), and the key's integers follow, each as its own words.
2. Mixing. The first four words are hashed into the four-word pool, every pool word is then
   mixed into every other, and each later word is mixed into all four. The hash's constants
   advance by a fixed factor at every hash whatever the data, so the k-th hash of a mixing
   always uses the same pair (``_hash_pairs``). Later words only ever touch an already
   mixed pool, so the pool after the seed's words serves every trial of a run (cached), and
   the pool after a trial's index every stream of that trial.
3. Output. Eight 32-bit words come out of the pool with a second, fixed constant sequence
   and are read as four little-endian 64-bit words: PCG64's initial state (words 0 and 1,
   high first) and its stream selector (words 2 and 3).
4. PCG64 (XSL-RR 128/64): increment = 2 * selector + 1, and the state starts at
   ((increment + initial state) * A + increment) mod 2^128. Each draw steps
   state = state * A + increment (mod 2^128) and outputs the 64-bit rotation of
   (high ^ low) right by the top 6 bits of the new state; numpy's ``random()`` keeps the top
   53 bits of that: ``(out >> 11) * 2**-53``, exact in a double.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["MASK128", "MASK64", "PCG_MULTIPLIER", "TO_UNIT", "Pool", "PoolBlock", "finish",
           "pcg_seed", "seed_pool", "seeds_block", "spawn", "stream_block", "trial_block",
           "words"]

_M32 = 0xFFFF_FFFF
MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4

#: PCG64's 128-bit LCG multiplier.
PCG_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341
#: 2**-53: numpy's ``random()`` is the top 53 bits of a 64-bit output times this.
TO_UNIT = 1.0 / 9007199254740992.0

#: A mixed pool: its four words, and how many hashes went into it so far (rule 2).
Pool = tuple[int, int, int, int, int]

#: (value xored in, multiplier) of the k-th hash of a mixing; grown on demand (rule 2).
_hash_pairs: list[tuple[int, int]] = [(_INIT_A, (_INIT_A * _MULT_A) & _M32)]


def _grow_hash_pairs(count: int) -> None:
    while len(_hash_pairs) < count:
        before = _hash_pairs[-1][1]
        _hash_pairs.append((before, (before * _MULT_A) & _M32))


def _output_pairs() -> list[tuple[int, int]]:
    pairs, before = [], _INIT_B
    for _ in range(2 * _POOL):
        after = (before * _MULT_B) & _M32
        pairs.append((before, after))
        before = after
    return pairs


(_B0, _A0), (_B1, _A1), (_B2, _A2), (_B3, _A3), (_B4, _A4), (_B5, _A5), (_B6, _A6), \
    (_B7, _A7) = _output_pairs()


def words(value: int) -> list[int]:
    """An entropy integer as 32-bit words, least significant first (rule 1)."""
    if value < 0:
        raise ValueError(f"seeds and spawn keys must be non-negative integers, got {value}")
    out = [value & _M32]
    value >>= 32
    while value:
        out.append(value & _M32)
        value >>= 32
    return out


def _hash(value: int, k: int) -> int:
    _grow_hash_pairs(k + 1)
    xor, mult = _hash_pairs[k]
    value = ((value ^ xor) * mult) & _M32
    return value ^ (value >> 16)


def _mix(x: int, y: int) -> int:
    # Python ints do not wrap: masking the (possibly negative) difference is mod 2^32.
    result = (_MIX_L * x - _MIX_R * y) & _M32
    return result ^ (result >> 16)


def _absorb(pool: Pool, word: int) -> Pool:
    """``pool`` with one more 32-bit word mixed into each of its words (rule 2).

    The hot path of stream creation (two calls per stream), so written out in full.
    """
    p0, p1, p2, p3, k = pool
    if len(_hash_pairs) < k + _POOL:
        _grow_hash_pairs(k + _POOL)
    pairs = _hash_pairs
    x, m = pairs[k]
    h = ((word ^ x) * m) & _M32
    h ^= h >> 16
    r = (_MIX_L * p0 - _MIX_R * h) & _M32
    p0 = r ^ (r >> 16)
    x, m = pairs[k + 1]
    h = ((word ^ x) * m) & _M32
    h ^= h >> 16
    r = (_MIX_L * p1 - _MIX_R * h) & _M32
    p1 = r ^ (r >> 16)
    x, m = pairs[k + 2]
    h = ((word ^ x) * m) & _M32
    h ^= h >> 16
    r = (_MIX_L * p2 - _MIX_R * h) & _M32
    p2 = r ^ (r >> 16)
    x, m = pairs[k + 3]
    h = ((word ^ x) * m) & _M32
    h ^= h >> 16
    r = (_MIX_L * p3 - _MIX_R * h) & _M32
    p3 = r ^ (r >> 16)
    return p0, p1, p2, p3, k + _POOL


def spawn(pool: Pool, key: tuple[int, ...]) -> Pool:
    """``pool`` with the integers of ``key`` mixed in, in order (rules 1 and 2)."""
    for part in key:
        if 0 <= part <= _M32:
            pool = _absorb(pool, part)
        else:
            for word in words(part):
                pool = _absorb(pool, word)
    return pool


@lru_cache(maxsize=64)
def seed_pool(seed: int) -> Pool:
    """The pool after ``seed``'s words, padded as a spawn key requires (rules 1 and 2)."""
    entropy = words(seed)
    entropy += [0] * (_POOL - len(entropy))
    mixer = [_hash(entropy[i], i) for i in range(_POOL)]
    k = _POOL
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                mixer[dst] = _mix(mixer[dst], _hash(mixer[src], k))
                k += 1
    pool: Pool = (mixer[0], mixer[1], mixer[2], mixer[3], k)
    for word in entropy[_POOL:]:  # a seed of more than four words: mixed in like a key
        pool = _absorb(pool, word)
    return pool


def pcg_seed(pool: Pool) -> tuple[int, int]:
    """PCG64's first (state, increment) as numpy seeds it from ``pool`` (rules 3 and 4)."""
    p0, p1, p2, p3, _ = pool
    w0 = ((p0 ^ _B0) * _A0) & _M32
    w0 ^= w0 >> 16
    w1 = ((p1 ^ _B1) * _A1) & _M32
    w1 ^= w1 >> 16
    w2 = ((p2 ^ _B2) * _A2) & _M32
    w2 ^= w2 >> 16
    w3 = ((p3 ^ _B3) * _A3) & _M32
    w3 ^= w3 >> 16
    w4 = ((p0 ^ _B4) * _A4) & _M32
    w4 ^= w4 >> 16
    w5 = ((p1 ^ _B5) * _A5) & _M32
    w5 ^= w5 >> 16
    w6 = ((p2 ^ _B6) * _A6) & _M32
    w6 ^= w6 >> 16
    w7 = ((p3 ^ _B7) * _A7) & _M32
    w7 ^= w7 >> 16
    initial = (w1 << 96) | (w0 << 64) | (w3 << 32) | w2
    increment = ((((w5 << 96) | (w4 << 64) | (w7 << 32) | w6) << 1) | 1) & MASK128
    return ((increment + initial) * PCG_MULTIPLIER + increment) & MASK128, increment


# --- many trials at once ----------------------------------------------------------------
# A batch run creates the same named streams for trial after trial. numpy's uint32
# arithmetic wraps mod 2^32 exactly as numpy's C code does, so rules 1 to 3 can run for a
# whole block of consecutive trials in a few dozen array operations; only rule 4's 128-bit
# arithmetic is left per stream (``finish``).

#: One uint32 array per pool word, one element per trial, and the hashes taken so far.
PoolBlock = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


def _absorb_block(pool: PoolBlock, word: np.ndarray | int) -> PoolBlock:
    """``_absorb`` on every trial's pool at once: ``word`` is one uint32 per trial, or one
    int shared by all (hashed here in Python: numpy warns about wrapping only in scalar
    arithmetic, and every array operation below wraps mod 2^32 on purpose)."""
    *pool_words, k = pool
    _grow_hash_pairs(k + _POOL)
    out = []
    for i, p in enumerate(pool_words):
        xor, mult = _hash_pairs[k + i]
        if isinstance(word, int):
            h = ((word ^ xor) * mult) & _M32
            term: np.ndarray | np.uint32 = np.uint32((_MIX_R * (h ^ (h >> 16))) & _M32)
        else:
            hashed = (word ^ np.uint32(xor)) * np.uint32(mult)
            hashed ^= hashed >> np.uint32(16)
            term = np.uint32(_MIX_R) * hashed
        r = np.uint32(_MIX_L) * p - term
        out.append(r ^ (r >> np.uint32(16)))
    return out[0], out[1], out[2], out[3], k + _POOL


def trial_block(seed: int, first: int, count: int) -> PoolBlock:
    """The pools of trials ``first`` .. ``first + count - 1`` (each below 2^32) of ``seed``."""
    if not 0 <= first and first + count <= _M32 + 1:
        raise ValueError("trial_block needs one-word trial indices (below 2^32)")
    p0, p1, p2, p3, k = seed_pool(seed)
    shared = [np.full(count, p, dtype=np.uint32) for p in (p0, p1, p2, p3)]
    trials = np.arange(first, first + count, dtype=np.uint32)
    return _absorb_block((shared[0], shared[1], shared[2], shared[3], k), trials)


def stream_block(pools: PoolBlock, number: int) -> list[tuple[int, int, int, int]]:
    """For each trial of ``pools``, the 64-bit words (initial state high and low, selector
    high and low) of stream ``number``'s PCG64 (rule 3); ``finish`` turns one into a state.
    ``number`` is below 2^32."""
    p0, p1, p2, p3, _ = _absorb_block(pools, number)
    halves = []
    for (xor_lo, mult_lo), (xor_hi, mult_hi), p_lo, p_hi in (
            ((_B0, _A0), (_B1, _A1), p0, p1), ((_B2, _A2), (_B3, _A3), p2, p3),
            ((_B4, _A4), (_B5, _A5), p0, p1), ((_B6, _A6), (_B7, _A7), p2, p3)):
        lo = (p_lo ^ np.uint32(xor_lo)) * np.uint32(mult_lo)
        lo ^= lo >> np.uint32(16)
        hi = (p_hi ^ np.uint32(xor_hi)) * np.uint32(mult_hi)
        hi ^= hi >> np.uint32(16)
        halves.append(((hi.astype(np.uint64) << np.uint64(32)) | lo).tolist())
    return list(zip(*halves, strict=True))


def seeds_block(pools: PoolBlock, numbers: tuple[int, ...]
                ) -> list[tuple[tuple[int, int], ...]]:
    """For each trial of ``pools``, PCG64's first (state, increment) of each stream of
    ``numbers`` (each below 2^32): ``finish(stream_block(pools, n)[i])`` for every n, with
    the streams' rules 1 to 3 done together on 2-D arrays and the 128-bit sum of rule 4
    done there too (the increment's shift and the addition, with its carry, wrap mod 2^64
    word by word), so only the multiplication is left per stream."""
    p0, p1, p2, p3, _ = _absorb_block(
        pools, np.array(numbers, dtype=np.uint32).reshape(len(numbers), 1))
    halves = []
    for (xor_lo, mult_lo), (xor_hi, mult_hi), p_lo, p_hi in (
            ((_B0, _A0), (_B1, _A1), p0, p1), ((_B2, _A2), (_B3, _A3), p2, p3),
            ((_B4, _A4), (_B5, _A5), p0, p1), ((_B6, _A6), (_B7, _A7), p2, p3)):
        lo = (p_lo ^ np.uint32(xor_lo)) * np.uint32(mult_lo)
        lo ^= lo >> np.uint32(16)
        hi = (p_hi ^ np.uint32(xor_hi)) * np.uint32(mult_hi)
        hi ^= hi >> np.uint32(16)
        halves.append((hi.astype(np.uint64) << np.uint64(32)) | lo)
    initial_high, initial_low, selector_high, selector_low = halves
    one = np.uint64(1)
    increment_low = (selector_low << one) | one
    increment_high = (selector_high << one) | (selector_low >> np.uint64(63))
    sum_low = initial_low + increment_low
    sum_high = initial_high + increment_high + (sum_low < initial_low).astype(np.uint64)
    columns = []
    for s_hi, s_lo, i_hi, i_lo in zip(sum_high.tolist(), sum_low.tolist(),
                                      increment_high.tolist(), increment_low.tolist(),
                                      strict=True):
        columns.append([((((a << 64) | b) * PCG_MULTIPLIER + (increment := (c << 64) | d))
                          & MASK128, increment)
                         for a, b, c, d in zip(s_hi, s_lo, i_hi, i_lo, strict=True)])
    return list(zip(*columns, strict=True))


def finish(words64: tuple[int, int, int, int]) -> tuple[int, int]:
    """PCG64's first (state, increment) from ``stream_block``'s words (rule 4)."""
    initial_high, initial_low, selector_high, selector_low = words64
    increment = ((selector_high << 65) | (selector_low << 1) | 1) & MASK128
    initial = (initial_high << 64) | initial_low
    return ((increment + initial) * PCG_MULTIPLIER + increment) & MASK128, increment
