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
    """Answers rasdial / net use from a script and keeps a fake clock."""

    def __init__(self, answers: list[tuple[int, str]]) -> None:
        self.answers = answers
        self.commands: list[list[str]] = []
        self.now = 100.0

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(argv))
        self.now += 2.0  # every command takes 2 s
        code, output = self.answers.pop(0)
        return subprocess.CompletedProcess(list(argv), code, stdout=output, stderr="")

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def performer(machine: FakeMachine, **kwargs: object) -> CommandPerformer:
    return CommandPerformer("BOSTON #INTER", run=machine.run, clock=lambda: machine.now,
                            sleep=machine.sleep, **kwargs)  # type: ignore[arg-type]


def test_commands_and_codes() -> None:
    machine = FakeMachine([(0, ""), (2, "System error 53 has occurred.\n"), (0, ""), (0, "")])
    perform = performer(machine, user="DOMAIN\\smsaddr", password="s3cret")
    assert perform(Dial("BOSTON #INTER")) == Succeeded(2.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr")) == Failed(53, 4.0)
    assert perform(Sleep(5.0)) == Succeeded(9.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE", "DOMAIN\\smsaddr")) == Succeeded(11.0)
    assert perform(HangUp()) == Succeeded(13.0)
    assert machine.commands == [
        ["rasdial", "BOSTON #INTER", "DOMAIN\\smsaddr", "s3cret"],
        ["net", "use", "\\\\DSSMS\\SMS_SITE", "s3cret", "/user:DOMAIN\\smsaddr"],
        ["net", "use", "\\\\DSSMS\\SMS_SITE", "s3cret", "/user:DOMAIN\\smsaddr"],
        ["rasdial", "BOSTON #INTER", "/disconnect"],
    ]


def test_rasdial_exit_status_is_the_ras_code_and_unknown_net_failure_is_59() -> None:
    machine = FakeMachine([(676, "Remote Access error 676"), (2, "garbled")])
    perform = performer(machine)
    assert perform(Dial("BOSTON #INTER")) == Failed(676, 2.0)
    assert perform(AddConnection("\\\\DSSMS\\SMS_SITE")) == Failed(59, 4.0)


def test_the_unchanged_procedure_runs_against_it() -> None:
    # connras-fix: 53, then success after a 5 s sleep.
    machine = FakeMachine([(0, ""), (2, "System error 53 has occurred."), (0, "")])
    target = Target("BOSTON #INTER", "\\\\DSSMS\\SMS_SITE")
    outcome = run_sync(connect(preset("connras-fix"), target), performer(machine))
    assert outcome == Connected(at=11.0, attempts=2, dials=1, codes=(53,))
