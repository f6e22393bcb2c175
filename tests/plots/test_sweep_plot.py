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
