"""The consumers under test, each started as its own process so that its memory and CPU are
its own: parktwin's collector (``python -m programs collect``), the bare paho consumer, the bare
consumer on parktwin's own MQTT client, the naive collector, and ``mosquitto_sub``; and the line
sink a collector may write to instead of InfluxDB."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class Consumer:
    """A consumer process, its log files, and how to tell that it has subscribed."""

    name: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    ready_text: str | None  # appears in stdout or stderr once subscribed; None: wait a second

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until the consumer has subscribed (or fail with its output)."""
        if self.ready_text is None:
            time.sleep(1.0)  # mosquitto_sub says nothing; it connects in milliseconds
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if any(self.ready_text in p.read_text(errors="replace") for p in self.logs):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not subscribe:\n{self.output()}")

    @property
    def logs(self) -> tuple[Path, Path]:
        return self.stdout, self.stderr

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.logs)


def _start(
    name: str, command: list[str], folder: Path, ready_text: str | None, keep_stdout: bool = True
) -> Consumer:
    folder.mkdir(parents=True, exist_ok=True)
    stdout, stderr = folder / f"{name}.out", folder / f"{name}.err"
    stdout.touch()
    target = stdout if keep_stdout else Path("/dev/null")
    with target.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
    return Consumer(name, process, stdout, stderr, ready_text)


def start_collector(
    folder: Path,
    park_file: Path,
    port: int,
    influx_url: str,
    database: str,
    client_id: str,
    shared_group: str | None = None,
) -> Consumer:
    """parktwin's collector, as users run it."""
    command = [
        sys.executable,
        "-m",
        "programs",
        "collect",
        "--park",
        str(park_file),
        "--broker",
        f"127.0.0.1:{port}",
        "--influx-url",
        influx_url,
        "--database",
        database,
        "--spool-dir",
        str(folder / f"spool-{client_id}"),
        "--client-id",
        client_id,
        "--log-level",
        "INFO",
    ]
    if shared_group:
        command += ["--shared-group", shared_group]
    return _start(client_id, command, folder, "subscribed to")


def start_bare(folder: Path, port: int, subscription: str, count: int) -> Consumer:
    """The bare paho consumer (bench/bare_consumer.py)."""
    command = [sys.executable, str(BENCH / "bare_consumer.py"), str(port), subscription]
    return _start("bare", [*command, str(count)], folder, "ready")


def start_bare_wire(folder: Path, port: int, subscription: str, count: int) -> Consumer:
    """The bare consumer on parktwin's own MQTT client (bench/bare_wire_consumer.py)."""
    command = [sys.executable, str(BENCH / "bare_wire_consumer.py"), str(port), subscription]
    return _start("bare_wire", [*command, str(count)], folder, "ready")


def start_naive(
    folder: Path, port: int, subscription: str, count: int, influx_url: str, database: str
) -> Consumer:
    """The naive collector (bench/naive_collector.py)."""
    command = [sys.executable, str(BENCH / "naive_collector.py"), str(port), subscription]
    return _start("naive", [*command, str(count), influx_url, database], folder, "ready")


def start_line_sink(folder: Path, port: int) -> Consumer:
    """The stand-in for InfluxDB that only counts lines (bench/line_sink.py), on ``port``."""
    command = [sys.executable, str(BENCH / "line_sink.py"), str(port)]
    return _start(f"line_sink_{port}", command, folder, "ready")


def start_mosquitto_sub(folder: Path, port: int, subscription: str, count: int) -> Consumer:
    """The broker's ceiling: ``mosquitto_sub`` at QoS 1, its output thrown away.

    It says nothing once subscribed, and on a loaded machine it may take longer than the
    harness waits: so a first ``mosquitto_sub -E`` makes a persistent session and leaves once
    its subscription is acknowledged, and the consumer then takes that session up, as the
    collector takes up its own (whatever is published meanwhile waits there for it).
    """
    command = [*_mosquitto_sub(port, "bench-sub"), "-q", "1", "-t", subscription, "-c"]
    subprocess.run([*command, "-x", "600", "-E"], check=True, timeout=60, stdout=subprocess.DEVNULL)
    # Taken up with a one-second expiry: once it has its messages, the session goes.
    command += ["-x", "1", "-C", str(count)]
    return _start("mosquitto_sub", command, folder, None, keep_stdout=False)


def end_session(port: int, client_id: str) -> None:
    """Make the broker drop a stopped consumer's persistent session: a clean start with the
    same client id. Otherwise it keeps queueing every later run's messages for it, and by the
    last drains of a run the broker stores each message several times over."""
    command = [*_mosquitto_sub(port, client_id), "-t", "parktwin-bench/none", "-E"]
    subprocess.run(command, check=True, timeout=60, stdout=subprocess.DEVNULL)


def _mosquitto_sub(port: int, client_id: str) -> list[str]:
    binary = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
    return [binary, "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-i", client_id]
