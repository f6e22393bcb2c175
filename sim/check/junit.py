"""JUnit XML for ``rassim check --junit FILE``: one test case per expectation.

Layout: one ``<testsuite>`` per scenario file (named after it, with its trial count, seed
and policy as properties), one ``<testcase>`` per expectation (``classname`` ``rassim.<file
stem>``, ``name`` the statistic and bound). A case that is not demonstrated carries a
``<failure>`` whose ``type`` is ``violated`` or ``not-demonstrated`` and whose text is the
check line plus the replay command. The run's time is shared equally among a file's cases,
so a report's total time is the real one. The file is written to a temporary file and
renamed into place, so CI never reads half a report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from sim.check.check import ScenarioCheck
from sim.report.atomic import check_writable, write_atomic

__all__ = ["check_junit_path", "junit_xml", "write_junit"]


def check_junit_path(path: Path) -> None:
    """``OutputError`` unless ``path`` can be written (checked before any trial runs)."""
    check_writable(path, "--junit")


def junit_xml(checks: list[ScenarioCheck]) -> bytes:
    """The report as UTF-8 XML bytes (deterministic apart from the times)."""
    root = ET.Element("testsuites", name="rassim check")
    total = failures = 0
    total_time = 0.0
    for check in checks:
        target = check.target
        shown = str(target.path)
        failed = sum(1 for v in check.verdicts if not v.passed)
        suite = ET.SubElement(root, "testsuite", name=target.name,
                              tests=str(len(check.verdicts)), failures=str(failed),
                              errors="0", skipped="0", time=f"{check.elapsed:.3f}",
                              file=shown)
        properties = ET.SubElement(suite, "properties")
        for key, value in (("trials", check.summary.trials), ("seed", target.seed),
                           ("policy", target.loaded.policy.name),
                           ("scenario_sha256", target.loaded.sha256)):
            ET.SubElement(properties, "property", name=key, value=str(value))
        share = check.elapsed / max(1, len(check.verdicts))
        hint = check.replay_hint(shown)
        for verdict, line in zip(check.verdicts, check.lines(), strict=True):
            case = ET.SubElement(suite, "testcase", classname=f"rassim.{target.name}",
                                 name=f"{verdict.statistic} {verdict.bound.text}",
                                 file=shown, time=f"{share:.3f}")
            if not verdict.passed:
                failure = ET.SubElement(case, "failure", message=line,
                                        type=verdict.status.replace(" ", "-"))
                failure.text = line + (f"\n{hint}" if hint else "")
            ET.SubElement(case, "system-out").text = line
        total += len(check.verdicts)
        failures += failed
        total_time += check.elapsed
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_junit(path: Path, checks: list[ScenarioCheck]) -> None:
    """Write the report atomically: a temporary file beside ``path``, then a rename."""
    write_atomic(path, junit_xml(checks), "--junit")
