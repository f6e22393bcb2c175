"""Real trial i's world, drawn from the streams and with the code of simulated trial i.

Rules:

1. ``RealWorld(scenario, seed, i)`` draws from ``TrialStreams(seed, i)`` only, through the
   same pure functions the SimPy world uses: ``sim.world.ras.plan_dial`` (dial n's phase
   times and failure), ``sim.world.netbt.draw_lag`` (connection n's name-path lag) and
   ``sim.world.faults.draw_scheduled`` (fault k's happening and duration). The sender's
   jitter comes from the ``jitter`` stream, as in ``sim.trial.trial``. So real trial i faces
   the world simulated trial i faced, draw for draw, and outcomes pair exactly.
2. Fault windows are model-time intervals ``[milestone time + offset, + duration)``; a
   window's start is known once its milestone is reached (``reach``), as in the SimPy
   world, where a milestone is reached when the sender asks for the effect.
3. ``expressible(scenario)`` names the first field the real testbed cannot express (with
   why), or returns None: fleets, faults with no real counterpart (``server_paused``),
   stochastic faults, a latency that is drawn per message (packets are not messages,
   so per-message draws cannot pair; the scenario must state a constant latency), a
   predialed link (``ras.predialed``: the manual RASDIAL before t = 0 is not
   implemented), and a ``ports_held`` window that opens at the very instant of a milestone
   other than the start (the model orders it after the step that reached the milestone, so
   the dial of that step still gets its port; the performer cannot order the two and would
   refuse that dial). Refusing beats running a world the model never ran.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.draws.distributions import Constant
from sim.draws.streams import TrialStreams, UniformStream
from sim.scenario.schema import FaultSpec, Scenario
from sim.world.faults import draw_scheduled, unique_labels
from sim.world.netbt import draw_lag
from sim.world.stages import DialPlan, plan_dial

__all__ = ["REAL_FAULT_KINDS", "FaultWindow", "RealWorld", "expressible"]

#: Fault kinds with a real counterpart on the testbed (README "Validated against a real stack").
REAL_FAULT_KINDS = ("link_outage", "latency_spike", "wins_unavailable", "share_missing",
                    "bad_credentials", "ports_held")


@dataclass(slots=True)
class FaultWindow:
    """One scheduled fault of one trial (rule 2)."""

    label: str
    spec: FaultSpec
    happens: bool
    duration: float
    begin: float | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def end(self) -> float:
        return math.inf if self.begin is None else self.begin + self.duration

    def active(self, now: float) -> bool:
        return self.begin is not None and self.begin <= now < self.begin + self.duration


class RealWorld:
    """The draws of one real trial (see the module docstring)."""

    def __init__(self, scenario: Scenario, seed: int, trial: int) -> None:
        self.scenario = scenario
        self.streams = TrialStreams(seed, trial)
        self._phase = self.streams.get("ras")
        self._failure = self.streams.get("dial_failures")
        self._lag = self.streams.get("name_path")
        self.windows: list[FaultWindow] = []
        for index, (spec, label) in enumerate(zip(scenario.faults,
                                                  unique_labels(scenario.faults), strict=True)):
            happens, duration = draw_scheduled(spec, self.streams.get("faults", index))
            self.windows.append(FaultWindow(label, spec, happens, duration))
        self.reached: dict[str, float] = {}
        #: World values for the report: each dial's plan and each connection's lag.
        self.dial_plans: list[DialPlan] = []
        self.lags: list[float] = []

    def jitter(self) -> UniformStream:
        return self.streams.get("jitter")

    def next_dial(self) -> DialPlan:
        plan = plan_dial(self.scenario.ras, self._phase, self._failure)
        self.dial_plans.append(plan)
        return plan

    def next_lag(self) -> float:
        lag = draw_lag(self.scenario.name_path.lag, self._lag)
        self.lags.append(lag)
        return lag

    def reach(self, milestone: str, now: float) -> None:
        """Mark the first occurrence of ``milestone``; windows waiting for it get a start."""
        if milestone in self.reached:
            return
        self.reached[milestone] = now
        for window in self.windows:
            if not window.happens or window.begin is not None:
                continue
            waited, offset = window.spec.schedule()
            if waited == milestone:
                window.begin = now + offset

    def active(self, kind: str, now: float) -> FaultWindow | None:
        for window in self.windows:
            if window.kind == kind and window.active(now):
                return window
        return None

    def all_active(self, kind: str, now: float) -> list[FaultWindow]:
        """Every window of ``kind`` active at ``now`` (overlapping spikes multiply)."""
        return [w for w in self.windows if w.kind == kind and w.active(now)]

    def edges_within(self, start: float, stop: float) -> bool:
        """Whether some window opens or closes in ``(start, stop]`` (rule 2 of
        ``sim.real.clock``: idle time may be skipped only when none does)."""
        for window in self.windows:
            if window.begin is None:
                continue
            for edge in (window.begin, window.end):
                if start < edge <= stop:
                    return True
        return False

    def touched(self, window: FaultWindow, touched: set[str]) -> None:
        touched.add(window.label)


def expressible(scenario: Scenario) -> str | None:
    """The first ``field: why`` the real testbed cannot express, or None (rule 3)."""
    if scenario.fleet is not None:
        return "fleet: the real testbed runs one sender; remove [fleet] for `rassim real`"
    if not isinstance(scenario.link.latency, Constant):
        return ("link.latency: the real wire cannot pair a latency drawn per message "
                "(packets are not messages); state a constant latency such as \"600ms\"")
    if scenario.ras.predialed is not None:
        return ("ras.predialed: the testbed does not implement the manual RASDIAL "
                "workaround (a link up before t = 0); remove it for `rassim real`")
    for index, spec in enumerate(scenario.faults):
        if spec.kind not in REAL_FAULT_KINDS:
            return (f"faults[{index}].kind: {spec.kind!r} has no real counterpart on the "
                    f"testbed (Samba has no paused state); real kinds: "
                    f"{', '.join(REAL_FAULT_KINDS)}")
        if spec.at is None:
            return (f"faults[{index}].mean_interval: stochastic faults are not supported by "
                    "`rassim real`; schedule the window with at = \"connected + 2s\"")
        milestone, offset = spec.schedule()
        if spec.kind == "ports_held" and milestone != "start" and offset == 0:
            return (f"faults[{index}].at: a ports_held window opening at the instant of "
                    f"{milestone!r} comes after that step's dial in the model, an order the "
                    f"testbed cannot keep; give it an offset (\"{milestone} + 1s\") or an "
                    "absolute time")
    return None
