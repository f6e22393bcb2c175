"""Every user-error class shares ``sender.errors.UserError``, and the CLI turns any of them
into one line on stderr and exit 2 in one place (``sim.cli``), whichever command raised it."""

from __future__ import annotations

import argparse

import pytest

from sender.errors import UserError
from sender.policy import PolicyError, RetryPolicy
from sim import cli
from sim.commands.common import BadInput
from sim.report.atomic import OutputError
from sim.run.executors import ExecutorError
from sim.scenario.loader import ScenarioError


def test_every_user_error_class_shares_the_base() -> None:
    from sim.studies.tune.study import StorageError, StudyMismatch

    for cls in (PolicyError, ScenarioError, BadInput, OutputError, ExecutorError,
                StorageError, StudyMismatch):
        assert issubclass(cls, UserError), cls
    assert issubclass(PolicyError, ValueError)  # as before, for callers that catch that


@pytest.mark.parametrize("error", [
    PolicyError("max_wait", "must be at least initial_wait (5.0s), got 1.0s"),
    ExecutorError("--dask tcp://x:1: cannot reach the scheduler; start it first"),
    OutputError("--out /x/y.csv: its folder does not exist; create it first"),
])
def test_any_user_error_from_a_command_is_one_line_and_exit_2(
        error: UserError, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    real = cli.build_parser

    def parser_raising() -> argparse.ArgumentParser:
        parser = real()
        original = parser.parse_args

        def parse(argv: object = None) -> argparse.Namespace:
            args = original(argv)  # type: ignore[arg-type]

            def handler(_: argparse.Namespace) -> int:
                raise error
            args.handler = handler
            return args
        parser.parse_args = parse  # type: ignore[method-assign,assignment]
        return parser

    monkeypatch.setattr(cli, "build_parser", parser_raising)
    assert cli.main(["explain", "53"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"rassim: error: {error}\n"
    assert captured.out == ""


def test_a_policy_error_names_its_field() -> None:
    with pytest.raises(UserError, match=r"^max_wait: must be at least initial_wait"):
        RetryPolicy(initial_wait=5.0, max_wait=1.0)
