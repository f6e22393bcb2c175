"""Real I/O: perform the sender's effects on a Windows machine, in real time.

This is the one module in ``sender`` allowed to touch the clock, sleep and spawn processes
(the purity test exempts it; nothing else in ``sender`` imports it). It shells out to the
stock NT tools rather than binding RasDial/WNetAddConnection2 through ctypes, so it runs on
any Windows with RAS installed and is easy to audit:

* ``Dial``          -> ``rasdial ENTRY [USER PASSWORD]``; the exit status is the RAS code.
* ``AddConnection`` -> ``net use \\\\SERVER\\SHARE [PASSWORD] /user:USER``; "System error N"
  in its output is the Win32 code (``net`` itself exits 2).
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
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sender.driver import run_sync
from sender.effects import AddConnection, Dial, Effect, Failed, HangUp, Result, Sleep, Succeeded
from sender.policy import preset
from sender.procedure import Target, connect

__all__ = ["CommandPerformer", "main"]

_SYSTEM_ERROR = re.compile(r"System error (\d+)")
_UNEXPECTED_NETWORK_ERROR = 59  # net use failed without saying why

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


@dataclass
class CommandPerformer:
    """Performs effects with ``rasdial`` and ``net use``; ``at`` is seconds since creation.

    ``run``, ``clock`` and ``sleep`` are injectable so the command mapping can be tested on
    any platform.
    """

    entry: str
    user: str = ""
    password: str | None = None
    run: Runner = _run
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
            if self.user:
                argv += [self.user, self.password or ""]
            done = self.run(argv)
            code = done.returncode
            return Succeeded(self._now()) if code == 0 else Failed(code, self._now())
        if isinstance(effect, AddConnection):
            argv = ["net", "use", effect.remote]
            if self.password:
                argv.append(self.password)
            if effect.user:
                argv.append(f"/user:{effect.user}")
            done = self.run(argv)
            if done.returncode == 0:
                return Succeeded(self._now())
            match = _SYSTEM_ERROR.search(f"{done.stdout}\n{done.stderr}")
            code = int(match.group(1)) if match else _UNEXPECTED_NETWORK_ERROR
            return Failed(code, self._now())
        if isinstance(effect, HangUp):
            self.run(["rasdial", self.entry, "/disconnect"])
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
