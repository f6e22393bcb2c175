"""``rassim sweep --plot``: the path is checked before any trial, the picture is a real PNG,
and nothing is written for a bad path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
GRID = ROOT / "tuning" / "connras-grid.toml"
PNG = b"\x89PNG\r\n\x1a\n"


def write_grid(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("grid", [
    GRID,  # two numeric fields and named policies: curves and a heatmap below
    """baseline = "pre-fix"
[base]
preset = "connras-fix"
[vary]
attempts_per_dial = [1, 2, 4]
""",  # one numeric field: success against the budget
    """[[policies]]
name = "fix"
preset = "connras-fix"
[[policies]]
name = "sms"
preset = "sms2-defaults"
""",  # named policies only (the scenario's policy is added as the baseline)
    """baseline = "pre-fix"
[base]
preset = "connras-fix"
[vary]
jitter = ["none", "full"]
""",  # a field with no numeric axis: the per-policy panels only
], ids=["grid-2d", "grid-1d", "named", "jitter"])
def test_plot_is_a_png(tmp_path: Path, grid: Path | str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    grid_path = grid if isinstance(grid, Path) else write_grid(tmp_path, grid)
    out = tmp_path / "sweep.png"
    code = main(["sweep", str(UNPATCHED), "--grid", str(grid_path), "--trials", "60",
                 "--workers", "1", "--plot", str(out)])
    assert code == 0
    assert out.read_bytes()[:8] == PNG
    assert "plot written to" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp


def test_plot_with_json_and_svg(tmp_path: Path) -> None:
    out = tmp_path / "sweep.svg"
    assert main(["sweep", str(UNPATCHED), "--grid", str(GRID), "--trials", "40",
                 "--workers", "1", "--json", "--plot", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("name, message", [
    ("missing/sweep.png", "does not exist"),
    ("sweep.gif", "unknown picture type"),
    ("sweep", "unknown picture type"),
])
def test_bad_plot_path_is_exit_2_before_any_trial(
        tmp_path: Path, name: str, message: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.studies.sweep

    def no_trials(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("trials ran before the plot path was checked")

    monkeypatch.setattr(sim.studies.sweep, "run_sweep", no_trials)
    before = set(tmp_path.rglob("*"))
    code = main(["sweep", str(UNPATCHED), "--grid", str(GRID), "--trials", "40",
                 "--plot", str(tmp_path / name)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--plot" in err and message in err
    assert set(tmp_path.rglob("*")) == before  # no file, no temporary left


def test_plot_path_that_is_a_directory(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.png").mkdir()
    assert main(["sweep", str(UNPATCHED), "--grid", str(GRID), "--trials", "40",
                 "--plot", str(tmp_path / "d.png")]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_no_plot_on_an_interrupted_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import sim.studies.sweep

    real = sim.studies.sweep.run_sweep

    def interrupted(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        result.interrupted = True
        return result

    monkeypatch.setattr(sim.studies.sweep, "run_sweep", interrupted)
    out = tmp_path / "sweep.png"
    code = main(["sweep", str(UNPATCHED), "--grid", str(GRID), "--trials", "20",
                 "--workers", "1", "--plot", str(out)])
    assert code == 130
    assert not out.exists()
    assert "not written" in capsys.readouterr().err


# --- a fleet sweep draws what its table shows ---------------------------------------------
STORM = ROOT / "scenarios" / "fleet-retry-storm.toml"
FLEET_GRID = ROOT / "tuning" / "fleet-jitter-grid.toml"


def plotted(ax: object, marker: str = "o") -> dict[float, tuple[float, float, float]]:
    """Per row (y), the (value, low, high) an axes drew with ``marker`` as error bars."""
    from matplotlib.container import ErrorbarContainer

    drawn = {}
    for container in ax.containers:  # type: ignore[attr-defined]
        assert isinstance(container, ErrorbarContainer)
        line = container.lines[0]
        if line.get_marker() != marker:
            continue
        (x,), (y,) = line.get_xdata(), line.get_ydata()
        segments = container.lines[2][0].get_segments()
        (low, _), (high, _) = segments[0]
        drawn[float(y)] = (float(x), float(low), float(high))
    return drawn


def test_fleet_sweep_figure_draws_the_fleet_metrics(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from sim.plots import sweep_figure

    out = tmp_path / "fleet.png"
    assert main(["sweep", str(STORM), "--grid", str(FLEET_GRID), "--trials", "12",
                 "--workers", "1", "--json", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG
    report = json.loads(capsys.readouterr().out)
    rows = report["policies"]
    fig = sweep_figure(report)
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert set(panels) == {
        "makespan p50 and p95", "work", "busy rate", "port utilization",
        "Δ makespan to the baseline", "Δ work to the baseline", "connected",
        "Δ every sender connected"}
    assert "20 senders" in fig.get_suptitle()
    assert "makespan" not in fig.get_suptitle() and "success rate" not in panels
    ys = {len(rows) - 1 - i: row for i, row in enumerate(rows)}  # first policy on top

    def expect(title: str, metric: str, scale: float = 1.0, marker: str = "o") -> None:
        drawn = plotted(panels[title], marker)
        assert set(drawn) == set(ys), title
        for y, (value, low, high) in drawn.items():
            row = ys[y]
            assert value == pytest.approx(scale * row[metric]), (title, row["policy"])
            assert low == pytest.approx(scale * row[f"{metric}_low"]), title
            assert high == pytest.approx(scale * row[f"{metric}_high"]), title

    expect("makespan p50 and p95", "p50_connect_time")
    expect("makespan p50 and p95", "p95_connect_time", marker="D")
    expect("work", "work")
    expect("busy rate", "busy_rate", 100)
    expect("port utilization", "port_utilization", 100)
    expect("connected", "success_rate", 100)
    expect("connected", "sender_success_rate", 100, marker="s")
    # The paired differences: one per policy but the baseline, which is named instead.
    for title, metric, scale in (("Δ makespan to the baseline", "connect_diff", 1),
                                 ("Δ work to the baseline", "work_diff", 1),
                                 ("Δ every sender connected", "diff", 100)):
        drawn = plotted(panels[title])
        assert {ys[y]["policy"] for y in drawn} == {r["policy"] for r in rows
                                                   if not r["baseline"]}
        for y, (value, _, _) in drawn.items():
            assert value == pytest.approx(scale * ys[y][metric]), title
        assert [t.get_text() for t in panels[title].texts] == ["baseline"]
    assert "(s)" in panels["makespan p50 and p95"].get_xlabel()
    assert "map attempts + dials" in panels["work"].get_xlabel()
    assert "%" in panels["busy rate"].get_xlabel()
    # The storm's jitter moves the makespan: the drawn values differ between policies.
    assert len({v for v, _, _ in plotted(panels["makespan p50 and p95"], "D").values()}) > 1


def test_heatmap_colours_are_centred_on_the_baseline() -> None:
    import pandas as pd

    from sim.plots import success_heatmap

    df = pd.DataFrame([{"a": a, "b": b, "success_rate": 0.80 + 0.02 * a + 0.01 * b}
                       for a in (1, 2, 3) for b in (1, 2)])
    fig = success_heatmap(df, "a", "b", center=0.66, center_label="the baseline")
    ax, bar = fig.axes
    norm = ax.images[0].norm
    assert norm.vmin + norm.vmax == pytest.approx(2 * 0.66)  # symmetric about the baseline
    assert norm.vmax == pytest.approx(0.88)  # reaches the best cell
    assert "centred on the baseline: 66.0%" in bar.get_ylabel()
    plain = success_heatmap(df, "a", "b")
    assert "spans the grid: 83.0% to 88.0%" in plain.axes[1].get_ylabel()
