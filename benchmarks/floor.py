"""A closed-form floor for one canonical trial: the least work any per-trial engine on
rassim's random streams could do (``benchmarks/per_trial.py`` times it beside rassim).

What "floor" means here (our definition; the issue names the figure without defining it):
the canonical scenario's trial for the ``pre-fix`` policy (one dial, one map) written as one
plain function over **the same streams, seeded the same way, with the same stage rules**
(``sim.world.stages``: the dial plan, warm-up, WINS service, give-up, SYN waits), and
nothing else: no sender procedure, no effects or results, no ordering of messages in flight
(each reply is computed right after its request, so draws are taken in send order, not in
time order as rassim must), no ties, no row and no summary. It returns
(connected, final code, time of the outcome), like the hand-written peer.

It is a yardstick, not a model: it draws the same kinds of numbers in a different order, so
its trials differ from rassim's one by one, and it applies to this scenario and policy only.
Cost above it is what rassim spends on generality (any policy, exact event order, rows).
"""

from __future__ import annotations

import math

from sim.draws.streams import STREAM_IDS, PcgStream, stream_seeds
from sim.scenario.schema import Scenario
from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES
from sim.world.smb import SESSION_STEPS, SYN_BYTES
from sim.world.stages import answered_in_time, dial_plan, path_ready, syn_waits, warmed

__all__ = ["floor_trials"]

_STREAMS = tuple(STREAM_IDS[name] for name in ("ras", "dial_failures", "link", "name_path"))


def floor_trials(scenario: Scenario, seed: int, trials: int) -> list[tuple[bool, int, float]]:
    """Trials 0..trials-1 of the floor (see the module docstring)."""
    ras, link, netbt = scenario.ras, scenario.link, scenario.netbt
    phases = (ras.connect.ppf, ras.authenticate.ppf, ras.project.ppf)
    latency, lag = link.latency.ppf, scenario.name_path.lag.ppf
    extra, decay = link.warmup.factor - 1.0, link.warmup.decay
    per_byte = 8.0 / link.rate_bps if link.rate_bps else 0.0
    query, response = NAME_QUERY_BYTES * per_byte, NAME_RESPONSE_BYTES * per_byte
    syn = SYN_BYTES * per_byte
    smb = [(out * per_byte, back * per_byte) for _s, out, back, _c in SESSION_STEPS]
    interval, count = netbt.name_query_timeout, netbt.name_query_count
    broadcast = netbt.bcast_query_count * netbt.bcast_query_timeout
    waits = syn_waits(scenario.tcp.initial_rto, scenario.tcp.max_connect_retransmissions)
    think, timeout, hangup = scenario.smb.server_think, scenario.smb.session_timeout, ras.hangup
    out: list[tuple[bool, int, float]] = []
    for trial in range(trials):
        a, b, c, d = stream_seeds(seed, trial, _STREAMS)
        draw, roll, u = PcgStream(*a).random, PcgStream(*b).random, PcgStream(*c).random
        durations = (phases[0](draw()), phases[1](draw()), phases[2](draw()))
        now, code = 0.0, 0
        for _name, duration, phase_code in dial_plan(ras, *durations,
                                                     (roll(), roll(), roll(), roll())):
            now, code = now + duration, phase_code
        if code:
            out.append((False, code, now))
            continue
        up, ready = now, now + lag(PcgStream(*d).random())
        # WINS: a query every interval until one is answered; the first answer wins.
        answered = math.inf
        for k in range(count):
            sent = now + k * interval
            if sent >= answered:
                break
            arrive = sent + warmed(latency(u()), sent - up, extra, decay) + query
            if path_ready(arrive, ready):
                answered = min(answered, arrive + warmed(latency(u()), arrive - up, extra, decay)
                               + response)
        if not answered_in_time(answered, now + count * interval):
            out.append((False, 53, now + count * interval + broadcast + hangup))
            continue
        now = answered
        # TCP: SYNs until one is answered before its retransmission time.
        established = False
        for rto in waits:
            arrive = now + warmed(latency(u()), now - up, extra, decay) + syn
            if path_ready(arrive, ready):
                back = arrive + warmed(latency(u()), arrive - up, extra, decay) + syn
                if back < now + rto:
                    now, established = back, True
                    break
            now += rto
        if not established:
            out.append((False, 53, now + hangup))
            continue
        # NetBIOS session and SMB: one round trip each within the session time-out.
        for request, reply in smb:
            arrive = now + warmed(latency(u()), now - up, extra, decay) + request + think
            back = arrive + warmed(latency(u()), arrive - up, extra, decay) + reply
            if back >= now + timeout:
                now, code = now + timeout, 121
                break
            now = back
        out.append((not code, code, now + hangup if code else now))
    return out
