"""The real-I/O performer's mapping of effects to NT commands, with the commands faked."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from sender.driver import run_sync
from sender.effects import AddConnection, Connected, Dial, Failed, HangUp, Sleep, Succeeded
from sender.policy import preset
from sender.procedure import Target, connect
from sender.realio import CommandPerformer


class FakeMachine:
    """Answers rasdial from a script, WNetAddConnection2 from another, keeps a fake clock,
    and records every child command line and what it was fed on standard input."""

    def __init__(self, answers: list[int], maps: list[int] | None = None) -> None:
        self.answers = answers
        self.maps = maps or []
        self.commands: list[list[str]] = []
        self.stdins: list[str | None] = []
        self.mapped: list[tuple[str, str, str | None]] = []
        self.now = 100.0

    def run(self, argv: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(argv))
        self.stdins.append(stdin)
        self.now += 2.0  # every command takes 2 s
        code = self.answers.pop(0)
        # Output in another language: the performer must not need to read it.
        return subprocess.CompletedProcess(list(argv), code, stdout="Fehler 676 ist aufgetreten",
                                           stderr="")

    def add_connection(self, remote: str, user: str, password: str | None) -> int:
        self.mapped.append((remote, user, password))
        self.now += 2.0
        return self.maps.pop(0)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def performer(machine: FakeMachine, **kwargs: object) -> CommandPerformer:
    return CommandPerformer("BOSTON #INTER", run=machine.run,
                            add_connection=machine.add_connection, clock=lambda: machine.now,
                            sleep=machine.sleep, **kwargs)  # type: ignore[arg-type]


def test_commands_and_codes() -> None:
    machine = FakeMachine([0, 0], maps=[53, 0])
    perform = performer(machine, user="DOMAIN\\smsaddr", password="s3cret")
    assert perform(Dial("BOSTON #INTER")) == Succeeded(2.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr")) == Failed(53, 4.0)
    assert perform(Sleep(5.0)) == Succeeded(9.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr")) == Succeeded(11.0)
    assert perform(HangUp()) == Succeeded(13.0)
    assert machine.commands == [
        ["rasdial", "BOSTON #INTER", "DOMAIN\\smsaddr", "*"],
        ["rasdial", "BOSTON #INTER", "/disconnect"],
    ]
    assert machine.stdins == ["s3cret\n", None]
    assert machine.mapped == [("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr", "s3cret")] * 2


def test_the_password_never_reaches_a_command_line() -> None:
    machine = FakeMachine([0, 0, 0], maps=[0])
    perform = performer(machine, user="DOMAIN\\smsaddr", password="pa55-w0rd")
    perform(Dial("BOSTON #INTER"))
    perform(AddConnection("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr"))
    perform(HangUp())
    assert all("pa55-w0rd" not in part for argv in machine.commands for part in argv)


def test_codes_come_from_exit_status_and_return_value_not_from_text() -> None:
    # rasdial's output is German here; its exit status is the code. WNetAddConnection2's
    # return value is the code (no net use output to misread in any language).
    machine = FakeMachine([676], maps=[1326])
    perform = performer(machine)
    assert perform(Dial("BOSTON #INTER")) == Failed(676, 2.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE")) == Failed(1326, 4.0)
    assert machine.commands == [["rasdial", "BOSTON #INTER"]]  # no user: no prompt, no stdin
    assert machine.stdins == [None]


def test_the_unchanged_procedure_runs_against_it() -> None:
    # connras-fix: 53, then success after a 5 s sleep.
    machine = FakeMachine([0], maps=[53, 0])
    target = Target("BOSTON #INTER", "\\\\DSSMS\\SMS_SITE")
    outcome = run_sync(connect(preset("connras-fix"), target), performer(machine))
    assert outcome == Connected(at=11.0, attempts=2, dials=1, codes=(53,))
