"""Text from scenario files is inert on the terminal (issue 16, class 7).

A name with rich markup crashed the results table (MarkupError) or became a hyperlink, and
an escape sequence in a name retitled and cleared the terminal. Every command that prints
file text to a terminal must print it as written, with control characters escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.report.terminal import inert, markup_inert, terminal_safe

ROOT = Path(__file__).resolve().parents[2]
FLAP = ROOT / "scenarios" / "faults-link-flap.toml"
FLEET = ROOT / "scenarios" / "fleet-retry-storm.toml"

ESC, OSC, CSI8 = "\x1b", "\x1b]0;pwned\x07", "\x9b"
HOSTILE = f"[/bold] {OSC} [link=http://example.invalid]x[/link] [red]\r\u202e"
#: Any raw control character but newline (and tab) in output reaching a terminal.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_inert_escapes_every_control_character_visibly() -> None:
    assert inert("a\x1b[2Jb\x07c\x9bd\re\u202ef\tg") == "a\\x1b[2Jb\\x07c\\x9bd\\x0de\\u202ef\tg"
    assert inert("plain name, 53 · ok") == "plain name, 53 · ok"


def test_markup_inert_prints_as_written() -> None:
    from rich.console import Console

    console = Console(record=True, width=200, color_system=None)
    console.print(markup_inert("[/bold] [link=http://x]y[/link] [red]z"))
    assert console.export_text().rstrip("\n") == "[/bold] [link=http://x]y[/link] [red]z"


def test_terminal_safe_keeps_numbers_and_marks_keys_and_values() -> None:
    report = {"scenario": "[/b]", "trials": 3, "faults_touched": {"[x]\x1b": 2},
              "toml": "[sender.policy]\x07"}
    safe = terminal_safe(report, keep=frozenset({"toml"}))
    assert safe["trials"] == 3
    assert safe["scenario"] == "\\[/b]"
    assert safe["faults_touched"] == {"\\[x]\\x1b": 2}
    assert safe["toml"] == "[sender.policy]\\x07"


def hostile_scenario(tmp_path: Path, base: Path = FLAP) -> Path:
    path = tmp_path / "hostile.toml"
    text = {
        "name": HOSTILE,
        "sender": {"server": "SRV[red]" + ESC + "[2J", "site": "S" + CSI8 + "1",
                   "entry": "E[/]" + OSC},
    }
    # JSON strings are valid TOML basic strings (escapes included).
    path.write_text(
        f"extends = {json.dumps(str(base))}\ntrials = 60\nname = {json.dumps(text['name'])}\n"
        "[sender]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in text["sender"].items())
        + "[[faults]]\nkind = \"link_outage\"\nname = " + json.dumps("[bold]F" + ESC + "[31m")
        + "\nat = \"connected + 1s\"\nduration = \"5s\"\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ["run"], ["replay", "--trial", "0"], ["replay", "--trial", "0", "--format", "log"],
    ["replay", "--trial", "0", "--format", "jsonl"], ["run", "--json"],
])
def test_file_text_is_inert_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           argv: list[str]) -> None:
    path = hostile_scenario(tmp_path)
    code = main([*argv[:1], str(path), *argv[1:]])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not RAW_CONTROL.search(out + err), repr(out[:500])
    if argv == ["run"]:
        assert "[/bold] \\x1b]0;pwned\\x07 [link=http://example.invalid]x[/link]" in out
        assert "[bold]F\\x1b[31m: " in out  # the fault, as written
    if "log" in argv:
        assert "\\\\SRV[red]\\x1b[2J\\SMS_SITE" in out


def test_a_fleet_log_and_a_sweep_table_are_inert(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = hostile_scenario(tmp_path, FLEET)
    assert main(["replay", str(path), "--trial", "0", "--format", "log"]) == 0
    grid = tmp_path / "grid.toml"
    grid.write_text('[[policies]]\nname = "[/bold]\\u001b]0;x\\u0007"\npreset = "pre-fix"\n',
                    encoding="utf-8")
    assert main(["sweep", str(path), "--grid", str(grid), "--trials", "4"]) == 0
    out, err = capsys.readouterr()
    assert not RAW_CONTROL.search(out + err)
    assert "[/bold]\\x1b]0;x\\x07" in out
