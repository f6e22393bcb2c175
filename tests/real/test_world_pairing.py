"""Real trial i draws simulated trial i's world with the same code (sim/real/world.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.real.run import check_scale
from sim.real.world import RealWorld, expressible
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from sim.world.trace import Recorder

ROOT = Path(__file__).resolve().parents[2]
REAL = sorted((ROOT / "scenarios" / "real").glob("*.toml"))


def test_real_scenarios_ship() -> None:
    names = {path.stem for path in REAL}
    assert {"q221951-unpatched", "q221951-patched", "link-outage", "share-missing",
            "bad-credentials"} <= names


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_every_real_scenario_is_expressible_and_judged(path: Path) -> None:
    loaded = load_scenario(path)
    assert expressible(loaded.scenario) is None
    assert loaded.scenario.expect_real is not None
    scale = loaded.scenario.expect_real.scale or 10
    assert check_scale(loaded.scenario, loaded.policy, scale) is None


@pytest.mark.parametrize("trial", range(40))
def test_dials_and_lags_are_the_simulated_ones(trial: int) -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    recorder = Recorder()
    run_trial(loaded.scenario, loaded.policy, 221951, trial, recorder)
    events = recorder.events
    world = RealWorld(loaded.scenario, 221951, trial)
    plan = world.next_dial()
    failed = [e for e in events if e.source == "ras" and e.kind == "phase_failed"]
    connected = [e for e in events if e.source == "ras" and e.kind == "connected"]
    if failed:
        assert plan.code == failed[0].get("code")
        assert plan.seconds == pytest.approx(failed[0].t, abs=1e-9)
    else:
        assert plan.code == 0
        assert plan.seconds == pytest.approx(connected[0].t, abs=1e-9)
        lag = [e for e in events if e.source == "name_path" and e.kind == "lag"][0]
        assert world.next_lag() == lag.get("lag")


def test_scheduled_fault_windows_open_at_their_milestone() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "link-outage.toml")
    world = RealWorld(loaded.scenario, 221951, 0)
    (window,) = world.windows
    assert window.begin is None
    world.reach("connected", 11.5)
    assert (window.begin, window.duration) == (13.5, 8.0)
    assert world.active("link_outage", 13.4) is None
    assert world.active("link_outage", 13.5) is window
    assert world.active("link_outage", 21.5) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"link": {"latency": {"dist": "lognormal", "median": "600ms", "p95": "1.8s"}}},
     "link.latency"),
    ({"faults": [{"kind": "server_paused", "at": "0s"}]}, "faults[0].kind"),
    ({"faults": [{"kind": "link_outage", "mean_interval": "10m", "duration": "3s"}]},
     "faults[0].mean_interval"),
    ({"faults": [{"kind": "ports_held", "at": "dial", "duration": "30s"}]}, "faults[0].at"),
    ({"faults": [{"kind": "ports_held", "at": "dial + 0s", "duration": "30s"}]},
     "faults[0].at"),
])
def test_what_the_testbed_cannot_express_is_named(change: dict, field: str) -> None:  # type: ignore[type-arg]
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    scenario = loaded.scenario.model_copy(update={
        key: (type(getattr(loaded.scenario, key)).model_validate(value) if key == "link"
              else [type(loaded.scenario).model_fields["faults"].annotation.__args__[0]
                    .model_validate(v) for v in value])  # type: ignore[union-attr]
        for key, value in change.items()})
    why = expressible(scenario)
    assert why is not None and why.startswith(field)


def test_a_scale_that_makes_timers_too_short_is_refused() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    why = check_scale(loaded.scenario, loaded.policy, 20)
    assert why is not None and "netbt.name_query_timeout" in why and "--scale 10" in why
    assert check_scale(loaded.scenario, loaded.policy, 10) is None


def test_ports_held_with_an_offset_or_at_the_start_is_expressible() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    fault = type(loaded.scenario).model_fields["faults"].annotation.__args__[0]  # type: ignore[union-attr]
    for at in ("0s", "dial + 1s", "connected + 2s"):
        spec = fault.model_validate({"kind": "ports_held", "at": at, "duration": "30s"})
        assert expressible(loaded.scenario.model_copy(update={"faults": [spec]})) is None, at


def test_a_predialed_link_is_refused_naming_the_field() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    ras = loaded.scenario.ras.model_copy(update={"predialed": 60.0})
    why = expressible(loaded.scenario.model_copy(update={"ras": ras}))
    assert why is not None and why.startswith("ras.predialed:")
