"""The wire's rules (sim/real/wire.py), in model time, with hand-made packets: no TUN, no root."""

from __future__ import annotations

import math

import pytest

from sim.real.packets import TCP, TCP_ACK, TCP_RST, TCP_SYN, UDP, Packet, checksum, parse, tcp_reset
from sim.real.wire import WireRules, WireSpec

CLIENT = bytes([10, 231, 1, 1])
SERVER = bytes([10, 231, 1, 2])


class Window:
    def __init__(self, label: str, kind: str, begin: float, end: float, factor: float = 1.0):
        self.label, self.kind, self.begin, self.end = label, kind, begin, end
        self.spec = type("Spec", (), {"factor": factor})()


def rules(windows: list[Window] = (), **spec: float) -> WireRules:  # type: ignore[assignment]
    def active(kind: str, now: float) -> list[Window]:
        return [w for w in windows if w.kind == kind and w.begin <= now < w.end]

    def outages(start: float, stop: float) -> list[str]:
        return [w.label for w in windows if w.kind == "link_outage"
                and w.begin <= stop and w.end > start]

    return WireRules(WireSpec(**{"latency": 0.6, **spec}), SERVER, active, outages)


def query(size: int = 78, dst: bytes = SERVER) -> Packet:
    return Packet(size, UDP, CLIENT, dst, 137, 137)


def test_latency_and_rate_give_the_arrival_time() -> None:
    wire = rules(rate_bps=9600)
    wire.up(now=10.0, lag=0.0)
    assert wire.admit(query(78), 10.0) == pytest.approx(10.0 + 0.6 + 78 * 8 / 9600)


def test_warm_up_multiplies_latency_by_its_decaying_factor() -> None:
    wire = rules(warm_factor=1.5, warm_decay=20.0)
    wire.up(now=0.0, lag=0.0)
    assert wire.admit(query(), 3.0) == pytest.approx(3.0 + 0.6 * (1 + 0.5 * math.exp(-3 / 20)))


def test_fifo_a_small_packet_never_overtakes() -> None:
    wire = rules(rate_bps=9600)
    wire.up(now=0.0, lag=0.0)
    big = wire.admit(query(1500), 0.0)
    small = wire.admit(query(40), 0.001)
    assert big is not None and small == big


@pytest.mark.parametrize(("arrival", "delivered"), [(4.999, False), (5.0, True), (6.0, True)])
def test_gate_is_checked_on_arrival_not_on_send(arrival: float, delivered: bool) -> None:
    # Ready at 5.0 (up at 0, lag 5). A query *sent* at 4.5 that *arrives* at 5.0 is answered.
    wire = rules()
    wire.up(now=0.0, lag=5.0)
    assert wire.deliver(query(), 4.5, wire.connection, arrival) is delivered


def test_the_gate_holds_only_towards_the_server() -> None:
    wire = rules()
    wire.up(now=0.0, lag=5.0)
    answer = Packet(90, UDP, SERVER, CLIENT, 137, 137)
    assert wire.deliver(answer, 1.0, wire.connection, 1.6)


def test_no_broadcast_crosses() -> None:
    wire = rules()
    wire.up(now=0.0, lag=0.0)
    assert wire.admit(query(dst=bytes([10, 231, 1, 255])), 1.0) is None
    assert wire.admit(query(dst=b"\xff\xff\xff\xff"), 1.0) is None
    assert wire.counters["broadcast_dropped"] == 2


def test_sent_while_down_is_lost_and_hang_up_loses_what_is_in_flight() -> None:
    wire = rules()
    assert wire.admit(query(), 0.0) is None
    wire.up(now=1.0, lag=0.0)
    connection = wire.connection
    wire.down()
    wire.up(now=1.2, lag=0.0)
    assert not wire.deliver(query(), 1.0, connection, 1.6)  # sent before the redial


def test_outage_loses_packets_in_flight_across_it_and_touches_the_fault() -> None:
    wire = rules([Window("cut", "link_outage", 2.0, 10.0)])
    wire.up(now=0.0, lag=0.0)
    assert not wire.deliver(query(), 1.8, wire.connection, 2.4)  # in flight when it began
    assert wire.admit(query(), 5.0) is None  # sent during it
    assert wire.deliver(query(), 10.0, wire.connection, 10.6)  # after it
    assert wire.touched == {"cut"}


def test_wins_unavailable_drops_name_queries_only() -> None:
    wire = rules([Window("wins", "wins_unavailable", 0.0, 20.0)])
    wire.up(now=0.0, lag=0.0)
    assert not wire.deliver(query(), 1.0, wire.connection, 1.6)
    syn = Packet(60, TCP, CLIENT, SERVER, 40000, 139, 1000, 0, TCP_SYN)
    assert wire.deliver(syn, 1.0, wire.connection, 1.6)


def test_latency_spike_multiplies() -> None:
    wire = rules([Window("spike", "latency_spike", 0.0, 5.0, factor=10.0)])
    wire.up(now=0.0, lag=0.0)
    assert wire.admit(query(), 1.0) == pytest.approx(1.0 + 6.0)
    assert wire.admit(query(), 6.0) == pytest.approx(7.0)  # 6.6 by latency; FIFO: not before 7.0
    assert wire.touched == {"spike"}


def test_overlapping_latency_spikes_multiply_as_in_the_model() -> None:
    wire = rules([Window("a", "latency_spike", 0.0, 5.0, factor=3.0),
                  Window("b", "latency_spike", 2.0, 8.0, factor=2.0)])
    wire.up(now=0.0, lag=0.0)
    assert wire.admit(query(), 1.0) == pytest.approx(1.0 + 0.6 * 3)
    assert wire.admit(query(), 3.0) == pytest.approx(3.0 + 0.6 * 6)
    assert wire.admit(query(), 20.0) == pytest.approx(20.6)
    assert wire.touched == {"a", "b"}


def test_the_deliberate_gate_bug_judges_a_packet_when_it_leaves() -> None:
    # The bug of rule 3, test-only: sent at 4.5 before ready (5.0), it is dropped at once
    # although it would arrive at 5.1, after ready, and be answered by the correct wire.
    correct, buggy = rules(), rules()
    buggy.gate_on_departure = True
    for wire in (correct, buggy):
        wire.up(now=0.0, lag=5.0)
    assert correct.admit(query(), 4.5) == pytest.approx(5.1)
    assert correct.deliver(query(), 4.5, correct.connection, 5.1)
    assert buggy.admit(query(), 4.5) is None
    assert buggy.counters["gate_dropped"] == 1
    # ... and lets through what leaves after ready even if the wire has no other objection.
    assert buggy.deliver(query(), 5.0, buggy.connection, 5.6)


def test_data_segments_and_bytes_are_counted_per_direction() -> None:
    wire = rules()
    wire.up(now=0.0, lag=0.0)
    c = wire.connection
    wire.deliver(Packet(60, TCP, CLIENT, SERVER, 40000, 139, 1000, 0, TCP_SYN), 0, c, 1)
    wire.deliver(Packet(140, TCP, CLIENT, SERVER, 40000, 139, 1001, 1, TCP_ACK, payload=100),
                 1, c, 2)
    wire.deliver(Packet(90, TCP, SERVER, CLIENT, 139, 40000, 1, 1101, TCP_ACK, payload=50),
                 2, c, 3)
    assert (wire.counters["tcp_data_to_server"], wire.counters["tcp_bytes_to_server"],
            wire.counters["tcp_data_to_client"], wire.counters["tcp_bytes_to_client"]) == \
        (1, 100, 1, 50)


def test_a_silent_drop_sends_no_resets() -> None:
    wire = rules()
    wire.reset_on_down = False
    wire.up(now=0.0, lag=0.0)
    c = wire.connection
    wire.deliver(Packet(60, TCP, CLIENT, SERVER, 40000, 139, 1000, 0, TCP_SYN), 0, c, 1)
    wire.deliver(Packet(60, TCP, SERVER, CLIENT, 139, 40000, 5000, 1001, TCP_SYN | TCP_ACK),
                 1, c, 2)
    assert wire.resets() == []


def test_resets_carry_the_exact_next_sequence_numbers() -> None:
    wire = rules()
    wire.up(now=0.0, lag=0.0)
    c = wire.connection
    assert wire.deliver(Packet(60, TCP, CLIENT, SERVER, 40000, 139, 1000, 0, TCP_SYN), 0, c, 1)
    assert wire.deliver(Packet(60, TCP, SERVER, CLIENT, 139, 40000, 5000, 1001,
                               TCP_SYN | TCP_ACK), 1, c, 2)
    assert wire.deliver(Packet(140, TCP, CLIENT, SERVER, 40000, 139, 1001, 5001, TCP_ACK,
                               payload=100), 2, c, 3)
    (to_client, rst_c), (to_server, rst_s) = wire.resets()
    assert (to_client, to_server) == (False, True)
    c_packet, s_packet = parse(rst_c), parse(rst_s)
    assert c_packet is not None and s_packet is not None
    assert (c_packet.src, c_packet.dst, c_packet.seq, c_packet.flags & TCP_RST) == \
        (SERVER, CLIENT, 5001, TCP_RST)
    assert (s_packet.src, s_packet.dst, s_packet.seq) == (CLIENT, SERVER, 1101)
    assert wire.resets() == []  # forgotten once reset


def test_reset_packets_have_valid_checksums() -> None:
    data = tcp_reset(CLIENT, SERVER, 40000, 139, 7, 9)
    assert checksum(data[:20]) == 0
    pseudo = CLIENT + SERVER + bytes([0, TCP, 0, 20])
    assert checksum(pseudo + data[20:]) == 0
