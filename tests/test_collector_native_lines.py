"""The collector's shortcut for usual native messages (collectors/native_lines.py) writes exactly
the lines, event times and sequence numbers of the general path (decode, check, tag, render),
and leaves every other message, good or bad, to the general path, which says why it refuses it."""

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

from collectors.native_lines import NativeLines
from collectors.routing import MessageRouter
from collectors.tagging import render, series_keys
from parktwin.contract import topics
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import PayloadError
from parktwin.sequence import SequenceGaps
from parktwin.wire.inbound import Message

PARK = every_kind_park("nl")
NOW_MS = SHORTCUT_NOW_MS
LIMITS = SHORTCUT_LIMITS
KEYS = series_keys(PARK)
ARRIVAL_KEYS = series_keys(PARK, {"ts_source": "arrival"})
METER = topics.telemetry("nl", "fab-em")


def general(topic: str, payload: bytes, sequences: SequenceGaps) -> tuple[list[str], str]:
    """What the general path makes of a message: its lines, or the reason it is refused."""
    router = MessageRouter(PARK, LIMITS)
    try:
        readings = router.readings(topic, payload, NOW_MS, [])
    except PayloadError as exc:
        return [], exc.reason
    sequences.observe(readings)
    return render(KEYS, readings, ARRIVAL_KEYS), ""


def shortcut(
    native: NativeLines, topic: str, payload: bytes, sequences: SequenceGaps
) -> tuple[list[str], int | None]:
    """The shortcut on one message: its line and event time, or None if it was not taken."""
    lines: list[str] = []
    acks: list[int] = []
    message = Message(topic, payload, 1, 7, False)
    taken_to, ts_ms = native.take_run([message], 0, 1, NOW_MS, lines, acks, sequences)
    assert acks == ([7] if taken_to else [])
    return lines, (ts_ms if taken_to else None)


def assert_same(topic: str, payload: bytes) -> bool:
    """The shortcut agrees with the general path on one message; whether it took it."""
    native = NativeLines(PARK, LIMITS, KEYS)
    fast_seq, plain_seq = SequenceGaps(), SequenceGaps()
    lines, ts_ms = shortcut(native, topic, payload, fast_seq)
    if ts_ms is None:
        assert lines == [] and fast_seq.devices == {}, payload
        return False
    expected, reason = general(topic, payload, plain_seq)
    assert reason == "", (payload, reason)
    assert lines == expected, payload
    assert ts_ms == int(expected[0].rsplit(" ", 1)[1])
    assert fast_seq == plain_seq, payload
    return True


body = native_body


@pytest.mark.parametrize(
    "payload",
    [*usual_native_payloads()],
)
def test_usual_messages_take_the_shortcut_and_make_the_general_paths_line(payload: bytes) -> None:
    assert assert_same(METER, payload)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [*bad_native_messages("nl")],
)
def test_bad_messages_go_the_general_way_and_are_refused_there(
    topic: str, payload: bytes, reason: str
) -> None:
    assert not assert_same(topic, payload)
    lines, found = general(topic, payload, SequenceGaps())
    if reason:
        assert (lines, found) == ([], reason)
    else:  # a repeated key: refused, whatever its reason's exact wording
        assert lines == [] and found == "duplicate_key"


@pytest.mark.parametrize(
    "payload",
    unusual_good_native_payloads(),
)
def test_unusual_good_messages_are_left_to_the_general_path_which_accepts_them(
    payload: bytes,
) -> None:
    assert not assert_same(METER, payload)
    lines, reason = general(METER, payload, SequenceGaps())
    assert reason == "" and len(lines) == 1


def random_messages(count: int, seed: int) -> list[Message]:
    """Messages of every kind of device, most of them usual, some not, some bad."""
    rng = random.Random(seed)
    messages = []
    for k in range(count):
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
        topic = topics.telemetry("nl", device.id)
        messages.append(Message(topic, orjson.dumps(fields), rng.choice([1, 1, 0]), k + 1, False))
    return messages


@pytest.mark.parametrize("most", [1, 7, 5000])
def test_runs_of_messages_keep_the_general_paths_lines_acks_and_sequences(most: int) -> None:
    """The collector's loop: runs through the shortcut, the general path for the message that
    stops a run; one shortcut object throughout (its kept templates). Every line, ack and
    sequence number is the general path's, message by message."""
    messages = random_messages(3000, seed=most)
    native = NativeLines(PARK, LIMITS, KEYS)
    fast_seq, plain_seq = SequenceGaps(), SequenceGaps()
    fast_lines: list[str] = []
    fast_acks: list[int] = []
    index, taken = 0, 0
    while index < len(messages):
        taken_to, ts_ms = native.take_run(
            messages, index, most, NOW_MS, fast_lines, fast_acks, fast_seq
        )
        assert taken_to - index <= most
        if taken_to > index:
            assert ts_ms == int(fast_lines[-1].rsplit(" ", 1)[1])
            taken += taken_to - index
            index = taken_to
            continue
        message = messages[index]
        lines, _ = general(message.topic, message.payload, fast_seq)  # as the collector does
        fast_lines += lines
        fast_acks += [message.mid] if message.qos else []
        index += 1
    plain_lines: list[str] = []
    for message in messages:
        plain_lines += general(message.topic, message.payload, plain_seq)[0]
    assert fast_lines == plain_lines
    assert fast_acks == [m.mid for m in messages if m.qos]
    assert fast_seq == plain_seq
    assert taken > 1500  # the shortcut is really taken (most messages are usual ones)
