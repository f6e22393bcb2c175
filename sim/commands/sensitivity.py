"""``rassim sensitivity``: rank the world's parameters by how much they move the answer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_OK, BadInput, check_count

__all__ = ["register"]


def register(commands: Any) -> None:
    sens = commands.add_parser(
        "sensitivity", help="rank world parameters by their effect on success and 53 (SALib)")
    sens.add_argument("file", type=Path)
    sens.add_argument("--params", metavar="NAME=LOW:HIGH,... | FILE.toml",
                      help="parameters and ranges, or a TOML file with a [params] table "
                      "(default: the SNA world's uncertain knobs)")
    sens.add_argument("--method", choices=("morris", "sobol"), default="morris")
    sens.add_argument("--samples", type=int, default=8,
                      help="Morris trajectories or Sobol base samples (default 8)")
    sens.add_argument("--trials", type=int, default=200,
                      help="trials per sample point, the same seeds at every point (default 200)")
    sens.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    sens.add_argument("--policy", help="use this policy preset instead of the scenario's")
    sens.add_argument("--plot", type=Path, metavar="FILE.png",
                      help="bar chart of the indices with their intervals (.png, .svg, .pdf)")
    sens.set_defaults(handler=_cmd_sensitivity)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.commands.fit import require_calibrate
    from sim.scenario.schema import MAX_SEED

    check_count("samples", args.samples, 2, 10_000)
    check_count("trials", args.trials, 1, 1_000_000)
    check_count("seed", args.seed, 0, MAX_SEED)
    require_calibrate("rassim sensitivity")
    if args.plot is not None:
        # why: matplotlib is an optional extra (rassim[plot])
        from sim.plots import check_plot_path, require_matplotlib

        check_plot_path(args.plot)
        require_matplotlib("--plot")
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.scenario.loader import load_scenario
    from sim.studies.sensitivity import (
        DEFAULT_PARAMETERS,
        parse_ranges,
        read_ranges,
        sensitivity,
    )

    loaded = load_scenario(args.file, policy=args.policy)
    if args.params is None:
        ranges = parse_ranges(",".join(f"{k}={a}:{b}" for k, (a, b) in
                                       DEFAULT_PARAMETERS.items()))
    elif args.params.endswith(".toml"):
        ranges = read_ranges(Path(args.params))
    else:
        ranges = parse_ranges(args.params)
    if len(ranges) < 2:
        raise BadInput("--params: name at least two parameters to rank")
    result = sensitivity(loaded, ranges, method=args.method, samples=args.samples,
                         trials=args.trials, seed=args.seed)
    _table(result, loaded)
    if args.plot is not None:
        # why: matplotlib is an optional extra (rassim[plot])
        from sim.plots import save
        from sim.plots.sensitivity import sensitivity_bars

        save(sensitivity_bars(result), args.plot, option="--plot")
        print(f"wrote {args.plot}")
    return EXIT_OK


def _table(result: Any, loaded: Any) -> None:
    first = result.indices["success rate"]
    order = sorted(result.names, key=lambda n: -first[n][0])
    print(f"{loaded.scenario.name} · policy {loaded.policy.name} · {result.method}: "
          f"{result.points} points x {result.trials} trials, seed {result.seed} at every point")
    label = result.index_name
    print(f"{'parameter':<28} {'success ' + label:>16} {'± 95%':>8} {'53 ' + label:>16} "
          f"{'± 95%':>8}")
    for name in order:
        s, s_conf = result.indices["success rate"][name]
        r, r_conf = result.indices["53 rate"][name]
        print(f"{name:<28} {s:16.4f} {s_conf:8.4f} {r:16.4f} {r_conf:8.4f}")
