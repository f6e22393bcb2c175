"""Issue 17's cross-check: fitting the REAL stack's Sender.log recovers the lag it was given.

``rassim real tests/data/real/lag-fit.toml --log FILE`` writes the sender's Sender.log of the
real trials, stamped as ``rassim replay --format log --clock`` stamps the model's. ``rassim
fit`` on it must (1) recover the exponential lag's mean (4 s) inside its 95% bootstrap
interval and (2) give what fitting the model's own log of the same trials gives: the real
stack's log carries the same information about the lag as the model's. (The real give-ups
come 10-20 ms of model time late; ``sim.studies.fit.censor.GIVE_UP_TOLERANCE`` reads them.)
Marker ``real``. CI runs ``scenarios/real/lag-fit.toml`` among the validation scenarios with
``--log $RASSIM_REAL_LOGS/lag-fit.log`` and this test fits that log; without the variable it
makes its own run (20 trials, about 40 s).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.loader import load_scenario
from sim.studies.fit.censor import allowance, censor
from sim.studies.fit.faults import screen
from sim.studies.fit.fit import fit_lag
from sim.studies.fit.logparse import parse_log
from tests.helpers.real import NEEDS_TESTBED

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "scenarios" / "real" / "lag-fit.toml"
TRUE_MEAN = 4.0
CLOCK = "1999-03-12T10:00:00"


pytestmark = NEEDS_TESTBED


def _quiet(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(args)
    return code, out.getvalue()


def _fit(log: Path):  # type: ignore[no-untyped-def]
    parsed = parse_log(log)
    assert parsed.form == "sms" and parsed.unplaced == 0
    bounds = allowance(load_scenario(WORLD).scenario)
    screened = screen(parsed.connections, bounds)
    return screened, fit_lag(censor(screened.kept, bounds), resamples=100,
                             families=("exponential",))


def test_fitting_the_real_log_recovers_the_lag_it_was_given(tmp_path: Path) -> None:
    sim_log = tmp_path / "sim.log"
    shared = Path(os.environ.get("RASSIM_REAL_LOGS", tmp_path)) / "lag-fit.log"
    if shared.is_file():  # CI's validation run of the same scenario wrote it
        real_log = shared
    else:
        real_log = tmp_path / "real.log"
        code, out = _quiet(["real", str(WORLD), "--log", str(real_log), "--clock", CLOCK,
                            "--json"])
        report = json.loads(out)
        assert code == 0 and report["stopped"] is None, out
        assert report["agreement"]["agree"] == report["trials"] == 20
    code, out = _quiet(["replay", str(WORLD), "--trials", "0-19", "--seed", "1", "--format",
                        "log", "--clock", CLOCK])
    assert code == 0
    sim_log.write_text(out, encoding="utf-8")
    # rassim fit itself reads the real log and writes a scenario that runs.
    code, out = _quiet(["fit", str(real_log), "--scenario", str(WORLD), "--out",
                        str(tmp_path / "site.toml"), "--resamples", "50"])
    assert code == 0 and "every line placed" in out, out
    real_screened, real = _fit(real_log)
    _, sim = _fit(sim_log)
    assert len(real_screened.kept) == 20  # no real give-up misread as a fault
    low, high = real.intervals["mean"]
    assert low <= TRUE_MEAN <= high, (low, high)
    # The same information as the model's log: the same cells, so the same fit (stamps
    # differ by the real run's jitter, a few ms, which moves the estimate by far less).
    assert real.censored.used == sim.censored.used
    assert real.chosen.estimates["mean"] == pytest.approx(sim.chosen.estimates["mean"],
                                                           rel=0.01)
    assert (low, high) == pytest.approx(sim.intervals["mean"], rel=0.02)
