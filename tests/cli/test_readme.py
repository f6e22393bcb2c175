"""The README matches the product: every command block is run, and every figure it quotes
from a run is checked against that run.

Rules:

1. A command block is a ```sh block (commands, one per line) or a block whose first line
   starts with ``$ `` (a command followed by its output, as it looks at 100 columns).
2. Every command block is run (in a directory that links the checkout's files, with
   ``.venv``'s ``rassim`` first on the PATH and ``COLUMNS=100``) unless the line right before it is
   ``<!-- readme-test: skip: REASON -->``; a skip without a reason fails. A block that is
   neither run nor skipped cannot exist: it is run.
3. For a ``$`` block, every word of the quoted output that carries a digit must appear in
   the run's output (a ``...`` line stands for lines left out). Words on timing lines (a
   rate in trials/s, an elapsed time) are compared within a factor of 5 instead.
4. The quick start's test command is the one CI runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(.*?)\s*-->")
_TIMING = re.compile(r"trials/s|\d+(\.\d+)?s\)$|^\d+(\.\d+)?s(,| on )")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    body: str
    skip: str | None  # the reason, when skipped

    @property
    def is_command(self) -> bool:
        return self.lang == "sh" or self.body.startswith("$ ")

    @property
    def name(self) -> str:
        return f"README line {self.line}: {self.body.splitlines()[0][:60]}"


def blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)$", lines[i])
        if not fence:
            i += 1
            continue
        end = lines.index("```", i + 1)
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = _SKIP.search(before)
        found.append(Block(i + 1, fence.group(1), "\n".join(lines[i + 1:end]),
                           skip.group(1) if skip else None))
        i = end + 1
    return found


COMMANDS = [b for b in blocks() if b.is_command]


def run(command: str, where: Path) -> subprocess.CompletedProcess[str]:
    """``command`` in ``where``, a directory that links the checkout's files, so that what a
    command writes (``found.toml``) never lands in the checkout."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith(".") or entry.name in (".venv", ".ci"):
            link = where / entry.name
            if not link.exists():
                link.symlink_to(entry)
    env = {**os.environ, "COLUMNS": "100",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-c", command], cwd=where, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_every_skip_gives_a_reason() -> None:
    text = README.read_text(encoding="utf-8")
    for marker in re.findall(r"<!--\s*readme-test:[^>]*-->", text):
        match = _SKIP.search(marker)
        assert match and len(match.group(1)) >= 8, f"a skip needs a reason: {marker}"


def test_the_readme_has_command_blocks_that_run() -> None:
    assert sum(b.skip is None for b in COMMANDS) >= 5


@pytest.mark.parametrize("block", COMMANDS, ids=[b.name for b in COMMANDS])
def test_command_block(block: Block, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(block.skip)
    if block.lang == "sh":
        for command in block.body.replace("\\\n", " ").splitlines():
            if command.strip() and not command.lstrip().startswith("#"):
                done = run(command, tmp_path)
                assert done.returncode == 0, (command, done.stderr[-2000:])
        return
    command, *quoted = block.body.replace("\\\n", " ").splitlines()
    done = run(command.removeprefix("$ "), tmp_path)
    assert done.returncode in (0, 1, 2), done.stderr[-2000:]
    compare(quoted, (done.stdout + done.stderr).splitlines())


def _figures(lines: list[str]) -> Counter[str]:
    return Counter(word.strip(",;") for line in lines for word in line.split()
                   if any(ch.isdigit() for ch in word))


def _numbers(line: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", line)]


def compare(quoted: list[str], actual: list[str]) -> None:
    steady = [line for line in quoted if line.strip() != "..." and not _TIMING.search(line)]
    missing = _figures(steady) - _figures([a for a in actual if not _TIMING.search(a)])
    assert not missing, f"figures the README quotes that the run did not print: {missing}"
    for line in quoted:
        if not _TIMING.search(line):
            continue
        words = line.split()[1:3]  # the line it is: the same words after the first figure
        match = next((a for a in actual if _TIMING.search(a)
                      and a.split()[1:3] == words), None)
        assert match is not None, f"no timing line like {line!r}"
        for want, got in zip(_numbers(line), _numbers(match), strict=False):
            assert want / 5 <= got <= want * 5 or max(want, got) < 1, (line, match)


def quick_start_commands() -> list[str]:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_ci_runs_the_readme_test_command() -> None:
    install_and_run, install_and_test = quick_start_commands()
    assert "pytest" in install_and_test
    assert install_and_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "rassim run scenarios/" in install_and_run


def test_quick_start_scenario_exists() -> None:
    install_and_run, _ = quick_start_commands()
    scenario = install_and_run.rsplit(" ", 1)[-1]
    assert (ROOT / scenario).is_file()
