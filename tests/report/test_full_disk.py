"""A full disk is exit 2 with one line, for every file rassim writes (issue 16, class 5).

Two kinds of test:

* for real: the CLI runs as a subprocess into a tiny tmpfs filled to the last byte (root
  only; skipped with the reason elsewhere). The message names the option, the file, the
  device's directory and the bytes needed; nothing is left on that disk but the filler.
* in process: the write fails with ENOSPC as a full disk makes it fail, on any machine.
"""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from sim import plots
from sim.check.junit import write_junit
from sim.report.atomic import OutputError, write_atomic
from sim.studies.sweep import write_rows
from tests.helpers.full_disk import FILLER, full_disk, listing
from tests.studies.test_search import planted

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
MODEM = ROOT / "scenarios" / "async-modem.toml"
GRID = ROOT / "tuning" / "connras-grid.toml"
SPACE = ROOT / "tuning" / "connras-space.toml"

SWEEP = ["sweep", str(UNPATCHED), "--grid", str(GRID), "--trials", "20", "--workers", "1"]
CASES = {
    "run-csv": (["run", str(UNPATCHED), "--trials", "600", "--workers", "1", "--out"],
                "rows.csv"),
    "run-parquet": (["run", str(UNPATCHED), "--trials", "600", "--workers", "1", "--out"],
                    "rows.parquet"),
    "sweep-csv": ([*SWEEP, "--out"], "table.csv"),
    "sweep-parquet": ([*SWEEP, "--out"], "table.parquet"),
    "sweep-plot": ([*SWEEP, "--plot"], "table.png"),
    "run-plot": (["run", str(UNPATCHED), "--trials", "50", "--workers", "1", "--plot"],
                 "run.png"),
    "check-junit": (["check", str(MODEM), "--workers", "1", "--junit"], "report.xml"),
    "search-out": (["search", "{planted}", "--budget", "40", "--out"], "found.toml"),
}


def rassim(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=240)


def assert_one_clean_line(done: subprocess.CompletedProcess[str], start: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("rassim: error:")]
    assert len(errors) == 1 and done.stderr.endswith(errors[0] + "\n"), done.stderr
    assert errors[0].startswith(f"rassim: error: {start}"), errors[0]
    return errors[0]


@pytest.mark.parametrize("case", list(CASES))
def test_a_real_full_disk(tmp_path: Path, case: str) -> None:
    argv, name = CASES[case]
    argv = [a.replace("{planted}", str(planted(tmp_path))) for a in argv]
    with full_disk(tmp_path) as disk:
        out = disk / name
        line = assert_one_clean_line(rassim([*argv, str(out)], tmp_path),
                                     f"{argv[-1]} {out}: no space left on the device of {disk}")
        assert line.endswith(" bytes needed); free some space")
        assert listing(disk) == [FILLER]  # nothing partial, no temporary file


def test_a_real_full_disk_under_a_new_tune_study(tmp_path: Path) -> None:
    with full_disk(tmp_path) as disk:
        done = rassim(["tune", str(UNPATCHED), "--space", str(SPACE), "--minimize", "dials",
                       "--n-trials", "2", "--min-trials", "20", "--max-trials", "40",
                       "--workers", "1", "--storage", f"sqlite:///{disk}/t.db"], tmp_path)
        assert_one_clean_line(done, f"--storage sqlite:///{disk}/t.db: no space left on the "
                                    f"device of {disk}; free some space")
        assert listing(disk) == [FILLER]  # the study file it could not open is removed


# --- in process: ENOSPC as a full disk raises it ------------------------------------------
@pytest.fixture
def enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Path, data: bytes) -> int:
        with open(self, "wb") as out:
            out.write(data[: len(data) // 2])  # half of it fits
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)


ROWS = [{"policy": "a", "trials": 10, "success_rate": 0.5}]


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_sweep_rows_on_a_full_disk(tmp_path: Path, enospc: None, name: str) -> None:
    with pytest.raises(OutputError) as caught:
        write_rows(tmp_path / name, ROWS, {"seed": 1})
    message = str(caught.value)
    assert message.startswith(f"--out {tmp_path / name}: no space left on the device of "
                              f"{tmp_path} (")
    needed = int(message.split(" (")[1].split(" bytes")[0].replace(",", ""))
    # The whole file's size, not the half that was written.
    csv_bytes = len(b"policy,trials,success_rate\r\na,10,0.5\r\n")
    assert needed == csv_bytes if name.endswith(".csv") else needed > 2 * csv_bytes
    assert listing(tmp_path) == []


def test_junit_on_a_full_disk(tmp_path: Path, enospc: None) -> None:
    with pytest.raises(OutputError, match=r"^--junit .*report\.xml: no space left on the "
                                          r"device of .* \(\d+ bytes needed\)"):
        write_junit(tmp_path / "report.xml", [])
    assert listing(tmp_path) == []


def test_a_picture_on_a_full_disk_gives_its_exact_size(tmp_path: Path, enospc: None) -> None:
    class Figure:
        def savefig(self, target: object, **kwargs: object) -> None:
            target.write(b"\x89PNG" + b"x" * 1996)  # type: ignore[attr-defined]

    with pytest.raises(OutputError, match=r"^--plot .*p\.png: no space left on the device "
                                          r"of .* \(2,000 bytes needed\); free some space$"):
        plots.save(Figure(), tmp_path / "p.png", option="--plot")
    assert listing(tmp_path) == []


def test_write_atomic_leaves_an_old_file_untouched(tmp_path: Path, enospc: None) -> None:
    target = tmp_path / "keep.xml"
    with open(target, "wb") as out:
        out.write(b"old")
    with pytest.raises(OutputError, match=r"\(5 bytes needed\)"):
        write_atomic(target, b"12345", "--junit")
    assert listing(tmp_path) == ["keep.xml"] and target.read_bytes() == b"old"


def test_a_fitted_scenario_on_a_full_disk(tmp_path: Path, enospc: None) -> None:
    from sim.studies.fit.write import write_scenario

    text = 'name = "site"\nprofile = "sna"\n'
    with pytest.raises(OutputError, match=rf"^--out .*site\.toml: no space left on the device "
                                          rf"of .* \({len(text)} bytes needed\)"):
        write_scenario(tmp_path / "site.toml", text)
    assert listing(tmp_path) == []
