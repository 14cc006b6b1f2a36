"""What a counter decrease means, case by case (docs/twin.md, "Counters"), with value sequences
from public bug reports of other energy tools, each cited next to it.

Every case is also fed one reading a batch and all at once: the whole-array path and the
one-value-at-a-time path must count the same.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from alerts.engine import AlertEngine
from parktwin.contract.reading import Reading
from parktwin.metrics import render
from parktwin.park.loader import ParkFileError, parse_park
from parktwin.park.model import Park
from twin.model.inputs import MonthlyInputs, parse_monthly_inputs
from twin.service.metrics import TwinMetrics
from twin.service.service import TwinStats
from twin.state.twin import Twin

TZ = ZoneInfo("Asia/Shanghai")
DAY = int(datetime(2024, 3, 5, tzinfo=TZ).timestamp() * 1000)
MINUTE = 60_000


def meter_park(counters: str = "", alerts: str = "") -> Park:
    """One sub-meter ``m`` in a building, read every minute, with a ``counters:`` section."""
    return parse_park(
        f"""
park: {{id: p, name: P, timezone: Asia/Shanghai, location: {{latitude: 0, longitude: 0}}}}
zones: [{{id: z, name: Z, type: production}}]
buildings: [{{id: b, name: B, zone: z, use: factory, floor_area_m2: 100, occupant_capacity: 5}}]
devices:
  - {{id: grid, kind: grid_main_meter, zone: z, interval_s: 60}}
  - {{id: m, kind: sub_meter, building: b, interval_s: 60}}
{counters}
{alerts}
"""
    )


def readings(values: list[float], start_ms: int = DAY) -> list[Reading]:
    return [Reading("m", start_ms + i * MINUTE, {"energy_kwh": v}) for i, v in enumerate(values)]


def fed(park: Park, values: list[float], one_by_one: bool = True) -> Twin:
    twin = Twin(park)
    batch = readings(values)
    if one_by_one:
        for reading in batch:
            twin.ingest([reading])
    else:
        twin.ingest(batch)
    return twin


def counted(twin: Twin) -> float:
    return twin.snapshot().flows.get("m", "energy_kwh", "day")


def both_ways(park: Park, values: list[float]) -> Twin:
    """The twin fed one reading a batch, after checking that one batch counts the same."""
    alone, together = fed(park, values), fed(park, values, one_by_one=False)
    assert counted(alone) == pytest.approx(counted(together), abs=1e-12)
    assert alone.snapshot().ingest == together.snapshot().ingest
    assert alone.snapshot().counter_events == together.snapshot().counter_events
    return alone


def test_a_small_decrease_is_jitter_nothing_is_counted_and_the_high_water_mark_stays() -> None:
    twin = both_ways(meter_park(), [215.5, 215.7, 215.6, 215.65, 215.8])
    # 215.5 -> 215.7 counts 0.2; the dip to 215.6 and 215.65 counts nothing; 215.7 -> 215.8: 0.1.
    assert counted(twin) == pytest.approx(0.3)
    stats = twin.snapshot().ingest
    assert (stats.counter_jitter, stats.counter_resets) == (2, 0)
    assert twin.snapshot().counter_events == []


def test_a_shelly_that_rounds_its_counter_on_restart_is_jitter() -> None:
    # home-assistant/core#145370 (Shelly Pro 1PM): "The value before the restart was 544.587493
    # and after the restart 544.587"; Home Assistant drew a negative bar. Then the meter counts on.
    twin = both_ways(meter_park(), [544.58, 544.587493, 544.587, 544.6])
    assert counted(twin) == pytest.approx(544.6 - 544.58)
    assert twin.snapshot().ingest.counter_jitter == 1


def test_a_spurious_zero_counts_nothing() -> None:
    twin = both_ways(meter_park(), [54, 55, 0, 55, 56])
    assert counted(twin) == pytest.approx(2)  # 54 -> 55 and 55 -> 56; the zero counts 0
    stats = twin.snapshot().ingest
    assert (stats.counter_dropouts, stats.counter_resets) == (1, 0)
    assert twin.snapshot().devices.row("m")["counter_resets"] == 0


def test_a_washing_machine_counter_that_drops_to_zero_while_offline_counts_nothing() -> None:
    # gvigroux/hon#300: "Sensor reports correct value (e.g., 549.73 kWh). Sensor drops to 0.0 kWh
    # ... Sensor returns to 549.73 kWh. Energy Dashboard registers a fake +549.73 kWh".
    twin = both_ways(meter_park(), [549.73, 0.0, 0.0, 549.73])
    assert counted(twin) == 0
    assert twin.snapshot().ingest.counter_dropouts == 1


def test_a_dropout_that_comes_back_a_little_lower_is_still_a_dropout() -> None:
    # JohNan/homeassistant-homevolt-local#95: "all Energy meters drops to zero and then comes
    # back to previous value" (values assumed: back within the jitter tolerance of the mark).
    twin = both_ways(meter_park(), [1200.0, 0.0, 1199.9, 1200.4])
    assert counted(twin) == pytest.approx(0.4)


def test_a_register_that_rolls_over_counts_the_wrap() -> None:
    park = meter_park("counters: {devices: {m: {register_max: 99999.99}}}")
    twin = both_ways(park, [99999.5, 99999.9, 0.3, 1.0])
    # 0.4, then 99999.90 -> 99999.99 -> 0.00 -> 0.30 (0.4), then 0.7: 1.5 kWh in all.
    assert counted(twin) == pytest.approx(1.5)
    snap = twin.snapshot()
    assert (snap.ingest.counter_rollovers, snap.ingest.counter_resets) == (1, 0)
    (event,) = snap.counter_events
    assert (event.kind, event.before, event.after, event.confirmed) == (
        "rollover",
        99999.9,
        0.3,
        True,
    )
    assert event.counted == pytest.approx(0.4)


def test_a_homematic_23_bit_counter_overflows_at_838860_7_wh() -> None:
    # DrozmotiX/ioBroker.sourceanalytix#594: the HM-ES-TX-WM "läuft bei Erreichen von 838860,7 Wh
    # über und beginnt wieder bei NULL"; the logged values before the overflow (Wh) were
    # ... 838804.4, 838831, 838857.6. The two values after it are assumed (the log stops there).
    park = meter_park("counters: {devices: {m: {register_max: 838.8607}}}")  # in kWh
    twin = both_ways(park, [838.8044, 838.831, 838.8576, 0.0121, 0.0405])
    # 838.8576 -> 838.8607 -> 0 is 0.0032 kWh (one step of 0.0001 kWh past the maximum).
    assert counted(twin) == pytest.approx((838.8608 - 838.8044) + 0.0405)
    assert twin.snapshot().ingest.counter_rollovers == 1


def test_without_a_register_maximum_the_same_fall_is_a_reset() -> None:
    twin = both_ways(meter_park(), [99999.5, 99999.9, 0.3, 1.0])
    assert counted(twin) == pytest.approx(0.4 + 1.0)  # the new count from zero
    assert twin.snapshot().ingest.counter_resets == 1


def test_an_unexplained_large_drop_is_counted_from_zero_and_raised() -> None:
    # arendst/Tasmota#685: "Total":1.944 before, "Total":0.000 after EnergyReset; the readings
    # after it (0.05, 0.12) are assumed.
    twin = both_ways(meter_park(), [1.9, 1.944, 0.0, 0.05, 0.12])
    assert counted(twin) == pytest.approx(0.044 + 0.12)
    snap = twin.snapshot()
    assert snap.ingest.counter_resets == 1
    assert snap.devices.row("m")["counter_resets"] == 1
    (event,) = snap.counter_events
    assert (event.device, event.quantity, event.kind) == ("m", "energy_kwh", "reset")
    assert (event.before, event.after, event.confirmed) == (1.944, 0.0, False)
    assert event.from_ts_ms == DAY + MINUTE and event.at_ms == DAY + 2 * MINUTE


def test_an_inverter_total_that_falls_by_a_quarter_is_a_reset_counted_from_zero() -> None:
    # lumapu/ahoy#1750 (Hoymiles HM350): the total yield fell "von 283177 Wh auf 218772 Wh"
    # from one day to the next. Counted from zero as an unexplained reset, and raised.
    twin = both_ways(meter_park(), [283.177, 218.772, 218.8])
    assert counted(twin) == pytest.approx(218.8)
    assert twin.snapshot().ingest.counter_resets == 1


def test_a_run_of_zeros_waits_until_the_meter_counts_again() -> None:
    twin = both_ways(meter_park(), [500, 0, 0, 0, 0.5])
    assert counted(twin) == pytest.approx(0.5)  # a new meter from zero: 0 + 0.5
    assert twin.snapshot().ingest.counter_resets == 1
    held = both_ways(meter_park(), [500, 0, 0, 0])
    assert counted(held) == 0  # nothing known yet: nothing counted, nothing raised
    assert held.snapshot().counter_events == []


def test_the_amount_read_on_a_reset_meter_goes_to_the_interval_of_its_first_reading() -> None:
    # As before drops were held: 10 before the reset, 4 read on the new meter, 5 after.
    twin = Twin(meter_park())
    hour = 3_600_000
    for h, kwh in ((0, 500), (1, 510), (2, 4), (3, 9)):
        twin.ingest(readings([kwh], DAY + h * hour))
    ledger = twin.state.ledger.periods
    hours = sorted(ledger[next(iter(ledger))].items())  # the hour rows, oldest first
    flow = twin.topology.flow_keys.index("m|energy_kwh")
    assert [row[flow] for _, row in hours] == pytest.approx([10, 4, 5])


def test_tolerances_come_from_the_device_kind_and_the_device() -> None:
    strict = meter_park("counters: {kinds: {sub_meter: {jitter_pct: 0}}}")
    # Without tolerance the dip is a drop: rising from it, a reset counted from zero.
    twin = both_ways(strict, [215.7, 215.6, 215.65, 215.8])
    assert twin.snapshot().ingest.counter_resets == 1
    assert counted(twin) == pytest.approx(215.8)
    loose = meter_park(
        "counters: {kinds: {sub_meter: {jitter_pct: 0}}, devices: {m: {jitter_abs: 0.5}}}"
    )
    assert counted(both_ways(loose, [215.7, 215.6, 215.65, 215.8])) == pytest.approx(0.1)


def test_a_counters_entry_for_an_unknown_device_is_refused_with_its_path() -> None:
    with pytest.raises(ParkFileError, match=r"counters\.devices\.nobody.*unknown device"):
        meter_park("counters: {devices: {nobody: {register_max: 99999.99}}}")


def swap_inputs(time: str, final: float, initial: float, month: str = "2024-03") -> MonthlyInputs:
    return parse_monthly_inputs(
        f'{{"month": "{month}", "meter_replaced": [{{"device": "m", "time": "{time}",'
        f' "final_reading": {final}, "initial_reading": {initial}}}]}}'.encode()
    )


# Readings every minute from 00:00; the swap at 00:01:30, between the 2nd and 3rd reading.
SWAP_AT = "2024-03-05T00:01:30+08:00"


def test_a_recorded_replacement_is_counted_exactly() -> None:
    twin = Twin(meter_park())
    assert twin.apply_monthly_inputs(swap_inputs(SWAP_AT, final=512.3, initial=0.2)) == []
    for reading in readings([505, 510, 0.9, 1.5]):
        twin.ingest([reading])
    # 505 -> 510, then the old meter 510 -> 512.3 and the new one 0.2 -> 0.9, then 0.6.
    assert counted(twin) == pytest.approx(5 + 2.3 + 0.7 + 0.6)
    snap = twin.snapshot()
    assert (snap.ingest.meter_replacements, snap.ingest.counter_resets) == (1, 0)
    (event,) = snap.counter_events
    assert (event.kind, event.confirmed, event.before, event.after) == ("replaced", True, 510, 0.2)


def test_a_replacement_recorded_after_the_reset_corrects_the_count() -> None:
    twin = Twin(meter_park())
    for reading in readings([505, 510, 0.9, 1.5]):
        twin.ingest([reading])
    assert counted(twin) == pytest.approx(5 + 1.5)  # counted from zero, raised
    assert twin.snapshot().counter_events[0].confirmed is False
    inputs = swap_inputs(SWAP_AT, final=512.3, initial=0.2)
    assert twin.apply_monthly_inputs(inputs) == []
    assert counted(twin) == pytest.approx(5 + 2.3 + 0.7 + 0.6)
    (event,) = twin.snapshot().counter_events
    assert (event.kind, event.confirmed) == ("replaced", True)
    # The same report delivered again (a retained message after a restart) changes nothing.
    assert twin.apply_monthly_inputs(inputs) == []
    assert counted(twin) == pytest.approx(5 + 2.3 + 0.7 + 0.6)
    assert twin.snapshot().ingest.meter_replacements == 1


def test_a_replacement_recorded_while_its_drop_is_held_is_counted_exactly() -> None:
    twin = Twin(meter_park())
    for reading in readings([505, 510, 0.9]):
        twin.ingest([reading])
    assert counted(twin) == pytest.approx(5)
    assert twin.apply_monthly_inputs(swap_inputs(SWAP_AT, final=512.3, initial=0.2)) == []
    twin.ingest(readings([1.5], DAY + 3 * MINUTE))
    assert counted(twin) == pytest.approx(5 + 2.3 + 0.7 + 0.6)
    assert twin.snapshot().ingest.counter_resets == 0


def test_a_replacement_the_twin_cannot_place_is_refused_with_its_reason() -> None:
    twin = Twin(meter_park())
    for reading in readings([505, 510, 515]):
        twin.ingest([reading])
    problems = twin.apply_monthly_inputs(swap_inputs(SWAP_AT, final=512.3, initial=0.2))
    assert len(problems) == 1 and "meter_replaced.0" in problems[0] and "no drop" in problems[0]
    assert counted(twin) == pytest.approx(10)
    bad = parse_monthly_inputs(
        b'{"month": "2024-03", "meter_replaced": [{"device": "grid", "time": "'
        + SWAP_AT.encode()
        + b'", "final_reading": 1}, {"device": "nobody", "time": "'
        + SWAP_AT.encode()
        + b'", "final_reading": 1}]}'
    )
    problems = twin.apply_monthly_inputs(bad)
    assert "name the quantity" in problems[0] and "unknown device 'nobody'" in problems[1]


def test_a_replacement_needs_a_time_with_its_offset() -> None:
    with pytest.raises(ValueError, match=r"meter_replaced\.0\.time"):
        parse_monthly_inputs(
            b'{"month": "2024-03", "meter_replaced": [{"device": "m",'
            b' "time": "2024-03-05T00:01:30", "final_reading": 1}]}'
        )


def test_a_checkpoint_keeps_the_mark_a_held_drop_and_a_waiting_replacement() -> None:
    park = meter_park()
    values = [505, 510, 509.9, 0.0]
    whole = Twin(park)
    whole.apply_monthly_inputs(swap_inputs("2024-03-05T00:10:00+08:00", 600, 0))
    whole.ingest(readings(values))
    restored = Twin.restore(park, None, whole.checkpoint())
    assert restored.state.counters.drops == whole.state.counters.drops
    assert restored.state.counters.queued == whole.state.counters.queued
    for twin in (whole, restored):
        twin.ingest(readings([510.2, 3.0], DAY + 4 * MINUTE))  # the dropout ends; then the swap
        twin.ingest(readings([1.0], DAY + 11 * MINUTE))
    # 5 + 0.2, then 510.2 -> 600 on the old meter and 0 -> 1.0 on the new one.
    assert counted(restored) == counted(whole) == pytest.approx(5.2 + 89.8 + 1.0)
    assert restored.snapshot().counter_events == whole.snapshot().counter_events


def test_counter_events_are_counted_in_the_metrics() -> None:
    twin = both_ways(meter_park(), [1.944, 0.0, 0.05, 54, 0, 54])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TwinMetrics(TwinStats(), lambda: None, lambda: twin.state.stats))
    text = render(registry).decode()
    assert "parktwin_twin_counter_resets_total 1.0" in text
    assert "parktwin_twin_counter_dropouts_total 1.0" in text


def test_a_counter_reset_raises_an_alert_until_a_replacement_explains_it() -> None:
    park = meter_park(alerts="alerts: {rules: [{id: resets, kind: counter_reset}]}")
    twin, engine = Twin(park), AlertEngine(park)
    events = []
    for reading in readings([505, 510, 0.9, 1.5]):
        twin.ingest([reading])
        events += engine.evaluate(twin.snapshot())
    (fired,) = events
    assert (fired.state, fired.meta.kind, fired.meta.place) == (
        "firing",
        "counter_reset",
        "building:b",
    )
    assert "m (energy_kwh 510 -> 0.9)" in fired.tracked.summary
    twin.apply_monthly_inputs(swap_inputs(SWAP_AT, final=512.3, initial=0.2))
    twin.ingest(readings([2.0], DAY + 4 * MINUTE))
    (resolved,) = engine.evaluate(twin.snapshot())
    assert resolved.state == "resolved"
