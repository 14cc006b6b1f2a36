"""The tick's shortcuts give what the general paths give, to the last bit.

Each shortcut serves the usual case (one reading a device, every interval inside the current
hour, numbers that are all floats, columns made into lists only when read); each test feeds
the shortcut and the general path the same input and asks for identical results. The same for
the service's KPI points, whose series keys and field templates are kept from tick to tick.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from helpers import day_batches, day_park, day_snapshot, small_park
from hypothesis import given, settings
from hypothesis import strategies as st

from parktwin.contract.reading import Reading
from parktwin.influx.lineprotocol import format_fields
from parktwin.park.twin import Retention
from parktwin.periods import GRANULARITIES, Calendar, Granularity, split
from twin.indicators.enterprises import financials, park_financials
from twin.model.counters import NEVER, advance_grouped, advance_once_each, series_steps
from twin.model.inputs import parse_monthly_inputs
from twin.model.ledger import Ledger, oldest_kept
from twin.model.topology import Flow, Level
from twin.service.kpi_lines import KpiLines, kpi_lines, numeric_fields
from twin.state.snapshot import TwinSnapshot, plain
from twin.state.twin import Twin, all_values, as_numbers, flatten, per_flow, values_as_numbers

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def snap() -> TwinSnapshot:
    return day_snapshot()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 40))
def test_a_batch_that_reads_each_channel_once_advances_as_the_grouped_path(
    seed: int, size: int
) -> None:
    rng = np.random.default_rng(seed)
    channels = 50
    last_ts = np.where(rng.random(channels) < 0.2, NEVER, rng.integers(0, 10, channels))
    last_value = rng.random(channels)
    channel = rng.permutation(channels)[:size].astype(np.int64)
    ts_ms = rng.integers(0, 12, size).astype(np.int64)
    value = rng.random(size)
    fast = advance_once_each(channel, ts_ms, value, last_ts, last_value)
    grouped = advance_grouped(channel, ts_ms, value, last_ts, last_value)
    # The shortcut keeps arrival order, the grouped path channel order: the same values.
    order = np.argsort(fast.channel)
    for name in ("channel", "ts_ms", "value", "prev_ts_ms", "prev_value", "is_last", "is_first"):
        assert np.array_equal(getattr(fast, name)[order], getattr(grouped, name)), name
    assert (fast.duplicates, fast.out_of_order) == (grouped.duplicates, grouped.out_of_order)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31))
def test_amounts_inside_one_period_add_up_as_split_pieces_do(seed: int) -> None:
    rng = np.random.default_rng(seed)
    calendar = Calendar(ZoneInfo("Asia/Shanghai"))
    hour = calendar.start_of(GRANULARITIES[0], 1_709_600_000_000)
    t0 = hour + rng.integers(0, 1_800_000, 30)
    t1 = t0 + rng.integers(1, 1_800_000, 30)
    flow = rng.integers(0, 7, 30)
    amount = rng.random(30) * 10
    whole, pieces = Ledger(8), Ledger(8)
    for granularity in GRANULARITIES:
        bounds = calendar.boundaries(granularity, int(t0.min()), int(t1.max()))
        assert len(bounds) == 2
        whole.add_totals(granularity, int(bounds[0]), per_flow(flow, amount, 8))
        pieces.add(granularity, split(bounds, t0, t1, amount), flow)
        pieces.add(granularity, split(bounds, t0, t1, amount), flow)
        whole.add_totals(granularity, int(bounds[0]), per_flow(flow, amount, 8))
    for granularity in GRANULARITIES:
        assert whole.periods[granularity].keys() == pieces.periods[granularity].keys()
        for start, totals in whole.periods[granularity].items():
            assert np.array_equal(totals, pieces.periods[granularity][start])


def test_the_twins_known_periods_give_the_calendars_boundaries() -> None:
    twin = Twin(small_park())
    twin.calendar = Calendar(BERLIN)  # a day of 23 hours: 2024-03-31
    start = int(datetime(2024, 3, 30, 22, tzinfo=BERLIN).timestamp() * 1000)
    rng = np.random.default_rng(3)
    lo = start
    for _ in range(300):
        hi = lo + int(rng.integers(1, 40 * 60_000))
        for granularity in GRANULARITIES:
            expected = twin.calendar.boundaries(granularity, lo, hi)
            assert np.array_equal(twin._boundaries(granularity, lo, hi), expected)
        lo = hi - int(rng.integers(0, 30 * 60_000))


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.5, 3],
        [1.0, True, 2.0],
        [1.0, "2.5", 3.0],
        [1.0, "text", 3.0],
        [None, 1.0],
        [float("nan"), float("inf"), 1.0],
    ],
)
def test_values_convert_in_one_pass_as_from_a_list(values: list[object]) -> None:
    quantities = [{"a": values[0]}, {f"q{i}": v for i, v in enumerate(values[1:])}]
    fast = values_as_numbers(quantities, len(values))
    listed = as_numbers(list(all_values(quantities)))
    assert np.array_equal(fast, listed, equal_nan=True)


def test_place_column_totals_are_the_totals_column() -> None:
    twin = Twin(day_park())
    rng = np.random.default_rng(5)
    rows = [rng.random(len(twin.topology.flow_keys)) * 100 for _ in range(4)]
    for level in Level:
        places = twin.topology.places[level]
        for kind in (Flow.PERSON_H, Flow.ELECTRICITY_KWH, Flow.GAS_M3):
            together = places.column_totals(rows, kind)
            for row, column in zip(rows, together, strict=True):
                assert np.array_equal(column, places.totals(row)[:, kind])


def test_park_financials_are_each_enterprises_financials() -> None:
    months = ["2024-01", "2024-02", "2024-03"]
    reported = parse_monthly_inputs(
        b'{"month": "2024-02", "financials": {"e_lab": {"tax_10k_yuan": 4}, "acme": {}}}'
    )
    for park in (day_park(), small_park()):
        for inputs in ({}, {"2024-02": reported}):
            found = park_financials(park.enterprises, 2024, months, park.twin, inputs)
            assert found == [
                financials(e.id, 2024, months, park.twin, inputs, e.employees)
                for e in park.enterprises
            ]


def test_columns_made_on_demand_are_the_json_form(snap: TwinSnapshot) -> None:
    state = snap.to_dict()
    devices, channels, flows = state["devices"], state["channels"], state["flows"]
    assert devices["ids"] == snap.devices.ids and devices["status"] == snap.devices.status
    assert devices["kinds"] == snap.devices.kinds
    assert devices["last_seen_ms"] == snap.devices.last_seen_ms
    assert devices["counter_resets"] == snap.devices.counter_resets
    assert channels == {
        "keys": snap.channels.keys,
        "value": snap.channels.value,
        "ts_ms": snap.channels.ts_ms,
    }
    for period in ("hour", "day", "month", "year"):
        assert flows[period] == getattr(snap.flows, period)
    i = devices["ids"].index("m_lab")
    assert snap.devices.row("m_lab") == {
        "id": "m_lab",
        "kind": devices["kinds"][i],
        "status": devices["status"][i],
        "last_seen_ms": devices["last_seen_ms"][i],
        "counter_resets": devices["counter_resets"][i],
    }


def test_rows_kept_as_columns_serialise_as_the_rows_do(snap: TwinSnapshot) -> None:
    state = snap.to_dict()
    assert snap.occupancy is not None and snap.enterprises is not None
    buildings = list(snap.occupancy.buildings)
    assert len(buildings) == len(snap.occupancy.buildings) == 3
    assert buildings[1] == snap.occupancy.buildings[1]
    assert state["occupancy"]["buildings"] == [plain(row) for row in buildings]
    results = list(snap.enterprises.enterprises)
    assert state["enterprises"]["enterprises"] == [plain(row) for row in results]
    assert {r.enterprise for r in results} == {"e_fab", "e_lab"}


def test_each_value_goes_to_its_own_quantitys_channel_whatever_the_names_order() -> None:
    park = small_park()
    twin = Twin(park)
    topology = twin.topology
    readings = [
        Reading("main", 1, {"power_kw": 1.0, "energy_import_kwh": 2.0, "energy_export_kwh": 3.0}),
        Reading("main", 2, {"energy_export_kwh": 4.0, "power_kw": 5.0}),
        Reading("m-plant", 3, {"power_kw": 6.0, "energy_kwh": 7.0}),
        Reading("m-plant", 4, {"energy_kwh": 8.0, "no_such_kwh": 9.0, "power_kw": 10.0}),
        Reading("nobody", 5, {"energy_kwh": 11.0}),
        Reading("occ-1", 6, {"energy_kwh": 12.0, "occupancy_persons": 13.0}),
        Reading("gas-1", 7, {}),
        Reading("pv-1", 8, {"energy_kwh": 14.0}),
    ]
    batch = flatten(readings, topology)
    expected = [
        (topology.device_channels[topology.device_index[r.device_id]].get(name), r.ts_ms, value)
        for r in readings
        if r.device_id in topology.device_index
        for name, value in r.values.items()
    ]
    known = [(c, t, v) for c, t, v in expected if c is not None]
    assert (
        list(zip(batch.channel.tolist(), batch.ts_ms.tolist(), batch.value.tolist(), strict=True))
        == known
    )
    assert (batch.readings, batch.unknown_devices, batch.unknown_quantities) == (8, 1, 2)


@pytest.mark.parametrize(
    "row",
    [
        {"id": "b1", "a_kwh": 1.5, "b_kwh": 0.0, "c": None, "tags": ["x"], "d": 2},
        {"id": "b1", "a_kwh": 1.5},
        {"n": 3},
        {"id": "b1", "n": 3, "x": 0.1},
        {"flag": True, "a": 1.0},
        {"nested": {"a": 1.0, "b": None}, "c": 2.0},
        {"odd{name}": 1.0, "per%cent": 2.0, "with space": 3.0},
        {"id": "only text", "none": None},
        {"big": 1e300, "bigger": 1e300},
        {"huge": 10**20, "x": 1.0},
        {"f64": np.float64(0.25), "x": 1.0},
    ],
)
def test_row_field_sets_from_a_template_are_format_fields_of_numeric_fields(row: dict) -> None:
    points = KpiLines(small_park())
    fields = numeric_fields(row)
    for _ in range(2):  # the plan made, then the plan kept
        assert points._row_fields(row) == (format_fields(fields) if fields else None)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_row_with_a_non_finite_float_is_refused_as_format_fields_refuses_it(bad: float) -> None:
    points = KpiLines(small_park())
    assert points._row_fields({"a": 1.0, "b": 2.0}) == "a=1.0,b=2.0"
    with pytest.raises(ValueError, match="not finite"):
        points._row_fields({"a": 1.0, "b": bad})


def test_kpi_lines_kept_from_tick_to_tick_are_the_lines_of_each_snapshot() -> None:
    park = day_park()
    twin = Twin(park)
    points = KpiLines(park)
    for batch in day_batches():
        twin.ingest(batch)
        snapshot = twin.snapshot()
        state = snapshot.to_dict()
        assert points(snapshot, state) == kpi_lines(park, snapshot, state)
        assert points(snapshot) == KpiLines(park)(snapshot)
        # Without the snapshot's place columns, every place row goes the general way.
        assert points(snapshot, state) == points(replace(snapshot, periods={}), state)


def test_place_points_of_non_finite_totals_are_made_from_the_rows() -> None:
    park = day_park()
    twin = Twin(park)
    for batch in day_batches():
        twin.ingest(batch)
    snapshot = twin.snapshot()
    snapshot.periods["day"].buildings.values[0, 1] = float("nan")  # a figure missing: left out
    state = snapshot.to_dict()
    assert state["periods"]["day"]["buildings"][0]["pv_kwh"] is None
    points = KpiLines(park)
    lines = points(snapshot, state)
    assert lines == points(replace(snapshot, periods={}), state)
    assert any(line.startswith("twin_place,") and "pv_kwh" not in line for line in lines)


class CalendarPruned(Twin):
    """A twin that asks the calendar for the oldest periods kept at every ingest."""

    def _oldest_kept(self, watermark_ms: int) -> dict[Granularity, int]:
        calendar, retention = self.calendar, self.settings.retention
        return {
            g: oldest_kept(calendar, retention, g, calendar.start_of(g, watermark_ms))
            for g in GRANULARITIES
        }


def test_the_oldest_periods_kept_are_the_calendars() -> None:
    park = small_park()
    settings = park.twin.model_copy(update={"retention": Retention(hours=2, days=2, years=1)})
    fast, general = Twin(park, settings), CalendarPruned(park, settings)
    start = int(datetime(2024, 2, 29, 21, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
    minute = 60_000
    for k in range(1, 60):
        ts = start + k * 7 * minute
        batch = [Reading("m-plant", ts, {"energy_kwh": float(k)})]
        if k % 9 == 0:  # a meter read twice long ago: periods older than those kept
            old = ts - 5 * 60 * minute
            batch += [
                Reading("gas-1", old, {"gas_m3": float(k)}),
                Reading("gas-1", old + minute, {"gas_m3": float(k + 1)}),
            ]
        fast.ingest(batch)
        general.ingest(batch)
        for g in GRANULARITIES:
            kept, expected = fast.state.ledger.periods[g], general.state.ledger.periods[g]
            assert list(kept) == list(expected)
            assert all(np.array_equal(kept[s], expected[s]) for s in kept)
    assert len(fast.state.ledger.periods[Granularity.HOUR]) == 2


def counter_park_text(meters: int) -> str:
    devices = "\n".join(
        f"  - {{id: m{i}, kind: sub_meter, zone: z, interval_s: 60}}" for i in range(meters)
    )
    return f"""
park: {{id: p, name: P, timezone: Asia/Shanghai, location: {{latitude: 0, longitude: 0}}}}
zones: [{{id: z, name: Z, type: production}}]
devices:
  - {{id: grid, kind: grid_main_meter, zone: z, interval_s: 60}}
{devices}
counters: {{devices: {{m0: {{register_max: 999.9}}}}}}
"""


def misbehaving_counter(rng: np.random.Generator, length: int) -> list[float]:
    """A counter that climbs, jitters, drops to zero and back, restarts and wraps at 999.9."""
    value = float(rng.uniform(900, 999))
    values = []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.1:
            values.append(0.0)  # a spurious zero, or the start of a reset
            if rng.random() < 0.5:
                value = float(rng.uniform(0, 2))
            continue
        if roll < 0.2:
            value -= float(rng.uniform(0, 0.5))  # jitter
        else:
            value += float(rng.uniform(0, 20))
        value %= 1000.0  # the register of m0 wraps (others read it as a reset)
        values.append(round(value, 1))
    return values


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 6))
def test_misbehaving_counters_count_the_same_batched_or_one_by_one(seed: int, chunk: int) -> None:
    """The whole-array path (usual channels) and ``CounterBook.take`` (the others) give the same
    ledger, marks, held drops and events whatever the batches are."""
    from parktwin.park.loader import parse_park

    park = parse_park(counter_park_text(3))
    rng = np.random.default_rng(seed)
    series = {f"m{i}": misbehaving_counter(rng, 25) for i in range(3)}
    readings = [
        Reading(device, 1_709_568_000_000 + k * 60_000, {"energy_kwh": v})
        for k in range(25)
        for device, values in series.items()
        for v in [values[k]]
    ]
    one, batched = Twin(park), Twin(park)
    for reading in readings:
        one.ingest([reading])
    for start in range(0, len(readings), chunk * 3):
        batched.ingest(readings[start : start + chunk * 3])
    for g in GRANULARITIES:
        a, b = one.state.ledger.periods[g], batched.state.ledger.periods[g]
        assert a.keys() == b.keys()
        assert all(np.allclose(a[s], b[s], rtol=0, atol=1e-9) for s in a)
    assert np.array_equal(one.state.counters.mark, batched.state.counters.mark)
    assert one.state.counters.drops == batched.state.counters.drops
    assert one.state.counters.events == batched.state.counters.events
    assert one.state.stats == batched.state.stats


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31))
def test_a_counter_series_counts_step_by_step_as_the_twin_does(seed: int) -> None:
    """``series_steps`` (what-if's reading of stored history) gives each hour the amount the
    twin's ledger holds for it, drops, zeros and wraps included."""
    from parktwin.park.loader import parse_park

    park = parse_park(counter_park_text(1))
    values = misbehaving_counter(np.random.default_rng(seed), 30)
    twin = Twin(park)
    hour = 3_600_000
    start = 1_709_568_000_000  # 2024-03-05 00:00 Asia/Shanghai
    for i, v in enumerate(values):
        twin.ingest([Reading("m0", start + i * hour, {"energy_kwh": v})])
    flow = twin.topology.flow_keys.index("m0|energy_kwh")
    ledger = twin.state.ledger.periods[Granularity.HOUR]
    by_twin = [ledger.get(start + i * hour, np.zeros(flow + 1))[flow] for i in range(29)]
    channel = int(twin.topology.flow_channel[flow])
    steps = series_steps(np.asarray(values), twin.counter_rules, channel)
    assert np.allclose(steps, by_twin, rtol=0, atol=1e-9)
