"""The performer's mapping of real failures to Win32 codes (sim/real/codes.py), with fakes."""

from __future__ import annotations

import pytest

from sim.real.codes import NTSTATUS_TO_WIN32, Unmapped, code_of
from sim.real.smbclient import SmbStatus


class SMBTimeout(Exception):
    """Stands in for pysmb's class of that name (mapped by name: pysmb is optional)."""


class NotConnectedError(Exception):
    """Stands in for pysmb's class of that name."""


@pytest.mark.parametrize(("status", "code"), [
    (0xC00000CC, 67), (0xC000006D, 1326), (0xC0000022, 5), (0xC00000BE, 53),
    (0xC000020C, 64), (0xC00000B5, 121)])
def test_server_statuses_map_by_rtl_nt_status_to_dos_error(status: int, code: int) -> None:
    assert code_of(SmbStatus("tree_connect", status)) == code


@pytest.mark.parametrize(("error", "code"), [
    (ConnectionResetError(), 64), (BrokenPipeError(), 64), (ConnectionAbortedError(), 64),
    (NotConnectedError(), 64), (TimeoutError(), 121), (TimeoutError(), 121),
    (SMBTimeout(), 121)])
def test_transport_failures(error: BaseException, code: int) -> None:
    assert code_of(error) == code


@pytest.mark.parametrize("error", [SmbStatus("tree_connect", 0xC0000001), ValueError("odd"),
                                   OSError("no route")])
def test_anything_else_is_reported_never_guessed(error: BaseException) -> None:
    with pytest.raises(Unmapped):
        code_of(error)


def test_the_table_only_holds_codes_the_catalogue_knows() -> None:
    from sender.codes import lookup

    for code in NTSTATUS_TO_WIN32.values():
        assert lookup(code) is not None
