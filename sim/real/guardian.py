"""The testbed's guardian: a tiny process that tears the bed down whatever happens to its parent.

``rassim real`` starts it FIRST, before it creates anything (``sim.real.bed``), as
``python guardian.py PARENT_PID`` in its own session, with one pipe from the parent on its
standard input and one back on its standard output. It imports only the standard library
(it runs as a script, not through the ``sim`` package) so it starts in tens of
milliseconds.

Rules:

1. The parent declares each thing BEFORE it creates it, one JSON object a line:
   ``{"own": "netns" | "dir" | "user", "name": ...}``. Declaring first means there is no
   instant at which something exists that the guardian does not know of; tearing down a
   thing that was never made is a no-op.
2. The daemons are started BY the guardian (``{"spawn": NAME, "argv": [...], "log":
   PATH}``, answered with ``{"pid": N}``), each in its own session, so that they are its
   children: it reaps them, and it is a child subreaper, so smbd's own children, orphaned
   when smbd dies, are reaped here too. (The machine's PID 1 does not reap: a daemon
   orphaned to it would stay a zombie.) ``{"status": true}`` answers each daemon's exit
   status (null while it runs).
3. Teardown happens when the parent asks (``{"teardown": true}``, answered with
   ``{"errors": [...]}``), when its standard input reaches end of file (the parent died,
   by SIGKILL too: the kernel closes its end of the pipe), on SIGTERM (the parent's death
   signal, ``PR_SET_PDEATHSIG``) or when the parent's pid disappears. Teardown: SIGTERM to
   each daemon's process group, then SIGKILL after a grace; every process still inside an
   owned namespace is killed (``ip netns pids``); the namespaces are deleted, the account
   removed, the directory deleted. Each step is idempotent and never raises; what failed is
   reported.
4. After teardown on the parent's death the guardian exits; after a requested teardown it
   waits for end of file, so the parent can close the pipe and reap it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

__all__ = ["Guardian", "main"]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_GRACE = 3.0


def _alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _quiet(*argv: str) -> str | None:
    """Run a tool; the error text if it failed, else None."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        return f"{' '.join(argv)}: {error}"
    if done.returncode != 0:
        return f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}"
    return None


def netns_pids(name: str) -> list[int]:
    """The processes inside namespace ``name`` (none when it does not exist)."""
    if not os.path.exists(f"/run/netns/{name}"):
        return []
    try:
        out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                             timeout=20, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [int(word) for word in out.split() if word.isdigit()]


def kill_inside(name: str, reap: Any = None) -> None:
    """SIGTERM then SIGKILL every process in namespace ``name``, reaping with ``reap``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [pid for pid in netns_pids(name) if _alive(pid)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + _GRACE
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            if reap is not None:
                reap()
            time.sleep(0.05)


def remove(netns: list[str], dirs: list[str], users: list[str], reap: Any = None) -> list[str]:
    """Rule 3 past the daemons: kill what is inside, delete namespaces, users, dirs."""
    errors: list[str] = []
    for name in netns:
        kill_inside(name, reap)
        if os.path.exists(f"/run/netns/{name}"):
            error = _quiet("ip", "netns", "del", name)
            if error:
                errors.append(error)
    for user in users:
        if subprocess.run(["id", user], capture_output=True).returncode == 0:
            error = _quiet(_tool("userdel"), user)
            if error:
                errors.append(error)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
        if os.path.exists(path):
            errors.append(f"{path}: could not be removed")
    return errors


class Guardian:
    """The guardian's state: what it owns and the daemons it started (rules 1-3)."""

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.owned: dict[str, list[str]] = {"netns": [], "dir": [], "user": []}
        self.daemons: dict[str, subprocess.Popen[bytes]] = {}
        self.status: dict[str, int | None] = {}
        self.stopping = False

    def reap(self) -> None:
        """Collect exited children: the daemons' statuses, and orphans (subreaper)."""
        for name, process in self.daemons.items():
            if self.status.get(name) is None:
                self.status[name] = process.poll()
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass

    def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if "own" in message:
            self.owned[str(message["own"])].append(str(message["name"]))
            return None
        if "spawn" in message:
            name = str(message["spawn"])
            with open(str(message["log"]), "wb") as log:
                process = subprocess.Popen([str(a) for a in message["argv"]], stdout=log,
                                           stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            self.daemons[name] = process
            self.status[name] = None
            return {"pid": process.pid}
        if "status" in message:
            self.reap()
            return {"status": self.status}
        if "teardown" in message:
            return {"errors": self.teardown()}
        return {"error": f"unknown request {sorted(message)}"}

    def teardown(self) -> list[str]:
        """Rule 3. Idempotent: a second call finds nothing left to do."""
        errors: list[str] = []
        for name, process in self.daemons.items():
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, sig)
                deadline = time.monotonic() + _GRACE
                while process.poll() is None and time.monotonic() < deadline:
                    self.reap()
                    time.sleep(0.02)
                if process.poll() is not None:
                    break
            else:
                errors.append(f"{name} (pid {process.pid}) did not exit")
            with contextlib.suppress(OSError):  # the group may outlive its leader
                os.killpg(process.pid, signal.SIGKILL)
            self.status[name] = process.poll()
        self.daemons.clear()
        errors += remove(self.owned["netns"], self.owned["dir"], self.owned["user"], self.reap)
        self.reap()
        for kind in self.owned:
            self.owned[kind] = []
        return errors


def main(argv: list[str]) -> int:
    parent = int(argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    guardian = Guardian(parent)

    def parent_gone(*_: object) -> None:
        guardian.stopping = True

    # Handlers, not SIG_IGN: a handled signal is reset to its default in the daemons at exec.
    signal.signal(signal.SIGTERM, parent_gone)
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGHUP, parent_gone)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    stdin, buffered = sys.stdin.fileno(), b""
    print(json.dumps({"ready": os.getpid()}), flush=True)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        guardian.stopping = True
    while not guardian.stopping:
        try:
            ready, _, _ = select.select([stdin], [], [], 0.2)
        except InterruptedError:  # pragma: no cover - PEP 475 retries select
            continue
        guardian.reap()
        if not _alive(parent):
            break
        if not ready:
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:
            break  # end of file: the parent is gone (rule 3)
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            answer = guardian.handle(json.loads(line))
            if answer is not None:
                with contextlib.suppress(BrokenPipeError):
                    print(json.dumps(answer), flush=True)
    guardian.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
