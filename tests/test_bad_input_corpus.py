"""Every message of the bad-input corpus (tests/data/bad_messages) is refused with its reason,
counted and dead-lettered by a running collector behind a real mosquitto, and the good messages
around it are stored exactly once. The corpus also seeds the fuzz target (tests/fuzz)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import InfluxDatabase, Mosquitto
from fuzz.message_case import MessageCase, load_cases
from helpers import (
    REASONS,
    Sent,
    collect_dead_letters,
    collector_settings,
    payload_of,
    readings_for,
    running,
    small_park,
    wait_until,
)
from paho.mqtt.client import topic_matches_sub

from collectors.service import Collector
from parktwin.config import CollectorSettings
from parktwin.contract import topics
from parktwin.contract.payload import decode
from parktwin.mqtt import make_client
from parktwin.validation import Limits, validate_message

CASES = load_cases()


def reaches_the_collector(case: MessageCase, park_id: str) -> bool:
    """Whether the broker delivers the case to a collector subscribed to the park's telemetry."""
    return topic_matches_sub(topics.telemetry_filter(park_id), case.topic_for(park_id))


def test_the_corpus_covers_every_refusal_reason_with_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert {c.reason for c in CASES} == REASONS | {"accepted"}
    assert all(c.why for c in CASES)  # each case says what it is about


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validation_gives_each_case_its_reason(case: MessageCase) -> None:
    park = small_park("p1")
    limits = Limits.from_settings(CollectorSettings())
    try:
        validate_message(park, limits, case.topic_for("p1"), case.payload, int(time.time() * 1e3))
        reason = "accepted"
    except ValueError as exc:
        reason = getattr(exc, "reason", repr(exc))
    assert reason == case.reason


def test_a_decreasing_counter_is_a_reset_and_is_kept_as_sent() -> None:
    case = next(c for c in CASES if c.name.endswith("senml-decreasing-counter"))
    readings = decode("m-flats", case.payload)
    assert [r.values["energy_kwh"] for r in readings] == [1000.0, 3.0]


def interleave(good: list[Sent], bad: list[MessageCase], park_id: str) -> list[tuple[str, bytes]]:
    """Good readings with one bad message after every ``len(good) // len(bad)`` of them."""
    step = max(1, len(good) // len(bad))
    messages: list[tuple[str, bytes]] = []
    for index, sent in enumerate(good):
        messages.append((topics.telemetry(park_id, sent.device_id), payload_of(sent)))
        if index % step == step - 1 and index // step < len(bad):
            case = bad[index // step]
            messages.append((case.topic_for(park_id), case.payload))
    return messages


async def test_every_bad_message_is_dead_lettered_with_its_reason_and_costs_no_good_reading(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    good = readings_for(park, 25)  # 150 readings, two or three between bad messages
    delivered = [c for c in CASES if reaches_the_collector(c, park_id)]
    refused = [c for c in delivered if c.reason != "accepted"]
    accepted = [c for c in delivered if c.reason == "accepted"]
    assert len(delivered) < len(CASES)  # some cases test that the broker keeps them away
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    letters: list[dict[str, Any]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(collect_dead_letters(settings.mqtt, park_id, ready, letters))
    await ready.wait()
    collector = Collector(park, settings)
    async with running(collector):
        async with make_client(settings.mqtt, f"bad-{park_id}") as client:
            for topic, payload in interleave(good, CASES, park_id):
                await client.publish(topic, payload, qos=1)
        await wait_until(lambda: len(letters) >= len(refused), 30)
        odd = sum(len(decode("m-flats", case.payload)) for case in accepted)
        await wait_until(lambda: collector.stats.readings_stored >= len(good) + odd, 30)
    listener.cancel()

    # One dead letter per refused message, in publishing order, with its reason and topic.
    assert [(x["reason"], x["topic"]) for x in letters] == [
        (c.reason, c.topic_for(park_id)) for c in refused
    ]
    assert collector.stats.rejected_by_reason == Counter(c.reason for c in refused)
    assert collector.stats.messages_received == len(good) + len(delivered)
    # The good neighbours and the accepted odd case are stored exactly once, nothing else.
    stored: Counter[tuple[str, int]] = Counter()
    for series in influxdb.query('SELECT * FROM /.*/ GROUP BY "device"'):
        for row in series["values"]:  # type: ignore[union-attr]
            stored[(series["tags"]["device"], row[0])] += 1  # type: ignore[index]
    wanted = Counter((s.device_id, s.ts_ms) for s in good)
    for case in accepted:
        device = case.topic_for(park_id).split("/")[3]
        wanted.update((device, r.ts_ms) for r in decode(device, case.payload))
    assert stored == wanted
    # What an operator sees: the echo is bounded, binary is base64, the size is the real one.
    by_reason = {x["reason"]: x for x in letters}
    assert by_reason["too_large"]["payload_bytes"] == 65537
    assert by_reason["too_large"]["truncated"] is True
    assert len(by_reason["too_large"]["payload"]) == 4096
    assert "payload_base64" in by_reason["not_utf8"]
