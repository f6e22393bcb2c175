"""The dial's phase times and failure rates, from RAS connection logs or Sender.log alone.

The model (``sim.world.ras`` rules 2 and 3, ``sim.world.stages.dial_plan``): each phase
takes its drawn time and then fails with its rate's probability; authentication that would
outlast ``authenticate_timeout`` fails with 718 when the timer expires, without a roll.

Rules:

1. **From a RAS connection log** (``sim.studies.fit.raslog``), each phase a dial went
   through gives its time: exact when the phase completed or failed by its rate (in the
   model a failing phase fails at the end of its drawn time), right-censored at the
   timeout for a 718 that ended authentication exactly ``authenticate_timeout`` in. A time
   below the log's millisecond is left-censored at 1 ms. Each phase is fitted like the lag
   (``sim.studies.fit.fit``: exponential and lognormal, AIC, bootstrap); the empirical
   form is not a candidate (exact times would make its likelihood infinite).
2. A phase's **failure rate** is binomial: failures over the dials that reached it and
   finished it, 718 time-outs left out of both (they come from the time, not the rate),
   with a Wilson 95% interval and the codes seen, most frequent first. Dials refused before
   any phase (no free port: ``no_port_code``) are counted apart; they are the port pool's
   doing, not a phase's.
3. **From Sender.log alone** a dial shows its start (``Dialing RAS phonebook entry``) and
   its end (``RAS connection ... established.`` or ``Error during RasDial (CODE).``): the
   time to Connected is exact for a dial that connected and right-censored for one that
   failed (the phases it did not reach would have added time), and the failure rate is
   one rate for the whole dial. It cannot separate connect, authenticate and project, nor
   say which phase a code came from; the fits are reported, and written as comments only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.scenario.schema import RasSpec
from sim.stats.intervals import wilson_interval
from sim.studies.fit.censor import Censored
from sim.studies.fit.fit import FitError, LagFit, fit_censored
from sim.studies.fit.logparse import Dial
from sim.studies.fit.raslog import PHASES, RasDialRecord

__all__ = ["DialFit", "RateFit", "fit_ras_dials", "fit_sender_dials"]

_TOLERANCE = 0.0015  # two stamps within this are equal (they are printed to the ms)
_RESOLUTION = 0.001
_PPP_TIMEOUT = 718


@dataclass(frozen=True, slots=True)
class RateFit:
    """Failures out of trials, the Wilson interval and the codes seen (rule 2)."""

    failures: int
    trials: int
    interval: tuple[float, float]
    codes: tuple[tuple[int, int], ...]  # (code, count), most frequent first
    timeouts: int = 0  # 718 time-outs left out (authenticate)

    @property
    def rate(self) -> float:
        return self.failures / self.trials if self.trials else 0.0


@dataclass(frozen=True, slots=True)
class DialFit:
    """Fitted phase times and failure rates: per phase (``source == "ras"``) or for the
    whole dial (``"sender"``, rule 3, phase name ``"dial"``)."""

    source: str
    dials: int
    times: dict[str, LagFit]
    rates: dict[str, RateFit]
    no_port: int = 0
    notes: tuple[str, ...] = field(default=())


def _rate(outcomes: Sequence[int], timeouts: int = 0) -> RateFit:
    failures = [code for code in outcomes if code]
    counts = tuple(sorted(Counter(failures).items(), key=lambda item: (-item[1], item[0])))
    return RateFit(len(failures), len(outcomes), wilson_interval(len(failures), len(outcomes)),
                   counts, timeouts)


def _fit_times(low: list[float], high: list[float], *, resamples: int, seed: int,
               what: str) -> LagFit:
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    chosen, candidates, intervals, failed, notes = fit_censored(
        lo, hi, resamples=resamples, seed=seed, what=what)
    return LagFit(chosen, candidates, intervals, resamples, failed,
                  Censored(tuple(low), tuple(high), 0), notes)


def _observe(duration: float, censored_right: bool, low: list[float],
             high: list[float]) -> None:
    if censored_right:
        low.append(duration)
        high.append(math.inf)
    elif duration < _RESOLUTION:
        low.append(0.0)
        high.append(_RESOLUTION)
    else:
        low.append(duration)
        high.append(duration)


def fit_ras_dials(dials: Sequence[RasDialRecord], spec: RasSpec, *, resamples: int = 200,
                  seed: int = 0) -> DialFit:
    """Rules 1 and 2 on the dials of RAS connection logs."""
    times: dict[str, LagFit] = {}
    rates: dict[str, RateFit] = {}
    notes: list[str] = []
    no_port = sum(1 for d in dials if d.code and not d.phases)
    for index, name in enumerate(PHASES):
        low: list[float] = []
        high: list[float] = []
        outcomes: list[int] = []
        timeouts = 0
        for dial in dials:
            phase = next((p for p in dial.phases if p.name == name), None)
            if phase is None or phase.end is None or phase.code is None:
                continue
            duration = phase.end - phase.start
            timed_out = (name == "authenticate" and phase.code == _PPP_TIMEOUT
                         and abs(duration - spec.authenticate_timeout) <= _TOLERANCE)
            _observe(duration, timed_out, low, high)
            if timed_out:
                timeouts += 1
            else:
                outcomes.append(phase.code)
        rates[name] = _rate(outcomes, timeouts)
        try:
            times[name] = _fit_times(low, high, resamples=resamples, seed=seed + index,
                                     what=f"{name} times")
        except FitError as error:
            notes.append(f"{name}: not fitted ({error})")
    return DialFit("ras", len(dials), times, rates, no_port, tuple(notes))


def fit_sender_dials(dials: Sequence[Dial], spec: RasSpec, *, resamples: int = 200,
                     seed: int = 0) -> DialFit:
    """Rule 3 on the dials of Sender.log files."""
    low: list[float] = []
    high: list[float] = []
    outcomes: list[int] = []
    no_port = 0
    for dial in dials:
        if dial.end is None or dial.code is None:
            continue
        duration = dial.end - dial.start
        if (dial.code == spec.no_port_code
                and abs(duration - spec.busy_after) <= _TOLERANCE):
            no_port += 1
            continue
        _observe(duration, dial.code != 0, low, high)
        outcomes.append(dial.code)
    notes = ["Sender.log shows each dial's start and end only: connect, authenticate and "
             "project cannot be separated, nor which phase a code came from; give the RAS "
             "connection log (--ras-log) to fit them"]
    times: dict[str, LagFit] = {}
    try:
        times["dial"] = _fit_times(low, high, resamples=resamples, seed=seed,
                                   what="dial times")
    except FitError as error:
        notes.append(f"dial time: not fitted ({error})")
    return DialFit("sender", len(dials), times, {"dial": _rate(outcomes)}, no_port,
                   tuple(notes))
