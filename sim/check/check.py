"""Check scenario expectations: find the files, run them with their seed, judge the bounds.

Shared by ``rassim check`` and the pytest plugin, so both give the same verdicts and the same
text. Rules:

1. A file takes part when it has an ``[expect]`` table *of its own*. Expectations are not
   inherited through ``extends``: a child changes the world, so its parent's claims need not
   hold for it, and a file that ``rassim search`` derives from a scenario must not turn
   into a failing check.
2. A check runs trials 0..N-1 of the expectation's seed (default: the scenario's seed and
   trial count), so its verdict is deterministic and a CI run cannot flake.
3. Every file is loaded and validated before any trial runs: a typo in the fifth file is
   reported at once, not after minutes of simulation.
4. A failing check names a trial to replay: for a failed ``rate_<code>`` bound, the first
   trial that gave up with that code; otherwise the first trial with the most frequent
   final failure code.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from sim.check.expect import Verdict, evaluate
from sim.run.runner import default_workers, run_trials, trial_cost
from sim.scenario.bounds import RATE_KEY
from sim.scenario.loader import (
    LoadedScenario,
    ScenarioError,
    load_scenario,
    parse_toml,
    read_text_file,
)
from sim.scenario.schema import ExpectSpec
from sim.stats.summary import Summary

__all__ = ["CheckTarget", "ScenarioCheck", "find_checkable", "has_expect_table",
           "load_target", "run_check", "summary_line"]

# A file whose TOML does not parse still counts as a scenario with expectations when it
# visibly has an [expect] table, so that its syntax error is reported, not skipped.
_EXPECT_TEXT = re.compile(r"^\s*(\[+\s*expect\b|expect\s*[.=])", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class CheckTarget:
    """A scenario file ready to check: loaded, with its own expectations."""

    path: Path
    loaded: LoadedScenario
    expect: ExpectSpec

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def trials(self) -> int:
        return self.expect.trials or self.loaded.scenario.trials

    @property
    def seed(self) -> int:
        return self.loaded.scenario.seed if self.expect.seed is None else self.expect.seed


@dataclass(frozen=True, slots=True)
class ScenarioCheck:
    """The verdicts of one scenario file's expectations, and the run they came from."""

    target: CheckTarget
    summary: Summary
    verdicts: list[Verdict]
    elapsed: float

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict in self.verdicts)

    def lines(self) -> list[str]:
        """One line per expectation: ``PASS name statistic bound: estimate [low, high] status``."""
        return [f"{'PASS' if v.passed else 'FAIL'} {self.target.name} {v.describe()}"
                for v in self.verdicts]

    def replay_trial(self) -> tuple[int, int] | None:
        """``(code, trial)`` of a failing trial worth replaying (rule 4), or None."""
        examples = self.summary.examples
        for verdict in self.verdicts:
            match = RATE_KEY.match(verdict.statistic)
            if not verdict.passed and match and int(match.group(1)) in examples:
                code = int(match.group(1))
                return code, examples[code]
        frequent = self.summary.most_frequent_failure()
        return None if frequent is None else (frequent, examples[frequent])

    def replay_hint(self, shown_path: str | Path | None = None) -> str | None:
        """``replay a trial that gave up with 53: rassim replay FILE --seed S --trial I``."""
        found = self.replay_trial()
        if found is None:
            return None
        code, trial = found
        return (f"replay a trial that gave up with {code}: rassim replay "
                f"{shown_path or self.target.path} --seed {self.target.seed} --trial {trial}")


def has_expect_table(path: Path) -> bool:
    """Whether ``path`` (a ``.toml`` file) states an ``[expect]`` table of its own."""
    try:
        text = read_text_file(path)
    except ScenarioError:  # not a readable regular file: nothing to check there
        return False
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return bool(_EXPECT_TEXT.search(text))
    return "expect" in data


def find_checkable(paths: Iterable[Path]) -> list[Path]:
    """The scenario files to check: each named file, and under each directory every
    ``*.toml`` with its own ``[expect]`` (hidden directories skipped), sorted, no repeats.

    A path that does not exist is a ``ScenarioError``.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.toml")
                                if not any(part.startswith(".") or part == "__pycache__"
                                           for part in p.relative_to(path).parts[:-1]))
            found.extend(p for p in candidates if p.is_file() and has_expect_table(p))
        elif path.exists():
            found.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or directory; check the path")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def load_target(path: Path) -> CheckTarget:
    """Load ``path`` and its own expectations (rule 1); ``ScenarioError`` on bad input."""
    loaded = load_scenario(path)
    own = parse_toml(path, read_text_file(path)).get("expect")
    if own is None:
        raise ScenarioError(
            f"{path}: has no [expect] table of its own (expectations are not inherited "
            "through extends); add one, e.g. [expect] success_rate = \">= 0.99\"")
    try:
        expect = ExpectSpec.model_validate(own)
    except ValidationError:
        # The loader validated these keys already; what is left is a table that states
        # only trials/seed here and relies on a parent's bounds.
        raise ScenarioError(
            f"{path}: expect: states no expectation of its own (a parent's are not "
            "inherited); add one such as success_rate = \">= 0.99\"") from None
    return CheckTarget(path, loaded, expect)


def run_check(target: CheckTarget, workers: int | None = None) -> ScenarioCheck:
    """Run ``target``'s trials (rule 2) and judge its expectations.

    Ctrl-C raises ``KeyboardInterrupt``: a partial run proves nothing either way.
    """
    began = time.perf_counter()
    scenario = target.loaded.scenario
    workers = workers or default_workers(target.trials, trial_cost(scenario))
    result = run_trials(scenario, target.loaded.policy, trials=target.trials, seed=target.seed,
                        workers=workers)
    if result.interrupted:
        raise KeyboardInterrupt
    return ScenarioCheck(target, result.summary, evaluate(target.expect, result.summary),
                         time.perf_counter() - began)


def summary_line(checks: list[ScenarioCheck], elapsed: float) -> str:
    """The last line of ``rassim check``: counts by status, files, trials and time."""
    verdicts = [v for check in checks for v in check.verdicts]
    counts = {status: sum(1 for v in verdicts if v.status == status)
              for status in ("demonstrated", "violated", "not demonstrated")}
    trials = sum(check.summary.trials for check in checks)
    where = (f"{len(checks)} scenario file{'s' if len(checks) != 1 else ''}, {trials:,} "
             f"trials, {elapsed:.1f}s")
    if counts["violated"] == counts["not demonstrated"] == 0:
        return (f"ok: all {len(verdicts)} expectations demonstrated at 95% confidence "
                f"({where})")
    failed = len(verdicts) - counts["demonstrated"]
    return (f"FAILED: {failed} of {len(verdicts)} expectations not demonstrated "
            f"({counts['violated']} violated, {counts['not demonstrated']} straddling the "
            f"bound; {where})")
