"""The README's quick-start commands are the ones CI runs and they name real files."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
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
