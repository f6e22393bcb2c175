"""Per trial, in one run: rassim against the hand-written SimPy peer, the closed-form floor
and bare SimPy (issue 18's table).

Run: ``python benchmarks/per_trial.py`` (about 2 minutes; ``--help``). Instructions for the
same four workloads: ``python benchmarks/instructions.py``. Nothing is asserted.

Rules:

1. Four workloads on trials 0..N-1 of the canonical scenario and its policy (``pre-fix``),
   all in this process, one worker: **rassim** (``run_trials`` with a ``LocalExecutor(1)``:
   every trial, its row folded into the run's summary, as ``rassim run`` does), **peer**
   (``benchmarks/peer_simpy.py``), **floor** (``benchmarks/floor.py``) and **bare** SimPy
   (``sim.bench.bench.bare_trials``: a fresh environment per trial yielding plain time-outs
   until it has processed as many events as that trial does on rassim's event path).
2. ``--rounds`` interleaved rounds (15 by default): each round times every workload once,
   in turn, so load from other processes falls on all of them alike; the median round of
   each is reported, and each ratio is the median of the per-round ratios.
3. The load average is printed before and after: the machine is shared.
4. As a check that the peer and the floor model the same physics, their success and
   error-53 rates are printed beside rassim's (``sim.bench.peer`` checks the peer formally).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import simpy

from sim.bench.bench import CANONICAL, bare_trials, count_events
from sim.bench.peer import load_peer, peer_trials
from sim.run.executors import LocalExecutor
from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import floor_trials  # noqa: E402  (a sibling script, not a package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=4000, help="trials per timed pass")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    args = parser.parse_args()
    loaded = load_scenario(CANONICAL)
    scenario, policy, seed = loaded.scenario, loaded.policy, loaded.scenario.seed
    peer = load_peer()
    if peer is None:
        sys.exit("per_trial: needs benchmarks/peer_simpy.py (run from a checkout)")
    rows: list = []
    counts = count_events(scenario, policy, seed, args.trials, rows)
    executor = LocalExecutor(1)
    n = args.trials

    def rassim() -> None:
        run_trials(scenario, policy, trials=n, seed=seed, executor=executor)

    work = {"rassim": rassim, "peer": lambda: peer_trials(peer, seed, n),
            "floor": lambda: floor_trials(scenario, seed, n), "bare": lambda: bare_trials(counts)}
    for run in work.values():
        run()  # warm caches and imports before any timing
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    times: dict[str, list[float]] = {kind: [] for kind in work}
    for _ in range(args.rounds):
        for kind, run in work.items():
            began = time.perf_counter()
            run()
            times[kind].append((time.perf_counter() - began) / n * 1e6)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{scenario.name} · policy {policy.name} · seed {seed} · {n:,} trials per pass · "
          f"median of {args.rounds} interleaved rounds · Python {platform.python_version()} · "
          f"simpy {simpy.__version__} · {os.cpu_count()} cores")
    print(f"{'per trial, 1 worker':32} {'us':>8} {'rassim / it':>12}")
    for kind, label in (("rassim", "rassim (run, with its summary)"),
                        ("peer", "hand-written SimPy peer"), ("floor", "closed-form floor"),
                        ("bare", "bare SimPy, same events")):
        ratio = statistics.median(r / k for r, k in zip(times["rassim"], times[kind],
                                                        strict=True))
        print(f"{label:32} {statistics.median(times[kind]):8.1f} {ratio:12.3f}")
    to_peer = statistics.median(r / p for r, p in zip(times["rassim"], times["peer"],
                                                      strict=True))
    print(f"rassim/peer {to_peer:.3f} (target <= 0.5)")
    peer_rows = peer_trials(peer, seed, n)
    floor_rows = floor_trials(scenario, seed, n)
    print(f"success / 53 rate: rassim {sum(r.connected for r in rows) / n:.4f} / "
          f"{sum(r.code == 53 for r in rows) / n:.4f}, peer {sum(r[0] for r in peer_rows) / n:.4f}"
          f" / {sum(r[1] == 53 for r in peer_rows) / n:.4f}, floor "
          f"{sum(r[0] for r in floor_rows) / n:.4f} / {sum(r[1] == 53 for r in floor_rows) / n:.4f}"
          f"; {sum(counts) / n:.2f} events per trial on the event path")


if __name__ == "__main__":
    main()
