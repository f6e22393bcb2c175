"""The hand-written SimPy peer (``benchmarks/peer_simpy.py``): loading it, timing it, and
checking that it models the same physics as rassim.

Rules:

1. The peer is what a user would write instead of rassim, so it lives with the benchmarks,
   not in the package: it is loaded from this checkout by path. An installation without
   the ``benchmarks/`` folder has no peer, and ``rassim bench`` says so instead of a ratio.
2. The peer only models the canonical scenario with its own policy (``pre-fix``): the
   comparison is offered for that file alone (``peer_applies``).
3. **Same physics, checked, not assumed.** The peer draws other random numbers, so it agrees
   with rassim in distribution only. ``agreement`` compares, on the trials both ran: the
   success rate and the rate of error 53 (two-sample difference of proportions, within
   ``Z`` standard errors), and the connect-time quantiles p50 and p90 (the share of rassim's
   connect times at or below the peer's quantile q must be within ``Z`` standard errors of
   q, the standard error of a two-sample comparison of that share). ``Z`` = 3.29 (99.9%,
   two-sided): with five comparisons per bench run, a false alarm about one run in 200.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PEER_FILE", "PeerRow", "Agreement", "agreement", "load_peer", "peer_applies",
           "peer_trials"]

#: The peer's source in a checkout (rule 1).
PEER_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "peer_simpy.py"
_CANONICAL_NAME = "q221951-unpatched"
_Z = 3.29

#: (connected, final code, time of the outcome), as the peer returns it.
PeerRow = tuple[bool, int, float]


def load_peer() -> Callable[[int, int], PeerRow] | None:
    """The peer's ``run_peer_trial(seed, trial)``, or None without a checkout (rule 1)."""
    if not PEER_FILE.is_file():
        return None
    spec = importlib.util.spec_from_file_location("rassim_bench_peer", PEER_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run: Callable[[int, int], PeerRow] = module.run_peer_trial
    return run


def peer_applies(scenario_name: str, policy_name: str) -> bool:
    """Whether the peer models this scenario and policy (rule 2)."""
    return scenario_name == _CANONICAL_NAME and policy_name == "pre-fix"


def peer_trials(run: Callable[[int, int], PeerRow], seed: int, trials: int) -> list[PeerRow]:
    """Trials 0..trials-1 of the peer: the timed workload."""
    return [run(seed, trial) for trial in range(trials)]


@dataclass(frozen=True, slots=True)
class Agreement:
    """One comparison of rule 3: rassim's figure, the peer's, and whether they agree."""

    metric: str
    rassim: float
    peer: float
    z: float  # the difference in standard errors

    @property
    def agrees(self) -> bool:
        return abs(self.z) <= _Z


def _proportions(metric: str, a: int, n: int, b: int, m: int) -> Agreement:
    p, q = a / n, b / m
    pooled = (a + b) / (n + m)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return Agreement(metric, p, q, (p - q) / se if se > 0 else (0.0 if p == q else math.inf))


def agreement(rows: list[Any], peer: list[PeerRow]) -> list[Agreement]:
    """Rule 3's comparisons of rassim's ``rows`` (``TrialResult``) and the peer's rows."""
    n, m = len(rows), len(peer)
    out = [
        _proportions("success rate", sum(r.connected for r in rows), n,
                     sum(row[0] for row in peer), m),
        _proportions("rate of error 53", sum(r.code == 53 for r in rows), n,
                     sum(row[1] == 53 for row in peer), m),
    ]
    ours = sorted(r.connect_time for r in rows if r.connected)
    theirs = sorted(row[2] for row in peer if row[0])
    for q in (0.5, 0.9):
        if not ours or not theirs:
            continue
        value = theirs[min(len(theirs) - 1, int(q * len(theirs)))]
        share = sum(t <= value for t in ours) / len(ours)
        se = math.sqrt(q * (1 - q) * (1 / len(ours) + 1 / len(theirs)))
        ours_value = ours[min(len(ours) - 1, int(q * len(ours)))]
        out.append(Agreement(f"connect time p{round(100 * q)} (s)", ours_value, value,
                             (share - q) / se))
    return out
