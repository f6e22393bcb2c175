"""Loading scenario files: ``extends``, profiles, policies, and the messages for bad input.

Every bad file must produce one ``ScenarioError`` whose text names the file, the dotted field
path (with the line where the key is written, when it is written), and the fix (design guide
section 5 rule 4). The CLI turns that into exit code 2; see test_cli.py.
"""

from __future__ import annotations

import functools
import json
import os
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sender.policy import PRESETS, RetryPolicy
from sim.draws.distributions import Constant, LogNormal, Uniform
from sim.scenario.json_schema import scenario_json_schema
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.profiles import PROFILES
from sim.scenario.schema import Scenario, parse_at

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
KNOWN_PRESETS = ("aws-full-jitter", "connras-fix", "pre-fix", "sms2-defaults")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def toml_str(value: str | Path) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def on_unpatched(tmp_path: Path, body: str, name: str = "bad.toml") -> Path:
    """A file that extends the shipped unpatched scenario (line 1) and adds ``body``."""
    text = f"extends = {toml_str(UNPATCHED)}\n" + textwrap.dedent(body).lstrip("\n")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "Traceback" not in message
    assert message.strip(), "an empty message helps nobody"
    return message


def assert_one_problem(message: str, *fragments: str) -> None:
    """One line naming everything in ``fragments`` (file, line, field, fix)."""
    assert "\n" not in message, f"expected one problem, got:\n{message}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# --- the shipped scenarios ----------------------------------------------------------------
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_loads_with_a_stable_sha256(path: Path) -> None:
    first, second = load_scenario(path), load_scenario(path)
    assert isinstance(first.scenario, Scenario)
    assert isinstance(first.policy, RetryPolicy)
    assert re.fullmatch(r"[0-9a-f]{64}", first.sha256)
    assert first.sha256 == second.sha256
    assert first.scenario == second.scenario


def test_shipped_scenarios_have_distinct_identities() -> None:
    digests = {load_scenario(p).sha256 for p in SCENARIOS}
    assert len(digests) == len(SCENARIOS)


def test_sha256_is_of_the_resolved_scenario(tmp_path: Path) -> None:
    # Same model through a different file: same identity. A parent change: a new one.
    same = write(tmp_path / "same.toml", f"extends = {toml_str(UNPATCHED)}\n")
    assert load_scenario(same).sha256 == load_scenario(UNPATCHED).sha256
    parent = write(tmp_path / "p.toml", 'name = "p"\n[netbt]\nname_query_count = 3\n')
    child = write(tmp_path / "c.toml", 'extends = "p.toml"\n')
    before = load_scenario(child).sha256
    write(parent, 'name = "p"\n[netbt]\nname_query_count = 4\n')
    assert load_scenario(child).sha256 != before


def test_sha256_redacts_the_password_but_tracks_it(tmp_path: Path) -> None:
    a = load_scenario(write(tmp_path / "a.toml", '[sender]\npassword = "hunter2"\n'))
    b = load_scenario(write(tmp_path / "b.toml", '[sender]\npassword = "other"\n'))
    assert "hunter2" not in json.dumps(a.scenario.public_dict())
    assert a.sha256 == b.sha256  # the identity is the model, not the secret


# --- extends ------------------------------------------------------------------------------
def test_extends_resolves_relative_to_the_including_file(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "base" / "grand.toml", """
        name = "grand"
        [netbt]
        name_query_count = 7
    """)
    write(tmp_path / "base" / "sub" / "parent.toml", """
        extends = "../grand.toml"
        name = "parent"
    """)
    child = write(tmp_path / "sites" / "east" / "child.toml", """
        extends = "../../base/sub/parent.toml"
        description = "child"
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory must not matter
    scenario = load_scenario(child).scenario
    assert (scenario.name, scenario.description) == ("parent", "child")
    assert scenario.netbt.name_query_count == 7


def test_extends_relative_path_given_relative_to_cwd(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "d" / "p.toml", 'name = "p"\n')
    write(tmp_path / "d" / "c.toml", 'extends = "p.toml"\n')
    monkeypatch.chdir(tmp_path)
    assert load_scenario(Path("d/c.toml")).scenario.name == "p"


def test_child_overrides_key_by_key_and_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path / "parent.toml", """
        name = "parent"
        seed = 5
        [netbt]
        name_query_timeout = "2s"
        name_query_count = 5
        [ras]
        connect_failure = { rate = 0.1, codes = [629, 651] }
        [[faults]]
        kind = "link_outage"
        at = "1s"
        duration = "1s"
        [[faults]]
        kind = "server_paused"
        at = "2s"
        duration = "1s"
    """)
    child = write(tmp_path / "child.toml", """
        extends = "parent.toml"
        name = "child"
        [netbt]
        name_query_count = 4
        [ras]
        connect_failure = { codes = [678] }
        [[faults]]
        kind = "wins_unavailable"
        at = "0s"
        duration = "5s"
    """)
    s = load_scenario(child).scenario
    assert (s.name, s.seed) == ("child", 5)
    assert (s.netbt.name_query_timeout, s.netbt.name_query_count) == (2.0, 4)
    assert s.ras.connect_failure.rate == 0.1  # merged key by key
    assert s.ras.connect_failure.codes == [678]  # a list is replaced whole
    assert [f.kind for f in s.faults] == ["wins_unavailable"]


def test_a_child_may_change_a_distributions_kind(tmp_path: Path) -> None:
    # The profile and the parent give a lognormal; a uniform table replaces it whole rather
    # than inheriting median/p95 beside low/high.
    child = on_unpatched(tmp_path, """
        [ras]
        connect = { dist = "uniform", low = "4s", high = "8s" }
        [link]
        latency = "100ms"
        [name_path]
        lag = { dist = "lognormal", mu = 1.0, sigma = 0.5 }
    """)
    s = load_scenario(child).scenario
    assert s.ras.connect == Uniform(dist="uniform", low="4s", high="8s")
    assert s.link.latency == Constant(value="100ms")
    assert isinstance(s.name_path.lag, LogNormal) and s.name_path.lag.median is None
    assert load_scenario(write(tmp_path / "alone.toml", """
        [ras]
        connect = { dist = "uniform", low = "4s", high = "8s" }
    """)).scenario.ras.connect.ppf(0.5) == 6.0


def test_a_table_without_dist_still_merges_into_the_parents(tmp_path: Path) -> None:
    s = load_scenario(on_unpatched(tmp_path, """
        [ras]
        connect = { p95 = "20s" }
    """)).scenario
    assert isinstance(s.ras.connect, LogNormal)
    assert (s.ras.connect.median, s.ras.connect.p95) == (6.0, 20.0)


def test_extends_cycle_of_two_is_named(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    message = load_error(a)
    assert_one_problem(message, "cycle", "a.toml -> ", "b.toml -> ", "extends",
                       "remove one of these extends")
    assert message.count("a.toml") >= 2


def test_extends_self_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\nextends = "a.toml"\n')
    assert_one_problem(load_error(a), str(a), "cycle", f"{a} -> {a}")


def test_missing_parent_names_both_files(tmp_path: Path) -> None:
    child = write(tmp_path / "sub" / "child.toml", 'extends = "../gone.toml"\n')
    message = load_error(child)
    assert_one_problem(message, str(tmp_path / "gone.toml"), str(child),
                       "no such scenario file", "check the path")


@pytest.mark.parametrize("value", ["3", '""', "[\"a.toml\"]", "{ file = \"a.toml\" }"])
def test_extends_must_be_a_file_name(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "x.toml", f"extends = {value}\n")
    assert_one_problem(load_error(path), str(path), "line 1", "extends", "must be a file name")


def test_extends_to_a_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    child = write(tmp_path / "c.toml", 'extends = "dir.toml"\n')
    assert_one_problem(load_error(child), "is a directory", str(child))


def test_an_error_in_a_parent_points_into_the_parent(tmp_path: Path) -> None:
    parent = write(tmp_path / "p.toml", '[link]\nlatncy = "1s"\n')
    child = write(tmp_path / "c.toml", 'extends = "p.toml"\nname = "c"\n')
    assert_one_problem(load_error(child), str(child), f"line 2 of {parent}", "link.latncy",
                       "unknown key")


# --- profiles -----------------------------------------------------------------------------
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profile_defaults_apply(tmp_path: Path, profile: str) -> None:
    s = load_scenario(write(tmp_path / "p.toml", f'profile = "{profile}"\n')).scenario
    expected = PROFILES[profile]["link"]["latency"]
    assert isinstance(s.link.latency, LogNormal)
    assert s.link.latency.ppf(0.5) == pytest.approx(
        LogNormal.model_validate(expected).ppf(0.5), rel=1e-12)
    assert s.link.rate_bps == PROFILES[profile]["link"]["rate_bps"]


def test_the_default_profile_is_sna(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path / "empty.toml", "")).scenario
    assert s.profile == "sna"
    assert s.link.rate_bps == 9600
    assert s.link.warmup.factor == 1.5


def test_profile_values_are_overridable_field_by_field(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path / "p.toml", """
        profile = "isdn"
        [link]
        rate_bps = 128000
        [ras.connect_failure]
        rate = 0.2
    """)).scenario
    assert s.link.rate_bps == 128000
    assert s.link.latency.ppf(0.5) == pytest.approx(0.025, rel=1e-9)  # still the isdn profile's
    assert (s.ras.connect_failure.rate, s.ras.connect_failure.codes) == (0.2, [678])


@pytest.mark.parametrize("value", ['"satellite"', "[1]", "3", "{ name = \"sna\" }"])
def test_unknown_profile(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "p.toml", f'name = "x"\nprofile = {value}\n')
    assert_one_problem(load_error(path), str(path), "line 2", "profile", "unknown profile",
                       "async, isdn, sna")


# --- the policy ---------------------------------------------------------------------------
def test_policy_as_a_preset_name(tmp_path: Path) -> None:
    loaded = load_scenario(on_unpatched(tmp_path, '[sender]\npolicy = "connras-fix"\n'))
    assert loaded.policy == PRESETS["connras-fix"]


def test_policy_as_a_table_with_preset_and_overrides(tmp_path: Path) -> None:
    loaded = load_scenario(on_unpatched(tmp_path, """
        [sender]
        policy = { preset = "connras-fix", max_dials = 3, redial_wait = "1m", settle = "500ms" }
    """))
    policy = loaded.policy
    assert policy == PRESETS["connras-fix"].replace(
        max_dials=3, redial_wait=60.0, settle=0.5, name="connras-fix+custom")


def test_policy_as_a_table_section_without_preset(tmp_path: Path) -> None:
    loaded = load_scenario(on_unpatched(tmp_path, """
        [sender.policy]
        attempts_per_dial = 3
        initial_wait = "2s"
        max_wait = "10s"
        jitter = "full"
        retry_on = [53, 64]
        deadline = "5m"
    """))
    assert loaded.policy == RetryPolicy(attempts_per_dial=3, initial_wait=2.0, max_wait=10.0,
                                        jitter="full", retry_on=frozenset({53, 64}),
                                        deadline=300.0)


def test_a_preset_table_alone_keeps_the_presets_name(tmp_path: Path) -> None:
    loaded = load_scenario(on_unpatched(tmp_path, '[sender]\npolicy = { preset = "pre-fix" }\n'))
    assert loaded.policy == PRESETS["pre-fix"]


def test_the_policy_option_overrides_the_file(tmp_path: Path) -> None:
    loaded = load_scenario(UNPATCHED, policy="aws-full-jitter")
    assert loaded.policy == PRESETS["aws-full-jitter"]
    assert loaded.sha256 == load_scenario(UNPATCHED).sha256  # the world is unchanged


def test_unknown_policy_option() -> None:
    message = load_error(UNPATCHED, policy="fastest")
    assert_one_problem(message, "--policy", "unknown preset 'fastest'", *KNOWN_PRESETS)


def test_unknown_preset_as_a_string(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, '[sender]\npolicy = "post-fix"\n')
    assert_one_problem(load_error(path), str(path), "line 3", "sender.policy:",
                       "unknown preset 'post-fix'", *KNOWN_PRESETS)


def test_unknown_preset_in_a_table(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, '[sender.policy]\nmax_dials = 2\npreset = "post-fix"\n')
    assert_one_problem(load_error(path), str(path), "line 4", "sender.policy.preset",
                       "unknown preset 'post-fix'", *KNOWN_PRESETS)


@pytest.mark.parametrize(
    ("body", "field", "line", "fix"),
    [
        ('[sender]\npolicy = { preset = "pre-fix", attempts_per_dial = 0 }\n',
         "sender.policy.attempts_per_dial", "line 3", "between 1 and"),
        ('[sender.policy]\ninitial_wait = "10s"\nmax_wait = "5s"\n',
         "sender.policy.max_wait", "line 4", "at least initial_wait"),
        ('[sender.policy]\nmax_dials = 0\n', "sender.policy.max_dials", "line 3", "between 1"),
        ('[sender.policy]\ndeadline = "0"\n', "sender.policy.deadline", "line 3",
         "omit it for no deadline"),
        ('[sender.policy]\nbackoff_base = 0.5\n', "sender.policy.backoff_base", "line 3",
         "between 1 and 100"),
        ('[sender.policy]\nretry_on = [0]\n', "sender.policy.retry_on.0", "line 3",
         "positive integers"),
        ('[sender.policy]\nsettle = "8d"\n', "sender.policy.settle", "line 3", "at most 7 days"),
        ('[sender.policy]\njitter = "some"\n', "sender.policy.jitter", "line 3",
         "'none', 'full', 'equal' or 'decorrelated'"),
        ('[sender.policy]\nmax_dials = 1.5\n', "sender.policy.max_dials", "line 3",
         "must be an integer, got 1.5"),
        ('[sender.policy]\nsettle = 2\n', "sender.policy.settle", "line 3", 'write "2s"'),
        ('[sender.policy]\nname = ""\n', "sender.policy.name", "line 3", "non-empty"),
        ('[sender.policy]\nattempts = 3\n', "sender.policy.attempts", "line 3",
         "unknown key 'attempts' (did you mean `attempts_per_dial`?); remove it or check its "
         "spelling"),
        ('[sender]\npolicy = 3\n', "sender.policy", "line 3", "expected a preset name or a table"),
        ('[sender]\npolicy = ["pre-fix"]\n', "sender.policy", "line 3", "rassim presets"),
    ],
)
def test_invalid_policy_field(tmp_path: Path, body: str, field: str, line: str, fix: str) -> None:
    path = on_unpatched(tmp_path, body)
    # One problem: not also "sender.policy: input should be a valid string" from the
    # preset-name form of the union.
    assert_one_problem(load_error(path), str(path), line, f"{field}:", fix)


# --- unknown keys and schema violations ---------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "line"),
    [
        ('latncy = "1s"\n', "latncy", "line 2"),
        ('[link]\nrate_bps = 9600\nlatncy = "1s"\n', "link.latncy", "line 4"),
        ('[link.warmup]\nfactor = 2.0\ndecay_s = "3s"\n', "link.warmup.decay_s", "line 4"),
        ('[link]\nwarmup = { factr = 2.0 }\n', "link.warmup.factr", "line 3"),
        ('[sender]\nserverr = "X"\n', "sender.serverr", "line 3"),
        ('[ras]\nconnect = { dist = "constant", value = "1s", mean = "2s" }\n',
         "ras.connect.mean", "line 3"),
        ('[[faults]]\nkind = "link_outage"\nat = "1s"\nduration = "1s"\nfactr = 2.0\n',
         "faults.0.factr", "line 6"),
        ('[[faults]]\nkind = "link_outage"\nat = "1s"\n\n[[faults]]\nkind = "link_outage"\n'
         'at = "2s"\nduraton = "1s"\n', "faults.1.duraton", "line 9"),
    ],
)
def test_unknown_key_names_the_dotted_path_and_line(tmp_path: Path, body: str, field: str,
                                                    line: str) -> None:
    path = on_unpatched(tmp_path, body)
    key = field.rsplit(".", 1)[-1]
    assert_one_problem(load_error(path), str(path), f"{line}: {field}: unknown key '{key}'",
                       "remove it or check its spelling")


@pytest.mark.parametrize(("body", "key", "home"), [
    ('policy = "pre-fix"\n', "policy", "the [sender] table"),
    ("senders = 20\n", "senders", "the [fleet] table"),
    ("ports = 3\n", "ports", "the [ras] or [[faults]] table"),
])
def test_a_key_above_its_table_header_says_where_it_belongs(tmp_path: Path, body: str,
                                                             key: str, home: str) -> None:
    path = on_unpatched(tmp_path, body)
    assert_one_problem(load_error(path), str(path), f"line 2: {key}: unknown key '{key}' at "
                       f"the top level; it belongs in {home}: move it below that table's header")


def test_misspelt_fault_kind_key_reports_both_problems(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, """
        [[faults]]
        kind = "link_outage"
        at = "1s"

        [[faults]]
        kindd = "link_outage"
        at = "1s"
    """)
    message = load_error(path)
    assert message.startswith("2 problems:\n")
    assert f"{path}: line 6: faults.1.kind: required but missing; add it" in message
    assert f"{path}: line 7: faults.1.kindd: unknown key 'kindd'" in message


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, 'seed = -1\ntrials = 0\n'
                                  '[tcp]\nmax_connect_retransmissions = 99\n')
    message = load_error(path)
    assert message.startswith("3 problems:\n")
    for field, line in (("seed", 2), ("trials", 3), ("tcp.max_connect_retransmissions", 5)):
        assert f"{path}: line {line}: {field}: " in message


@pytest.mark.parametrize(
    ("body", "field", "line", "fix"),
    [
        ('[ras]\nhangup = "-1s"\n', "ras.hangup", "line 3", "remove the minus sign"),
        ('[netbt]\nname_query_timeout = 3\n', "netbt.name_query_timeout", "line 3",
         'write "3s"'),
        ('[netbt]\nname_query_timeout = "3"\n', "netbt.name_query_timeout", "line 3",
         'write "3s"'),
        ('[smb]\nsession_timeout = "soon"\n', "smb.session_timeout", "line 3", '"1.5s"'),
        ('[ras]\nconnect = 5\n', "ras.connect", "line 3", 'write "5s"'),
        ('[ras]\nconnect = true\n', "ras.connect", "line 3", 'write a duration ("2s") or a table'),
        ('[ras]\nconnect = { dist = "gamma", shape = 2 }\n', "ras.connect", "line 3",
         "dist = one of constant, uniform, exponential, lognormal, empirical"),
        ('[ras]\nconnect = { dist = "uniform", low = "5s", high = "1s" }\n', "ras.connect",
         "line 3", "swap them"),
        ('[ras]\nconnect = { dist = "lognormal", median = "5s", p95 = "1s" }\n', "ras.connect",
         "line 3", "p95 must be greater than median"),
        ('[ras]\nconnect = { dist = "lognormal", median = "5s", p95 = "9s", mu = 1.0 }\n',
         "ras.connect", "line 3", "not both, not neither"),
        ('[ras]\nconnect = { dist = "empirical", samples = [] }\n', "ras.connect.samples",
         "line 3", "at least 1 item"),
        ('[ras]\nports = 0\n', "ras.ports", "line 3", "greater than or equal to 1"),
        ('[ras]\nno_port_code = 53\n', "ras.no_port_code", "line 3", "must be 676 or 633"),
        ('[ras.connect_failure]\nrate = 1.5\n', "ras.connect_failure.rate", "line 3",
         "less than or equal to 1"),
        ('[ras.connect_failure]\ncodes = []\n', "ras.connect_failure", "line 2",
         "at least one code"),
        ('[sender]\nserver = "\\\\\\\\DSSMS"\n', "sender.server", "line 3", "bare name"),
        ('[link]\nwarmup = { factor = 0.5 }\n', "link.warmup.factor", "line 3",
         "greater than or equal to 1"),
        ('sender = "DSSMS"\n', "sender", "line 2", "valid dictionary"),
        ('trials = 2.5\n', "trials", "line 2", "must be an integer, got 2.5"),
        ('trials = 1e9\n', "trials", "line 2", "must be an integer, got 1000000000.0"),
    ],
)
def test_bad_value_names_field_line_and_fix(tmp_path: Path, body: str, field: str, line: str,
                                            fix: str) -> None:
    path = on_unpatched(tmp_path, body)
    assert_one_problem(load_error(path), str(path), f"{line}: {field}: ", fix)


# --- faults -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", ("start", 30.0)),
        ("0", ("start", 0.0)),
        ("connected + 2s", ("connected", 2.0)),
        ("connected+500ms", ("connected", 0.5)),
        ("dial", ("dial", 0.0)),
        ("  first_map + 1m ", ("first_map", 60.0)),
        ("start + 1h", ("start", 3600.0)),
    ],
)
def test_parse_at(text: str, expected: tuple[str, float]) -> None:
    assert parse_at(text) == expected


@pytest.mark.parametrize(
    ("at", "fix"),
    [
        ("whenever", "milestones: start, dial, connected, first_map"),
        ("", "milestones: start, dial, connected, first_map"),
        ("connected +", "milestones: start, dial, connected, first_map"),
        ("connected - 2s", "milestones: start, dial, connected, first_map"),
        ("connectd + 2s", "milestones: start, dial, connected, first_map"),
        ("connected + 2", 'write "2s"'),
        ("connected + -1s", "remove the minus sign"),
        ("-5s", "milestones"),
        ("30", "milestones"),
    ],
)
def test_invalid_fault_at(tmp_path: Path, at: str, fix: str) -> None:
    path = on_unpatched(tmp_path, f"""
        [[faults]]
        kind = "link_outage"
        at = {toml_str(at)}
        duration = "1s"
    """)
    assert_one_problem(load_error(path), str(path), "line 4: faults.0.at: ", fix)


def test_a_problem_in_the_second_fault_points_at_the_second_fault(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, """
        [[faults]]
        kind = "link_outage"
        at = "1s"
        duration = "1s"

        [[faults]]
        kind = "link_outage"
        at = "bogus"
        duration = "1s"
    """)
    # Line 4 holds faults.0's (valid) `at`; the bad one is on line 9.
    assert_one_problem(load_error(path), str(path), "line 9: faults.1.at: ", "milestones")


@pytest.mark.parametrize(
    ("schedule", "fix"),
    [
        ('at = "1s"\nmean_interval = "10m"', "give exactly one of at"),
        ("", "give exactly one of at"),
        ('mean_interval = "10m"', "a stochastic fault needs a duration"),
        ('mean_interval = "0"\nduration = "1s"', "mean_interval must be at least 1s"),
        ('mean_interval = "10ms"\nduration = "1s"', "mean_interval must be at least 1s"),
    ],
)
def test_fault_schedule_problems(tmp_path: Path, schedule: str, fix: str) -> None:
    path = on_unpatched(tmp_path, '[[faults]]\nkind = "link_outage"\n' + schedule + "\n")
    assert_one_problem(load_error(path), str(path), "line 2: faults.0: ", fix)


def test_unknown_fault_kind_lists_the_kinds(tmp_path: Path) -> None:
    path = on_unpatched(tmp_path, '[[faults]]\nkind = "meteor"\nat = "1s"\n')
    assert_one_problem(load_error(path), str(path), "line 3: faults.0.kind: ", "link_outage",
                       "bad_credentials")


# --- the file itself ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('name = "x\n', "line 1"),
        ('name = "x"\n[ras\nports = 2\n', "line 2"),
        ('name = "x"\nname = "y"\n', "line 2"),
        ('[link]\nlatency = \n', "line 2"),
    ],
)
def test_toml_syntax_error_names_file_and_line(tmp_path: Path, text: str, line: str) -> None:
    path = write(tmp_path / "broken.toml", text)
    assert_one_problem(load_error(path), str(path), "not valid TOML", f"at {line}",
                       "fix the syntax")


def test_syntax_error_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    parent = write(tmp_path / "p.toml", "[ras\n")
    child = write(tmp_path / "c.toml", 'extends = "p.toml"\n')
    assert_one_problem(load_error(child), str(parent), "not valid TOML", "line 1")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "Montr\xe9al"\n'.encode("latin-1"))
    assert_one_problem(load_error(path), str(path), "not UTF-8", "save the file as UTF-8")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert_one_problem(load_error(path), str(path), "no such scenario file", "check the path")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert_one_problem(load_error(tmp_path), str(tmp_path), "is a directory")


# --- hostile values never escape as anything but ScenarioError ----------------------------
_FIELDS = [
    "name", "profile", "seed", "trials", "sender", "sender.policy", "sender.policy.preset",
    "sender.policy.retry_on", "sender.policy.max_wait", "sender.start", "sender.server",
    "ras", "ras.ports", "ras.connect", "ras.predialed", "ras.connect_failure",
    "ras.connect_failure.codes", "link", "link.latency", "link.warmup", "link.warmup.factor",
    "name_path.lag", "netbt.name_query_count", "netbt.broadcast_fallback", "faults",
    "tcp.initial_rto", "smb", "unknown",
]
_SCALARS = (
    st.integers(-(2**63), 2**63 - 1).map(str)
    | st.floats().map(lambda x: "nan" if x != x else ("inf" if x == float("inf") else
                                                      "-inf" if x == -float("inf") else repr(x)))
    | st.booleans().map(lambda b: "true" if b else "false")
    | st.text(max_size=12).map(json.dumps)
    | st.sampled_from(['"2s"', '"-1s"', '"0"', '"pre-fix"', '"lognormal"', '"connected + 1s"'])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")
    | st.dictionaries(st.sampled_from(["dist", "median", "p95", "low", "high", "value", "kind",
                                       "at", "preset", "rate", "codes", "mean", "x"]),
                      inner, max_size=3).map(
        lambda d: "{ " + ", ".join(f"{k} = {v}" for k, v in d.items()) + " }"),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(_FIELDS), value=_VALUES)
def test_arbitrary_values_give_a_scenario_error_or_a_scenario(
        tmp_path_factory: pytest.TempPathFactory, field: str, value: str) -> None:
    *tables, key = field.split(".")
    header = f"[{'.'.join(tables)}]\n" if tables else ""
    path = tmp_path_factory.mktemp("fuzz") / "f.toml"
    path.write_text(f'name = "fuzz"\n{header}{key} = {value}\n', encoding="utf-8")
    try:
        loaded = load_scenario(path)
    except ScenarioError as error:
        message = str(error)
        assert str(path) in message or "--policy" in message
        assert "Traceback" not in message
    else:
        assert isinstance(loaded.policy, RetryPolicy)


# --- the JSON Schema ----------------------------------------------------------------------
def test_schema_covers_every_field_and_forbids_unknown_keys() -> None:
    schema = scenario_json_schema()
    assert isinstance(schema, dict)
    assert set(schema["properties"]) == set(Scenario.model_fields) | {"extends"}
    assert schema["additionalProperties"] is False
    objects = [d for d in schema["$defs"].values() if d.get("type") == "object"]
    assert len(objects) >= 10
    for definition in objects:
        assert definition.get("additionalProperties") is False, definition.get("title")
    assert "required" not in schema  # a file may lean on its profile and the defaults
    assert schema["$defs"]["FaultSpec"]["required"] == ["kind"]
    json.dumps(schema)  # serialisable


@functools.cache
def _cached_validator():
    import jsonschema

    schema = scenario_json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validator():
    pytest.importorskip("jsonschema")
    return _cached_validator()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_schema_accepts_the_shipped_scenarios(path: Path) -> None:
    import tomllib

    validator = _validator()
    errors = [e.message for e in validator.iter_errors(tomllib.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    "data",
    [
        {"latncy": "1s"},
        {"link": {"latncy": "1s"}},
        {"faults": [{"kindd": "link_outage"}]},
        {"faults": [{"at": "1s"}]},  # kind is required
        {"netbt": {"name_query_timeout": 3}},  # a bare number
        {"netbt": {"name_query_timeout": "-3s"}},
        {"ras": {"connect": {"dist": "gamma"}}},
        {"ras": {"connect": True}},
        {"extends": 3},
    ],
)
def test_schema_rejects_what_the_loader_rejects(data: dict) -> None:
    assert list(_validator().iter_errors(data)), data


@pytest.mark.parametrize(
    "data",
    [
        {"sender": {"start": 0}},
        {"sender": {"start": "0"}},
        {"ras": {"connect": "2s"}},
        {"ras": {"connect": {"dist": "uniform", "low": "1s", "high": "2s"}}},
        {"sender": {"policy": {"preset": "connras-fix", "redial_wait": "1m"}}},
        {"faults": [{"kind": "link_outage", "at": "connected + 2s", "duration": "8s"}]},
    ],
)
def test_schema_accepts_what_the_loader_accepts(data: dict, tmp_path: Path) -> None:
    assert list(_validator().iter_errors(data)) == []


def test_stray_key_spelled_like_a_distribution_is_named(tmp_path: Path) -> None:
    """A top-level key called "uniform" once lost its name to the union-branch filter (the
    fuzz test found it) and crashed the error report."""
    path = tmp_path / "stray.toml"
    path.write_text('"uniform" = []\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"line 1: uniform: unknown key 'uniform'"):
        load_scenario(path)


# --- bounds on every duration and on error reporting (issue 16, classes 1 and 4) ------------
@pytest.mark.parametrize(("body", "field"), [
    ('[ras]\nconnect = "1e300s"\n', "ras.connect"),
    ('[ras]\nconnect = { dist = "uniform", low = "1s", high = "8d" }\n', "ras.connect.high"),
    ('[ras]\nconnect = { dist = "lognormal", median = "1s", p95 = "1e9h" }\n', "ras.connect.p95"),
    ('[ras]\nconnect = { dist = "exponential", mean = "30d" }\n', "ras.connect.mean"),
    ('[ras]\nconnect = { dist = "empirical", samples = ["1s", "8d"] }\n',
     "ras.connect.samples.1"),
    ('[ras]\nbusy_after = "1e300s"\n', "ras.busy_after"),
    ('[sender]\nstart = "365d"\n', "sender.start"),
    ('[netbt]\nname_query_timeout = "10000000h"\n', "netbt.name_query_timeout"),
    ('[[faults]]\nkind = "link_outage"\nat = "connected + 8d"\n', "faults.0.at"),
    ('[[faults]]\nkind = "link_outage"\nmean_interval = "1e20s"\nduration = "1s"\n',
     "faults.0.mean_interval"),
    ('[link.warmup]\ndecay = "9999d"\n', "link.warmup.decay"),
    ('[sender.policy]\nmax_wait = "1e300s"\n', "sender.policy.max_wait"),
])
def test_every_duration_is_at_most_seven_days(tmp_path: Path, body: str, field: str) -> None:
    message = load_error(on_unpatched(tmp_path, body))
    assert_one_problem(message, "bad.toml", f"{field}:", 'at most 7 days ("7d", 604800s)')


def test_thousands_of_unknown_keys_give_a_short_message_from_one_scan(tmp_path: Path) -> None:
    from sim.scenario import loader

    body = "".join(f"k{i} = 1\n" for i in range(100_000))
    loader._line_index.cache_clear()
    message = load_error(on_unpatched(tmp_path, body))
    lines = message.splitlines()
    assert lines[0] == "100,000 problems:"
    assert len(lines) == 1 + loader.MAX_PROBLEMS + 1
    assert lines[1].endswith("line 2: k0: unknown key 'k0'; remove it or check its spelling "
                             "(see `rassim schema`)")
    assert lines[-1] == "... and 99,980 more; fix these first"
    # The hint index is built once per file (and mode), not once per problem.
    assert loader._line_index.cache_info().misses <= 4


def test_a_megabyte_key_gives_a_short_message(tmp_path: Path) -> None:
    message = load_error(on_unpatched(tmp_path, "x" * 1_000_000 + " = 1\n"))
    assert_one_problem(message, "bad.toml: line 2:", "(1,000,000 characters)", "unknown key")
    assert len(message) < 500


# --- scenario files are files (issue 16, class 3) -------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_unread(device: str) -> None:
    assert_one_problem(load_error(Path(device)), device, "not a regular file")


def test_a_device_as_parent_is_refused_unread(tmp_path: Path) -> None:
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    child = write(tmp_path / "child.toml", 'extends = "zero.toml"\n')
    assert_one_problem(load_error(child), "/dev/zero: not a regular file",
                       f"(extended by {child})")


def test_a_fifo_does_not_block(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes; O_NONBLOCK does not.
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert_one_problem(load_error(fifo), "pipe.toml: not a regular file")
    child = write(tmp_path / "child.toml", 'extends = "pipe.toml"\n')
    assert_one_problem(load_error(child), "pipe.toml: not a regular file")


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    from sim.scenario.loader import MAX_FILE_BYTES

    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    assert_one_problem(load_error(big), "big.toml:", "larger than the 4 MiB")


@pytest.mark.parametrize("value", ["[" * 500 + "]" * 500, "[" * 40 + "1" + "]" * 40,
                                   "{ a = " * 40 + "1" + " }" * 40])
def test_deep_nesting_is_refused(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "deep.toml", f"name = {value}\n")
    assert_one_problem(load_error(path), "deep.toml:", "nested more than 32 levels deep")


def test_a_nul_byte_in_extends(tmp_path: Path) -> None:
    path = write(tmp_path / "nul.toml", 'extends = "a\\u0000b.toml"\n')
    assert_one_problem(load_error(path), "nul.toml: line 1: extends:", "NUL byte")


def test_a_nul_byte_in_the_path_named() -> None:
    assert_one_problem(load_error(Path("a\0b.toml")), "a\\0b.toml", "NUL byte")


def test_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    assert_one_problem(load_error(tmp_path / "a.toml"), "symbolic link loop")
    child = write(tmp_path / "child.toml", 'extends = "a.toml"\n')
    assert_one_problem(load_error(child), "symbolic link loop", "extended by")


def test_a_parent_must_be_a_toml_file(tmp_path: Path) -> None:
    # Refused before any read: a parent is never /etc/shadow, whoever runs rassim.
    path = write(tmp_path / "a" / "b.toml", 'extends = "../../../../../../etc/shadow"\n')
    assert_one_problem(load_error(path), "b.toml: line 1: extends: must name a .toml")


def test_values_from_a_parent_outside_the_folder_are_not_echoed(tmp_path: Path) -> None:
    secret = "hunter2-" + "s" * 8
    write(tmp_path / "elsewhere" / "base.toml", f'''
        extends = {toml_str(UNPATCHED)}
        profile = "{secret}"
        ''')
    child = write(tmp_path / "mine" / "child.toml", 'extends = "../elsewhere/base.toml"\n')
    message = load_error(child)
    assert_one_problem(message, "child.toml: line 2 of", "base.toml: profile:", "not shown")
    assert secret not in message
    write(tmp_path / "elsewhere" / "base.toml", f'''
        extends = {toml_str(UNPATCHED)}
        [ras]
        connect = "{secret}"
        [sender]
        policy = {{ preset = "connras-fix", name = "", max_dials = 2 }}
        ''')
    message = load_error(child)
    assert "ras.connect: invalid value (not shown" in message
    assert secret not in message
    # The same parent inside the scenario's folder is quoted as usual.
    inside = write(tmp_path / "elsewhere" / "child.toml", 'extends = "base.toml"\n')
    assert secret in load_error(inside)


def test_a_zero_warmup_decay_is_refused(tmp_path: Path) -> None:
    # exp(-age / decay) divided by zero once the trial ran.
    message = load_error(on_unpatched(tmp_path, '[link.warmup]\ndecay = "0s"\n'))
    assert_one_problem(message, "line 3: link.warmup.decay:", "at least 1ms",
                       "for no warm-up set factor = 1")


# --- one step further: the nearest key, what was written, quoted numbers ------------------
@pytest.mark.parametrize(("body", "suggestion"), [
    ('[sender.policy]\nattempts_per_dail = 6\n', "did you mean `attempts_per_dial`?"),
    ('[link]\nlatncy = "1s"\n', "did you mean `latency`?"),
    ('[[faults]]\nkind = "link_outage"\nat = "1s"\nduraton = "1s"\n',
     "did you mean `duration`?"),
    ('[netbt]\nname_query_timout = "1s"\n', "did you mean `name_query_timeout`?"),
])
def test_unknown_key_suggests_the_nearest(tmp_path: Path, body: str, suggestion: str) -> None:
    assert_one_problem(load_error(on_unpatched(tmp_path, body)), suggestion)


def test_unknown_key_far_from_any_suggests_nothing(tmp_path: Path) -> None:
    message = load_error(on_unpatched(tmp_path, '[link]\nzzzz = 1\n'))
    assert "did you mean" not in message


@pytest.mark.parametrize(("written", "fragments"), [
    ("lognormel", ('dist = "lognormel"', "did you mean `lognormal`?")),
    ("gamma", ('dist = "gamma"', "one of constant, uniform")),
])
def test_unknown_distribution_echoes_what_was_written(tmp_path: Path, written: str,
                                                      fragments: tuple[str, ...]) -> None:
    body = f'[link]\nlatency = {{ dist = "{written}", median = "1s", p95 = "2s" }}\n'
    assert_one_problem(load_error(on_unpatched(tmp_path, body)), "link.latency", *fragments)


@pytest.mark.parametrize(("body", "field", "value"), [
    ('[sender.policy]\nattempts_per_dial = "6"\n', "sender.policy.attempts_per_dial", '"6"'),
    ('[ras]\nports = "4"\n', "ras.ports", '"4"'),
    ('trials = "200"\n', "trials", '"200"'),
    ('[sender.policy]\nbackoff_base = "2.0"\n', "sender.policy.backoff_base", '"2.0"'),
])
def test_quoted_numbers_are_type_errors(tmp_path: Path, body: str, field: str,
                                        value: str) -> None:
    assert_one_problem(load_error(on_unpatched(tmp_path, body)), f"{field}:",
                       f"got the string {value}", "without quotes")


def test_every_shipped_scenario_loads_under_strict_types() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        load_scenario(path)
