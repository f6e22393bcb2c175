"""What a new user meets first (issue 15): notes, messages and defaults that say what
happened: open-ended faults, where a picture went, requirements no sample can
demonstrate, the replay help, the settle delay's label, ``trials_frame``'s default."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import frames
from sim.cli import main
from sim.studies.tune.goals import parse_requirement

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
PATCHED = ROOT / "scenarios" / "q221951-patched.toml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def open_ended(tmp_path: Path) -> Path:
    path = tmp_path / "open-ended.toml"
    path.write_text(f'extends = "{PATCHED}"\ntrials = 100\n[[faults]]\n'
                    'kind = "wins_unavailable"\nname = "wins-down"\nat = "connected + 1s"\n'
                    '[[faults]]\nkind = "link_outage"\nat = "30s"\nduration = "2s"\n'
                    '[expect]\nsuccess_rate = ">= 0.01"\n', encoding="utf-8")
    return path


def test_run_and_check_name_a_fault_without_duration(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    path = open_ended(tmp_path)
    note = ("fault 'wins-down' has no duration, so it lasts from connected + 1s to the end "
            "of the trial")
    _, out, _ = run_cli(capsys, "run", path, "--workers", 1)
    assert f"note: {note}" in " ".join(out.split())
    assert out.count("has no duration") == 1  # the fault with a duration is not named
    _, out, _ = run_cli(capsys, "check", path, "--workers", 1)
    assert f"note: open-ended: {note}" in " ".join(out.split())
    import json

    _, out, _ = run_cli(capsys, "run", path, "--workers", 1, "--json")
    assert json.loads(out)["notes"] == [note]


def test_no_note_without_open_ended_faults(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "run", ROOT / "scenarios" / "faults-link-flap.toml",
                        "--trials", 50, "--workers", 1)
    assert "note:" not in out


@pytest.mark.parametrize("text", ["rate_53<=0", "rate_53<=0%", "success_rate>=1",
                                  "success_rate>=100%", "busy_rate<=0",
                                  "sender_success_rate>=1.0"])
def test_tune_refuses_a_bound_no_sample_can_demonstrate(text: str) -> None:
    with pytest.raises(ValueError, match="can never be demonstrated: a 95% interval"):
        parse_requirement(text)


def test_tune_require_zero_is_bad_input_with_the_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "tune", UNPATCHED, "--space",
                           ROOT / "tuning" / "connras-space.toml", "--require", "rate_53<=0",
                           "--minimize", "p95_connect_time")
    assert code == 2
    assert "never be demonstrated" in err and "rate_53<=0.1%" in err
    assert len(err.strip().splitlines()) == 1


def test_tune_require_small_margins_are_fine() -> None:
    assert parse_requirement("rate_53<=0.1%").threshold == pytest.approx(0.001)
    assert parse_requirement("success_rate>=0.999").threshold == 0.999


def test_run_and_replay_say_where_the_picture_went(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "run.png"
    code, out, _ = run_cli(capsys, "run", UNPATCHED, "--trials", 50, "--workers", 1,
                           "--plot", picture)
    assert code == 0 and picture.is_file()
    assert f"plot written to {picture}" in "".join(out.split("\n"))
    code, out, err = run_cli(capsys, "run", UNPATCHED, "--trials", 50, "--workers", 1,
                             "--plot", picture, "--json")
    assert f"plot written to {picture}" in err
    trial = tmp_path / "trial.png"
    code, out, err = run_cli(capsys, "replay", UNPATCHED, "--trial", 0, "--plot", trial,
                             "--format", "jsonl")
    assert code == 0 and trial.is_file()
    assert err.strip() == f"plot written to {trial}"
    assert "plot written" not in out  # stdout stays the trace alone


def test_replay_help_describes_its_positional_argument(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    out = capsys.readouterr().out
    assert "FILE" in out and "scenario file (.toml)" in out
    assert "trial index" in out


def test_the_settle_delay_is_labelled_settle() -> None:
    from sender.policy import preset
    from sim.plots._spans import timeline_parts

    policy = preset("connras-fix").replace(settle=2.0)
    parts = timeline_parts(frames.replay(UNPATCHED, 0, policy=policy).events)
    sender = [(s.kind, s.note) for s in parts.spans if s.lane == "sender"]
    assert sender[:3] == [("dial", ""), ("settle", "2"), ("map_failed", "")]
    assert ("sleep", "5") in sender  # the wait between maps is still a wait


def test_trials_frame_defaults_to_the_scenarios_trial_count(tmp_path: Path) -> None:
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{UNPATCHED}"\ntrials = 37\n', encoding="utf-8")
    assert len(frames.trials_frame(small, workers=1)) == 37
