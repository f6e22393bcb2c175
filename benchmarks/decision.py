"""Time to a decision: ``sweep --require`` against ``sweep --precision``, in one run.

Run: ``python benchmarks/decision.py`` (about 1-2 minutes on two cores; ``--help``).

The question (``tuning/require-grid.toml``): which of these 4 policies reaches 99.9% success
at 95% confidence, and at what p95 connect time? Two ways to answer it on the canonical
scenario, each on 2 worker processes started beforehand, measured one after the other in
this process (same load), with the wall time, the CPU time of this process and its
workers (psutil over the live process tree, ``_cpu``), and the load average:

1. ``--require "success_rate >= 0.999"``: each policy stops once its interval (Bonferroni-
   corrected over the planned looks, ``sim.stats.sequential``) is wholly on one side.
2. ``--precision 0.0003``: every policy runs until its interval's half-width is 0.03
   points, which a 91% policy never reaches before the cap (``--max-trials``).

Both are printed with their decisions, so one can check they answer alike. Nothing is
asserted: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import psutil

from sim.run.executors import LocalExecutor
from sim.run.runner import CHUNK, run_trials
from sim.scenario.loader import load_scenario
from sim.stats.sequential import Decision, Requirement, look_z
from sim.studies.grid import load_grid
from sim.studies.sweep import SweepResult, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of every live descendant: the fork
    server and the pool's workers (which ``RUSAGE_CHILDREN`` would count only after they
    exit and are waited for, by the fork server, not by us), read with psutil; plus the
    children that already exited and were waited for by this process."""
    root = psutil.Process()
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # exited between the listing and the read
            continue
        total += times.user + times.system
    gone = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + gone.ru_utime + gone.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-trials", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    loaded = load_scenario(ROOT / "scenarios" / "q221951-unpatched.toml")
    grid = load_grid(ROOT / "tuning" / "require-grid.toml", loaded.policy)
    scenario, seed = loaded.scenario, loaded.scenario.seed
    require = Requirement.parse("success_rate >= 0.999")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.workers} workers; "
          f"cap {args.max_trials:,} trials per policy")
    with LocalExecutor(args.workers) as executor:
        # Start the workers (and their imports) before any timing.
        run_trials(scenario, loaded.policy, trials=2 * CHUNK, seed=seed, executor=executor)
        for label, options in (("--require \"success_rate >= 0.999\"", {"require": require}),
                               ("--precision 0.0003", {"precision": 0.0003})):
            cpu, began = _cpu(), time.perf_counter()
            result = run_sweep(scenario, grid, seed=seed, executor=executor,
                               max_trials=args.max_trials, **options)  # type: ignore[arg-type]
            wall, cpu = time.perf_counter() - began, _cpu() - cpu
            _report(label, result, require, wall, cpu)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _report(label: str, result: SweepResult, require: Requirement, wall: float,
            cpu: float) -> None:
    trials = sum(t.summary.trials for t in result.tallies)
    print(f"\n{label}: {wall:.1f} s wall, {cpu:.1f} s CPU, {trials:,} policy-trials")
    z = result.look_z or look_z(1)
    for policy, tally in zip(result.grid.policies, result.tallies, strict=True):
        decision = (result.decisions[result.grid.policies.index(policy)] if result.decisions
                    else Decision.judge(require, tally.summary, z))
        p95 = tally.summary.connect_time.quantile(0.95) if tally.summary.connect_time.count \
            else float("nan")
        print(f"  {policy.name:28} {decision.verdict:9} {tally.summary.trials:>8,} trials  "
              f"success {tally.summary.successes / tally.summary.trials:.5f}  p95 {p95:.1f} s")


if __name__ == "__main__":
    main()
