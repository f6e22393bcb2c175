"""The error-code catalog matches the domain-facts tables (sections 5 and 6)."""

from __future__ import annotations

import pytest

from sender.codes import (
    CATALOG,
    DEFAULT_RETRYABLE,
    LINK_SUSPECT,
    Code,
    explain,
    lookup,
    symbol_of,
)

# (number, symbol, message, transient) from shared/domain-facts.md tables 5 and 6.
WIN32 = [
    (5, "ERROR_ACCESS_DENIED", "Access is denied.", False),
    (51, "ERROR_REM_NOT_LIST", "The remote computer is not available.", True),
    (53, "ERROR_BAD_NETPATH", "The network path was not found.", True),
    (59, "ERROR_UNEXP_NET_ERR", "An unexpected network error occurred.", True),
    (64, "ERROR_NETNAME_DELETED", "The specified network name is no longer available.", True),
    (67, "ERROR_BAD_NET_NAME", "The network name cannot be found.", False),
    (70, "ERROR_SHARING_PAUSED",
     "The remote server has been paused or is in the process of being started.", True),
    (71, "ERROR_REQ_NOT_ACCEP",
     "No more connections can be made to this remote computer at this time", True),
    (86, "ERROR_INVALID_PASSWORD", "The specified network password is not correct.", False),
    (121, "ERROR_SEM_TIMEOUT", "The semaphore timeout period has expired.", True),
    (170, "ERROR_BUSY", "The requested resource is in use.", True),
    (1219, "ERROR_SESSION_CREDENTIAL_CONFLICT",
     "The credentials supplied conflict with an existing set of credentials.", False),
    (1222, "ERROR_NO_NETWORK", "The network is not present or not started.", True),
    (1231, "ERROR_NETWORK_UNREACHABLE",
     "The remote network is not reachable by the transport.", True),
    (1326, "ERROR_LOGON_FAILURE", "Logon failure: unknown user name or bad password.", False),
]
RAS = [
    (619, "ERROR_PORT_DISCONNECTED", "The port is disconnected.", True),
    (629, "ERROR_REMOTE_DISCONNECTION", "The data link was terminated by the remote machine.",
     True),
    (633, "ERROR_PORT_NOT_AVAILABLE", "The port is already in use or is not configured for "
     "Remote Access dial out.", True),
    (638, "ERROR_REQUEST_TIMEOUT", "The request has timed out.", True),
    (650, "ERROR_SERVER_NOT_RESPONDING", "The Remote Access server is not responding.", True),
    (651, "ERROR_FROM_DEVICE", "Your modem (or other connecting device) has reported an error.",
     True),
    (676, "ERROR_LINE_BUSY", "The line is busy.", True),
    (678, "ERROR_NO_ANSWER", "There is no answer.", True),
    (679, "ERROR_NO_CARRIER", "Cannot detect carrier.", True),
    (680, "ERROR_NO_DIALTONE", "There is no dial tone.", True),
    (691, "ERROR_AUTHENTICATION_FAILURE", "Access denied because username and/or password is "
     "invalid on the domain.", False),
    (718, "ERROR_PPP_TIMEOUT",
     "Timed out waiting for a valid response from the remote PPP peer.", True),
    (734, "ERROR_PPP_LCP_TERMINATED", "The PPP link control protocol terminated.", True),
    (738, "ERROR_PPP_NO_ADDRESS_ASSIGNED", "The server did not assign an address.", True),
]
TABLE = WIN32 + RAS


def test_catalog_is_exactly_the_documented_codes() -> None:
    assert sorted(CATALOG) == sorted(number for number, *_ in TABLE)


@pytest.mark.parametrize(("number", "symbol", "message", "transient"), TABLE,
                         ids=[f"{n}-{s}" for n, s, *_ in TABLE])
def test_code_matches_the_domain_facts(number: int, symbol: str, message: str,
                                       transient: bool) -> None:
    code = CATALOG[number]
    assert isinstance(code, Code)
    assert (code.number, code.symbol, code.transient) == (number, symbol, transient)
    assert code.message.startswith(message)
    assert lookup(number) is code
    assert symbol_of(number) == symbol
    assert (number in DEFAULT_RETRYABLE) is transient
    assert code.cause and code.transient_source


@pytest.mark.parametrize(("number", "layer"), [(n, "ras") for n, *_ in RAS])
def test_ras_codes_are_in_the_nt4_range_and_layer(number: int, layer: str) -> None:
    assert 600 <= number <= 752
    assert CATALOG[number].layer == layer


def test_error_53_is_the_q221951_code() -> None:
    code = CATALOG[53]
    assert code.symbol == "ERROR_BAD_NETPATH"
    assert code.transient
    assert 53 in DEFAULT_RETRYABLE and 53 in LINK_SUSPECT
    assert "Q174520" in code.transient_source


@pytest.mark.parametrize("number", [1326, 691, 5, 86, 1219, 67])
def test_credential_and_share_errors_are_not_retried(number: int) -> None:
    assert not CATALOG[number].transient
    assert number not in DEFAULT_RETRYABLE


def test_default_retryable_is_the_transient_codes() -> None:
    assert DEFAULT_RETRYABLE == frozenset(n for n, c in CATALOG.items() if c.transient)


def test_link_suspect_codes_implicate_the_link() -> None:
    assert LINK_SUSPECT == frozenset({51, 53, 59, 64, 121, 1222, 1231})
    assert LINK_SUSPECT <= DEFAULT_RETRYABLE
    # The server answered: a new link would not help.
    assert not LINK_SUSPECT & {70, 71, 170}


def test_explain_a_known_code() -> None:
    text = explain(53)
    lines = text.splitlines()
    assert lines[0] == "53 ERROR_BAD_NETPATH"
    assert "The network path was not found." in text
    assert "layer:     name-resolution" in text
    assert "transient (retried by default)" in text


def test_explain_a_permanent_code() -> None:
    text = explain(1326)
    assert text.startswith("1326 ERROR_LOGON_FAILURE\n")
    assert "permanent (not retried)" in text
    assert "Q163747" in text


def test_explain_an_unknown_code() -> None:
    text = explain(9999)
    assert text.startswith("9999: not in rassim's catalog.")
    assert "53" in text and "1326" in text and "691" in text
    assert lookup(9999) is None
    assert symbol_of(9999) == "UNKNOWN"


def test_named_constants_are_the_catalog_by_name() -> None:
    # One source for code numbers: every ERROR_* constant names its own catalog entry, and
    # every catalog entry has its constant, so sim/ never needs a bare number.
    from sender import codes

    named = {name: getattr(codes, name) for name in dir(codes) if name.startswith("ERROR_")}
    assert {number: name for name, number in named.items()} == \
        {code.number: code.symbol for code in codes.CATALOG.values()}
    assert set(named) <= set(codes.__all__)
