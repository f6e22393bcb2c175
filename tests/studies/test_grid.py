"""Grid files (``sim.studies.grid``): what a grid expands to, and one clear error per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from sender.policy import PRESETS, preset
from sim.cli import main
from sim.scenario.loader import ScenarioError
from sim.scenario.policy_text import policy_key
from sim.studies.grid import MAX_POINTS, Grid, load_grid

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"


def grid(tmp_path: Path, text: str, scenario_policy: str = "pre-fix",
         baseline: str | None = None) -> Grid:
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return load_grid(path, preset(scenario_policy), baseline=baseline)


def error(tmp_path: Path, text: str, **kwargs: str) -> str:
    with pytest.raises(ScenarioError) as info:
        grid(tmp_path, text, **kwargs)
    message = str(info.value)
    first = message.split("\n")[1] if message.endswith("problems:") or "problems:\n" in message \
        else message
    assert first.startswith(str(tmp_path / "grid.toml")) or first.startswith("--baseline")
    return message


EXAMPLE = """
baseline = "pre-fix"
[base]
preset = "connras-fix"
max_wait = "1m"
[vary]
attempts_per_dial = [1, 2, 4, 6]
initial_wait = ["1s", "5s", "15s"]
[[policies]]
name = "sms2"
preset = "sms2-defaults"
"""


def test_product_names_and_order(tmp_path: Path) -> None:
    g = grid(tmp_path, EXAMPLE)
    names = [p.name for p in g.policies]
    # The baseline is not in the grid, so it comes first; then the product, first key
    # slowest, in file order; then the named policies.
    assert names[0] == "pre-fix" and g.baseline == 0 and g.baseline_added
    assert names[1:4] == ["connras-fix attempts_per_dial=1 initial_wait=1s",
                          "connras-fix attempts_per_dial=1 initial_wait=5s",
                          "connras-fix attempts_per_dial=1 initial_wait=15s"]
    assert names[-1] == "sms2"
    assert len(names) == 1 + 12 + 1
    assert g.varied == ("attempts_per_dial", "initial_wait")
    point = g.policies[names.index("connras-fix attempts_per_dial=4 initial_wait=15s")]
    assert (point.attempts_per_dial, point.initial_wait, point.max_wait) == (4, 15.0, 60.0)
    assert point.backoff_base == PRESETS["connras-fix"].backoff_base  # from the base
    assert policy_key(g.policies[-1]) == policy_key(PRESETS["sms2-defaults"])


def test_vary_order_follows_the_file(tmp_path: Path) -> None:
    g = grid(tmp_path, '[vary]\ninitial_wait = ["2s", "3s"]\nattempts_per_dial = [2]\n')
    assert [p.name for p in g.policies][1:] == ["pre-fix initial_wait=2s attempts_per_dial=2",
                                                "pre-fix initial_wait=3s attempts_per_dial=2"]


def test_default_base_and_baseline_are_the_scenarios_policy(tmp_path: Path) -> None:
    g = grid(tmp_path, "[vary]\nattempts_per_dial = [1, 3]\n", scenario_policy="pre-fix")
    # pre-fix with attempts_per_dial=1 *is* pre-fix: it becomes the baseline, no extra row.
    assert not g.baseline_added
    assert g.policies[g.baseline].name == "pre-fix attempts_per_dial=1"
    assert g.same_as_baseline(g.baseline)
    assert not g.same_as_baseline(1)


def test_baseline_by_grid_name_and_by_cli(tmp_path: Path) -> None:
    text = EXAMPLE.replace('baseline = "pre-fix"', 'baseline = "sms2"')
    g = grid(tmp_path, text)
    assert not g.baseline_added and g.policies[g.baseline].name == "sms2"
    g = grid(tmp_path, text, baseline="connras-fix attempts_per_dial=2 initial_wait=5s")
    assert g.policies[g.baseline].name == "connras-fix attempts_per_dial=2 initial_wait=5s"


def test_a_baseline_named_like_a_different_grid_policy_is_kept_apart(tmp_path: Path) -> None:
    g = grid(tmp_path, '[[policies]]\nname = "pre-fix"\npreset = "pre-fix"\nmax_dials = 2\n')
    assert [p.name for p in g.policies] == ["pre-fix (baseline)", "pre-fix"]
    assert g.baseline == 0


@pytest.mark.parametrize(("text", "fragments"), [
    ('[vary]\nattempts_per_dail = [1]\n',
     ["line 2", "vary.attempts_per_dail", "unknown key",
      "(did you mean `attempts_per_dial`?)", "rassim sweep --help"]),
    ('colour = "red"\n[vary]\nattempts_per_dial = [1]\n', ["line 1", "colour", "unknown key"]),
    # The nearest key of the table the typo is in: [base], [[policies]], the top level.
    ('[base]\nmax_dils = 3\n[vary]\nattempts_per_dial = [1]\n',
     ["line 2", "base.max_dils", "(did you mean `max_dials`?)"]),
    ('[[policies]]\nname = "a"\npreset = "pre-fix"\nredial_wiat = "3s"\n',
     ["line 4", "policies.0.redial_wiat", "(did you mean `redial_wait`?)"]),
    ('baselin = "pre-fix"\n[vary]\nattempts_per_dial = [1]\n',
     ["line 1", "(did you mean `baseline`?)"]),
    ('[base]\npreset = "connras-fixx"\n[vary]\nattempts_per_dial = [1]\n',
     ["line 2", "base.preset", "unknown preset 'connras-fixx'", "connras-fix"]),
    ('[[policies]]\nname = "x"\npreset = "nope"\n',
     ["line 3", "policies.0.preset", "unknown preset"]),
    ('[vary]\ninitial_wait = ["1s", 5]\n',
     ["vary.initial_wait.1", "needs a unit", '"5s"']),
    ('[vary]\nattempts_per_dial = [1, true]\n', ["vary.attempts_per_dial.1", "got true"]),
    ('[vary]\nattempts_per_dial = ["4"]\n', ["vary.attempts_per_dial.0", 'got "4"']),
    ('[vary]\nattempts_per_dial = 4\n', ["vary.attempts_per_dial", "must be a list"]),
    ('[vary]\nattempts_per_dial = []\n', ["vary.attempts_per_dial", "empty list"]),
    ('[vary]\nattempts_per_dial = [2, 2]\n', ["listed twice"]),
    ('[vary]\njitter = ["fuzzy"]\n', ["vary.jitter.0", "'none'"]),
    ('[vary]\nattempts_per_dial = [0, 1]\n',
     ["vary: grid point 'pre-fix attempts_per_dial=0'", "attempts_per_dial", "between 1"]),
    ('[base]\npreset = "connras-fix"\n[vary]\ninitial_wait = ["1s", "15s"]\n',
     ["grid point 'connras-fix initial_wait=15s'", "max_wait", "set it in [base]"]),
    ('[base]\npreset = "connras-fix"\nmax_dials = 0\n[vary]\nattempts_per_dial = [1]\n',
     ["base.max_dials", "between 1"]),
    ('[[policies]]\nname = ""\n', ["policies.0.name"]),
    ('[[policies]]\npreset = "pre-fix"\n', ["policies.0.name", "missing"]),
    ('baseline = "pre-fx"\n[vary]\nattempts_per_dial = [1, 2]\n',
     ["line 1", "baseline: 'pre-fx' is neither a preset nor a grid policy", "pre-fix"]),
    ('[[policies]]\nname = "a"\npreset = "pre-fix"\n[[policies]]\nname = "a"\n'
     'preset = "sms2-defaults"\n', ["two grid policies are named 'a'"]),
    ('baseline = "pre-fix"\n', ["the grid is empty"]),
    ("", ["the grid is empty"]),
    ('[vary]\nattempts_per_dial = [1, 2\n', ["not valid TOML"]),
])
def test_bad_grids(tmp_path: Path, text: str, fragments: list[str]) -> None:
    message = error(tmp_path, text)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_several_problems_are_listed_together(tmp_path: Path) -> None:
    message = error(tmp_path, '[vary]\nattempts_per_dial = [true]\nsettle = [3]\nfoo = [1]\n')
    assert message.startswith("3 problems:")


def test_a_grid_over_the_cap_is_refused_before_expanding(tmp_path: Path) -> None:
    side = int(MAX_POINTS ** 0.5) + 1
    values = ", ".join(f'"{i}s"' for i in range(1, side + 1))
    counts = ", ".join(str(i) for i in range(1, side + 1))
    message = error(tmp_path, f"[vary]\nattempts_per_dial = [{counts}]\nsettle = [{values}]\n")
    assert f"more than {MAX_POINTS:,}" in message and "shorten the lists" in message


def test_unknown_cli_baseline(tmp_path: Path) -> None:
    message = error(tmp_path, "[vary]\nattempts_per_dial = [1, 2]\n", baseline="nope")
    assert message.startswith("--baseline: 'nope' is neither")


def test_missing_grid_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such grid file"):
        load_grid(tmp_path / "nope.toml", preset("pre-fix"))


def test_cli_bad_grid_exits_2_with_one_message(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "grid.toml"
    path.write_text('[vary]\nattempts_per_dail = [1]\n', encoding="utf-8")
    out = tmp_path / "table.csv"
    code = main(["sweep", str(UNPATCHED), "--grid", str(path), "--trials", "10", "--out",
                 str(out)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("rassim: error:") == 1 and "Traceback" not in err
    assert "vary.attempts_per_dail" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.toml"]  # no output file


def test_example_grid_in_tuning_folder_loads() -> None:
    g = load_grid(ROOT / "tuning" / "connras-grid.toml", preset("pre-fix"))
    assert g.policies[g.baseline].name == "pre-fix"
    assert len(g.policies) == 15


def test_fleet_jitter_grid_varies_only_the_jitter_against_none() -> None:
    g = load_grid(ROOT / "tuning" / "fleet-jitter-grid.toml", preset("pre-fix"))
    assert [p.jitter for p in g.policies] == ["none", "equal", "full", "decorrelated"]
    assert g.policies[g.baseline].jitter == "none"
    storm = ROOT / "scenarios" / "fleet-retry-storm.toml"
    from sim.scenario.loader import load_scenario

    scenario_policy = load_scenario(storm).policy
    for policy in g.policies:  # the storm's own policy, the jitter aside
        assert policy.replace(name=scenario_policy.name, jitter="none") == scenario_policy


@pytest.mark.parametrize(("text", "fragment"), [
    ("[vary]\nmax_dials = [1, 1979-05-27T07:32:00Z]\n",
     "vary.max_dials.1: input should be a valid integer, got '1979-05-27T07:32:00+00:00'"),
    ("[vary]\nsettle = [07:32:00]\n", "vary.settle.0: expected a duration"),
])
def test_a_toml_datetime_in_vary_is_a_clean_error(tmp_path: Path, text: str,
                                                  fragment: str) -> None:
    # The error formatter wrote every bad value with json.dumps: a datetime was a TypeError.
    assert fragment in error(tmp_path, text)


def test_a_grid_file_must_be_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_grid("/dev/zero", preset("pre-fix"))
