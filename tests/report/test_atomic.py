"""Atomic output: the destination is either the old file or the complete new one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.report.atomic import OutputError, atomic_path, check_writable


def test_success_publishes_with_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("complete", encoding="utf-8")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_text(encoding="utf-8") == "complete"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path,
                                                       error: type[BaseException]) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(error), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise error()
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_check_writable_messages(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"--out .*x\.txt: unknown file type '\.txt'; end the "
                                          r"name in \.csv or \.parquet"):
        check_writable(tmp_path / "x.txt", "--out", suffixes=(".csv", ".parquet"))
    with pytest.raises(OutputError, match="does not exist; create it first"):
        check_writable(tmp_path / "missing" / "x.csv", "--out")
    with pytest.raises(OutputError, match="is a directory"):
        check_writable(tmp_path, "--junit")
    assert check_writable(tmp_path / "ok.xml", "--junit") == tmp_path / "ok.xml"
