"""The testbed: two network namespaces, the wire between them, real smbd and nmbd.

Rules:

1. ``preflight()`` checks root, ``/dev/net/tun``, ``ip``, ``smbd``, ``nmbd``, ``smbpasswd``,
   ``useradd`` and pysmb, and raises ``Unavailable`` naming what is missing and the command
   that installs it (``rassim real`` exits 2 with it).
2. ``Testbed`` is a context manager. On entry it makes a fresh private directory
   (``tempfile.mkdtemp``: smb.conf, passdb, WINS state, logs, the share), two namespaces
   ``rs-<pid>-<n>-srv`` and ``-cli`` (names unique per process and bed, so parallel runs
   never collide), one TUN device in each (made from inside its namespace, so nothing is
   ever added to the machine's own namespace), a throw-away Unix account for the SMB user,
   and starts nmbd (as WINS) and smbd in the server namespace, each in its own process
   group (``start_new_session``), then waits until both answer through the wire.
3. On exit (success, error, Ctrl-C; ``rassim real`` turns SIGTERM into an exception) it
   stops the wire, sends SIGTERM then SIGKILL to each daemon's process group, reaps them,
   deletes both namespaces, the account and the directory. Teardown steps never raise;
   what failed is collected in ``teardown_errors``.
4. The namespaces have one interface each besides ``lo`` and no default route: traffic
   cannot leave them, and nmbd's broadcasts reach only the wire, which drops them.
5. ``client()`` runs a block of code with the calling thread inside the client namespace
   (``setns``), so the resolver and the SMB client open their sockets there; the thread
   returns to its own namespace afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CLIENT_IP", "SERVER_IP", "Testbed", "Unavailable", "preflight"]

SERVER_IP = "10.231.1.2"
CLIENT_IP = "10.231.1.1"
INSTALL = ("apt-get install -y --no-install-recommends samba iproute2 && "
           "pip install -e '.[real]'")

_CLONE_NEWNET = 0x40000000
_TUNSETIFF = 0x400454CA
_IFF_TUN, _IFF_NO_PI = 0x0001, 0x1000
_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)
_serial = 0


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


class Testbed:
    """The real stack for one ``rassim real`` run (see the module docstring)."""

    def __init__(self, server: str = "DSSMS", share: str = "SMS_SITE",
                 ready_timeout: float = 20.0) -> None:
        global _serial
        _serial += 1
        tag = f"rs-{os.getpid()}-{_serial}"
        self.server, self.share = server.upper(), share
        self.server_ns, self.client_ns = f"{tag}-srv", f"{tag}-cli"
        self.server_if, self.client_if = f"rs{os.getpid() % 10**7}{_serial % 10}s", \
            f"rs{os.getpid() % 10**7}{_serial % 10}c"
        self.user = f"rs{os.getpid() % 10**7}x{_serial % 100}"
        self.password = secrets.token_hex(12)
        self.server_ip, self.client_ip = SERVER_IP, CLIENT_IP
        self.ready_timeout = ready_timeout
        self.dir: Path | None = None
        self.client_fd = self.server_fd = -1
        self.daemons: dict[str, subprocess.Popen[bytes]] = {}
        self._made_ns: list[str] = []
        self._made_user = False
        self.teardown_errors: list[str] = []

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Testbed:
        preflight()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans of smbd come to us
        self.dir = Path(tempfile.mkdtemp(prefix="rassim-real-"))
        for sub in ("pid", "lock", "state", "cache", "private", "ncalrpc", "log", "share"):
            (self.dir / sub).mkdir()
        conf = self.dir / "smb.conf"
        conf.write_text(_SMB_CONF.format(server=self.server, server_ip=self.server_ip,
                                         dir=self.dir, share=self.share, user=self.user))
        for ns in (self.server_ns, self.client_ns):
            _run("ip", "netns", "add", ns)
            self._made_ns.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        self.server_fd = self._tun(self.server_ns, self.server_if, self.server_ip)
        self.client_fd = self._tun(self.client_ns, self.client_if, self.client_ip)
        if subprocess.run(["id", self.user], capture_output=True).returncode != 0:
            _run(_tool("useradd"), "-M", "-N", "-s", "/usr/sbin/nologin", self.user)
            self._made_user = True
        subprocess.run([_tool("smbpasswd"), "-c", str(conf), "-s", "-a", self.user],
                       input=f"{self.password}\n{self.password}\n".encode(), check=True,
                       capture_output=True, timeout=30)
        for name in ("nmbd", "smbd"):
            log = open(self.dir / "log" / f"{name}.out", "wb")  # noqa: SIM115 (owned by Popen)
            self.daemons[name] = subprocess.Popen(
                ["ip", "netns", "exec", self.server_ns, _tool(name), "--foreground",
                 "--no-process-group", "-s", str(conf), "--debug-stdout", "-d", "1"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
            log.close()

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
        for name, process in self.daemons.items():
            if process.poll() is not None:
                return (f"{name} exited with status {process.returncode}; last lines of its "
                        f"log:\n{self.log_tail(name)}")
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

    def client(self) -> contextlib.AbstractContextManager[None]:
        """Rule 5: the calling thread inside the client namespace for the block."""
        return inside(self.client_ns)

    def close(self) -> None:
        """Rule 3: tear everything down; never raises."""
        for name, process in self.daemons.items():
            self._stop(name, process)
        self.daemons.clear()
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:  # orphans reaped as subreaper
                pass
        for fd in (self.client_fd, self.server_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.client_fd = self.server_fd = -1
        for ns in self._made_ns:
            try:
                _run("ip", "netns", "del", ns)
            except (subprocess.SubprocessError, OSError) as error:
                self.teardown_errors.append(f"netns {ns}: {error}")
        self._made_ns.clear()
        if self._made_user:
            try:
                _run(_tool("userdel"), self.user)
            except (subprocess.SubprocessError, OSError) as error:
                self.teardown_errors.append(f"user {self.user}: {error}")
            self._made_user = False
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _stop(self, name: str, process: subprocess.Popen[bytes]) -> None:
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            self.teardown_errors.append(f"{name} (pid {process.pid}) did not exit")
        # The group may outlive its leader (smbd's children): make sure it is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def tcp_probe(ip: str, port: int, timeout: float = 0.3) -> bool:
    """Whether a TCP connection to ``ip:port`` opens (from the caller's namespace)."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False
