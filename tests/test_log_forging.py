"""Text a device sends never reaches a log line, a dead letter's reason or the twin's outputs
raw: newlines (a forged log line), ANSI escapes (a terminal driven by a payload) and HTML (a page
that runs it) in quantity names, topics, SenML names and units, and times. A collector and a
twin run on a real mosquitto and InfluxDB; their logs are captured at DEBUG."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import collect_dead_letters, collector_settings, running, small_park, wait_until

from collectors.service import Collector
from parktwin.config import MqttSettings, load_settings
from parktwin.contract import topics
from parktwin.contract.reading import printable
from parktwin.mqtt import make_client
from twin.service.service import TwinService

pytestmark = pytest.mark.integration

FORGED = "\nERROR parktwin forged: all meters reset"
ANSI = "\x1b[2J\x1b[31m"
HTML = "<img src=x onerror=alert(1)>"  # no "/": it must fit in one topic level


def hostile_messages(park_id: str) -> list[tuple[str, bytes]]:
    """Each message carries the three kinds of hostile text where the device chooses text."""
    evil = f"x{ANSI}{HTML}{FORGED}"
    telemetry = topics.telemetry(park_id, "m-plant")
    ts = 1767225600000
    return [
        (telemetry, orjson.dumps({"v": 1, "ts": ts, "values": {evil: 1}})),
        # mosquitto refuses control characters in topics (MQTT 5 4.7.3 allows it to); a line
        # separator and markup it lets through.
        (topics.telemetry(park_id, f"ghost\u2028{HTML}"), b'{"v":1,"ts":1,"values":{}}'),
        (telemetry, orjson.dumps([{"bn": "m-plant:", "bt": ts / 1000, "n": evil, "v": 1}])),
        (telemetry, orjson.dumps([{"bt": ts / 1000, "n": "power", "u": evil, "v": 1}])),
        (telemetry, orjson.dumps({"v": 1, "ts": f"2026{evil}", "values": {"power_kw": 1}})),
        (telemetry, orjson.dumps({"v": evil, "ts": ts, "values": {"power_kw": 1}})),
    ]


def assert_no_raw_control(text: str, where: str) -> None:
    assert not any(c in text for c in "\n\r\x1b\u2028"), f"{where}: {text!r}"


def test_printable_escapes_what_could_forge_a_line_or_drive_a_terminal() -> None:
    assert printable(f"a{FORGED}{ANSI}\u2028b") == (
        "a\\nERROR parktwin forged: all meters reset\\x1b[2J\\x1b[31m\\u2028b"
    )
    assert printable("能耗 kWh") == "能耗 kWh"  # printable text stays as it is


async def test_hostile_text_reaches_no_log_line_or_dead_letter_raw(
    mosquitto: Mosquitto,
    influxdb: InfluxDatabase,
    park_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    park = small_park(park_id)
    settings = collector_settings(
        mosquitto.port, tmp_path / "spool", {"api": "v1", "url": influxdb.url,
                                             "database": influxdb.name},
    )  # fmt: skip
    twin = TwinService(
        park,
        load_settings(
            None,
            mqtt__port=mosquitto.port,
            influx__url=influxdb.url,
            influx__database=influxdb.name,
            twin__client_id=f"twin-{uuid.uuid4().hex[:6]}",
            twin__checkpoint_folder=tmp_path / "twin",
            twin__tick_s=0.2,
            api__port=0,
        ),
    )
    mqtt = MqttSettings(host="127.0.0.1", port=mosquitto.port)
    letters: list[dict[str, Any]] = []
    ready = asyncio.Event()
    messages = hostile_messages(park_id)
    collector = Collector(park, settings)
    stop = asyncio.Event()
    twin_task = asyncio.create_task(twin.run(stop))
    await wait_until(lambda: twin.intake.connected or twin_task.done(), 30)
    async with running(collector), asyncio.TaskGroup() as group:
        listener = group.create_task(collect_dead_letters(mqtt, park_id, ready, letters))
        await ready.wait()
        async with make_client(mqtt, None) as client:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1)
        await wait_until(lambda: len(letters) >= len(messages), 30)
        await wait_until(lambda: twin.stats.messages_received >= len(messages), 30)
        await asyncio.sleep(0.5)  # a tick after the last message
        assert twin.api_url is not None
        outputs = {
            path: await asyncio.to_thread(_get, f"{twin.api_url}{path}")
            for path in ("/healthz", "/api/state", "/metrics")
        }
        listener.cancel()
    stop.set()
    await asyncio.wait_for(twin_task, 60)

    assert collector.stats.messages_rejected == len(messages)
    for record in caplog.records:
        assert_no_raw_control(record.getMessage(), f"log line of {record.name}")
    for letter in letters:
        assert_no_raw_control(str(letter["reason"]) + str(letter["detail"]), "dead letter")
    for path, body in outputs.items():  # refused text shows nowhere in the twin's outputs
        assert not any(text in body for text in (HTML, "forged", "\x1b", "\u2028")), path


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read()).decode()
