"""`parktwin import-discovery` reads the retained Home Assistant discovery configs real devices
published (tests/data/devices/homeassistant, through the real mosquitto), writes mappings for
the sensors it can translate, and names every config it cannot, with the reason."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
import yaml
from conftest import Mosquitto
from helpers import DEVICES_DATA, SMALL_PARK, collector_settings
from typer.testing import CliRunner

from collectors.routing import MessageRouter
from parktwin.contract.reading import Reading
from parktwin.mqtt import make_client
from parktwin.park.loader import parse_park
from parktwin.validation import Limits
from programs.cli import app

pytestmark = pytest.mark.integration
SAMPLES = DEVICES_DATA / "homeassistant"


async def publish_retained(mosquitto: Mosquitto, tmp_path: Path, prefix: str) -> None:
    settings = collector_settings(mosquitto.port, tmp_path, {})
    cases = yaml.safe_load((SAMPLES / "cases.yaml").read_text("utf-8"))
    async with make_client(settings.mqtt, f"ha-{uuid.uuid4().hex[:8]}") as client:
        for case in cases:
            topic = case["topic"].replace("homeassistant/", f"{prefix}/", 1)
            await client.publish(topic, (SAMPLES / case["sample"]).read_bytes(), qos=1, retain=True)


def test_discovery_configs_become_mappings_and_the_rest_is_named(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    prefix = f"ha-{uuid.uuid4().hex[:8]}"
    asyncio.run(publish_retained(mosquitto, tmp_path, prefix))
    out = tmp_path / "mappings.yaml"
    result = CliRunner().invoke(
        app,
        [
            "import-discovery",
            "--broker", f"127.0.0.1:{mosquitto.port}",
            "--prefix", prefix,
            "--wait", "1",
            "--output", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    mappings = yaml.safe_load(out.read_text("utf-8"))["mappings"]
    by_topic = {m["topic"]: m for m in mappings}
    assert by_topic.keys() == {"zigbee2mqtt/Ввод в дом", "zigbee2mqtt/N2G_PowerSwitchMeter"}
    rcbo = by_topic["zigbee2mqtt/Ввод в дом"]
    assert rcbo["identity"] == {"topic_level": 1}
    assert rcbo["devices"] == {"Ввод в дом": "zigbee2mqtt_0x84ba20fffe323182"}
    assert rcbo["values"] == {
        "energy_kwh": {"path": "$.energy_consumed", "unit": "kWh", "type": "counter"}
    }
    power = by_topic["zigbee2mqtt/N2G_PowerSwitchMeter"]
    assert power["values"] == {"power_kw": {"path": "$.power", "unit": "W", "type": "gauge"}}
    assert power["time"] == {"format": "arrival"}
    # What it could not translate, and why.
    assert (
        f"not translated: {prefix}/sensor/522851_ENERGY_Yesterday/config: kWh without"
        " state_class total_increasing (none) is not a cumulative counter" in result.output
    )
    assert (
        f"not translated: {prefix}/sensor/0xa4c138493f8d6167/current/config: unit 'A' has no"
        " parktwin quantity" in result.output
    )

    # The mappings written work: in a park with those devices, the plug's real state message
    # (Koenkk/zigbee2mqtt#3909) becomes its reading.
    devices = (
        "  - {id: zigbee2mqtt_0x84ba20fffe323182, kind: sub_meter, building: plant-1}\n"
        "  - {id: n2g_powerswitchmeter, kind: sub_meter, building: plant-1}\n"
    )
    text = SMALL_PARK.format(park_id="p1") + devices + out.read_text("utf-8")
    router = MessageRouter(parse_park(text, "park"), Limits(65536, 946_684_800_000, 300_000))
    state = {"state": "ON", "linkquality": 2, "power": 149, "energy": 0.12}
    readings = router.readings(
        "zigbee2mqtt/N2G_PowerSwitchMeter", orjson.dumps(state), 1_767_225_600_000, []
    )
    assert readings == [
        Reading("n2g_powerswitchmeter", 1_767_225_600_000, {"power_kw": 0.149}, None, True)
    ]
