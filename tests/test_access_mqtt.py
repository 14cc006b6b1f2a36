"""Who may talk to the broker, and about what: user names and passwords, TLS with client
certificates, and the compose stack's ACL (deploy/mosquitto/acl, explained in docs/access.md).
A device cannot publish as another, a collector cannot publish telemetry, and nobody gets in
without a password and a certificate. Real mosquitto; certificates made here with openssl."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from conftest import DEPLOY, InfluxDatabase, Mosquitto, free_port, require_binary
from helpers import (
    BASE_TS_MS,
    Sent,
    collector_settings,
    payload_of,
    running,
    small_park,
    stored_pairs,
)
from pydantic import SecretStr

from collectors.service import Collector
from parktwin.config import MqttSettings, TlsSettings
from parktwin.contract import topics
from parktwin.mqtt import make_client

pytestmark = pytest.mark.integration

ACL = DEPLOY / "acl"
PARK = "tlspark"  # devices log in as "{park}/devices/{device}"
PLANT, FLATS = f"{PARK}/devices/m-plant", f"{PARK}/devices/m-flats"
USERS = ("collector", "twin", "operator", PLANT, FLATS)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all for one day."""
    require_binary("openssl")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
            "-subj", "/CN=parktwin test CA", cwd=folder)  # fmt: skip
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in (("server", ("-extfile", "server.ext")), ("client", ())):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=parktwin {name}", cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "1", *extra,
                cwd=folder)  # fmt: skip


@dataclass(frozen=True)
class SecureBroker:
    """A broker that takes only TLS with a client certificate, and a password, under the ACL."""

    server: Mosquitto
    tls_port: int
    certificates: Path

    def password(self, user: str) -> str:
        return f"pw-{user}-7f3a"

    def settings(self, user: str, password: str | None = None, **tls: object) -> MqttSettings:
        certs = self.certificates
        return MqttSettings(
            host="127.0.0.1",
            port=self.tls_port,
            username=user,
            password=password or self.password(user),
            tls=TlsSettings(
                ca_file=certs / "ca.crt",
                cert_file=certs / "client.crt",
                key_file=certs / "client.key",
            ).model_copy(update=tls),
        )


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    folder = tmp_path_factory.mktemp("secure-mosquitto")
    certs = folder / "certs"
    certs.mkdir()
    make_certificates(certs)
    passwords = folder / "passwords"
    passwd = require_binary("mosquitto_passwd")
    for index, user in enumerate(USERS):
        create = ["-c"] if index == 0 else []
        subprocess.run([passwd, *create, "-b", str(passwords), user, f"pw-{user}-7f3a"], check=True)
    tls_port = free_port()
    server = Mosquitto.create(
        folder / "broker",
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {certs / 'ca.crt'}\ncertfile {certs / 'server.crt'}\n"
        f"keyfile {certs / 'server.key'}\nrequire_certificate true\n"
        # For every listener: no anonymous clients, these passwords, this ACL.
        f"allow_anonymous false\npassword_file {passwords}\nacl_file {ACL}\n",
    )
    server.start()
    yield SecureBroker(server, tls_port, certs)
    server.stop()


async def publish_once(mqtt: MqttSettings, park_id: str, sent: Sent) -> bool:
    """Publish a reading on its device's topic; False when the broker cut the connection.

    mosquitto answers a publish the ACL forbids either with a refusing PUBACK or, for MQTT v5
    clients, by disconnecting them; either way the message goes nowhere.
    """
    try:
        async with make_client(mqtt, f"p-{uuid.uuid4().hex[:6]}") as client:
            topic = topics.telemetry(park_id, sent.device_id)
            await client.publish(topic, payload_of(sent), qos=1, timeout=5)
    except aiomqtt.MqttError:
        return False
    return True


async def test_a_device_can_publish_only_as_itself_and_a_collector_not_at_all(
    secure_broker: SecureBroker, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park_id = PARK
    park = small_park(park_id)
    own, forged, by_collector, last = (
        Sent("m-plant", BASE_TS_MS, {"power_kw": 1.0}),
        Sent("m-flats", BASE_TS_MS, {"power_kw": 2.0}),
        Sent("m-plant", BASE_TS_MS + 60_000, {"power_kw": 3.0}),
        Sent("m-plant", BASE_TS_MS + 120_000, {"power_kw": 4.0}),
    )
    collector_mqtt = secure_broker.settings("collector")
    settings = collector_settings(
        secure_broker.tls_port,
        tmp_path,
        {"api": "v1", "url": influxdb.url, "database": influxdb.name},
        mqtt=collector_mqtt.model_dump() | {"client_id": f"collector-{uuid.uuid4().hex[:6]}"},
    )
    collector = Collector(park, settings)
    async with running(collector):
        assert await publish_once(secure_broker.settings(PLANT), park_id, own)
        await publish_once(secure_broker.settings(PLANT), park_id, forged)
        await publish_once(collector_mqtt, park_id, by_collector)
        # Published after the refused ones: once it is stored, they would have been too.
        assert await publish_once(secure_broker.settings(PLANT), park_id, last)
        async with asyncio.timeout(30):
            while len(stored_pairs(influxdb.server, influxdb.name)) < 2:
                await asyncio.sleep(0.1)
    assert set(stored_pairs(influxdb.server, influxdb.name)) == {
        ("m-plant", own.ts_ms),
        ("m-plant", last.ts_ms),
    }
    assert collector.stats.messages_received == 2


async def test_a_device_reads_no_telemetry_and_the_twin_reads_it_and_writes_its_state(
    secure_broker: SecureBroker,
) -> None:
    park_id = PARK

    async def receives(user: str, publish_as: str, topic: str) -> bool:
        async with make_client(secure_broker.settings(user), f"s-{uuid.uuid4().hex[:6]}") as sub:
            await sub.subscribe(topic, qos=1)
            async with make_client(secure_broker.settings(publish_as), None) as publisher:
                await publisher.publish(topic, b"{}", qos=1)
            try:
                async with asyncio.timeout(1.5):
                    await anext(aiter(sub.messages))
            except TimeoutError:
                return False
            return True

    telemetry = topics.telemetry(park_id, "m-plant")
    assert await receives("twin", PLANT, telemetry)
    assert await receives("collector", PLANT, telemetry)
    assert not await receives(FLATS, PLANT, telemetry)  # devices read nothing
    assert await receives("operator", "twin", topics.twin_state(park_id))
    inputs = topics.monthly_inputs(park_id, "2026-01")
    assert await receives("twin", "operator", inputs)
    assert not await receives("twin", PLANT, inputs)  # a device cannot set inputs
    dead_letter = topics.dead_letter(park_id)
    assert await receives("operator", "collector", dead_letter)
    assert not await receives("operator", "twin", dead_letter)


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("a wrong password", {"password": SecretStr("guess")}),
        ("no password", {"username": None, "password": None}),
        ("no client certificate", {"tls": {"cert_file": None, "key_file": None}}),
        ("plain TCP", {"tls": None}),
        ("a server certificate from another CA", {"tls": {"ca_file": "server.crt"}}),
    ],
)
async def test_nobody_connects_without_password_and_certificate(
    secure_broker: SecureBroker, what: str, change: dict[str, object]
) -> None:
    good = secure_broker.settings(PLANT)
    tls = change.get("tls", {})
    if isinstance(tls, dict) and "ca_file" in tls:
        tls = {"ca_file": secure_broker.certificates / str(tls["ca_file"])}
    updates = {k: v for k, v in change.items() if k != "tls"}
    if "tls" in change:
        updates["tls"] = None if tls is None else good.tls.model_copy(update=tls)  # type: ignore[union-attr]
    settings = good.model_copy(update=updates)
    # Refused: an error, or (aiomqtt waits for a CONNACK that a reset connection never sends)
    # no connection at all within seconds that a good client needs milliseconds for.
    with pytest.raises((aiomqtt.MqttError, TimeoutError)):
        async with asyncio.timeout(3), make_client(settings, f"x-{uuid.uuid4().hex[:6]}"):
            pass
    # The same settings with the right credentials do connect.
    async with make_client(good, f"ok-{uuid.uuid4().hex[:6]}"):
        pass
