"""The alert engine on a twin fed minute by minute: each rule fires when its condition has held
long enough and resolves once, the budget forecast fires hours before the budget is crossed, and
everything runs on event time, so a replay gives the same alerts."""

from __future__ import annotations

from datetime import datetime

from helpers import (
    DAY,
    HOUR,
    MINUTE,
    TZ,
    Replay,
    alert_park,
    by_state,
    hour_of,
    local_ms,
    noisy,
    usual_kw,
    usual_persons,
)

from alerts.engine import AlertEngine, load_state
from alerts.fingerprint import fingerprint

MONDAY = local_ms("2026-03-02T00:00")


def local(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, TZ).strftime("%Y-%m-%d %H:%M")


def test_a_day_climbing_towards_its_budget_is_forecast_hours_before_the_budget_is_crossed() -> None:
    park = alert_park(
        '    - {id: plant-day, kind: budget, place: "building:plant-1", period: day,'
        " budget_kwh: 4500}\n"
    )
    replay = Replay(park)
    # Two weeks of a one-shift factory (about 3,840 kWh a weekday, ±10 % an hour) teach the
    # engine its hourly profile; the budget is 4,500 kWh, and no usual day reaches it.
    history = replay.run(MONDAY, MONDAY + 14 * DAY, noisy(usual_kw, seed=1), evaluate_every=3)
    assert history == []
    # The third Monday the plant runs a third harder from 08:00: it ends near 4,900 kWh.
    day = MONDAY + 14 * DAY

    def climbing(ts_ms: int) -> float:
        return usual_kw(ts_ms) * (1.35 if hour_of(ts_ms) >= 8 else 1.0)

    events = replay.run(day, day + DAY, noisy(climbing, seed=2))
    predicted = next(e for e in by_state(events, "firing") if e.meta.kind == "budget_forecast")
    crossed = next(e for e in by_state(events, "firing") if e.meta.kind == "budget")
    lead_h = (crossed.at_ms - predicted.at_ms) / HOUR
    print(
        f"\nforecast alert at {local(predicted.at_ms)} (used {predicted.tracked.value:,.0f} kWh, "
        f"forecast {predicted.tracked.forecast:,.0f} kWh); budget crossed at "
        f"{local(crossed.at_ms)}: {lead_h:.1f} h earlier in event time"
    )
    assert predicted.tracked.value < 4500 < (predicted.tracked.forecast or 0)
    assert crossed.tracked.value > 4500
    assert lead_h >= 3
    # Both belong to the day: the next day's first snapshot resolves them, once each.
    after = replay.run(day + DAY, day + DAY + HOUR, climbing)
    assert sorted(e.meta.kind for e in after) == ["budget", "budget_forecast"]
    assert {e.state for e in after} == {"resolved"}
    assert {e.reason for e in after} == {"period ended"}


def test_an_ordinary_day_raises_no_forecast_alert() -> None:
    park = alert_park(
        '    - {id: plant-day, kind: budget, place: "building:plant-1", period: day,'
        " budget_kwh: 4500}\n"
    )
    replay = Replay(park)
    replay.run(MONDAY, MONDAY + 14 * DAY, noisy(usual_kw, seed=1), evaluate_every=3)
    day = MONDAY + 14 * DAY
    assert replay.run(day, day + DAY, noisy(usual_kw, seed=3)) == []


DEMAND = (
    '    - {id: plant-demand, kind: demand, place: "building:plant-1", limit_kw: 400,'
    " window_s: 900, for_s: 900, clear_for_s: 1800, hysteresis_pct: 10}\n"
)


def test_demand_fires_after_its_duration_and_resolves_once_without_flapping() -> None:
    replay = Replay(alert_park(DEMAND))
    start = local_ms("2026-03-03T06:00")
    assert replay.run(start, start + 2 * HOUR, lambda t: 300.0) == []
    # A ten-minute spike: the 15-minute mean stays under 400 kW.
    t = start + 2 * HOUR
    assert replay.run(t, t + 10 * MINUTE, lambda t: 520.0) == []
    t += 10 * MINUTE
    replay.run(t, t + HOUR, lambda t: 300.0)
    t += HOUR
    # Above the limit for good: fires once the 15-minute mean has been over for 15 minutes.
    fired = replay.run(t, t + HOUR, lambda t: 500.0)
    assert [e.state for e in fired] == ["firing"]
    assert fired[0].at_ms - fired[0].since_ms >= 15 * MINUTE
    assert fired[0].tracked.value > 400
    t += HOUR
    # Wavering just under the limit, inside the 10 % band: neither resolved nor fired again.
    assert replay.run(t, t + 2 * HOUR, lambda t: 390.0 if (t // MINUTE) % 10 < 5 else 410.0) == []
    t += 2 * HOUR
    # Clearly under for half an hour: one resolution.
    resolved = replay.run(t, t + 2 * HOUR, lambda t: 200.0)
    assert [e.state for e in resolved] == ["resolved"]
    assert resolved[0].fingerprint == fired[0].fingerprint


def test_the_fingerprint_is_the_same_in_every_run_and_differs_between_places() -> None:
    first = AlertEngine(alert_park(DEMAND)).watches[0].fingerprint
    second = AlertEngine(alert_park(DEMAND)).watches[0].fingerprint
    assert first == second == fingerprint("alerts", "plant-demand", "building:plant-1")
    assert fingerprint("alerts", "plant-demand", "zone:prod") != first
    assert fingerprint("other", "plant-demand", "building:plant-1") != first


def test_two_replays_of_the_same_readings_announce_the_same_alerts_at_the_same_event_times() -> (
    None
):
    runs = []
    for _ in range(2):
        replay = Replay(alert_park(DEMAND))
        start = local_ms("2026-03-03T00:00")
        replay.run(start, start + DAY, noisy(lambda t: 390.0, seed=7, spread=0.15))
        runs.append([(e.fingerprint, e.state, e.since_ms, e.at_ms) for e in replay.events])
    assert runs[0] and runs[0] == runs[1]


def test_a_restored_engine_continues_without_announcing_again() -> None:
    replay = Replay(alert_park(DEMAND))
    start = local_ms("2026-03-03T06:00")
    fired = replay.run(start, start + 2 * HOUR, lambda t: 500.0)
    assert [e.state for e in fired] == ["firing"]
    # Restart: the engine comes back from its saved state, the twin from its own.
    replay.engine = AlertEngine(replay.park, load_state(replay.engine.dump()))
    t = start + 2 * HOUR
    assert replay.run(t, t + HOUR, lambda t: 500.0) == []
    resolved = replay.run(t + HOUR, t + 3 * HOUR, lambda t: 100.0)
    assert [e.state for e in resolved] == ["resolved"]


SILENCE = "    - {id: meters-silent, kind: device_silence, status: offline}\n"


def test_an_alert_whose_rule_was_removed_ends_and_says_so_once() -> None:
    replay = Replay(alert_park(DEMAND + SILENCE))
    start = local_ms("2026-03-03T06:00")
    fired = replay.run(start, start + 2 * HOUR, lambda t: 500.0)
    assert [e.state for e in fired] == ["firing"]
    # Restart with the demand rule gone from the park file, the other rule kept.
    replay.park = alert_park(SILENCE)
    replay.engine = AlertEngine(replay.park, load_state(replay.engine.dump()))
    t = start + 2 * HOUR
    ended = replay.run(t, t + HOUR, lambda t: 500.0)
    assert [(e.state, e.reason) for e in ended] == [("resolved", "rule removed")]
    assert ended[0].fingerprint == fired[0].fingerprint
    assert ended[0].meta == fired[0].meta and ended[0].since_ms == fired[0].since_ms
    assert replay.run(t + HOUR, t + 2 * HOUR, lambda t: 500.0) == []


def test_an_alert_ends_and_says_so_when_every_rule_was_removed() -> None:
    replay = Replay(alert_park(DEMAND))
    start = local_ms("2026-03-03T06:00")
    fired = replay.run(start, start + 2 * HOUR, lambda t: 500.0)
    assert [e.state for e in fired] == ["firing"]
    replay.park = alert_park("    []\n")
    replay.engine = AlertEngine(replay.park, load_state(replay.engine.dump()))
    t = start + 2 * HOUR
    ended = replay.run(t, t + HOUR, lambda t: 500.0)
    assert [(e.fingerprint, e.state) for e in ended] == [(fired[0].fingerprint, "resolved")]
    assert replay.run(t + HOUR, t + 2 * HOUR, lambda t: 500.0) == []


def test_a_pending_alert_whose_rule_was_removed_ends_unannounced() -> None:
    slow = DEMAND.replace("for_s: 900", "for_s: 86400")
    replay = Replay(alert_park(slow + SILENCE))
    start = local_ms("2026-03-03T06:00")
    assert replay.run(start, start + 2 * HOUR, lambda t: 500.0) == []  # pending, not fired
    replay.park = alert_park(SILENCE)
    replay.engine = AlertEngine(replay.park, load_state(replay.engine.dump()))
    t = start + 2 * HOUR
    assert replay.run(t, t + HOUR, lambda t: 500.0) == []
    assert replay.engine.state.alerts == {} and replay.engine.state.metas == {}


def test_an_empty_building_drawing_more_than_its_base_load_is_waste() -> None:
    park = alert_park(
        "    - {id: plant-waste, kind: waste, buildings: [plant-1], min_history_hours: 48,"
        " for_s: 1800}\n"
    )
    replay = Replay(park)
    # A week of nights at 60 kW: the base load.
    assert replay.run(MONDAY, MONDAY + 7 * DAY, usual_kw, evaluate_every=3) == []
    # Monday night the line is left running at 250 kW with nobody in.
    night = MONDAY + 7 * DAY + 19 * HOUR

    def left_on(ts_ms: int) -> float:
        return 250.0 if hour_of(ts_ms) in (19, 20, 21, 22) else usual_kw(ts_ms)

    events = replay.run(night - 2 * HOUR, night + 8 * HOUR, left_on, usual_persons)
    assert [e.state for e in events] == ["firing", "resolved"]
    firing = events[0]
    assert local(firing.at_ms) >= "2026-03-09 19:30"
    assert firing.tracked.limit < 100  # base load plus margin, learnt from the nights
    assert "above its base load" in firing.tracked.summary


def test_a_silent_meter_fires_and_resolves_when_it_reports_again() -> None:
    park = alert_park("    - {id: silence, kind: device_silence}\n")
    replay = Replay(park)
    start = local_ms("2026-03-03T06:00")
    assert replay.run(start, start + HOUR, usual_kw) == []
    gap = (start + HOUR, start + 3 * HOUR)
    events = replay.run(
        start + HOUR, start + 4 * HOUR, usual_kw, silent=lambda t: gap[0] <= t < gap[1]
    )
    assert [e.state for e in events] == ["firing", "resolved"]
    firing = events[0]
    assert firing.meta.place == "building:plant-1"
    assert "m-plant" in firing.tracked.summary
    # Offline after five 5-minute intervals without a reading.
    assert firing.at_ms - gap[0] >= 5 * 5 * MINUTE
