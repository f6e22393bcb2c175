"""Real I/O: perform the sender's effects on a Windows machine, in real time.

This is the one module in ``sender`` allowed to touch the clock, sleep and spawn processes
(the purity test exempts it; nothing else in ``sender`` imports it). Rules:

* ``Dial``          -> ``rasdial ENTRY [USER *]``; its exit status is the RAS code, whatever
  the language of its messages. With a password, ``*`` makes rasdial prompt for it and the
  password is written to its standard input: it never appears on a command line.
* ``AddConnection`` -> ``WNetAddConnection2W`` called in this process (``mpr.dll`` through
  ctypes): its return value is the Win32 code, so no localised ``net use`` output is ever
  read, and the password is passed in memory, never to a child process.
* ``HangUp``        -> ``rasdial ENTRY /disconnect``.
* ``Sleep``         -> ``time.sleep``.

Usage (on the sending machine)::

    python -m sender.realio "BOSTON #INTER" \\\\DSSMS\\SMS_SITE --user DOMAIN\\smsaddr \\
        --policy connras-fix

The password, if needed, comes from the ``RASSIM_PASSWORD`` environment variable so that it
never appears in a process list or a shell history.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sender.driver import run_sync
from sender.effects import AddConnection, Dial, Effect, Failed, HangUp, Result, Sleep, Succeeded
from sender.policy import preset
from sender.procedure import Target, connect

__all__ = ["CommandPerformer", "main"]

#: Runs a command with optional standard input; returns the finished process.
Runner = Callable[[Sequence[str], "str | None"], "subprocess.CompletedProcess[str]"]
#: WNetAddConnection2 semantics: (remote, user or "", password or None) -> Win32 code.
Mapper = Callable[[str, str, "str | None"], int]


def _run(argv: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                          check=False)


def _wnet_add_connection(remote: str, user: str, password: str | None) -> int:
    """``WNetAddConnection2W`` with a device-less NETRESOURCE: the Win32 code it returns."""
    if sys.platform != "win32":  # pragma: no cover - exercised on Windows only
        raise OSError("WNetAddConnection2W exists only on Windows")
    # why: Windows only: ctypes.windll exists there alone
    import ctypes  # pragma: no cover
    from ctypes import wintypes  # pragma: no cover

    class NetResource(ctypes.Structure):  # pragma: no cover
        _fields_ = [("dwScope", wintypes.DWORD), ("dwType", wintypes.DWORD),
                    ("dwDisplayType", wintypes.DWORD), ("dwUsage", wintypes.DWORD),
                    ("lpLocalName", wintypes.LPWSTR), ("lpRemoteName", wintypes.LPWSTR),
                    ("lpComment", wintypes.LPWSTR), ("lpProvider", wintypes.LPWSTR)]

    resource = NetResource(dwType=1, lpRemoteName=remote)  # pragma: no cover (RESOURCETYPE_DISK)
    mpr = ctypes.WinDLL("mpr")  # pragma: no cover
    return int(mpr.WNetAddConnection2W(ctypes.byref(resource), password,  # pragma: no cover
                                       user or None, 0))


@dataclass
class CommandPerformer:
    """Performs effects with ``rasdial`` and ``net use``; ``at`` is seconds since creation.

    ``run``, ``add_connection``, ``clock`` and ``sleep`` are injectable so the mapping can
    be tested on any platform.
    """

    entry: str
    user: str = ""
    password: str | None = None
    run: Runner = _run
    add_connection: Mapper = _wnet_add_connection
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _origin: float = field(init=False)

    def __post_init__(self) -> None:
        self._origin = self.clock()

    def _now(self) -> float:
        return self.clock() - self._origin

    def __call__(self, effect: Effect) -> Result:
        if isinstance(effect, Sleep):
            self.sleep(effect.seconds)
            return Succeeded(self._now())
        if isinstance(effect, Dial):
            argv = ["rasdial", effect.entry]
            stdin = None
            if self.user:
                # "*": rasdial prompts for the password, which goes to its standard input.
                argv += [self.user, "*"]
                stdin = f"{self.password or ''}\n"
            code = self.run(argv, stdin).returncode
            return Succeeded(self._now()) if code == 0 else Failed(code, self._now())
        if isinstance(effect, AddConnection):
            code = self.add_connection(effect.remote, effect.user, self.password)
            return Succeeded(self._now()) if code == 0 else Failed(code, self._now())
        if isinstance(effect, HangUp):
            self.run(["rasdial", self.entry, "/disconnect"], None)
            return Succeeded(self._now())
        raise TypeError(f"cannot perform {effect!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sender.realio",
                                     description="Connect for real with a rassim retry policy.")
    parser.add_argument("entry", help="RAS phonebook entry")
    parser.add_argument("remote", help=r"share to map, e.g. \\DSSMS\SMS_SITE")
    parser.add_argument("--user", default="")
    parser.add_argument("--policy", default="connras-fix")
    args = parser.parse_args(argv)
    policy = preset(args.policy)
    performer = CommandPerformer(args.entry, args.user, os.environ.get("RASSIM_PASSWORD"))

    def log(effect: Effect, result: Result) -> None:
        print(f"{result.at:9.3f}s  {effect} -> {result}", flush=True)

    # why: real jitter on a real machine, only in this entry point; the sender's modules
    # never import random (the simulator passes seeded streams)
    import random

    outcome = run_sync(connect(policy, Target(args.entry, args.remote, args.user),
                               random.Random()), performer, log)
    print(outcome)
    return 0 if outcome.reason == "connected" else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
