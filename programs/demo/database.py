"""The demo's InfluxDB: the one configured when it answers, else Debian's influxd as a child.

``scripts/setup.sh`` installs InfluxDB 1.6 (Debian's ``influxdb``) for the tests, so the demo
can store every reading without Docker: it runs ``influxd`` on free loopback ports with its
data in the demo's state folder, where a restarted demo finds its history again. influxd
flushes its write-ahead log and closes its shards on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from parktwin.config import InfluxApi, InfluxSettings
from programs.demo.broker import free_port
from programs.demo.child import find_binary, log_tail, stop_child

INSTALL_HINT = "apt-get install -y influxdb influxdb-client (or run scripts/setup.sh as root)"
START_TIMEOUT_S = 60.0  # influxd opens its shards before it answers; a busy machine is slow
STOP_TIMEOUT_S = 30.0
PING_TIMEOUT_S = 2.0


class DatabaseError(Exception):
    """The embedded InfluxDB cannot be started; the message says why."""


@dataclass(frozen=True)
class Database:
    """Where the demo's readings are stored, and whether the demo runs that server."""

    url: str
    name: str  # v1 database or v2 bucket
    embedded: bool
    folder: Path | None = None  # the embedded server's data


def find_influxd() -> str | None:
    """Path of Debian's influxd (in /usr/bin), or None when it is not installed."""
    return find_binary("influxd")


def influxd_config(http_port: int, rpc_port: int, folder: Path) -> str:
    """An InfluxDB 1.x configuration listening on loopback only, with everything in ``folder``.

    No usage reporting, no internal monitoring database, no query or HTTP request log, and no
    limit on a write's size: the backfill writes large batches.
    """
    return (
        "reporting-disabled = true\n"
        f'bind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{folder}/meta"\n'
        f'[data]\n  dir = "{folder}/data"\n  wal-dir = "{folder}/wal"\n'
        "  query-log-enabled = false\n"
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{http_port}"\n  log-enabled = false\n'
        "  max-body-size = 0\n"
    )


async def influx_answers(settings: InfluxSettings) -> bool:
    """Whether InfluxDB answers ``/ping`` at the configured URL (one try, a short timeout)."""
    return await _ping(settings.url)


async def _ping(url: str) -> bool:
    timeout = aiohttp.ClientTimeout(total=PING_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url.rstrip("/") + "/ping") as response,
        ):
            return response.status in (200, 204)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
        return False


def _prepare(folder: Path, port: int) -> tuple[int, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = folder / "influxdb.conf"
    config.write_text(influxd_config(port, free_port(), folder.resolve()), encoding="utf-8")
    return port, config


async def _wait_until_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not await _ping(url):
                if process.returncode is not None:
                    tail = await asyncio.to_thread(log_tail, log)
                    raise DatabaseError(f"influxd exited with {process.returncode}: {tail}")
                await asyncio.sleep(0.1)
    except TimeoutError:
        message = f"influxd did not answer at {url} within {START_TIMEOUT_S:g} s"
        raise DatabaseError(message) from None


@contextlib.asynccontextmanager
async def embedded_influxdb(folder: Path, database: str, port: int = 0) -> AsyncIterator[Database]:
    """Run influxd on loopback ``port`` (0: any free one) with its data in ``folder``; stop it
    when done.

    The database itself is created by the writers (``ensure_target``), as against any server.
    """
    binary = find_influxd()
    if binary is None:
        raise DatabaseError(f"influxd is not installed; run: {INSTALL_HINT}")
    port, config = await asyncio.to_thread(_prepare, folder, port)
    log = folder / "influxd.log"
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            binary,
            "-config",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            # Its own process group: a Ctrl-C at the terminal reaches the demo, which then
            # stops influxd last, after the final writes.
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_ready(url, process, log)
        yield Database(url, database, embedded=True, folder=folder)
    finally:
        await stop_child(process, STOP_TIMEOUT_S)


def target_name(settings: InfluxSettings) -> str:
    """The v1 database or the v2 bucket the settings write to."""
    return settings.bucket if settings.api is InfluxApi.V2 else settings.database
