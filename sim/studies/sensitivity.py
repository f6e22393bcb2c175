"""Which world parameter moves the answer: global sensitivity with SALib on common seeds.

Rules:

1. A parameter is a named knob of the world (``PARAMETERS``): a lognormal's ``median`` or
   ``spread`` (p95 / median), an exponential's ``mean``, a NetBT timer, a dial phase's
   median, spread or mean and its failure rate, a stochastic link outage's
   ``mean_interval`` and duration (``ADDED_OUTAGE`` when the scenario has none), the
   policy's ``settle``. Its range is ``low:high`` (durations
   with units). Every value a sample may take is validated by the scenario schema at both
   ends before any trial runs, so a range outside the schema's limits, or an empty one,
   is bad input (``ScenarioError`` naming the parameter and the fix).
2. SALib draws the sample points (Morris elementary effects or Saltelli/Sobol) and analyses
   them, with bootstrap confidence intervals on every index (SALib's ``conf_level`` 0.95).
3. Every sample point runs the same trials on the same seed: common random numbers (trial
   i draws from (seed, i) and distributions sample by inverse CDF), so differences between
   points are the parameters' doing, not the dice's.
4. The outputs are the success rate and the final-53 rate under the scenario's policy.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sender.policy import PolicyError, RetryPolicy
from sim.draws.distributions import Exponential, LogNormal
from sim.draws.units import parse_duration
from sim.run.runner import run_trials
from sim.scenario.loader import LoadedScenario, ScenarioError
from sim.scenario.schema import FaultSpec, NetbtSpec, PhaseFailure, Scenario

__all__ = ["ADDED_OUTAGE", "DEFAULT_PARAMETERS", "PARAMETERS", "Parameter", "SensitivityResult",
           "parse_ranges", "read_ranges", "sensitivity"]

World = tuple[Scenario, RetryPolicy]


@dataclass(frozen=True, slots=True)
class Parameter:
    """A knob: how to set it, whether it is an integer, and whether it is a duration."""

    name: str
    set: Callable[[Scenario, RetryPolicy, float], World]
    integer: bool = False
    duration: bool = True


def _lognormal(dist: Any, name: str, *, median: float | None = None,
               spread: float | None = None) -> LogNormal:
    if not isinstance(dist, LogNormal):
        raise ScenarioError(f"{name}: the scenario's distribution is {dist.describe()}, not a "
                            "lognormal; vary its own parameters instead")
    mu, sigma = dist.log_params
    old_median, old_spread = math.exp(mu), math.exp(sigma * 1.6448536269514722)
    m = old_median if median is None else median
    s = old_spread if spread is None else spread
    try:
        return LogNormal.model_validate({"dist": "lognormal", "median": f"{m!r}s",
                                         "p95": f"{m * s!r}s"})
    except ValueError as error:
        raise ScenarioError(f"{name} = {m if median is not None else s:g}: "
                            f"{_first(error)}") from None


def _first(error: Exception) -> str:
    text = str(error).splitlines()
    return (text[2] if len(text) > 2 else text[-1]).strip().removeprefix("Value error, ")


def _dist_knob(section: str, field: str, knob: str) -> Callable[[Scenario, RetryPolicy, float],
                                                                 World]:
    name = f"{section}.{field}.{knob}"

    def set_(scenario: Scenario, policy: RetryPolicy, value: float) -> World:
        spec = getattr(scenario, section)
        dist = getattr(spec, field)
        new: Any
        if knob == "mean":
            if not isinstance(dist, Exponential):
                raise ScenarioError(f"{name}: the scenario's distribution is "
                                    f"{dist.describe()}, not an exponential")
            if value <= 0:
                raise ScenarioError(f"{name} = {value:g}: the mean must be positive")
            new = Exponential(dist="exponential", mean=value)
        else:
            new = _lognormal(dist, name, **{knob: value})
        changed = spec.model_copy(update={field: new})
        return scenario.model_copy(update={section: changed}), policy

    return set_


def _netbt(field: str) -> Callable[[Scenario, RetryPolicy, float], World]:
    def set_(scenario: Scenario, policy: RetryPolicy, value: float) -> World:
        text: Any = int(value) if field.endswith("count") else f"{value!r}s"
        try:
            checked = NetbtSpec.model_validate({field: text})
        except ValueError as error:
            raise ScenarioError(f"netbt.{field} = {value:g}: {_first(error)}") from None
        netbt = scenario.netbt.model_copy(update={field: getattr(checked, field)})
        return scenario.model_copy(update={"netbt": netbt}), policy

    return set_


def _failure_rate(phase: str) -> Callable[[Scenario, RetryPolicy, float], World]:
    def set_(scenario: Scenario, policy: RetryPolicy, value: float) -> World:
        old = getattr(scenario.ras, f"{phase}_failure")
        try:
            new = PhaseFailure.model_validate({"rate": value, "codes": list(old.codes) or [651]})
        except ValueError as error:
            raise ScenarioError(f"ras.{phase}_failure.rate = {value:g}: {_first(error)}") from None
        ras = scenario.ras.model_copy(update={f"{phase}_failure": new})
        return scenario.model_copy(update={"ras": ras}), policy

    return set_


#: The stochastic link outage added when a scenario has none and an outage knob is varied
#: [I]: one an hour on average, lasting exponential(mean 30s). Only the knob varied departs
#: from it.
ADDED_OUTAGE: dict[str, Any] = {"kind": "link_outage", "name": "sensitivity-outage",
                                "mean_interval": "1h",
                                "duration": {"dist": "exponential", "mean": "30s"}}


def _outage(knob: str) -> Callable[[Scenario, RetryPolicy, float], World]:
    """``faults.link_outage.mean_interval`` or ``.duration`` (the duration's typical value:
    an exponential's mean, a lognormal's median keeping its spread, a constant's value) of
    the scenario's first stochastic link outage, or of ``ADDED_OUTAGE`` when it has none."""
    name = f"faults.link_outage.{knob}"

    def set_(scenario: Scenario, policy: RetryPolicy, value: float) -> World:
        faults = list(scenario.faults)
        index = next((i for i, f in enumerate(faults)
                      if f.kind == "link_outage" and f.mean_interval is not None), None)
        old = (FaultSpec.model_validate(ADDED_OUTAGE) if index is None else faults[index])
        data = old.model_dump(exclude_none=True)
        data["mean_interval"] = f"{old.mean_interval!r}s"
        data.pop("duration")
        duration: Any = old.duration
        if knob == "mean_interval":
            data["mean_interval"] = f"{value!r}s"
        elif isinstance(duration, Exponential):
            duration = {"dist": "exponential", "mean": f"{value!r}s"}
        elif isinstance(duration, LogNormal):
            duration = _lognormal(duration, name, median=value)
        else:
            duration = f"{value!r}s"
        data["duration"] = duration
        try:
            new = FaultSpec.model_validate(data)
        except ValueError as error:
            raise ScenarioError(f"{name} = {value:g}: {_first(error)}") from None
        if index is None:
            faults.append(new)
        else:
            faults[index] = new
        return scenario.model_copy(update={"faults": faults}), policy

    return set_


def _settle(scenario: Scenario, policy: RetryPolicy, value: float) -> World:
    try:
        return scenario, policy.replace(settle=value)
    except PolicyError as error:
        raise ScenarioError(f"policy.settle = {value:g}: {error.message}") from None


PARAMETERS: dict[str, Parameter] = {p.name: p for p in [
    Parameter("link.latency.median", _dist_knob("link", "latency", "median")),
    Parameter("link.latency.spread", _dist_knob("link", "latency", "spread"), duration=False),
    Parameter("name_path.lag.median", _dist_knob("name_path", "lag", "median")),
    Parameter("name_path.lag.spread", _dist_knob("name_path", "lag", "spread"), duration=False),
    Parameter("name_path.lag.mean", _dist_knob("name_path", "lag", "mean")),
    Parameter("netbt.name_query_timeout", _netbt("name_query_timeout")),
    Parameter("netbt.name_query_count", _netbt("name_query_count"), integer=True,
              duration=False),
    *(Parameter(f"ras.{phase}.{knob}", _dist_knob("ras", phase, knob),
                duration=knob != "spread")
      for phase in ("connect", "authenticate", "project")
      for knob in ("median", "spread", "mean")),
    *(Parameter(f"ras.{phase}_failure.rate", _failure_rate(phase), duration=False)
      for phase in ("connect", "authenticate", "project")),
    Parameter("faults.link_outage.mean_interval", _outage("mean_interval")),
    Parameter("faults.link_outage.duration", _outage("duration")),
    Parameter("policy.settle", _settle),
]}

#: Ranges used when none are given: the SNA world's uncertain knobs (domain-facts 7).
DEFAULT_PARAMETERS: dict[str, tuple[str, str]] = {
    "link.latency.median": ("300ms", "1.5s"),
    "link.latency.spread": ("1.5", "5"),
    "name_path.lag.median": ("300ms", "5s"),
    "name_path.lag.spread": ("2", "20"),
    "netbt.name_query_timeout": ("1s", "3s"),
    "netbt.name_query_count": ("2", "5"),
    "policy.settle": ("0s", "10s"),
}


def _value(parameter: Parameter, text: str) -> float:
    try:
        return parse_duration(text) if parameter.duration else float(text)
    except ValueError as error:
        unit = "a duration with a unit, e.g. 1.5s" if parameter.duration else "a number"
        raise ScenarioError(f"{parameter.name}: {text!r} is not {unit} ({error})") from None


def _ranges(items: Mapping[str, tuple[str, str]], where: str) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for name, (low, high) in items.items():
        parameter = PARAMETERS.get(name)
        if parameter is None:
            raise ScenarioError(f"{where}: unknown parameter {name!r}; known: "
                                f"{', '.join(PARAMETERS)}")
        a, b = _value(parameter, low), _value(parameter, high)
        if not (math.isfinite(a) and math.isfinite(b)) or not a < b:
            raise ScenarioError(f"{where}: {name} = {low}:{high} is an empty range; write "
                                "LOW:HIGH with LOW < HIGH")
        out[name] = (a, b)
    if not out:
        raise ScenarioError(f"{where}: no parameters; name at least two")
    return out


def parse_ranges(text: str) -> dict[str, tuple[float, float]]:
    """``--params name=low:high,name=low:high`` (rule 1)."""
    items: dict[str, tuple[str, str]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, span = part.partition("=")
        low, colon, high = span.partition(":")
        if not (eq and colon):
            raise ScenarioError(f"--params {part!r}: write NAME=LOW:HIGH, e.g. "
                                "link.latency.median=300ms:2s")
        items[name.strip()] = (low.strip(), high.strip())
    return _ranges(items, "--params")


def read_ranges(path: Path) -> dict[str, tuple[float, float]]:
    """A TOML file: ``[params]`` with ``"name" = ["low", "high"]`` (rule 1)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read it ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from None
    extra = set(data) - {"params"}
    if extra or not isinstance(data.get("params"), dict):
        raise ScenarioError(f"{path}: expected one [params] table (got {sorted(data)})")
    items: dict[str, tuple[str, str]] = {}
    for name, span in data["params"].items():
        if not (isinstance(span, list) and len(span) == 2):
            raise ScenarioError(f"{path}: params.{name}: write [\"LOW\", \"HIGH\"]")
        items[name] = (str(span[0]), str(span[1]))
    return _ranges(items, str(path))


def _apply(loaded: LoadedScenario, names: Sequence[str], row: Sequence[float]) -> World:
    scenario, policy = loaded.scenario, loaded.policy
    for name, value in zip(names, row, strict=True):
        parameter = PARAMETERS[name]
        scenario, policy = parameter.set(scenario, policy,
                                         float(round(value)) if parameter.integer else float(value))
    return scenario, policy


@dataclass(frozen=True, slots=True)
class SensitivityResult:
    """Indices per output: name -> (index, its 95% bootstrap half-width), and the samples."""

    method: str
    names: tuple[str, ...]
    index_name: str  # "mu_star" (Morris) or "ST" (Sobol total order)
    indices: dict[str, dict[str, tuple[float, float]]]  # output -> parameter -> (value, conf)
    points: int
    trials: int
    seed: int


def sensitivity(loaded: LoadedScenario, ranges: Mapping[str, tuple[float, float]], *,
                method: str = "morris", samples: int = 8, trials: int = 200,
                seed: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> SensitivityResult:
    """Rules 2 to 4. ``samples`` is Morris trajectories or Sobol's base sample size."""
    # why: SALib and scipy are the optional calibrate extra
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    names = tuple(ranges)
    for name, (low, high) in ranges.items():  # rule 1: both ends valid before any trial
        for value in (low, high):
            _apply(loaded, (name,), (value,))
    problem = {"num_vars": len(names), "names": list(names),
               "bounds": [list(ranges[n]) for n in names]}
    run_seed = loaded.scenario.seed if seed is None else seed
    if method == "morris":
        x = morris_sample.sample(problem, samples, num_levels=4, seed=run_seed % 2**32)
    else:
        x = sobol_sample.sample(problem, samples, calc_second_order=False,
                                seed=run_seed % 2**32)
    success = np.empty(len(x))
    rate_53 = np.empty(len(x))
    for i, row in enumerate(x):
        scenario, policy = _apply(loaded, names, row)
        summary = run_trials(scenario, policy, trials=trials, seed=run_seed, workers=1).summary
        success[i], rate_53[i] = summary.success_rate, summary.rate(53)
        if progress is not None:
            progress(i + 1, len(x))
    indices: dict[str, dict[str, tuple[float, float]]] = {}
    for output, y in (("success rate", success), ("53 rate", rate_53)):
        if method == "morris":
            got = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=4,
                                         seed=run_seed % 2**32)
            key, conf = "mu_star", "mu_star_conf"
        else:
            got = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                        seed=run_seed % 2**32)
            key, conf = "ST", "ST_conf"
        indices[output] = {n: (float(np.nan_to_num(got[key][j])),
                               float(np.nan_to_num(got[conf][j])))
                           for j, n in enumerate(names)}
    return SensitivityResult(method, names, "mu_star" if method == "morris" else "ST",
                             indices, len(x), trials, run_seed)
