"""IPv4/UDP/TCP just far enough for the wire: read the fields its rules need, build an RST.

Only what crosses the testbed's point-to-point link is handled: IPv4 without options beyond
what IHL says, UDP and TCP. Anything else is passed through as "other" (the kernel of either
side decides what to do with it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["Packet", "checksum", "parse", "tcp_reset"]

UDP = 17
TCP = 6
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


@dataclass(frozen=True, slots=True)
class Packet:
    """The fields of one IPv4 packet the wire's rules read."""

    size: int
    proto: int
    src: bytes
    dst: bytes
    sport: int = 0
    dport: int = 0
    seq: int = 0
    ack: int = 0
    flags: int = 0
    payload: int = 0  # TCP payload bytes

    @property
    def end_seq(self) -> int:
        """The sequence number after this TCP segment (SYN and FIN count one each)."""
        extra = (1 if self.flags & TCP_SYN else 0) + (1 if self.flags & TCP_FIN else 0)
        return (self.seq + self.payload + extra) & 0xFFFFFFFF

    def is_broadcast(self, netmask_bits: int = 24) -> bool:
        """Limited broadcast, or the directed broadcast of a /``netmask_bits`` network."""
        if self.dst == b"\xff\xff\xff\xff":
            return True
        host_bits = 32 - netmask_bits
        value = int.from_bytes(self.dst, "big")
        return host_bits > 0 and value & ((1 << host_bits) - 1) == (1 << host_bits) - 1


def parse(data: bytes) -> Packet | None:
    """The packet in ``data`` (a TUN read without packet information), or None if not IPv4."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 0x0F) * 4
    total = struct.unpack_from("!H", data, 2)[0]
    proto = data[9]
    src, dst = bytes(data[12:16]), bytes(data[16:20])
    if proto == UDP and len(data) >= ihl + 8:
        sport, dport = struct.unpack_from("!HH", data, ihl)
        return Packet(len(data), proto, src, dst, sport, dport)
    if proto == TCP and len(data) >= ihl + 20:
        sport, dport, seq, ack, offset, flags = struct.unpack_from("!HHIIBB", data, ihl)
        header = (offset >> 4) * 4
        return Packet(len(data), proto, src, dst, sport, dport, seq, ack, flags,
                      max(0, total - ihl - header))
    return Packet(len(data), proto, src, dst)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def tcp_reset(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int) -> bytes:
    """An IPv4 TCP RST|ACK from ``src:sport`` to ``dst:dport`` with the given numbers."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, TCP_RST | TCP_ACK, 0, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp
