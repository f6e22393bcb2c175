"""Pictures of rassim results (matplotlib, an optional extra: ``pip install -e '.[plot]'``).

Every function takes data (trace events, DataFrames from ``sim.frames``, summaries) and an
optional matplotlib ``ax``, and returns the Figure it drew on. Figures are built on an Agg
canvas without pyplot, so they are safe in scripts, workers and the CLI; in Jupyter, run
``%matplotlib inline`` once and a returned figure displays. ``save`` writes a figure
atomically.

* ``timeline(events, ...)``: one trial on one time axis (``rassim replay --plot``).
* ``fleet_timeline(events, ...)``: one fleet trial, the shared RAS ports above one row per
  sender.
* ``run_figure(summary, ...)``: time-to-connect CDF (a fleet's makespan) and failure codes
  (``rassim run --plot``).
* ``connect_cdf(data, ...)``: time-to-connect CDFs, one curve per policy or run.
* ``success_vs_budget(df, budget, ...)`` / ``rate_curves``: a rate with its 95% band against
  a retry budget or any parameter, one curve per policy.
* ``success_heatmap(df, x, y, ...)``: a rate over two parameters.
* ``pareto_front(df, x, y, ...)`` and ``pareto_mask``: the trade-off between a cost and the
  success rate.
* ``sweep_figure(report, varied, points)``: a sweep report's policies with their intervals
  and paired differences, and the success rate over the varied fields
  (``rassim sweep --plot``).

matplotlib is imported only when a plotting function is first used; without it, that use
raises ``sim.report.output.OutputError`` saying which extra to install. ``save``,
``check_plot_path`` and ``require_matplotlib`` work without matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.plots._files import PLOT_SUFFIXES, check_plot_path, require_matplotlib, save

if TYPE_CHECKING:
    from sim.plots._curves import (
        connect_cdf,
        pareto_front,
        pareto_mask,
        rate_curves,
        success_heatmap,
        success_vs_budget,
    )
    from sim.plots._fleet import fleet_timeline
    from sim.plots._run import run_figure
    from sim.plots._sweep import sweep_figure
    from sim.plots._timeline import timeline

__all__ = [
    "PLOT_SUFFIXES",
    "check_plot_path",
    "connect_cdf",
    "fleet_timeline",
    "pareto_front",
    "pareto_mask",
    "rate_curves",
    "require_matplotlib",
    "run_figure",
    "save",
    "success_heatmap",
    "success_vs_budget",
    "sweep_figure",
    "timeline",
]

# Where each lazily imported function lives: importing it imports matplotlib.
_LAZY = {
    "timeline": "_timeline",
    "fleet_timeline": "_fleet",
    "run_figure": "_run",
    "connect_cdf": "_curves",
    "rate_curves": "_curves",
    "success_vs_budget": "_curves",
    "success_heatmap": "_curves",
    "pareto_front": "_curves",
    "pareto_mask": "_curves",
    "sweep_figure": "_sweep",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.plots' has no attribute {name!r}")
    require_matplotlib()
    value = getattr(importlib.import_module(f"sim.plots.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
