"""Plots of many runs: time-to-connect CDFs, rates against a budget, heatmaps, Pareto fronts.

Input shapes (what ``sim.frames`` returns, and what a sweep or tune should return):

* A *trials frame*: one row per trial with at least ``outcome`` ("connected"/"gave_up")
  and ``connect_time`` (seconds, NaN when it gave up); ``sim.frames.trials_frame``.
* A *points frame*: one row per policy/parameter point with ``success_rate``, ``ci_low``,
  ``ci_high`` (fractions in [0, 1]; the Wilson 95% interval), optionally ``rate_53``,
  ``ci53_low``, ``ci53_high``, cost columns such as ``line_time_mean`` or ``connect_p90``
  (seconds), a ``policy`` column naming the policy, and one column per varied parameter
  (e.g. ``policy.attempts_per_dial``, ``deadline``, ``name_path.lag.median``);
  ``sim.frames.grid_frame`` and ``summary_frame`` return exactly this.

Rates are drawn as percentages; every axis names its unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from sim.plots._base import Axes, Figure, axes_of, fit_text, percent_axis, renderer
from sim.report.format import percent_of, percent_short
from sim.scenario.policy_fields import labels as policy_labels
from sim.stats.summary import GAMMA, Summary

__all__ = ["axis_label", "connect_cdf", "pareto_front", "pareto_mask", "rate_curves",
           "success_heatmap", "success_vs_budget"]

#: Axis labels (with units) for the columns sweeps and grids produce.
AXIS_LABELS: dict[str, str] = {
    "success_rate": "success rate (% of trials)",
    "rate_53": "error 53 rate (% of trials)",
    **policy_labels(),  # the policy's fields: labels from sim.scenario.policy_fields
    "link.latency.median": "link latency, one-way median (s)",
    "name_path.lag.median": "name-path readiness lag, median (s)",
    "ras.predialed": "dialed by hand before the sender starts (s)",
    "line_time_mean": "RAS line time per trial, mean (s)",
    "line_time_p90": "RAS line time per trial, p90 (s)",
    "connect_mean": "time to connect, mean (s)",
    "connect_p50": "time to connect, median (s)",
    "connect_p90": "time to connect, p90 (s)",
    "attempts_mean": "map attempts per trial (mean)",
    "dials_mean": "dials per trial (mean)",
    # the metric names of `rassim sweep` / `rassim tune` rows
    "line_time": "RAS line time per trial, mean (s)",
    "p50_connect_time": "time to connect, median (s)",
    "p95_connect_time": "time to connect, p95 (s)",
    "dials": "dials per trial (mean)",
}
_RATES = {"success_rate": ("ci_low", "ci_high"), "rate_53": ("ci53_low", "ci53_high")}


def _interval(df: pd.DataFrame, value: str) -> tuple[str | None, str | None]:
    """The interval columns of ``value``: ``<value>_low``/``<value>_high`` (sweep rows), else
    ``ci_low``/``ci_high`` or ``ci53_low``/``ci53_high`` (``sim.frames``), else none."""
    for low, high in ((f"{value}_low", f"{value}_high"), _RATES.get(value, ("", ""))):
        if low in df.columns and high in df.columns:
            return low, high
    return None, None


def axis_label(column: str) -> str:
    """A readable label with units for a frame column (``policy.`` prefixes ignored)."""
    return AXIS_LABELS.get(column, AXIS_LABELS.get(column.removeprefix("policy."), column))


def _log_axis(ax: Axes, ticks: np.ndarray | None) -> None:
    """A log x axis labelled in plain numbers (0.5, 1, 2), never 5x10^-1 beside 6x10^-1.

    With few distinct values (a grid), the ticks are exactly those values."""
    ax.set_xscale("log")
    if ticks is not None and 0 < len(ticks) <= 12:
        ax.set_xticks(ticks)
    else:  # 1-2-5 steps: a range within one decade still gets several labels
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _is_rate(column: str) -> bool:
    return column == "success_rate" or column.startswith("rate_")


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- time-to-connect CDFs -----------------------------------------------------------------
def _cdf(data: pd.DataFrame | Summary) -> tuple[np.ndarray, np.ndarray, float]:
    """(times, share of ALL trials connected by then, success rate)."""
    if isinstance(data, Summary):
        sketch, n = data.connect_time, data.trials
        keys = sorted(sketch.buckets)
        # Bucket representatives are within 0.5% of every value in the bucket.
        times = np.array([0.0] + [2 * GAMMA**k / (GAMMA + 1) for k in keys])
        counts = np.cumsum([sketch.zero_count] + [sketch.buckets[k] for k in keys])
        return times, counts / max(n, 1), data.success_rate
    connected = data.loc[data["outcome"] == "connected", "connect_time"].to_numpy(float)
    times = np.sort(connected)
    n = max(len(data), 1)
    return times, np.arange(1, len(times) + 1) / n, len(times) / n


def connect_cdf(data: pd.DataFrame | Summary | Mapping[str, pd.DataFrame | Summary], *,
                by: str | None = None, ax: Axes | None = None, log_x: bool = False,
                title: str | None = "time to connect") -> Figure:
    """Share of all trials connected by time t, one curve per policy or run.

    ``data`` is a trials frame (``by`` names a column to split it, e.g. ``"policy"``), a
    ``Summary`` (its quantile sketch: within 0.5% in time), or a mapping label -> either.
    Each curve ends at its run's success rate: the gap to 100% is the trials that gave up.
    """
    if isinstance(data, pd.DataFrame) and by is not None:
        series: dict[str, Any] = {str(k): g for k, g in data.groupby(by, sort=False)}
    elif isinstance(data, pd.DataFrame | Summary):
        series = {"": data}
    else:
        series = dict(data)
    fig, ax = axes_of(ax, 7.5, 4.5)
    curves = {label: _cdf(frame) for label, frame in series.items()}
    # Every curve runs to the same right edge: past its last success a CDF is flat, and a
    # curve that stopped early would look like missing data.
    last = max((float(times[-1]) for times, _, _ in curves.values() if len(times)),
               default=1.0)
    # Paired runs share their early trials, so curves coincide for a while: dashes keep
    # the lower ones visible.
    styles: list[Any] = ["-", "--", "-.", ":", (0, (8, 2, 1, 2, 1, 2)), (0, (3, 1))]
    for i, (label, (times, share, rate)) in enumerate(curves.items()):
        name = f"{percent_short(rate)} connected"
        name = f"{label}: {name}" if label else name
        end = share[-1] if len(share) else 0.0
        ax.step(np.r_[0.0, times, last], np.r_[0.0, share, end], where="post", label=name,
                linewidth=2.0 if i == 0 else 1.6, linestyle=styles[i % len(styles)])
    ax.set_xlabel("time to connect (s), from the sender's start")
    ax.set_ylabel("trials connected by then (% of all)")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0.1 if log_x else 0)
    if log_x:
        _log_axis(ax, None)
    percent_axis(ax)
    ax.grid(color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=8, title=by)
    if title:
        ax.set_title(title)
    return fig


# --- rates against a budget or parameter --------------------------------------------------
def rate_curves(df: pd.DataFrame, x: str, *, value: str = "success_rate",
                low: str | None = None, high: str | None = None, by: str | None = "policy",
                ax: Axes | None = None, xlabel: str | None = None, ylabel: str | None = None,
                log_x: bool = False, title: str | None = None) -> Figure:
    """``value`` against column ``x`` with its interval band, one curve per ``by`` group.

    ``df`` is a points frame. ``low``/``high`` default to the interval columns of
    ``value``: ``<value>_low``/``<value>_high`` if present (sweep rows), else ``ci_low``/
    ``ci_high`` for ``success_rate`` and ``ci53_low``/``ci53_high`` for ``rate_53``.
    """
    default_low, default_high = _interval(df, value)
    low, high = low or default_low, high or default_high
    fig, ax = axes_of(ax, 7.5, 4.5)
    groups = (df.groupby(by, sort=False) if by is not None and by in df.columns
              else [(None, df)])
    for key, group in groups:
        group = group.sort_values(x)
        xs = group[x].to_numpy(float)
        (line,) = ax.plot(xs, group[value].to_numpy(float), marker="o", markersize=4,
                          label=None if key is None else _value_text(key))
        if low in group.columns and high in group.columns:
            ax.fill_between(xs, group[low].to_numpy(float), group[high].to_numpy(float),
                            color=line.get_color(), alpha=0.18, linewidth=0)
    ax.set_xlabel(xlabel or axis_label(x))
    ax.set_ylabel(ylabel or axis_label(value))
    if log_x:
        _log_axis(ax, np.unique(df[x].to_numpy(float)))
    if _is_rate(value):
        percent_axis(ax, decimals=0 if value == "success_rate" else 1)
    ax.grid(color="#eeeeee")
    ax.set_axisbelow(True)
    if by is not None and by in df.columns:
        ax.legend(title=axis_label(by), fontsize=8, title_fontsize=8, loc="best")
    banded = low is not None and high is not None and low in df.columns
    ax.set_title(title or axis_label(value).split(" (")[0]
                 + (" with its 95% interval" if banded else ""))
    return fig


def success_vs_budget(df: pd.DataFrame, budget: str = "policy.attempts_per_dial", *,
                      by: str | None = "policy", ax: Axes | None = None,
                      xlabel: str | None = None, log_x: bool = False) -> Figure:
    """Success rate (Wilson 95% band) against a retry budget, one curve per policy.

    ``df`` is a points frame with ``success_rate`` and its interval (``ci_low``/``ci_high``,
    or ``success_rate_low``/``success_rate_high`` as sweep rows name them), the ``budget``
    column (e.g. ``policy.attempts_per_dial``, ``attempts_per_dial``, ``deadline`` in s)
    and ``by`` (default ``policy``).
    """
    return rate_curves(df, budget, by=by, ax=ax, xlabel=xlabel, log_x=log_x,
                       title="success rate against retry budget (95% band)")


# --- heatmap ------------------------------------------------------------------------------
def success_heatmap(df: pd.DataFrame, x: str, y: str, *, value: str = "success_rate",
                    ax: Axes | None = None, xlabel: str | None = None,
                    ylabel: str | None = None, cmap: str | None = None,
                    annotate: bool = True, title: str | None = None,
                    center: float | None = None, center_label: str = "the baseline",
                    higher_is_better: bool | None = None,
                    value_label: str | None = None) -> Figure:
    """``value`` (a rate in [0, 1], or any number) over two parameters: one cell per point.

    ``df`` is a points frame with exactly one row per (x, y) pair (filter it to one policy
    first). Cells are annotated with the value where it fits.

    Colours: with ``center`` (e.g. the baseline's value), a diverging scale centred on it
    and symmetric about it, so the colour says better or worse than ``center_label`` and by
    how much (green better: ``higher_is_better`` defaults to True for ``success_rate``,
    False otherwise); the colourbar marks the centre. Without, the scale spans the
    grid's own range, and the colourbar says so.
    """
    if df.duplicated([x, y]).any():
        raise ValueError(f"several rows share an ({x}, {y}) pair; filter the frame to one "
                         "policy (or one value of the other parameters) first")
    table = df.pivot(index=y, columns=x, values=value).sort_index().sort_index(axis=1)
    values = table.to_numpy(float)
    if higher_is_better is None:
        higher_is_better = value == "success_rate"
    rate = _is_rate(value)
    lowest, highest = float(np.nanmin(values)), float(np.nanmax(values))
    label = value_label or axis_label(value)

    def shown(v: float) -> str:
        return f"{100 * v:.1f}%" if rate else f"{v:.4g}"

    if center is not None:
        # why: symmetric about the centre, so equal distances from the baseline get equal
        # colour strength on either side (a 22-point gain is as green as a loss is red).
        reach = max(abs(highest - center), abs(lowest - center)) or 1e-9
        norm = Normalize(vmin=center - reach, vmax=center + reach)
        default = "RdYlGn" if higher_is_better else "RdYlGn_r"
        label = (f"{label}\ncentred on {center_label}: {shown(center)}"
                 + ("; green: better" if cmap is None else ""))
    else:
        norm = Normalize(vmin=lowest, vmax=highest)
        default = "RdYlGn" if value == "success_rate" else "YlOrRd"
        label = f"{label}\nspans the grid: {shown(lowest)} to {shown(highest)}"
    cmap_name = cmap or default
    fig, ax = axes_of(ax, 7.5, 5.0)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap_name, norm=norm)
    ax.set_xticks(range(len(table.columns)), [_value_text(v) for v in table.columns])
    ax.set_yticks(range(len(table.index)), [_value_text(v) for v in table.index])
    ax.set_xlabel(xlabel or axis_label(x))
    ax.set_ylabel(ylabel or axis_label(y))
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(label, fontsize=8)
    if center is not None:
        bar.ax.axhline(center, color="black", linewidth=1.2)
    if rate:
        bar.formatter = _percent_formatter(1)
        bar.update_ticks()
    ax.set_title(title or f"{axis_label(value).split(' (')[0]} over two parameters")
    if annotate:
        _annotate_cells(fig, ax, values, colormaps[cmap_name], norm, rate)
    return fig


def _percent_formatter(decimals: int) -> Any:
    return FuncFormatter(percent_of(decimals))


def _annotate_cells(fig: Figure, ax: Axes, values: np.ndarray, cmap: Any,
                    norm: Normalize, rate: bool) -> None:
    texts = []
    for (row, col), v in np.ndenumerate(values):
        if np.isnan(v):
            continue
        r, g, b, _ = cmap(norm(v))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # white text on dark cells
        texts.append((ax.text(col, row, "", ha="center", va="center", fontsize=8,
                              color="white" if dark else "black"), v))
    rend = renderer(fig)
    cell_px = abs(ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])
    for text, v in texts:
        forms = ([f"{100 * v:.1f}%", f"{100 * v:.0f}%", f"{100 * v:.0f}"] if rate
                 else [f"{v:.3g}", f"{v:.2g}"] if abs(v) < 100 else [f"{v:.0f}"])
        if not fit_text(text, forms, cell_px, rend):
            text.remove()


# --- Pareto front -------------------------------------------------------------------------
def pareto_mask(df: pd.DataFrame, x: str, y: str = "success_rate", *,
                minimize_x: bool = True, maximize_y: bool = True) -> pd.Series:
    """True for rows no other row beats: no other is at least as good in both ``x`` and
    ``y`` and better in one. Of exact duplicates, the first is kept. NaN rows are False."""
    xs = df[x].to_numpy(float) * (1 if minimize_x else -1)
    ys = df[y].to_numpy(float) * (-1 if maximize_y else 1)  # both now "smaller is better"
    order = np.lexsort((ys, xs))  # by x, then y
    mask = np.zeros(len(df), dtype=bool)
    best = np.inf
    for i in order:
        if np.isnan(xs[i]) or np.isnan(ys[i]):
            continue
        if ys[i] < best:
            mask[i] = True
            best = ys[i]
    return pd.Series(mask, index=df.index, name="pareto")


def pareto_front(df: pd.DataFrame, x: str, y: str = "success_rate", *,
                 minimize_x: bool = True, maximize_y: bool = True, label: str | None = None,
                 recommended: Any = None, by: str | None = None, ax: Axes | None = None,
                 xlabel: str | None = None, ylabel: str | None = None, log_x: bool = False,
                 title: str | None = None) -> Figure:
    """Every candidate as a point, the non-dominated ones joined as the front.

    ``df`` is a points frame, one row per candidate policy (e.g. a tune's trials): ``x`` is
    a cost (``line_time_mean``, ``connect_p90``: seconds), ``y`` a rate (default
    ``success_rate``; its interval columns, found as in ``rate_curves``, are drawn as error
    bars on the front).
    ``label`` names a column to write beside front points (where it fits);
    ``recommended`` is the index of the row to mark as the recommendation; ``by`` names a
    column whose groups (e.g. families of policies) get their own colour and legend entry.
    """
    fig, ax = axes_of(ax, 7.5, 4.8)
    mask = pareto_mask(df, x, y, minimize_x=minimize_x, maximize_y=maximize_y)
    front = df[mask].sort_values(x)
    if by is None:
        ax.scatter(df.loc[~mask, x], df.loc[~mask, y], s=14, color="#9e9e9e", alpha=0.6,
                   label="dominated", zorder=2)
    else:
        colors = ["#ef6c00", "#6a1b9a", "#2e7d32", "#ad1457", "#00838f", "#5d4037"]
        for i, (key, group) in enumerate(df.groupby(by, sort=False)):
            ax.scatter(group[x], group[y], s=28, color=colors[i % len(colors)], alpha=0.75,
                       label=_value_text(key), zorder=2)
    low, high = _interval(df, y)
    if low is not None and high is not None:
        err = np.vstack([front[y] - front[low], front[high] - front[y]])
        ax.errorbar(front[x], front[y], yerr=err, fmt="none", ecolor="#1565c0", alpha=0.6,
                    capsize=2, zorder=3)
    # Hollow markers: a front point keeps the colour of its group (``by``) visible inside.
    ax.plot(front[x], front[y], drawstyle="steps-post" if minimize_x else "steps-pre",
            color="#1565c0", marker="o", markersize=8, markerfacecolor="none",
            markeredgewidth=1.6, label="Pareto front", zorder=4)
    texts: list[Any] = []
    if recommended is not None:
        row = df.loc[recommended]
        ax.scatter([row[x]], [row[y]], s=220, marker="*", color="#f9a825",
                   edgecolor="black", zorder=5, label="recommended")
        name = f": {row[label]}" if label is not None else ""
        texts.append(ax.annotate(f"recommended{name}", (row[x], row[y]),
                                 xytext=(12, -26), textcoords="offset points", fontsize=8,
                                 zorder=7, fontweight="bold", arrowprops={"arrowstyle": "-"},
                                 bbox={"boxstyle": "round", "fc": "white", "ec": "#f9a825"}))
    if label is not None:
        for _, row in front.iterrows():
            if recommended is not None and row.name == recommended:
                continue  # already named in the recommendation's box
            # A white box keeps a label readable where it crosses an error bar.
            texts.append(ax.annotate(str(row[label]), (row[x], row[y]), fontsize=7,
                                     xytext=(5, 5), textcoords="offset points",
                                     color="#0d47a1", zorder=6,
                                     bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                           "ec": "none", "alpha": 0.85}))
    ax.set_xlabel(xlabel or axis_label(x))
    ax.set_ylabel(ylabel or axis_label(y))
    if log_x:
        _log_axis(ax, None)
    if _is_rate(y):
        percent_axis(ax, decimals=1)
    ax.grid(color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="lower right" if maximize_y else "upper right")
    ax.set_title(title or "cost against success: the Pareto front")
    _place_labels(fig, ax, texts, df[[x, y]].to_numpy(float),
                  keep_first=recommended is not None)
    return fig


#: Where a point's label may go, in points from the point: right-above, right-below, then
#: centred above or below. Never to the left, where it would read as the left neighbour's.
_OFFSETS = ((5, 5, "left"), (5, -12, "left"), (0, 9, "center"), (0, -17, "center"))


def _place_labels(fig: Figure, ax: Axes, texts: list[Any], points: np.ndarray,
                  keep_first: bool) -> None:
    """Give each label the first offset that overlaps no kept label and no other point's
    marker; drop it when none does (the first, the recommendation, always stays)."""
    rend = renderer(fig)
    centres = ax.transData.transform(points) if len(points) else np.empty((0, 2))
    radius = 5.0 * fig.dpi / 72  # a 5-point marker, in pixels
    kept: list[Any] = []
    for i, text in enumerate(texts):
        anchor = ax.transData.transform(text.xy)
        choices = [None] if keep_first and i == 0 else _OFFSETS
        for choice in choices:
            if choice is not None:
                dx, dy, ha = choice
                text.set_position((dx, dy))
                text.set_horizontalalignment(ha)
            box = text.get_window_extent(rend)
            hits_point = any(
                box.x0 - radius < cx < box.x1 + radius and box.y0 - radius < cy < box.y1 + radius
                for cx, cy in centres if abs(cx - anchor[0]) + abs(cy - anchor[1]) > 0.5)
            if choice is None or not (hits_point or any(box.overlaps(o) for o in kept)):
                kept.append(box)
                break
        else:
            text.remove()
