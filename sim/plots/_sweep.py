"""The picture of a sweep (``rassim sweep --plot``): per policy, the success rate and the
error 53 rate with their 95% intervals and the paired difference to the baseline; below,
when the grid varies one or two numeric fields, the success rate over them.

Takes the report of ``sim.studies.sweep.sweep_report`` (its ``policies`` rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import FuncFormatter

from sender.codes import ERROR_BAD_NETPATH
from sim.plots._base import Figure
from sim.plots._curves import rate_curves, success_heatmap, success_vs_budget
from sim.scenario.policy_fields import FIELDS

__all__ = ["sweep_figure"]

#: Grid fields a plot can put on an axis (numbers); jitter and the code sets cannot.
_NUMERIC_FIELDS = tuple(f.name for f in FIELDS if f.sweepable and f.numeric)
#: Past this many policies the per-policy panels show the baseline and the best ones only.
_MAX_ROWS = 40


def sweep_figure(report: dict[str, Any], varied: tuple[str, ...] = (),
                 points: range = range(0)) -> Figure:
    """The picture of a sweep report: per policy, the success rate and the error 53 rate
    with their 95% intervals and the paired difference to the baseline; below, when the
    grid varies one or two numeric fields (``varied``, their grid points at ``points`` of
    the report's rows), the success rate over them."""

    rows = report["policies"]
    shown = list(range(len(rows)))
    if len(rows) > _MAX_ROWS:
        best = sorted((i for i in shown if not rows[i]["baseline"]),
                      key=lambda i: -(rows[i]["success_rate"] or 0))[:_MAX_ROWS - 1]
        shown = sorted({*best, *(i for i in shown if rows[i]["baseline"])})
    fields = [f for f in varied if f in _NUMERIC_FIELDS]
    frame = pd.DataFrame([rows[i] for i in points])
    if len(fields) != len(varied) or len(fields) > 2 or frame.empty:
        fields = []  # jitter, code sets or 3+ fields: no axis to put them on
    else:
        frame = frame.dropna(subset=[*fields, "success_rate"])
        fields = fields if len(frame) > 1 else []
    height = 1.6 + 0.27 * len(shown)
    fig = Figure(figsize=(12.5, height + (4.3 if fields else 0)), layout="constrained")
    FigureCanvasAgg(fig)
    if fields:
        top, bottom = fig.subfigures(2, 1, height_ratios=[height, 4.3])  # type: ignore[misc]
    else:
        top, bottom = fig, None
    _policy_panels(top, report, shown, len(rows))
    if bottom is not None:
        _varied_panels(bottom, frame, fields, rows[[r["baseline"] for r in rows].index(True)])
    fig.suptitle(f"{report['scenario']} · sweep {Path(report['grid']).name} · "
                 f"{report['trials']:,} trials per policy on the same seeds · seed "
                 f"{report['seed']}", fontsize=11)
    return fig


def _policy_panels(where: Any, report: dict[str, Any], shown: list[int], total: int) -> None:
    rows = [report["policies"][i] for i in shown]
    axes = where.subplots(1, 3, sharey=True, width_ratios=[1.25, 1, 1.1])
    ys = list(range(len(rows)))[::-1]  # the first policy at the top, as in the table
    names = [r["policy"] + (" (baseline)" if r["baseline"] else "") for r in rows]

    def dots(ax: Any, metric: str, color: str, scale: float = 1.0) -> None:
        for y, row in zip(ys, rows, strict=True):
            value = row[metric]
            if value is None:
                continue
            low, high = row[f"{metric}_low"], row[f"{metric}_high"]
            ax.errorbar([scale * value], [y], xerr=[[scale * (value - low)],
                                                    [scale * (high - value)]],
                        fmt="o", color=color, markersize=5, capsize=2.5, linewidth=1.3)

    success, fifty_three, delta = axes
    dots(success, "success_rate", "#2e7d32", 100)
    success.set_xlabel("success rate (% of trials)\ndot: estimate; bar: 95% interval")
    success.set_title("success rate")
    dots(fifty_three, "rate_53", "#c62828", 100)
    fifty_three.set_xlabel(f"error {ERROR_BAD_NETPATH} rate (% of trials)\n"
                           "dot: estimate; bar: 95% interval")
    fifty_three.set_title(f"error {ERROR_BAD_NETPATH} (the KB's failure)")
    fifty_three.set_xlim(left=0)
    for y, row in zip(ys, rows, strict=True):
        if row["baseline"]:
            delta.annotate("baseline", (0, y), xytext=(4, 0), textcoords="offset points",
                           va="center", fontsize=8, color="#555555")
            continue
        if row["diff"] is None:
            continue
        better, worse = row["diff_low"] > 0, row["diff_high"] < 0
        color = "#2e7d32" if better else "#c62828" if worse else "#757575"
        delta.errorbar([100 * row["diff"]], [y],
                       xerr=[[100 * (row["diff"] - row["diff_low"])],
                             [100 * (row["diff_high"] - row["diff"])]],
                       fmt="o", color=color, markersize=5, capsize=2.5, linewidth=1.3)
    delta.axvline(0, color="#555555", linewidth=0.8)
    delta.set_xlabel(f"Δ success vs {report['baseline']} (percentage points)\n"
                     "paired 95% interval; green: better")
    delta.set_title("paired difference to the baseline")
    for ax in axes:
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        ax.set_ylim(-0.7, len(rows) - 0.3)
    percent = FuncFormatter(lambda v, _pos: f"{v:g}%")
    success.xaxis.set_major_formatter(percent)
    fifty_three.xaxis.set_major_formatter(percent)
    delta.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:+g}" if v else "0"))
    success.set_yticks(ys, names, fontsize=8)
    for label, row in zip(success.get_yticklabels(), rows, strict=True):
        if row["baseline"]:
            label.set_fontweight("bold")
    if len(rows) < total:
        success.set_title(f"success rate (best {len(rows) - 1} of {total} policies "
                          "and the baseline)")


def _varied_panels(where: Any, frame: Any, fields: list[str], baseline: dict[str, Any]
                   ) -> None:
    if len(fields) == 1:
        ax = where.subplots(1, 1)
        success_vs_budget(frame, fields[0], by=None, ax=ax)
    else:
        left, right = where.subplots(1, 2, width_ratios=[1.15, 1])
        x, by = fields
        if frame[x].nunique() < frame[by].nunique():
            x, by = by, x  # more points along the axis, fewer curves
        rate_curves(frame, x, by=by, ax=left,
                    title="success rate over the grid (95% band)")
        ax = left
        if frame.duplicated([x, by]).any():
            right.set_axis_off()
        else:
            success_heatmap(frame, x, by, ax=right, title="success rate over the grid")
    # The grid's own values as ticks (2, 3, 4, 6 maps; 2, 5, 10 s), not 2.5 maps.
    values = sorted(frame[x if len(fields) == 2 else fields[0]].unique())
    if len(values) <= 12:
        ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_title(ax.get_title() + f" · baseline {baseline['policy']}: "
                 f"{100 * baseline['success_rate']:.1f}%", fontsize=10)
