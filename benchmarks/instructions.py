"""``rassim bench``'s workloads counted in CPU instructions: work that machine load cannot move.

Run: ``python benchmarks/instructions.py`` (about 2 minutes; ``--help``). Needs valgrind
(``callgrind``); nothing is asserted anywhere.

Timings on a shared machine move by a third from day to day, and the harness/bare ratio by
a tenth between runs (README, Performance). Instructions executed do not depend on what
else the machine is doing: the same code, inputs and interpreter give the same count
(``PYTHONHASHSEED`` is fixed so string hashing is too, and ``setarch -R`` turns off address
randomisation, without which one run in a few counted 2% more). What remains is small:
four runs gave harness/bare 3.07 to 3.13, where timed runs of one day gave 4.14 to 4.35
and another day's 4.93. That makes this the figure to
compare before and after an optimization. It is not the issue's ratio, which is one of
times: the harness runs fewer instructions per nanosecond than the bare loop (it touches
more memory per event), so its time ratio is higher than its instruction ratio.

Rules:

1. Five workloads, the same as ``benchmarks/per_trial.py``'s and ``rassim bench``'s timed
   kinds, on the same trials: **harness** (``run_trials`` on one worker, in-process),
   **peer** (the hand-written SimPy model, ``benchmarks/peer_simpy.py``, canonical scenario
   only), **floor** (the closed-form floor, ``benchmarks/floor.py``), **bare** (the bare
   SimPy loop with each trial's event count, ``sim.bench.bench.bare_trials``) and **fixed**
   (``sim.bench.bench.fixed_work``: set-up and summary, no event).
2. Each workload runs twice under callgrind, on all the trials and on none. The difference
   is the instructions of the trials alone: interpreter start-up and imports cancel out.
3. The event counts and the harness's rows, which ``bare`` and ``fixed`` need, are made
   beforehand in this process (not under valgrind) and handed over in a file.

Figures measured on the ``python`` machine kind are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.bench.bench import CANONICAL, count_events
from sim.scenario.loader import load_scenario
from sim.trial.results import TrialResult

#: Run under valgrind: ``python -c WORKLOAD <kind> <inputs file> <trials>``.
WORKLOAD = """
import pickle, sys
from sim.scenario.loader import load_scenario
from sim.bench.bench import bare_trials, fixed_work
from sim.run.executors import LocalExecutor
from sim.run.runner import run_trials

kind, inputs, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(inputs, "rb") as f:
    file, seed, counts, rows = pickle.load(f)
loaded = load_scenario(file)
if kind == "harness":
    if trials:
        run_trials(loaded.scenario, loaded.policy, trials=trials, seed=seed,
                   executor=LocalExecutor(1))
elif kind == "peer":
    from sim.bench.peer import load_peer, peer_trials
    peer_trials(load_peer(), seed, trials)
elif kind == "floor":
    sys.path.insert(0, sys.argv[4])
    from floor import floor_trials
    floor_trials(loaded.scenario, seed, trials)
elif kind == "bare":
    bare_trials(counts[:trials])
else:
    fixed_work(loaded.scenario, loaded.policy, seed, rows[:trials])
"""

KINDS = ("harness", "peer", "floor", "bare", "fixed")
HERE = Path(__file__).resolve().parent
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(kind: str, inputs: Path, trials: int) -> int:
    """Instructions of one workload run under callgrind (rule 2's half)."""
    fixed_layout = (["setarch", platform.machine(), "-R"] if shutil.which("setarch") else [])
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [*fixed_layout, "valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, "-c", WORKLOAD, kind, str(inputs), str(trials), str(HERE)],
            env=dict(os.environ, PYTHONHASHSEED="0"), text=True, capture_output=True,
            check=False)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"instructions: the {kind} workload failed under valgrind:\n"
                 f"{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", default=CANONICAL,
                        help="scenario file (default: the canonical q221951-unpatched.toml)")
    parser.add_argument("--trials", type=int, default=2000, help="trials per workload")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("instructions: needs valgrind (Debian: apt install valgrind)")
    loaded = load_scenario(args.file)
    seed = loaded.scenario.seed
    rows: list[TrialResult] = []
    counts = count_events(loaded.scenario, loaded.policy, seed, args.trials, rows)
    events = sum(counts)
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "inputs.pickle"
        inputs.write_bytes(pickle.dumps((str(args.file), seed, counts, rows)))
        per_trial = {}
        for kind in KINDS:
            print(f"{kind}: {args.trials:,} trials and none, under callgrind ...", flush=True)
            per_trial[kind] = (instructions(kind, inputs, args.trials)
                               - instructions(kind, inputs, 0)) / args.trials
    per_event = {kind: per_trial[kind] * args.trials / events for kind in KINDS}
    print(f"\n{loaded.scenario.name} · policy {loaded.policy.name} · seed {seed} · "
          f"{args.trials:,} trials · {events / args.trials:.2f} events/trial")
    print(f"{'':28} {'instructions/trial':>19} {'per event':>10}")
    for kind, label in (("harness", "harness, 1 worker"), ("peer", "hand-written SimPy"),
                        ("floor", "closed-form floor"),
                        ("bare", "bare SimPy, same events"), ("fixed", "set-up + summary only")):
        shown = f"{per_event[kind]:10,.0f}" if kind in ("harness", "bare") else ""
        print(f"{label:28} {per_trial[kind]:19,.0f} {shown}")
    print(f"\nrassim/hand-written SimPy per trial: "
          f"{per_trial['harness'] / per_trial['peer']:.3f} (target <= 0.5); rassim/floor "
          f"{per_trial['harness'] / per_trial['floor']:.2f}; rassim/bare "
          f"{per_trial['harness'] / per_trial['bare']:.2f}")
    events_only = (per_trial["harness"] - per_trial["fixed"]) * args.trials / events
    print(f"context: harness/bare per event: {per_event['harness'] / per_event['bare']:.2f}; "
          f"without the fixed work: {events_only / per_event['bare']:.2f} (events counted on "
          "the event path)")


if __name__ == "__main__":
    main()
