"""The shared formatters (sim.report.format): the exact strings tables and plots show."""

from __future__ import annotations

import pytest

from sim.report.format import number, percent, percent_of, percent_short, points, seconds


@pytest.mark.parametrize(("text", "expected"), [
    (percent(0.12345), "12.35%"), (percent(None), "-"), (percent(0.5, 0), "50%"),
    (percent(0.12345, sign=False), "12.35"), (seconds(12.345), "12.3s"),
    (seconds(None), "-"), (seconds(2.25, unit=False), "2.2"), (number(1.235), "1.24"),
    (number(None), "-"), (number(1.5, 3), "1.500"), (points(-0.155), "-15.50"),
    (points(0.0), "+0.00"), (percent_short(0.5), "50.0%"), (percent_short(0.9996), "99.96%"),
    (percent_short(0.99999), "99.999%"), (percent_short(1.0), "100.0%"),
    (percent_of(1)(0.256, None), "25.6%"),
])
def test_exact_text(text: str, expected: str) -> None:
    assert text == expected
