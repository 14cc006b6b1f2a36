"""The twin service's shortcut for usual native messages (twin/service/native_readings.py)
makes exactly the readings of the general path (``validate_message``, which both decoders the
service is given take for a device's telemetry topic), and leaves every other message, good or
bad, to the general path, which says why it refuses it."""

from __future__ import annotations

import random

import orjson
import pytest
from helpers import (
    SHORTCUT_LIMITS,
    SHORTCUT_NOW_MS,
    bad_native_messages,
    every_kind_park,
    native_body,
    unusual_good_native_payloads,
    usual_native_payloads,
)

from collectors.routing import MessageRouter
from parktwin.contract import topics
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import PayloadError, Reading
from parktwin.decoding import NativeDecoder
from twin.service.native_readings import NativeReadings

PARK = every_kind_park("nr")
NOW_MS = SHORTCUT_NOW_MS
LIMITS = SHORTCUT_LIMITS
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


body = native_body


@pytest.mark.parametrize(
    "payload",
    [
        *usual_native_payloads(),
        native_body(values={"power_kw": 1e6}),  # the range's bounds are inside it
        native_body(values={"power_kw": -1e6, "energy_kwh": 0}),
    ],
)
def test_usual_messages_take_the_shortcut_and_make_the_general_paths_reading(
    payload: bytes,
) -> None:
    assert assert_same(NativeReadings(PARK, LIMITS), METER, payload)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        *bad_native_messages("nr"),
        (METER, body(values={"power_kw": 1_000_000.5}), "out_of_range"),
        (METER, body(values={"energy_kwh": 1.0, "power_kw": -1_000_001}), "out_of_range"),
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
    unusual_good_native_payloads(),
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
