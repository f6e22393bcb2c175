"""Results as pandas DataFrames, so notebooks never parse files or summaries by hand.

Rules:

1. Every function is deterministic: the same arguments give an equal frame, for any worker
   count (trial i depends only on (scenario, policy, seed, i); summaries merge exactly).
   ``seed=None`` means the scenario's own seed, never a fresh random one.
2. A trials frame has exactly the columns ``sim.trial.results.ROW_FIELDS`` with the dtypes of
   ``ROW_DTYPES``, whether it was simulated (``trials_frame``) or read back from a
   ``rassim run --out`` file (``read_rows``): ``codes`` and ``faults`` are space-separated
   strings (``"53 629"``, as Parquet files hold them; a CSV file holds JSON lists,
   ``sim.report.output`` rule 5), and ``connect_time`` is NaN for trials that gave up.
3. Scenario parameters are changed on the validated model, never by editing TOML text
   (``with_overrides``): the scenario is turned back into the form a file would write
   (durations as ``"0.6s"`` strings) with the overrides applied, and validated again, so an
   override gets the same checks as a file. Dotted keys name fields
   (``"name_path.lag.median"``); keys starting with ``policy.`` change the retry policy.
   ``sender.policy`` (a preset name or a table) replaces the scenario's own policy, and
   ``sender.policy.<field>`` changes one field of it, as the file would; the result runs
   with that policy. Every key is applied or raises ``ScenarioError``: none is ignored.
   A changed scenario keeps only its world (what ``Scenario.public_dict`` covers): its
   ``[expect]`` and ``[search]`` tables described the original world and are dropped.
4. Setting a lognormal's ``median`` without its ``p95`` scales the ``p95`` by the same factor:
   the spread (sigma) stays and the whole distribution moves, which is what "vary the median
   latency" means. Set both to change the spread.
5. Memory: ``trials_frame`` holds one row per trial (about 200 bytes each); for runs of
   millions of trials use ``summarize`` and ``summary_frame``, which do not grow.

Frame shapes (the plotting functions in ``sim.plots`` take these):

* ``trials_frame`` / ``read_rows``: one row per trial, columns ``ROW_FIELDS``.
* ``summary_frame``: one row per labelled run (a ``Summary`` or a trials frame), columns
  ``SUMMARY_COLUMNS``; ``summary_of`` turns a trials frame into the ``Summary``.
* ``failures_frame``: one row per final failure code, columns ``FAILURE_COLUMNS``.
* ``grid_frame``: one row per grid point: a ``policy`` column, one column per grid key,
  then ``SUMMARY_COLUMNS`` without ``label``.
* ``sweep(...).table``: one row per policy of a grid file, the columns ``rassim sweep
  --out`` writes (``sim.studies.sweep.sweep_rows``); ``.summaries`` holds each policy's ``Summary``.
* ``trace_frame``: one row per trace event, columns ``t``, ``source``, ``kind``, ``fields``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeAlias, Union, get_args, get_origin

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ValidationError

from sender.codes import ERROR_BAD_NETPATH, symbol_of
from sender.policy import PolicyError, RetryPolicy, preset
from sim.draws.units import parse_duration
from sim.report.output import LIST_COLUMNS, from_csv_list
from sim.report.sidecar import read_sidecar
from sim.run.executors import LocalExecutor
from sim.run.runner import default_workers, run_trials, trial_cost
from sim.scenario.loader import (
    LoadedScenario,
    ScenarioError,
    did_you_mean,
    format_validation,
    load_scenario,
    resolve_policy,
)
from sim.scenario.schema import PolicyTable, Scenario
from sim.stats.intervals import wilson_interval
from sim.stats.summary import Summary
from sim.studies.grid import load_grid
from sim.studies.sweep import run_sweep, sweep_rows
from sim.trial.results import ROW_FIELDS, TrialResult
from sim.trial.trial import run_trial
from sim.world.trace import Recorder, TraceEvent

__all__ = [
    "FAILURE_COLUMNS", "ROW_DTYPES", "SUMMARY_COLUMNS", "Replayed", "Swept", "failures_frame",
    "grid_frame", "load", "read_rows", "replay", "summarize", "summary_frame", "summary_of",
    "sweep", "trace_frame", "trials_frame", "with_overrides",
]

#: dtypes of a trials frame (rule 2), in ``ROW_FIELDS`` order.
ROW_DTYPES: dict[str, str] = {
    "trial": "int64", "seed": "int64", "outcome": "object", "code": "int64",
    "reason": "object", "attempts": "int64", "dials": "int64", "connect_time": "float64",
    "end_time": "float64", "line_time": "float64", "codes": "object", "faults": "object",
    "senders": "int64", "senders_connected": "int64", "busy_signals": "int64",
    "port_utilization": "float64",
}
assert tuple(ROW_DTYPES) == ROW_FIELDS

#: Columns of ``summary_frame`` (and, without ``label``, of ``grid_frame``). Rates are
#: fractions in [0, 1]; ``ci_low``/``ci_high`` are the success rate's Wilson 95% interval and
#: ``ci53_low``/``ci53_high`` that of ``rate_53`` (trials that gave up with final code 53).
#: Times are seconds: ``connect_*`` over successful trials (NaN when none), ``line_time_*``
#: (the RAS port time this sender held) over all trials. The fleet columns
#: (``sim.stats.fleet_summary``): ``senders`` per trial (1 for a lone sender), the share of senders
#: that connected with its cluster-robust interval, ``work_mean`` (map attempts + dials per
#: trial), ``busy_rate`` (share of dials refused for want of a port), ``port_utilization``;
#: in a fleet ``success_rate`` is the share of trials where every sender connected and the
#: ``connect_*`` columns are the makespan's.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "label", "trials", "successes", "success_rate", "ci_low", "ci_high", "rate_53",
    "ci53_low", "ci53_high", "attempts_mean", "dials_mean", "connect_mean", "connect_p50",
    "connect_p90", "connect_p99", "line_time_mean", "line_time_p50", "line_time_p90",
    "senders", "sender_success_rate", "sender_ci_low", "sender_ci_high", "work_mean",
    "work_low", "work_high", "busy_rate", "busy_low", "busy_high", "port_utilization",
    "port_utilization_low", "port_utilization_high",
)

#: Columns of ``failures_frame``: ``rate`` is count / all trials, with its Wilson interval;
#: ``example_trial`` is the first trial that gave up with the code (the one to replay).
FAILURE_COLUMNS: tuple[str, ...] = (
    "code", "symbol", "count", "rate", "ci_low", "ci_high", "example_trial",
)

ScenarioLike = str | os.PathLike[str] | LoadedScenario | Scenario
PolicyLike = str | RetryPolicy | None


# --- loading ------------------------------------------------------------------------------
def _identity(scenario: Scenario) -> str:
    # The loader's identity rule: the hash of the resolved scenario, credentials redacted.
    return hashlib.sha256(json.dumps(scenario.public_dict(), sort_keys=True,
                                     separators=(",", ":")).encode()).hexdigest()


def load(scenario: ScenarioLike, policy: PolicyLike = None) -> LoadedScenario:
    """A loaded scenario from a path, a ``Scenario`` model or an already loaded one.

    ``policy`` (a preset name such as ``"connras-fix"``, or a ``RetryPolicy``) replaces the
    scenario's own policy. Bad input raises ``sim.scenario.loader.ScenarioError`` with the message
    the CLI would print.
    """
    if isinstance(scenario, LoadedScenario):
        loaded = scenario
    elif isinstance(scenario, Scenario):
        loaded = LoadedScenario(Path(f"<{scenario.name}>"), scenario,
                                resolve_policy(scenario.sender.policy), _identity(scenario))
    else:
        loaded = load_scenario(Path(scenario))
    if isinstance(policy, RetryPolicy):
        return loaded.with_policy(policy)
    if isinstance(policy, str):
        try:
            return loaded.with_policy(preset(policy))
        except PolicyError as error:
            raise ScenarioError(f"policy: {error.message}") from None
    return loaded


def _seed(loaded: LoadedScenario, seed: int | None) -> int:
    return loaded.scenario.seed if seed is None else seed


# --- trials -------------------------------------------------------------------------------
def _rows_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(ROW_FIELDS))
    return _normalise(frame)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Rule 2: the same dtypes from a simulation, a CSV file or a Parquet file."""
    frame = frame.copy()
    for column in LIST_COLUMNS:
        # A CSV cell is a JSON list; an older file's "53" may read back as 53, "" as NaN.
        frame[column] = [from_csv_list(value) for value in frame[column]]
    frame["connect_time"] = pd.to_numeric(frame["connect_time"], errors="coerce")
    return frame.astype(ROW_DTYPES)[list(ROW_FIELDS)].reset_index(drop=True)


def trials_frame(scenario: ScenarioLike, trials: int | None = None, seed: int | None = None,
                 policy: PolicyLike = None, *, workers: int | None = None) -> pd.DataFrame:
    """Run trials ``0..trials-1`` and return one row per trial (columns ``ROW_FIELDS``);
    ``trials=None`` runs the scenario's own trial count, as ``rassim run`` does.

    ``df.attrs["rassim"]`` holds the provenance a ``--out`` file carries (scenario name and
    sha256, seed, policy). Equal to ``read_rows`` of ``rassim run --out`` for the same run.
    ``workers=None`` uses all cores for runs big enough to repay process start-up.
    """
    loaded = load(scenario, policy)
    seed = _seed(loaded, seed)
    trials = loaded.scenario.trials if trials is None else trials
    if workers is None:
        workers = default_workers(trials, trial_cost(loaded.scenario))
    rows: list[TrialResult] = []
    run_trials(loaded.scenario, loaded.policy, trials=trials, seed=seed, workers=workers,
               on_rows=rows.extend)
    frame = _rows_frame(r.as_row() for r in rows)
    frame.attrs["rassim"] = _provenance(loaded, seed)
    return frame


def read_rows(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A ``rassim run --out`` file (.csv or .parquet) as a trials frame (rule 2).

    ``df.attrs["rassim"]`` holds the provenance stored in a Parquet file or in a CSV's
    sidecar (``<name>.meta.json``); a sidecar that does not match its CSV (another run's,
    ``sim.report.sidecar`` rule 2) raises ``SidecarMismatch``.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        frame = _normalise(table.to_pandas())
        meta = (table.schema.metadata or {}).get(b"rassim")
        if meta is not None:
            frame.attrs["rassim"] = json.loads(meta)
        return frame
    if path.suffix.lower() == ".csv":
        provenance = read_sidecar(path)  # SidecarMismatch if the pair is not one run's
        frame = _normalise(pd.read_csv(path, dtype={"codes": str, "faults": str},
                                       keep_default_na=False, na_values={"connect_time": [""]}))
        if provenance is not None:
            frame.attrs["rassim"] = provenance
        return frame
    raise ValueError(f"{path}: expected a .csv or .parquet file written by rassim run --out")


def _provenance(loaded: LoadedScenario, seed: int) -> dict[str, Any]:
    return {"scenario": loaded.scenario.name, "file": str(loaded.path),
            "scenario_sha256": loaded.sha256, "seed": seed, "policy": loaded.policy.describe()}


# --- summaries ----------------------------------------------------------------------------
def summarize(scenario: ScenarioLike, trials: int, seed: int | None = None,
              policy: PolicyLike = None, *, workers: int | None = None) -> Summary:
    """The streaming summary of trials ``0..trials-1`` (memory does not grow with trials).

    ``workers=None`` uses all cores for runs big enough to repay process start-up.
    """
    loaded = load(scenario, policy)
    if workers is None:
        workers = default_workers(trials, trial_cost(loaded.scenario))
    return run_trials(loaded.scenario, loaded.policy, trials=trials,
                      seed=_seed(loaded, seed), workers=workers).summary


def summary_of(trials: pd.DataFrame) -> Summary:
    """The summary of a trials frame: the same numbers ``rassim run`` prints for those rows."""
    summary = Summary()
    for row in trials.itertuples(index=False):
        summary.add(TrialResult(
            trial=int(row.trial), seed=int(row.seed), outcome=str(row.outcome),
            code=int(row.code), reason=str(row.reason), attempts=int(row.attempts),
            dials=int(row.dials), connect_time=float(row.connect_time),
            end_time=float(row.end_time), line_time=float(row.line_time),
            codes=tuple(int(c) for c in str(row.codes).split()),
            faults=tuple(str(row.faults).split()), senders=int(row.senders),
            senders_connected=int(row.senders_connected),
            busy_signals=int(row.busy_signals),
            port_utilization=float(row.port_utilization)))
    return summary


def _as_summary(data: Summary | pd.DataFrame) -> Summary:
    return data if isinstance(data, Summary) else summary_of(data)


def _summary_row(summary: Summary) -> dict[str, Any]:
    n = summary.trials
    low, high = summary.ci95
    count53 = summary.failures.get(ERROR_BAD_NETPATH, 0)
    low53, high53 = wilson_interval(count53, n)
    ct, lt = summary.connect_time, summary.line_time
    return {
        "trials": n, "successes": summary.successes, "success_rate": summary.success_rate,
        "ci_low": low, "ci_high": high, "rate_53": summary.rate(ERROR_BAD_NETPATH),
        "ci53_low": low53, "ci53_high": high53,
        "attempts_mean": summary.attempts / n if n else math.nan,
        "dials_mean": summary.dials / n if n else math.nan,
        "connect_mean": (summary.connect_time_ns / (summary.successes * 1e9)
                         if summary.successes else math.nan),
        "connect_p50": ct.quantile(0.5), "connect_p90": ct.quantile(0.9),
        "connect_p99": ct.quantile(0.99),
        "line_time_mean": summary.line_time_ns / (n * 1e9) if n else math.nan,
        "line_time_p50": lt.quantile(0.5), "line_time_p90": lt.quantile(0.9),
        **_fleet_columns(summary),
    }


def _fleet_columns(summary: Summary) -> dict[str, Any]:
    fleet = summary.fleet

    def values(*names: str, of: tuple[float | None, ...]) -> dict[str, float]:
        return {name: math.nan if x is None else x for name, x in zip(names, of, strict=True)}

    return {"senders": fleet.largest,
            **values("sender_success_rate", "sender_ci_low", "sender_ci_high",
                     of=fleet.sender_success()),
            **values("work_mean", "work_low", "work_high", of=fleet.work_mean()),
            **values("busy_rate", "busy_low", "busy_high", of=fleet.busy_rate()),
            **values("port_utilization", "port_utilization_low", "port_utilization_high",
                     of=fleet.utilization())}


RunData: TypeAlias = Summary | pd.DataFrame


def summary_frame(runs: RunData | Mapping[str, RunData]) -> pd.DataFrame:
    """One row per run (columns ``SUMMARY_COLUMNS``); a mapping's keys become ``label``.

    A run is a ``Summary`` or a trials frame; a single one gets the label ``"run"``.
    """
    items = {"run": runs} if isinstance(runs, Summary | pd.DataFrame) else dict(runs)
    return pd.DataFrame(
        [{"label": label, **_summary_row(_as_summary(run))} for label, run in items.items()],
        columns=list(SUMMARY_COLUMNS))


def failures_frame(run: RunData) -> pd.DataFrame:
    """One row per final failure code, most frequent first (columns ``FAILURE_COLUMNS``).

    ``run`` is a ``Summary`` or a trials frame.
    """
    summary = _as_summary(run)
    n = summary.trials
    rows = []
    for code, count in sorted(summary.failures.items(), key=lambda kv: (-kv[1], kv[0])):
        low, high = wilson_interval(count, n)
        rows.append({"code": code, "symbol": symbol_of(code), "count": count,
                     "rate": count / n, "ci_low": low, "ci_high": high,
                     "example_trial": summary.examples[code]})
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))


# --- one trial ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Replayed:
    """One trial run with full tracing: its row, its events, and what identifies it."""

    result: TrialResult
    events: tuple[TraceEvent, ...]
    scenario: str
    policy: str
    seed: int
    trial: int
    warmup: tuple[float, float]  # (factor, decay s) of the link, for the timeline's shading


def replay(scenario: ScenarioLike, trial: int, seed: int | None = None,
           policy: PolicyLike = None) -> Replayed:
    """Trial ``trial`` with every event recorded: identical to ``rassim replay``."""
    loaded = load(scenario, policy)
    seed = _seed(loaded, seed)
    recorder = Recorder()
    result = run_trial(loaded.scenario, loaded.policy, seed, trial, recorder)
    warmup = loaded.scenario.link.warmup
    return Replayed(result, tuple(recorder.events), loaded.scenario.name, loaded.policy.name,
                    seed, trial, (warmup.factor, warmup.decay))


def trace_frame(events: Iterable[TraceEvent]) -> pd.DataFrame:
    """One row per trace event: ``t`` (s), ``source``, ``kind``, ``fields`` (a dict).

    ``fields`` holds the event's own objects (e.g. ``{"effect": Dial(entry=...)}``).
    """
    return pd.DataFrame(
        [{"t": e.t, "source": e.source, "kind": e.kind, "fields": dict(e.data)} for e in events],
        columns=["t", "source", "kind", "fields"],
    )


# --- parameter overrides (rules 3 and 4) --------------------------------------------------
def _duration_marked(annotation: Any, metadata: Sequence[Any] = ()) -> bool:
    """Whether a field annotation is (or unions with) ``sim.draws.distributions.Duration``."""
    if any(isinstance(m, BeforeValidator) and m.func is parse_duration for m in metadata):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _duration_marked(inner, extra)
    if origin is Union or origin is types.UnionType:
        return any(_duration_marked(arg) for arg in get_args(annotation))
    return False


def _seconds_text(seconds: float) -> str:
    # repr round-trips a float exactly, and "<repr>s" is what parse_duration accepts.
    return "0" if seconds == 0 else f"{float(seconds)!r}s"


def _file_value(value: Any, annotation: Any, metadata: Sequence[Any]) -> Any:
    if isinstance(value, BaseModel):
        return _file_form(value)
    if isinstance(value, list):
        args = get_args(annotation)
        element = args[0] if get_origin(annotation) is list and args else Any
        return [_file_value(v, element, ()) for v in value]
    if isinstance(value, float) and _duration_marked(annotation, metadata):
        return _seconds_text(value)
    return value


def _file_form(model: BaseModel) -> dict[str, Any]:
    """The model as a scenario file would write it (durations with units); None omitted."""
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is not None:
            out[name] = _file_value(value, field.annotation, field.metadata)
    return out


def _set_override(data: dict[str, Any], model: BaseModel, key: str, value: Any,
                  given: Mapping[str, Any]) -> None:
    node: Any = data
    current: Any = model
    parts = key.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                raise ScenarioError(f"override {key}: {'.'.join(parts[:depth])} has "
                                    f"{len(current)} entries; {part!r} is not an index of one")
            index = int(part)
            if last:
                node[index] = value
                return
            node, current = node[index], current[index]
            continue
        if not isinstance(current, BaseModel) or part not in type(current).model_fields:
            where = ".".join(parts[:depth]) or "the scenario"
            known = (", ".join(type(current).model_fields) if isinstance(current, BaseModel)
                     else "none")
            hint = (did_you_mean(part, list(type(current).model_fields))
                    if isinstance(current, BaseModel) else "")
            raise ScenarioError(f"override {key}: {where} has no field {part!r}{hint}; "
                                f"its fields: {known}")
        field = type(current).model_fields[part]
        child = getattr(current, part)
        if last:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and (_duration_marked(field.annotation, field.metadata)
                            or isinstance(child, BaseModel) and hasattr(child, "ppf")):
                value = _seconds_text(value)  # seconds as numbers: handy for grids
            if (part == "median" and getattr(current, "p95", None) is not None
                    and f"{key[: -len('median')]}p95" not in given):
                try:
                    scale = parse_duration(value) / current.median  # type: ignore[attr-defined]
                except (ValueError, TypeError):
                    scale = 1.0  # validation below reports the bad median by its field
                node["p95"] = _seconds_text(current.p95 * scale)  # type: ignore[attr-defined]
            node[part] = value
            return
        if part not in node:
            node[part] = {}
        node, current = node[part], child


def with_overrides(scenario: ScenarioLike, overrides: Mapping[str, Any],
                   policy: PolicyLike = None) -> LoadedScenario:
    """The scenario with dotted-key ``overrides`` applied and validated (rules 3 and 4).

    Values are what a scenario file would hold (``"900ms"``, ``{dist = ...}``, ``3``); a
    number where a duration or distribution goes is read as seconds. ``policy.<field>`` keys
    replace fields of the retry policy (seconds as numbers, as ``RetryPolicy`` takes them).
    The result's ``sha256`` identifies the modified scenario. Bad overrides raise
    ``ScenarioError`` naming the key.
    """
    loaded = load(scenario, policy)
    own_policy = {k: v for k, v in overrides.items()
                  if k == "sender.policy" or k.startswith("sender.policy.")}
    if own_policy and policy is not None:
        raise ScenarioError(f"override {next(iter(own_policy))}: cannot be combined with "
                            f"policy={policy!r}; give the policy one way")
    world = {k: v for k, v in overrides.items()
             if not k.startswith(("policy.", "sender.policy."))}
    changes = {k.removeprefix("policy."): v for k, v in overrides.items()
               if k.startswith("policy.")}
    known = [f.name for f in dataclasses.fields(RetryPolicy)]
    for name in changes:
        if name not in known:
            raise ScenarioError(f"override policy.{name}: a retry policy has no field "
                                f"{name!r}{did_you_mean(name, known)}; its fields: "
                                f"{', '.join(known)}")
    new_policy = loaded.policy
    model = loaded.scenario
    if world or own_policy:
        # Only what ``public_dict`` covers is the world (and the sha256). Sections it leaves
        # out (``expect``, ``search``) are claims about the original world: they are
        # dropped, since they need not hold for a changed one.
        data = {k: v for k, v in _file_form(loaded.scenario).items()
                if k in loaded.scenario.public_dict()}
        for key, value in world.items():
            _set_override(data, loaded.scenario, key, value, world)
        _set_policy_fields(data, own_policy)
        try:
            model = Scenario.model_validate(data)
        except ValidationError as error:
            raise ScenarioError(format_validation(f"overrides {dict(overrides)}", error)
                                ) from None
        if own_policy:  # the scenario's own policy changed: the run must use it (rule 3)
            new_policy = resolve_policy(model.sender.policy, "override")
    if changes:
        if "name" not in changes and not new_policy.name.endswith("+custom"):
            # As the loader names a changed preset: the title must not claim the preset.
            changes["name"] = f"{new_policy.name}+custom"
        try:
            new_policy = new_policy.replace(**changes)
        except PolicyError as error:
            raise ScenarioError(f"override policy.{error.field}: {error.message}") from None
    if model is loaded.scenario:
        return loaded.with_policy(new_policy)
    return LoadedScenario(loaded.path, model, new_policy, _identity(model))


def _set_policy_fields(data: dict[str, Any], given: Mapping[str, Any]) -> None:
    """Apply ``sender.policy`` and ``sender.policy.<field>`` overrides to the file form: a
    preset name becomes a table (``{preset = ...}``) when a field of it is changed."""
    sender = data.setdefault("sender", {})
    if "sender.policy" in given:
        sender["policy"] = given["sender.policy"]
    fields = {k.removeprefix("sender.policy."): v for k, v in given.items()
              if k.startswith("sender.policy.")}
    if not fields:
        return
    table = sender.get("policy", "pre-fix")
    table = {"preset": table} if isinstance(table, str) else dict(table)
    known = [name for name in PolicyTable.model_fields]
    for name, value in fields.items():
        if name not in known:
            raise ScenarioError(f"override sender.policy.{name}: a policy table has no field "
                                f"{name!r}{did_you_mean(name, known)}; its fields: "
                                f"{', '.join(known)}")
        field = PolicyTable.model_fields[name]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and _duration_marked(field.annotation, field.metadata):
            value = _seconds_text(value)  # seconds as numbers, as for the world's fields
        table[name] = value
    sender["policy"] = table


# --- grids --------------------------------------------------------------------------------
def _grid_point(scenario: Scenario, policy: RetryPolicy, trials: int, seed: int) -> Summary:
    return run_trials(scenario, policy, trials=trials, seed=seed, workers=1).summary


def grid_frame(scenario: ScenarioLike, grid: Mapping[str, Sequence[Any]], *, trials: int,
               seed: int | None = None, policy: PolicyLike = None, workers: int | None = None,
               on_point: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run ``trials`` trials at every point of the product of ``grid``'s value lists.

    ``grid`` maps override keys (``with_overrides``) to the values to try, e.g.
    ``{"link.latency.median": [0.3, 0.6, 1.2], "name_path.lag.median": [0.5, 1, 2, 4]}``.
    Every point uses the same seed, so points are paired (common random numbers). Returns one
    row per point, in the product's order: ``policy`` (the policy's name), one column per
    grid key holding the value as given, then ``SUMMARY_COLUMNS`` without ``label``.
    ``workers`` processes run points in parallel (``None``: all cores when the grid is big
    enough to repay start-up); ``on_point(done, total)`` reports progress. As with any
    worker processes, a script (not a notebook) needs the ``if __name__ == "__main__":``
    guard.
    """
    loaded = load(scenario, policy)
    seed = _seed(loaded, seed)
    keys = list(grid)
    points = list(itertools.product(*(list(grid[k]) for k in keys)))
    # Validate every point before running any, so a typo fails in a second, not an hour.
    runs = [with_overrides(loaded, dict(zip(keys, values, strict=True))) for values in points]
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, len(points), trials * len(points) // 2000))
    summaries: list[Summary] = []
    jobs = [(run.scenario, run.policy, trials, seed) for run in runs]
    # Points are independent runs: spread them over worker processes (the runner's own
    # executor, so start-up and start method match `rassim run`), in order (rule 1).
    with LocalExecutor(max(1, workers)) as pool:
        for summary in pool.map(_grid_point, jobs):
            summaries.append(summary)
            if on_point is not None:
                on_point(len(summaries), len(points))
    rows = [{"policy": loaded.policy.name, **dict(zip(keys, values, strict=True)),
             **_summary_row(summary)} for values, summary in zip(points, summaries, strict=True)]
    columns = ["policy", *keys, *SUMMARY_COLUMNS[1:]]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["rassim"] = {**_provenance(loaded, seed), "trials_per_point": trials}
    return frame


@dataclass(frozen=True)
class Swept:
    """A grid file's policies run on the same trials: what ``rassim sweep`` prints."""

    table: pd.DataFrame  # one row per policy, in grid order (``sim.studies.sweep.sweep_rows``)
    summaries: dict[str, Summary]  # each policy's summary, by its name in the table
    baseline: str  # the name of the policy the paired differences are taken against


def sweep(scenario: ScenarioLike, grid: str | os.PathLike[str], *, trials: int,
          seed: int | None = None, workers: int | None = None,
          baseline: str | None = None) -> Swept:
    """Run every policy of the grid file ``grid`` (``rassim sweep FILE --grid GRID``) for
    ``trials`` trials on the same seed (common random numbers: the paired differences in
    ``table`` are trial by trial). ``baseline`` overrides the grid's; ``workers`` processes
    (``None``: all cores). The table has the columns ``rassim sweep --out`` writes: every
    metric with ``_low``/``_high`` 95% bounds, the paired differences from the baseline in
    success rate (``diff``), work (``work_diff``) and time to connect (``connect_diff``),
    each with ``_low``/``_high``, and the policy's fields.
    """
    loaded = load(scenario)
    seed = _seed(loaded, seed)
    plan = load_grid(Path(grid), loaded.policy, baseline=baseline)
    with LocalExecutor(workers) as executor:
        result = run_sweep(loaded.scenario, plan, seed=seed, executor=executor, trials=trials)
    table = pd.DataFrame(sweep_rows(result))
    table.attrs["rassim"] = {**_provenance(loaded, seed), "grid": str(grid),
                             "trials_per_policy": trials}
    summaries = {policy.name: tally.summary
                 for policy, tally in zip(plan.policies, result.tallies, strict=True)}
    return Swept(table, summaries, plan.policies[plan.baseline].name)
