"""Replaying a sender against a script: the scripted performer and scripted random sources.

A site can check the deployed procedure against a field trace without rassim's simulator or
its tests: write the trace as ``(expected_effect, result)`` pairs and call
``perform_sequence(connect(policy, target, ...), script)``. The procedure must yield exactly
those effects in that order. On a mismatch the ``AssertionError`` shows what was performed so
far, the effect the procedure yielded and the effect the script expected next, so a broken
sequence reads like a diff of two traces (after ``effect.testing.perform_sequence``).

Pure like the rest of ``sender``: no clock, no network, no simulator.
"""

from __future__ import annotations

from collections.abc import Sequence

from sender.driver import run_sync
from sender.effects import Effect, Failed, Outcome, Result, Succeeded
from sender.procedure import Procedure

__all__ = ["CountingUniform", "Script", "ScriptedUniform", "err", "ok", "perform_sequence"]

Script = Sequence[tuple[Effect, Result]]

def ok(at: float) -> Succeeded:
    return Succeeded(at=at)


def err(code: int, at: float) -> Failed:
    return Failed(code=code, at=at)


def _format_steps(steps: Sequence[tuple[Effect, Result]]) -> str:
    if not steps:
        return "    (nothing)"
    return "\n".join(f"    {i:>2}. {effect!r} -> {result!r}"
                     for i, (effect, result) in enumerate(steps, 1))


def perform_sequence(procedure: Procedure, script: Script) -> Outcome:
    """Run ``procedure`` against ``script`` and return its outcome.

    Fails (``AssertionError``) when the procedure yields an effect other than the next
    scripted one, yields more effects than scripted, or returns with script left over.
    """
    remaining = list(script)
    performed: list[tuple[Effect, Result]] = []

    def perform(effect: Effect) -> Result:
        if not remaining:
            raise AssertionError(
                "the procedure wants more steps than scripted.\n"
                f"  performed so far:\n{_format_steps(performed)}\n"
                f"  got:           {effect!r}\n"
                "  expected next: (end of script: the procedure should have returned)"
            )
        expected, result = remaining[0]
        if effect != expected:
            raise AssertionError(
                "the procedure yielded an unexpected effect.\n"
                f"  performed so far:\n{_format_steps(performed)}\n"
                f"  got:           {effect!r}\n"
                f"  expected next: {expected!r}"
            )
        remaining.pop(0)
        performed.append((effect, result))
        return result

    outcome = run_sync(procedure, perform)
    if remaining:
        raise AssertionError(
            f"the procedure stopped early with {outcome!r}.\n"
            f"  performed so far:\n{_format_steps(performed)}\n"
            f"  still scripted:\n{_format_steps(remaining)}"
        )
    return outcome


class ScriptedUniform:
    """A ``UniformSource`` that returns ``values`` in order and fails when they run out."""

    def __init__(self, values: Sequence[float]) -> None:
        self._values = list(values)
        self.used = 0

    def random(self) -> float:
        if self.used >= len(self._values):
            raise AssertionError(f"rng asked for draw #{self.used + 1}; only "
                                 f"{len(self._values)} scripted")
        value = self._values[self.used]
        self.used += 1
        return value


class CountingUniform:
    """A ``UniformSource`` that returns a constant and counts the draws."""

    def __init__(self, value: float = 0.5) -> None:
        self.value = value
        self.draws = 0

    def random(self) -> float:
        self.draws += 1
        return self.value
