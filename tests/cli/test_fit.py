"""Tables fit the terminal: at 80 and 120 columns every figure appears whole, no column is
dropped, no line is wider than the terminal and every policy's whole name is visible.

Each command is rendered with the width forced through ``COLUMNS`` (what rich reads at a
terminal too) and compared with the same run rendered 1,000 columns wide, where nothing
wraps: the words that carry a digit (every figure and interval end) must be the same
multiset, so a figure cut in two, cut short by an ellipsis or dropped with its column
fails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from sim.cli import main
from sim.commands.tables import Column, print_fitted
from sim.commands.tune import front_title

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
STORM = ROOT / "scenarios" / "fleet-retry-storm.toml"
OUTAGE = ROOT / "scenarios" / "fleet-outage-no-budget.toml"
FLAP = ROOT / "scenarios" / "faults-link-flap.toml"

# Lines that differ from one run to the next (timings) or say how the table was laid out.
_VOLATILE = re.compile(r"policy-trials/s on|trials/s on|^\d+\.\ds on |the table is split in"
                       r"|terminal wide enough|^one\)$|study .* in sqlite|trials, \d+\.\ds\)")


def render(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], width: int,
           *argv: object) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main([str(a) for a in argv]) in (0, 1)
    return capsys.readouterr().out


def figures(text: str) -> Counter[str]:
    words: Counter[str] = Counter()
    keep = [line for line in text.splitlines() if not _VOLATILE.search(line)]
    for word in " ".join(keep).split():
        if any(ch.isdigit() for ch in word):
            words[word] += 1
    return words


def assert_fits(wide: str, narrow: str, width: int, names: list[str]) -> None:
    assert "…" not in narrow, "a cell was cut short"
    # A command to copy, or tune's storage URL, is printed whole on its own line (the
    # terminal may wrap it; here it holds the long path of pytest's temporary directory).
    too_wide = [line for line in narrow.splitlines() if len(line.rstrip()) > width
                and not line.startswith(("rassim ", "study "))]
    assert not too_wide, too_wide
    missing = figures(wide) - figures(narrow)  # split tables repeat the names: >= is fine
    assert not missing, missing
    words = Counter(narrow.split())
    for name in names:  # a wrapped name keeps every one of its words
        for word in name.split():
            assert words[word] >= 1, (name, word)


def sweep_args(tmp_path: Path, scenario: Path, grid: str, trials: int) -> list[object]:
    return ["sweep", scenario, "--grid", ROOT / "tuning" / grid, "--trials", trials,
            "--workers", 1]


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(("scenario", "grid", "trials"), [
    (UNPATCHED, "connras-grid.toml", 100), (STORM, "fleet-jitter-grid.toml", 12)])
def test_sweep_table_fits(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                          tmp_path: Path, width: int, scenario: Path, grid: str,
                          trials: int) -> None:
    argv = sweep_args(tmp_path, scenario, grid, trials)
    wide = render(monkeypatch, capsys, 1000, *argv)
    narrow = render(monkeypatch, capsys, width, *argv, "--json")
    import json

    names = [row["policy"] for row in json.loads(narrow)["policies"]]
    narrow = render(monkeypatch, capsys, width, *argv)
    assert_fits(wide, narrow, width, names)
    # Every column header is still there (none silently dropped).
    for header in ("p50", "p95", "95% CI"):
        assert header in narrow
    header_row = next(line for line in wide.splitlines() if line.startswith("policy"))
    for header in re.split(r"\s{2,}", header_row.strip()):
        assert header in narrow, header


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("scenario", [FLAP, OUTAGE])
def test_run_output_fits(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         width: int, scenario: Path) -> None:
    argv = ["run", scenario, "--trials", 300, "--workers", 1]
    wide = render(monkeypatch, capsys, 1000, *argv)
    narrow = render(monkeypatch, capsys, width, *argv)
    assert_fits(wide, narrow, width, ["ERROR_REMOTE_DISCONNECTION"] if scenario == OUTAGE
                else [])


@pytest.mark.parametrize("width", [80, 120])
def test_tune_table_fits(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         tmp_path: Path, width: int) -> None:
    argv = ["tune", UNPATCHED, "--space", ROOT / "tuning" / "connras-space.toml",
            "--require", "success_rate>=0.9", "--minimize", "p95_connect_time",
            "--minimize", "line_time", "--n-trials", 4, "--min-trials", 100,
            "--max-trials", 200, "--workers", 1, "--storage",
            f"sqlite:///{tmp_path / 'study.db'}"]
    wide = render(monkeypatch, capsys, 1000, *argv)  # the study runs once; then it is read
    narrow = render(monkeypatch, capsys, width, *argv)
    assert "Pareto front" in narrow
    # The pasted [sender] table may run past the width (it is copied whole); nothing else.
    pasted = [line for line in narrow.splitlines() if line.startswith("policy = {")]
    narrow_rest = "\n".join(line for line in narrow.splitlines() if line not in pasted)
    wide_rest = "\n".join(line for line in wide.splitlines()
                          if not line.startswith("policy = {"))
    assert_fits(wide_rest, narrow_rest, width, [])


@pytest.mark.parametrize("width", [80, 120])
def test_check_lines_fit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         tmp_path: Path, width: int) -> None:
    scenario = tmp_path / "small-check.toml"
    scenario.write_text(f'extends = "{ROOT / "scenarios" / "q221951-patched.toml"}"\n'
                        'trials = 400\n[expect]\nsuccess_rate = ">= 0.99"\n'
                        'rate_53 = "<= 0.01"\np90_connect_time = "<= 5m"\n', encoding="utf-8")
    wide = render(monkeypatch, capsys, 1000, "check", scenario, "--workers", 1)
    narrow = render(monkeypatch, capsys, width, "check", scenario, "--workers", 1)
    assert_fits(wide, narrow, width, [])


def test_split_tables_repeat_the_key_and_keep_groups(
        capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    key = Column("policy", ["a very long policy name that must wrap", "short"], "left")
    groups = [[Column(f"c{i}", [f"{i}.123456789", f"-{i}.5"]),
               Column(f"c{i} ci", [f"[{i}.1, {i}.2]", "[0, 0]"])] for i in range(6)]
    out = Console(width=60, highlight=False)
    tables = print_fitted(out, key, groups)
    assert tables > 1
    text = capsys.readouterr().out
    assert "…" not in text
    assert all(len(line.rstrip()) <= 60 for line in text.splitlines())
    for i in range(6):  # a value and its interval are in the same table: the same line
        assert re.search(rf"{i}\.123456789\s+\[{i}\.1, {i}\.2\]", text)
    assert text.count("policy   ") == tables  # each table repeats the key column
    assert len(re.findall(r"^wrap *$", text, re.MULTILINE)) == tables


def test_tune_title_agrees_with_its_rows() -> None:
    assert front_title(1, 1) == "best feasible candidate"
    assert "2, tied" in front_title(2, 1)
    assert front_title(1, 2).startswith("Pareto front: 1 feasible candidate no other")
    assert "the first 20 shown" in front_title(25, 2)
    assert "shown" not in front_title(20, 2)
