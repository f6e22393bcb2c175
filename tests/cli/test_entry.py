"""The console script's first moments, and commands whose optional parts are missing
(issue 16, class 8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]

# Sends SIGINT to itself while ``sim.entry`` imports ``sim.cli`` (the window in which a
# Ctrl-C printed a KeyboardInterrupt traceback), then runs the command line.
_DURING_IMPORT = textwrap.dedent("""
    import builtins, os, signal, sys
    for name in [m for m in sys.modules if m == "sim.cli" or m.startswith("sim.commands")]:
        del sys.modules[name]
    import sim.entry
    real = builtins.__import__
    def hooked(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "sim" and fromlist and "cli" in fromlist:
            os.kill(os.getpid(), signal.SIGINT)
        return real(name, globals, locals, fromlist, level)
    builtins.__import__ = hooked
    sys.exit(sim.entry.main(["--version"]))
""")


def test_a_ctrl_c_during_the_first_imports_exits_130_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-c", _DURING_IMPORT], cwd=ROOT, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "rassim: interrupted\n"


def test_the_entry_point_runs_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "--version"], cwd=ROOT, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("rassim ")


def test_search_without_hypothesis_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "hypothesis" else real(name, *a))
    code = main(["search", str(ROOT / "scenarios" / "q221951-unpatched.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("rassim: error: rassim search needs Hypothesis, which is not installed: "
                   "pip install 'hypothesis>=6.100' (or reinstall rassim)\n")
