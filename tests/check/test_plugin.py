"""The pytest plugin: scenario files with ``[expect]`` as test items (run with pytester).

The plugin is registered through the ``pytest11`` entry point, so the inner pytest runs
below load it exactly as a user's ``pytest scenarios/`` would.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

TINY = """name = "{name}"
seed = 7
trials = 300

[ras]
connect = "1s"
authenticate = "0s"
project = "0s"
connect_failure = {{ rate = 0.3, codes = [651] }}

[link]
latency = "10ms"

[name_path]
lag = {{ dist = "uniform", low = "0s", high = "6s" }}
{expect}"""

PASSING = '\n[expect]\nsuccess_rate = ">= 0.25"\nrate_53 = "<= 0.5"\n'
FAILING = '\n[expect]\nsuccess_rate = ">= 0.9"\nrate_53 = "<= 0.5"\n'


def scenario(name: str, expect: str) -> str:
    return TINY.format(name=name, expect=expect)


@pytest.fixture
def tree(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", **{
        "q-pass": scenario("q-pass", PASSING),
        "q-fail": scenario("q-fail", FAILING),
        "no-expect": scenario("no-expect", ""),  # a scenario without claims: ignored
        "other": "[tool.black]\nline-length = 100\n",  # not a scenario at all: ignored
    })
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    return pytester


def test_the_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("rassim") == "sim.check.pytest_plugin"


def test_collects_one_item_per_scenario_with_expectations(tree: pytest.Pytester) -> None:
    result = tree.runpytest("--collect-only", "-q")
    assert sorted(line for line in result.outlines if "::" in line) == [
        "q-fail.toml::q-fail", "q-pass.toml::q-pass", "test_plain.py::test_plain"]
    assert result.ret == 0
    # Each item is marked `rassim`, so a suite can leave the scenarios out or run only them.
    result = tree.runpytest("--collect-only", "-q", "-m", "not rassim", "--strict-markers")
    assert [line for line in result.outlines if "::" in line] == ["test_plain.py::test_plain"]


def test_failure_prints_the_table_and_a_replay_command(tree: pytest.Pytester) -> None:
    result = tree.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)  # q-pass and test_plain pass
    text = result.stdout.str()
    assert "Traceback" not in text
    result.stdout.fnmatch_lines([
        "*rassim scenario q-fail*",
        "1 of 2 expectations not demonstrated at 95% confidence (300 trials, seed 7, policy "
        "pre-fix)",
        "FAIL q-fail success_rate >= 0.9: 0.3367 [0.2856, 0.3919] violated (interval entirely "
        "on the wrong side)",
        "PASS q-fail rate_53 <= 0.5: 0.3467 [0.2951, 0.4022] demonstrated",
        "replay a trial that gave up with 53: rassim replay q-fail.toml --seed 7 --trial *",
        "*FAILED q-fail.toml::q-fail - 1 of 2 expectations not demonstrated*",
    ])
    # The command it prints replays a trial that really gave up with 53.
    trial = int(re.search(r"rassim replay q-fail.toml --seed 7 --trial (\d+)", text).group(1))
    from sim.scenario.loader import load_scenario
    from sim.trial.trial import run_trial

    loaded = load_scenario(tree.path / "q-fail.toml")
    assert run_trial(loaded.scenario, loaded.policy, 7, trial).code == 53


def test_k_selects_by_name_and_runs_are_deterministic(tree: pytest.Pytester) -> None:
    first = tree.runpytest("-p", "no:cacheprovider")
    again = tree.runpytest("-k", "q-fail", "--rassim-workers", "2")
    again.assert_outcomes(failed=1, deselected=2)

    def table(result: pytest.RunResult) -> list[str]:
        # Only the failure report: with CI set, pytest's short summary (-ra) repeats the
        # message untruncated, which would double the lines.
        lines = result.outlines
        summary = [i for i, line in enumerate(lines) if "short test summary info" in line]
        lines = lines[: summary[0]] if summary else lines
        return [line for line in lines if line.startswith(("FAIL ", "PASS ", "replay"))]

    assert len(table(first)) == 3 and table(first) == table(again)


def test_passing_items_show_what_was_demonstrated_with_rP(tree: pytest.Pytester) -> None:
    result = tree.runpytest("-rP", "-k", "q-pass")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*Captured rassim call*", "300 trials, seed 7, policy pre-fix",
        "PASS q-pass success_rate >= 0.25: *demonstrated", "PASS q-pass rate_53 <= 0.5: *"])


def test_only_the_paths_given_are_collected(tree: pytest.Pytester) -> None:
    sub = tree.mkdir("scenarios")
    (sub / "deep.toml").write_text(scenario("deep", PASSING), encoding="utf-8")
    result = tree.runpytest("scenarios", "--collect-only", "-q")
    assert [line for line in result.outlines if "::" in line] == ["scenarios/deep.toml::deep"]


def test_a_malformed_scenario_is_a_clean_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", broken=scenario("broken", '\n[expect]\nsucess_rate = ">= 0.9"\n'),
                      syntax="[expect\nrate_53 = 1\n")
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting broken.toml*",
        "rassim: broken.toml: line 18: expect.sucess_rate: unknown key 'sucess_rate'; bound one "
        "of success_rate, *",
        "*ERROR collecting syntax.toml*",
        "rassim: *syntax.toml: not valid TOML: *",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "sim/" not in result.stdout.str()  # no frames from rassim's code
