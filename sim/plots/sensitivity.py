"""The sensitivity ranking as bars: one panel per output, each index with its 95% interval.

``sensitivity_bars(result)`` takes a ``sim.studies.sensitivity.SensitivityResult`` and
returns a Figure (Agg canvas): parameters sorted by their index on the success rate, the
same order in both panels so a parameter is read across on one row.
"""

from __future__ import annotations

from typing import Any

from sim.plots._base import Figure, new_figure

__all__ = ["sensitivity_bars"]

_LABELS = {"mu_star": "Morris μ* (mean |elementary effect|)",
           "ST": "Sobol total-order index S_T"}


def sensitivity_bars(result: Any, *, title: str = "") -> Figure:
    names = list(result.names)
    first = result.indices["success rate"]
    order = sorted(names, key=lambda n: first[n][0])  # largest at the top of a barh
    fig, axes = new_figure(10, 1.2 + 0.45 * len(names), 1, 2, sharey=True)
    for ax, (output, values) in zip(axes, result.indices.items(), strict=True):
        heights = [values[n][0] for n in order]
        errors = [values[n][1] for n in order]
        ax.barh(range(len(order)), heights, xerr=errors, color="#4C72B0", ecolor="#333333",
                capsize=3)
        ax.set_title(output)
        ax.set_xlabel(_LABELS.get(result.index_name, result.index_name))
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(order)), order)
    fig.suptitle(title or f"Which world parameter moves the answer ({result.method}, "
                 f"{result.points} points x {result.trials} trials on seed {result.seed}; "
                 "bars: 95% bootstrap intervals)", fontsize=10)
    return fig
