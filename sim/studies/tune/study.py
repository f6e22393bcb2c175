"""Policy search with Optuna: raced candidates, a persistent study, a recommendation.

Rules:

1. Every candidate runs trial indices 0..n-1 of one seed, the same for all candidates
   (common random numbers), through ``sim.run.runner.run_batch`` on any executor, so its
   numbers do not depend on workers or executor.
2. Candidates are raced (``sim.studies.tune.goals`` rule 2) and told to Optuna as COMPLETE (values:
   the objectives' point estimates; constraints: each requirement's slack, <= 0 when met)
   or PRUNED (with the reason). A policy that behaves like one already evaluated in the
   study (``policy_key``) is not run again: its stored result is told again. A value
   combination that is not a valid policy is PRUNED as invalid.
3. Persistence and resume: the study lives in an Optuna storage (SQLite by default), with
   every candidate's policy, metrics and verdict in its user attributes. ``n_trials`` is the
   total number of finished (COMPLETE + PRUNED) candidates the study should have; running
   the same command again continues from what is stored. A candidate interrupted mid-race
   is marked FAIL and ignored; nothing finished is lost.
4. Determinism: the sampler for the k-th finished candidate is a fresh ``TPESampler``
   seeded from (seed, k), so the next suggestion depends only on the stored history. An
   interrupted and resumed study therefore continues exactly as an uninterrupted one would.
   (TPE handles one or several objectives and constraints; NSGA-II would need populations of
   ~50 per generation, more candidates than a tune usually evaluates.)
5. The study remembers what it was created for (scenario sha256, space, goals, seed, trial
   budget per candidate, rassim version); resuming it with different settings is an error
   rather than a silent mix of incomparable candidates.
6. A storage fault (a full disk above all) is one line (``StorageError``), never a
   traceback. Mid-study, what was committed stays (SQLite commits whole transactions), so
   the same command resumes the study once there is room; a study file this run created and
   could not even open is removed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sender.errors import UserError
from sender.policy import PRESETS, PolicyError, RetryPolicy
from sim import __version__
from sim.run.executors import Executor
from sim.run.runner import run_batch
from sim.scenario.policy_text import CODE_FIELDS, check_round_trip, policy_key, policy_toml
from sim.scenario.schema import Scenario
from sim.stats.adaptive import batch_ends
from sim.stats.policy_metrics import Estimate, Tally, estimates_to_json, metrics_of
from sim.studies.tune.goals import Objective, Requirement, cannot_win, dominates, rank_key
from sim.studies.tune.space import Space

__all__ = ["Candidate", "StorageError", "StudyMismatch", "TuneResult", "TuneSettings",
           "best_toml", "default_study_name", "open_storage", "ranked", "recommend", "tune"]

_ATTR = "rassim"
_SAMPLER_STREAM = 0x74756E65  # "tune": keeps sampler seeds apart from trial streams
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_SQLITE_IOERR = 10  # SQLITE_IOERR: "disk I/O error"
_NEARLY_FULL = 1 << 20  # bytes free below which an I/O error is taken for a full disk
N_STARTUP = 10  # random candidates before TPE models the history (Optuna's default)


class StudyMismatch(UserError):
    """The named study exists but was created with other settings (rule 5)."""


class StorageError(UserError):
    """The Optuna storage cannot be opened (bad URL, missing driver, unreadable file)."""


@dataclass(frozen=True, slots=True)
class TuneSettings:
    requirements: tuple[Requirement, ...]
    objectives: tuple[Objective, ...]
    n_trials: int
    min_trials: int
    max_trials: int
    seed: int
    storage: str
    study_name: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One finished candidate of the study."""

    number: int
    state: Literal["complete", "pruned"]
    name: str
    policy: RetryPolicy | None  # None when the values did not make a valid policy
    values: dict[str, Any]
    metrics: dict[str, Estimate]
    trials: int
    attempts: float
    reason: str | None
    feasible: bool
    reused_from: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "state": self.state, "name": self.name,
                "values": self.values, "trials": self.trials, "feasible": self.feasible,
                "reason": self.reason, "reused_from": self.reused_from,
                "attempts_mean": self.attempts,
                "metrics": {k: {"value": e.value, "low": e.low, "high": e.high}
                            for k, e in self.metrics.items()},
                "policy": self.policy.describe() if self.policy else None}


@dataclass(frozen=True, slots=True)
class _Race:
    """How a candidate's evaluation ended (raced, reused, or invalid)."""

    state: Literal["complete", "pruned"]
    reason: str | None
    trials: int
    metrics: dict[str, Estimate]
    attempts: float
    reused_from: int | None = None


@dataclass(slots=True)
class TuneResult:
    study_name: str
    storage: str
    candidates: list[Candidate]
    recommended: Candidate | None
    front: list[Candidate]
    interrupted: bool = False
    evaluated: int = 0  # raced in this run
    reused: int = 0  # answered from an earlier evaluation in this run
    policy_trials: int = 0  # trials simulated in this run
    elapsed: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)


def _config(scenario_sha256: str, space: Space, settings: TuneSettings) -> dict[str, Any]:
    return {"scenario_sha256": scenario_sha256, "space": space.digest(),
            "requirements": [str(r) for r in settings.requirements],
            "objectives": [str(o) for o in settings.objectives], "seed": settings.seed,
            "min_trials": settings.min_trials, "max_trials": settings.max_trials,
            "version": __version__}


def default_study_name(scenario: Scenario, scenario_sha256: str, space: Space,
                       settings: TuneSettings) -> str:
    """``<scenario>-<12 hex>``: the same command always names the same study (rule 5)."""
    text = json.dumps(_config(scenario_sha256, space, settings), sort_keys=True)
    return f"{scenario.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _sampler(seed: int, finished: int) -> Any:
    """A fresh TPE sampler for the next candidate, seeded from (seed, finished) (rule 4)."""
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    state = np.random.SeedSequence([seed, _SAMPLER_STREAM, finished]).generate_state(1)
    return optuna.samplers.TPESampler(seed=int(state[0]), multivariate=True,
                                      constant_liar=False, n_startup_trials=N_STARTUP)


class _WalConnection(sqlite3.Connection):
    """SQLite in write-ahead-log mode with ``synchronous=NORMAL``.

    Optuna commits about a dozen times per candidate. In SQLite's default rollback-journal
    mode each commit waits for an fsync (~10 ms on a busy disk), which made the bookkeeping
    slower than racing a candidate on a small world. WAL with NORMAL still survives a killed
    process (the resume case); only an OS crash can lose the last commits.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=NORMAL")


def open_storage(url: str) -> Any:
    """An Optuna storage for ``url``; SQLite files get ``_WalConnection``."""
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    if url.startswith("sqlite:///"):
        return optuna.storages.RDBStorage(
            url, engine_kwargs={"connect_args": {"factory": _WalConnection}})
    return url


def _open_study(scenario: Scenario, sha: str, space: Space, settings: TuneSettings) -> Any:
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = settings.study_name or default_study_name(scenario, sha, space, settings)
    config = _config(sha, space, settings)
    new_file = _sqlite_path(settings.storage)
    if new_file is not None and new_file.exists():
        new_file = None
    try:
        study = optuna.create_study(storage=open_storage(settings.storage), study_name=name,
                                    directions=[o.direction for o in settings.objectives],
                                    load_if_exists=True)
        return _adopt(study, name, config, settings)
    except Exception as error:  # SQLAlchemy and driver errors have no common base class
        if new_file is not None:  # nothing of a study in it: leave nothing behind
            for suffix in ("", "-wal", "-shm", "-journal"):
                new_file.with_name(new_file.name + suffix).unlink(missing_ok=True)
        if isinstance(error, UserError):
            raise
        raise storage_error(settings.storage, error, resumable=new_file is None,
                            doing="open") from None


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def storage_error(url: str, error: BaseException, *, resumable: bool,
                  doing: str = "use") -> StorageError:
    """One line for a storage fault (rule 6): a full disk says so and how to resume."""
    cause = _driver_error(error)
    code = getattr(cause, "sqlite_errorcode", None)
    path = _sqlite_path(url)
    full = ((code is not None and code & 0xFF == _SQLITE_FULL)
            or getattr(cause, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
            or "disk is full" in str(cause)
            # SQLite reports a write to its -wal/-shm files on a full disk as an I/O error.
            or (code is not None and code & 0xFF == _SQLITE_IOERR and path is not None
                and _nearly_full(path.parent)))
    if full:
        where = path.parent if path is not None else "the database"
        again = "; run the same command again to resume the study" if resumable else ""
        return StorageError(f"--storage {url}: no space left on the device of {where}; "
                            f"free some space{again}")
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return StorageError(f"--storage {url}: cannot {doing} it: {first[:200]}")


def _driver_error(error: BaseException) -> BaseException:
    """The innermost error: Optuna wraps SQLAlchemy's, which wraps the driver's (``orig``)."""
    for _ in range(8):  # a bounded walk down the chain
        inner = getattr(error, "orig", None) or error.__cause__
        if not isinstance(inner, BaseException):
            break
        error = inner
    return error


def _nearly_full(directory: Path) -> bool:
    try:
        stats = os.statvfs(directory)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < _NEARLY_FULL


def _adopt(study: Any, name: str, config: dict[str, Any], settings: TuneSettings) -> Any:
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    stored = study.user_attrs.get(_ATTR)
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise StudyMismatch(f"study {name!r} in {settings.storage} was not made by rassim "
                                "tune; choose another --study-name")
        study.set_user_attr(_ATTR, config)
    elif stored != config:
        changed = sorted(k for k in config if stored.get(k) != config[k])
        raise StudyMismatch(
            f"study {name!r} in {settings.storage} was created with different "
            f"{', '.join(changed)}; rerun with the original settings to resume it, or give "
            "another --study-name (or drop --study-name to get one named after the settings)")
    # A candidate left RUNNING by a killed process cannot be resumed mid-race (rule 3).
    for trial in study.get_trials(deepcopy=False):
        if trial.state == optuna.trial.TrialState.RUNNING:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return study


def _candidate(frozen: Any) -> Candidate:
    return _from_attrs(frozen.number, frozen.state.name == "COMPLETE", frozen.user_attrs[_ATTR])


def _from_attrs(number: int, complete: bool, data: dict[str, Any]) -> Candidate:
    policy = None
    if data["policy"] is not None:
        fields = {k: frozenset(v) if k in CODE_FIELDS else v for k, v in data["policy"].items()}
        policy = RetryPolicy().replace(**fields)
    return Candidate(
        number=number,
        state="complete" if complete else "pruned",
        name=data["name"], policy=policy, values=data["values"],
        metrics={k: Estimate.from_list(v) for k, v in data["metrics"].items()},
        trials=data["trials"], attempts=data["attempts"], reason=data["reason"],
        feasible=data["feasible"], reused_from=data["reused_from"])


def _finished(study: Any) -> list[Candidate]:
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return [_candidate(t) for t in study.get_trials(deepcopy=False, states=states)
            if _ATTR in t.user_attrs]


def tune(scenario: Scenario, scenario_sha256: str, space: Space, settings: TuneSettings,
         executor: Executor, *, on_candidate: Callable[[Candidate], None] | None = None,
         on_progress: Callable[[int], None] | None = None) -> TuneResult:
    """Run (or resume) the study until it has ``settings.n_trials`` finished candidates."""
    # why: optuna is slow to import (~1 s); only a tune needs it
    from optuna.exceptions import StorageInternalError
    from sqlalchemy.exc import SQLAlchemyError

    began = time.perf_counter()
    space.check_work(scenario)  # before the study is opened or any trial runs
    study = _open_study(scenario, scenario_sha256, space, settings)
    try:
        return _tune(study, scenario, space, settings, executor, began,
                     on_candidate=on_candidate, on_progress=on_progress)
    except (SQLAlchemyError, sqlite3.Error, StorageInternalError) as error:  # rule 6
        raise storage_error(settings.storage, error, resumable=True, doing="write") from None


def _tune(study: Any, scenario: Scenario, space: Space, settings: TuneSettings,
          executor: Executor, began: float, *,
          on_candidate: Callable[[Candidate], None] | None,
          on_progress: Callable[[int], None] | None) -> TuneResult:
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    done = _finished(study)
    known = {json.dumps(policy_key(c.policy)): c for c in done if c.policy is not None}
    result = TuneResult(study.study_name, settings.storage, [], None, [],
                        config=study.user_attrs[_ATTR])
    single = len(settings.objectives) == 1
    while len(done) < settings.n_trials:
        study.sampler = _sampler(settings.seed, len(done))
        trial = study.ask()
        values = space.suggest(trial)
        invalid = ""
        try:
            policy: RetryPolicy | None = space.policy(values)
        except PolicyError as error:
            policy = None
            invalid = f"invalid policy: {error}"
        race: _Race
        try:
            if policy is None:
                race = _Race("pruned", invalid, 0, {}, 0.0)
            elif json.dumps(policy_key(policy)) in known:
                race = _reuse(known[json.dumps(policy_key(policy))])
                result.reused += 1
            else:
                race = _race(scenario, policy, settings, executor, done, trial, single,
                             on_progress, result)
                result.evaluated += 1
        except KeyboardInterrupt:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            result.interrupted = True
            break
        candidate = _tell(study, trial, space, settings, values, policy, race, single)
        done.append(candidate)
        if policy is not None and candidate.reused_from is None:
            known[json.dumps(policy_key(policy))] = candidate
        if on_candidate is not None:
            on_candidate(candidate)
    result.candidates = _finished(study)
    result.recommended, result.front = recommend(result.candidates, space, settings)
    result.elapsed = time.perf_counter() - began
    return result


def _reuse(earlier: Candidate) -> _Race:
    original = earlier.reused_from if earlier.reused_from is not None else earlier.number
    return _Race(earlier.state, earlier.reason, earlier.trials, earlier.metrics,
                 earlier.attempts, original)


def _race(scenario: Scenario, policy: RetryPolicy, settings: TuneSettings,
          executor: Executor, done: Sequence[Candidate], trial: Any, single: bool,
          on_progress: Callable[[int], None] | None, result: TuneResult) -> _Race:
    """Run ``policy`` on growing batches until it is pruned or reaches max_trials (rule 2)."""
    incumbents = [c.metrics for c in done if c.state == "complete" and c.feasible]
    tally = Tally()
    n = 0
    metrics: dict[str, Estimate] = {}
    reason = None
    for end in batch_ends(settings.max_trials, settings.min_trials):
        batch = run_batch(scenario, (policy,), seed=settings.seed, start=n, stop=end,
                          executor=executor, on_progress=on_progress)
        tally.merge(batch.tallies[0])
        n += batch.trials
        result.policy_trials += batch.trials
        if batch.interrupted:
            raise KeyboardInterrupt
        metrics = metrics_of(tally)
        first = metrics[settings.objectives[0].metric].value
        if single and first is not None:
            trial.report(first, step=n)  # lets TPE rank pruned candidates too
        reason = _verdict(metrics, incumbents, settings, n)
        if reason is not None:
            break
    if reason is None and any(metrics[o.metric].value is None for o in settings.objectives):
        reason = "no trial connected, so the objectives are undefined"
    summary = tally.summary
    return _Race("pruned" if reason else "complete", reason, n, metrics,
                 summary.attempts / summary.trials)


def _verdict(metrics: dict[str, Estimate], incumbents: list[dict[str, Estimate]],
             settings: TuneSettings, n: int) -> str | None:
    for requirement in settings.requirements:
        estimate = metrics[requirement.metric]
        if requirement.violated_for_sure(estimate):
            return (f"cannot meet {requirement}: 95% CI [{_g(estimate.low)}, "
                    f"{_g(estimate.high)}] after {n:,} trials")
    if cannot_win(metrics, incumbents, settings.objectives):
        return f"cannot win: a finished candidate is better even at the interval ends " \
               f"after {n:,} trials"
    return None


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _tell(study: Any, trial: Any, space: Space, settings: TuneSettings,
          values: dict[str, Any], policy: RetryPolicy | None, race: _Race,
          single: bool) -> Candidate:
    """Store the candidate's record and verdict in the study (rule 2)."""
    # why: optuna is slow to import (~1 s); only a tune needs it
    import optuna

    metrics = race.metrics
    complete = race.state == "complete"
    feasible = complete and all(r.met(metrics[r.metric]) for r in settings.requirements)
    name = policy.name if policy is not None else " ".join(
        f"{k}={v}" for k, v in values.items())
    data = {
        "name": name, "policy": policy.describe() if policy else None, "values": values,
        "metrics": estimates_to_json(metrics), "trials": race.trials,
        "attempts": race.attempts, "reason": race.reason, "feasible": feasible,
        "reused_from": race.reused_from}
    trial.set_user_attr(_ATTR, data)
    for i, requirement in enumerate(settings.requirements):
        slack = requirement.slack(metrics[requirement.metric]) if metrics else 1.0
        trial.set_constraint(f"c{i}:{requirement}", slack)
    if complete:
        study.tell(trial, [metrics[o.metric].value for o in settings.objectives])
    else:
        first = metrics.get(settings.objectives[0].metric) if metrics else None
        if race.reused_from is not None and single and first and first.value is not None:
            trial.report(first.value, step=race.trials)  # as the original was reported
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return _from_attrs(trial.number, complete, data)


def recommend(candidates: Sequence[Candidate], space: Space,
              settings: TuneSettings) -> tuple[Candidate | None, list[Candidate]]:
    """The best feasible candidate and the Pareto front, both in rank order (rule 3 of
    ``sim.studies.tune.goals``). For one objective the front is the candidates tied for best."""
    # A reused candidate repeats an earlier one: list each policy once.
    feasible = [c for c in candidates
                if c.state == "complete" and c.feasible and c.reused_from is None]

    def key(c: Candidate) -> tuple[Any, ...]:
        return rank_key(c.metrics, c.attempts, [c.values[p.field] for p in space.params],
                        c.number, settings.objectives)

    front = [c for c in feasible
             if not any(dominates(o.metrics, c.metrics, settings.objectives) for o in feasible)]
    front.sort(key=key)
    return (front[0] if front else None), front


def best_toml(policy: RetryPolicy, prefer: str | None = None) -> str:
    """A ``{...}`` table for ``policy`` to paste as a scenario's ``sender.policy``: relative
    to the preset ``prefer`` when it can be (the preset the search started from reads
    best), else to whichever preset (or none) needs the fewest fields. Checked by loading it
    back (``check_round_trip``)."""
    options = []
    for preset in (None, *PRESETS):
        try:
            options.append((preset, policy_toml(policy, preset)))
        except ValueError:
            continue  # this preset sets a field the policy leaves unset
    preferred = [text for preset, text in options if prefer is not None and preset == prefer]
    table = preferred[0] if preferred else min((text for _, text in options),
                                               key=lambda text: text.count(" = "))
    check_round_trip(policy, table)
    return table


def ranked(candidates: Sequence[Candidate], space: Space,
           settings: TuneSettings) -> list[Candidate]:
    """Feasible, complete candidates in recommendation order, each policy once."""
    feasible = [c for c in candidates
                if c.state == "complete" and c.feasible and c.reused_from is None]
    return sorted(feasible, key=lambda c: rank_key(
        c.metrics, c.attempts, [c.values[p.field] for p in space.params], c.number,
        settings.objectives))
