"""``sim.plots`` and ``--plot``: the right artists, readable labels, atomic files.

Timelines are checked on hand-computable worlds (``tests/worlds.py``; see
``tests/test_frames.py`` for the arithmetic): bars at exact virtual times, one bar per map
attempt with its result code, and no two pieces of text overlapping, also on crowded real
trials (multi-dial, faults).
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim.run.runner
from sim import frames, plots
from sim.cli import main
from sim.plots._spans import timeline_parts
from sim.report.output import OutputError
from sim.stats.summary import Summary
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
SMS2 = ROOT / "scenarios" / "q221951-sms2-defaults.toml"
FLAPS = ROOT / "scenarios" / "faults-link-flap.toml"
RASDIAL = ROOT / "scenarios" / "q221951-rasdial-first.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def race_world(**more: Any) -> Any:
    return zero_world(**{"link.latency": "0.25s", "name_path.lag": "5s", **more})


def race_timeline(policy: str = "connras-fix", **more: Any) -> Any:
    replayed = frames.replay(race_world(**more), 0, seed=0, policy=policy)
    fig = plots.timeline(replayed.events, scenario="race", policy=policy, seed=0, trial=0)
    return replayed, fig


def patches(fig: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for patch in fig.axes[0].patches:
        out.setdefault(patch.get_gid() or "", []).append(patch)
    return out


def visible_texts(ax: Any) -> Iterator[Any]:
    return (t for t in ax.texts if t.get_visible() and t.get_text())


def assert_no_text_overlaps(fig: Any) -> None:
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    for ax in fig.axes:
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in visible_texts(ax)]
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
            assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


# --- the spans behind the timeline --------------------------------------------------------
def test_timeline_parts_have_exact_times() -> None:
    replayed = frames.replay(race_world(), 0, seed=0, policy="connras-fix")
    parts = timeline_parts(replayed.events)
    bars = [(s.lane, s.kind, s.start, s.end, s.code) for s in parts.spans]
    assert ("sender", "map_failed", 0.0, 4.5, 53) in bars
    assert ("sender", "sleep", 4.5, 9.5, 0) in bars
    assert ("sender", "map_ok", 9.5, 12.5, 0) in bars
    assert ("steps", "wins_failed", 0.0, 4.5, 0) in bars
    assert [(k, a, b) for lane, k, a, b, _ in bars if lane == "steps" and a >= 9.5] == [
        ("wins", 9.5, 10.0), ("tcp", 10.0, 10.5), ("netbios_session", 10.5, 11.0),
        ("negotiate", 11.0, 11.5), ("session_setup", 11.5, 12.0), ("tree_connect", 12.0, 12.5)]
    assert ("name path", "not_ready", 0.0, 5.0, 0) in bars
    assert ("name path", "ready", 5.0, 12.5, 0) in bars
    assert [m.t for m in parts.marks if m.kind == "wins_query"] == [0.0, 1.5, 3.0, 9.5]
    assert [m.t for m in parts.marks if m.kind == "syn"] == [10.0]
    assert parts.verdict == "connected" and parts.end == 12.5
    assert (parts.attempts, parts.dials) == (2, 1)


def test_timeline_parts_of_a_failed_dial_a_hang_up_and_a_fault() -> None:
    world = race_world(**{"ras.connect_failure": {"rate": 1.0, "codes": [651]}})
    parts = timeline_parts(frames.replay(world, 0, seed=0, policy="pre-fix").events)
    assert [(s.kind, s.code) for s in parts.spans if s.lane == "sender"] == [
        ("dial_failed", 651)]
    assert "651 ERROR_FROM_DEVICE" in parts.verdict
    faulty = race_world()
    faulty = frames.with_overrides(faulty, {"faults": [
        {"kind": "link_outage", "name": "cut", "at": "1s", "duration": "2s"}]})
    parts = timeline_parts(frames.replay(faulty, 0, seed=0, policy="pre-fix").events)
    assert [(s.kind, s.start, s.end, s.note) for s in parts.spans if s.lane == "faults"] == [
        ("fault_link_outage", 1.0, 3.0, "cut")]
    assert [(s.start, s.end) for s in parts.spans if s.kind == "outage"] == [(1.0, 3.0)]
    assert [s.kind for s in parts.spans if s.lane == "sender"] == ["dial", "map_failed",
                                                                     "hangup"]


# --- the timeline figure ------------------------------------------------------------------
def test_timeline_draws_one_bar_per_attempt_with_its_code() -> None:
    _, fig = race_timeline()
    bars = patches(fig)
    (first,), (second,) = bars["map-1"], bars["map-2"]
    assert (first.get_x(), first.get_width()) == (0.0, 4.5)
    assert (second.get_x(), second.get_width()) == (9.5, 3.0)
    codes = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    assert "53" in codes["map-1-code"]
    assert "ok" in codes["map-2-code"] or "succeeded" in codes["map-2-code"]
    assert "map-3" not in bars


def test_timeline_labels_axes_legend_and_title() -> None:
    _, fig = race_timeline()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "virtual time (s) from the trial's start"
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "sender", "map steps", "name path", "link", "RAS port\n& dial"]
    legend = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"WNetAddConnection2 failed", "WNetAddConnection2 succeeded", "wait before a retry",
            "WINS query sent", "TCP SYN sent", "name path not ready (lag)", "SMB tree connect",
            "share mapped (outcome)"} <= legend
    assert "link outage" not in legend  # only what the trial shows
    title = ax.get_title()
    assert "race · policy connras-fix · seed 0 · trial 0" in title
    assert "connected at 12.500 s; 2 map attempt(s), 1 dial(s)" in title
    assert_no_text_overlaps(fig)


def test_codes_of_short_attempts_are_lifted_into_rows_without_overlap() -> None:
    # Eight 4.5 s attempts 1 s apart, then a 10-minute redial wait: on a 630 s axis each
    # attempt is a few pixels wide, so its code cannot sit inside its bar.
    world = race_world(**{"name_path.lag": "20m"})
    policy = frames.load(world).policy.replace(
        attempts_per_dial=8, initial_wait=1.0, backoff_base=1.0, max_wait=1.0, max_dials=2,
        redial_wait=600.0)
    replayed = frames.replay(world, 0, seed=0, policy=policy)
    fig = plots.timeline(replayed.events)
    texts = {t.get_gid(): t for t in fig.axes[0].texts if t.get_gid()}
    for n in range(1, 17):
        assert texts[f"map-{n}-code"].get_text() == "53"
        assert texts[f"map-{n}-code"].get_visible()
    assert_no_text_overlaps(fig)


@pytest.mark.parametrize(("scenario", "trial"), [
    (UNPATCHED, 0), (UNPATCHED, 1), (SMS2, 0), (FLAPS, 0), (FLAPS, 46), (RASDIAL, 0)],
    ids=["fails-53", "connects", "three-dials", "outage", "stacked-faults", "rasdial-first"])
def test_real_timelines_have_no_overlapping_text(scenario: Path, trial: int) -> None:
    replayed = frames.replay(scenario, trial)
    fig = plots.timeline(replayed.events, scenario=replayed.scenario, policy=replayed.policy,
                         seed=replayed.seed, trial=trial, warmup=replayed.warmup)
    assert_no_text_overlaps(fig)
    ax = fig.axes[0]
    if trial == 46:  # three fault windows, two at once: stacked in rows, all named
        faults = [p for p in patches(fig)["lane-fault_link_outage"]
                  + patches(fig)["lane-fault_wins_unavailable"]]
        assert len({round(p.get_y(), 6) for p in faults}) == 2
        names = {t.get_text() for t in visible_texts(ax)}
        assert {"wins-down-early", "outage-after-connect", "random-flaps"} <= names
    # Every label inside a bar stays inside it.
    renderer = fig.canvas.get_renderer()
    for text in visible_texts(ax):
        if text.get_gid() and text.get_gid().endswith("-code"):
            (bar,) = patches(fig)[text.get_gid().removesuffix("-code")]
            box, bar_box = text.get_window_extent(renderer), bar.get_window_extent(renderer)
            if bar_box.y0 <= box.y0 <= bar_box.y1:  # inside the bar, not lifted above it
                assert bar_box.x0 <= box.x0 and box.x1 <= bar_box.x1


def test_predialed_connection_is_clipped_at_zero_and_says_since_when() -> None:
    replayed = frames.replay(RASDIAL, 0)
    fig = plots.timeline(replayed.events, warmup=replayed.warmup)
    assert fig.axes[0].get_xlim()[0] == 0.0
    texts = [t.get_text() for t in visible_texts(fig.axes[0])]
    assert any("since \u2212600 s" in t for t in texts), texts


def test_timeline_draws_on_a_given_axes() -> None:
    from sim.plots._base import new_figure

    fig, (top, bottom) = new_figure(12, 8, 2, 1)
    replayed = frames.replay(race_world(), 0, seed=0, policy="pre-fix")
    assert plots.timeline(replayed.events, ax=bottom) is fig
    assert bottom.patches and not top.patches


# --- curves -------------------------------------------------------------------------------
def points_frame() -> pd.DataFrame:
    rows = []
    for policy, base in (("a", 0.6), ("b", 0.8)):
        for attempts in (1, 2, 4):
            rate = min(0.999, base + 0.05 * attempts)
            rows.append({"policy": policy, "policy.attempts_per_dial": attempts,
                         "success_rate": rate, "ci_low": rate - 0.02, "ci_high": rate + 0.01,
                         "line_time_mean": 20.0 + attempts * (3 if policy == "a" else 5)})
    return pd.DataFrame(rows)


def test_success_vs_budget_draws_a_banded_curve_per_policy() -> None:
    fig = plots.success_vs_budget(points_frame())
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 4]
    assert len(ax.collections) == 2  # one 95% band per policy
    assert ax.get_xlabel() == "map attempts per dial"
    assert ax.get_ylabel() == "success rate (% of trials)"
    assert ax.yaxis.get_major_formatter()(0.9, 0) == "90%"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_rate_curves_find_sweep_style_interval_columns() -> None:
    df = points_frame().rename(columns={"ci_low": "success_rate_low",
                                        "ci_high": "success_rate_high"})
    ax = plots.rate_curves(df, "policy.attempts_per_dial").axes[0]
    assert len(ax.collections) == 2
    bare = plots.rate_curves(df.drop(columns=["success_rate_low", "success_rate_high"]),
                             "policy.attempts_per_dial").axes[0]
    assert len(bare.collections) == 0 and "interval" not in bare.get_title()


def test_connect_cdf_curves_end_at_each_runs_success_rate() -> None:
    df = frames.trials_frame(UNPATCHED, 200, 3, workers=1)
    summary = frames.summary_of(df)
    fig = plots.connect_cdf({"frame": df, "summary": summary})
    ax = fig.axes[0]
    frame_line, summary_line = ax.get_lines()
    assert frame_line.get_ydata()[-1] == pytest.approx(summary.success_rate)
    assert summary_line.get_ydata()[-1] == pytest.approx(summary.success_rate)
    assert frame_line.get_xdata()[-1] == summary_line.get_xdata()[-1]  # a common right edge
    assert ax.get_xlabel() == "time to connect (s), from the sender's start"
    assert ax.get_ylabel() == "trials connected by then (% of all)"
    rate = f"{summary.success_rate:.1%}"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"frame: {rate} connected", f"summary: {rate} connected"]
    by = plots.connect_cdf(pd.concat([df.assign(policy="x"), df.assign(policy="y")]),
                           by="policy")
    assert len(by.axes[0].get_lines()) == 2


def test_heatmap_has_one_annotated_cell_per_point() -> None:
    rows = [{"x": x, "y": y, "rate_53": (x + y) / 10, "success_rate": 1 - (x + y) / 10}
            for x in (0.3, 0.6, 1.2) for y in (0.5, 1.0, 2.0, 4.0)]
    df = pd.DataFrame(rows)
    fig = plots.success_heatmap(df, "x", "y", value="rate_53")
    ax, bar = fig.axes
    assert ax.images[0].get_array().shape == (4, 3)  # rows: y, columns: x
    texts = [t.get_text() for t in visible_texts(ax)]
    assert len(texts) == 12 and {"8.0%", "52.0%"} <= set(texts)  # (0.3+0.5)/10, (1.2+4)/10
    assert bar.get_ylabel() == "error 53 rate (% of trials)\nspans the grid: 8.0% to 52.0%"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.3", "0.6", "1.2"]
    assert_no_text_overlaps(fig)
    with pytest.raises(ValueError, match="filter the frame"):
        plots.success_heatmap(pd.concat([df, df]), "x", "y")


def test_pareto_mask_on_a_known_set() -> None:
    df = pd.DataFrame({"cost": [1, 2, 3, 2, 4, 1], "ok": [0.5, 0.7, 0.9, 0.6, 0.9, 0.5]})
    assert list(plots.pareto_mask(df, "cost", "ok")) == [True, True, True, False, False, False]
    assert list(plots.pareto_mask(df, "cost", "ok", maximize_y=False)) == [
        True, False, False, False, False, False]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=40))
def test_pareto_mask_keeps_exactly_the_undominated(points: list[tuple[int, int]]) -> None:
    df = pd.DataFrame(points, columns=["cost", "ok"])
    mask = plots.pareto_mask(df, "cost", "ok")

    def beats(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] <= b[0] and a[1] >= b[1] and a != b

    for i, p in enumerate(points):
        dominated = any(beats(q, p) for q in points)
        duplicate_before = p in points[:i]
        assert mask.iloc[i] == (not dominated and not duplicate_before), (i, p)


def test_pareto_front_draws_the_front_and_the_recommendation() -> None:
    df = points_frame()
    df["name"] = [f"{p}{a}" for p, a in zip(df["policy"], df["policy.attempts_per_dial"],
                                            strict=True)]
    fig = plots.pareto_front(df, "line_time_mean", label="name", recommended=4)
    ax = fig.axes[0]
    front = [line for line in ax.get_lines() if line.get_label() == "Pareto front"]
    assert len(front) == 1
    mask = plots.pareto_mask(df, "line_time_mean")
    assert list(front[0].get_xdata()) == sorted(df.loc[mask, "line_time_mean"])
    texts = [t.get_text() for t in visible_texts(ax)]
    assert "recommended: b2" in texts
    assert ax.get_xlabel() == "RAS line time per trial, mean (s)"
    assert ax.get_ylabel() == "success rate (% of trials)"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "dominated", "Pareto front", "recommended"}
    assert_no_text_overlaps(fig)


def test_run_figure_shows_the_cdf_and_one_bar_per_failure_code() -> None:
    summary = frames.summarize(UNPATCHED, 300, 5, workers=1)
    fig = plots.run_figure(summary, title="unpatched")
    left, right = fig.axes
    assert left.get_xlabel() == "time to connect (s), from the sender's start"
    assert right.get_xlabel() == "trials that gave up with this final code (% of all, 95% CI)"
    assert len(right.patches) == len(summary.failures)
    assert "53 ERROR_BAD_NETPATH" in [t.get_text() for t in right.get_yticklabels()]
    assert fig.get_suptitle().startswith("unpatched\n300 trials: success")
    empty = plots.run_figure(Summary())
    assert "no trial gave up" in [t.get_text() for t in empty.axes[1].texts]


# --- files --------------------------------------------------------------------------------
def test_save_writes_atomically(tmp_path: Path) -> None:
    _, fig = race_timeline()
    target = plots.save(fig, tmp_path / "t.png")
    assert target.read_bytes()[:8] == PNG_MAGIC
    plots.save(fig, tmp_path / "t.svg")
    assert b"<svg" in (tmp_path / "t.svg").read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.png", "t.svg"]


@pytest.mark.parametrize(("name", "fragment"), [
    ("t.jpg", "unknown picture type '.jpg'; end the name in one of .png, .svg, .pdf"),
    ("t", "unknown picture type '(none)'"),
    ("missing/t.png", "does not exist; create it first"),
    ("adir", "is a directory"),
])
def test_bad_plot_paths_are_output_errors(tmp_path: Path, name: str, fragment: str) -> None:
    (tmp_path / "adir.png").mkdir()
    path = tmp_path / ("adir.png" if name == "adir" else name)
    with pytest.raises(OutputError, match="plot file") as caught:
        plots.save(object(), path)
    assert fragment in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.png"]


def test_a_failing_render_leaves_no_file(tmp_path: Path) -> None:
    class Broken:
        def savefig(self, target: Any, **kwargs: Any) -> None:
            target.write(b"half")  # rendered into memory (sim.plots._files rule 2)
            raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        plots.save(Broken(), tmp_path / "t.png")
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_which_extra_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(OutputError, match=re.escape("pip install -e '.[plot]'")):
        plots.require_matplotlib()
    code = main(["replay", str(UNPATCHED), "--trial", "0", "--plot", str(tmp_path / "x.png")])
    assert code == 2 and list(tmp_path.iterdir()) == []
    assert ("rassim: error: --plot: needs matplotlib, which is not installed; install the "
            "plot extra: pip install -e '.[plot]'") in capsys.readouterr().err
    with pytest.raises(AttributeError):
        plots.no_such_plot  # noqa: B018


# --- --plot on the command line -----------------------------------------------------------
def test_replay_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "trial.png"
    assert main(["replay", str(UNPATCHED), "--trial", "0", "--plot", str(out)]) == 0
    assert "Failed 53" in capsys.readouterr().out  # the text timeline still prints
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["trial.png"]


def test_run_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.png"
    assert main(["run", str(UNPATCHED), "--trials", "150", "--json", "--plot", str(out)]) == 0
    capsys.readouterr()
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]


@pytest.mark.parametrize("argv", [
    ["run", str(UNPATCHED), "--trials", "5"],
    ["replay", str(UNPATCHED), "--trial", "0"],
])
@pytest.mark.parametrize(("name", "fragment"), [
    ("out.jpg", "unknown picture type '.jpg'"),
    ("missing/out.png", "does not exist"),
])
def test_bad_plot_path_exits_2_before_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        argv: list[str], name: str, fragment: str) -> None:
    def no_trials(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("trials ran before the plot path was checked")

    monkeypatch.setattr(sim.run.runner, "run_trials", no_trials)
    monkeypatch.setattr("sim.trial.trial.run_trial", no_trials)
    code = main([*argv, "--plot", str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"rassim: error: --plot {tmp_path / name}: " in err and fragment in err
    assert list(tmp_path.iterdir()) == []


def test_run_plot_rejects_check_determinism(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(UNPATCHED), "--trials", "5", "--check-determinism", "--plot",
                 str(tmp_path / "x.png")])
    assert code == 2
    assert "--plot: cannot be combined with --check-determinism" in capsys.readouterr().err


def test_an_interrupted_run_writes_no_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.run.runner.run_trials

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.interrupted = True
        return result

    monkeypatch.setattr(sim.run.runner, "run_trials", interrupted)
    out = tmp_path / "run.png"
    assert main(["run", str(UNPATCHED), "--trials", "20", "--json", "--plot", str(out)]) == 130
    capsys.readouterr()
    assert not out.exists()


def test_plots_are_deterministic() -> None:
    _, a = race_timeline()
    _, b = race_timeline()
    a.canvas.draw()
    b.canvas.draw()
    assert np.array_equal(np.asarray(a.canvas.buffer_rgba()), np.asarray(b.canvas.buffer_rgba()))


def test_fault_colours_cover_exactly_the_fault_kinds() -> None:
    from sim.plots._base import FAULT_COLORS
    from sim.scenario.schema import FAULT_KINDS

    assert set(FAULT_COLORS) == set(FAULT_KINDS)
