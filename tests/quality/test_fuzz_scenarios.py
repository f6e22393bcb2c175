"""Hostile and broken scenario files: every one loads or fails with the documented error.

Over 1,000 generated documents per run (random TOML, and the shipped scenarios with fields
deleted, retyped, negated, set to huge or NaN values, given unknown keys, wrong units,
broken distributions or bad policy tables, or with their text damaged), plus the CLI on a
sample of them. Every document must end in a valid scenario or a ``ScenarioError`` (exit 2
on the CLI): zero tracebacks, and each bounded in time.

Then the families an independent attack found (issue 16): devices and special files as the
scenario, a parent, a grid or a space; extreme magnitudes in every duration field (the
fields are read from the schema, so a new one is fuzzed without editing this file); deep
nesting; markup and control characters in every free-text field, which must reach the
terminal inert; parents outside the scenario's folder, whose values are never echoed.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario.loader import ScenarioError, load_scenario
from tests.helpers.schema_slots import duration_slots, merge, text_slots

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))
SECONDS_PER_LOAD = 5
SECONDS_PER_CLI_RUN = 60

# Keys that exist somewhere in the schema, so generated documents reach deep validation.
KNOWN_KEYS = [
    "name", "profile", "seed", "trials", "extends", "sender", "ras", "link", "name_path",
    "netbt", "tcp", "smb", "faults", "expect", "search", "policy", "preset", "dist", "median",
    "p95", "mu", "sigma", "low", "high", "mean", "value", "samples", "latency", "lag",
    "connect", "authenticate", "project", "ports", "predialed", "rate_bps", "warmup",
    "factor", "decay", "kind", "at", "duration", "mean_interval", "probability",
    "attempts_per_dial", "initial_wait", "max_wait", "jitter", "max_dials", "retry_on",
    "name_query_timeout", "name_query_count", "session_timeout", "success_rate", "rate_53",
]

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-308, 0.0, -0.0, 2**62]),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["1.5s", "250ms", "2m", "-3s", "5 parsecs", "1e400s", "nan s", "0",
                     "lognormal", "connected + 2s", "first_map + -1s", ">= 0.99", "<= 5%",
                     "pre-fix", "connras-fix", "nope", "sna", "isdn", "link_outage"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)),
                        children, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)),
                            values, max_size=6)


# --- a small TOML writer (inline tables everywhere: valid TOML for any nesting) -------------
def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # astral chars, not surrogate escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in data.items())


# --- mutations of the shipped scenarios ------------------------------------------------------
def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield (*prefix, index)
            yield from paths(child, (*prefix, index))


def mutate(data: dict[str, Any], draw: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(data))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        candidates = list(paths(data))
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        old = parent[key]
        action = draw(st.sampled_from(["delete", "retype", "negate", "huge", "nan", "unknown",
                                       "unit", "dist", "policy"]))
        if action == "delete":
            del parent[key]
        elif action == "retype":
            parent[key] = draw(values)
        elif action == "negate":
            if isinstance(old, int | float) and not isinstance(old, bool):
                parent[key] = -old
            elif isinstance(old, str):
                parent[key] = "-" + old
        elif action == "huge":
            parent[key] = draw(st.sampled_from([10**18, 1e300, "1e300s", "999999999h"]))
        elif action == "nan":
            parent[key] = draw(st.sampled_from([math.nan, math.inf, "nans", "infs"]))
        elif action == "unknown" and isinstance(old, dict):
            old[draw(st.text(min_size=1, max_size=8))] = draw(scalars)
        elif action == "unit" and isinstance(old, str):
            parent[key] = old.rstrip("smhd") + draw(st.sampled_from(["", "x", "sec", "ms", "h"]))
        elif action == "dist":
            parent[key] = draw(st.sampled_from([
                {"dist": "lognormal", "median": "5s"}, {"dist": "lognormal", "mu": 900,
                                                        "sigma": 3},
                {"dist": "uniform", "low": "5s", "high": "1s"}, {"dist": "gamma"},
                {"dist": "empirical", "samples": []}, {"dist": "exponential", "mean": "0s"},
                {"value": "2s"}, "2", 7,
            ]))
        elif action == "policy":
            parent[key] = {"policy": draw(st.sampled_from([
                "nope", {"preset": "nope"}, {"attempts_per_dial": 0},
                {"attempts_per_dial": 10_000, "max_dials": 10_000},
                {"initial_wait": "10s", "max_wait": "1s"}, {"jitter": "sometimes"},
                {"retry_on": [True]}, {"retry_on": "53"}, {"deadline": "0s"},
                {"backoff_base": math.nan}, {"extra": 1},
            ]))}
    return data


def damage(text: str, draw: Any) -> str:
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(text) - 1)))
        junk = draw(st.sampled_from(["", "[", "]", "=", '"', "\n", "\x00", "é", "[[faults]]\n",
                                     "extends = \"self.toml\"\n", "{", "\\"]))
        cut = draw(st.integers(0, 3))
        text = text[:at] + junk + text[at + cut:]
    return text


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging CI) when a block runs past ``seconds``."""
    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds}s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_or_clean_error(path: Path) -> bool:
    """True if ``path`` loaded; False for the documented error. Anything else fails."""
    with time_limit(SECONDS_PER_LOAD):
        try:
            load_scenario(path)
        except ScenarioError as error:
            message = str(error)
            assert message and "Traceback" not in message
            assert str(path.name) in message or "--policy" in message
            return False
    return True


@st.composite
def hostile_files(draw: Any) -> str:
    kind = draw(st.sampled_from(["random", "mutated", "damaged"]))
    if kind == "random":
        return toml_document(draw(documents))
    source = draw(st.sampled_from(SHIPPED))
    text = source.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.pop("extends", None)  # the copy lives elsewhere; extends is fuzzed separately
    if kind == "mutated":
        return toml_document(mutate(data, draw))
    return damage(toml_document(data), draw)


FUZZ = settings(max_examples=1100, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.large_base_example, HealthCheck.data_too_large])


@FUZZ
@given(text=hostile_files())
def test_loader_never_raises_anything_else(text: str, tmp_path_factory: pytest.TempPathFactory
                                           ) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "hostile.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    load_or_clean_error(path)


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(text=hostile_files())
def test_cli_exits_0_or_2_without_traceback(text: str, tmp_path_factory: pytest.TempPathFactory
                                            ) -> None:
    directory = tmp_path_factory.mktemp("cli")
    path = directory / "hostile.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    out = directory / "rows.csv"
    with time_limit(SECONDS_PER_CLI_RUN):
        code = main(["run", str(path), "--trials", "2", "--workers", "1", "--json",
                     "--out", str(out)])
    assert code in (0, 2)
    if code == 2:  # bad input leaves no output file behind, not even a temporary one
        assert sorted(p.name for p in directory.iterdir()) == ["hostile.toml"]


# =========================================================================================
# The families of issue 16: special files, extreme durations in every duration field, deep
# nesting, markup and control characters in every text field, parents outside the tree.
# Every case ends with exit 0, 1 or 2, and an exit 2 is one clean message (one line, or the
# documented list of problems, each line naming the file), within a bounded time.
# =========================================================================================
SCENARIO = ROOT / "scenarios" / "q221951-unpatched.toml"
GRID = ROOT / "tuning" / "connras-grid.toml"
SPACE = ROOT / "tuning" / "connras-space.toml"
SECONDS_PER_CASE = 20
#: Terminal control: C0 (but newline and tab), DEL, C1, and the bidirectional overrides.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``rassim argv`` in process, bounded in time; (exit code, stdout, stderr)."""
    with time_limit(SECONDS_PER_CASE):
        code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code: int, err: str, *, one_line: bool = False) -> None:
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    if code != 2:
        return
    lines = err.splitlines()
    assert err.endswith("\n") and lines[0].startswith("rassim: error: "), err
    assert err.count("rassim: error:") == 1, err
    if one_line or len(lines) > 1:
        # One line, or "N problems:" followed by one line per problem.
        assert len(lines) == 1 or (not one_line and lines[0].endswith(" problems:")
                                   and len(lines) <= 2 + 20), err


def write_doc(path: Path, data: dict[str, Any], header: str = "") -> Path:
    path.write_bytes((header + toml_document(data)).encode("utf-8", "surrogatepass"))
    return path


# --- devices and special files, as FILE and as extends --------------------------------------
def special(kind: str, directory: Path) -> str:
    """A path of the given kind (created under ``directory`` when it has to be)."""
    target = directory / f"special-{kind.replace('/', '-')}.toml"
    if kind.startswith("/dev/"):
        target.symlink_to(kind)  # named like a scenario: reaches the read, not the name rule
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "symlink-loop":
        other = directory / "special-loop-b.toml"
        target.symlink_to(other)
        other.symlink_to(target)
    elif kind == "nul-byte":
        return str(target) + "\0.toml"
    return str(target)


SPECIALS = ["fifo", "directory", "symlink-loop", "nul-byte", "/dev/null"]
UNBOUNDED = ["/dev/zero", "/dev/urandom"]  # memory eaters if read: in a capped subprocess


@pytest.mark.parametrize("kind", SPECIALS)
@pytest.mark.parametrize("how", ["file", "extends", "grid", "space"])
def test_special_files_are_refused_unread(kind: str, how: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = special(kind, tmp_path)
    if how == "file":
        if kind == "nul-byte":
            pytest.skip("an argv string cannot hold a NUL byte")
        argv = ["run", path, "--trials", "2", "--workers", "1"]
    elif how == "extends":
        child = tmp_path / "child.toml"
        child.write_text(f"extends = {json.dumps(path)}\n", encoding="utf-8")
        argv = ["run", str(child), "--trials", "2", "--workers", "1"]
    elif how == "grid":
        if kind == "nul-byte":
            pytest.skip("an argv string cannot hold a NUL byte")
        argv = ["sweep", str(SCENARIO), "--grid", path, "--trials", "2", "--workers", "1"]
    else:
        if kind == "nul-byte":
            pytest.skip("an argv string cannot hold a NUL byte")
        argv = ["tune", str(SCENARIO), "--space", path, "--minimize", "dials",
                "--storage", f"sqlite:///{tmp_path / 'study.db'}"]
    code, _, err = cli(argv, capsys)
    assert code == 2
    assert_clean(code, err, one_line=True)


@pytest.mark.parametrize("device", UNBOUNDED)
@pytest.mark.parametrize("how", ["file", "file-link", "extends", "extends-link"])
def test_endless_devices_are_refused_unread(device: str, how: str, tmp_path: Path) -> None:
    # A subprocess with 1 GiB of address space and a time-out: were the device read, the
    # test fails (MemoryError or time-out) instead of eating the CI machine's memory.
    # "-link": through a symbolic link named like a scenario, past any check of the name.
    path = device
    if how.endswith("-link"):
        link = tmp_path / "device.toml"
        link.symlink_to(device)
        path = str(link)
    if how.startswith("extends"):
        child = tmp_path / "child.toml"
        child.write_text(f"extends = {json.dumps(path)}\n", encoding="utf-8")
        path = str(child)
    cap = ("import resource, runpy, sys; "
           "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
           "sys.argv = ['rassim', 'run', sys.argv[1], '--trials', '2', '--workers', '1']; "
           "runpy.run_module('sim', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", cap, path], capture_output=True, text=True,
                          timeout=SECONDS_PER_CASE, cwd=ROOT)
    assert done.returncode == 2
    assert_clean(done.returncode, done.stderr, one_line=True)
    if how != "extends":  # that one is refused by its name already (not a .toml file)
        assert "not a regular file" in done.stderr


# --- extreme magnitudes in every duration field (found from the schema) ---------------------
MAGNITUDES = ["7d", "604800.001s", "1e300s", "1.8e308s", "1e400s", "1e-300s", "1us", "0s",
              "99999999999999999999999999d", 10**30, -1]
STOCHASTIC = {"kind": "link_outage", "mean_interval": "1h", "duration": "1s"}
DURATIONS = duration_slots()


def test_every_duration_field_is_fuzzed() -> None:
    labels = {slot.label for slot in DURATIONS}
    # What the schema holds today; new fields join on their own (this only says none went
    # missing from the walk).
    for expected in ("sender.start", "ras.connect.samples[0]", "link.warmup.decay",
                     "faults[0].mean_interval", "faults[0].duration.p95", "fleet.window",
                     "sender.policy.site_backoff", "search.durations[1]",
                     "netbt.cache_timeout"):
        assert expected in labels
    assert len(labels) >= 70


@pytest.mark.parametrize("slot", DURATIONS, ids=lambda slot: slot.label)
def test_extreme_durations_in_every_field(slot: Any, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for i, value in enumerate(MAGNITUDES):
        for siblings in (False, True):
            data = merge({"name": "extreme", "trials": 2}, slot.document(value,
                                                                         siblings=siblings))
            path = write_doc(tmp_path / f"d{i}{int(siblings)}.toml", data)
            if not load_or_clean_error(path) or value not in ("7d", "1us"):
                continue
            # Accepted at the bound: it runs, and every trial ends, a stochastic fault too.
            data["faults"] = [*data.get("faults", []), STOCHASTIC]
            write_doc(path, data)
            code, _, err = cli(["run", str(path), "--trials", "2", "--workers", "1",
                                "--json"], capsys)
            assert_clean(code, err)


# --- deep nesting ----------------------------------------------------------------------------
NESTED = {
    "arrays": "x = " + "[" * 600 + "]" * 600 + "\n",
    "inline-tables": "x = " + "{a = " * 600 + "1" + "}" * 600 + "\n",
    "dotted-keys": "a" + ".a" * 600 + " = 1\n",
    "table-header": "[" + ".".join(["a"] * 600) + "]\n",
    "in-a-known-field": "[ras]\nconnect = " + "[" * 600 + "]" * 600 + "\n",
    "samples": '[ras]\nconnect = { dist = "empirical", samples = ' + "[" * 300 + '"1s"'
               + "]" * 300 + " }\n",
}


@pytest.mark.parametrize("where", ["file", "grid", "space"])
@pytest.mark.parametrize("kind", list(NESTED))
def test_deep_nesting(kind: str, where: str, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(NESTED[kind], encoding="utf-8")
    argv = {"file": ["run", str(path), "--trials", "2", "--workers", "1"],
            "grid": ["sweep", str(SCENARIO), "--grid", str(path), "--trials", "2",
                     "--workers", "1"],
            "space": ["tune", str(SCENARIO), "--space", str(path), "--minimize", "dials",
                      "--storage", f"sqlite:///{tmp_path / 'study.db'}"]}[where]
    code, _, err = cli(argv, capsys)
    assert code == 2
    assert_clean(code, err)


def test_a_long_chain_of_parents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p0.toml").write_text('name = "root"\n', encoding="utf-8")
    for i in range(1, 60):
        (tmp_path / f"p{i}.toml").write_text(f'extends = "p{i - 1}.toml"\n', encoding="utf-8")
    code, _, err = cli(["run", str(tmp_path / "p59.toml"), "--trials", "2"], capsys)
    assert code == 2
    assert_clean(code, err, one_line=True)


def test_a_parent_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    code, _, err = cli(["run", str(tmp_path / "a.toml"), "--trials", "2"], capsys)
    assert code == 2
    assert_clean(code, err, one_line=True)


# --- markup and control characters in every text field (found from the schema) -------------
HOSTILE_TEXT = [
    "[/bold]", "[link=https://example.invalid]click[/link]", "[red]x[/red] [/]",
    "\x1b]0;retitled\x07\x1b[2J\x1b[H", "a\rb\x08c", "\u202etxt.exe", "\x9b31m",
    "x" * 2000,
]
TEXTS = text_slots()


def free_text_slots(tmp_path: Path) -> list[Any]:
    """The text slots a plain word is valid in (names, servers...), not the parsed ones."""
    kept = []
    for i, slot in enumerate(TEXTS):
        path = write_doc(tmp_path / f"plain{i}.toml",
                         merge({"trials": 2}, slot.document("plain")))
        if load_or_clean_error(path):
            kept.append(slot)
    return kept


def test_every_text_field_is_fuzzed(tmp_path: Path) -> None:
    labels = {slot.label for slot in free_text_slots(tmp_path)}
    assert {"name", "description", "sender.server", "sender.share", "sender.site",
            "sender.entry", "sender.user", "faults[0].name",
            "sender.policy.name"} <= labels


@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=lambda t: repr(t[:24]))
def test_hostile_text_in_every_field_is_inert(text: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Each field on its own: accepted, or refused cleanly (a server name has no slashes...).
    data: dict[str, Any] = {"trials": 2, "seed": 1}
    accepted = []
    for i, slot in enumerate(free_text_slots(tmp_path)):
        alone = write_doc(tmp_path / f"alone{i}.toml", merge(data, slot.document(text)))
        if load_or_clean_error(alone):
            accepted.append(slot.label)
            data = merge(data, slot.document(text))
    assert {"name", "faults[0].name"} <= set(accepted)
    # Then every field that takes it at once, through the table, the timeline and the log.
    path = write_doc(tmp_path / "hostile.toml", data)
    for argv in (["run", str(path), "--trials", "2", "--workers", "1"],
                 ["replay", str(path), "--trial", "0"],
                 ["replay", str(path), "--trial", "0", "--format", "log"],
                 ["sweep", str(path), "--grid", str(GRID), "--trials", "2", "--workers", "1"]):
        code, out, err = cli(argv, capsys)
        assert_clean(code, err)
        assert code != 2, err  # the text is valid: it must reach the table and the timeline
        assert not RAW_CONTROL.search(out + err), (argv, (out + err)[:500])
    # Markup prints as written: the run table shows the name it was given.
    code, out, _ = cli(["run", str(path), "--trials", "2", "--workers", "1"], capsys)
    if "[" in text and len(text) < 80 and not RAW_CONTROL.search(text):
        assert text in out


# --- parents outside the tree --------------------------------------------------------------
SECRET = "SECRET-d41d8cd9"
OUTSIDE_VALUES = [
    f'trials = "{SECRET}"\n', f'sender = {{ policy = "{SECRET}" }}\n',
    f'[ras]\nconnect = "{SECRET}s"\n', f'[[faults]]\nkind = "{SECRET}"\nat = "1s"\n',
    f'[link]\nlatency = {{ dist = "{SECRET}" }}\n', f'profile = "{SECRET}"\n',
    f'[sender.policy]\njitter = "{SECRET}"\n',
]


@pytest.mark.parametrize("parent", OUTSIDE_VALUES, ids=range(len(OUTSIDE_VALUES)))
@pytest.mark.parametrize("spelled", ["relative", "absolute"])
def test_a_parent_outside_the_tree_never_has_its_values_echoed(
        parent: str, spelled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere" / "base.toml"
    outside.parent.mkdir()
    outside.write_text(parent, encoding="utf-8")
    tree = tmp_path / "team" / "scenarios"
    tree.mkdir(parents=True)
    target = "../../elsewhere/base.toml" if spelled == "relative" else str(outside)
    child = tree / "child.toml"
    child.write_text(f'extends = "{target}"\nname = "child"\n', encoding="utf-8")
    code, out, err = cli(["run", str(child), "--trials", "2", "--workers", "1"], capsys)
    assert code == 2
    assert_clean(code, err)
    assert SECRET not in out + err
    assert "base.toml" in err


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/shadow", "/proc/self/environ",
                                    "../../../../../../../etc/hostname"])
def test_a_parent_that_is_no_scenario_is_refused_unquoted(
        target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{target}"\n', encoding="utf-8")
    code, out, err = cli(["run", str(child), "--trials", "2", "--workers", "1"], capsys)
    assert code == 2
    assert_clean(code, err, one_line=True)
    assert "root:" not in err and "PATH=" not in err


def test_a_valid_parent_outside_the_tree_is_read(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere" / "base.toml"
    outside.parent.mkdir()
    outside.write_text(SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    child = tmp_path / "team" / "child.toml"
    child.parent.mkdir()
    child.write_text('extends = "../elsewhere/base.toml"\nname = "child"\n', encoding="utf-8")
    code, _, err = cli(["run", str(child), "--trials", "2", "--workers", "1"], capsys)
    assert code == 0, err
