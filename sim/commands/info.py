"""``rassim explain``, ``rassim presets`` and ``rassim schema``: reference information."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sim.commands.common import EXIT_OK, BadInput

__all__ = ["register"]


def register(commands: Any) -> None:
    explain = commands.add_parser("explain", help="explain a Win32 or RAS error code")
    explain.add_argument("codes", nargs="*", type=int, help="codes (default: all known)")
    explain.set_defaults(handler=_cmd_explain)
    commands.add_parser("presets", help="list the named retry policies") \
        .set_defaults(handler=_cmd_presets)
    commands.add_parser("schema", help="print the JSON Schema of scenario files") \
        .set_defaults(handler=_cmd_schema)


def _cmd_explain(args: argparse.Namespace) -> int:
    from sender.codes import CATALOG, explain

    codes = args.codes or sorted(CATALOG)
    known = [code for code in codes if code in CATALOG]
    if known:
        print("\n\n".join(explain(code) for code in known))
    unknown = [code for code in codes if code not in CATALOG]
    if unknown:
        # Bad input: the complaint goes to stderr like every other (it went to stdout, mixed
        # into the explanations a script might parse), and the exit code is 2.
        raise BadInput(f"explain: {'; '.join(explain(code) for code in unknown)}")
    return EXIT_OK


def _cmd_presets(args: argparse.Namespace) -> int:
    from sender.policy import PRESETS

    for name, policy in PRESETS.items():
        fields = {k: v for k, v in policy.describe().items()
                  if k not in ("name", "retry_on", "redial_on")}
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK
