"""A run killed outright leaves nothing running (issue 16, class 6).

Workers and the fork server ignore SIGINT and SIGTERM by design (``sim.run.worker_signals``),
so after a ``kill -9`` of the run (the OOM killer, a CI job's hard time-out) they used to
stay for ever. This kills a real multi-worker ``rassim run`` and waits, bounded, for every
process it started to exit on its own. Only the process ids this test started are touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the process tree from /proc")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # ppid is the 2nd field after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_kill_9_of_a_multi_worker_run_leaves_nothing_running(tmp_path: Path) -> None:
    run = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(UNPATCHED), "--trials", "5000000",
         "--workers", "2", "--json"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        # The fork server, the resource tracker and two workers under it.
        while len(started) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
            started |= _descendants(run.pid)
        assert len(started) >= 4, f"the pool did not start: {started}"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = sorted(pid for pid in started if _alive(pid))
        assert not left, f"still running 20 s after kill -9 of the run: {left}"
    finally:
        for pid in [run.pid, *started]:  # only what this test started
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
