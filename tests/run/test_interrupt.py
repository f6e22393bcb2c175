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

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "q221951-unpatched.toml"
CHUNK = 500  # sim.run.runner.CHUNK: an interrupted run keeps whole chunks


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
    from sim.run.interrupts import deferred_interrupts

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_sigint_inside_a_deferred_block_is_raised_after_it() -> None:
    from sim.run.interrupts import deferred_interrupts

    reached_end_of_block = False
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached_end_of_block = True
    assert reached_end_of_block


# --- where a signal may land ----------------------------------------------------------------
def _frame_of(filename: str) -> object:
    """A frame running code compiled as ``filename`` (``<string>``: source text given to
    ``exec``; ``<frozen importlib._bootstrap>``: the import machinery)."""
    namespace: dict[str, object] = {}
    exec(compile("import sys\nframe = sys._getframe()", filename, "exec"), namespace)
    return namespace["frame"]


@pytest.mark.parametrize("filename", ["<string>", "<frozen importlib._bootstrap>"])
def test_a_signal_inside_an_import_is_taken_again_after_it(
        filename: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim import cli

    scheduled: list[tuple[float, object, tuple[object, ...]]] = []

    class Timer:
        def __init__(self, delay: float, action: object, args: tuple[object, ...]) -> None:
            scheduled.append((delay, action, args))

        def start(self) -> None:
            pass

    monkeypatch.setattr(cli.threading, "Timer", Timer)
    cli._interrupt(signal.SIGTERM, _frame_of(filename))  # type: ignore[arg-type]
    assert scheduled == [(0.01, os.kill, (os.getpid(), signal.SIGTERM))]


def test_a_signal_elsewhere_raises_keyboard_interrupt_at_once() -> None:
    from sim import cli

    with pytest.raises(KeyboardInterrupt):
        cli._interrupt(signal.SIGINT, sys._getframe())


def test_main_gives_back_the_signal_handlers_it_took(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    from sim.cli import main

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert main(["explain", "53"]) == 0
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_a_run_interrupted_before_its_first_chunk_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sim.run.runner
    from sim.cli import main
    from sim.stats.summary import Summary

    def nothing_done(*args: object, trials: int, **kwargs: object) -> sim.run.runner.RunResult:
        return sim.run.runner.RunResult(Summary(), trials, True, 0.1)

    monkeypatch.setattr(sim.run.runner, "run_trials", nothing_done)
    out = tmp_path / "rows.parquet"
    assert main(["run", str(SCENARIO), "--trials", "5000", "--out", str(out)]) == 130
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert "interrupted after 0 of 5,000 trials" in printed.out
    assert f"no trial completed, so there are no figures; {out} holds no rows" in printed.out
    assert "never touched" not in printed.out  # no fault warnings from zero trials
    table = pq.read_table(out)
    assert table.num_rows == 0
    assert json.loads(table.schema.metadata[b"rassim"])["complete"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]


def test_a_signal_while_the_pool_starts_is_taken_once_every_job_is_submitted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.run.executors

    submitted: list[tuple[object, ...]] = []

    class Pool:
        def __init__(self, **kwargs: object) -> None:
            pass

        def submit(self, fn: object, *job: object) -> object:
            if not submitted:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as the first job goes in
                time.sleep(0.05)
            submitted.append(job)
            return None

        def shutdown(self, **kwargs: object) -> None:
            pass

    monkeypatch.setattr(sim.run.executors, "ProcessPoolExecutor", Pool)
    executor = sim.run.executors.LocalExecutor(2)
    with pytest.raises(KeyboardInterrupt):
        executor.map(print, [(1,), (2,), (3,)])
    assert submitted == [(1,), (2,), (3,)]  # the pool and its jobs were set up whole
    executor.close()


def test_worker_processes_leave_interrupts_to_the_caller() -> None:
    """A terminal's Ctrl-C reaches workers too; they ignore it (``sim.run.executors`` rule 5)."""
    from sim.run.executors import LocalExecutor

    with LocalExecutor(2) as executor:
        seen = list(executor.map(signal.getsignal, [(signal.SIGINT,), (signal.SIGTERM,)] * 2))
    assert seen == [signal.SIG_IGN] * 4
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # not the caller
