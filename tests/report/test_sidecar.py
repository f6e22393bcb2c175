"""A CSV and its sidecar are one run's or are refused (issue 16, class 5).

The sidecar carries the CSV's sha256 and is published first (``sim.report.sidecar``): a
crash between the two renames leaves a new sidecar beside the old CSV, which
``sim.frames.read_rows`` refuses rather than pairing them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.frames import read_rows
from sim.report import sidecar as sidecar_module
from sim.report.sidecar import SidecarMismatch, sidecar_of

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"


def run_csv(out: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(UNPATCHED), "--trials", "40", "--workers", "1", "--seed",
                 str(seed), "--json", "--out", str(out)]) == 0
    capsys.readouterr()


def test_the_sidecar_names_its_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.csv"
    run_csv(out, 1, capsys)
    meta = json.loads(sidecar_of(out).read_text(encoding="utf-8"))
    data = out.read_bytes()
    assert meta["csv_sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["csv_bytes"] == len(data) and meta["complete"] is True and meta["seed"] == 1
    frame = read_rows(out)
    assert len(frame) == 40 and frame.attrs["rassim"] == meta


def test_another_runs_sidecar_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    run_csv(one, 1, capsys)
    run_csv(two, 2, capsys)
    shutil.copy(sidecar_of(two), sidecar_of(one))
    with pytest.raises(SidecarMismatch, match=r"one\.csv: does not match its sidecar "
                                              r"one\.csv\.meta\.json .* different runs"):
        read_rows(one)


def test_a_crash_between_the_two_renames_is_detected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "rows.csv"
    run_csv(out, 1, capsys)
    old = out.read_bytes()

    def die(tmp: Path, path: Path) -> None:  # the process dies before the CSV's rename
        raise KeyboardInterrupt

    monkeypatch.setattr(sidecar_module, "publish", die)
    code = main(["run", str(UNPATCHED), "--trials", "40", "--workers", "1", "--seed", "2",
                 "--json", "--out", str(out)])
    assert code == 130 and capsys.readouterr().err == "rassim: interrupted\n"
    assert out.read_bytes() == old  # the old CSV, now beside the new sidecar
    assert json.loads(sidecar_of(out).read_text(encoding="utf-8"))["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "rows.csv.meta.json"]
    with pytest.raises(SidecarMismatch, match="different runs"):
        read_rows(out)


def test_a_sidecar_from_before_the_digest_is_read_unchecked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.csv"
    run_csv(out, 1, capsys)
    meta = json.loads(sidecar_of(out).read_text(encoding="utf-8"))
    del meta["csv_sha256"], meta["csv_bytes"]
    sidecar_of(out).write_text(json.dumps(meta), encoding="utf-8")
    assert read_rows(out).attrs["rassim"] == meta


def test_a_sidecar_that_is_not_json_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.csv"
    run_csv(out, 1, capsys)
    sidecar_of(out).write_text("{not json", encoding="utf-8")
    with pytest.raises(SidecarMismatch, match=r"rows\.csv\.meta\.json: not a rassim sidecar"):
        read_rows(out)
