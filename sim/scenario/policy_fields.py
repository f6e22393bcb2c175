"""The ONE list of ``RetryPolicy`` fields, with what every consumer needs to know about each.

Rules:

1. ``FIELDS`` lists every field of ``sender.policy.RetryPolicy`` in declaration order, each
   with its ``kind`` (how it is written, stored and typed), its ``label`` (with units, for
   plot axes and tables), whether it may be ``None`` and whether a grid may vary it
   (``sweepable``). tests/scenario/test_policy_fields.py checks the list against the
   dataclass both ways, kind against annotation.
2. Everything else derives from it: the scenario's ``PolicyTable``, the grid's ``VarySpec``
   and the tune space's ``ParamsSpec`` (``check_model`` at import: a model that drifts from
   the list fails on import, not in a user's sweep), ``policy_text``'s field sets, the
   sweep's Arrow column types (``arrow_type``), the sweep figure's numeric axes and the
   plots' axis labels.
3. A field's kind fixes its column type: ``int`` -> int64, ``float``/``duration`` ->
   float64, ``jitter``/``codes``/``text`` -> string (codes as space-separated numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CODE_FIELDS", "DURATION_FIELDS", "FIELDS", "FieldKind", "INT_FIELDS",
           "NUMERIC_KINDS", "POLICY_FIELDS", "PolicyField", "SWEEPABLE", "TUNABLE", "by_name",
           "check_model", "labels"]

FieldKind = Literal["text", "int", "float", "duration", "jitter", "codes"]
NUMERIC_KINDS: frozenset[FieldKind] = frozenset({"int", "float", "duration"})


@dataclass(frozen=True, slots=True)
class PolicyField:
    """One policy field (rule 1)."""

    name: str
    kind: FieldKind
    label: str
    optional: bool = False
    sweepable: bool = False

    @property
    def numeric(self) -> bool:
        """Whether a plot can put it on an axis."""
        return self.kind in NUMERIC_KINDS

    @property
    def arrow_type(self) -> str:
        """The Arrow type name of its sweep column (rule 3): ``int64``, ``float64``, ``string``."""
        return {"int": "int64", "float": "float64", "duration": "float64"}.get(self.kind,
                                                                               "string")


FIELDS: tuple[PolicyField, ...] = (
    PolicyField("name", "text", "policy"),
    PolicyField("attempts_per_dial", "int", "map attempts per dial", sweepable=True),
    PolicyField("settle", "duration", "settle after Connected (s)", sweepable=True),
    PolicyField("initial_wait", "duration", "first wait between maps (s)", sweepable=True),
    PolicyField("backoff_base", "float", "backoff factor", sweepable=True),
    PolicyField("max_wait", "duration", "longest wait between maps (s)", sweepable=True),
    PolicyField("jitter", "jitter", "jitter mode", sweepable=True),
    PolicyField("deadline", "duration", "deadline (s)", optional=True, sweepable=True),
    PolicyField("retry_on", "codes", "codes retried", sweepable=True),
    PolicyField("redial_after", "int", "failed maps before a redial", optional=True,
                sweepable=True),
    PolicyField("redial_on", "codes", "codes that count towards a redial", sweepable=True),
    PolicyField("max_dials", "int", "dials allowed", sweepable=True),
    PolicyField("redial_wait", "duration", "wait before a redial (s)", sweepable=True),
    PolicyField("site_backoff", "duration", "site back-off between rounds (s)"),
    PolicyField("site_retries", "int", "site-level retry rounds"),
    PolicyField("budget_tokens", "int", "retry budget (tokens)", optional=True),
    PolicyField("budget_ratio", "float", "retry budget refill per success (tokens)"),
)

_BY_NAME = {f.name: f for f in FIELDS}

#: Fields that are behaviour (all but ``name``): a policy's identity, the sweep's columns.
POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.name != "name")
DURATION_FIELDS = frozenset(f.name for f in FIELDS if f.kind == "duration")
INT_FIELDS = frozenset(f.name for f in FIELDS if f.kind == "int")
CODE_FIELDS = frozenset(f.name for f in FIELDS if f.kind == "codes")
#: Fields a grid's ``[vary]`` may list values of.
SWEEPABLE: tuple[str, ...] = tuple(f.name for f in FIELDS if f.sweepable)
#: Fields a tune space's ``[params]`` may search: the sweepable ones but the code sets.
TUNABLE: tuple[str, ...] = tuple(f.name for f in FIELDS if f.sweepable and f.kind != "codes")


def by_name(name: str) -> PolicyField:
    """The field called ``name`` (``KeyError`` for a name that is not a policy field)."""
    return _BY_NAME[name]


def labels() -> dict[str, str]:
    """Axis labels of the behaviour fields, by name."""
    return {f.name: f.label for f in FIELDS if f.name != "name"}


def check_model(model: type, names: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Raise ``TypeError`` unless the Pydantic ``model`` has exactly the fields ``names`` (in
    order) plus ``extra`` first: the import-time guard of rule 2."""
    have = tuple(model.model_fields)  # type: ignore[attr-defined]
    if have != (*extra, *names):
        raise TypeError(f"{model.__name__} fields {have} drifted from sim.scenario."
                        f"policy_fields {(*extra, *names)}; derive them from FIELDS")
