"""The trace vocabulary (sim.world.events) is the only one: every event a trial records is a
member of its source's kind enum, every component event has its timeline text, and the fault
kinds are one type that the schema, the world and the plots share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from sim.report import render
from sim.scenario.loader import load_scenario
from sim.scenario.schema import FAULT_KINDS, FaultKind, FaultSpec, RasSpec
from sim.trial.trial import run_trial
from sim.world.board import BOARD_KINDS
from sim.world.events import SMB_STEPS, VOCABULARY, SenderEvent, SmbEvent, Source
from sim.world.trace import Recorder

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.mark.parametrize("name", ["faults-link-flap.toml", "q221951-unpatched.toml",
                                  "q221951-rasdial-first.toml", "fleet-outage-budget.toml"])
def test_every_recorded_event_is_a_vocabulary_member(name: str) -> None:
    loaded = load_scenario(SCENARIOS / name)
    seen: set[tuple[str, str]] = set()
    for trial in range(6):
        recorder = Recorder()
        run_trial(loaded.scenario, loaded.policy, 3, trial, recorder)
        for event in recorder.events:
            assert type(event.source) is Source, event
            assert type(event.kind) is VOCABULARY[event.source], event
            seen.add((event.source, event.kind))
    assert len(seen) > 8  # real traces with many kinds, not a vacuous pass


def test_every_component_event_has_timeline_text() -> None:
    # A kind added to the vocabulary without its line in the timeline fails here; the
    # sender's events and the SMB steps are described by rule, not by the table.
    for source, kinds in VOCABULARY.items():
        for kind in kinds:
            if source is Source.SENDER or kind in SMB_STEPS:
                continue
            assert (source, kind) in render._COMPONENT_TEXT, (source, kind)
    assert set(render._COMPONENT_TEXT) <= {(s, k) for s, ks in VOCABULARY.items() for k in ks}


def test_members_serialise_as_their_strings() -> None:
    # Rule 2: traces rendered as JSON lines and text keep the strings they always had.
    assert json.dumps({"source": Source.NAME_PATH, "kind": SmbEvent.SESSION_SETUP}) == \
        '{"source": "name_path", "kind": "session_setup"}'
    assert f"{Source.SENDER:<9}|{SenderEvent.RESULT}" == "sender   |result"
    assert SMB_STEPS == tuple(SmbEvent)[:4]


def test_fault_kinds_are_one_type() -> None:
    assert FAULT_KINDS == get_args(FaultKind)
    assert set(BOARD_KINDS) < set(FAULT_KINDS)
    schema = FaultSpec.model_json_schema()["properties"]["kind"]
    assert tuple(schema["enum"]) == FAULT_KINDS


def test_no_port_codes_are_the_catalog_busy_codes() -> None:
    # The one Literal that must spell code numbers out: they are these two catalog codes.
    from sender.codes import ERROR_LINE_BUSY, ERROR_PORT_NOT_AVAILABLE

    annotation = RasSpec.model_fields["no_port_code"].annotation
    assert set(get_args(annotation)) == {ERROR_LINE_BUSY, ERROR_PORT_NOT_AVAILABLE}
    assert RasSpec.model_fields["no_port_code"].default == ERROR_LINE_BUSY
