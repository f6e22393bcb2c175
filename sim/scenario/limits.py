"""How long a trial may run and how much work it may take, bounded up front.

Every written duration is at most 7 days (``sim.draws.units.MAX_DURATION``), and every
count has a cap, but products of caps are not small: a stochastic fault opens windows for
as long as its trial lasts, and a trial of 1,000 senders each allowed 10,000 map attempts
would take days of computing. So:

1. ``HORIZON``: stochastic faults open no window after 30 days of virtual time. 30 days
   covers the latest a sender can start (``[sender] start`` plus a fleet's arrival window,
   each at most 7 days) and SMS's own 7 days of retrying a send request, with room to
   spare; no shipped scenario comes near it, so it changes none of their results. A trial
   whose senders are still busy at the horizon goes on in a world without new stochastic
   windows (the trace records ``fault horizon``); since each sender's steps are bounded by
   its policy, the trial still ends.
2. ``MAX_WORK``: the simulated steps one trial may take at most, estimated before the run:
   stochastic fault windows up to the horizon, plus every sender's map attempts (the
   policy's ``attempts_per_dial x max_dials x (site_retries + 1)``) times the messages of
   one attempt (name queries, broadcasts, SYNs, the SMB exchanges). A scenario over it is
   refused with the estimate, before any trial runs; so is a sweep with a grid policy over
   it, and a tune whose search space's largest candidate (every searched field that
   bounds the steps at its highest value) is over it.
"""

from __future__ import annotations

import math

from sender.policy import RetryPolicy
from sim.scenario.schema import Scenario

__all__ = ["HORIZON", "MAX_WORK", "work_problem", "work_problem_of", "worst_case_work",
           "worst_case_work_of"]

HORIZON = 30 * 86400.0
MAX_WORK = 100_000_000
_SMB_STEPS = 6  # session, negotiate, session setup, tree connect, dial phases: a few each


def worst_case_work(scenario: Scenario, policy: RetryPolicy) -> tuple[int, int]:
    """(fault windows, sender steps): upper bounds for one trial (rule 2)."""
    return worst_case_work_of(scenario, policy.attempts_per_dial, policy.max_dials,
                              policy.site_retries)


def worst_case_work_of(scenario: Scenario, attempts_per_dial: int, max_dials: int,
                       site_retries: int) -> tuple[int, int]:
    """``worst_case_work`` for a policy given by the three fields that bound its steps, so
    that the largest candidate of a search space can be bounded without building it."""
    windows = sum(math.ceil(HORIZON / fault.mean_interval) for fault in scenario.faults
                  if fault.mean_interval is not None)
    netbt, tcp = scenario.netbt, scenario.tcp
    per_map = (netbt.name_query_count + (netbt.bcast_query_count if netbt.broadcast_fallback
                                         else 0)
               + tcp.max_connect_retransmissions + 1 + _SMB_STEPS)
    maps = attempts_per_dial * max_dials * (site_retries + 1)
    senders = scenario.fleet.senders if scenario.fleet is not None else 1
    return windows, senders * maps * per_map


def work_problem(scenario: Scenario, policy: RetryPolicy) -> str | None:
    """Why a trial of ``scenario`` under ``policy`` could take too long, or None."""
    return work_problem_of(scenario, *worst_case_work(scenario, policy))


def work_problem_of(scenario: Scenario, windows: int, steps: int) -> str | None:
    """``work_problem`` for the bounds ``worst_case_work`` gave."""
    if windows + steps <= MAX_WORK:
        return None
    if windows >= steps:
        return (f"faults: the stochastic faults could open up to {windows:,} windows in one "
                f"trial (30 days / mean_interval, summed); at most {MAX_WORK:,} steps per "
                "trial: lengthen mean_interval or remove faults")
    return (f"one trial could take up to {steps:,} simulated steps (senders x map attempts "
            f"the policy allows x messages per attempt); at most {MAX_WORK:,}: fewer "
            "senders, or lower max_dials, attempts_per_dial or site_retries")
