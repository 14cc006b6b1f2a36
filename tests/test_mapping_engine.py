"""The mapping engine's rules, each on a small message: what is taken, and what is refused
with which reason (one value at a time where the message allows it)."""

from __future__ import annotations

import orjson
import pytest
from helpers import SMALL_PARK

from collectors.mapping.compiled import MappingError, compile_mappings
from collectors.routing import MessageRouter, covers
from parktwin.contract.reading import PayloadError, Reading
from parktwin.park.loader import parse_park
from parktwin.validation import Limits

ARRIVAL_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = Limits(65536, 946_684_800_000, 300_000)


def router(mappings: str) -> MessageRouter:
    return MessageRouter(parse_park(SMALL_PARK.format(park_id="p1") + mappings, "park"), LIMITS)


def take(
    r: MessageRouter, topic: str, body: object, arrival_ms: int = ARRIVAL_MS
) -> tuple[list[Reading], list[str]]:
    refused: list[PayloadError] = []
    readings = r.readings(topic, orjson.dumps(body), arrival_ms, refused)
    return readings, [e.reason for e in refused]


def refusal(r: MessageRouter, topic: str, body: object) -> str:
    with pytest.raises(PayloadError) as caught:
        take(r, topic, body)
    return caught.value.reason


METER = """
mappings:
  - topic: meters/+/data
    identity: {topic_level: 1}
    devices: {A1: m-plant, B2: m-flats}
    time: {path: $.ts, format: epoch_ms}
    values:
      energy_kwh: {path: $.e, unit: Wh, type: counter}
      power_kw: {path: $.p, unit: W}
"""


def test_values_are_converted_and_tagged_with_the_mapped_device() -> None:
    readings, refused = take(
        router(METER), "meters/A1/data", {"ts": ARRIVAL_MS, "e": 1500, "p": 250}
    )
    assert readings == [Reading("m-plant", ARRIVAL_MS, {"energy_kwh": 1.5, "power_kw": 0.25})]
    assert refused == []


def test_a_missing_path_refuses_that_value_and_keeps_the_others() -> None:
    readings, refused = take(router(METER), "meters/A1/data", {"ts": ARRIVAL_MS, "e": 1500})
    assert readings == [Reading("m-plant", ARRIVAL_MS, {"energy_kwh": 1.5})]
    assert refused == ["missing_value"]


@pytest.mark.parametrize("bad", ["12.5", True, None, [1, "x"]])
def test_a_value_of_the_wrong_type_is_refused(bad: object) -> None:
    readings, refused = take(router(METER), "meters/A1/data", {"ts": ARRIVAL_MS, "e": 1, "p": bad})
    assert [r.values for r in readings] == [{"energy_kwh": 0.001}]
    assert "bad_value" in refused or "unknown_identity" in refused


def test_an_unknown_identity_is_refused_not_guessed() -> None:
    body = {"ts": ARRIVAL_MS, "e": 1, "p": 1}
    assert refusal(router(METER), "meters/ZZ/data", body) == "unknown_identity"
    # A channel the mapping does not name is refused on its own.
    readings, refused = take(
        router(FANOUT), "three/X", {"phases": [{"p": 1}, {"p": 2}, {"p": 3}, {"p": 4}]}
    )
    assert len(readings) == 3 and refused == ["unknown_identity"]


def test_a_value_outside_its_range_is_refused_like_a_native_one() -> None:
    readings, refused = take(router(METER), "meters/A1/data", {"ts": ARRIVAL_MS, "e": -5, "p": 1})
    assert refused == ["out_of_range"]
    assert readings[0].values == {"power_kw": 0.001}


def test_a_time_outside_the_window_is_refused_like_a_native_one() -> None:
    readings, refused = take(
        router(METER), "meters/A1/data", {"ts": ARRIVAL_MS + 3_600_000, "e": 1, "p": 1}
    )
    assert (readings, refused) == ([], ["timestamp_out_of_window"])


def test_a_message_that_is_not_json_is_refused_as_a_whole() -> None:
    with pytest.raises(PayloadError) as caught:
        router(METER).readings("meters/A1/data", b"{nope", ARRIVAL_MS, [])
    assert caught.value.reason == "malformed_json"


def test_a_payload_field_selects_the_mapping() -> None:
    r = router(
        """
mappings:
  - topic: gw/+/up
    match: {path: $.type, equals: [energy]}
    identity: {path: $.dev}
    devices: {A1: m-plant}
    time: {format: arrival}
    values: {power_kw: {path: $.p, unit: kW}}
"""
    )
    readings, _ = take(r, "gw/x/up", {"type": "energy", "dev": "A1", "p": 3})
    assert readings == [Reading("m-plant", ARRIVAL_MS, {"power_kw": 3.0}, None, True)]
    assert refusal(r, "gw/x/up", {"type": "heartbeat", "dev": "A1"}) == "no_mapping_matched"
    assert refusal(r, "gw/x/up", {"type": "energy", "p": 3}) == "missing_identity"


@pytest.mark.parametrize(
    ("form", "ts", "ts_ms"),
    [
        ("epoch_s", 1767225600.25, ARRIVAL_MS + 250),
        ("epoch_ms", 1767225600250, ARRIVAL_MS + 250),
        ("epoch_us", 1767225600250000, ARRIVAL_MS + 250),
        ("iso", "2026-01-01T08:00:00.250+08:00", ARRIVAL_MS + 250),
        ("local", "2026-01-01T01:00:00.250", ARRIVAL_MS + 250),  # Europe/Berlin, +01:00
        ("local", "2026-01-01T00:00:00.250Z", ARRIVAL_MS + 250),  # an offset given wins
    ],
)
def test_time_formats(form: str, ts: object, ts_ms: int) -> None:
    r = router(
        f"""
mappings:
  - topic: t/+
    identity: {{topic_level: 1}}
    time: {{path: $.t, format: {form}, zone: Europe/Berlin}}
    values: {{power_kw: {{path: $.p}}}}
"""
    )
    readings, _ = take(r, "t/m-plant", {"t": ts, "p": 1})
    assert readings == [Reading("m-plant", ts_ms, {"power_kw": 1.0})]


@pytest.mark.parametrize("form", ["local", "iso"])
def test_a_time_text_read_again_is_the_time_a_fresh_mapping_reads(form: str) -> None:
    """A mapping keeps the times of the texts it has read: read again (kept) a text gives what
    a mapping that never saw it gives, across daylight-saving changes, with and without an
    offset; a text refused is refused again, with the same reason."""
    mappings = f"""
mappings:
  - topic: t/+
    identity: {{topic_level: 1}}
    time: {{path: $.t, format: {form}, zone: Europe/Berlin}}
    values: {{power_kw: {{path: $.p}}}}
"""
    texts = [
        "2026-03-29T01:59:59.500",  # the last second before the clocks go forward
        "2026-03-29T02:30:00",  # a local time that does not exist
        "2026-03-29T03:00:00",
        "2026-10-25T02:30:00",  # one that exists twice: the earlier is taken
        "2026-10-25T03:00:00",
        "2026-01-01 12:00:00",
        "2026-01-01T00:00:00.250Z",
        "2026-01-01T08:00:00+08:00",
        "2026-13-01T00:00:00",  # refused
        "soon",  # refused
    ]
    later = 1_800_000_000_000  # 2027: every text is in the past

    def outcome(r: MessageRouter, text: str) -> object:
        try:
            return take(r, "t/m-plant", {"t": text, "p": 1}, later)
        except PayloadError as exc:
            return exc.reason, exc.detail

    warm = router(mappings)
    for text in texts:
        first, again = outcome(warm, text), outcome(warm, text)
        assert first == again == outcome(router(mappings), text), text
    assert outcome(warm, "soon")[0] == "bad_timestamp"  # type: ignore[index]


@pytest.mark.parametrize(
    ("form", "ts"), [("iso", "2026-01-01T08:00:00"), ("epoch_ms", "17"), ("epoch_s", None)]
)
def test_a_time_that_does_not_parse_refuses_the_message(form: str, ts: object) -> None:
    r = router(
        f"""
mappings:
  - topic: t/+
    identity: {{topic_level: 1}}
    time: {{path: $.t, format: {form}}}
    values: {{power_kw: {{path: $.p}}}}
"""
    )
    assert refusal(r, "t/m-plant", {"t": ts, "p": 1}) == "bad_timestamp"


FANOUT = """
mappings:
  - topic: three/+
    identity: {topic_level: 1}
    devices: {X/0: m-plant, X/1: m-flats, X/2: pv-1}
    time: {format: arrival}
    values: {power_kw: {path: "$.phases[*].p", unit: W}}
"""


def test_several_matches_fan_out_into_channels() -> None:
    body = {"phases": [{"p": 1000}, {"p": 2000}, {"p": 3000}]}
    readings, refused = take(router(FANOUT), "three/X", body)
    assert {r.device_id: r.values["power_kw"] for r in readings} == {
        "m-plant": 1.0,
        "m-flats": 2.0,
        "pv-1": 3.0,
    }
    assert refused == []


def test_a_unit_read_from_the_message_converts_or_is_refused() -> None:
    r = router(
        """
mappings:
  - topic: u/+
    identity: {topic_level: 1}
    time: {format: arrival}
    values: {energy_kwh: {path: $.v, unit_path: $.u}}
"""
    )
    assert take(r, "u/m-plant", {"v": 2, "u": "MWh"})[0][0].values == {"energy_kwh": 2000.0}
    assert take(r, "u/m-plant", {"v": 2, "u": "m3"}) == ([], ["unknown_unit"])


def test_a_bad_quality_code_refuses_the_values_it_qualifies() -> None:
    r = router(
        """
mappings:
  - preset: wise
    devices: {AA: gas-1}
    values: {gas_m3: {path: $.di1, scale: 0.01}}
"""
    )
    good = {"t": "2026-01-01T00:00:00Z", "q": 192, "di1": 1234}
    assert take(r, "Advantech/AA/data", good)[0][0].values == {"gas_m3": 12.34}
    assert take(r, "Advantech/AA/data", {**good, "q": 24}) == ([], ["bad_quality"])


def test_an_errors_object_refuses_the_value_it_names() -> None:
    r = router(
        """
mappings:
  - preset: neuron
    devices: {meter-1: m-plant}
    values:
      energy_kwh: {path: $.values.EP}
      power_kw: {path: $.values.P, unit: W}
"""
    )
    body = {"timestamp": ARRIVAL_MS, "node": "meter-1", "values": {"EP": 5}, "errors": {"P": 3002}}
    readings, refused = take(r, "/neuron/north/meter-1/grp", body)
    assert readings == [Reading("m-plant", ARRIVAL_MS, {"energy_kwh": 5.0})]
    assert refused == ["device_error"]


SHELLY = """
mappings:
  - preset: shelly
    devices: {"sh-1/switch:0": m-plant, "sh-1/switch:1": m-flats}
"""


def notify(ts: float, **components: object) -> dict[str, object]:
    return {"src": "sh-1", "method": "NotifyStatus", "params": {"ts": ts, **components}}


def test_partial_notifications_are_laid_over_the_last_known_status() -> None:
    r = router(SHELLY)
    full = {"id": 0, "apower": 100.0, "aenergy": {"total": 5000.0}}
    take(r, "sh-1/events/rpc", notify(1767225600.0, **{"switch:0": full}))
    readings, _ = take(r, "sh-1/events/rpc", notify(1767225601.5, **{"switch:0": {"apower": 250}}))
    assert readings == [Reading("m-plant", 1767225601500, {"energy_kwh": 5.0, "power_kw": 0.25})]
    # Another component's change gives only that component's reading.
    readings, _ = take(r, "sh-1/events/rpc", notify(1767225602.0, **{"switch:1": {"apower": 7}}))
    assert readings == [Reading("m-flats", 1767225602000, {"power_kw": 0.007})]
    # A change of nothing mapped (wifi, sys) gives nothing and refuses nothing.
    assert take(r, "sh-1/events/rpc", notify(1767225603.0, wifi={"rssi": -60})) == ([], [])


def test_native_messages_still_speak_the_contract_beside_mappings() -> None:
    native = {"v": 1, "ts": ARRIVAL_MS, "values": {"energy_kwh": 3.5}}
    readings, refused = take(router(METER), "parks/p1/devices/m-plant/telemetry", native)
    assert (readings, refused) == ([Reading("m-plant", ARRIVAL_MS, {"energy_kwh": 3.5})], [])
    assert refusal(router(METER), "parks/p1/devices/ghost/telemetry", native) == "unknown_device"


def test_a_wide_filter_never_takes_the_parks_own_topics() -> None:
    r = router(
        """
mappings:
  - topic: "#"
    identity: {path: $.id}
    time: {format: arrival}
    values: {power_kw: {path: $.p}}
"""
    )
    assert take(r, "parks/p1/deadletter", {"reason": "x"}) == ([], [])
    assert r.subscriptions() == ["#"]


def test_subscriptions_leave_out_filters_another_one_covers() -> None:
    r = router(
        """
mappings:
  - topic: z/one
    identity: {topic_level: 1}
    time: {format: arrival}
    values: {power_kw: {path: $.p}}
  - topic: z/+
    identity: {topic_level: 1}
    time: {format: arrival}
    values: {power_kw: {path: $.p}}
"""
    )
    assert r.subscriptions() == ["parks/p1/devices/+/telemetry", "z/+"]
    assert r.subscriptions("g") == ["$share/g/parks/p1/devices/+/telemetry", "$share/g/z/+"]
    assert covers("a/#", "a/b/c") and not covers("a/+", "a/b/c")


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ("{preset: nosuch}", "unknown preset"),
        (
            "{topic: a/+, identity: {topic_level: 1}, time: {format: arrival},"
            " values: {energy_kwh: {path: $.e, unit: W}}}",
            "does not convert",
        ),
        (
            "{topic: a/+, identity: {topic_level: 1}, time: {format: arrival},"
            " values: {power_kw: {path: $.p, type: counter}}}",
            "not a counter",
        ),
        (
            "{identity: {topic_level: 1}, time: {format: arrival}, values: {power_kw: {path: p}}}",
            "topic is required",
        ),
        (
            "{topic: a/+, identity: {topic_level: 1}, time: {format: epoch_s},"
            " values: {power_kw: {path: $.p}}}",
            "give a path",
        ),
        (
            "{topic: a/+, identity: {topic_level: 1}, time: {format: arrival}, devices: {x: occ-1},"
            " values: {power_kw: {path: $.p}}}",
            "not reported by a occupancy_counter",
        ),
        (
            "{topic: a/+, identity: {topic_level: 1}, time: {format: arrival},"
            " values: {power_w: {path: $.p}}}",
            "not a parktwin quantity",
        ),
    ],
)
def test_mappings_that_cannot_work_are_refused_at_load(mapping: str, problem: str) -> None:
    park = parse_park(SMALL_PARK.format(park_id="p1") + f"mappings:\n  - {mapping}\n", "park")
    with pytest.raises(MappingError, match=problem):
        compile_mappings(park)


def test_a_counter_that_goes_down_is_passed_on_for_the_twin_to_judge() -> None:
    # Zigbee2MQTT plugs can lose their energy total (Koenkk/zigbee2mqtt#24396): the mapping
    # neither refuses nor mends it; the twin's counter rules decide what a drop means.
    r = router(
        """
mappings:
  - preset: zigbee2mqtt
    devices: {"0x70b3d52b600f6490": m-plant}
"""
    )
    device = {"ieeeAddr": "0x70b3d52b600f6490"}
    first, _ = take(r, "zigbee2mqtt/plug", {"device": device, "energy": 12.05, "power": 0})
    second, _ = take(
        r, "zigbee2mqtt/plug", {"device": device, "energy": 0.0, "power": 0}, ARRIVAL_MS + 1
    )
    assert [x.values["energy_kwh"] for x in first + second] == [12.05, 0.0]
    assert all(x.ts_from_arrival for x in first + second)
