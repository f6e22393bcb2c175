"""The fast path with faults against the event path, per trial, on a scenario with faults.

Run: ``python benchmarks/fault_path.py [FILE] [--trials N] [--rounds R] [--instructions]``
(default: ``scenarios/faults-link-flap.toml``, the shipped lone scenario with faults).
Nothing is asserted; figures are in benchmarks/README.md.

Rules:

1. Two workloads on the same trials of the scenario's policy and seed: **event** (every
   trial on the SimPy event path, ``run_event_trial``: what such a scenario cost before
   the fast path took faults) and **fast** (``run_trial``, which takes the fast path and
   falls back on a tie). Their rows are checked equal first, so the comparison is of the
   same results.
2. Timed: ``R`` interleaved rounds in one process (event, fast, event, ...), the median
   of the per-round ratios, so a load change hits both alike.
3. ``--instructions``: each workload also runs under callgrind on all the trials and on
   none (the difference is the trials alone), as ``benchmarks/instructions.py`` does.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.scenario.loader import load_scenario
from sim.trial.trial import run_event_trial, run_trial

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent / "scenarios" / "faults-link-flap.toml"
WORKLOAD = """
import sys
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_event_trial, run_trial
kind, file, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
loaded = load_scenario(file)
run = run_event_trial if kind == "event" else run_trial
for trial in range(trials):
    run(loaded.scenario, loaded.policy, loaded.scenario.seed, trial)
"""
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(kind: str, file: Path, trials: int) -> int:
    """Instructions of one workload under callgrind (rule 3's half)."""
    fixed_layout = (["setarch", platform.machine(), "-R"] if shutil.which("setarch") else [])
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [*fixed_layout, "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, "-c", WORKLOAD, kind, str(file), str(trials)],
            env=dict(os.environ, PYTHONHASHSEED="0"), text=True, capture_output=True,
            check=False)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"fault_path: the {kind} workload failed under valgrind:\n"
                 f"{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--trials", type=int, default=1000, help="trials per round")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under callgrind (needs valgrind)")
    args = parser.parse_args()
    loaded = load_scenario(args.file)
    scenario, policy, seed = loaded.scenario, loaded.policy, loaded.scenario.seed
    trials = range(args.trials)
    for trial in trials:  # rule 1
        if repr(run_event_trial(scenario, policy, seed, trial)) != repr(
                run_trial(scenario, policy, seed, trial)):
            sys.exit(f"fault_path: trial {trial}'s rows differ between the paths")
    ratios, event_times, fast_times = [], [], []
    for _ in range(args.rounds):  # rule 2
        began = time.perf_counter()
        for trial in trials:
            run_event_trial(scenario, policy, seed, trial)
        event = time.perf_counter() - began
        began = time.perf_counter()
        for trial in trials:
            run_trial(scenario, policy, seed, trial)
        fast = time.perf_counter() - began
        ratios.append(event / fast)
        event_times.append(event)
        fast_times.append(fast)
    per = 1e6 / args.trials
    print(f"{scenario.name} · policy {policy.name} · seed {seed} · {args.trials:,} trials x "
          f"{args.rounds} rounds · load {os.getloadavg()[0]:.2f}")
    print(f"event path {statistics.median(event_times) * per:.1f} us/trial, fast path "
          f"{statistics.median(fast_times) * per:.1f} us/trial: speed-up "
          f"{statistics.median(ratios):.2f}x (median of the rounds' ratios)")
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("fault_path: --instructions needs valgrind")
        count = {kind: (instructions(kind, args.file, args.trials)
                        - instructions(kind, args.file, 0)) / args.trials
                 for kind in ("event", "fast")}
        print(f"instructions/trial: event {count['event']:,.0f}, fast {count['fast']:,.0f}: "
              f"speed-up {count['event'] / count['fast']:.2f}x")


if __name__ == "__main__":
    main()
