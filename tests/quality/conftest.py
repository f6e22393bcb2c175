"""Everything here is slow: statistical tests over thousands of trials, the notebooks, the
fuzz tests and the pinned summaries. `pytest -m "not slow"` leaves them out of the inner loop;
CI always runs them, because they guard what rassim is for."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/quality/" in item.nodeid:
            item.add_marker(pytest.mark.slow)
