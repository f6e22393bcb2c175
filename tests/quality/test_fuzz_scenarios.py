"""Hostile and broken scenario files: every one loads or fails with the documented error.

Over 1,000 generated documents per run (random TOML, and the shipped scenarios with fields
deleted, retyped, negated, set to huge or NaN values, given unknown keys, wrong units,
broken distributions or bad policy tables, or with their text damaged), plus the CLI on a
sample of them. Every document must end in a valid scenario or a ``ScenarioError`` (exit 2
on the CLI): zero tracebacks, and each bounded in time.
"""

from __future__ import annotations

import json
import math
import signal
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
