"""Link profiles: the defaults that depend on what carries the RAS connection.

A scenario names a profile (``profile = "sna"``); its values sit under the file's own, so a
file overrides any of them field by field. Values are written as a scenario file would write
them. Sources: ``shared/domain-facts.md`` section 7 ("suggested starting distributions", all
[I]: no measured source exists) and section 3; deviations are explained beside the value.
"""

from __future__ import annotations

from typing import Any

from sender.codes import (
    ERROR_FROM_DEVICE,
    ERROR_NO_ANSWER,
    ERROR_NO_CARRIER,
    ERROR_REMOTE_DISCONNECTION,
)

__all__ = ["PROFILES"]

PROFILES: dict[str, dict[str, Any]] = {
    # SNA RAS: RAS/PPP over an APPC LU 6.2 conversation, often over 9600-bps SDLC.
    "sna": {
        "ras": {
            # Dial to Connected: median ~10 s, 4-30 s [I] (domain-facts 7), split over the
            # three RasDial phases: device connect, authenticate, projection.
            "connect": {"dist": "lognormal", "median": "6s", "p95": "18s"},
            "authenticate": {"dist": "lognormal", "median": "2.5s", "p95": "8s"},
            "project": {"dist": "lognormal", "median": "1.5s", "p95": "5s"},
            # 629 then 651 on 9600-bps SDLC (Q162594); 5-15% of dials [I] (domain-facts 7).
            "connect_failure": {"rate": 0.08,
                                "codes": [ERROR_REMOTE_DISCONNECTION, ERROR_FROM_DEVICE]},
        },
        "link": {
            # One way 0.5-2.5 s under load [I] (domain-facts 7): median 0.6 s, p95 1.8 s.
            "latency": {"dist": "lognormal", "median": "600ms", "p95": "1.8s"},
            "rate_bps": 9600,  # 9600-bps SDLC [C] Q162594
            # "worst just after the session bind" [I]: 1.5x the latency, decaying over ~20 s.
            "warmup": {"factor": 1.5, "decay": "20s"},
        },
        "name_path": {
            # Readiness lag after Connected. domain-facts 7 suggests a 3-8 s median [I]; with
            # NT4's 4.5 s WINS window that makes most first maps fail, while Q221951 says the
            # sender fails "randomly". We take a 1 s median with a long tail (p95 12 s):
            # failures are a minority and the tail reaches the 30 s the facts mention.
            "lag": {"dist": "lognormal", "median": "1s", "p95": "12s"},
        },
    },
    # Analog modem: off-hook to PPP up 25-30 s typical, ~21 s average [C] (domain-facts 3).
    "async": {
        "ras": {
            "connect": {"dist": "lognormal", "median": "17s", "p95": "30s"},
            "authenticate": {"dist": "lognormal", "median": "2s", "p95": "5s"},
            "project": {"dist": "lognormal", "median": "1s", "p95": "3s"},
            # no answer 2-5% [I] (domain-facts 7); busy lines come from the port pool.
            "connect_failure": {"rate": 0.03, "codes": [ERROR_NO_ANSWER, ERROR_NO_CARRIER]},
        },
        "link": {
            # 0.08-0.3 s one way [I]; RTT 160 to >600 ms at 14.4 kbps [C] RFC 1661 note.
            "latency": {"dist": "lognormal", "median": "150ms", "p95": "300ms"},
            "rate_bps": 28800,
        },
        "name_path": {"lag": {"dist": "lognormal", "median": "300ms", "p95": "900ms"}},  # <1 s [I]
    },
    # ISDN: connect ~2-3 s [C] (domain-facts 3).
    "isdn": {
        "ras": {
            "connect": {"dist": "lognormal", "median": "1.5s", "p95": "3s"},
            "authenticate": {"dist": "lognormal", "median": "500ms", "p95": "1s"},
            "project": {"dist": "lognormal", "median": "500ms", "p95": "1s"},
            "connect_failure": {"rate": 0.01, "codes": [ERROR_NO_ANSWER]},
        },
        "link": {
            # 0.015-0.05 s one way [I] (domain-facts 7).
            "latency": {"dist": "lognormal", "median": "25ms", "p95": "50ms"},
            "rate_bps": 64000,
        },
        "name_path": {"lag": {"dist": "lognormal", "median": "200ms", "p95": "800ms"}},  # <1 s [I]
    },
}
