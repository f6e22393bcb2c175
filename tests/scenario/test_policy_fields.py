"""The one list of policy fields (sim.scenario.policy_fields) matches RetryPolicy both ways,
and the models and tables that derive from it agree with it."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from sender.policy import JITTER_MODES, Jitter, RetryPolicy
from sim.scenario import policy_fields
from sim.scenario.policy_fields import FIELDS, POLICY_FIELDS, SWEEPABLE, TUNABLE, by_name
from sim.scenario.schema import PolicyTable
from sim.studies.grid import VarySpec
from sim.studies.tune.space import ParamsSpec

#: The annotation each kind stands for on the RetryPolicy dataclass.
ANNOTATION = {"text": "str", "int": "int", "float": "float", "duration": "float",
              "jitter": "Jitter", "codes": "frozenset[int]"}


def test_every_dataclass_field_is_listed_and_vice_versa() -> None:
    declared = dataclasses.fields(RetryPolicy)
    assert [f.name for f in FIELDS] == [f.name for f in declared]
    for spec, field in zip(FIELDS, declared, strict=True):
        annotation = ANNOTATION[spec.kind] + (" | None" if spec.optional else "")
        assert field.type == annotation, spec.name


def test_optional_fields_are_those_that_default_to_none() -> None:
    default = RetryPolicy()
    assert {f.name for f in FIELDS if f.optional} == \
        {f.name for f in dataclasses.fields(RetryPolicy) if getattr(default, f.name) is None}


def test_derived_models_have_the_listed_fields() -> None:
    assert tuple(PolicyTable.model_fields) == ("preset", *(f.name for f in FIELDS))
    assert tuple(VarySpec.model_fields) == SWEEPABLE
    assert tuple(ParamsSpec.model_fields) == TUNABLE
    assert POLICY_FIELDS == tuple(f.name for f in FIELDS[1:])


def test_a_drifted_model_fails_on_import() -> None:
    class Short(PolicyTable):
        pass

    policy_fields.check_model(Short, tuple(f.name for f in FIELDS), extra=("preset",))
    with pytest.raises(TypeError, match="drifted"):
        policy_fields.check_model(Short, tuple(f.name for f in FIELDS))


def test_jitter_modes_are_the_literal() -> None:
    assert JITTER_MODES == get_args(Jitter) == ("none", "full", "equal", "decorrelated")
    jitter = VarySpec.model_json_schema()["properties"]["jitter"]
    assert tuple(jitter["anyOf"][0]["items"]["enum"]) == JITTER_MODES


def test_column_types_follow_the_kind() -> None:
    assert by_name("site_retries").arrow_type == "int64"
    assert by_name("budget_tokens").arrow_type == "int64"
    assert by_name("deadline").arrow_type == "float64"
    assert by_name("retry_on").arrow_type == "string"
    with pytest.raises(KeyError):
        by_name("attempts")


def test_plot_labels_come_from_the_list() -> None:
    pytest.importorskip("matplotlib")
    from sim.plots._curves import axis_label

    for field in FIELDS[1:]:
        assert axis_label(f"policy.{field.name}") == field.label
    assert axis_label("attempts_per_dial") == "map attempts per dial"  # as before the list
