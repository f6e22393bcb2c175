"""Check that a scenario's traces are reproducible: in this process and in a fresh one.

``trace_digests`` runs trials with a recording tracer and hashes each trial's JSON-lines
trace; ``fresh_process_digests`` computes the same in a new interpreter (a different hash
seed, no warm caches, no shared state). Any difference is a determinism bug: the first
differing trial is reported so it can be replayed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from sim.report.render import jsonl
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from sim.world.trace import Recorder

__all__ = ["first_difference", "fresh_process_digests", "trace_digests"]


def trace_digests(path: Path, *, seed: int, trials: int, policy: str | None) -> list[str]:
    """sha256 of each trial's full trace (JSON lines), trial 0 first."""
    loaded = load_scenario(path, policy=policy)
    digests = []
    for trial in range(trials):
        recorder = Recorder()
        result = run_trial(loaded.scenario, loaded.policy, seed, trial, recorder)
        text = "\n".join(jsonl(recorder.events)) + "\n" + json.dumps(result.as_row())
        digests.append(hashlib.sha256(text.encode()).hexdigest())
    return digests


def fresh_process_digests(path: Path, *, seed: int, trials: int,
                          policy: str | None) -> list[str]:
    """``trace_digests`` computed by a new Python process."""
    argv = [sys.executable, "-m", "sim.check.determinism", str(path), str(seed), str(trials)]
    if policy:
        argv.append(policy)
    done = subprocess.run(argv, capture_output=True, text=True, check=True,
                          env=None)
    digests: list[str] = json.loads(done.stdout)
    return digests


def first_difference(a: list[str], b: list[str]) -> int | None:
    """The first trial whose digests differ, or None when all agree."""
    for trial, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return trial
    return None


if __name__ == "__main__":  # the fresh-process half of the check
    file, seed_text, trials_text, *rest = sys.argv[1:]
    print(json.dumps(trace_digests(Path(file), seed=int(seed_text), trials=int(trials_text),
                                   policy=rest[0] if rest else None)))
