"""No secret ever reaches a log: the collector and the twin run at DEBUG with an MQTT password,
InfluxDB credentials and token, and an API token, through good paths and failing ones
(database unreachable, wrong API token), and every line they log is searched for them."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import InfluxDatabase, Mosquitto, VictoriaMetrics, free_port, require_binary
from helpers import (
    BASE_TS_MS,
    SMALL_PARK,
    Sent,
    collector_settings,
    publish,
    running,
    small_park,
    wait_until,
)

from collectors.service import Collector
from parktwin.config import MqttSettings
from parktwin.contract import topics

pytestmark = pytest.mark.integration

MQTT_USER, MQTT_PASSWORD = "collector@parktwin", "mqtt-S3cret-9b1e"
INFLUX_USER, INFLUX_PASSWORD = "writer", "influx-S3cret-44ad"
INFLUX_TOKEN = "influx-T0ken-77c2"
API_TOKEN = "api-T0ken-a1f0"
SECRETS = (
    MQTT_PASSWORD,
    INFLUX_PASSWORD,
    INFLUX_TOKEN,
    API_TOKEN,
    base64.b64encode(f"{INFLUX_USER}:{INFLUX_PASSWORD}".encode()).decode(),  # basic auth
)


def assert_no_secret(text: str) -> None:
    found = [secret for secret in SECRETS if secret in text]
    assert not found, f"secrets in the log: {found}"


@pytest.fixture(scope="module")
def password_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A broker that lets in only the collector's user, with its password."""
    folder = tmp_path_factory.mktemp("password-mosquitto")
    passwords = folder / "passwords"
    passwd = require_binary("mosquitto_passwd")
    subprocess.run([passwd, "-c", "-b", str(passwords), MQTT_USER, MQTT_PASSWORD], check=True)
    server = Mosquitto.create(
        folder / "broker", f"allow_anonymous false\npassword_file {passwords}\n"
    )
    server.start()
    yield server
    server.stop()


def mqtt_env(broker: Mosquitto) -> dict[str, str]:
    return {
        "PARKTWIN_MQTT__HOST": "127.0.0.1",
        "PARKTWIN_MQTT__PORT": str(broker.port),
        "PARKTWIN_MQTT__USERNAME": MQTT_USER,
        "PARKTWIN_MQTT__PASSWORD": MQTT_PASSWORD,
    }


def readings(count: int) -> list[Sent]:
    return [Sent("m-plant", BASE_TS_MS + i * 60_000, {"power_kw": 1.0}) for i in range(count)]


def run_parktwin(command: str, env: dict[str, str], seconds: float, folder: Path) -> str:
    """Run a parktwin command at DEBUG for some seconds; everything it wrote."""
    log = folder / f"{command}-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "programs", command, "--log-level", "DEBUG",
             "--duration", str(seconds)],
            env=os.environ | env, stdout=out, stderr=subprocess.STDOUT, timeout=120, check=True,
        )  # fmt: skip
    return log.read_text()


async def test_collector_logs_no_secret_at_debug_writing_or_failing_to_write(
    password_broker: Mosquitto,
    influxdb: InfluxDatabase,
    victoria_metrics: VictoriaMetrics,
    park_id: str,
    tmp_path: Path,
) -> None:
    park_file = tmp_path / "park.yaml"
    park_file.write_text(SMALL_PARK.format(park_id=park_id))
    mqtt = MqttSettings(port=password_broker.port, username=MQTT_USER, password=MQTT_PASSWORD)
    common = mqtt_env(password_broker) | {
        "PARKTWIN_PARK_FILE": str(park_file),
        "PARKTWIN_COLLECTOR__MAX_FUTURE_S": str(10 * 365 * 86400),
        "PARKTWIN_COLLECTOR__RETRY_INITIAL_S": "0.1",
    }
    v1 = {
        "PARKTWIN_INFLUX__URL": influxdb.url,
        "PARKTWIN_INFLUX__DATABASE": influxdb.name,
        "PARKTWIN_INFLUX__USERNAME": INFLUX_USER,
        "PARKTWIN_INFLUX__PASSWORD": INFLUX_PASSWORD,
    }
    v2 = {
        "PARKTWIN_INFLUX__API": "v2",
        "PARKTWIN_INFLUX__URL": victoria_metrics.url,
        "PARKTWIN_INFLUX__TOKEN": INFLUX_TOKEN,
    }
    unreachable = v1 | {"PARKTWIN_INFLUX__URL": f"http://127.0.0.1:{free_port()}"}
    logs = []
    for name, influx in (("v1", v1), ("v2", v2), ("down", unreachable)):
        env = (
            common
            | influx
            | {
                "PARKTWIN_MQTT__CLIENT_ID": f"c-{name}-{park_id}",
                "PARKTWIN_SPOOL__FOLDER": str(tmp_path / name),
            }
        )
        # The collector's session exists after its first run; the second gets the readings.
        run_parktwin("collect", env, 0.5, tmp_path)
        bad = [(topics.telemetry(park_id, "m-plant"), b'{"v":1,"ts":')]
        await publish(mqtt, park_id, readings(20), extra=bad)
        logs.append(await asyncio.to_thread(run_parktwin, "collect", env, 4, tmp_path))
    text = "\n".join(logs)
    assert text.count("readings accepted 20") == 3  # each run connected and took them in
    assert "stored 20" in text and "spooled 20" in text  # good and failing paths both ran
    assert "DEBUG" in text
    assert_no_secret(text)


async def test_twin_logs_no_secret_at_debug_and_answers_a_wrong_token_without_echo(
    password_broker: Mosquitto, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park_file = tmp_path / "park.yaml"
    park_file.write_text(SMALL_PARK.format(park_id=park_id))
    port = free_port()
    env = mqtt_env(password_broker) | {
        "PARKTWIN_PARK_FILE": str(park_file),
        "PARKTWIN_INFLUX__URL": influxdb.url,
        "PARKTWIN_INFLUX__DATABASE": influxdb.name,
        "PARKTWIN_INFLUX__USERNAME": INFLUX_USER,
        "PARKTWIN_INFLUX__PASSWORD": INFLUX_PASSWORD,
        "PARKTWIN_API__TOKEN": API_TOKEN,
        "PARKTWIN_API__PORT": str(port),
        "PARKTWIN_TWIN__CLIENT_ID": f"twin-{park_id}",
        "PARKTWIN_TWIN__TICK_S": "0.5",
        "PARKTWIN_TWIN__CHECKPOINT_FOLDER": str(tmp_path / "twin"),
        "PARKTWIN_COLLECTOR__MAX_FUTURE_S": str(10 * 365 * 86400),
    }
    log = tmp_path / "twin.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, then awaited off the loop
            [sys.executable, "-m", "programs", "twin", "--log-level", "DEBUG", "--duration", "20"],
            env=os.environ | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        mqtt = MqttSettings(port=password_broker.port, username=MQTT_USER, password=MQTT_PASSWORD)
        await asyncio.to_thread(wait_until_subscribed, port, process)
        await publish(mqtt, park_id, readings(10))
        answers = await asyncio.to_thread(api_answers, port)
        assert await asyncio.to_thread(process.wait, 60) == 0
    finally:
        process.kill()
    text = log.read_text()
    assert "readings ingested 10" in text
    assert answers == {"none": 401, "wrong": 401, "right": 200}
    assert "DEBUG" in text
    assert_no_secret(text)


def wait_until_subscribed(port: int, process: subprocess.Popen[bytes]) -> None:
    """Block until the twin's /healthz says its MQTT session is subscribed (start-up takes
    seconds on a loaded machine; a fixed sleep lost the race in CI)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the twin exited before it subscribed"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if json.loads(answer.read())["mqtt_connected"]:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise AssertionError("the twin did not subscribe within 60 s")


def api_answers(port: int) -> dict[str, int]:
    """The API's status for no token, a wrong one and the right one."""
    answers = {}
    for name, header in (
        ("none", None),
        ("wrong", "Bearer nope"),
        ("right", f"Bearer {API_TOKEN}"),
    ):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/state")
        if header:
            request.add_header("Authorization", header)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answers[name] = response.status
                break
            except urllib.error.HTTPError as exc:
                if exc.code != 503 or time.monotonic() > deadline:  # 503: no state yet
                    answers[name] = exc.code
                    break
                time.sleep(0.2)
    return answers


async def test_in_process_services_log_no_secret_at_debug(
    password_broker: Mosquitto,
    influxdb: InfluxDatabase,
    park_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    park = small_park(park_id)
    settings = collector_settings(
        password_broker.port,
        tmp_path,
        {
            "api": "v1",
            "url": f"http://127.0.0.1:{free_port()}",  # down: errors are logged too
            "database": "x",
            "username": INFLUX_USER,
            "password": INFLUX_PASSWORD,
            "token": INFLUX_TOKEN,
        },
        mqtt__username=MQTT_USER,
        mqtt__password=MQTT_PASSWORD,
        api__token=API_TOKEN,
    )
    logging.getLogger(__name__).debug("settings %s / %r", settings, settings)
    collector = Collector(park, settings)
    async with running(collector):
        await publish(settings.mqtt, park_id, readings(5))
        await wait_until(lambda: collector.stats.readings_spooled >= 5, 30)
    assert "database write failed" in caplog.text
    assert_no_secret(caplog.text)
