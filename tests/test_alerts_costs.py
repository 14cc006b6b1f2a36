"""Cost alerts: a cost budget, and a 15-minute demand on course to exceed the contract."""

from __future__ import annotations

import pytest
from helpers import SMALL_PARK, TARIFFS, local_ms, steady

from alerts.engine import AlertEngine
from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from twin.state.twin import Twin

RULES = """
alerts:
  rules:
    - {id: contract, kind: contract_demand}
    - {id: day-cost, kind: cost_budget, period: day, budget_yuan: 30, predict: false}
"""


def park():
    return parse_park(SMALL_PARK.format(park_id="alerted") + TARIFFS.format(carbon=0) + RULES)


def test_a_window_heading_over_the_contract_fires_while_there_is_time_to_shed() -> None:
    twin, engine = Twin(park()), AlertEngine(park())
    # Tuesday 13 October 10:00: 90 kW for six minutes, then the main meter reads 150 kW.
    fired = []
    for minute in range(0, 10):
        kw = 90 if minute <= 6 else 150
        energy = 90 * min(minute, 6) / 60 + 150 * max(minute - 6, 0) / 60
        twin.ingest([Reading("main", local_ms("2026-10-13T10:00") + minute * 60_000,
                             {"energy_import_kwh": energy, "power_kw": kw})])  # fmt: skip
        fired += [e for e in engine.evaluate(twin.snapshot()) if e.meta.name == "contract"]
    first = fired[0]
    # At 10:07: 9 kWh (six minutes at 90 kW) + 2.5 kWh (one at 150) so far, and 150 kW for the
    # 8 minutes left: (11.5 + 20) kWh / 0.25 h = 126 kW, over the 100 kW contracted. It fires
    # with 8 minutes left, asking for (126 - 100) x 15/8 = 48.75 kW less.
    assert first.state == "firing" and first.at_ms == local_ms("2026-10-13T10:07")
    assert first.tracked.value == pytest.approx(126)
    assert "shed 49 kW for the remaining 8 min" in first.tracked.summary


def test_the_days_cost_over_its_budget_fires() -> None:
    twin, engine = Twin(park()), AlertEngine(park())
    events = []
    for reading in steady("main", "energy_import_kwh", 10, "2026-10-13T00:00", "2026-10-13T09:00"):
        twin.ingest([reading])
        events += [e for e in engine.evaluate(twin.snapshot()) if e.meta.name == "day-cost"]
    # 80 kWh of valley (24 yuan) by 08:00, then peak at 1.1: 30 yuan is passed after 08:32:44;
    # the first reading after that, 08:45, fires.
    assert [e.state for e in events] == ["firing"]
    assert events[0].at_ms == local_ms("2026-10-13T08:45")


def test_a_dearer_day_is_forecast_over_its_cost_budget_hours_before_it_gets_there() -> None:
    rules = """
alerts:
  rules:
    - {id: day-cost, kind: cost_budget, period: day, budget_yuan: 200}
"""
    park = parse_park(SMALL_PARK.format(park_id="forecast") + TARIFFS.format(carbon=0) + rules)
    twin, engine = Twin(park), AlertEngine(park)
    # Three weekdays at 10 kW teach the engine a day's cost: valley 8 h x 10 kW x 0.3 = 24,
    # peak 8 h x 11 = 88, flat 8 h x 7 = 56, 168 yuan. Thursday 15 October draws 13 kW.
    readings = [
        *steady("main", "energy_import_kwh", 10, "2026-10-12T00:00", "2026-10-15T00:00"),
        *(
            Reading(
                r.device_id, r.ts_ms, {"energy_import_kwh": 720 + r.values["energy_import_kwh"]}
            )
            for r in steady("main", "energy_import_kwh", 13, "2026-10-15T00:00", "2026-10-16T00:00")
        ),
    ]
    events = []
    for reading in readings:
        twin.ingest([reading])
        events += engine.evaluate(twin.snapshot())
    fired = {e.meta.name: e.at_ms for e in events if e.state == "firing"}
    # The forecast scales the usual day by how the day compares so far (1.3 x 168 = 218.4 once
    # the hours of the day it has learnt from agree): it is raised in the morning, once its
    # lower bound (less 1.64 standard deviations) is over 200.
    assert (
        local_ms("2026-10-15T02:24") <= fired["day-cost-forecast"] <= local_ms("2026-10-15T12:00")
    )
    # The budget itself: 191.1 yuan at 21:00 (31.2 + 57.2 + 45.5 + 57.2), 9.1 an hour after:
    # 200 is passed at 21:59, seen at the 22:00 reading, some 19.5 hours after the forecast.
    assert fired["day-cost"] == local_ms("2026-10-15T22:00")
