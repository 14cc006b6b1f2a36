"""The twin service's shortcut for usual native messages (twin/service/native_readings.py)
makes exactly the readings of the general path (``validate_message``, which both decoders the
service is given take for a device's telemetry topic), and leaves every other message, good or
bad, to the general path, which says why it refuses it."""

from __future__ import annotations

import random

import orjson
import pytest
from helpers import every_kind_park

from collectors.routing import MessageRouter
from parktwin.contract import topics
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import PayloadError, Reading
from parktwin.decoding import NativeDecoder
from parktwin.validation import Limits
from twin.service.native_readings import NativeReadings

PARK = every_kind_park("nr")
NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = Limits(max_payload_bytes=2048, earliest_ts_ms=946_684_800_000, max_future_ms=300_000)
METER = topics.telemetry("nr", "fab-em")


def general(topic: str, payload: bytes) -> tuple[list[Reading], str]:
    """What each decoder the service may be given makes of a message: its readings, or the
    reason it is refused (both decoders must agree)."""
    found = []
    for decoder in (NativeDecoder(PARK, LIMITS), MessageRouter(PARK, LIMITS)):
        try:
            found.append((decoder.readings(topic, payload, NOW_MS, []), ""))
        except PayloadError as exc:
            found.append(([], exc.reason))
    assert found[0] == found[1], payload
    return found[0]


def assert_same(native: NativeReadings, topic: str, payload: bytes) -> bool:
    """The shortcut agrees with the general path on one message; whether it took it."""
    reading = native.reading(topic, payload, NOW_MS)
    if reading is None:
        return False
    expected, reason = general(topic, payload)
    assert reason == "", (payload, reason)
    assert [reading] == expected, payload
    assert all(type(v) is float for v in reading.values.values()), payload
    assert list(reading.values) == list(expected[0].values), payload  # the same order
    return True


def body(**fields: object) -> bytes:
    return orjson.dumps({"v": 1, "ts": NOW_MS, "values": {"energy_kwh": 10.5}} | fields)


@pytest.mark.parametrize(
    "payload",
    [
        body(),
        body(seq=7),
        body(values={"energy_kwh": 10, "power_kw": 2.5}),  # an integer is stored as a float
        body(values={"power_kw": 0.1 + 0.2, "energy_kwh": 1e-7}),  # another order
        orjson.dumps({"ts": NOW_MS, "values": {"energy_kwh": 1.0}}),  # v is optional
        orjson.dumps({"values": {"power_kw": 3.0}, "seq": 1, "ts": NOW_MS, "v": 1}),
        body(ts=NOW_MS + 300_000),  # the latest time allowed
        body(ts=946_684_800_000),  # the earliest
        body(seq=None),
        body(values={"power_kw": 1e6}),  # the range's bounds are inside it
        body(values={"power_kw": -1e6, "energy_kwh": 0}),
    ],
)
def test_usual_messages_take_the_shortcut_and_make_the_general_paths_reading(
    payload: bytes,
) -> None:
    assert assert_same(NativeReadings(PARK, LIMITS), METER, payload)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (METER, body(v=2), "bad_version"),
        (METER, body(v=True), "bad_version"),
        (METER, body(v=1.0), "bad_version"),
        (METER, body(ts=True), "bad_timestamp"),
        (METER, orjson.dumps({"v": 1, "values": {"energy_kwh": 1.0}}), "bad_schema"),
        (METER, body(ts=NOW_MS + 300_001), "timestamp_out_of_window"),
        (METER, body(ts=946_684_799_999), "timestamp_out_of_window"),
        (METER, body(values={}), "bad_schema"),
        (METER, body(values=[1]), "bad_schema"),
        (METER, body(values={"energy_kwh": True}), "bad_value"),
        (METER, body(values={"energy_kwh": "1"}), "bad_value"),
        (METER, body(values={"energy_kwh": -1.0}), "out_of_range"),
        (METER, body(values={"power_kw": 1_000_000.5}), "out_of_range"),
        (METER, body(values={"energy_kwh": 1.0, "power_kw": -1_000_001}), "out_of_range"),
        (
            METER,
            b'{"ts":1767225600000,"values":{"energy_kwh":123456789012345678901234567890}}',
            "out_of_range",
        ),  # beyond int64: orjson reads a float
        (METER, body(values={"co2_ppm": 400.0}), "quantity_not_for_kind"),
        (METER, body(values={"nonsense_kwh": 1.0}), "unknown_quantity"),
        (METER, body(seq=1.5), "bad_schema"),
        (METER, body(seq=True), "bad_schema"),
        (METER, b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":1.0,"energy_kwh":2.0}}', ""),
        (METER, b'{"v":1,"v":1,"ts":1767225600000,"values":{"energy_kwh":1.0}}', ""),
        (METER, b'{"v":1,"ts":', "malformed_json"),
        (METER, b"\xff\xfe{}", "not_utf8"),
        (METER, b"[1, 2]", "bad_schema"),
        (METER, b"42", "bad_schema"),
        (METER, b" " * 2049, "too_large"),
        (topics.telemetry("nr", "nobody"), body(), "unknown_device"),
        (topics.telemetry("other", "fab-em"), body(), "wrong_park"),
        ("parks/nr/devices/fab-em/status", body(), "bad_topic"),
    ],
)
def test_bad_messages_go_the_general_way_and_are_refused_there(
    topic: str, payload: bytes, reason: str
) -> None:
    assert not assert_same(NativeReadings(PARK, LIMITS), topic, payload)
    readings, found = general(topic, payload)
    if reason:
        assert (readings, found) == ([], reason)
    else:  # a repeated key: refused, whatever its reason's exact wording
        assert readings == [] and found == "duplicate_key"


@pytest.mark.parametrize(
    "payload",
    [
        body(ts="2026-01-01T08:00:00+08:00"),  # RFC 3339 text: colons inside a string
        body(ts=float(NOW_MS)),
        body(note="a: b"),  # an extra key with a colon in its text
        body(extra={"nested": 1}),  # an object elsewhere: more keys than counted
        orjson.dumps(
            [{"bn": "urn:dev:fab-em:", "bt": NOW_MS / 1000, "n": "power", "u": "W", "v": 2500}]
        ),
    ],
)
def test_unusual_good_messages_are_left_to_the_general_path_which_accepts_them(
    payload: bytes,
) -> None:
    assert not assert_same(NativeReadings(PARK, LIMITS), METER, payload)
    readings, reason = general(METER, payload)
    assert reason == "" and len(readings) == 1


def test_random_messages_of_every_kind_give_the_general_paths_readings_or_go_its_way() -> None:
    """One shortcut object throughout (its kept range sets): every message it takes gives the
    general path's reading; most usual ones are taken."""
    rng = random.Random(20)
    native = NativeReadings(PARK, LIMITS)
    taken = 0
    for k in range(4000):
        device = rng.choice(PARK.devices)
        allowed = sorted(KINDS[device.kind].quantities)
        names = rng.sample(allowed, rng.randint(1, min(3, len(allowed))))
        if rng.random() < 0.05:
            names.append(rng.choice(["co2_ppm", "energy_kwh", "bogus_x"]))
        values: dict[str, object] = {
            name: rng.choice([rng.uniform(0, 50), rng.randint(0, 10_000)] * 20 + [-5.0, "x"])
            for name in names
        }
        fields: dict[str, object] = {"v": rng.choice([1] * 9 + [2]), "values": values}
        fields["ts"] = rng.choice([NOW_MS - k] * 8 + [NOW_MS + 10**9, "2026-01-01T00:00:00Z"])
        if rng.random() < 0.7:
            fields["seq"] = rng.choice([k, k, k - 5, 3, "7"])
        topic = topics.telemetry("nr", device.id)
        taken += assert_same(native, topic, orjson.dumps(fields))
    assert taken > 1500
