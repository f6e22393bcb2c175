"""A fleet trial on the event path: this checkout against an older one, in time and instructions.

Run (about 3 minutes; ``--help``)::

    git archive 1d1de56 sim sender | (mkdir -p /tmp/base && tar -x -C /tmp/base)
    python benchmarks/fleet_event_path.py --base /tmp/base

Fleets stay on the SimPy event path (issue 18, item 5), so what an optimization of that path
buys is measured here: the same trials of a fleet scenario (``scenarios/fleet-retry-storm.toml``
by default, its seed, trials 0..n-1) run by the package in this checkout (*new*) and by the
package found under ``--base`` (*base*: a copy of ``sim`` and ``sender`` from an older commit).
Each side runs in its own fresh process, so one run compares both:

1. **Rows**: both sides print a digest of their rows, which must be equal (the change may not
   move one bit of output).
2. **Time**: ``--rounds`` interleaved rounds (base, new, base, new, ...), each a fresh process
   timing ``--trials`` trials after a warm-up; the median of the per-round ratios is the
   figure, as load moves both sides of a round alike.
3. **Instructions** (with ``--instructions``, needs valgrind): each side under callgrind on
   ``--trials`` trials and on none; the difference per trial, so start-up and imports cancel
   out (``benchmarks/instructions.py`` explains the fixed hash seed and address layout).

Nothing here is asserted by the test suite (benchmarks/README.md).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent / "scenarios" / "fleet-retry-storm.toml"

#: Run in a fresh process: ``python -c WORKLOAD <scenario> <trials> <mode>``; mode ``time``
#: prints microseconds per trial, ``rows`` a digest of the rows, ``count`` nothing.
WORKLOAD = """
import hashlib, sys, time
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
file, trials, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
loaded = load_scenario(file)
scenario, policy, seed = loaded.scenario, loaded.policy, loaded.scenario.seed
if mode == "rows":
    digest = hashlib.sha256()
    for i in range(trials):
        digest.update(repr(run_trial(scenario, policy, seed, i)).encode())
    print(digest.hexdigest())
elif mode == "time":
    run_trial(scenario, policy, seed, trials)  # warm-up: imports, caches
    began = time.perf_counter()
    for i in range(trials):
        run_trial(scenario, policy, seed, i)
    print(1e6 * (time.perf_counter() - began) / trials)
else:
    for i in range(trials):
        run_trial(scenario, policy, seed, i)
"""
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _env(base: Path | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    if base is not None:
        env["PYTHONPATH"] = str(base)  # ahead of the editable install's finder
    return env


def _run(base: Path | None, args: list[str], prefix: list[str] | None = None) -> str:
    # From a neutral folder: the current one may hold this checkout's ``sim``, which would
    # come first on sys.path for both sides.
    done = subprocess.run([*(prefix or []), sys.executable, "-c", WORKLOAD, *args],
                          env=_env(base), cwd=tempfile.gettempdir(), text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"fleet_event_path: a workload failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip() if prefix is None else done.stderr


def instructions(base: Path | None, file: Path, trials: int) -> float:
    """Instructions per trial of one side under callgrind (all trials minus none)."""
    fixed_layout = (["setarch", platform.machine(), "-R"] if shutil.which("setarch") else [])
    counts = []
    for n in (trials, 0):
        with tempfile.TemporaryDirectory() as folder:
            prefix = [*fixed_layout, "valgrind", "--tool=callgrind",
                      f"--callgrind-out-file={folder}/out"]
            found = _REFS.search(_run(base, [str(file), str(n), "count"], prefix))
        if found is None:
            sys.exit("fleet_event_path: callgrind printed no instruction count")
        counts.append(int(found.group(1).replace(",", "")))
    return (counts[0] - counts[1]) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT,
                        help="fleet scenario (default: fleet-retry-storm.toml)")
    parser.add_argument("--base", type=Path, required=True,
                        help="folder holding an older commit's sim/ and sender/")
    parser.add_argument("--trials", type=int, default=200, help="trials per timed pass")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under callgrind (needs valgrind)")
    args = parser.parse_args()
    file = args.file.resolve()
    base = args.base.resolve()
    rows = {side: _run(path, [str(file), str(args.trials), "rows"])
            for side, path in (("base", base), ("new", None))}
    print(f"rows of {args.trials} trials: base {rows['base'][:16]}, new {rows['new'][:16]}: "
          + ("equal" if rows["base"] == rows["new"] else "DIFFERENT"))
    if rows["base"] != rows["new"]:
        sys.exit(1)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    times: dict[str, list[float]] = {"base": [], "new": []}
    for _ in range(args.rounds):
        for side, path in (("base", base), ("new", None)):
            times[side].append(float(_run(path, [str(file), str(args.trials), "time"])))
    ratios = [b / n for b, n in zip(times["base"], times["new"], strict=True)]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"time per trial, median of {args.rounds} interleaved rounds of {args.trials}: "
          f"base {statistics.median(times['base']):,.0f} us, new "
          f"{statistics.median(times['new']):,.0f} us; base/new {statistics.median(ratios):.3f} "
          f"(rounds {min(ratios):.3f} to {max(ratios):.3f})")
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("fleet_event_path: --instructions needs valgrind")
        count = {side: instructions(path, file, args.trials)
                 for side, path in (("base", base), ("new", None))}
        print(f"instructions per trial: base {count['base']:,.0f}, new {count['new']:,.0f}; "
              f"base/new {count['base'] / count['new']:.3f}")


if __name__ == "__main__":
    main()
