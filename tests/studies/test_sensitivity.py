"""``rassim sensitivity``: ranges validated before any trial, common random numbers across
sample points, SALib's indices with intervals, the table and the picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.loader import ScenarioError, load_scenario
from sim.studies.sensitivity import parse_ranges, read_ranges, sensitivity

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"


@pytest.mark.parametrize(("params", "message"), [
    ("link.latency.median=2s:1s", "empty range"),
    ("link.latency.median=1s:1s", "empty range"),
    ("netbt.name_query_count=0:3", "netbt.name_query_count = 0"),
    ("ras.connect_failure.rate=0:1.5", "ras.connect_failure.rate = 1.5"),
    ("link.latency.spread=0.5:2", "link.latency.spread = 0.5"),
    ("no.such.knob=1s:2s", "unknown parameter 'no.such.knob'"),
    ("link.latency.median=300:2s", "not a duration"),
    ("link.latency.median", "write NAME=LOW:HIGH"),
])
def test_bad_ranges_exit_2_with_one_line(params: str, message: str,
                                         capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    plot = tmp_path / "s.png"
    assert main(["sensitivity", str(UNPATCHED), "--params",
                 f"{params},name_path.lag.median=1s:2s", "--trials", "5", "--samples", "2",
                 "--plot", str(plot)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not plot.exists()


def test_ranges_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "ranges.toml"
    path.write_text('[params]\n"link.latency.median" = ["300ms", "2s"]\n'
                    '"netbt.name_query_count" = ["2", "5"]\n', encoding="utf-8")
    assert read_ranges(path) == {"link.latency.median": (0.3, 2.0),
                                 "netbt.name_query_count": (2.0, 5.0)}
    path.write_text('[params]\n"link.latency.median" = "300ms"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="params.link.latency.median"):
        read_ranges(path)


def test_common_seeds_make_a_knob_without_effect_exactly_zero() -> None:
    # A connect failure rate below 1e-4 fails none of 60 dials: with the same seeds at every
    # point, the runs are identical and the knob's elementary effects are exactly 0, while
    # the lag's are not. Independent seeds per point would give it noise instead.
    loaded = load_scenario(UNPATCHED)
    ranges = parse_ranges("ras.connect_failure.rate=0:0.0001,name_path.lag.median=300ms:5s")
    result = sensitivity(loaded, ranges, samples=4, trials=60)
    for output in ("success rate", "53 rate"):
        assert result.indices[output]["ras.connect_failure.rate"] == (0.0, 0.0)
        assert result.indices[output]["name_path.lag.median"][0] > 0.05
    again = sensitivity(loaded, ranges, samples=4, trials=60)
    assert again == result  # deterministic: same scenario, seed and ranges


def test_sobol_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "sensitivity.png"
    assert main(["sensitivity", str(UNPATCHED), "--method", "sobol", "--samples", "8",
                 "--trials", "40", "--params",
                 "name_path.lag.median=300ms:5s,link.latency.spread=1.5:4", "--plot",
                 str(plot)]) == 0
    out = capsys.readouterr().out
    assert "sobol: 32 points x 40 trials" in out and "success ST" in out
    lines = [line for line in out.splitlines() if line.startswith(("name_path", "link"))]
    assert lines[0].startswith("name_path.lag.median")  # the lag moves 53 far more
    assert plot.stat().st_size > 10_000


def test_outage_knobs_add_an_outage_or_vary_the_scenarios() -> None:
    from sim.studies.sensitivity import ADDED_OUTAGE, PARAMETERS

    loaded = load_scenario(UNPATCHED)
    assert not loaded.scenario.faults
    set_interval = PARAMETERS["faults.link_outage.mean_interval"].set
    scenario, _ = set_interval(loaded.scenario, loaded.policy, 600.0)
    (fault,) = scenario.faults
    assert (fault.kind, fault.name, fault.mean_interval) == ("link_outage",
                                                             ADDED_OUTAGE["name"], 600.0)
    assert fault.duration is not None and fault.duration.describe() == "exponential(mean 30s)"
    # Varying the duration of the outage the scenario now has keeps its interval.
    scenario, _ = PARAMETERS["faults.link_outage.duration"].set(scenario, loaded.policy, 90.0)
    (fault,) = scenario.faults
    assert fault.mean_interval == 600.0 and fault.duration is not None
    assert fault.duration.describe() == "exponential(mean 90s)"
    with pytest.raises(ScenarioError, match="faults.link_outage.mean_interval = 0.5"):
        set_interval(loaded.scenario, loaded.policy, 0.5)


def test_outages_and_phase_knobs_move_the_answer() -> None:
    # Outages every 2 minutes, lasting 5 minutes, fail most connections; every 10 hours,
    # almost none. The knob's effect is large and exact on common seeds.
    loaded = load_scenario(UNPATCHED)
    ranges = parse_ranges("faults.link_outage.mean_interval=2m:10h,"
                          "ras.authenticate.spread=1.5:3,faults.link_outage.duration=5m:6m")
    result = sensitivity(loaded, ranges, samples=3, trials=40)
    success = result.indices["success rate"]
    assert success["faults.link_outage.mean_interval"][0] > 0.1
    assert success["faults.link_outage.mean_interval"][0] > success["ras.authenticate.spread"][0]
