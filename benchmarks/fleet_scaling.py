"""How a fleet trial's cost grows with the number of senders, up to 100.

Run: ``python benchmarks/fleet_scaling.py`` (about a minute on one core; ``--help``).

A fleet trial runs every sender in one SimPy environment, so its cost should grow with
the work the senders do, and no faster: no sender may make another's steps dearer (a
scan over all senders per event would show up here as quadratic growth). Two series, on
the retry-storm scenario's world and policy (``scenarios/fleet-retry-storm.toml``):

* **independent**: senders share nothing (each has its own ports and line), so each
  sender does the same work whatever the fleet's size. Linear cost means a flat cost per
  sender; the ratio column is the cost per sender against the one-sender fleet.
* **contended**: senders share one pool of ``senders / 5`` ports and the line, as in the
  storm. Each sender then does more steps in bigger fleets (busy signals and waits), so
  the cost per sender may grow by that much; the cost per *step* (a dial, map attempt,
  sleep or hang-up that the world performs) shows whether steps got dearer.

The ratio column is the cost per sender against the one-sender fleet of the same series.

Each row times the same trials (seed 1, trials 0..n-1) in this process, one worker, after
a warm-up; the figures are wall-clock and vary with the machine, the ratios much less.
Nothing here is asserted by the test suite (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.scenario.loader import load_scenario
from sim.trial.results import TrialResult
from sim.trial.trial import run_trial

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "fleet-retry-storm.toml"
SIZES = (1, 2, 5, 10, 20, 50, 100)


def _steps(row: TrialResult) -> int:
    # Effects performed: every dial and map attempt, plus roughly one sleep per failure
    # and a hang-up per connection; the same count for every series, so ratios are fair.
    return row.dials + row.attempts + len(row.codes) + row.senders_connected


def measure(senders: int, contended: bool, trials: int) -> dict[str, float]:
    loaded = load_scenario(SCENARIO)
    fleet = loaded.scenario.fleet
    assert fleet is not None
    fleet = fleet.model_copy(update={"senders": senders, "share_ports": contended,
                                     "share_link": contended})
    ras = loaded.scenario.ras.model_copy(update={"ports": max(1, senders // 5)})
    scenario = loaded.scenario.model_copy(update={"fleet": fleet, "ras": ras})
    run_trial(scenario, loaded.policy, 1, 0)  # warm-up: imports, caches
    began = time.perf_counter()
    rows = [run_trial(scenario, loaded.policy, 1, i) for i in range(trials)]
    elapsed = time.perf_counter() - began
    steps = sum(_steps(r) for r in rows)
    return {"per_trial_ms": 1e3 * elapsed / trials,
            "per_sender_ms": 1e3 * elapsed / (trials * senders),
            "steps_per_trial": steps / trials,
            "per_step_us": 1e6 * elapsed / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=4000.0,
                        help="sender-trials per row (default 4000: 40 trials of 100 senders)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    for contended in (False, True):
        print("\ncontended: shared ports (senders / 5) and line" if contended
              else "\nindependent: nothing shared")
        print(f"{'senders':>7} {'trials':>6} {'ms/trial':>9} {'ms/sender':>9} "
              f"{'steps/trial':>11} {'us/step':>8} {'ratio':>6}")
        first = None
        for n in args.sizes:
            trials = max(10, int(args.budget // n))
            m = measure(n, contended, trials)
            unit = m["per_sender_ms"]
            first = first or unit
            print(f"{n:>7} {trials:>6} {m['per_trial_ms']:>9.2f} {m['per_sender_ms']:>9.3f} "
                  f"{m['steps_per_trial']:>11.1f} {m['per_step_us']:>8.1f} {unit / first:>6.2f}")
    print("\nratio: cost per sender against the first row; ~1.0 all the way down means the "
          "cost of a trial grows linearly with the fleet.")


if __name__ == "__main__":
    main()
