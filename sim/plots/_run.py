"""The picture of one run (``rassim run --plot``): when trials connected, and why others failed.

It is drawn from the run's streaming ``Summary`` alone (its time-to-connect sketch and its
failure counts), so a plot of a hundred million trials needs no more memory than the
summary: per-trial rows are never collected for it.

In a fleet run (``summary.fleet.is_fleet``) a trial connected when every sender did, and its
connect time is the makespan: until the last sender mapped the share. The curve, its
quantiles and the failure bars are labelled so, and the title adds the share of senders
that connected (with its cluster-robust interval, ``sim.stats.fleet_summary``).
"""

from __future__ import annotations

import numpy as np

from sender.codes import symbol_of
from sim.plots._base import Figure, new_figure, percent_axis
from sim.plots._curves import connect_cdf
from sim.stats.intervals import wilson_interval
from sim.stats.summary import Summary

__all__ = ["run_figure"]


def run_figure(summary: Summary, *, title: str | None = None) -> Figure:
    """Left: share of all trials connected by time t (with p50 and p90 of the successful
    ones). Right: each final failure code's share of trials with its Wilson 95% interval.
    ``title`` (e.g. scenario, policy, seed) goes above both, with the success rate.

    A fleet run's left panel is the makespan (until the last sender mapped the share), and
    its title adds the share of senders that connected."""
    fleet = summary.fleet.is_fleet
    fig, (left, right) = new_figure(12.0, 4.6, 1, 2, width_ratios=(1.25, 1))
    if fleet:
        connect_cdf({"": summary}, ax=left,
                     title="makespan: until the last sender mapped the share")
        left.get_lines()[0].set_label("trials with every sender connected by t")
        left.set_xlabel("makespan (s), from the fleet's start to the last mapped share")
        left.set_ylabel("whole fleet connected by then (% of trials)")
    else:
        connect_cdf({"": summary}, ax=left, title="when trials connected")
        left.get_lines()[0].set_label("trials connected by t")
    for q, style in ((0.5, ":"), (0.9, "--")):
        t = summary.connect_time.quantile(q)
        if not np.isnan(t):
            what = "makespan" if fleet else "of successful"
            left.axvline(t, color="#616161", linestyle=style, linewidth=1,
                         label=f"p{int(q * 100)} {what}: {t:.1f} s")
    rate = (f"whole fleet connected in {summary.success_rate:.2%} of trials" if fleet
            else f"success rate {summary.success_rate:.2%} (the rest gave up)")
    left.axhline(summary.success_rate, color="#2e7d32", linewidth=0.8, alpha=0.6, label=rate)
    if summary.successes == 0:  # no curve to draw: say so where it would be
        left.text(0.5, 0.5, f"no trial in which every sender connected\n({rate})" if fleet
                  else "no trial connected", ha="center", va="center",
                  transform=left.transAxes, fontsize=10, color="#616161")
        left.set_xticks([])
    # A makespan CDF stays at 0 until the fastest fleet finishes: its left middle is empty.
    if summary.successes:
        left.legend(fontsize=8, loc="center left" if fleet else "lower right")
    elif left.get_legend() is not None:  # connect_cdf's own: a legend of an empty curve
        left.get_legend().remove()

    codes = sorted(summary.failures.items(), key=lambda kv: (-kv[1], kv[0]))
    n = summary.trials
    if codes:
        labels = [f"{code} {symbol_of(code)}" for code, _ in codes][::-1]
        rates = np.array([count / n for _, count in codes][::-1])
        bounds = np.array([wilson_interval(count, n) for _, count in codes][::-1])
        ys = np.arange(len(codes))
        right.barh(ys, rates, color="#c62828", height=0.6)
        right.errorbar(rates, ys, xerr=[rates - bounds[:, 0], bounds[:, 1] - rates],
                       fmt="none", ecolor="black", capsize=3, linewidth=1)
        right.set_yticks(ys, labels, fontsize=8)
        top = float(bounds[:, 1].max())
        # A share never passes 100%: the axis stops there, and a label with no room right
        # of its interval goes inside its bar.
        right_end = min(1.0, top * 1.25)
        for y, rate, high in zip(ys, rates, bounds[:, 1], strict=True):
            if high + right_end * 0.2 <= right_end:
                right.text(high + top * 0.02, y, f"{rate:.2%}", va="center", fontsize=8)
            else:  # inside the bar, left of the interval's whisker
                low = float(bounds[y, 0])
                right.text(low - right_end * 0.02, y, f"{rate:.2%}", va="center",
                           ha="right", fontsize=8, color="white")
        right.set_xlim(0, right_end)
    else:
        right.set_yticks([])
        right.text(0.5, 0.5, "no sender gave up" if fleet else "no trial gave up",
                   ha="center", va="center", transform=right.transAxes)
    right.set_xlabel("trials where senders gave up, by their commonest final code\n"
                     "(% of all trials, 95% CI)" if fleet else
                     "trials that gave up with this final code (% of all, 95% CI)")
    percent_axis(right, "x", decimals=1)
    right.set_title("failures by final code")
    right.grid(axis="x", color="#eeeeee")
    right.set_axisbelow(True)
    low, high = summary.ci95
    if fleet:
        head = (f"{n:,} trials of {summary.fleet.largest} senders: whole fleet connected in "
                f"{summary.success_rate:.2%} (95% CI {low:.2%} to {high:.2%})"
                f"{_sender_success(summary)}")
    else:
        head = (f"{n:,} trials: success {summary.success_rate:.2%} "
                f"(95% CI {low:.2%} to {high:.2%})")
    fig.suptitle(f"{title}\n{head}" if title else head, fontsize=11)
    return fig


def _sender_success(summary: Summary) -> str:
    """``"; senders connected 99.5% (95% CI ...)"``: per-sender success, trials as clusters."""
    value, low, high = summary.fleet.sender_success()
    if value is None:
        return ""
    interval = ("" if low is None or high is None
                else f" (95% CI {low:.2%} to {high:.2%})")
    return f"; senders connected {value:.2%}{interval}"
