"""A tick's outputs made from the snapshot's arrays are the outputs of its JSON form.

The twin service no longer makes the snapshot's JSON form every tick: the KPI summary and the
KPI points come from the snapshot (``outputs_dict`` and its arrays), only the points that
changed are written between the full sets of each event-time minute, and the state the HTTP
API shows is made when first asked. Each test holds one of these to the path it replaced.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest
from helpers import day_batches, day_park, steady, tariff_park
from hypothesis import given, settings
from hypothesis import strategies as st

from parktwin.contract.reading import Reading
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from simulators.park import ParkSimulator
from twin.model.columns import RowTable
from twin.service.float_texts import repr_rows
from twin.service.kpi_changes import ChangedPoints
from twin.service.kpi_lines import KpiLines, kpi_lines, missing_patterns
from twin.service.tick_outputs import TickOutputs
from twin.service.tick_state import JSON_OPTIONS, TickState
from twin.state.cost_report import CostTable, MeterCosts
from twin.state.snapshot import PlaceTable, TwinSnapshot, plain
from twin.state.summary import SummaryOfSnapshots, kpi_summary
from twin.state.twin import Twin

MINUTE_MS = 60_000


def day_snapshots() -> Iterator[tuple[Park, TwinSnapshot]]:
    """The day park's snapshot after each batch of its day, the first before any reading."""
    park = day_park()
    twin = Twin(park)
    yield park, twin.snapshot()
    for batch in day_batches():
        twin.ingest(batch)
        yield park, twin.snapshot()


def tariff_snapshots() -> Iterator[tuple[Park, TwinSnapshot]]:
    """A park with tariffs through a morning, hour by hour (costs in every period)."""
    park = tariff_park()
    twin = Twin(park)
    readings = [
        *steady("m-plant", "energy_kwh", 10, "2026-10-13T00:00", "2026-10-13T09:00"),
        *steady("gas-1", "gas_m3", 2, "2026-10-13T00:00", "2026-10-13T09:00"),
        *steady("main", "energy_import_kwh", 30, "2026-10-13T00:00", "2026-10-13T09:00"),
    ]
    readings.sort(key=lambda r: r.ts_ms)
    for hour in range(0, len(readings), 12):
        twin.ingest(readings[hour : hour + 12])
        yield park, twin.snapshot()


def every_snapshot() -> Iterator[tuple[Park, TwinSnapshot]]:
    yield from day_snapshots()
    yield from tariff_snapshots()


# -- floats as text ---------------------------------------------------------------------------


def test_floats_written_at_once_are_their_reprs_across_magnitudes() -> None:
    rng = np.random.default_rng(7)
    magnitudes = 10.0 ** rng.integers(-4, 16, 20_000)
    values = rng.uniform(1, 10, 20_000) * magnitudes
    values = values[(values >= 1e-4) & (values < 1e16)]
    edges = [0.0, -0.0, 1e-4, 1.0, 100.0, 0.1, 1 / 3, 2**53, 9999999999999998.0, 123456.789]
    values = np.concatenate([values, -values, np.round(values, 2), edges, np.negative(edges)])
    values = values[: len(values) // 6 * 6].reshape(-1, 6)
    rows = repr_rows(values)
    assert rows is not None
    assert rows == [tuple(map(repr, row)) for row in values.tolist()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=12))
def test_any_finite_floats_are_written_as_repr_or_left_to_repr(numbers: list[float]) -> None:
    rows = repr_rows(np.array([numbers], dtype=np.float64))
    if rows is not None:
        assert rows == [tuple(map(repr, numbers))]
    else:  # only a number repr writes with an exponent is left to it
        assert any(n != 0 and not 1e-4 <= abs(n) < 1e16 for n in numbers)


@pytest.mark.parametrize("odd", [1e-5, -3e-7, 1e16, -2.5e20, 5e-324, math.nan, math.inf])
def test_a_column_with_a_number_repr_writes_with_an_exponent_is_left_to_repr(odd: float) -> None:
    assert repr_rows(np.array([[1.0, odd], [2.0, 3.0]])) is None


def test_tables_of_no_rows_or_no_columns_have_no_texts() -> None:
    assert repr_rows(np.zeros((0, 3))) == []
    assert repr_rows(np.zeros((2, 0))) == [(), ()]


def test_one_column_and_a_view_of_another_order_are_written_row_by_row() -> None:
    assert repr_rows(np.array([[1.5], [2.0], [-0.0]])) == [("1.5",), ("2.0",), ("-0.0",)]
    table = np.array([[1.0, 2.5, 3.25], [4.0, 5.5, 0.1]])
    assert repr_rows(table.T) == [tuple(map(repr, row)) for row in table.T.tolist()]


# -- the summary and the points without the JSON form ------------------------------------------


def test_the_summary_from_the_snapshots_arrays_is_the_summary_of_its_json_form() -> None:
    summaries: dict[str, SummaryOfSnapshots] = {}
    for park, snapshot in every_snapshot():
        of_snapshots = summaries.setdefault(park.park.id, SummaryOfSnapshots(park))
        expected = kpi_summary(park, snapshot.to_dict())
        assert of_snapshots(snapshot, snapshot.outputs_dict()) == expected
        # The same text, key order included (the retained topic's payload).
        assert orjson.dumps(of_snapshots(snapshot, snapshot.outputs_dict())) == orjson.dumps(
            expected
        )


def test_the_summary_leaves_out_power_not_read_or_not_a_number() -> None:
    park = day_park()
    twin = Twin(park)
    first = day_batches()[0]
    twin.ingest([r for r in first if r.device_id != "grid"])
    snapshot = twin.snapshot()
    summary = SummaryOfSnapshots(park)(snapshot, snapshot.outputs_dict())
    assert summary == kpi_summary(park, snapshot.to_dict())
    assert summary["grid_power_kw"] is None
    channels = snapshot.channels
    channels.all_values[channels.seen] = math.nan  # every latest value unknown
    assert SummaryOfSnapshots(park)(snapshot, snapshot.outputs_dict())["pv_power_kw"] is None


def tables_as_rows(value: Any) -> Any:
    """The outputs' form with its tables made into their rows: the JSON form."""
    if isinstance(value, PlaceTable | CostTable):
        return value.rows()
    if isinstance(value, RowTable):
        return value.rows(plain)
    if isinstance(value, MeterCosts):
        return plain(value)
    if isinstance(value, dict):
        return {k: tables_as_rows(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tables_as_rows(v) for v in value]
    return value


def test_the_outputs_form_is_the_json_form_less_the_columns() -> None:
    for _, snapshot in every_snapshot():
        full, outputs = snapshot.to_dict(), snapshot.outputs_dict()
        assert set(full) - set(outputs) == {"devices", "channels", "flows"}
        assert tables_as_rows(outputs) == {k: v for k, v in full.items() if k in outputs}


def test_occupancy_points_from_the_columns_are_the_points_of_the_rows() -> None:
    """Buildings with and without people counters online (missing numbers), a number that is
    not finite, and a column the columns' path does not take (the rows' path then)."""
    park, snapshot = list(day_snapshots())[-1]
    assert snapshot.occupancy is not None
    columns = snapshot.occupancy.buildings.columns
    assert None in columns[3]  # persons: a building without a counter online
    expected = kpi_lines(park, snapshot, snapshot.to_dict())
    assert sum(line.startswith("twin_occupancy,") for line in expected) == len(columns[0])
    assert KpiLines(park)(snapshot) == expected
    columns[6][0] = math.inf  # electricity_kwh_day: left out, as the JSON form's None is
    columns[5][-1] = 7  # an int where a float was: written as a float
    expected = kpi_lines(park, snapshot, snapshot.to_dict())
    assert KpiLines(park)(snapshot) == expected
    columns[2][0] = True  # a flag: written as a flag, by the rows' path
    expected = kpi_lines(park, snapshot, snapshot.to_dict())
    assert any("capacity_persons=true" in line for line in expected)
    assert KpiLines(park)(snapshot) == expected


@pytest.mark.parametrize(
    ("rows", "columns", "share"),
    [(0, 9, 0.5), (1, 9, 0.0), (500, 9, 0.3), (500, 9, 1.0), (200, 62, 0.1), (50, 70, 0.5)],
)
def test_missing_patterns_are_numpys_unique_rows(rows: int, columns: int, share: float) -> None:
    """Every row's pattern is the row itself, and the patterns are numpy's distinct rows (in
    any order): so each occupancy row gets the fields of its own pattern."""
    missing = np.random.default_rng(rows + columns).random((rows, columns)) < share
    patterns, inverse = missing_patterns(missing)
    assert inverse.shape == (rows,)
    assert (patterns[inverse] == missing).all()
    expected = np.unique(missing, axis=0)
    assert sorted(map(tuple, patterns.tolist())) == sorted(map(tuple, expected.tolist()))


def test_kpi_points_from_the_snapshots_arrays_are_the_points_of_its_json_form() -> None:
    kept: dict[str, KpiLines] = {}
    for park, snapshot in every_snapshot():
        lines = kept.setdefault(park.park.id, KpiLines(park))
        expected = kpi_lines(park, snapshot, snapshot.to_dict())
        assert lines(snapshot) == expected
        assert lines(snapshot, snapshot.outputs_dict()) == expected
        stamp = f" {snapshot.watermark_ms}"
        assert [b + stamp for b in lines.bodies(snapshot)] == expected


def test_kpi_points_with_numbers_repr_writes_with_exponents_are_the_points_of_the_rows() -> None:
    park, snapshot = list(tariff_snapshots())[-1]
    assert snapshot.costs is not None
    snapshot.periods["day"].buildings.values[0, 0] = 1.25e-7
    snapshot.periods["month"].zones.values[-1, 2] = 3.5e17
    snapshot.costs.periods["day"].buildings.values[0, 0] = 4e-9
    state = snapshot.to_dict()
    lines = KpiLines(park)(snapshot)
    assert lines == kpi_lines(park, snapshot, state)
    assert any("=1.25e-07," in line for line in lines)
    assert any("=4e-09," in line for line in lines)


def test_place_rows_unchanged_since_the_last_tick_keep_their_text_and_changed_ones_are_new() -> (
    None
):
    park, snapshot = list(tariff_snapshots())[-1]
    assert snapshot.costs is not None
    lines = KpiLines(park)
    assert lines(snapshot) == kpi_lines(park, snapshot, snapshot.to_dict())
    day = snapshot.periods["day"].buildings.values
    zero = np.flatnonzero(day[0] == 0.0)[0]
    day[0, zero] = -0.0  # equal as a number, another text: a change
    day[-1, 0] += 1.0
    snapshot.costs.periods["month"].zones.values[0, 0] += 2.0
    expected = kpi_lines(park, snapshot, snapshot.to_dict())
    assert lines(snapshot) == expected
    assert any("=-0.0" in line for line in expected)
    assert lines(snapshot) == expected  # nothing changed since


def test_the_demo_parks_outputs_across_midnight_are_those_of_its_json_form() -> None:
    """The bundled demo park (its tariff, Sparkplug and mapped devices, every kind) fed by its
    simulator, half an hour a tick from 23:00 to 01:00 local time."""
    park = load_park(demo_park_path())
    local = datetime(2026, 3, 2, 23, 0, tzinfo=ZoneInfo(park.park.timezone))
    start = int(local.timestamp() * 1000)
    simulator, twin, outputs = ParkSimulator(park, 1, start), Twin(park), TickOutputs(park)
    for k in range(1, 5):
        twin.ingest(list(simulator.advance(start + k * 1_800_000)))
        snapshot = twin.snapshot()
        state = snapshot.to_dict()
        output = outputs(snapshot, {})
        assert output.lines == kpi_lines(park, snapshot, state)  # a new minute: the full set
        summary = kpi_summary(park, state)
        assert output.summary_json == orjson.dumps(summary, option=orjson.OPT_NON_STR_KEYS)
        state["kpis"] = summary
        state["devices"]["sequence_missing"] = [0] * len(state["devices"]["ids"])
        assert output.state.state() == state
    assert snapshot.costs is not None


# -- only the points that changed ---------------------------------------------------------------

SERIES = re.compile(r"^((?:[^ \\]|\\.)*) ")


def by_series(lines: list[str]) -> dict[str, str]:
    """Each point's fields and timestamp by its series key."""
    found = {}
    for line in lines:
        match = SERIES.match(line)
        assert match is not None
        found[match.group(1)] = line[match.end() :]
    return found


def fields_only(points: dict[str, str]) -> dict[str, str]:
    return {key: rest.rsplit(" ", 1)[0] for key, rest in points.items()}


@pytest.mark.parametrize("full_every_ms", [MINUTE_MS, 366 * 24 * 60 * MINUTE_MS])
def test_the_changed_points_written_tick_after_tick_add_up_to_every_ticks_full_set(
    full_every_ms: int,
) -> None:
    """What InfluxDB holds after each tick (the latest point of every series) is what the full
    set of that tick says, and the first tick of every period (an event-time minute in the
    service; here also a year, so that the day's ticks write only changes) writes the full set."""
    for snapshots in (day_snapshots(), tariff_snapshots()):
        changed = ChangedPoints(full_every_ms)
        deltas = 0
        stored: dict[str, str] = {}
        lines: KpiLines | None = None
        last_minute = None
        for park, snapshot in snapshots:
            lines = lines or KpiLines(park)
            if snapshot.watermark_ms is None:
                continue
            full = lines(snapshot)
            written = changed(lines.bodies(snapshot), snapshot.watermark_ms)
            assert set(written) <= set(full)
            minute = snapshot.watermark_ms // full_every_ms
            if minute != last_minute:
                assert written == full
            else:
                deltas += len(written) < len(full)
            last_minute = minute
            stored |= by_series(written)
            # Series of past hours (their hour_of_day tag) stay as they were last written.
            now = fields_only(by_series(full))
            assert {key: fields_only(stored)[key] for key in now} == now
        assert deltas or full_every_ms == MINUTE_MS


def test_ticks_within_a_minute_write_only_the_points_that_changed() -> None:
    park = day_park()
    twin = Twin(park)
    batches = day_batches()
    for batch in batches[:3]:
        twin.ingest(batch)
    lines, changed = KpiLines(park), ChangedPoints()
    first = twin.snapshot()
    assert first.watermark_ms is not None
    assert changed(lines.bodies(first), first.watermark_ms) == lines(first)
    # The same state a tick later (no reading since): nothing new to write.
    assert changed(lines.bodies(first), first.watermark_ms) == []
    # A reading inside the same minute: its meter's place points and the park's change.
    at = first.watermark_ms + 1_000
    assert at // MINUTE_MS == first.watermark_ms // MINUTE_MS
    twin.ingest([Reading("m_fab", at, {"energy_kwh": 2_500.0})])
    second = twin.snapshot()
    written = changed(lines.bodies(second), at)
    full = lines(second)
    assert 0 < len(written) < len(full)
    assert set(written) <= set(full)
    assert any(line.startswith("twin_balance,") for line in written)
    assert not any(line.startswith("twin_devices,") for line in written)  # statuses the same


def test_after_a_failed_write_the_next_tick_writes_the_full_set() -> None:
    park, snapshot = next(s for s in day_snapshots() if s[1].watermark_ms is not None)
    assert snapshot.watermark_ms is not None
    lines, changed = KpiLines(park), ChangedPoints()
    bodies = lines.bodies(snapshot)
    changed(bodies, snapshot.watermark_ms)
    assert changed(bodies, snapshot.watermark_ms) == []
    changed.forget()
    assert changed(bodies, snapshot.watermark_ms) == lines(snapshot)


# -- the state the HTTP API shows ------------------------------------------------------------


def test_the_state_made_on_request_is_the_state_each_tick_used_to_make() -> None:
    for park, snapshot in every_snapshot():
        summary = SummaryOfSnapshots(park)(snapshot, snapshot.outputs_dict())
        ids = snapshot.devices.ids
        missing = {ids[-1]: 3} if ids else {}
        tick = TickState(snapshot, summary, missing)
        expected = snapshot.to_dict()
        expected["kpis"] = kpi_summary(park, expected)
        expected["devices"]["sequence_missing"] = [missing.get(i, 0) for i in ids]
        assert tick.state() == expected
        assert tick.state() is tick.state()  # made once a tick
        assert tick.body() == orjson.dumps(expected, option=JSON_OPTIONS)
        for section in ("kpis", "enterprises", "costs", "nothing"):
            assert tick.body(section) == orjson.dumps(expected.get(section), option=JSON_OPTIONS)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
