"""The twin service on real servers: KPIs reach InfluxDB, the retained MQTT state and the HTTP
API; a crash and restart mid-day leaves the day's totals as an uninterrupted run has them."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import (
    SMALL_PARK,
    Sent,
    collector_settings,
    publish,
    readings_for,
    small_park,
    twin_settings,
    wait_until,
)
from helpers import running as collecting

from collectors.mapping.encode import wire_formats
from collectors.service import Collector
from parktwin.config import Settings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from programs.wiring import twin_service
from simulators.run import SimulatorOptions, run_simulator
from twin.service.service import TwinService

pytestmark = pytest.mark.integration

START = datetime.fromisoformat("2026-03-02T08:00:00+08:00")  # a Monday morning
START_MS = int(START.timestamp() * 1000)


@contextlib.asynccontextmanager
async def running(service: TwinService) -> AsyncIterator[asyncio.Task[Any]]:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await wait_until(lambda: service.intake.connected or task.done(), 30)
    if task.done():
        task.result()
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_demo_park_kpis_reach_influxdb_the_retained_topic_and_the_api(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = load_park(demo_park_path())
    settings = twin_settings(mosquitto, influxdb, tmp_path, twin__rebuild_from_history=False)
    service = twin_service(park, settings)  # decoding as the programs wire it: mapped devices too
    async with running(service):
        # Two simulated hours of the demo park, as fast as the simulator goes, its mixed fleet
        # publishing as the demo does: the grid meters only through EMQX Neuron messages.
        await run_simulator(
            SimulatorOptions(
                park=park,
                mqtt=settings.mqtt,
                start=START,
                speed=0,
                simulated_duration_s=2 * 3600,
                device_formats=wire_formats(park),
            )
        )
        await wait_until(lambda: service.stats.kpi_points_written > 0, 30)
        await wait_until(
            lambda: (service.twin.watermark_ms or 0) >= START_MS + 2 * 3600_000 - 60_000, 30
        )
        assert service.api_url is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{service.api_url}/api/kpis") as response:
                kpis = await response.json()
            async with http.get(f"{service.api_url}/healthz") as response:
                health = await response.json()
            async with http.post(f"{service.api_url}/api/kpis") as response:
                assert response.status == 405  # read-only
            async with http.get(f"{service.api_url}/api/costs") as response:
                costs = await response.json()
            async with http.get(f"{service.api_url}/api/state") as response:
                state = await response.json()  # one tick's: its summary and costs agree
            async with http.get(f"{service.api_url}/api/bills?month=2026-03") as response:
                bills = await response.json()
            async with http.get(f"{service.api_url}/api/bills?month=March") as response:
                assert response.status == 400
    assert kpis["park"] == "mingxi"
    assert kpis["today"]["label"] == "2026-03-02"
    assert kpis["today"]["grid_import_kwh"] > 0  # mapped Neuron messages reached the twin
    assert service.stats.messages_rejected == 0  # and every mapped message was taken
    assert kpis["carbon_per_energy"]["unit"] == "t CO2/tce"
    assert health["mqtt_connected"] is True
    # The demo's example tariff prices the day: the import's bands add up to its energy charge,
    # the bills and the park's own loads to the invoice.
    day = costs["periods"]["day"]["park"]
    assert costs["tariff_example"] is True and costs["currency"] == "CNY"
    assert day["energy_yuan"] > 0
    assert sum(b["yuan"] for b in day["bands"]) == pytest.approx(day["energy_yuan"])
    assert day["total_yuan"] > 0
    # Two requests may straddle a tick; one state is one tick.
    assert state["kpis"]["costs"]["today"]["total_yuan"] == pytest.approx(
        state["costs"]["periods"]["day"]["park"]["total_yuan"]
    )
    assert len(bills["bills"]) == len(park.enterprises)
    r = bills["reconciliation"]
    assert r["tenants_electricity_yuan"] + r["own_loads_yuan"] - r["pv_self_use_yuan"] + r[
        "difference_yuan"
    ] == pytest.approx(r["invoice_total_yuan"])
    cost = influxdb.query('SELECT last("total_yuan") FROM "twin_cost" WHERE "period" = \'day\'')
    assert cost and cost[0]["values"][0][1] > 0
    # InfluxDB holds the KPIs, tagged like the readings.
    zero = influxdb.query('SELECT last("carbon_per_energy_value") FROM "twin_zero_carbon"')
    assert zero and zero[0]["values"][0][1] > 0
    places = influxdb.query(
        'SELECT count("electricity_kwh") FROM "twin_place" WHERE "period" = \'day\' '
        'GROUP BY "level"'
    )
    assert {s["tags"]["level"] for s in places} == {"building", "zone", "enterprise"}  # type: ignore[index]
    # The retained state is there for anyone who subscribes later.
    async with make_client(settings.mqtt, f"late-{uuid.uuid4().hex[:6]}") as client:
        await client.subscribe(topics.twin_state(park.park.id), qos=1)
        async with asyncio.timeout(10):
            message = await anext(aiter(client.messages))
    assert message.retain
    assert isinstance(message.payload, bytes)
    retained = orjson.loads(message.payload)
    assert retained["park"] == "mingxi"
    assert retained["today"]["label"] == "2026-03-02"


def day_totals(service: TwinService) -> dict[str, Any]:
    state = service.twin.snapshot().to_dict()
    day = state["periods"]["day"]
    return {"balance": day["balance"], "buildings": day["buildings"], "label": day["label"]}


async def run_all(park: Park, settings: Settings, readings: list[Sent]) -> dict[str, Any]:
    service = TwinService(park, settings)
    async with running(service):
        await publish(settings.mqtt, park.park.id, readings)
        await wait_until(lambda: service.stats.readings_ingested >= len(readings), 30)
        return day_totals(service)


async def test_a_crash_mid_day_and_a_restart_leave_the_day_totals_unchanged(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    readings = readings_for(small_park(), 240)  # four hours of every device, a minute apart
    # The uninterrupted run, under a park id of its own.
    park_a = small_park(f"a{uuid.uuid4().hex[:8]}")
    expected = await run_all(park_a, twin_settings(mosquitto, influxdb, tmp_path / "a"), readings)
    # The same input, with a crash after a third of it.
    park_b = small_park(f"b{uuid.uuid4().hex[:8]}")
    settings = twin_settings(
        mosquitto,
        influxdb,
        tmp_path / "b",
        twin__max_unacknowledged=97,
        twin__checkpoint_interval_s=3600,
    )
    first = TwinService(park_b, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await wait_until(lambda: first.intake.connected, 30)
    third = len(readings) // 3
    await publish(settings.mqtt, park_b.park.id, readings[:third])
    await wait_until(lambda: first.stats.readings_ingested >= third, 30)
    assert first.stats.checkpoints >= 1
    task.cancel()  # no final checkpoint: what the last one lacks is still unacknowledged
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await publish(settings.mqtt, park_b.park.id, readings[third:])  # while the twin is down
    second = TwinService(park_b, settings)
    async with running(second):
        await wait_until(
            lambda: (
                (second.twin.watermark_ms or 0) >= readings[-1].ts_ms
                and second.stats.readings_ingested >= len(readings) - third
            ),
            30,
        )
        assert second.stats.readings_ingested > len(readings) - third  # redelivered ones too
        restarted = day_totals(second)
    assert _close(restarted, expected)


def _close(a: Any, b: Any) -> bool:
    """Equal, up to the float rounding of a different order of additions."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert len(a) == len(b)
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
        return True
    assert a == b
    return True


async def test_without_a_checkpoint_the_twin_rebuilds_its_totals_from_influxdb(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = small_park(f"h{uuid.uuid4().hex[:8]}")
    readings = readings_for(park, 240)
    expected = await run_all(park, twin_settings(mosquitto, influxdb, tmp_path / "live"), readings)
    # The collector stores the same readings; a new twin with no checkpoint, on a fresh MQTT
    # session that receives nothing, starts from InfluxDB alone.
    collector = Collector(
        park,
        collector_settings(
            mosquitto.port,
            tmp_path / "spool",
            {"api": "v1", "url": influxdb.url, "database": influxdb.name},
        ),
    )
    async with collecting(collector):
        await publish(collector.settings.mqtt, park.park.id, readings)
        await wait_until(lambda: collector.stats.readings_written >= len(readings), 30)
    fresh = TwinService(park, twin_settings(mosquitto, influxdb, tmp_path / "fresh"))
    async with running(fresh):
        rebuilt = day_totals(fresh)
    assert fresh.stats.rebuilt_readings > 0
    # Replayed as stored, counters and person-hours alike: the day's balance and every
    # building's totals are the live twin's (tests/test_rebuild_exact.py: the whole state).
    assert _close(rebuilt, expected)


async def test_monthly_inputs_published_by_the_cli_reach_the_twin_and_fill_missing_indicators(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = small_park(f"i{uuid.uuid4().hex[:8]}")
    park_file = tmp_path / "park.yaml"
    park_file.write_text(SMALL_PARK.format(park_id=park.park.id))
    document = tmp_path / "2026-01.json"
    document.write_bytes(
        orjson.dumps(
            {
                "month": "2026-01",
                "solid_waste_generated_t": 200,
                "solid_waste_utilised_t": 170,
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"month": "2026-13", "solid_waste_utilised_t": -1}')
    settings = twin_settings(mosquitto, influxdb, tmp_path / "cp")
    service = TwinService(park, settings)
    command = [sys.executable, "-m", "programs", "inputs", "--park", str(park_file)]
    broker = ["--broker", f"127.0.0.1:{mosquitto.port}"]
    refused = await asyncio.to_thread(
        subprocess.run, [*command, str(bad), *broker], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert f"{bad}: month:" in refused.stderr
    assert f"{bad}: solid_waste_utilised_t:" in refused.stderr
    async with running(service):
        await publish(settings.mqtt, park.park.id, readings_for(park, 3))
        # In a thread: the twin runs on this event loop and must keep reading meanwhile.
        published = await asyncio.to_thread(
            subprocess.run,
            [*command, str(document), *broker],
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"parks/{park.park.id}/inputs/monthly/2026-01" in published.stdout
        await wait_until(lambda: service.stats.inputs_applied == 1, 30)
        zero = service.twin.snapshot().to_dict()["zero_carbon"]
    assert zero["solid_waste_utilisation"]["value"] == pytest.approx(85.0)
    assert zero["solid_waste_utilisation"]["passes"] is True
    assert zero["waste_heat_utilisation"]["missing"] is True  # not reported: missing, not zero
