"""Search fault schedules for one that defeats the sender, and shrink it (Hypothesis).

``rassim search FILE`` asks: within the bounds the scenario's ``[search]`` table declares
(fault kinds, how many, when, how long), is there a schedule of faults under which the
sender gives up on a trial where it would otherwise connect? Hypothesis generates
schedules, and when one defeats the sender it shrinks it to a minimal one.

Rules:

1. Deterministic. Hypothesis runs derandomized, with no example database, so the same
   scenario, policy and budget give the same schedule on every run and machine. (Its
   shrinker stops after 500 successful shrinks or five minutes; only the time limit could
   break this, and a schedule of ten faults shrinks in seconds.)
2. A schedule is tried on a fixed trial (seed, index). The searched faults come after the
   scenario's own, and fault k draws only from its own stream (``sim.world.faults`` rule 3), so
   the world is the same under every candidate: only the schedule varies.
3. "Minimal" means fewer faults, then for each fault (in order) the kind listed first in
   ``kinds``, the shorter duration, then the earlier start. Hypothesis shrinks choices in
   the order they are drawn, towards the low end of their range, so a fault draws its kind,
   then its duration, then its start. Times are whole milliseconds.
4. Trials that give up without any injected fault are left out: a schedule cannot be blamed
   for them. If every listed trial does, that is bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sender.codes import symbol_of
from sim.scenario.loader import LoadedScenario, ScenarioError
from sim.scenario.schema import FaultKind, FaultSpec, Scenario, SearchSpec
from sim.trial.results import TrialResult
from sim.trial.trial import run_trial
from sim.world.trace import Recorder

__all__ = ["Candidate", "Found", "SearchProblem", "defeats", "describe_fault", "ms_text",
           "problem_of", "run_with", "search"]


def ms_text(ms: int) -> str:
    """Whole milliseconds as an exact duration string: 14500 -> ``"14.5s"``."""
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}s" if rest == 0 else f"{seconds}.{rest:03d}".rstrip("0") + "s"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fault of a candidate schedule: a kind, a duration and a start (milliseconds)."""

    kind: FaultKind
    duration_ms: int
    start_ms: int

    def at(self, milestone: str) -> str:
        """The fault's ``at`` as a scenario writes it: ``"14.5s"``, ``"connected + 2s"``."""
        start = ms_text(self.start_ms)
        return start if milestone == "start" else f"{milestone} + {start}"

    def spec(self, milestone: str, name: str) -> FaultSpec:
        return FaultSpec.model_validate({"kind": self.kind, "name": name,
                                         "at": self.at(milestone),
                                         "duration": ms_text(self.duration_ms)})


@dataclass(frozen=True, slots=True)
class SearchProblem:
    """What to search: the scenario, its policy, a seed, the trials, and the bounds."""

    loaded: LoadedScenario
    spec: SearchSpec
    seed: int
    trials: tuple[int, ...]  # those that connect without injected faults (rule 4)
    skipped: tuple[tuple[int, TrialResult], ...]  # those that do not

    @property
    def milestone(self) -> str:
        return self.spec.milestone

    def defeated(self, result: TrialResult) -> bool:
        """Whether ``result`` counts as the sender failing (any give-up, or listed codes)."""
        return not result.connected and (self.spec.codes is None
                                         or result.code in self.spec.codes)


@dataclass(frozen=True, slots=True)
class Found:
    """A minimal schedule that defeats the sender, and what happened under it."""

    trial: int
    faults: tuple[Candidate, ...]
    result: TrialResult
    tried: int


def problem_of(loaded: LoadedScenario) -> SearchProblem:
    """The search ``loaded``'s ``[search]`` table declares; ``ScenarioError`` without one,
    or when every listed trial already gives up without injected faults."""
    spec = loaded.scenario.search
    if spec is None:
        raise ScenarioError(
            f"{loaded.path}: has no [search] table; add one that bounds the schedules to try, "
            "e.g. [search] with kinds = [\"link_outage\"], max_faults = 2, window = [\"0s\", "
            "\"2m\"], durations = [\"1s\", \"30s\"] (see `rassim schema`)")
    seed = loaded.scenario.seed if spec.seed is None else spec.seed
    usable, skipped = [], []
    for trial in spec.trials:
        result = run_trial(loaded.scenario, loaded.policy, seed, trial)
        if result.connected:
            usable.append(trial)
        else:
            skipped.append((trial, result))
    if not usable:
        listed = ", ".join(f"trial {t} gives up with {r.code} {symbol_of(r.code)}"
                           for t, r in skipped)
        connecting = _connecting_trials(loaded, seed)
        fix = (f"list trials where the sender connects, e.g. trials = {connecting}" if connecting
               else "the sender connects in none of trials 0-99 either: the world defeats it "
               "without help")
        raise ScenarioError(
            f"{loaded.path}: search.trials: without any injected fault, {listed}; {fix}")
    return SearchProblem(loaded, spec, seed, tuple(usable), tuple(skipped))


def _connecting_trials(loaded: LoadedScenario, seed: int) -> list[int]:
    found: list[int] = []
    for trial in range(100):
        if run_trial(loaded.scenario, loaded.policy, seed, trial).connected:
            found.append(trial)
            if len(found) == 3:
                break
    return found


def scenario_with(problem: SearchProblem, faults: tuple[Candidate, ...]) -> Scenario:
    """The scenario with ``faults`` appended to its own (rule 2), named found-1, found-2..."""
    specs = [fault.spec(problem.milestone, f"found-{i}") for i, fault in enumerate(faults, 1)]
    scenario = problem.loaded.scenario
    return scenario.model_copy(update={"faults": [*scenario.faults, *specs]})


def run_with(problem: SearchProblem, trial: int, faults: tuple[Candidate, ...],
             recorder: Recorder | None = None) -> TrialResult:
    """Trial ``trial`` under ``faults``, optionally traced."""
    scenario = scenario_with(problem, faults)
    if recorder is None:
        return run_trial(scenario, problem.loaded.policy, problem.seed, trial)
    return run_trial(scenario, problem.loaded.policy, problem.seed, trial, recorder)


def defeats(problem: SearchProblem, trial: int, faults: tuple[Candidate, ...]) -> bool:
    return problem.defeated(run_with(problem, trial, faults))


def _strategy(problem: SearchProblem) -> Any:
    # why: hypothesis is the test extra, not a core dependency; only a search needs it
    from hypothesis import strategies as st

    spec = problem.spec
    early, late = (round(t * 1000) for t in spec.window_seconds)
    shortest, longest = (round(t * 1000) for t in spec.durations)

    @st.composite
    def fault(draw: Any) -> Candidate:
        # Draw order is shrink priority (rule 3): kind, then duration, then start.
        kind = draw(st.sampled_from(spec.kinds))
        duration = draw(st.integers(shortest, longest))
        start = draw(st.integers(early, late))
        return Candidate(kind, duration, start)

    @st.composite
    def schedule(draw: Any) -> tuple[int, tuple[Candidate, ...]]:
        trial = draw(st.sampled_from(problem.trials))
        faults = draw(st.lists(fault(), min_size=1, max_size=spec.max_faults))
        return trial, tuple(sorted(faults, key=lambda f: (f.start_ms, f.duration_ms, f.kind)))

    return schedule()


def search(problem: SearchProblem, budget: int) -> Found | None:
    """The minimal schedule that defeats the sender, or None if ``budget`` schedules found
    none (rule 1: the same answer on every run)."""
    # why: hypothesis is the test extra, not a core dependency; only a search needs it
    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    tried = 0

    def condition(candidate: tuple[int, tuple[Candidate, ...]]) -> bool:
        nonlocal tried
        tried += 1
        return defeats(problem, *candidate)

    try:
        # Built on Hypothesis's own defaults, not the active profile: a test suite's
        # profile (fewer examples, other phases) must not change what rassim finds.
        trial, faults = find(_strategy(problem), condition, settings=settings(
            settings.get_profile("default"), max_examples=budget, derandomize=True,
            database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
            verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None
    return Found(trial, faults, run_with(problem, trial, faults), tried)


def describe_fault(fault: Candidate, milestone: str) -> str:
    """``link_outage at 14.5s for 3.001s`` (or ``at connected + 2s``)."""
    return f"{fault.kind} at {fault.at(milestone)} for {ms_text(fault.duration_ms)}"

