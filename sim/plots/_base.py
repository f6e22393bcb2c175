"""What every plot shares: the matplotlib import, new figures, label fitting, axis styles.

Figures are made with ``matplotlib.figure.Figure`` and an Agg canvas, never through pyplot:
no global figure registry to leak into, no GUI backend chosen behind a user's back, safe in
a worker process or a CLI without a display. In Jupyter, ``%matplotlib inline`` (or any
pyplot import) makes a returned Figure display as a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.plots._files import INSTALL_HINT
from sim.report.format import percent_of
from sim.report.output import OutputError

try:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.ticker import FuncFormatter
except ImportError:  # pragma: no cover - exercised only without the plot extra
    raise OutputError(f"sim.plots: needs matplotlib, which is not installed; {INSTALL_HINT}"
                      ) from None

__all__ = ["FAULT_COLORS", "Axes", "Figure", "axes_of", "fit_text", "new_figure", "percent_axis",
           "renderer"]

#: One colour per fault kind (``sim.scenario.schema.FAULT_KINDS``; tests check the keys), shared
#: by the trial and fleet timelines.
FAULT_COLORS: dict[str, str] = {
    "link_outage": "#e53935", "latency_spike": "#fb8c00", "wins_unavailable": "#8e24aa",
    "server_paused": "#6d4c41", "share_missing": "#d81b60", "ports_held": "#757575",
    "bad_credentials": "#827717",
}


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1,
               **subplots: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure on an Agg canvas and its axes (as ``subplots`` gives)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplots)
    return fig, axes


def axes_of(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes when ``ax`` is None."""
    if ax is None:
        new, ax = new_figure(width, height)
        return new, ax
    fig: Any = ax.figure
    while not isinstance(fig, Figure):  # an axes in a SubFigure: measure on the root figure
        fig = fig.figure
    return fig, ax


def renderer(fig: Figure) -> Any:
    """A renderer for measuring text, after the layout engine has placed the axes."""
    fig.draw_without_rendering()
    canvas = fig.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    return fig._get_renderer()  # type: ignore[attr-defined]  # pragma: no cover


def fit_text(text: Text, candidates: Sequence[str], width_px: float, rend: Any,
             pad_px: float = 4.0) -> bool:
    """Give ``text`` the first candidate that fits in ``width_px``; False if none does.

    Labels inside bars must never spill over their neighbours: a label that does not fit
    even in its shortest form is the caller's to move or drop (the legend names the colour).
    """
    for candidate in candidates:
        text.set_text(candidate)
        if text.get_window_extent(rend).width + pad_px <= width_px:
            return True
    return False


def percent_axis(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    """Show fractions in [0, 1] as percentages on ``axis``."""
    formatter = FuncFormatter(percent_of(decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)
