"""What common random numbers buy: trials needed to tell two close policies apart.

Run: ``python benchmarks/crn.py`` (about a minute or two on two cores; ``--help`` for knobs).

Two connras-fix variants on the Q221951 unpatched scenario whose success rates differ by
about one percentage point: two map attempts 5 s apart (A) and 8 s apart (B). The question
is how many trials per policy it takes to show, at 95% confidence (two-sided), that B is
better:

* **paired** (CRN): both policies run the same trial indices of one seed, so each trial is a
  pair and only *discordant* pairs carry information (``sim.stats.paired``);
* **independent**: each policy runs its own trials (different seeds), the classic two-sample
  comparison.

Two estimates of each, from one pool of simulated trials:

1. By formula, from the measured rates. For a difference d = pB - pA and power 1 - beta,
   n = (z_{alpha/2} + z_beta)^2 * V / d^2 per policy, where V is the variance of one
   trial's contribution: pA qA + pB qB for independent samples, and psi - d^2 for pairs
   (psi = the share of discordant pairs). Shown for 80% power, and for 50% power, which is
   "the 95% interval excludes 0 in half of the runs". The ratio is V_indep / V_paired.
2. Empirically: runs that keep adding trials and check the 95% interval of the difference
   at every n of a fine grid, as a user watching a sweep would. Each run draws its trials
   with replacement from the simulated pool (a bootstrap; for the independent design A and
   B draw separately, which breaks the pairing as different seeds would). For each n, the
   share of runs whose interval excludes 0 is the power at n; the n where it reaches 80%
   is the empirical "trials for 80% power", and the ratio of the two designs' n is the
   empirical gain. (A single run stops at a random n, so one run alone says little.)

   Intervals are Newcombe's paired interval (shared trials) and his independent hybrid
   score interval (disjoint trials), from ``sim.stats.paired``.

Results go to stdout; nothing here is asserted by the test suite (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from sender.policy import preset
from sim.run.executors import LocalExecutor
from sim.run.runner import chunk_ranges, run_chunk
from sim.scenario.loader import load_scenario
from sim.stats.paired import newcombe_independent, newcombe_paired

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "q221951-unpatched.toml"
Z_ALPHA = 1.959963984540054  # two-sided 95%
Z_BETA_80 = 0.8416212335729143  # 80% power


def outcomes(trials: int, seed: int, workers: int,
             waits: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Per-trial connected flags of policies A and B on trials 0..trials-1 of ``seed``."""
    loaded = load_scenario(SCENARIO)
    base = preset("connras-fix").replace(max_wait=60.0, attempts_per_dial=2)
    a = base.replace(name=f"connras-fix attempts_per_dial=2 initial_wait={waits[0]:g}s",
                     initial_wait=waits[0])
    b = base.replace(name=f"connras-fix attempts_per_dial=2 initial_wait={waits[1]:g}s",
                     initial_wait=waits[1])
    masks = [0, 0]
    with LocalExecutor(workers) as executor:
        jobs = [(loaded.scenario, (a, b), seed, lo, hi)
                for lo, hi in chunk_ranges(0, trials, executor.workers, 2)]
        for chunk in executor.map(run_chunk, jobs):
            for k in (0, 1):
                masks[k] |= chunk.connected[k] << chunk.start
    flags = []
    for mask in masks:
        raw = np.frombuffer(mask.to_bytes((trials + 7) // 8, "little"), dtype=np.uint8)
        flags.append(np.unpackbits(raw, bitorder="little")[:trials].astype(bool))
    return flags[0], flags[1], a.name, b.name


def exclusion_curve(a: np.ndarray, b: np.ndarray, paired: bool, grid: list[int],
                    replicates: int, rng: np.random.Generator) -> list[float]:
    """For each n in ``grid``: the share of bootstrap replicates whose 95% CI of pB - pA
    excludes 0 after n trials per policy.

    A replicate draws a sequence of trials with replacement from the pool (for the
    independent design, separate draws for A and B) and reads its prefixes, i.e. it keeps
    adding trials and checks at each n of the grid.
    """
    top = grid[-1]
    hits = np.zeros(len(grid))
    at = np.array(grid) - 1
    for _ in range(replicates):
        if paired:
            idx = rng.integers(0, len(a), top)
            ra, rb = a[idx], b[idx]
            both = np.cumsum(ra & rb)[at]
            b_only = np.cumsum(rb & ~ra)[at]
            a_only = np.cumsum(ra & ~rb)[at]
            for k, n in enumerate(grid):
                d = newcombe_paired(int(both[k]), int(b_only[k]), int(a_only[k]),
                                    n - int(both[k] + b_only[k] + a_only[k]))
                hits[k] += d.excludes_zero
        else:
            sa = np.cumsum(a[rng.integers(0, len(a), top)])[at]
            sb = np.cumsum(b[rng.integers(0, len(b), top)])[at]
            for k, n in enumerate(grid):
                hits[k] += newcombe_independent(int(sb[k]), n, int(sa[k]), n).excludes_zero
    return list(hits / replicates)


def first_reaching(grid: list[int], shares: list[float], level: float) -> int | None:
    """The smallest n whose share reaches ``level``, or None within the grid."""
    return next((n for n, share in zip(grid, shares, strict=True) if share >= level), None)


def _n(n: int | None) -> str:
    return f"{n:,}" if n is not None else "beyond the grid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20_000, help="pool size (default 20,000)")
    parser.add_argument("--seed", type=int, default=221951)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--waits", default="5,8", help="initial_wait of A and B in seconds "
                        "(default 5,8)")
    parser.add_argument("--replicates", type=int, default=400,
                        help="bootstrap runs per design in the empirical check (default 400)")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    wait_a, wait_b = (float(w) for w in args.waits.split(","))
    a, b, name_a, name_b = outcomes(args.trials, args.seed, args.workers, (wait_a, wait_b))
    simulated = time.perf_counter() - began
    n = args.trials
    pa, pb = a.mean(), b.mean()
    d = pb - pa
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    psi = (a_only + b_only) / n
    whole = newcombe_paired(int((a & b).sum()), b_only, a_only, n - int((a | b).sum()))
    print(f"scenario {SCENARIO.relative_to(ROOT)}, seed {args.seed}, {n:,} trials per policy "
          f"({simulated:.0f}s on {args.workers} worker(s))")
    print(f"  A  {name_a}: success {pa:.4%}")
    print(f"  B  {name_b}: success {pb:.4%}")
    print(f"  B - A = {100 * d:+.3f} points, paired 95% CI [{100 * whole.low:+.3f}, "
          f"{100 * whole.high:+.3f}]")
    print(f"  discordant pairs: B only {b_only:,}, A only {a_only:,} (psi = {psi:.4%})")
    if d <= 0:
        print("B is not better than A on this pool; nothing to size", file=sys.stderr)
        return 1

    var_ind = pa * (1 - pa) + pb * (1 - pb)
    var_pair = psi - d * d
    print("\nby formula, trials per policy to show B > A at 95% confidence (two-sided):")
    for label, z_beta in (("80% power", Z_BETA_80), ("50% power (CI excludes 0 half the "
                                                     "time)", 0.0)):
        k = (Z_ALPHA + z_beta) ** 2 / (d * d)
        print(f"  {label:<40} independent {math.ceil(k * var_ind):>7,}   paired "
              f"{math.ceil(k * var_pair):>6,}")
    print(f"  ratio independent / paired: {var_ind / var_pair:.1f}x  "
          f"(= (pA qA + pB qB) / (psi - d^2))")

    rng = np.random.default_rng(args.seed)
    top = 4 * math.ceil((Z_ALPHA + Z_BETA_80) ** 2 * var_ind / (d * d))
    grid = sorted({max(10, round(10 * 1.04**k)) for k in range(400)
                   if 10 * 1.04**k <= top})
    print(f"\nempirically: bootstrap from the pool, {args.replicates} runs per design that keep "
          "adding trials\nand check the 95% CI of B - A at each n (grid step 4%):")
    found = {}
    for label, paired in (("paired", True), ("independent", False)):
        shares = exclusion_curve(a, b, paired, grid, args.replicates, rng)
        n50 = first_reaching(grid, shares, 0.5)
        n80 = first_reaching(grid, shares, 0.8)
        found[label] = n80
        print(f"  {label:<12} CI excludes 0 in half of the runs from n = {_n(n50)}, "
              f"in 80% from n = {_n(n80)}")
    if found["paired"] and found["independent"]:
        print(f"  ratio independent / paired at 80%: "
              f"{found['independent'] / found['paired']:.1f}x")
    print(f"\n{time.perf_counter() - began:.0f}s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
