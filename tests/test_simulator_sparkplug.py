"""The simulator as a Sparkplug B edge node, through the real mosquitto: its births and data
decode through the collectors' host with nothing refused and no ``seq`` gap, data carries
aliases only, ``seq`` wraps at 256, and a rebirth request gets new births."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from conftest import Mosquitto
from helpers import SPARKPLUG_LIMITS as LIMITS
from helpers import SPARKPLUG_PARK, wait_until

from collectors.sparkplug.host import Outcome, SparkplugHost
from collectors.sparkplug.payload import decode_payload, rebirth_command
from collectors.sparkplug.topic import parse_topic
from parktwin.config import MqttSettings
from parktwin.mqtt import make_client
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from simulators.run import SimulatorOptions, run_simulator


class HostSide:
    """The collectors' Sparkplug host on everything the group publishes, and what it made."""

    def __init__(self, park: Park) -> None:
        self.host = SparkplugHost(park, LIMITS)
        self.kinds: list[str] = []
        self.seqs: list[int] = []
        self.outcome = Outcome()
        self.data_metric_names: set[str] = set()
        self.bd_seqs: list[int] = []

    def take(self, topic: str, payload: bytes) -> None:
        parsed = parse_topic(topic)
        assert parsed is not None, topic
        if parsed.kind == "NCMD":
            return
        message = decode_payload(payload)
        self.kinds.append(parsed.kind)
        self.seqs.append(message.seq)
        if parsed.kind == "DDATA":
            self.data_metric_names.update(m.name for m in message.metrics)
        if parsed.kind == "NBIRTH":
            self.bd_seqs.extend(m.long_value for m in message.metrics if m.name == "bdSeq")
        out = self.host.handle(topic, payload, round(time.time() * 1000))
        self.outcome.readings += out.readings
        self.outcome.refused += out.refused
        self.outcome.commands += out.commands
        self.outcome.seq_gaps += out.seq_gaps


async def test_the_simulators_sparkplug_births_and_data_decode_and_a_rebirth_gets_new_births(
    mosquitto: Mosquitto, park_id: str, tmp_path: Path
) -> None:
    group = f"g-{park_id}"
    park = parse_park(SPARKPLUG_PARK.format(park_id=park_id, group=group), "park.yaml")
    side = HostSide(park)
    settings = MqttSettings(port=mosquitto.port)
    ledger = tmp_path / "ledger.csv"
    stop = asyncio.Event()
    async with make_client(settings, f"host-{park_id}") as client:
        await client.subscribe(f"spBv1.0/{group}/#", qos=1)

        async def listen() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                side.take(str(message.topic), message.payload)

        listener = asyncio.create_task(listen())
        options = SimulatorOptions(
            park=park,
            mqtt=settings,
            start=datetime(2026, 1, 1, tzinfo=UTC),
            speed=6000.0,  # a reading of each device every 10 ms of wall time
            ledger_file=ledger,
        )
        run = asyncio.create_task(run_simulator(options, stop))
        try:
            # More than 256 messages: seq wraps around.
            await wait_until(lambda: side.kinds.count("DDATA") > 300, timeout_s=30)
            await client.publish(
                f"spBv1.0/{group}/NCMD/gw1", rebirth_command(round(time.time() * 1000)), qos=1
            )
            await wait_until(lambda: side.kinds.count("NBIRTH") == 2, timeout_s=10)
            reborn = len(side.kinds)
            await wait_until(lambda: side.kinds[reborn:].count("DDATA") > 10, timeout_s=10)
        finally:
            stop.set()
            report = await run
            await asyncio.sleep(0.5)  # the last messages reach the listener
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    assert side.outcome.refused == []
    assert side.outcome.seq_gaps == 0 and side.outcome.commands == []
    # The first session: NBIRTH, then each device's DBIRTH before its data; the rebirth: NBIRTH
    # and a DBIRTH for both devices at once, with the same bdSeq (the same connection).
    assert side.kinds[:3] == ["NBIRTH", "DBIRTH", "DBIRTH"]
    second = side.kinds.index("NBIRTH", 1)
    assert side.kinds[second : second + 3] == ["NBIRTH", "DBIRTH", "DBIRTH"]
    assert Counter(side.kinds) == Counter({"NBIRTH": 2, "DBIRTH": 4, "DDATA": len(side.kinds) - 6})
    assert side.bd_seqs == [0, 0]
    assert side.data_metric_names == {""}  # data by alias only
    assert side.seqs[0] == 0 and side.seqs[second] == 0
    assert max(side.seqs) == 255 and all(0 <= s <= 255 for s in side.seqs)
    # Every reading the simulator published decodes once; the rebirth repeats the last
    # reading of each device, the same point again.
    published = Counter(tuple(line.split(",")) for line in ledger.read_text().splitlines())
    sparkplug_published = {k for k in published if k[0] in ("m-line", "m-press")}
    decoded = Counter((r.device_id, str(r.ts_ms)) for r in side.outcome.readings)
    assert set(decoded) == sparkplug_published
    assert sum(decoded.values()) == len(sparkplug_published) + 2
    assert all(set(r.values) == {"energy_kwh", "power_kw"} for r in side.outcome.readings)
    assert report.readings_published == sum(published.values())
