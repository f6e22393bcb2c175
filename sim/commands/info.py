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
    # why: lazy, so `rassim --help` and the other commands start without it
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
    # why: lazy, so `rassim --help` and the other commands start without it
    from sender.policy import PRESET_SUMMARIES, PRESETS, RetryPolicy
    from sim.scenario.policy_text import POLICY_FIELDS, policy_toml, toml_value

    # Each preset: what it is, then its fields that differ from a RetryPolicy's defaults,
    # written as a scenario's policy table would write them.
    for name, policy in PRESETS.items():
        table = policy_toml(policy)
        print(f"{name}: {PRESET_SUMMARIES[name]}")
        print(f"    {table if table != '{}' else '(every field at its default)'}")
    defaults = RetryPolicy()
    shown = ", ".join(f"{field} = {toml_value(field, getattr(defaults, field))}"
                      for field in POLICY_FIELDS
                      if getattr(defaults, field) is not None and field not in
                      ("retry_on", "redial_on"))
    print(f"\ndefaults: {shown}; retry_on: the codes `rassim explain` marks transient; "
          "redial_on: the link-suspect codes; deadline, redial_after and budget_tokens: none")
    print('\nin a scenario: [sender] policy = "connras-fix", or a table that starts from a '
          'preset: policy = { preset = "connras-fix", max_dials = 3, redial_wait = "1m" }')
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.scenario.json_schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK
