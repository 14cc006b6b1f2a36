"""The simulated park: every device reports plausible, consistent values, the same for a seed.

Also holds the small test park (one device of each kind) that the other simulator tests use.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

import pytest
from helpers import every_kind_park

from parktwin.contract.payload import decode
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import Reading
from parktwin.park.model import Park
from parktwin.sun import clear_sky_ghi_w_m2, solar_noon_ms, solar_position
from simulators.calendar import DayType, china_calendar
from simulators.park import ModelOptions, ParkSimulator

SHANGHAI = "Asia/Shanghai"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def local_ms(park: Park, year: int, month: int, day: int, hour: int = 0) -> int:
    return round(datetime(year, month, day, hour, tzinfo=park.timezone).timestamp() * 1000)


def readings(sim: ParkSimulator, until_ms: int) -> list[Reading]:
    return list(sim.advance(until_ms))


def series(items: Iterable[Reading], device_id: str, name: str) -> list[tuple[int, float]]:
    return [(r.ts_ms, r.values[name]) for r in items if r.device_id == device_id]


def test_same_seed_same_readings_other_seed_other_readings() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 3, 2)
    first = readings(ParkSimulator(park, 7, start), start + 6 * HOUR_MS)
    again = readings(ParkSimulator(park, 7, start), start + 6 * HOUR_MS)
    other = readings(ParkSimulator(park, 8, start), start + 6 * HOUR_MS)
    assert first == again
    assert [r.values for r in first] != [r.values for r in other]


def test_chunking_of_simulated_time_does_not_change_the_readings() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 3, 2)
    whole = readings(ParkSimulator(park, 3, start), start + 3 * HOUR_MS)
    sim = ParkSimulator(park, 3, start)
    pieces: list[Reading] = []
    for until in range(start + 7_777, start + 3 * HOUR_MS, 7_777):
        pieces.extend(sim.advance(until))
    pieces.extend(sim.advance(start + 3 * HOUR_MS))
    assert pieces == whole


def test_readings_come_in_event_time_order_with_staggered_phases() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 3, 2)
    items = readings(ParkSimulator(park, 1, start), start + HOUR_MS)
    stamps = [r.ts_ms for r in items]
    assert stamps == sorted(stamps)
    first_of = {}
    for r in items:
        first_of.setdefault(r.device_id, r.ts_ms)
    assert len(set(first_of.values())) > len(first_of) // 2  # not all at the same instant
    by_device = defaultdict(list)
    for r in items:
        by_device[r.device_id].append(r.ts_ms)
    for device in park.devices:
        gaps = {b - a for a, b in zip(by_device[device.id], by_device[device.id][1:], strict=False)}
        assert gaps == {round(device.interval_s * 1000)}


def test_every_reading_carries_exactly_its_kinds_quantities_within_range() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 1, 10)
    sim = ParkSimulator(park, 5, start)
    kinds = {d.id: d.kind for d in park.devices}
    for reading in sim.advance(start + 2 * DAY_MS):
        assert set(reading.values) == KINDS[kinds[reading.device_id]].quantities
        payload = b'{"v":1,"ts":%d,"values":%s}' % (
            reading.ts_ms,
            repr(reading.values).replace("'", '"').encode(),
        )
        decode(reading.device_id, payload)  # raises on any value out of its range


def test_counters_only_grow_except_at_a_recorded_meter_replacement() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 5, 4)
    options = ModelOptions(meter_replacements_per_year=3000.0)  # several per meter per day
    sim = ParkSimulator(park, 11, start, options)
    items = readings(sim, start + DAY_MS)
    resets = defaultdict(list)
    for reset in sim.resets:
        resets[reset.device_id].append(reset.ts_ms)
    assert sim.resets, "the test needs replacements to check anything"
    decreases = 0
    last: dict[tuple[str, str], tuple[int, float]] = {}
    for r in items:
        for name, value in r.values.items():
            if name not in {
                "energy_kwh",
                "energy_import_kwh",
                "energy_export_kwh",
                "gas_m3",
                "heat_gj",
                "water_m3",
                "diesel_kg",
                "co2_kg",
                "energy_charge_kwh",
                "energy_discharge_kwh",
            }:
                continue
            previous = last.get((r.device_id, name))
            if previous is not None and value < previous[1]:
                decreases += 1
                assert any(previous[0] < t <= r.ts_ms for t in resets[r.device_id]), (
                    f"{r.device_id}.{name} fell from {previous[1]} to {value} with no replacement"
                )
            last[(r.device_id, name)] = (r.ts_ms, value)
    assert decreases > 0


def test_pv_is_zero_at_night_and_peaks_near_solar_noon() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 6, 10)
    sim = ParkSimulator(park, 2, start, ModelOptions(clouds=False))
    pv = series(readings(sim, start + DAY_MS), "fab-pv", "power_kw")
    location = park.park.location
    for ts, power in pv:
        if solar_position(ts, location.latitude, location.longitude).elevation_deg < -1:
            assert power == 0
    peak_ts = max(pv, key=lambda item: item[1])[0]
    day_utc = (start + 12 * HOUR_MS) // DAY_MS * DAY_MS
    noon = solar_noon_ms(day_utc, location.longitude)
    assert abs(peak_ts - noon) <= 30 * 60_000
    assert max(p for _, p in pv) > 0.6 * 1500  # a clear June noon near full output


def test_clouds_dim_pv_but_keep_the_day_centred_on_solar_noon() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 6, 10)
    clear = series(
        readings(ParkSimulator(park, 2, start, ModelOptions(clouds=False)), start + 5 * DAY_MS),
        "fab-pv",
        "power_kw",
    )
    cloudy = series(
        readings(ParkSimulator(park, 2, start), start + 5 * DAY_MS), "fab-pv", "power_kw"
    )
    assert sum(p for _, p in cloudy) < sum(p for _, p in clear)
    location = park.park.location
    for day in range(5):
        lo, hi = start + day * DAY_MS, start + (day + 1) * DAY_MS
        today = [(ts, p) for ts, p in cloudy if lo <= ts < hi]
        centre = sum(ts * p for ts, p in today) / sum(p for _, p in today)
        noon = solar_noon_ms((lo + 12 * HOUR_MS) // DAY_MS * DAY_MS, location.longitude)
        assert abs(centre - noon) < 90 * 60_000


def test_solar_position_at_the_solstices() -> None:
    june = round(datetime(2026, 6, 21, 4, 0).timestamp() * 1000)
    position = solar_position(june, 30.0, 120.0)
    assert position.declination_deg == pytest.approx(23.44, abs=0.1)
    noon = solar_noon_ms(
        round(datetime.fromisoformat("2026-12-21T00:00:00+00:00").timestamp() * 1000), 120.0
    )
    winter = solar_position(noon, 30.0, 120.0)
    assert winter.hour_angle_deg == pytest.approx(0.0, abs=0.1)
    assert winter.elevation_deg == pytest.approx(90 - 30 - 23.44, abs=0.2)
    assert clear_sky_ghi_w_m2(-5.0) == 0.0


def test_chinese_calendar_knows_holidays_and_make_up_workdays() -> None:
    calendar = china_calendar()
    assert calendar.day_type(date(2026, 10, 1)) is DayType.HOLIDAY  # National Day, a Thursday
    assert calendar.day_type(date(2026, 2, 17)) is DayType.HOLIDAY  # Spring Festival
    assert calendar.day_type(date(2026, 9, 20)) is DayType.WORKDAY  # a Sunday worked instead
    assert calendar.day_type(date(2026, 9, 19)) is DayType.WEEKEND
    assert calendar.day_type(date(2026, 9, 22)) is DayType.WORKDAY


def mean_occupancy_at(park: Park, device: str, day: tuple[int, int, int], hour: int) -> float:
    start = local_ms(park, *day)
    sim = ParkSimulator(park, 4, start)
    values = [
        v
        for ts, v in series(readings(sim, start + DAY_MS), device, "occupancy_persons")
        if hour * HOUR_MS <= ts - start < (hour + 2) * HOUR_MS
    ]
    return sum(values) / len(values)


def test_office_occupancy_follows_workdays_weekends_and_holidays() -> None:
    park = every_kind_park()
    workday = mean_occupancy_at(park, "hq-occ", (2026, 9, 29), 9)  # a Tuesday
    holiday = mean_occupancy_at(park, "hq-occ", (2026, 10, 1), 9)  # National Day
    weekend = mean_occupancy_at(park, "hq-occ", (2026, 9, 27), 9)  # a Sunday
    makeup = mean_occupancy_at(park, "hq-occ", (2026, 9, 20), 9)  # a Sunday worked
    night = mean_occupancy_at(park, "hq-occ", (2026, 9, 29), 1)
    assert workday > 200 and makeup > 200
    assert holiday < 0.3 * workday and weekend < 0.3 * workday and night < 0.1 * workday


def test_residents_are_home_at_night_and_out_on_workdays() -> None:
    park = every_kind_park()
    night = mean_occupancy_at(park, "fab-occ", (2026, 9, 29), 2)  # 2 shifts: nobody at 2 am
    day = mean_occupancy_at(park, "fab-occ", (2026, 9, 29), 10)
    assert night < 0.1 * day


def daily_increase(park: Park, device: str, name: str, day: tuple[int, int, int]) -> float:
    start = local_ms(park, *day)
    values = series(readings(ParkSimulator(park, 6, start), start + DAY_MS), device, name)
    return values[-1][1] - values[0][1]


def test_winter_gas_exceeds_summer_gas() -> None:
    park = every_kind_park()
    winter = daily_increase(park, "hq-gas", "gas_m3", (2026, 1, 13))
    summer = daily_increase(park, "hq-gas", "gas_m3", (2026, 7, 14))
    assert winter > 3 * summer > 0
    assert daily_increase(park, "apt-heat", "heat_gj", (2026, 1, 13)) > daily_increase(
        park, "apt-heat", "heat_gj", (2026, 7, 14)
    )


def test_indoor_co2_follows_occupancy() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 9, 29)
    items = readings(ParkSimulator(park, 9, start), start + DAY_MS)
    co2 = series(items, "hq-co2", "co2_ppm")
    by_hour = defaultdict(list)
    for ts, ppm in co2:
        by_hour[(ts - start) // HOUR_MS].append(ppm)
    assert min(by_hour[4]) < 500  # empty office before dawn: near outdoor air
    assert sum(by_hour[15]) / len(by_hour[15]) > 900  # full office in the afternoon
    occupancy = dict(series(items, "hq-occ", "occupancy_persons"))
    paired = [(occupancy[ts], ppm) for ts, ppm in co2 if ts in occupancy]
    assert correlation(paired) > 0.7 if len(paired) > 10 else True


def correlation(pairs: list[tuple[float, float]]) -> float:
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    return sxy / math.sqrt(sxx * syy)


def test_stack_emissions_follow_the_factorys_shifts() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 4, 14)
    items = readings(ParkSimulator(park, 9, start), start + DAY_MS)
    stack = series(items, "fab-stk", "co2_kg_h")
    night = [v for ts, v in stack if ts - start < 4 * HOUR_MS]
    day = [v for ts, v in stack if 9 * HOUR_MS <= ts - start < 11 * HOUR_MS]
    assert sum(day) / len(day) > 5 * sum(night) / len(night)


def test_battery_charges_at_midday_and_discharges_in_the_evening() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 5, 12)
    items = readings(ParkSimulator(park, 9, start, ModelOptions(clouds=False)), start + DAY_MS)
    power = series(items, "es-battery", "power_kw")
    midday = [p for ts, p in power if 11 * HOUR_MS <= ts - start < 14 * HOUR_MS]
    evening = [p for ts, p in power if 17 * HOUR_MS <= ts - start < 19 * HOUR_MS]
    assert min(midday) < 0 and max(midday) <= 0  # negative: charging (until full)
    assert max(evening) > 0 and min(evening) >= 0  # positive: discharging (until empty)
    soc = series(items, "es-battery", "soc_pct")
    assert max(v for ts, v in soc if ts - start < 17 * HOUR_MS) > 60


def test_grid_meter_balances_loads_pv_and_battery() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 5, 12)
    sim = ParkSimulator(park, 13, start, ModelOptions(meter_replacements_per_year=0))

    def snapshot() -> dict[str, float]:
        c = {d.id: sim.runtime(d.id).counters for d in park.devices}
        loads = sum(c[d]["energy_kwh"] for d in ("fab-em", "hq-em", "apt-em", "es-em", "street-ev"))
        return {
            "net_grid": c["main"]["energy_import_kwh"] - c["main"]["energy_export_kwh"],
            "balance": loads
            - c["fab-pv"]["energy_kwh"]
            + c["es-battery"]["energy_charge_kwh"]
            - c["es-battery"]["energy_discharge_kwh"],
        }

    before = snapshot()
    readings(sim, start + DAY_MS)
    after = snapshot()
    grid = after["net_grid"] - before["net_grid"]
    balance = after["balance"] - before["balance"]
    assert grid == pytest.approx(balance, rel=1e-9, abs=1e-6)
    exported = sim.runtime("main").counters["energy_export_kwh"]
    assert exported > 0  # a May noon with 1.5 MWp on the roof exports


def test_line_meter_reads_part_of_its_building_meter() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 5, 12)
    items = readings(ParkSimulator(park, 13, start), start + DAY_MS)
    building = series(items, "fab-em", "energy_kwh")
    line = series(items, "fab-line", "energy_kwh")
    used_building = building[-1][1] - building[0][1]
    used_line = line[-1][1] - line[0][1]
    assert 0.2 * used_building < used_line < 0.8 * used_building


def test_state_snapshot_continues_exactly() -> None:
    park = every_kind_park()
    start = local_ms(park, 2026, 2, 1)
    whole = readings(ParkSimulator(park, 21, start), start + 8 * HOUR_MS)
    first = ParkSimulator(park, 21, start)
    part = readings(first, start + 3 * HOUR_MS + 12_345)
    import json

    state = json.loads(json.dumps(first.state()))
    rest = readings(ParkSimulator.from_state(park, state), start + 8 * HOUR_MS)
    assert part + rest == whole
