"""A real full disk for tests: a tiny tmpfs, filled to the last byte.

Mounting needs root (and a kernel that lets this process mount); elsewhere the test is
skipped with the reason, and the in-process ENOSPC simulations still run.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["FILLER", "fill", "full_disk", "listing"]

FILLER = "filler"


def fill(mount: Path) -> None:
    """Write ``mount/filler`` until the file system is full (ENOSPC)."""
    block = b"\0" * 4096
    with open(mount / FILLER, "ab", buffering=0) as out:
        for _ in range(1 << 20):  # bounded: 4 GiB at most, far above any test mount
            try:
                out.write(block)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    for size in (512, 64, 1):  # the last partial block too
        with open(mount / FILLER, "ab", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise


def listing(mount: Path) -> list[str]:
    """Every name in ``mount``, hidden ones included, sorted."""
    return sorted(p.name for p in mount.iterdir())


@contextmanager
def full_disk(parent: Path, size: str = "256k", *, filled: bool = True) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted under ``parent`` (full unless ``filled`` is False)."""
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a tmpfs; "
                    "the in-process ENOSPC simulations cover this path")
    mount = parent / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs",
                           str(mount)], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        if filled:
            fill(mount)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)
