"""The compose stack's broker, as deploy/mosquitto makes it (entrypoint, users, ACL, config), on a
real mosquitto: one device identity is one park and one device id, the simulator speaks only for
the demo park's devices, no service can publish telemetry, each service account has exactly the
rights it needs, and `parktwin run` works under its documented user. A refused publish of a
service's own output is an error in /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson
import pytest
from conftest import (
    DEPLOY,
    InfluxDatabase,
    Mosquitto,
    deploy_mosquitto,
    deploy_password,
    free_port,
)
from helpers import BASE_TS_MS, SMALL_PARK, wait_until

from parktwin.acl import device_username, mosquitto_acl
from parktwin.config import MqttSettings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from simulators.run import SimulatorOptions, run_simulator

pytestmark = pytest.mark.integration

P, Q = "parka", "parkb"  # two parks on one broker, each with a device "m-plant"
DEMO = load_park(demo_park_path())
DEVICES = [
    device_username(P, "m-plant"),
    device_username(Q, "m-plant"),
    device_username(P, "m-flats"),
    f"{P}/devices/+",  # a user name mosquitto refuses pattern rules to
    device_username(DEMO.park.id, "jl-f1-l1"),
    "observer",  # the test's own account that reads everything (OBSERVER), to see what got through
]
TASMOTA = Path(__file__).parent / "data" / "devices" / "tasmota"
OBSERVER = "user observer\ntopic read #\ntopic write tele/#\n"  # and a Tasmota plug's topics


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = deploy_mosquitto(tmp_path_factory.mktemp("deploy-broker"), DEVICES, OBSERVER)
    server.start()
    yield server
    server.stop()


def account(broker: Mosquitto, user: str) -> MqttSettings:
    return MqttSettings(
        host="127.0.0.1", port=broker.port, username=user, password=deploy_password(user)
    )


async def publish_as(broker: Mosquitto, user: str, topic: str, payload: bytes = b"{}") -> None:
    """Publish once at QoS 1; a refusal (PUBACK 0x87, or a dropped connection) is not raised:
    what reaches the observer is the test's evidence."""
    try:
        async with make_client(account(broker, user), f"t-{uuid.uuid4().hex[:8]}") as client:
            await client.publish(topic, payload, qos=1, timeout=5)
    except aiomqtt.MqttError:
        pass


async def what_gets_through(
    broker: Mosquitto, attempts: list[tuple[str, str]], reader: str = "observer", filter_: str = "#"
) -> set[tuple[str, str]]:
    """(user, topic) of each attempt whose message ``reader`` received on ``filter_``."""
    got: set[str] = set()
    async with make_client(account(broker, reader), f"r-{uuid.uuid4().hex[:8]}") as sub:
        await sub.subscribe(filter_, qos=1)

        async def read() -> None:
            async for message in sub.messages:
                got.add(bytes(message.payload).decode())  # type: ignore[arg-type]

        reading = asyncio.create_task(read())
        for index, (user, topic) in enumerate(attempts):
            await publish_as(broker, user, topic, f"{index}".encode())
        await asyncio.sleep(1.0)
        reading.cancel()
    return {attempts[int(index)] for index in got}


def test_the_deploy_acl_is_what_parktwin_acl_makes_for_the_demo_park() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "programs", "acl"], capture_output=True, text=True, check=True
    )
    assert (DEPLOY / "acl").read_text() == run.stdout
    # The demo park's Tasmota plugs publish on their own topics: the services read them.
    parktwin_block = run.stdout.split("user parktwin\n")[1].split("\n\n")[0]
    assert "topic read tele/+/SENSOR" in parktwin_block
    assert run.stdout.startswith(mosquitto_acl(None, simulator=False).split("\n\n")[0])


async def test_a_device_publishes_only_its_own_topics_in_its_own_park(broker: Mosquitto) -> None:
    own, other_park = device_username(P, "m-plant"), device_username(Q, "m-plant")
    allowed = [
        (own, topics.telemetry(P, "m-plant")),
        (own, topics.device_status(P, "m-plant")),
        (other_park, topics.telemetry(Q, "m-plant")),
    ]
    refused = [
        (own, topics.telemetry(P, "m-flats")),  # another device of its park
        (own, topics.telemetry(Q, "m-plant")),  # its own id in another park
        (own, topics.monthly_inputs(P, "2026-01")),
        (own, topics.twin_state(P)),
        (own, topics.dead_letter(P)),
        (f"{P}/devices/+", topics.telemetry(P, "m-flats")),  # a wildcard in the user name
        (device_username(P, "m-flats"), topics.telemetry(P, "m-plant")),
    ]
    assert await what_gets_through(broker, allowed + refused) == set(allowed)


async def test_a_device_reads_nothing(broker: Mosquitto) -> None:
    device = device_username(P, "m-flats")
    attempt = [(device_username(P, "m-plant"), topics.telemetry(P, "m-plant"))]
    assert await what_gets_through(broker, attempt, device, "parks/#") == set()
    assert await what_gets_through(broker, attempt, device, topics.telemetry_filter(P)) == set()


async def test_no_service_publishes_telemetry_and_the_simulator_only_its_parks_devices(
    broker: Mosquitto,
) -> None:
    demo, device = DEMO.park.id, DEMO.devices[0].id
    allowed = [
        ("simulator", topics.telemetry(demo, device)),
        ("simulator", topics.device_status(demo, DEMO.devices[-1].id)),
        ("simulator", topics.gateway_status(demo, "simulator")),
    ]
    refused = [
        ("simulator", topics.telemetry(demo, "not-in-the-park")),
        ("simulator", topics.telemetry(P, "m-plant")),  # another park's device
        ("simulator", topics.gateway_status(demo, "other")),
        ("simulator", topics.twin_state(demo)),
    ] + [(service, topics.telemetry(P, "m-plant")) for service in
         ("parktwin", "collector", "twin", "operator")]  # fmt: skip
    assert await what_gets_through(broker, allowed + refused) == set(allowed)


async def test_each_service_account_writes_exactly_its_topics(broker: Mosquitto) -> None:
    state, dead, alert = topics.twin_state(P), topics.dead_letter(P), topics.alert(P, "f1")
    inputs = topics.monthly_inputs(P, "2026-01")
    allowed = [
        ("parktwin", dead), ("parktwin", state), ("parktwin", alert),
        ("collector", dead), ("twin", state), ("twin", alert), ("operator", inputs),
    ]  # fmt: skip
    refused = [
        ("collector", state), ("collector", alert), ("collector", inputs),
        ("twin", dead), ("twin", inputs), ("parktwin", inputs),
        ("operator", state), ("operator", dead), ("operator", alert),
    ]  # fmt: skip
    assert await what_gets_through(broker, allowed + refused) == set(allowed)


@pytest.mark.parametrize(
    ("reader", "writer", "topic", "reads"),
    [
        ("parktwin", device_username(P, "m-plant"), topics.telemetry(P, "m-plant"), True),
        ("collector", device_username(P, "m-plant"), topics.telemetry(P, "m-plant"), True),
        ("twin", device_username(P, "m-plant"), topics.telemetry(P, "m-plant"), True),
        ("operator", device_username(P, "m-plant"), topics.telemetry(P, "m-plant"), False),
        ("parktwin", "operator", topics.monthly_inputs(P, "2026-01"), True),
        ("twin", "operator", topics.monthly_inputs(P, "2026-02"), True),
        ("collector", "operator", topics.monthly_inputs(P, "2026-03"), False),
        ("operator", "twin", topics.twin_state(P), True),
        ("operator", "collector", topics.dead_letter(P), True),
        ("operator", "twin", topics.alert(P, "f2"), True),
        ("collector", "twin", topics.twin_state(P), False),
        ("simulator", device_username(P, "m-plant"), topics.telemetry(P, "m-plant"), False),
    ],
)
async def test_each_account_reads_exactly_its_topics(
    broker: Mosquitto, reader: str, writer: str, topic: str, reads: bool
) -> None:
    got = await what_gets_through(broker, [(writer, topic)], reader, topic)
    assert bool(got) is reads


# -- parktwin run under the documented users ------------------------------------------------


def run_env(
    broker: Mosquitto, user: str, db: InfluxDatabase, folder: Path, api: int
) -> dict[str, str]:
    return os.environ | {
        "PARKTWIN_MQTT__HOST": "127.0.0.1",
        "PARKTWIN_MQTT__PORT": str(broker.port),
        "PARKTWIN_MQTT__USERNAME": user,
        "PARKTWIN_MQTT__PASSWORD": deploy_password(user),
        "PARKTWIN_MQTT__CLIENT_ID": f"c-{uuid.uuid4().hex[:6]}",
        "PARKTWIN_INFLUX__API": "v1",
        "PARKTWIN_INFLUX__URL": db.url,
        "PARKTWIN_INFLUX__DATABASE": db.name,
        "PARKTWIN_SPOOL__FOLDER": str(folder / "spool"),
        "PARKTWIN_TWIN__CHECKPOINT_FOLDER": str(folder / "twin"),
        "PARKTWIN_TWIN__CLIENT_ID": f"t-{uuid.uuid4().hex[:6]}",
        "PARKTWIN_TWIN__TICK_S": "0.5",
        "PARKTWIN_COLLECTOR__MAX_FUTURE_S": "1e9",
        "PARKTWIN_API__PORT": str(api),
    }


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_run(env: dict[str, str], park_file: Path) -> subprocess.Popen[bytes]:
    folder = Path(env["PARKTWIN_SPOOL__FOLDER"]).parent
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "run.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "programs", "run", "--park", str(park_file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def run_parktwin_and_feed(
    broker: Mosquitto,
    user: str,
    db: InfluxDatabase,
    folder: Path,
    park_file: Path,
    device: tuple[str, str] = (P, "m-plant"),
    extra: tuple[str, bytes] | None = None,
) -> tuple[int, dict[str, object], str]:
    """Start `parktwin run` as ``user``, feed it a good and a bad reading as ``device`` (park,
    id), and return the /healthz status and body and /metrics once the twin has ticked."""
    api = free_port()
    process = await asyncio.to_thread(start_run, run_env(broker, user, db, folder, api), park_file)
    try:
        base = f"http://127.0.0.1:{api}"

        def answers() -> bool:
            try:
                return b'"mqtt_connected":true' in get(f"{base}/healthz")[1]
            except OSError:
                return False

        await wait_until(lambda: answers() or process.poll() is not None, 60)
        assert process.poll() is None, (folder / "run.log").read_text()[-3000:]
        user_name = device_username(*device)
        good = {"v": 1, "ts": BASE_TS_MS, "values": {"power_kw": 1.5}}
        telemetry = topics.telemetry(*device)
        await publish_as(broker, user_name, telemetry, orjson.dumps(good))
        await publish_as(broker, user_name, telemetry, b'{"v":1,"ts":1,"values":{"nope":1}}')
        if extra is not None:  # a message on a real device's own topic, from the observer
            await publish_as(broker, "observer", *extra)
        await asyncio.sleep(2.0)  # the twin ticks, the dead letter goes out
        status, body = await asyncio.to_thread(get, f"{base}/healthz")
        _, metrics = await asyncio.to_thread(get, f"{base}/metrics")
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.to_thread(process.wait, 30)
    return status, orjson.loads(body), metrics.decode()


@pytest.fixture
def small_park_file(tmp_path: Path) -> Path:
    path = tmp_path / "park.yaml"
    path.write_text(SMALL_PARK.format(park_id=P))
    return path


async def test_parktwin_run_works_under_its_documented_user(
    broker: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path, small_park_file: Path
) -> None:
    status, health, metrics = await run_parktwin_and_feed(
        broker, "parktwin", influxdb, tmp_path, small_park_file
    )
    assert status == 200 and health["status"] == "ok", health
    mqtt = health["mqtt"]
    assert mqtt == {  # no refusal of its dead letters, state or alerts
        role: {"publishes_refused": {}, "last_refusal": None, "broker_warnings": []}
        for role in ("twin", "collector")
    }
    assert 'parktwin_collector_messages_rejected_total{reason="unknown_quantity"} 1.0' in metrics
    assert "_mqtt_publishes_refused_total{" not in metrics  # no sample: nothing refused
    rows = influxdb.query("SELECT power_kw FROM electricity")
    assert rows and rows[0]["values"] == [[BASE_TS_MS, 1.5]]


async def test_parktwin_run_on_the_demo_park_subscribes_to_its_mapped_topics_too(
    broker: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    # The demo park's Tasmota mapping: plug "wallbox-apt1-1" is device apt-1-ev1.
    tasmota = (TASMOTA / "sonoff-pow.json").read_bytes()
    status, health, _ = await run_parktwin_and_feed(
        broker,
        "parktwin",
        influxdb,
        tmp_path,
        demo_park_path(),
        (DEMO.park.id, "jl-f1-l1"),
        ("tele/wallbox-apt1-1/SENSOR", tasmota),
    )
    assert status == 200 and health["status"] == "ok", health
    devices = {s["tags"]["device"] for s in influxdb.query('SELECT * FROM /.*/ GROUP BY "device"')}
    # The native reading and the mapped one ("": the twin's KPI points, which have no device).
    assert devices - {""} == {"jl-f1-l1", "apt-1-ev1"}


async def test_a_refused_publish_of_its_own_output_is_an_error_in_healthz_and_metrics(
    broker: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path, small_park_file: Path
) -> None:
    # Under the collector's account the twin's state is refused (and under the twin's, the
    # dead letters): the service keeps running, and says so as an error.
    status, health, metrics = await run_parktwin_and_feed(
        broker, "collector", influxdb, tmp_path, small_park_file
    )
    assert status == 503 and health["status"] == "error", health
    refused = health["mqtt"]["twin"]["publishes_refused"]  # type: ignore[index]
    assert refused["twin"] >= 1
    assert 'parktwin_twin_mqtt_publishes_refused_total{topic="twin"}' in metrics
    assert health["mqtt"]["collector"]["publishes_refused"] == {}  # type: ignore[index]

    status, health, metrics = await run_parktwin_and_feed(
        broker, "twin", influxdb, tmp_path / "as-twin", small_park_file
    )
    assert status == 503 and health["status"] == "error", health
    assert health["mqtt"]["collector"]["publishes_refused"] == {"deadletter": 1}  # type: ignore[index]
    assert 'parktwin_collector_mqtt_publishes_refused_total{topic="deadletter"} 1.0' in metrics


async def test_the_simulator_runs_under_its_account_and_every_message_gets_through(
    broker: Mosquitto,
) -> None:
    options = SimulatorOptions(
        park=DEMO,
        mqtt=account(broker, "simulator"),
        start=datetime(2026, 1, 1, tzinfo=UTC),
        speed=0.0,
        simulated_duration_s=600.0,
    )
    # The collector's account reads what the simulator publishes as the Sparkplug edge node.
    sparkplug_kinds: list[str] = []
    async with make_client(account(broker, "collector"), f"c-{uuid.uuid4().hex[:8]}") as reader:
        await reader.subscribe("spBv1.0/#", qos=1)

        async def read() -> None:
            async for message in reader.messages:
                sparkplug_kinds.append(str(message.topic).split("/")[2])

        reading = asyncio.create_task(read())
        report = await run_simulator(options)  # a refused publish would raise PublishRefused
        await wait_until(lambda: sparkplug_kinds.count("DDATA") >= 3 * 8, timeout_s=10)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    assert report.messages_published >= len(DEMO.devices)
    assert sparkplug_kinds[:4] == ["NBIRTH", "DBIRTH", "DBIRTH", "DBIRTH"]
