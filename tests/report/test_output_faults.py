"""Output faults are clean (issue 16, class 5): a full disk, a name too long, a directory
that accepts no files, and temporary files left by a killed run."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.report.atomic import OutputError, atomic_path, check_writable
from sim.report.output import RowSink

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"


def test_a_name_too_long_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="file name too long; choose a shorter name"):
        check_writable(tmp_path / ("x" * 300 + ".csv"), "--out")


def test_a_directory_that_accepts_no_files(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"--out /proc/x.csv: cannot write"):
        check_writable("/proc/x.csv", "--out")


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".x.parquet.999999999.abc_12XY.tmp"  # no such pid
    mine = tmp_path / f".x.parquet.{os.getpid()}.def45678.tmp"
    other = tmp_path / ".y.parquet.999999999.abc_12XY.tmp"
    for path in (dead, mine, other):
        path.write_text("partial")
    check_writable(tmp_path / "x.parquet", "--out")
    assert not dead.exists() and mine.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


@pytest.mark.parametrize("name", ["rows.csv", "rows.parquet"])
def test_a_full_disk_while_writing_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], name: str) -> None:
    # Simulated in-process (no root needed): the writer fails as a full disk makes it fail.
    def full(self: RowSink, results: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RowSink, "_write", full)
    out = tmp_path / name
    code = main(["run", str(UNPATCHED), "--trials", "50", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"rassim: error: --out {out}: no space left on the device of ")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing partial, no temporary file


def test_a_full_disk_in_an_atomic_write(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    with pytest.raises(OutputError, match=r"no space left on the device of .* \(5 bytes needed\)"):
        with atomic_path(target) as tmp:
            tmp.write_text("12345")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []
