"""A message is accepted only when topic, device, quantities, values and event time are right."""

from __future__ import annotations

import orjson
import pytest
from helpers import small_park

from parktwin.contract.reading import PayloadError
from parktwin.validation import Limits, validate_message

PARK = small_park("vp")
NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = Limits(max_payload_bytes=2048, earliest_ts_ms=946_684_800_000, max_future_ms=300_000)
TOPIC = "parks/vp/devices/m-plant/telemetry"


def payload(**body: object) -> bytes:
    return orjson.dumps({"v": 1, "ts": NOW_MS, "values": {"energy_kwh": 10.5}} | body)


def reason_of(topic: str, data: bytes) -> str:
    with pytest.raises(PayloadError) as caught:
        validate_message(PARK, LIMITS, topic, data, NOW_MS)
    return caught.value.reason


def test_a_good_reading_passes_with_its_event_time_and_values() -> None:
    (reading,) = validate_message(PARK, LIMITS, TOPIC, payload(seq=7), NOW_MS)
    assert (reading.device_id, reading.ts_ms, reading.values, reading.seq) == (
        "m-plant",
        NOW_MS,
        {"energy_kwh": 10.5},
        7,
    )


def test_rfc3339_event_time_is_read_with_its_offset() -> None:
    data = payload(ts="2026-01-01T08:00:00+08:00")
    (reading,) = validate_message(PARK, LIMITS, TOPIC, data, NOW_MS)
    assert reading.ts_ms == NOW_MS


def test_senml_is_accepted_and_units_are_converted() -> None:
    data = orjson.dumps(
        [
            {"bn": "urn:dev:m-plant:", "bt": NOW_MS / 1000, "n": "power", "u": "W", "v": 2500},
            {"n": "energy", "u": "Wh", "v": 1_000_000},
        ]
    )
    (reading,) = validate_message(PARK, LIMITS, TOPIC, data, NOW_MS)
    assert reading.values == {"power_kw": 2.5, "energy_kwh": 1000.0}


@pytest.mark.parametrize(
    ("topic", "data", "reason"),
    [
        (TOPIC, b'{"v":1,"ts":', "malformed_json"),
        (TOPIC, b"\xff\xfe{}", "not_utf8"),
        (TOPIC, b"[1, 2]", "bad_schema"),
        (TOPIC, b'"text"', "bad_schema"),
        (TOPIC, payload(values={}), "bad_schema"),
        (TOPIC, payload(values={"energy_kwh": "12"}), "bad_value"),
        (TOPIC, payload(values={"energy_kwh": True}), "bad_value"),
        (TOPIC, b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":NaN}}', "malformed_json"),
        (TOPIC, payload(values={"energy_kwh": 1e300}), "out_of_range"),
        (TOPIC, payload(values={"energy_kwh": -1.0}), "out_of_range"),
        (TOPIC, payload(values={"volts": 230}), "unknown_quantity"),
        (TOPIC, payload(values={"occupancy_persons": 3}), "quantity_not_for_kind"),
        (TOPIC, payload(ts=0), "timestamp_out_of_window"),
        (TOPIC, payload(ts=4_070_908_800_000), "timestamp_out_of_window"),  # 2099
        (TOPIC, payload(ts="2026-01-01T08:00:00"), "bad_timestamp"),
        (TOPIC, payload(v=2), "bad_version"),
        (TOPIC, b"x" * 4096, "too_large"),
        ("parks/vp/devices/ghost/telemetry", payload(), "unknown_device"),
        ("parks/other/devices/m-plant/telemetry", payload(), "wrong_park"),
        ("parks/vp/devices/m-plant/status", payload(), "bad_topic"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(topic: str, data: bytes, reason: str) -> None:
    assert reason_of(topic, data) == reason


def test_a_message_up_to_the_future_limit_is_accepted_and_one_past_it_is_not() -> None:
    validate_message(PARK, LIMITS, TOPIC, payload(ts=NOW_MS + 300_000), NOW_MS)
    assert reason_of(TOPIC, payload(ts=NOW_MS + 300_001)) == "timestamp_out_of_window"


def test_a_decoder_failure_costs_the_message_not_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parktwin.contract import payload as codec

    def broken(device_id: str, data: bytes) -> list[object]:
        raise RecursionError("maximum recursion depth exceeded")

    # A seam for an unknown bug: the decoder raising something it should not.
    monkeypatch.setattr(codec, "decode", broken)
    assert reason_of(TOPIC, payload()) == "decoder_error"


@pytest.mark.parametrize(
    "data",
    [
        b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":1,"energy_kwh":2}}',
        b'{"v":1,"v":1,"ts":"2026-01-01T00:00:00Z","values":{"energy_kwh":1}}',
        b'[{"bn":"urn:dev:m-plant:","bt":1767225600,"n":"energy","u":"kWh","v":1,"v":2}]',
        b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":1},"meta":{"a":1,"a":2}}',
    ],
)
def test_a_key_repeated_in_any_object_refuses_the_document(data: bytes) -> None:
    assert reason_of(TOPIC, data) == "duplicate_key"


@pytest.mark.parametrize(
    "data",
    [
        b'{"v":1,"ts":"2026-01-01T08:00:00+08:00","values":{"energy_kwh":1}}',
        b'{ "v" : 1 , "ts" : 1767225600000 , "values" : { "energy_kwh" : 1 } }',
        b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":1},"note":"a:b:c","x":{"a":1}}',
        b'[{"bn":"urn:dev:m-plant:","bt":1767225600,"n":"energy","u":"kWh","v":1}]',
    ],
)
def test_colons_in_strings_and_nested_objects_are_no_repeat(data: bytes) -> None:
    assert validate_message(PARK, LIMITS, TOPIC, data, NOW_MS)


@pytest.mark.parametrize("version", [b"true", b"1.0", b'"1"', b"2"])
def test_the_version_is_the_integer_1(version: bytes) -> None:
    data = b'{"v":' + version + b',"ts":1767225600000,"values":{"energy_kwh":1}}'
    assert reason_of(TOPIC, data) == "bad_version"
