"""Real failures to the Win32 codes WNetAddConnection2 gave on NT 4.0.

Rules:

1. A server status maps by RtlNtStatusToDosError (``NTSTATUS_TO_WIN32``); the table holds
   only the statuses this sender can meet, each checked against a real server once
   (shared/real-testbed.md section 4).
2. A transport failure after the session started: a reset or a closed connection is 64
   (ERROR_NETNAME_DELETED), a time-out of SessTimeOut is 121 (ERROR_SEM_TIMEOUT).
3. Anything else raises ``Unmapped``: the trial is reported with the failure's text and left
   out of the pairing, never given a guessed code.
"""

from __future__ import annotations

import socket

__all__ = ["NTSTATUS_TO_WIN32", "Unmapped", "code_of"]

NTSTATUS_TO_WIN32: dict[int, int] = {
    0xC00000CC: 67,    # STATUS_BAD_NETWORK_NAME -> ERROR_BAD_NET_NAME
    0xC000006D: 1326,  # STATUS_LOGON_FAILURE -> ERROR_LOGON_FAILURE
    0xC0000022: 5,     # STATUS_ACCESS_DENIED -> ERROR_ACCESS_DENIED
    0xC00000BE: 53,    # STATUS_BAD_NETWORK_PATH -> ERROR_BAD_NETPATH
    0xC000020C: 64,    # STATUS_CONNECTION_DISCONNECTED -> ERROR_NETNAME_DELETED
    0xC00000B5: 121,   # STATUS_IO_TIMEOUT -> ERROR_SEM_TIMEOUT
}

_RESET = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
#: pysmb's exceptions, by class name (pysmb is an optional extra; the mapping is not).
_PYSMB_RESET = ("NotConnectedError",)
_PYSMB_TIMEOUT = ("SMBTimeout",)


class Unmapped(Exception):
    """A real failure with no known Win32 code (rule 3)."""


def code_of(error: BaseException) -> int:
    """The Win32 code of a failure during the SMB session (rules 1-3)."""
    status = getattr(error, "status", None)
    if isinstance(status, int):
        code = NTSTATUS_TO_WIN32.get(status)
        if code is None:
            raise Unmapped(f"server status 0x{status:08X} ({error}) has no Win32 code in "
                           "sim.real.codes.NTSTATUS_TO_WIN32") from error
        return code
    name = type(error).__name__
    if isinstance(error, _RESET) or name in _PYSMB_RESET:
        return 64
    if isinstance(error, (TimeoutError, socket.timeout)) or name in _PYSMB_TIMEOUT:
        return 121
    raise Unmapped(f"{name}: {error}") from error
