"""Would compiled code meet issue 7's per-event target? Compile the hot path with mypyc and see.

Run: ``python benchmarks/compiled_probe.py`` (about 2 minutes: one to compile, then
``rassim bench`` twice; ``--help``). Needs the dev extra (mypy, which ships mypyc) and a C
compiler; nothing is installed or left behind (the compiled copy lives in a temporary
folder).

The harness spends about four times as much per SimPy event as a bare SimPy loop, against
a target of two (README, Performance). This probe asks whether that gap is the Python
interpreter running rassim's own code, which compiling would close, or the traffic between
rassim's code and SimPy's, which it would not. It copies the package, compiles the modules
every trial runs (``HOT``) to C extensions with mypyc, and runs ``rassim bench`` on the
pure and on the compiled copy. Each bench is one self-contained run whose ratio compares
figures taken side by side (``sim.bench.bench`` rule 3); SimPy stays pure Python in both, as it
is in the bare loop.

It also checks that the compiled copy gives the same results: the ``--json`` summaries of
``rassim run`` on the canonical scenarios must be equal, apart from the elapsed time.

Measured 2026-11-24 on the ``python`` machine kind (CPython 3.11.7, mypy 2.4.1, 5,000
trials, 3 rounds): harness/bare per event 4.14 pure, 3.72 compiled; without the fixed
per-trial work 3.44 and 3.22. Compiling rassim's hot path takes 12% off a trial's time
(compiled/pure 0.88), not the half that a ratio of 2.0 needs; results were the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The modules a trial runs. ``sim/draws/distributions.py`` is not among them: mypyc 2.4 emits C
#: that does not compile for its pydantic models (``CPyModule_pydantic___main``
#: undeclared), so ``ppf`` stays interpreted.
HOT = (
    "sim/draws/pcg.py", "sim/draws/streams.py", "sim/world/race.py", "sim/world/link.py",
    "sim/world/netbt.py", "sim/world/smb.py", "sim/world/ras.py", "sim/world/ports.py",
    "sim/world/faults.py", "sim/world/driver.py", "sim/world/world.py", "sim/world/prepared.py",
    "sim/trial/trial.py", "sim/world/trace.py", "sim/trial/results.py", "sim/stats/summary.py",
    "sim/stats/fleet_summary.py", "sim/run/runner.py", "sim/world/board.py", "sim/trial/setup.py",
    "sim/stats/intervals.py", "sender/procedure.py", "sender/effects.py", "sender/budget.py",
)
CHECKED = ("q221951-unpatched.toml", "q221951-patched.toml", "fleet-retry-storm.toml")


def _run(argv: list[str], where: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(where))
    return subprocess.run(argv, cwd=where, env=env, text=True, capture_output=True,
                          check=False, **kwargs)  # type: ignore[call-overload]


def _copy(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc")
    for folder in ("sim", "sender", "scenarios"):
        shutil.copytree(ROOT / folder, into / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")


def _compile(copy: Path) -> None:
    done = _run([sys.executable, "-m", "mypyc", *HOT], copy)
    if done.returncode != 0:
        sys.exit("compiled_probe: mypyc failed (is a C compiler installed?):\n"
                 + (done.stdout + done.stderr)[-3000:])


def _bench(where: Path, trials: int, rounds: int) -> dict[str, float]:
    done = _run([sys.executable, "-m", "sim", "bench", "--json", "--trials", str(trials),
                 "--rounds", str(rounds), "--memory-trials", "0"], where)
    if done.returncode != 0:
        sys.exit(f"compiled_probe: rassim bench failed in {where}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _summary(where: Path, scenario: str) -> str:
    done = _run([sys.executable, "-m", "sim", "run", f"scenarios/{scenario}", "--trials",
                 "2000", "--workers", "1", "--json"], where)
    if done.returncode != 0:
        sys.exit(f"compiled_probe: rassim run failed in {where}:\n{done.stderr[-3000:]}")
    body = json.loads(done.stdout)
    body.pop("elapsed", None)
    return json.dumps(body, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5000, help="trials per timed pass")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per bench")
    args = parser.parse_args()
    try:
        import mypyc  # noqa: F401
    except ImportError:
        sys.exit("compiled_probe: needs mypyc: pip install -e '.[dev]'")
    with tempfile.TemporaryDirectory(prefix="rassim-mypyc-") as folder:
        copy = Path(folder)
        _copy(copy)
        print(f"compiling {len(HOT)} modules with mypyc ...", flush=True)
        _compile(copy)
        same = all(_summary(ROOT, name) == _summary(copy, name) for name in CHECKED)
        pure = _bench(ROOT, args.trials, args.rounds)
        compiled = _bench(copy, args.trials, args.rounds)
    print(f"\n{args.trials:,} trials per timed pass, fastest of {args.rounds} rounds")
    print(f"{'':10} {'us/trial':>9} {'us/event':>9} {'bare us/event':>14} {'ratio':>6} "
          f"{'ratio without fixed work':>25}")
    for name, report in (("pure", pure), ("compiled", compiled)):
        print(f"{name:10} {1e6 / report['trials_per_s']:9.1f} {report['us_per_event']:9.2f} "
              f"{report['bare_us_per_event']:14.2f} {report['ratio']:6.2f} "
              f"{report['events_ratio']:25.2f}")
    print(f"\ncompiled / pure time per trial: "
          f"{pure['trials_per_s'] / compiled['trials_per_s']:.2f}")
    print("same results, pure and compiled (" + ", ".join(CHECKED) + "): "
          + ("yes" if same else "NO"))


if __name__ == "__main__":
    main()
