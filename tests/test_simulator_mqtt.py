"""The simulator against a real mosquitto: what a subscriber receives is what the ledger says."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from conftest import Mosquitto
from helpers import Subscriber, every_kind_park

from parktwin.config import MqttSettings
from parktwin.contract import topics
from parktwin.contract.payload import decode
from parktwin.contract.reading import PayloadError
from parktwin.park.model import Park
from simulators.faults import FaultOptions
from simulators.park import ParkSimulator
from simulators.run import SimulationReport, SimulatorOptions, run_simulator
from simulators.stream import TelemetryStream

TWO_HOURS_S = 7200.0


async def simulate(
    mosquitto: Mosquitto, park: Park, **overrides: object
) -> tuple[SimulationReport, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Run the simulator with a subscriber listening; return the report, telemetry, statuses."""
    subscriber = Subscriber(mosquitto, park.park.id)
    options: dict[str, object] = {
        "park": park,
        "mqtt": MqttSettings(port=mosquitto.port, client_id="sim"),
        "start": datetime(2026, 4, 14, 6, tzinfo=park.timezone),
        "speed": 0.0,
        "simulated_duration_s": TWO_HOURS_S,
        **overrides,
    }
    async with asyncio.TaskGroup() as group:
        task = group.create_task(subscriber.run())
        await subscriber.ready()
        report = await run_simulator(SimulatorOptions(**options))  # type: ignore[arg-type]
        await subscriber.wait_for(report.messages_published, "/telemetry")
        task.cancel()
    statuses = [(t, p) for t, p in subscriber.received if t.endswith("/status")]
    return report, subscriber.telemetry(), statuses


def ledger_lines(path: Path) -> list[tuple[str, int]]:
    rows = [line.split(",") for line in path.read_text().splitlines()]
    return [(device, int(ts)) for device, ts in rows]


async def test_ledger_matches_what_a_subscriber_received(
    mosquitto: Mosquitto, park_id: str, tmp_path: Path
) -> None:
    park = every_kind_park(park_id)
    faults = FaultOptions(
        dropout=0.05, stuck=0.01, spike=0.02, spike_out_of_range=0.02, duplicate=0.05,
        out_of_order=0.05, malformed=0.05,
    )  # fmt: skip
    ledger = tmp_path / "ledger.csv"
    report, telemetry, _ = await simulate(
        mosquitto, park, faults=faults, senml_share=0.3, ledger_file=ledger
    )
    assert len(telemetry) == report.messages_published
    valid: list[tuple[str, int]] = []
    invalid = 0
    for topic, payload in telemetry:
        parsed = topics.parse_telemetry(topic)
        assert parsed is not None
        try:
            (reading,) = decode(parsed.device_id, payload)
        except PayloadError:
            invalid += 1
            continue
        valid.append((reading.device_id, reading.ts_ms))
    lines = ledger_lines(ledger)
    assert len(lines) == len(set(lines)) == report.readings_published
    assert set(valid) == set(lines)  # duplicates arrive twice but count once
    counts = report.by_fault
    assert len(valid) > len(lines)  # the duplicates
    assert invalid >= max(counts.malformed, counts.spikes_out_of_range) > 0
    assert min(counts.dropped, counts.duplicated, counts.malformed, counts.out_of_order) > 0


async def test_speed_and_rate_do_not_change_what_is_sent(
    mosquitto: Mosquitto, park_id: str
) -> None:
    park = every_kind_park(park_id)
    faults = FaultOptions(duplicate=0.02, out_of_order=0.02, malformed=0.02)
    _, fast, _ = await simulate(mosquitto, park, faults=faults, speed=0.0)
    _, paced, _ = await simulate(mosquitto, park, faults=faults, speed=14_400.0, max_rate=5000.0)
    by_topic: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in fast:
        by_topic[topic].append(payload)
    by_topic_paced: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in paced:
        by_topic_paced[topic].append(payload)
    assert by_topic == by_topic_paced  # MQTT keeps order per topic
    assert sorted(fast) == sorted(paced)
    start_ms = round(datetime(2026, 4, 14, 6, tzinfo=park.timezone).timestamp() * 1000)
    offline = TelemetryStream(ParkSimulator(park, 1, start_ms), faults)
    expected = [*offline.advance(start_ms + round(TWO_HOURS_S * 1000)), *offline.flush()]
    assert fast == [(m.topic, m.payload) for m in expected]


async def test_gateway_and_devices_announce_online_then_offline(
    mosquitto: Mosquitto, park_id: str
) -> None:
    park = every_kind_park(park_id)
    _, _, statuses = await simulate(mosquitto, park, simulated_duration_s=600.0)
    gateway = topics.gateway_status(park_id, "simulator")
    assert [p for t, p in statuses if t == gateway] == [b"online", b"offline"]
    for device in park.devices:
        device_topic = topics.device_status(park_id, device.id)
        assert [p for t, p in statuses if t == device_topic] == [b"online", b"offline"]


async def test_a_restarted_simulator_continues_from_its_state_file(
    mosquitto: Mosquitto, park_id: str, tmp_path: Path
) -> None:
    park = every_kind_park(park_id)
    state, ledger = tmp_path / "state.json", tmp_path / "ledger.csv"
    first, _, _ = await simulate(
        mosquitto, park, state_file=state, ledger_file=ledger, simulated_duration_s=3600.0
    )
    second, _, _ = await simulate(
        mosquitto, park, state_file=state, ledger_file=ledger, simulated_duration_s=3600.0
    )
    assert second.simulated_start == first.simulated_end
    start_ms = round(datetime(2026, 4, 14, 6, tzinfo=park.timezone).timestamp() * 1000)
    whole = TelemetryStream(ParkSimulator(park, 1, start_ms))
    expected = [(m.device_id, m.ts_ms) for m in whole.advance(start_ms + 7_200_000)]
    assert ledger_lines(ledger) == expected
