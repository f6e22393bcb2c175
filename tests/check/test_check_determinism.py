"""`rassim run --check-determinism`: passes on the real model, fails loudly on a planted bug."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.check.determinism
from sim.cli import main

FLAPS = Path(__file__).resolve().parents[2] / "scenarios" / "faults-link-flap.toml"


def test_real_scenario_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(FLAPS), "--trials", "40", "--check-determinism"]) == 0
    assert "deterministic: 40 trials" in capsys.readouterr().out


def test_a_differing_trace_fails_and_names_the_trial(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = sim.check.determinism.fresh_process_digests

    def planted(*args: object, **kwargs: object) -> list[str]:
        digests = real(*args, **kwargs)  # type: ignore[arg-type]
        digests[7] = "0" * 64  # as if trial 7 had drawn differently in a fresh process
        return digests

    monkeypatch.setattr(sim.check.determinism, "fresh_process_digests", planted)
    assert main(["run", str(FLAPS), "--trials", "10", "--check-determinism"]) == 1
    err = capsys.readouterr().err
    assert "NOT DETERMINISTIC: trial 7's trace differs in a fresh process" in err
    assert f"rassim replay {FLAPS} --seed 221951 --trial 7" in err
