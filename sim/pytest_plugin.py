"""Moved to ``sim.check.pytest_plugin``; kept so an install made before the move still loads.

The entry point in ``pyproject.toml`` names the new module; reinstall (``pip install -e .``)
and this shim is no longer used.
"""

from sim.check.pytest_plugin import (  # noqa: F401
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
)
