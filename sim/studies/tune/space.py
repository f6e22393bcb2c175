"""Search-space files for ``rassim tune``: which policy fields to search, over what values.

A space is TOML::

    [base]                          # optional: the policy the search changes (a preset
    preset = "connras-fix"          # plus fields); default: the scenario's own policy
    max_wait = "1m"

    [params]
    attempts_per_dial = { low = 1, high = 8 }                   # whole numbers, inclusive
    initial_wait = { low = "500ms", high = "20s", step = "500ms" }   # durations need units
    redial_wait = { low = "5s", high = "5m", log = true }       # log scale
    backoff_base = { low = 1.0, high = 2.0 }
    jitter = ["none", "full"]                                   # a list: choose one of these
    max_dials = { choices = [1, 3] }                            # the same, spelled out

Rules:

1. Validated eagerly with the messages of ``sim.scenario.loader`` (file, line, dotted path, fix):
   unknown fields, a range without low/high or with low >= high, ``log`` with a
   non-positive low or with a step, a step that does not divide the range, empty or
   repeated choices, ``retry_on``/``redial_on`` (sets of codes are set in [base], not
   searched), an empty [params].
2. Every range endpoint and every choice must make a valid policy with the base and with
   at least one combination of the other searched fields' endpoints and choices. So
   ``initial_wait`` up to 20 s against a base ``max_wait`` of 5 s is a file error, but not
   when ``max_wait`` is searched up to 1 m too: the combinations that are invalid
   (``initial_wait`` above ``max_wait``) are then dropped per candidate as invalid.
3. Suggested durations are snapped to the step, or to whole milliseconds without one, and
   floats without a step to 3 decimals, so names and TOML show the values the policy uses.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from sender.policy import Jitter, PolicyError, RetryPolicy
from sim.draws.distributions import Duration
from sim.scenario.limits import work_problem_of, worst_case_work_of
from sim.scenario.loader import ScenarioError, _line_hint
from sim.scenario.policy_fields import TUNABLE, by_name, check_model
from sim.scenario.policy_text import format_value, point_name
from sim.scenario.schema import PolicyTable, Scenario
from sim.studies.grid import read_toml, resolve_table, validation_message

__all__ = ["Param", "Space", "load_space"]

StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Range(_Strict):
    """Either ``choices`` or ``low`` and ``high`` (with ``step`` or ``log``)."""

    log: bool = False

    @model_validator(mode="before")
    @classmethod
    def _list_is_choices(cls, value: Any) -> Any:
        return {"choices": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> _Range:
        choices = getattr(self, "choices", None)
        low, high = getattr(self, "low", None), getattr(self, "high", None)
        step = getattr(self, "step", None)
        if choices is not None:
            if low is not None or high is not None or step is not None or self.log:
                raise ValueError("give either choices or a range (low, high), not both")
            if not choices:
                raise ValueError("choices is empty; list the values to choose from")
            for i, choice in enumerate(choices):
                if choice in choices[:i]:
                    raise ValueError(f"choice {choice!r} is listed twice; remove one")
            return self
        if low is None or high is None:
            raise ValueError("a range needs low and high (or write a list of choices)")
        if not low < high:
            raise ValueError(f"low ({low}) must be below high ({high}); to fix a value, set "
                             "it in [base] instead")
        if self.log and low <= 0:
            raise ValueError("a log-scale range needs low > 0")
        if step is not None:
            if self.log:
                raise ValueError("give step or log = true, not both")
            if not step > 0:
                raise ValueError("step must be positive")
            count = (high - low) / step
            if not count <= MAX_STEPS:  # inf and NaN too: Optuna's Decimal grid would fail
                raise ValueError(f"step {step:g} cuts the range into more than "
                                 f"{MAX_STEPS:,} steps; use a larger step or log = true")
            if abs(count - round(count)) > 1e-9:
                raise ValueError(f"high - low ({high - low:g}) must be a whole number of "
                                 f"steps ({step:g})")
        return self


#: Most grid points a stepped range may have (a step of 1e-300 made Optuna's Decimal
#: arithmetic fail once the study ran).
MAX_STEPS = 1_000_000


class IntRange(_Range):
    low: StrictInt | None = None
    high: StrictInt | None = None
    step: StrictInt | None = None
    choices: list[StrictInt] | None = None


class FloatRange(_Range):
    low: StrictFloat | None = None
    high: StrictFloat | None = None
    step: StrictFloat | None = None
    choices: list[StrictFloat] | None = None


class DurationRange(_Range):
    low: Duration | None = None
    high: Duration | None = None
    step: Duration | None = None
    choices: list[Duration] | None = None


class JitterChoices(_Range):
    choices: list[Jitter] | None = None


class ParamsSpec(_Strict):
    attempts_per_dial: IntRange | None = None
    settle: DurationRange | None = None
    initial_wait: DurationRange | None = None
    backoff_base: FloatRange | None = None
    max_wait: DurationRange | None = None
    jitter: JitterChoices | None = None
    deadline: DurationRange | None = None
    redial_after: IntRange | None = None
    max_dials: IntRange | None = None
    redial_wait: DurationRange | None = None


# Rule 2 of sim.scenario.policy_fields: [params] takes exactly the tunable fields, in order.
check_model(ParamsSpec, TUNABLE)


class SpaceFile(_Strict):
    base: PolicyTable | None = None
    params: ParamsSpec


@dataclass(frozen=True, slots=True)
class Param:
    """One searched field: ``choices``, or an inclusive range [low, high]."""

    field: str
    kind: Literal["int", "float", "duration", "choice"]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial: Any) -> Any:
        """A value from an Optuna trial, snapped (rule 3)."""
        if self.choices is not None:
            return trial.suggest_categorical(self.field, list(self.choices))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return trial.suggest_int(self.field, int(self.low), int(self.high),
                                     step=int(self.step or 1), log=self.log)
        value = trial.suggest_float(self.field, self.low, self.high, step=self.step,
                                    log=self.log)
        return self.snap(value)

    def snap(self, value: float) -> float:
        assert self.low is not None and self.high is not None
        if self.step is not None:
            k = round((value - self.low) / self.step)
            value = self.low + k * self.step
            # Nanosecond resolution removes float noise such as 0.30000000000000004.
            value = round(value * 1e9) / 1e9
        else:
            value = round(value, 3)
        return min(self.high, max(self.low, value))

    def extremes(self) -> tuple[Any, ...]:
        return self.choices if self.choices is not None else (self.low, self.high)

    def describe(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


@dataclass(frozen=True, slots=True)
class Space:
    """A validated search space: the base policy, its label, and the searched fields."""

    path: Path
    base: RetryPolicy
    base_label: str
    params: tuple[Param, ...]

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One value per searched field, from an Optuna trial, in file order."""
        return {param.field: param.suggest(trial) for param in self.params}

    def policy(self, values: dict[str, Any]) -> RetryPolicy:
        """The policy for ``values``; ``PolicyError`` when the combination is invalid."""
        name = point_name(self.base_label, [(p.field, values[p.field]) for p in self.params])
        return self.base.replace(name=name, **values)

    def check_work(self, scenario: Scenario) -> None:
        """``ScenarioError`` with the estimate when the space's largest candidate (each
        field that bounds a trial's steps at its highest searched value) could take more
        than ``sim.scenario.limits.MAX_WORK`` steps per trial."""
        highest = {p.field: max(p.extremes()) for p in self.params
                   if p.field in ("attempts_per_dial", "max_dials")}
        attempts = int(highest.get("attempts_per_dial", self.base.attempts_per_dial))
        dials = int(highest.get("max_dials", self.base.max_dials))
        problem = work_problem_of(scenario, *worst_case_work_of(
            scenario, attempts, dials, self.base.site_retries))
        if problem is not None:
            raise ScenarioError(f"{self.path}: its largest candidates (attempts_per_dial = "
                                f"{attempts}, max_dials = {dials}): {problem}; or narrow "
                                "the searched ranges")

    def digest(self) -> str:
        """A hash of what the space means (not how it is written): a study's identity."""
        text = json.dumps({"base": self.base.describe(),
                           "params": [[p.field, p.kind, p.describe()] for p in self.params]},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _kind(field: str) -> Literal["int", "float", "duration", "choice"]:
    kind = by_name(field).kind
    if kind == "jitter":
        return "choice"
    assert kind in ("int", "float", "duration"), field  # TUNABLE holds no other kinds
    return kind


def _invalid_everywhere(base: RetryPolicy, field: str, value: Any,
                        others: list[Param]) -> PolicyError | None:
    """None if ``field = value`` makes a valid policy with the base and *some* combination
    of the other searched fields' extremes (rule 2); else the error with the base alone."""
    try:
        base.replace(**{field: value})
        return None
    except PolicyError as failure:
        first = failure
    names = [p.field for p in others]
    # Bounded: a space is a handful of fields, but a long choices list must not explode.
    for combo in itertools.islice(itertools.product(*(p.extremes() for p in others)), 4096):
        try:
            base.replace(**{field: value}, **dict(zip(names, combo, strict=True)))
            return None
        except PolicyError:
            continue
    return first


def load_space(path: str | Path, scenario_policy: RetryPolicy) -> Space:
    """Load and validate a space file (rules 1 and 2)."""
    path = Path(path)
    data, text = read_toml(path, "search space")
    params_table = data.get("params")
    for field in ("retry_on", "redial_on", "name"):
        if isinstance(params_table, dict) and field in params_table:
            raise ScenarioError(
                f"{path}: {_line_hint([(path, text)], ('params', field))}params.{field}: "
                f"cannot be searched; set it in [base]")
    try:
        spec = SpaceFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(validation_message(path, text, error, "see `rassim tune --help`",
                                               SpaceFile)) from None
    fields = [f for f in data.get("params", {}) if getattr(spec.params, f) is not None]
    if not fields:
        raise ScenarioError(f"{path}: {_line_hint([(path, text)], ('params',))}params: "
                            "nothing to search; add a field with a range or choices, e.g. "
                            "attempts_per_dial = { low = 1, high = 8 }")
    base = (resolve_table(spec.base, "base", path, text) if spec.base is not None
            else scenario_policy)
    label = base.name
    if spec.base is not None and spec.base.name is None:
        label = spec.base.preset or "custom"
    params = []
    for field in fields:
        r = getattr(spec.params, field)
        choices = tuple(r.choices) if r.choices is not None else None
        params.append(Param(field, _kind(field), r.low if choices is None else None,
                            r.high if choices is None else None,
                            getattr(r, "step", None), r.log, choices))
    for param in params:
        others = [p for p in params if p is not param]
        for value in param.extremes():
            problem = _invalid_everywhere(base, param.field, value, others)
            if problem is None:
                continue
            where = ("choices" if param.choices is not None
                     else "low" if value == param.low else "high")
            loc = ("params", param.field, where)
            fix = (f"set {problem.field} in [base] or search it too"
                   if problem.field != param.field else "change the value")
            raise ScenarioError(
                f"{path}: {_line_hint([(path, text)], loc)}params.{param.field}.{where}: "
                f"{format_value(param.field, value)} makes an invalid policy with the base: "
                f"{problem.field}: {problem.message}; {fix}"
            )
    return Space(path, base, label, tuple(params))
