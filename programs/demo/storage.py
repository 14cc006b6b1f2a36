"""Where the demo's readings go: InfluxDB when one answers, otherwise a writer that only counts.

The demo must run on a machine with nothing but Python and mosquitto, so a missing database is
not an error; but it must never pretend to store what it drops, so it says so once, plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from parktwin.config import InfluxSettings

PING_TIMEOUT_S = 2.0


@dataclass
class NullWriter:
    """A ``PointWriter`` that stores nothing and counts the lines it was given."""

    lines: int = 0

    async def write(self, lines: Sequence[str]) -> None:
        """Count the lines; nothing is stored."""
        self.lines += len(lines)

    async def ensure_target(self) -> None:
        """There is no target to create."""

    async def aclose(self) -> None:
        """Nothing to release."""


async def influx_answers(settings: InfluxSettings) -> bool:
    """Whether InfluxDB answers ``/ping`` at the configured URL (one try, a short timeout)."""
    url = settings.url.rstrip("/") + "/ping"
    timeout = aiohttp.ClientTimeout(total=PING_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url) as response,
        ):
            return response.status in (200, 204)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
        return False


def storage_notice(stored: bool, settings: InfluxSettings, state_folder: str) -> str:
    """The one sentence saying where readings go and what is not kept."""
    if stored:
        where = settings.bucket if settings.api.value == "v2" else settings.database
        return f"storage: readings and KPIs go to InfluxDB at {settings.url} ({where})."
    return (
        f"storage: no InfluxDB answers at {settings.url}: readings are validated, counted and "
        "fed to the twin, but NOT stored (no time series, no KPI history, the spool is not "
        f"used); the twin's state is kept in {state_folder}. Start InfluxDB or set "
        "PARKTWIN_INFLUX__URL to store them."
    )
