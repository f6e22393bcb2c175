"""Teardown that cannot be skipped, and a daemon that dies mid-run (marker ``real``).

Every test drives a real ``rassim real`` process and then looks for what it could have left:
namespaces ``rs-<pid>-*``, directories ``rassim-real-<pid>-*``, processes whose command
line names such a directory (smbd, nmbd and their children), and zombie daemons. Nothing
here sleeps a fixed time: each step polls for a marker (the bed's directory, its
namespaces, the ``progress`` file the run writes after each trial) with a bound.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.real.bed import MARKER, sweep_stale
from tests.helpers.real import NEEDS_TESTBED

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "scenarios" / "real"
TMP = tempfile.gettempdir()
#: Bounds on every wait (seconds): generous, since the machine may be loaded.
START_BOUND, TRIAL_BOUND, GONE_BOUND = 60.0, 90.0, 15.0


pytestmark = NEEDS_TESTBED

_DAEMONS = ("smbd", "nmbd", "smbd-notifyd", "cleanupd", "smbd-cleanupd")


def _zombie_daemons() -> int:
    count = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
        if comm in _DAEMONS and rest.startswith("Z"):
            count += 1
    return count


def leftovers(pid: int) -> dict[str, list[str]]:
    """What a ``rassim real`` with process id ``pid`` left behind."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    marker = f"rassim-real-{pid}-"
    return {
        "netns": [line.split()[0] for line in listed.splitlines()
                  if line.startswith(f"rs-{pid}-")],
        "dirs": glob.glob(os.path.join(TMP, f"{marker}*")),
        "processes": [line for line in subprocess.run(
            ["pgrep", "-a", "-f", marker], capture_output=True, text=True).stdout.splitlines()
            if "pgrep" not in line],
    }


def _nothing(found: dict[str, list[str]]) -> bool:
    return not any(found.values())


def wait_for(what: str, predicate: Callable[[], object], bound: float) -> object:
    """Poll ``predicate`` every 50 ms until it is true; fail naming ``what`` after ``bound``."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {bound:g}s")


def progress(pid: int) -> int:
    """Trials the run of ``pid`` has finished, from its bed's progress marker."""
    for path in glob.glob(os.path.join(TMP, f"rassim-real-{pid}-*", "progress")):
        try:
            return int(Path(path).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0
    return 0


def start(tmp_path: Path, *extra: str, scenario: str = "q221951-patched") -> subprocess.Popen[str]:
    out = open(tmp_path / "stdout.txt", "w")  # noqa: SIM115 (closed by the process's end)
    err = open(tmp_path / "stderr.txt", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "real", str(REAL / f"{scenario}.toml"), "--trials",
         "200", *extra], stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=ROOT)
    out.close()
    err.close()
    return process


def finish(process: subprocess.Popen[str], bound: float = 120.0) -> int:
    try:
        return process.wait(timeout=bound)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"rassim real did not exit within {bound:g}s")


def test_kill_9_during_trials_leaves_nothing_behind(tmp_path: Path) -> None:
    zombies = _zombie_daemons()
    process = start(tmp_path)
    wait_for("a first trial", lambda: progress(process.pid) >= 1 or process.poll() is not None,
             START_BOUND + TRIAL_BOUND)
    assert process.poll() is None, (tmp_path / "stderr.txt").read_text()
    assert leftovers(process.pid)["netns"], "the bed was not up"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    # The guardian saw its pipe close: everything goes within a few seconds.
    found = wait_for("teardown after SIGKILL",
                     lambda: _nothing(leftovers(process.pid)) or None, GONE_BOUND)
    assert found
    assert _zombie_daemons() <= zombies


def test_sigterm_during_start_up_tears_down(tmp_path: Path) -> None:
    process = start(tmp_path)
    # The server namespace exists: the bed is being built (no trial can have finished).
    wait_for("the bed's namespaces", lambda: leftovers(process.pid)["netns"]
             or process.poll() is not None, START_BOUND)
    assert progress(process.pid) == 0
    process.send_signal(signal.SIGTERM)
    assert finish(process) == 130, (tmp_path / "stderr.txt").read_text()
    assert "interrupted" in (tmp_path / "stderr.txt").read_text()
    assert leftovers(process.pid) == {"netns": [], "dirs": [], "processes": []}


def test_sigterm_during_trials_tears_down_and_a_second_one_cannot_cut_it_short(
        tmp_path: Path) -> None:
    process = start(tmp_path)
    wait_for("a first trial", lambda: progress(process.pid) >= 1 or process.poll() is not None,
             START_BOUND + TRIAL_BOUND)
    process.send_signal(signal.SIGTERM)
    # A second SIGTERM a moment later, while it unwinds or tears down: whichever it hits,
    # nothing may be left (close() holds the signal; the guardian finishes what it must).
    time.sleep(0.1)  # spacing between the two signals, not a guess at progress
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    assert finish(process) == 130, (tmp_path / "stderr.txt").read_text()
    wait_for("teardown", lambda: _nothing(leftovers(process.pid)) or None, GONE_BOUND)


def test_a_daemon_that_dies_mid_run_is_reported_and_the_trials_so_far_kept(
        tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    process = start(tmp_path, "--out", str(out), scenario="share-missing")  # quick trials
    wait_for("two trials", lambda: progress(process.pid) >= 2 or process.poll() is not None,
             START_BOUND + 2 * TRIAL_BOUND)
    (server_ns,) = [ns for ns in leftovers(process.pid)["netns"] if ns.endswith("-srv")]
    pids = subprocess.run(["ip", "netns", "pids", server_ns], capture_output=True,
                          text=True).stdout.split()
    leaders = [int(p) for p in pids if Path(f"/proc/{p}/comm").read_text().strip() == "smbd"
               and os.getpgid(int(p)) == int(p)]
    assert len(leaders) == 1, pids
    os.killpg(leaders[0], signal.SIGKILL)  # smbd and all its children, at once
    assert finish(process) == 1, (tmp_path / "stderr.txt").read_text()
    stdout = (tmp_path / "stdout.txt").read_text()
    assert "STOPPED EARLY" in stdout and "smbd exited (signal 9)" in stdout, stdout
    assert "--- smbd ---" in stdout  # its log's last lines
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 2 and all(row["run_complete"] == "False" for row in rows)
    # The trials before the kill are kept with their outcomes; at most the trial during
    # which smbd died is marked and left out of the pairing.
    assert sum(1 for row in rows if row["error"].startswith("a daemon died")) <= 1
    assert sum(1 for row in rows if not row["error"]) >= 2
    assert leftovers(process.pid) == {"netns": [], "dirs": [], "processes": []}


def test_stale_beds_of_dead_runs_are_swept_and_nothing_else(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid now names no process: a "run" that died without teardown
    dead, alive = gone.pid, os.getpid()
    names = {"stale": f"rs-{dead}-1-srv", "live": f"rs-{alive}-99-srv"}
    stale_dir = Path(TMP) / f"rassim-real-{dead}-1-feedbeef"
    unmarked = Path(TMP) / f"rassim-real-{dead}-2-notours"
    try:
        for name in names.values():
            subprocess.run(["ip", "netns", "add", name], check=True)
        stale_dir.mkdir()
        unmarked.mkdir()
        (stale_dir / MARKER).write_text(json.dumps({"pid": dead, "guardian": 0,
                                                    "netns": [names["stale"]],
                                                    "user": "nobody", "made_user": False}))
        # A "daemon" left running inside the stale namespace.
        daemon = subprocess.Popen(["ip", "netns", "exec", names["stale"], "sleep", "300"],
                                  start_new_session=True)
        wait_for("the daemon inside", lambda: subprocess.run(
            ["ip", "netns", "pids", names["stale"]], capture_output=True,
            text=True).stdout.strip(), GONE_BOUND)
        removed = sweep_stale()
        assert names["stale"] in removed and str(stale_dir) in removed
        assert daemon.wait(timeout=GONE_BOUND) in (-signal.SIGTERM, -signal.SIGKILL)
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert names["stale"] not in listed and not stale_dir.exists()
        assert names["live"] in listed  # its owner is alive: never touched
        assert unmarked.exists()  # no marker: not known to be ours, never touched
    finally:
        for name in names.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        for path in (stale_dir, unmarked):
            if path.exists():
                path.rmdir() if not any(path.iterdir()) else None
        if stale_dir.exists():
            (stale_dir / MARKER).unlink(missing_ok=True)
            stale_dir.rmdir()
