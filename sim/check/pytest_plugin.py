"""pytest plugin: scenario files with an ``[expect]`` table are test items.

Installed through the ``pytest11`` entry point, so installing rassim is enough:
``pytest scenarios/`` collects every ``*.toml`` there that has an ``[expect]`` table of its
own (``sim.check.check`` rule 1) as one item named after the file's stem (so ``-k q221951``
selects by name), runs its trials with its seed, and fails unless every expectation is
demonstrated. Rules:

1. Only ``.toml`` files under the paths pytest is collecting are looked at (the ones given on
   the command line, else ``testpaths``), and a file without ``[expect]`` is ignored, so the
   plugin never breaks the collection of anything else; with rassim installed in another
   project's environment it costs one suffix test per file.
2. A malformed scenario file is a collection error that names the file, line and field, as
   ``rassim check`` would, without a traceback.
3. A failure prints the expectation table and a ``rassim replay`` command for a failing
   trial. Runs are deterministic (fixed seed and trial count), so an item never flakes.
4. Every item carries the ``rassim`` marker: ``-m rassim`` runs only the scenarios and
   ``-m "not rassim"`` everything else.
5. Heavy imports happen only once a scenario file is found.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sim.check.check import CheckTarget, ScenarioCheck

__all__ = ["ExpectationsNotDemonstrated", "ScenarioFile", "ScenarioItem"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rassim", "rassim scenario expectations")
    group.addoption("--rassim-workers", type=int, default=None, metavar="N",
                    help="worker processes per scenario file with [expect] (default: all "
                    "cores for large runs)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rassim: a scenario file's [expect] table, run by the "
                            "rassim plugin (deselect with -m \"not rassim\")")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix != ".toml":
        return None
    # why: lazy, so a pytest session without scenario files never imports the simulator
    from sim.check.check import has_expect_table

    if not has_expect_table(file_path):
        return None
    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file


def _shown(path: Path, config: pytest.Config) -> Path:
    """``path`` relative to where pytest was started, so that messages and the replay
    command read as the user would type them."""
    try:
        return Path(os.path.relpath(path, config.invocation_params.dir))
    except ValueError:  # another drive on Windows
        return path


class ExpectationsNotDemonstrated(Exception):
    """Raised by a scenario item whose expectations were not all demonstrated."""

    def __init__(self, check: ScenarioCheck, text: str) -> None:
        super().__init__(text)
        self.check = check
        self.text = text


class ScenarioFile(pytest.File):
    """A scenario file with an ``[expect]`` table: one item, named after the file."""

    def collect(self) -> Iterator[ScenarioItem]:
        # why: lazy, so a pytest session without scenario files never imports the simulator
        from sim.check.check import load_target
        from sim.scenario.loader import ScenarioError

        try:
            target = load_target(_shown(self.path, self.config))
        except ScenarioError as error:
            # CollectError is shown as its message alone: no traceback (rule 2).
            raise self.CollectError(f"rassim: {error}") from None
        item = ScenarioItem.from_parent(self, name=self.path.stem, target=target)
        item.add_marker(pytest.mark.rassim)
        yield item


class ScenarioItem(pytest.Item):
    """Run one scenario's trials and demonstrate its expectations."""

    def __init__(self, *, target: CheckTarget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def runtest(self) -> None:
        # why: lazy, so a pytest session without scenario files never imports the simulator
        from sim.check.check import run_check

        check = run_check(self.target, self.config.getoption("rassim_workers"))
        lines = check.lines()
        for line in lines:
            self.user_properties.append(("expectation", line))
        run = (f"{check.summary.trials:,} trials, seed {self.target.seed}, policy "
               f"{self.target.loaded.policy.name}")
        if check.passed:
            # Shown with -rP: what was demonstrated, not only that it was.
            self.add_report_section("call", "rassim", "\n".join([run, *lines]))
            return
        failed = sum(1 for verdict in check.verdicts if not verdict.passed)
        hint = check.replay_hint()
        raise ExpectationsNotDemonstrated(check, "\n".join([
            f"{failed} of {len(lines)} expectations not demonstrated at 95% confidence ({run})",
            *lines, *([hint] if hint else [])]))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationsNotDemonstrated):
            return excinfo.value.text
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"rassim scenario {self.name}"
