"""Readings rendered through field-set templates (collectors/reading_lines.py) give exactly the
lines of ``tagging.render``, and refuse exactly what it refuses, whatever the values and names."""

from __future__ import annotations

import math

import pytest
from helpers import every_kind_park
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.reading_lines import ReadingLines
from collectors.tagging import render, series_keys
from parktwin.contract.reading import Reading

PARK = every_kind_park("rl")
KEYS = series_keys(PARK)
ARRIVAL_KEYS = series_keys(PARK, {"ts_source": "arrival"})
DEVICES = sorted(KEYS)
# The text strategies are slow to draw on a loaded machine: not a fault of the code under test.
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["energy_kwh", "power_kw", "occupancy_people", "a b", "a,b", "a=b", "100%", "%r", "é"]


def templated(readings: list[Reading], renderer: ReadingLines | None = None) -> list[str]:
    lines: list[str] = []
    (renderer or ReadingLines(KEYS, ARRIVAL_KEYS)).extend(lines, readings)
    return lines


def outcome(make: object) -> tuple[list[str], str]:
    """The lines a renderer gives, or the type of what it raises."""
    try:
        return make(), ""  # type: ignore[operator]
    except (ValueError, KeyError, TypeError) as exc:
        return [], type(exc).__name__


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.sampled_from([0.0, -0.0, 1e16, 1e-7, 0.1 + 0.2, 5e-324, 1.7976931348623157e308]),
    st.text(max_size=5),
)
readings = st.builds(
    Reading,
    st.sampled_from(DEVICES),
    st.integers(min_value=0, max_value=2**53),
    st.dictionaries(st.sampled_from(NAMES), values, max_size=4),
    st.none(),
    st.booleans(),
)


@EXAMPLES
@given(st.lists(readings, max_size=6))
def test_same_lines_or_same_refusal_as_render(batch: list[Reading]) -> None:
    assert outcome(lambda: templated(batch)) == outcome(lambda: render(KEYS, batch, ARRIVAL_KEYS))


@EXAMPLES
@given(st.lists(st.lists(readings, max_size=4), max_size=5))
def test_templates_kept_between_calls_change_nothing(batches: list[list[Reading]]) -> None:
    renderer = ReadingLines(KEYS, ARRIVAL_KEYS)
    for batch in batches:
        assert outcome(lambda b=batch: templated(b, renderer)) == outcome(
            lambda b=batch: render(KEYS, b, ARRIVAL_KEYS)
        )


def test_usual_readings_are_one_formatted_line_each() -> None:
    batch = [
        Reading("fab-em", 1_767_225_600_000, {"energy_kwh": 10.0, "power_kw": 0.1 + 0.2}),
        Reading("fab-em", 1_767_225_600_001, {"power_kw": 1e16}, None, True),
    ]
    assert templated(batch) == render(KEYS, batch, ARRIVAL_KEYS)
    assert templated(batch)[1].startswith(ARRIVAL_KEYS["fab-em"] + " power_kw=1e+16 ")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_value_line_protocol_cannot_hold_is_refused_as_render_refuses_it(bad: float) -> None:
    batch = [Reading("fab-em", 1, {"energy_kwh": bad})]
    with pytest.raises(ValueError, match="not finite"):
        templated(batch)


def test_an_integer_keeps_its_integer_field() -> None:
    batch = [Reading("fab-em", 1, {"energy_kwh": 3})]  # type: ignore[dict-item]
    assert templated(batch) == [f"{KEYS['fab-em']} energy_kwh=3i 1"]
