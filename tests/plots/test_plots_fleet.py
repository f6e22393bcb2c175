"""``sim.plots.fleet_timeline`` and the fleet labels of ``run_figure``: a fleet trial drawn
as the shared RAS ports above one row per sender, on real fleet trials (the scenarios'
own seeds), readable from 2 to 100 senders: units on the axes, the port line within the
capacity, no text over text, the legend clear of the data."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import frames, plots
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from sim.world.trace import Recorder

pytest.importorskip("matplotlib")

from sim.plots._fleet import fleet_parts  # noqa: E402  (needs matplotlib)

ROOT = Path(__file__).resolve().parents[2]
STORM = ROOT / "scenarios" / "fleet-retry-storm.toml"
OUTAGE = ROOT / "scenarios" / "fleet-outage-budget.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fleet_trial(path: Path, trial: int = 0) -> tuple[Any, Any, Recorder]:
    """Trial ``trial`` of a fleet scenario with its own seed and policy, recorded."""
    loaded = load_scenario(path)
    scenario = loaded.scenario
    recorder = Recorder()
    result = run_trial(scenario, loaded.policy, scenario.seed, trial, recorder)
    return loaded, result, recorder


def draw(path: Path, trial: int = 0) -> tuple[Any, Any, Any]:
    loaded, result, recorder = fleet_trial(path, trial)
    scenario = loaded.scenario
    assert scenario.fleet is not None
    fig = plots.fleet_timeline(recorder.events, scenario=scenario.name,
                               policy=loaded.policy.name, seed=scenario.seed, trial=trial,
                               senders=scenario.fleet.senders, ports=scenario.ras.ports,
                               start=scenario.sender.start)
    return loaded, result, fig


def panels(fig: Any) -> tuple[Any | None, Any, Any]:
    """(faults strip or None, ports panel, sender rows) of a fleet timeline."""
    axes = fig.axes
    return (axes[0], axes[1], axes[2]) if len(axes) == 3 else (None, axes[0], axes[1])


def by_gid(ax: Any, gid: str) -> list[Any]:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def sender_rows(ax: Any) -> list[int]:
    return sorted(int(line.get_gid().removeprefix("sender-")) for line in ax.get_lines()
                  if (line.get_gid() or "").startswith("sender-"))


def texts_of(fig: Any) -> list[Any]:
    """Every piece of text a reader sees: titles, axis labels, the rows' tick labels, text
    in the panels, the legend."""
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    out += panels(fig)[2].get_yticklabels()
    for legend in fig.legends:
        out += legend.get_texts()
    return [t for t in out if t.get_visible() and t.get_text() and t.figure is not None]


def assert_readable(fig: Any) -> None:
    """No two texts overlap; the legend overlaps no panel."""
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts_of(fig)]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    for legend in fig.legends:
        frame = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not frame.overlaps(ax.get_window_extent(renderer)), "legend over a panel"


# --- the picture of one fleet trial -----------------------------------------------------
def test_fleet_timeline_has_one_row_per_sender_and_units() -> None:
    loaded, result, fig = draw(STORM)
    senders = loaded.scenario.fleet.senders
    strip, top, rows = panels(fig)
    assert strip is None  # the storm has no faults
    assert sender_rows(rows) == list(range(senders))
    low, high = sorted(rows.get_ylim())
    assert (low, high) == (-0.5, senders - 0.5)
    assert rows.get_ylim()[0] > rows.get_ylim()[1]  # sender 0 at the top
    assert rows.get_xlabel() == "virtual time (s) from the trial's start"
    assert "sender" in rows.get_ylabel()
    assert "ports in use" in top.get_ylabel() and "(count)" in top.get_ylabel()
    # One colour per phase of a port hold; every sender of the storm sent its data.
    assert {c.get_gid() for c in rows.collections} == {
        "holds-dialing", "holds-mapping", "holds-sending"}
    sending = next(c for c in rows.collections if c.get_gid() == "holds-sending")
    assert len(sending.get_paths()) == result.senders_connected == senders
    title = fig.get_suptitle()
    assert title.startswith(f"{loaded.scenario.name} · policy {loaded.policy.name} · seed "
                            f"{loaded.scenario.seed} · trial 0\n")
    assert (f"{senders} of {senders} senders connected; {result.busy_signals} busy signals; "
            f"makespan {result.connect_time:.1f} s") in title
    (busy,) = by_gid(rows, "busy")
    assert len(busy.get_xdata()) == result.busy_signals
    assert len(by_gid(rows, "connected")[0].get_xdata()) == senders
    assert not by_gid(rows, "gave-up")


def test_ports_in_use_never_exceed_the_capacity() -> None:
    loaded, _, fig = draw(STORM)
    ports = loaded.scenario.ras.ports
    _, top, _ = panels(fig)
    (line,) = by_gid(top, "ports-in-use")
    in_use = np.asarray(line.get_ydata(), dtype=float)
    assert np.nanmax(in_use) == ports  # the storm fills every port
    assert np.nanmin(in_use) >= 0
    (capacity,) = by_gid(top, "ports-capacity")
    assert set(capacity.get_ydata()) == {ports}
    assert line.get_drawstyle() == "steps-post"
    assert_readable(fig)


def test_a_fault_holding_ports_is_shaded_and_counted() -> None:
    loaded, _, fig = draw(OUTAGE)
    ports = loaded.scenario.ras.ports
    strip, top, rows = panels(fig)
    assert strip is not None
    assert by_gid(strip, "fault-server-busy") and by_gid(rows, "fault-server-busy")
    assert [t.get_text() for t in strip.texts] == ["server-busy"]
    (line,) = by_gid(top, "ports-in-use")
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
    # Other callers hold every port for the first 15 minutes: the line says so, though
    # no sender holds one (the fleet's own count, filled under it, is 0).
    during = (xs > 1) & (xs < 899)
    assert during.any() and np.all(ys[during] == ports)
    assert np.nanmax(ys) <= ports
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "fault: ports held (server-busy)" in legend
    assert any(t.startswith("RAS ports in use (all callers)") for t in legend)
    assert_readable(fig)


def test_fleet_parts_follow_each_sender() -> None:
    loaded, result, recorder = fleet_trial(STORM)
    parts = fleet_parts(recorder.events, loaded.scenario.fleet.senders,
                        loaded.scenario.ras.ports)
    assert parts.shared
    assert sum(len(r.busy) for r in parts.rows) == result.busy_signals
    assert sum(len(r.maps) for r in parts.rows) == result.attempts
    for row in parts.rows:
        assert row.connected is not None and row.gave_up is None
        phases = [p for _, _, p in row.holds]
        assert phases[-3:] == ["dialing", "mapping", "sending"]  # the hold that connected
        assert all(a <= b for a, b, _ in row.holds)
        assert row.first <= row.holds[0][0] and row.holds[-1][1] <= row.last
    own = [v for _, v in parts.own]
    assert max(own) == loaded.scenario.ras.ports and own[-1] == 0


@pytest.mark.parametrize("senders", [2, 45, 100])
def test_fleets_from_2_to_100_senders_stay_readable(tmp_path: Path, senders: int) -> None:
    path = tmp_path / f"fleet-{senders}.toml"
    path.write_text(f'extends = "{STORM.as_posix()}"\nname = "fleet-{senders}"\n'
                    f'[ras]\nports = {max(1, senders // 8)}\n'
                    f'[fleet]\nsenders = {senders}\narrivals = "uniform"\nwindow = "5m"\n')
    _, _, fig = draw(path)
    _, _, rows = panels(fig)
    assert sender_rows(rows) == list(range(senders))
    ticks = [int(t) for t in rows.get_yticks()]
    assert ticks[0] == 0 and len(ticks) <= 50  # every sender, or every 2nd, 5th...
    width, height = fig.get_size_inches()
    assert height <= 16 and width == 13
    assert_readable(fig)


def test_the_figure_saves_as_png(tmp_path: Path) -> None:
    _, _, fig = draw(STORM)
    target = plots.save(fig, tmp_path / "fleet.png")
    assert target.read_bytes()[:8] == PNG_MAGIC


def test_fleet_timeline_is_exported_lazily() -> None:
    from sim.plots._fleet import fleet_timeline

    assert "fleet_timeline" in plots.__all__
    assert plots.fleet_timeline is fleet_timeline


# --- the run's picture of a fleet --------------------------------------------------------
def test_run_figure_of_a_fleet_shows_the_makespan() -> None:
    summary = frames.summarize(STORM, 40, 5, workers=1)
    assert summary.fleet.is_fleet
    fig = plots.run_figure(summary, title="storm")
    left, right = fig.axes
    assert left.get_title() == "makespan: until the last sender mapped the share"
    assert left.get_xlabel().startswith("makespan (s)")
    legend = left.get_legend()
    assert legend is not None
    assert "p50 makespan" in " ".join(t.get_text() for t in legend.get_texts())
    title = fig.get_suptitle()
    assert title.startswith("storm\n40 trials of 20 senders: whole fleet connected in ")
    value, _, _ = summary.fleet.sender_success()
    assert value is not None and math.isfinite(value)
    assert f"; senders connected {value:.2%}" in title
    assert "no sender gave up" in [t.get_text() for t in right.texts]


# --- rassim replay --plot on a fleet -----------------------------------------------------
def test_replay_plot_of_a_fleet_draws_the_fleet_timeline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.cli import main

    drawn: list[dict[str, Any]] = []
    real = plots.fleet_timeline

    def spy(events: Any, **kwargs: Any) -> Any:
        drawn.append(kwargs)
        return real(events, **kwargs)

    monkeypatch.setattr(plots, "fleet_timeline", spy)
    out = tmp_path / "storm.png"
    assert main(["replay", str(STORM), "--trial", "3", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    (kwargs,) = drawn
    scenario = load_scenario(STORM).scenario
    assert kwargs["senders"] == scenario.fleet.senders and kwargs["trial"] == 3
    assert kwargs["ports"] == scenario.ras.ports and kwargs["shared"] is True


def test_unshared_pools_draw_the_fleets_ports_against_the_fleets_capacity(
        tmp_path: Path) -> None:
    path = tmp_path / "own-servers.toml"
    path.write_text(f'extends = "{STORM.as_posix()}"\nname = "own-servers"\n'
                    f'[ras]\nports = 1\n[fleet]\nsenders = 6\nshare_ports = false\n')
    loaded, result, recorder = fleet_trial(path)
    parts = fleet_parts(recorder.events, 6, 1, shared=False)
    assert not parts.shared and result.busy_signals == 0  # a port each: never refused
    # The series is the fleet's own count, the sum over six one-port servers.
    assert parts.ports == [(t, float(v)) for t, v in parts.own]
    assert max(v for _, v in parts.ports) == 6
    fig = plots.fleet_timeline(recorder.events, scenario="own-servers", policy="p", seed=1,
                               trial=0, senders=6, ports=1, shared=False)
    _, top, _ = panels(fig)
    (capacity,) = by_gid(top, "ports-capacity")
    assert set(capacity.get_ydata()) == {6}
    assert_readable(fig)


def test_run_figure_when_no_fleet_connected_says_so_and_keeps_shares_within_100() -> None:
    outage = ROOT / "scenarios" / "fleet-outage-no-budget.toml"
    summary = frames.summarize(outage, 30, 221951, workers=1)
    assert summary.successes == 0 and summary.rate(676) > 0.8
    fig = plots.run_figure(summary, title="outage")
    left, right = fig.axes
    assert left.get_legend() is None  # nothing drawn to explain
    (note,) = left.texts
    assert note.get_text().startswith("no trial in which every sender connected")
    assert right.get_xlim()[1] == 1.0  # a share of trials: the axis stops at 100%
    inside = [t for t in right.texts if t.get_color() == "white"]
    assert [t.get_text() for t in inside] == [f"{summary.rate(676):.2%}"]
    assert_readable(fig)
