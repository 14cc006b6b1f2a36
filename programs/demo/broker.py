"""The demo's MQTT broker: Debian's mosquitto on a free loopback port, or the one named.

The collectors and the twin need MQTT v5 with persistent sessions, QoS 1, Receive Maximum and
manual acknowledgements. No maintained pure-Python broker on PyPI offers that (amqtt 0.12 speaks
3.1.1 only; mqttools has no QoS 1), so the demo runs mosquitto as a child process. Its
persistence lives in the demo's state folder: a restarted demo finds the sessions, and any
message the twin had not yet acknowledged, where it left them.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from parktwin.config import MAX_PACKET_SIZE_BYTES
from programs.demo.child import find_binary, log_tail, stop_child

INSTALL_HINT = "apt-get install -y mosquitto (or run scripts/setup.sh as root)"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class BrokerError(Exception):
    """The embedded broker cannot be started; the message says why and what to install."""


@dataclass(frozen=True)
class Broker:
    """Where the demo's MQTT broker listens, and whether the demo started it."""

    host: str
    port: int
    embedded: bool


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary (Debian installs it in /usr/sbin), or None."""
    return find_binary("mosquitto")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def mosquitto_config(
    port: int,
    folder: Path,
    *,
    run_as: str | None,
    log_to_file: bool = True,
    max_packet_size_bytes: int = MAX_PACKET_SIZE_BYTES,
) -> str:
    """A loopback-only mosquitto configuration with persistence in ``folder``, as parktwin needs.

    ``run_as`` names the user mosquitto runs as (None: leave the line out, for a caller that
    writes its own); ``log_to_file`` sends errors and warnings to ``folder/mosquitto.log``;
    ``max_packet_size_bytes`` is the largest packet it takes from a client (a larger one
    closes that client's connection), the same as our clients' ``mqtt.max_packet_size_bytes``.
    """
    return (
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        # Started as root, mosquitto would become user "mosquitto" and could not write here.
        + (f"user {run_as}\n" if run_as is not None else "")
        # The collectors hold acknowledgements until readings are durable: no in-flight cap,
        # and a session keeps everything published while its client is away.
        + "max_inflight_messages 0\n"
        "max_queued_messages 0\n"
        "max_queued_bytes 0\n"
        f"max_packet_size {max_packet_size_bytes}\n"
        # Sessions and queued messages live in memory and reach the disk at each autosave; every
        # second (not the default 30 minutes) bounds what a broker crash loses to the last
        # two seconds' messages, at no measurable cost to the publish rate (docs/reliability.md).
        "autosave_interval 1\n"
        "log_type error\nlog_type warning\n"
        + (f"log_dest file {folder}/mosquitto.log\n" if log_to_file else "")
    )


async def _wait_for_port(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(START_TIMEOUT_S):
        while True:
            if process.returncode is not None:
                tail = await asyncio.to_thread(log_tail, log)
                raise BrokerError(f"mosquitto exited with {process.returncode}: {tail}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                return
            await asyncio.sleep(0.05)


def _prepare(folder: Path) -> tuple[int, Path]:
    """A free port and a configuration file for it in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        mosquitto_config(port, folder.resolve(), run_as=getpass.getuser()), encoding="utf-8"
    )
    return port, config


@contextlib.asynccontextmanager
async def embedded_broker(folder: Path) -> AsyncIterator[Broker]:
    """Run mosquitto on a free loopback port with its persistence in ``folder``; stop it (it
    saves its sessions on SIGTERM) when the block ends."""
    binary = find_mosquitto()
    if binary is None:
        raise BrokerError(
            "the demo needs an MQTT v5 broker: mosquitto is not installed; run: "
            f"{INSTALL_HINT}, or name a broker with --broker host:port"
        )
    port, config = await asyncio.to_thread(_prepare, folder)
    process = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        try:
            await _wait_for_port(port, process, folder / "mosquitto.log")
        except TimeoutError:
            raise BrokerError(f"mosquitto did not open port {port}") from None
        yield Broker("127.0.0.1", port, embedded=True)
    finally:
        await stop_child(process, STOP_TIMEOUT_S)


@contextlib.asynccontextmanager
async def named_broker(host: str, port: int) -> AsyncIterator[Broker]:
    """A broker someone else runs."""
    yield Broker(host, port, embedded=False)
