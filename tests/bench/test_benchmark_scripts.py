"""The benchmark scripts that need tools CI may lack (valgrind, mypyc and a C compiler) keep
working with the code they measure: their workloads run here, without those tools and
without timing anything."""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sim.bench.bench import CANONICAL, count_events
from sim.scenario.loader import load_scenario
from sim.trial.results import TrialResult

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_the_compiled_probe_compiles_exists() -> None:
    probe = _script("compiled_probe")
    root = BENCHMARKS.parent
    assert all((root / module).is_file() for module in probe.HOT)
    assert all((root / "scenarios" / name).is_file() for name in probe.CHECKED)


@pytest.mark.parametrize("kind", ["harness", "bare", "fixed"])
def test_each_instruction_workload_runs_on_some_trials_and_on_none(
        kind: str, tmp_path: Path) -> None:
    instructions = _script("instructions")
    loaded = load_scenario(CANONICAL)
    rows: list[TrialResult] = []
    counts = count_events(loaded.scenario, loaded.policy, 3, 20, rows)
    inputs = tmp_path / "inputs.pickle"
    inputs.write_bytes(pickle.dumps((str(CANONICAL), 3, counts, rows)))
    for trials in (20, 0):
        done = subprocess.run([sys.executable, "-c", instructions.WORKLOAD, kind, str(inputs),
                               str(trials)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr


def test_callgrinds_instruction_total_is_read() -> None:
    instructions = _script("instructions")
    stderr = "==5727== Collected : 2237932134\n==5727==\n==5727== I   refs:      2,237,932,134\n"
    found = instructions._REFS.search(stderr)
    assert found is not None and int(found.group(1).replace(",", "")) == 2_237_932_134
