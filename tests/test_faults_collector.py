"""The collector loses nothing and stores nothing twice when the world around it fails: the
broker restarts, the collector is killed, InfluxDB stops or freezes, the spool's disk fills up.

Real mosquitto and InfluxDB 1.x; each test publishes a known set of readings as devices do
(resending until the broker confirms) and ends by finding every one of them in the database
exactly once. docs/reliability.md records what each test showed and how long it took.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest
from conftest import InfluxDB1, Mosquitto
from helpers import (
    DATABASE,
    SMALL_PARK,
    Sent,
    collector_settings,
    payload_of,
    readings_for,
    running,
    small_park,
    stored_pairs,
)

from collectors.service import Collector
from collectors.spool import Spool
from parktwin.config import MAX_PACKET_SIZE_BYTES, MqttSettings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.wire.packets import encode_connect, encode_string, encode_varint
from programs.demo.broker import mosquitto_config

pytestmark = pytest.mark.integration


# -- publishing as a device does, and counting what the database holds ------------------------


async def publish_like_a_device(
    mqtt: MqttSettings, park_id: str, readings: list[Sent], duration_s: float = 0.0
) -> int:
    """Publish each reading with QoS 1 until the broker confirms it, spread over ``duration_s``.

    A device that loses the broker reconnects and sends the unconfirmed reading again (a
    duplicate is harmless: the database keeps one point per series and time). Returns the
    number of reconnections.
    """
    pause = duration_s / max(1, len(readings))
    started = time.monotonic()
    index = reconnects = 0
    while index < len(readings):
        try:
            async with make_client(mqtt, f"dev-{uuid.uuid4().hex[:8]}") as client:
                while index < len(readings):
                    sent = readings[index]
                    topic = topics.telemetry(park_id, sent.device_id)
                    await client.publish(topic, payload_of(sent), qos=1, timeout=5)
                    index += 1
                    ahead = started + index * pause - time.monotonic()
                    if ahead > 0:
                        await asyncio.sleep(ahead)
        except aiomqtt.MqttError:
            reconnects += 1
            await asyncio.sleep(0.2)
    return reconnects


def once_each(readings: list[Sent]) -> Counter[tuple[str, int]]:
    return Counter({(r.device_id, r.ts_ms): 1 for r in readings})


async def wait_for_all(server: InfluxDB1, readings: list[Sent], timeout_s: float) -> None:
    """Poll the database until it holds as many (device, time) pairs as were published."""
    deadline = time.monotonic() + timeout_s
    while len(stored := await asyncio.to_thread(stored_pairs, server)) < len(readings):
        if time.monotonic() > deadline:
            missing = once_each(readings) - stored
            pytest.fail(f"{len(missing)} readings never stored, such as {sorted(missing)[:5]}")
        await asyncio.sleep(0.5)


def v1(server: InfluxDB1, **extra: object) -> dict[str, object]:
    return {"api": "v1", "url": server.url, "database": DATABASE, "timeout_s": 2.0} | extra


# -- the broker restarts ----------------------------------------------------------------------


async def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(
    own_mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 200)  # 1,200 readings over about four seconds
    collector = Collector(park, collector_settings(own_mosquitto.port, tmp_path, v1(own_influxdb)))
    async with running(collector):
        stream = asyncio.create_task(
            publish_like_a_device(collector.settings.mqtt, park_id, readings, 4.0)
        )
        async with asyncio.timeout(30):
            while collector.stats.readings_written < 200:
                await asyncio.sleep(0.05)
        # mosquitto saves its persistence file on the way down: the session and its queue
        # survive, and whatever was in flight unacknowledged is delivered again.
        await asyncio.to_thread(own_mosquitto.restart)
        device_reconnects = await stream
        await wait_for_all(own_influxdb, readings, 60)
    assert device_reconnects >= 1
    assert collector.intake.reconnects >= 1
    assert stored_pairs(own_influxdb) == once_each(readings)


# -- the collector is killed ------------------------------------------------------------------


class CollectorProcess:
    """``python -m programs collect`` in a subprocess, logging to a file, killable."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.folder / f"collector-{self.runs}.log"

    def start(self) -> None:
        self.runs += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "programs", "collect", "--log-level", "INFO"],
                env=os.environ | self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while "subscribed to" not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the collector did not subscribe"
            time.sleep(0.05)

    def signal(self, number: int) -> int:
        """Send a signal and wait for the process to end; its exit code."""
        assert self.process is not None
        self.process.send_signal(number)
        return self.process.wait(timeout=60)

    def peak_rss_bytes(self) -> int:
        """The most memory the running process has held (VmHWM, Linux)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def collector_env(
    park_id: str, mqtt_port: int, influx: InfluxDB1, folder: Path, client_id: str
) -> dict[str, str]:
    """The environment of a collector process with its own park file and spool in ``folder``
    and a persistent session under ``client_id``."""
    folder.mkdir(parents=True, exist_ok=True)
    park_file = folder / "park.yaml"
    park_file.write_text(SMALL_PARK.format(park_id=park_id))
    return {
        "PARKTWIN_PARK_FILE": str(park_file),
        "PARKTWIN_MQTT__HOST": "127.0.0.1",
        "PARKTWIN_MQTT__PORT": str(mqtt_port),
        "PARKTWIN_MQTT__CLIENT_ID": client_id,
        "PARKTWIN_INFLUX__URL": influx.url,
        "PARKTWIN_INFLUX__DATABASE": DATABASE,
        "PARKTWIN_INFLUX__TIMEOUT_S": "2",
        "PARKTWIN_SPOOL__FOLDER": str(folder / "spool"),
        "PARKTWIN_COLLECTOR__FLUSH_INTERVAL_S": "0.1",
        "PARKTWIN_COLLECTOR__MAX_FUTURE_S": str(10 * 365 * 86400),
        "PARKTWIN_COLLECTOR__RETRY_INITIAL_S": "0.1",
        "PARKTWIN_COLLECTOR__RETRY_MAX_S": "1",
    }


@pytest.fixture
def collector_process(
    mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> Iterator[CollectorProcess]:
    # The same client id every run: the same session.
    env = collector_env(park_id, mosquitto.port, own_influxdb, tmp_path, f"collector-{park_id}")
    process = CollectorProcess(tmp_path, env)
    yield process
    process.stop_quietly()


def spool_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.seg"))


async def test_a_collector_killed_twice_recovers_everything_from_its_session_and_spool(
    collector_process: CollectorProcess,
    mosquitto: Mosquitto,
    own_influxdb: InfluxDB1,
    park_id: str,
    tmp_path: Path,
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 150)  # 900 readings in three parts
    first, second, third = readings[0::3], readings[1::3], readings[2::3]
    mqtt = MqttSettings(port=mosquitto.port)

    # 1. Killed mid-stream while writing to the database: what it had not acknowledged, and
    #    what was published while it was dead, waits in its persistent session.
    await asyncio.to_thread(collector_process.start)
    stream = asyncio.create_task(publish_like_a_device(mqtt, park_id, first, 3.0))
    async with asyncio.timeout(30):
        while not await asyncio.to_thread(stored_pairs, own_influxdb):
            await asyncio.sleep(0.1)
    assert await asyncio.to_thread(collector_process.signal, signal.SIGKILL) == -signal.SIGKILL
    await stream
    # 2. With the database down, the next run spools (and acknowledges) what it receives, and is
    #    killed with batches in its spool, perhaps half-way through appending one.
    await asyncio.to_thread(own_influxdb.stop)
    await asyncio.to_thread(collector_process.start)
    await publish_like_a_device(mqtt, park_id, second)
    async with asyncio.timeout(30):
        while spool_bytes(tmp_path / "spool") == 0:
            await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    assert await asyncio.to_thread(collector_process.signal, signal.SIGKILL) == -signal.SIGKILL
    # 3. The third run replays the spool, takes the rest from the session, and stops cleanly.
    await asyncio.to_thread(own_influxdb.start)
    await asyncio.to_thread(collector_process.start)
    await publish_like_a_device(mqtt, park_id, third)
    await wait_for_all(own_influxdb, readings, 60)
    assert await asyncio.to_thread(collector_process.signal, signal.SIGTERM) == 0
    summary = collector_process.log.read_text()
    replayed = int(summary.split("replayed from spool ")[1].split(")")[0])
    assert replayed > 0  # the spool of the killed run was recovered
    assert "still in spool 0" in summary
    assert stored_pairs(own_influxdb) == once_each(readings)


# -- InfluxDB goes away -----------------------------------------------------------------------


async def ride_out(
    collector: Collector,
    server: InfluxDB1,
    readings: list[Sent],
    stream_s: float,
    outage: Callable[[], Awaitable[None]],
) -> None:
    """Stream readings for ``stream_s`` seconds, with ``outage`` starting two seconds in."""
    async with running(collector):
        stream = asyncio.create_task(
            publish_like_a_device(
                collector.settings.mqtt, collector.park.park.id, readings, stream_s
            )
        )
        await asyncio.sleep(2.0)
        await outage()
        await stream
        await wait_for_all(server, readings, 90)
        async with asyncio.timeout(30):
            while collector.spool_pending_lines:
                await asyncio.sleep(0.1)


async def test_influxdb_stopped_for_a_minute_costs_no_reading(
    mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 120)  # 720 readings over 66 seconds

    async def stop_for_a_minute() -> None:
        await asyncio.to_thread(own_influxdb.stop)
        await asyncio.sleep(60)
        await asyncio.to_thread(own_influxdb.start)

    collector = Collector(park, collector_settings(mosquitto.port, tmp_path, v1(own_influxdb)))
    await ride_out(collector, own_influxdb, readings, 66.0, stop_for_a_minute)
    stats = collector.stats
    assert stats.readings_spooled > 300  # most of the minute went through the spool
    assert stats.readings_replayed == stats.readings_spooled
    assert stats.readings_written + stats.readings_spooled == len(readings)
    assert stored_pairs(own_influxdb) == once_each(readings)


async def test_influxdb_frozen_for_twenty_seconds_costs_no_reading(
    mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 60)  # 360 readings over 26 seconds

    async def freeze_for_twenty_seconds() -> None:
        # SIGSTOP: connections are accepted by the kernel and never answered, the worst case
        # for a client; writes time out after two seconds and go to the spool. Those already
        # sent are taken in when it thaws, and replayed again: stored once all the same.
        own_influxdb.freeze()
        await asyncio.sleep(20)
        own_influxdb.thaw()

    collector = Collector(park, collector_settings(mosquitto.port, tmp_path, v1(own_influxdb)))
    await ride_out(collector, own_influxdb, readings, 26.0, freeze_for_twenty_seconds)
    assert collector.stats.write_failures >= 1
    assert collector.stats.readings_spooled > 0
    assert stored_pairs(own_influxdb) == once_each(readings)


# -- the spool fills up -----------------------------------------------------------------------


def fill_disk(folder: Path, leave_free: int) -> None:
    """Fill the file system of ``folder`` but ``leave_free`` bytes."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    (folder / "filler").write_bytes(b"\0" * max(0, free - leave_free))


@pytest.fixture(params=["max_bytes", "tmpfs"])
def full_spool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    """Spool settings that fill up after about 700 KB: by its own limit, or a full disk."""
    if request.param == "max_bytes":
        yield {"spool__folder": tmp_path / "spool", "spool__max_bytes": 1024**2}
        return
    if os.geteuid() != 0:
        pytest.skip("a tmpfs spool needs root to mount; the max_bytes variant still runs")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        fill_disk(mount, 700 * 1024)
        yield {"spool__folder": mount}
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_a_full_spool_holds_acks_keeps_its_batches_and_drains_when_the_database_returns(
    mosquitto: Mosquitto,
    own_influxdb: InfluxDB1,
    park_id: str,
    tmp_path: Path,
    full_spool: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    park = small_park(park_id)
    readings = readings_for(park, 2000)  # 12,000 readings, about 1.6 MB of line protocol
    own_influxdb.stop()
    settings = collector_settings(
        mosquitto.port, tmp_path, v1(own_influxdb), collector__batch_lines=200, **full_spool
    )
    collector = Collector(park, settings)
    async with running(collector):
        await publish_like_a_device(settings.mqtt, park_id, readings)
        async with asyncio.timeout(60):
            while "spool full" not in caplog.text:
                await asyncio.sleep(0.1)
        # It keeps what it has, and holds the rest unacknowledged at the broker.
        held = collector.spool_pending_lines
        await asyncio.sleep(2.0)
        assert collector.spool_pending_lines == held > 0
        assert collector.stats.readings_spooled == held < len(readings)
        await asyncio.to_thread(own_influxdb.start)
        await wait_for_all(own_influxdb, readings, 120)
        async with asyncio.timeout(30):
            while collector.spool_pending_lines:
                await asyncio.sleep(0.1)
    full = [r for r in caplog.records if "spool full" in r.getMessage()]
    assert full and full[0].levelno == logging.ERROR
    assert stored_pairs(own_influxdb) == once_each(readings)
    # The spool is whole: reopening it finds nothing torn and nothing left to replay.
    with Spool(Path(str(settings.spool.folder)) / park_id, settings.spool.max_bytes) as spool:
        assert (spool.recovery.truncated_records, spool.recovery.dropped_bytes) == (0, 0)
        assert spool.pending_batches == 0


# -- one device sends a huge message ---------------------------------------------------------


async def publish_raw(port: int, topic: str, payload_bytes: int) -> bytes:
    """Publish one ``payload_bytes`` message at QoS 1 as a misbehaving device would, streaming
    it in 1 MiB writes (the test holds 1 MiB, not the message); what the broker answered
    (PUBACK), or b"" when it closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode_connect(f"big-{uuid.uuid4().hex[:8]}"))
        await asyncio.wait_for(reader.read(64), 5)  # CONNACK
        encoded = encode_string(topic)
        length = len(encoded) + 3 + payload_bytes
        writer.write(bytes((0x32,)) + encode_varint(length) + encoded + b"\x00\x01\x00")
        chunk = b"x" * (1 << 20)
        for _ in range(payload_bytes // len(chunk)):
            writer.write(chunk)
            await writer.drain()
        return await asyncio.wait_for(reader.read(64), 60)
    except (ConnectionError, OSError):
        return b""
    finally:
        writer.close()


@pytest.mark.parametrize("broker_limit", ["shipped", "none"])
async def test_a_100_mb_message_neither_stalls_the_collector_nor_swells_it(
    own_influxdb: InfluxDB1, park_id: str, tmp_path: Path, broker_limit: str
) -> None:
    """ "shipped": the configuration the project ships refuses the message at the broker.
    "none": a broker without a limit of its own (max_packet_size at mosquitto's largest) takes
    it, and then drops it for the collector, whose CONNECT said 1 MiB at most."""
    extra = "max_packet_size 268435455\n" if broker_limit == "none" else ""
    broker = Mosquitto.create(tmp_path / "broker", extra)
    broker.start()
    try:
        env = collector_env(park_id, broker.port, own_influxdb, tmp_path, f"c-{park_id}")
        collector = CollectorProcess(tmp_path, env)
        await asyncio.to_thread(collector.start)
        try:
            park = small_park(park_id)
            before, after = readings_for(park, 2)[0::2], readings_for(park, 2)[1::2]
            mqtt = MqttSettings(port=broker.port)
            await publish_like_a_device(mqtt, park_id, before)
            await wait_for_all(own_influxdb, before, 30)
            topic = topics.telemetry(park_id, before[0].device_id)
            answer = await publish_raw(broker.port, topic, 100 * 1024**2)
            # The shipped broker closes the device's connection; the other acknowledges.
            assert answer[:1] == (b"" if broker_limit == "shipped" else b"\x40")
            sent_at = time.monotonic()
            await publish_like_a_device(mqtt, park_id, after)
            await wait_for_all(own_influxdb, before + after, 10)
            stored_after_s = time.monotonic() - sent_at
            peak = collector.peak_rss_bytes()
        finally:
            collector.stop_quietly()
    finally:
        broker.kill()
    assert stored_after_s < 10
    assert peak < 300 * 1024**2, f"peak RSS {peak / 1024**2:.0f} MiB"
    assert stored_pairs(own_influxdb) == once_each(before + after)


def test_the_brokers_we_ship_refuse_what_our_clients_refuse() -> None:
    shipped = (Path(__file__).parent.parent / "deploy/mosquitto/mosquitto.conf").read_text()
    line = f"max_packet_size {MAX_PACKET_SIZE_BYTES}"
    assert line in shipped.splitlines()
    assert line in mosquitto_config(1883, Path("/tmp"), run_as=None).splitlines()
    assert MqttSettings().max_packet_size_bytes == MAX_PACKET_SIZE_BYTES


# -- scale-out: collectors on one shared subscription ----------------------------------------


async def test_a_collector_of_a_shared_group_killed_and_restarted_under_its_id_loses_nothing(
    mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> None:
    """With persistent sessions, a dead member's share of a shared subscription stays queued
    for its client id, and the others do not take it over: restarting it under the same id is
    what recovers it (docs/scaling.md)."""
    park = small_park(park_id)
    readings = readings_for(park, 200)  # 1,200 readings in two halves
    first, second = readings[:600], readings[600:]
    group = {"PARKTWIN_MQTT__SHARED_GROUP": f"g-{park_id}"}
    members = [
        CollectorProcess(
            tmp_path / name,
            collector_env(
                park_id, mosquitto.port, own_influxdb, tmp_path / name, f"{name}-{park_id}"
            )
            | group,
        )
        for name in ("a", "b")
    ]
    mqtt = MqttSettings(port=mosquitto.port)
    try:
        for member in members:
            await asyncio.to_thread(member.start)
        stream = asyncio.create_task(publish_like_a_device(mqtt, park_id, first, 3.0))
        async with asyncio.timeout(30):
            while len(await asyncio.to_thread(stored_pairs, own_influxdb)) < 100:
                await asyncio.sleep(0.05)
        killed = await asyncio.to_thread(members[0].signal, signal.SIGKILL)
        assert killed == -signal.SIGKILL
        await stream
        await publish_like_a_device(mqtt, park_id, second)
        # Its share waits in its session: the survivor alone does not store everything.
        await asyncio.sleep(3.0)
        waiting = once_each(readings) - await asyncio.to_thread(stored_pairs, own_influxdb)
        assert waiting, "the dead member's share was taken over (no longer needs a restart)"
        await asyncio.to_thread(members[0].start)
        await wait_for_all(own_influxdb, readings, 60)
        for member in members:
            assert await asyncio.to_thread(member.signal, signal.SIGTERM) == 0
    finally:
        for member in members:
            member.stop_quietly()
    assert stored_pairs(own_influxdb) == once_each(readings)
    restarted = members[0].log.read_text()
    received = int(restarted.split("messages received ")[1].split(",")[0])
    assert received >= len(waiting)  # the restarted member took its own share back
