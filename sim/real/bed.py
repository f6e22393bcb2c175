"""The testbed: two network namespaces, the wire between them, real smbd and nmbd.

Rules:

1. ``preflight()`` checks root, ``/dev/net/tun``, ``ip``, ``smbd``, ``nmbd``, ``smbpasswd``,
   ``useradd`` and pysmb, and raises ``Unavailable`` naming what is missing and the command
   that installs it (``rassim real`` exits 2 with it).
2. ``Testbed`` is a context manager. On entry it first sweeps what dead runs left behind
   (``sweep_stale``), then starts its guardian (``sim.real.guardian``) BEFORE it creates
   anything, and declares each thing to the guardian before creating it: a fresh private
   directory ``rassim-real-<pid>-<n>-<random>`` (smb.conf, passdb, WINS state, logs, the
   share, and the marker file ``MARKER`` naming the owner), two namespaces
   ``rs-<pid>-<n>-srv`` and ``-cli`` (unique per process and bed), one TUN device in each
   (made from inside its namespace, so nothing is ever added to the machine's own
   namespace), a throw-away Unix account for the SMB user. The guardian starts nmbd (as
   WINS) and smbd in the server namespace, each in its own process group; the caller waits
   until both answer through the wire (``wait_ready``).
3. Teardown cannot be skipped. ``close()`` (success, error, Ctrl-C; ``rassim real`` turns
   SIGTERM into an exception) runs with SIGINT and SIGTERM blocked, so a second signal
   cannot cut it short, and asks the guardian to tear down: the daemons' process groups
   (SIGTERM, then SIGKILL), every process left in the namespaces, the namespaces, the
   account and the directory. If the parent dies any other way (SIGKILL included) the
   guardian sees its pipe close and does the same. Teardown never raises; what failed is
   collected in ``teardown_errors``. Enter and close a bed in one thread: the guardian's
   death signal (``PR_SET_PDEATHSIG``) follows the thread that started it.
4. The namespaces have one interface each besides ``lo`` and no default route: traffic
   cannot leave them, and nmbd's broadcasts reach only the wire, which drops them.
5. ``client()`` runs a block of code with the calling thread inside the client namespace
   (``setns``), so the resolver and the SMB client open their sockets there; the thread
   returns to its own namespace afterwards.
6. ``sweep_stale()`` removes only what rassim made for a process that no longer exists:
   namespaces named ``rs-<pid>-<n>-srv|cli`` and directories ``rassim-real-<pid>-...``
   holding the marker file, with every process inside those namespaces (the daemons) and
   the account the marker names.
7. ``mark_progress(n)`` writes the number of finished trials to ``<dir>/progress``: a
   marker tests (and a curious user) can poll instead of guessing with a sleep.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.real import guardian as _guardian

__all__ = ["CLIENT_IP", "MARKER", "SERVER_IP", "Testbed", "Unavailable", "preflight",
           "sweep_stale"]

SERVER_IP = "10.231.1.2"
CLIENT_IP = "10.231.1.1"
INSTALL = ("apt-get install -y --no-install-recommends samba iproute2 && "
           "pip install -e '.[real]'")
#: The file in a bed's directory that says which process made it (rule 6).
MARKER = "rassim-real-owner.json"

_CLONE_NEWNET = 0x40000000
_TUNSETIFF = 0x400454CA
_IFF_TUN, _IFF_NO_PI = 0x0001, 0x1000
_libc = ctypes.CDLL(None, use_errno=True)
_serial = 0
_NETNS = re.compile(r"^rs-(\d+)-\d+-(srv|cli)$")
_DIR = re.compile(r"^rassim-real-(\d+)-")
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Unavailable(Exception):
    """The machine cannot run the testbed (rule 1); the message says how to fix it."""


def preflight() -> None:
    """Rule 1: raise ``Unavailable`` naming every missing prerequisite and its fix."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (run as root: network namespaces and TUN devices need it)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun (the kernel's TUN driver)")
    for tool in ("ip", "smbd", "nmbd", "smbpasswd", "useradd", "userdel"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            missing.append(tool)
    try:
        # why: pysmb is the optional real extra
        import smb  # noqa: F401  (pysmb, the `real` extra)
    except ImportError:
        missing.append("pysmb (the `real` extra)")
    if missing:
        raise Unavailable(f"the real testbed needs {', '.join(missing)}; install with: "
                          f"{INSTALL}")


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """Run the block with the calling thread in namespace ``netns`` (rule 5)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if _libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {netns} failed")
        try:
            yield
        finally:
            if _libc.setns(home, _CLONE_NEWNET) != 0:  # pragma: no cover - kernel refused
                raise OSError(ctypes.get_errno(), "setns back to the home namespace failed")
    finally:
        os.close(target)
        os.close(home)


_SMB_CONF = """[global]
   workgroup = RASSIM
   netbios name = {server}
   server role = standalone server
   interfaces = {server_ip}/24
   bind interfaces only = yes
   wins support = yes
   dns proxy = no
   local master = no
   domain master = no
   preferred master = no
   smb ports = 139
   server min protocol = NT1
   server max protocol = NT1
   ntlm auth = ntlmv1-permitted
   deadtime = 1
   pid directory = {dir}/pid
   lock directory = {dir}/lock
   state directory = {dir}/state
   cache directory = {dir}/cache
   private dir = {dir}/private
   ncalrpc dir = {dir}/ncalrpc
   passdb backend = tdbsam:{dir}/private/passdb.tdb
   log file = {dir}/log/%m.log
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   usershare path =
   include system krb5 conf = no
[{share}]
   path = {dir}/share
   read only = no
   valid users = {user}
"""


def _alive(pid: int) -> bool:
    return _guardian._alive(pid)


def sweep_stale(tmp: str | None = None) -> list[str]:
    """Rule 6: remove the namespaces, daemons, directories and accounts of ``rassim real``
    runs whose process is gone. Returns what was removed (names), for the caller to say."""
    tmp = tmp or tempfile.gettempdir()
    removed: list[str] = []
    try:
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NETNS.match(name)
        if match and not _alive(int(match.group(1))):
            _guardian.remove([name], [], [])
            removed.append(name)
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            match = _DIR.match(entry.name)
            if not (match and entry.is_dir(follow_symlinks=False)):
                continue
            try:
                owner = json.loads(Path(entry.path, MARKER).read_text())
            except (OSError, ValueError):
                continue  # not ours, or not yet marked: never touched
            pids = [int(owner.get("pid", 0)), int(owner.get("guardian", 0) or 0)]
            if int(match.group(1)) != pids[0] or any(p and _alive(p) for p in pids):
                continue
            users = [str(owner["user"])] if owner.get("made_user") else []
            _guardian.remove([str(n) for n in owner.get("netns", [])], [entry.path], users)
            removed.append(entry.path)
    return removed


class Testbed:
    """The real stack for one ``rassim real`` run (see the module docstring)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, server: str = "DSSMS", share: str = "SMS_SITE",
                 ready_timeout: float = 20.0) -> None:
        global _serial
        _serial += 1
        self.pid = os.getpid()
        tag = f"rs-{self.pid}-{_serial}"
        self.server, self.share = server.upper(), share
        self.server_ns, self.client_ns = f"{tag}-srv", f"{tag}-cli"
        self.server_if, self.client_if = f"rs{self.pid % 10**7}{_serial % 10}s", \
            f"rs{self.pid % 10**7}{_serial % 10}c"
        self.user = f"rs{self.pid % 10**7}x{_serial % 100}"
        self.password = secrets.token_hex(12)
        self.server_ip, self.client_ip = SERVER_IP, CLIENT_IP
        self.ready_timeout = ready_timeout
        self._dir_name = f"rassim-real-{self.pid}-{_serial}-{secrets.token_hex(4)}"
        self.dir: Path | None = None
        self.client_fd = self.server_fd = -1
        #: The daemons the guardian started: name -> pid (each its own process group).
        self.daemons: dict[str, int] = {}
        self.guardian: subprocess.Popen[bytes] | None = None
        self._made_user = False
        self.stale_removed: list[str] = []
        self.teardown_errors: list[str] = []

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Testbed:
        preflight()
        try:
            self.stale_removed = sweep_stale()
            self._start_guardian()
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_guardian(self) -> None:
        """Rule 2: the guardian first; it answers ``ready`` once its death signal is armed."""
        self.guardian = subprocess.Popen(
            [sys.executable, "-I", "-u", _guardian.__file__, str(self.pid)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        answer = self._read(timeout=20.0)
        if "ready" not in answer:
            raise RuntimeError(f"the testbed's guardian did not start: {answer}")

    def _tell(self, message: dict[str, Any], reply: bool = False,
              timeout: float = 30.0) -> dict[str, Any]:
        assert self.guardian is not None and self.guardian.stdin is not None
        self.guardian.stdin.write(json.dumps(message).encode() + b"\n")
        self.guardian.stdin.flush()
        return self._read(timeout) if reply else {}

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.guardian is not None and self.guardian.stdout is not None
        out = self.guardian.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline() if ready else b""
        if not line:
            raise RuntimeError(f"the testbed's guardian did not answer within {timeout:g}s")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _own(self, kind: str, name: str) -> None:
        self._tell({"own": kind, "name": name})

    def _build(self) -> None:
        base = Path(tempfile.gettempdir()) / self._dir_name
        self._own("dir", str(base))
        base.mkdir(mode=0o755)
        self.dir = base
        if subprocess.run(["id", self.user], capture_output=True).returncode != 0:
            self._own("user", self.user)
            self._made_user = True
        (base / MARKER).write_text(json.dumps({
            "pid": self.pid, "guardian": self.guardian.pid if self.guardian else 0,
            "netns": [self.server_ns, self.client_ns], "user": self.user,
            "made_user": self._made_user}))
        for sub in ("pid", "lock", "state", "cache", "private", "ncalrpc", "log", "share"):
            (base / sub).mkdir()
        conf = base / "smb.conf"
        conf.write_text(_SMB_CONF.format(server=self.server, server_ip=self.server_ip,
                                         dir=base, share=self.share, user=self.user))
        for ns in (self.server_ns, self.client_ns):
            self._own("netns", ns)
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        self.server_fd = self._tun(self.server_ns, self.server_if, self.server_ip)
        self.client_fd = self._tun(self.client_ns, self.client_if, self.client_ip)
        if self._made_user:
            _run(_tool("useradd"), "-M", "-N", "-s", "/usr/sbin/nologin", self.user)
        subprocess.run([_tool("smbpasswd"), "-c", str(conf), "-s", "-a", self.user],
                       input=f"{self.password}\n{self.password}\n".encode(), check=True,
                       capture_output=True, timeout=30)
        for name in ("nmbd", "smbd"):
            answer = self._tell({
                "spawn": name, "log": str(base / "log" / f"{name}.out"),
                "argv": ["ip", "netns", "exec", self.server_ns, _tool(name), "--foreground",
                         "--no-process-group", "-s", str(conf), "--debug-stdout", "-d", "1"]},
                reply=True)
            self.daemons[name] = int(answer["pid"])

    def _tun(self, ns: str, name: str, address: str) -> int:
        with inside(ns):
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
        # A /24 with a broadcast address: nmbd refuses a point-to-point interface.
        _run("ip", "-n", ns, "addr", "add", f"{address}/24", "brd", "10.231.1.255", "dev", name)
        _run("ip", "-n", ns, "link", "set", name, "up")
        return fd

    def wait_ready(self, probe: object) -> float:
        """Poll until smbd accepts on 139 and nmbd answers a WINS query, both through the
        wire (``probe``: a callable returning True when the stack answers). Returns the
        seconds it took; raises ``RuntimeError`` with the daemons' logs on time-out."""
        began = time.monotonic()
        while time.monotonic() - began < self.ready_timeout:
            dead = self.dead_daemon()
            if dead:
                raise RuntimeError(dead)
            if callable(probe) and probe():
                return time.monotonic() - began
            time.sleep(0.05)
        raise RuntimeError(f"the testbed's daemons did not answer within "
                           f"{self.ready_timeout:g}s; {self.log_tail()}")

    def dead_daemon(self) -> str | None:
        """A one-paragraph report if smbd or nmbd has exited, with its log's last lines."""
        if not self.daemons or self.guardian is None:
            return None
        try:
            status = self._tell({"status": True}, reply=True, timeout=10.0)["status"]
        except (OSError, RuntimeError, ValueError) as error:
            return f"the testbed's guardian stopped answering ({error})"
        for name in self.daemons:
            code = status.get(name)
            if code is not None:
                how = f"signal {-code}" if code < 0 else f"status {code}"
                return (f"{name} exited ({how}); last lines of its log:\n"
                        f"{self.log_tail(name)}")
        return None

    def log_tail(self, name: str | None = None, lines: int = 12) -> str:
        if self.dir is None:
            return ""
        out = []
        for daemon in ([name] if name else list(self.daemons)):
            path = self.dir / "log" / f"{daemon}.out"
            with contextlib.suppress(OSError):
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {daemon} ---\n" + "\n".join(tail))
        return "\n".join(out)

    def mark_progress(self, done: int) -> None:
        """Rule 7: the number of finished trials in ``<dir>/progress``."""
        if self.dir is not None:
            with contextlib.suppress(OSError):
                tmp = self.dir / "progress.tmp"
                tmp.write_text(f"{done}\n")
                tmp.replace(self.dir / "progress")

    def client(self) -> contextlib.AbstractContextManager[None]:
        """Rule 5: the calling thread inside the client namespace for the block."""
        return inside(self.client_ns)

    def close(self) -> None:
        """Rule 3: tear everything down, with SIGINT and SIGTERM held; never raises. A
        signal that came meanwhile is delivered when they are unblocked, after teardown."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _close(self) -> None:
        for fd in (self.client_fd, self.server_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.client_fd = self.server_fd = -1
        guardian, self.guardian = self.guardian, None
        if guardian is not None:
            self.guardian = guardian
            try:
                answer = self._tell({"teardown": True}, reply=True, timeout=60.0)
                for _ in range(3):  # skip a status answer an interrupted request left
                    if "errors" in answer:
                        break
                    answer = self._read(timeout=60.0)
                self.teardown_errors.extend(str(e) for e in answer["errors"])
            except (OSError, RuntimeError, ValueError, KeyError) as error:
                self.teardown_errors.append(f"guardian: {error}")
            self.guardian = None
            for stream in (guardian.stdin, guardian.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
            try:
                guardian.wait(timeout=30)
            except subprocess.TimeoutExpired:
                guardian.kill()
                guardian.wait()
                self.teardown_errors.append("guardian: did not exit")
        # Nothing the guardian was told of may survive it: check, and remove it here if so.
        netns = [ns for ns in (self.server_ns, self.client_ns)
                 if os.path.exists(f"/run/netns/{ns}")]
        dirs = [str(self.dir)] if self.dir is not None and self.dir.exists() else []
        if netns or dirs:
            self.teardown_errors += _guardian.remove(netns, dirs,
                                                     [self.user] if self._made_user else [])
        self.daemons.clear()
        self._made_user = False
        self.dir = None


def tcp_probe(ip: str, port: int, timeout: float = 0.3) -> bool:
    """Whether a TCP connection to ``ip:port`` opens (from the caller's namespace)."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False
