"""Peak memory of a summary-only run, measured in a fresh process (``rassim bench``).

The child process loads the scenario, runs ``trials`` trials on one worker in-process
(``run_trials`` with no row sink: summaries only, as ``rassim run`` without ``--out``) and
reads its peak resident set size twice: at the first chunk boundary at or after a tenth of
the trials, and at the end. The peak is ``VmHWM`` of ``/proc/self/status`` where there is
one: Linux's ``ru_maxrss`` also counts the parent's memory at the moment it started the
child (it keeps the high-water mark across ``exec``), which would charge this process with
the bench's own timings. Elsewhere, ``ru_maxrss``.

A run whose memory does not grow with the trial count shows (almost) the same peak at both
points. One process holds everything, so its peak is the whole run's; with worker
processes, each would hold one chunk at a time, which this bounds.

Run as ``python -m sim.bench.memory FILE TRIALS SEED [POLICY]``; prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario

__all__ = ["MemoryReport", "measure_memory", "peak_rss_mb"]


@dataclass(frozen=True, slots=True)
class MemoryReport:
    """Peak RSS in MB (10^6 bytes) after start-up, after ``first_trials`` and after all."""

    startup_mb: float  # the scenario loaded, no trial run yet
    first_trials: int
    first_mb: float
    trials: int
    peak_mb: float

    @property
    def growth(self) -> float:
        """Relative growth of the peak from ``first_trials`` to ``trials``."""
        return (self.peak_mb - self.first_mb) / self.first_mb


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (see the module docstring)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6  # the value is in kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def measure_memory(file: Path, trials: int, *, seed: int,
                   policy: str | None = None) -> MemoryReport:
    """Run the child (module docstring) in a fresh interpreter and read its report."""
    command = [sys.executable, "-m", "sim.bench.memory", str(file), str(trials), str(seed)]
    if policy is not None:
        command.append(policy)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the memory measurement failed (exit {done.returncode}):\n"
                           f"{done.stderr.strip()}")
    values = json.loads(done.stdout)
    return MemoryReport(**values)


def _child(file: Path, trials: int, seed: int, policy: str | None) -> MemoryReport:
    loaded = load_scenario(file, policy=policy)
    startup = peak_rss_mb()
    first_at = max(1, trials // 10)
    done = 0
    first: tuple[int, float] | None = None

    def on_progress(count: int) -> None:
        nonlocal done, first
        done += count
        if first is None and done >= first_at:
            first = (done, peak_rss_mb())

    run_trials(loaded.scenario, loaded.policy, trials=trials, seed=seed, workers=1,
               on_progress=on_progress)
    assert first is not None
    return MemoryReport(startup_mb=startup, first_trials=first[0], first_mb=first[1],
                        trials=trials, peak_mb=peak_rss_mb())


if __name__ == "__main__":
    from dataclasses import asdict

    file, count, seed_text, *rest = sys.argv[1:]
    report = _child(Path(file), int(count), int(seed_text), rest[0] if rest else None)
    print(json.dumps(asdict(report)))
