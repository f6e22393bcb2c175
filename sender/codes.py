"""Catalog of the Win32 and RAS error codes a RAS sender meets.

Every code here comes from ``shared/domain-facts.md`` (sections 5 and 6), which cites the KB
articles. ``transient`` is the *default* classification a retry policy starts from; a policy
may override it with its own ``retry_on`` set. Where the classification is a modelling
inference rather than a documented fact, ``transient_source`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "CATALOG",
    "ERROR_ACCESS_DENIED",
    "ERROR_AUTHENTICATION_FAILURE",
    "ERROR_BAD_NETPATH",
    "ERROR_BAD_NET_NAME",
    "ERROR_BUSY",
    "ERROR_FROM_DEVICE",
    "ERROR_INVALID_PASSWORD",
    "ERROR_LINE_BUSY",
    "ERROR_LOGON_FAILURE",
    "ERROR_NETNAME_DELETED",
    "ERROR_NETWORK_UNREACHABLE",
    "ERROR_NO_ANSWER",
    "ERROR_NO_CARRIER",
    "ERROR_NO_DIALTONE",
    "ERROR_NO_NETWORK",
    "ERROR_PORT_DISCONNECTED",
    "ERROR_PORT_NOT_AVAILABLE",
    "ERROR_PPP_LCP_TERMINATED",
    "ERROR_PPP_NO_ADDRESS_ASSIGNED",
    "ERROR_PPP_TIMEOUT",
    "ERROR_REMOTE_DISCONNECTION",
    "ERROR_REM_NOT_LIST",
    "ERROR_REQUEST_TIMEOUT",
    "ERROR_REQ_NOT_ACCEP",
    "ERROR_SEM_TIMEOUT",
    "ERROR_SERVER_NOT_RESPONDING",
    "ERROR_SESSION_CREDENTIAL_CONFLICT",
    "ERROR_SHARING_PAUSED",
    "ERROR_UNEXP_NET_ERR",
    "Code",
    "DEFAULT_RETRYABLE",
    "LINK_SUSPECT",
    "explain",
    "lookup",
    "symbol_of",
]

Layer = Literal["ras", "name-resolution", "transport", "smb", "credentials", "server"]


@dataclass(frozen=True, slots=True)
class Code:
    """One error code: what it means, where it arises, and whether a retry can help."""

    number: int
    symbol: str
    message: str
    layer: Layer
    transient: bool
    cause: str
    transient_source: str = "[I] modelling inference"


# The codes by name: sim/ and sender/ use these, never bare numbers. Each name is the
# catalog symbol of its number (tests/sender/test_codes.py checks both ways).
ERROR_ACCESS_DENIED: Final = 5
ERROR_REM_NOT_LIST: Final = 51
ERROR_BAD_NETPATH: Final = 53
ERROR_UNEXP_NET_ERR: Final = 59
ERROR_NETNAME_DELETED: Final = 64
ERROR_BAD_NET_NAME: Final = 67
ERROR_SHARING_PAUSED: Final = 70
ERROR_REQ_NOT_ACCEP: Final = 71
ERROR_INVALID_PASSWORD: Final = 86
ERROR_SEM_TIMEOUT: Final = 121
ERROR_BUSY: Final = 170
ERROR_SESSION_CREDENTIAL_CONFLICT: Final = 1219
ERROR_NO_NETWORK: Final = 1222
ERROR_NETWORK_UNREACHABLE: Final = 1231
ERROR_LOGON_FAILURE: Final = 1326
ERROR_PORT_DISCONNECTED: Final = 619
ERROR_REMOTE_DISCONNECTION: Final = 629
ERROR_PORT_NOT_AVAILABLE: Final = 633
ERROR_REQUEST_TIMEOUT: Final = 638
ERROR_SERVER_NOT_RESPONDING: Final = 650
ERROR_FROM_DEVICE: Final = 651
ERROR_LINE_BUSY: Final = 676
ERROR_NO_ANSWER: Final = 678
ERROR_NO_CARRIER: Final = 679
ERROR_NO_DIALTONE: Final = 680
ERROR_AUTHENTICATION_FAILURE: Final = 691
ERROR_PPP_TIMEOUT: Final = 718
ERROR_PPP_LCP_TERMINATED: Final = 734
ERROR_PPP_NO_ADDRESS_ASSIGNED: Final = 738
#: The public source of the RAS codes' meanings, as ``rassim explain`` cites it.
_RAS_DOCS = ("[C] Microsoft, Routing and Remote Access Error Codes (raserror.h); documented "
             "as transient")


def _c(number: int, symbol: str, message: str, layer: Layer, transient: bool, cause: str,
       source: str = "[I] modelling inference") -> Code:
    return Code(number, symbol, message, layer, transient, cause, source)


_CODES = (
    # Win32 codes from WNetAddConnection2 over a new link (domain-facts.md section 5).
    _c(5, "ERROR_ACCESS_DENIED", "Access is denied.", "credentials", False, "permissions"),
    _c(51, "ERROR_REM_NOT_LIST", "The remote computer is not available.", "transport", True,
       "NetBIOS: remote not listening"),
    _c(53, "ERROR_BAD_NETPATH", "The network path was not found.", "name-resolution", True,
       "name resolution or connectivity; transient right after the link comes up",
       "[C] Q174520, Q222840, Q141344, Q182825; transient right after link-up is [I]"),
    _c(59, "ERROR_UNEXP_NET_ERR", "An unexpected network error occurred.", "transport", True,
       "transport failure"),
    _c(64, "ERROR_NETNAME_DELETED", "The specified network name is no longer available.",
       "transport", True, "session dropped (link drop)"),
    _c(67, "ERROR_BAD_NET_NAME", "The network name cannot be found.", "smb", False,
       "server reached, share missing",
       "[I] usually permanent; SMS 2.0 still logged 'Operation is retryable' (Q235753)"),
    _c(70, "ERROR_SHARING_PAUSED",
       "The remote server has been paused or is in the process of being started.", "server",
       True, "server service starting"),
    _c(71, "ERROR_REQ_NOT_ACCEP",
       "No more connections can be made to this remote computer at this time because there "
       "are already as many connections as the computer can accept.", "server", True,
       "connection limit"),
    _c(86, "ERROR_INVALID_PASSWORD", "The specified network password is not correct.",
       "credentials", False, "credentials"),
    _c(121, "ERROR_SEM_TIMEOUT", "The semaphore timeout period has expired.", "smb", True,
       "SMB I/O time-out on a slow link"),
    _c(170, "ERROR_BUSY", "The requested resource is in use.", "server", True,
       "provider is busy, possibly initializing; the caller should retry",
       "[C] documented: 'The caller should retry.'"),
    _c(1219, "ERROR_SESSION_CREDENTIAL_CONFLICT",
       "The credentials supplied conflict with an existing set of credentials.",
       "credentials", False, "existing session, other user"),
    _c(1222, "ERROR_NO_NETWORK", "The network is not present or not started.", "transport",
       True, "link down; transient while the link comes up"),
    _c(1231, "ERROR_NETWORK_UNREACHABLE", "The remote network is not reachable by the "
       "transport.", "transport", True, "routing"),
    _c(1326, "ERROR_LOGON_FAILURE", "Logon failure: unknown user name or bad password.",
       "credentials", False,
       "address account wrong; retries can lock the account out (Q163747)"),
    # RAS (RasDial) codes; NT4 defines 600-752 only. Their public source is Microsoft's list:
    # raserror.h, documented as "Routing and Remote Access Error Codes".
    _c(619, "ERROR_PORT_DISCONNECTED", "The port is disconnected.", "ras", True,
       "port dropped", _RAS_DOCS),
    _c(629, "ERROR_REMOTE_DISCONNECTION",
       "The data link was terminated by the remote machine.", "ras", True,
       "seen on SNA RAS over 9600-bps SDLC (Q162594)", _RAS_DOCS),
    _c(633, "ERROR_PORT_NOT_AVAILABLE", "The port is already in use or is not configured for "
       "Remote Access dial out.", "ras", True,
       "no free port; SNA outages leak ports (Q196077)", "[C] transient if in use"),
    _c(638, "ERROR_REQUEST_TIMEOUT", "The request has timed out.", "ras", True,
       "request timed out", _RAS_DOCS),
    _c(650, "ERROR_SERVER_NOT_RESPONDING", "The Remote Access server is not responding.",
       "ras", True, "server not responding", _RAS_DOCS),
    _c(651, "ERROR_FROM_DEVICE",
       "Your modem (or other connecting device) has reported an error.", "ras", True,
       "seen on SNA RAS after 629 (Q162594)", _RAS_DOCS),
    _c(676, "ERROR_LINE_BUSY", "The line is busy.", "ras", True, "all ports in use",
       _RAS_DOCS),
    _c(678, "ERROR_NO_ANSWER", "There is no answer.", "ras", True, "no answer",
       _RAS_DOCS),
    _c(679, "ERROR_NO_CARRIER", "Cannot detect carrier.", "ras", True, "no carrier",
       _RAS_DOCS),
    _c(680, "ERROR_NO_DIALTONE", "There is no dial tone.", "ras", True, "no dial tone",
       _RAS_DOCS),
    _c(691, "ERROR_AUTHENTICATION_FAILURE", "Access denied because username and/or password "
       "is invalid on the domain.", "ras", False, "bad dial-in credentials",
       _RAS_DOCS),
    _c(718, "ERROR_PPP_TIMEOUT",
       "Timed out waiting for a valid response from the remote PPP peer.", "ras", True,
       "slow links; AuthenticateTimeout expired (Q139300)", _RAS_DOCS),
    _c(734, "ERROR_PPP_LCP_TERMINATED", "The PPP link control protocol terminated.", "ras",
       True, "LCP terminated", _RAS_DOCS),
    _c(738, "ERROR_PPP_NO_ADDRESS_ASSIGNED", "The server did not assign an address.", "ras",
       True, "IPCP got no address", _RAS_DOCS),
)

CATALOG: dict[int, Code] = {code.number: code for code in _CODES}

#: Codes a policy retries unless it says otherwise: every code classified transient.
DEFAULT_RETRYABLE: frozenset[int] = frozenset(c.number for c in _CODES if c.transient)

#: Map failures that implicate the link itself rather than the server: a run of these is the
#: signal to hang up and redial (``RetryPolicy.redial_after``). [I] 70, 71 and 170 say the
#: server was reached, so a new link would not help.
LINK_SUSPECT: frozenset[int] = frozenset({
    ERROR_REM_NOT_LIST, ERROR_BAD_NETPATH, ERROR_UNEXP_NET_ERR, ERROR_NETNAME_DELETED,
    ERROR_SEM_TIMEOUT, ERROR_NO_NETWORK, ERROR_NETWORK_UNREACHABLE})


def lookup(number: int) -> Code | None:
    """The catalog entry for ``number``, or None for a code rassim does not know."""
    return CATALOG.get(number)


def symbol_of(number: int) -> str:
    """The symbolic name of ``number``, or ``"UNKNOWN"`` for codes outside the catalog."""
    code = CATALOG.get(number)
    return code.symbol if code else "UNKNOWN"


def explain(number: int) -> str:
    """A multi-line human description of ``number`` (what ``rassim explain`` prints)."""
    code = CATALOG.get(number)
    if code is None:
        known = ", ".join(str(n) for n in sorted(CATALOG))
        return f"{number}: not in rassim's catalog. Known codes: {known}."
    kind = "transient (retried by default)" if code.transient else "permanent (not retried)"
    return "\n".join(
        [
            f"{code.number} {code.symbol}",
            f"  message:   {code.message}",
            f"  layer:     {code.layer}",
            f"  cause:     {code.cause}",
            f"  retry:     {kind}; source: {code.transient_source}",
        ]
    )
