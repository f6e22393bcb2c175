"""Interrupted runs (SIGINT, SIGTERM) stop within seconds, report what they completed, and
leave a complete output file marked as interrupted, never a truncated one. Real signals to a
real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "q221951-unpatched.toml"
CHUNK = 500  # sim.runner.CHUNK: an interrupted run keeps whole chunks


def start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(SCENARIO), "--trials", "2000000",
         "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,  # its own process group, like a shell job
    )


def interrupt(process: subprocess.Popen[str], sig: int, *, group: bool,
              out: Path) -> tuple[int, str, str, float]:
    # Wait until trials are running (the temporary output file has rows), then signal.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
        if temps and temps[0].stat().st_size > 2000:
            break
        time.sleep(0.2)
    sent = time.monotonic()
    if group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr, time.monotonic() - sent


@pytest.mark.parametrize(("sig", "group", "suffix", "workers"), [
    (signal.SIGINT, True, ".parquet", "1"),     # Ctrl-C in a terminal: the whole group
    (signal.SIGTERM, False, ".csv", "1"),       # kill / a CI timeout: the parent only
    (signal.SIGINT, True, ".csv", "2"),         # Ctrl-C with worker processes
    (signal.SIGTERM, False, ".parquet", "2"),
], ids=["sigint-parquet", "sigterm-csv", "sigint-workers", "sigterm-workers"])
def test_interrupted_run(tmp_path: Path, sig: int, group: bool, suffix: str,
                         workers: str) -> None:
    out = tmp_path / f"rows{suffix}"
    code, stdout, stderr, took = interrupt(start(out, "--workers", workers), sig,
                                           group=group, out=out)
    assert code == 130, stderr
    assert took < 5.0  # "within a second or two", with slack for a loaded CI machine
    assert "Traceback" not in stderr
    assert "interrupted after" in stdout
    completed = int(stdout.split("interrupted after ")[1].split(" of ")[0].replace(",", ""))
    assert completed > 0 and completed % CHUNK == 0
    # A complete, valid file of exactly the completed trials, marked as interrupted.
    if suffix == ".parquet":
        table = pq.read_table(out)
        rows = table.num_rows
        meta = json.loads(table.schema.metadata[b"rassim"])
        assert table.column("trial").to_pylist() == list(range(rows))
    else:
        lines = out.read_text(encoding="utf-8").splitlines()
        rows = len(lines) - 1
        assert lines[-1].split(",")[0] == str(rows - 1)  # the last row is whole
        meta = json.loads(Path(f"{out}.meta.json").read_text(encoding="utf-8"))
    assert rows == completed
    assert meta["complete"] is False and meta["trials"] == completed
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_an_ignored_sigint_stays_ignored_inside_deferred_blocks() -> None:
    """A shell starts background jobs with SIGINT ignored: they must keep running."""
    from sim.interrupts import deferred_interrupts

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_sigint_inside_a_deferred_block_is_raised_after_it() -> None:
    from sim.interrupts import deferred_interrupts

    reached_end_of_block = False
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached_end_of_block = True
    assert reached_end_of_block
