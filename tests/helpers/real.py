"""What every root-only real-stack test module marks itself with: ``pytestmark = NEEDS_TESTBED``.

The tests are of the ``real`` tier (``pytest -m real tests/real``) and skip, with the
testbed's own reason (not root, no /dev/net/tun, Samba or pysmb missing, with the command
that installs them), wherever the testbed cannot start.
"""

from __future__ import annotations

import pytest

from sim.real.bed import Unavailable, preflight

__all__ = ["NEEDS_TESTBED"]


def _why_not() -> str | None:
    try:
        preflight()
    except Unavailable as error:
        return str(error)
    return None


_REASON = _why_not()
NEEDS_TESTBED = [pytest.mark.real,
                 pytest.mark.skipif(_REASON is not None, reason=f"{_REASON}")]
