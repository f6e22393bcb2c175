"""The sender is sans-I/O: it never imports the simulator, a clock, randomness or sockets.

``sender/realio.py`` is the documented exception (the one module allowed real I/O); nothing
else in the package may import it either, so ``import sender`` stays pure.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SENDER = Path(__file__).resolve().parents[2] / "sender"
FORBIDDEN = frozenset({"sim", "simpy", "time", "random", "socket"})
EXEMPT = {"realio.py"}


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """Every import of a forbidden top-level module in ``source``, as ``line: module``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and _is_dynamic_import(node.func)):
            names = [node.args[0].value]
        found += [f"{node.lineno}: {name}" for name in names
                  if name.split(".")[0] in FORBIDDEN]
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    """``__import__(...)`` or ``importlib.import_module(...)`` / ``import_module(...)``."""
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def sender_modules() -> list[Path]:
    return sorted(p for p in SENDER.rglob("*.py") if p.name not in EXEMPT)


def test_the_package_has_modules_to_check() -> None:
    names = {p.name for p in sender_modules()}
    assert {"__init__.py", "codes.py", "driver.py", "effects.py", "policy.py",
            "procedure.py"} <= names


@pytest.mark.parametrize("path", sender_modules(), ids=lambda p: str(p.relative_to(SENDER)))
def test_module_imports_nothing_impure(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert forbidden_imports(source, str(path)) == []
    # realio is where real I/O lives; importing it would drag that into ``import sender``.
    tree = ast.parse(source, str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module not in {"sender.realio", "realio"}, f"{path}: imports realio"
            if node.module in {"sender", None}:
                assert "realio" not in {a.name for a in node.names}, f"{path}: imports realio"
        elif isinstance(node, ast.Import):
            assert "sender.realio" not in {a.name for a in node.names}, f"{path}: imports realio"


@pytest.mark.parametrize(("source", "expected"), [
    ("import time", ["1: time"]),
    ("import sim.world.world", ["1: sim.world.world"]),
    ("from sim.world.world import World", ["1: sim.world.world"]),
    ("from simpy import Environment", ["1: simpy"]),
    ("import os, socket as s", ["1: socket"]),
    ("from random import random", ["1: random"]),
    ("def f():\n    import time", ["2: time"]),
    ("__import__('random')", ["1: random"]),
    ("importlib.import_module('sim.draws.units')", ["1: sim.draws.units"]),
    ("import math\nfrom sender.codes import CATALOG\nimport simulation", []),
    ("from . import time", []),  # a relative import is the package's own module
    ("import timeit, randomized", []),
])
def test_the_checker_sees_each_import_form(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source) == expected


def test_importing_sender_loads_no_simulator() -> None:
    code = ("import sender, sys; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sim', 'simpy'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=SENDER.parent, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
