"""Where the demo's readings go, in words: InfluxDB (embedded or named), or, when neither can
run, a writer that only counts.

The demo must run on a machine with nothing but Python and mosquitto, so a missing database is
not an error; but it must never pretend to store what it drops, so it says so once, plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from programs.demo.database import INSTALL_HINT, Database


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


def influx_command(database: Database) -> str:
    """The Debian ``influx`` command line that queries the demo's readings."""
    host, _, port = database.url.removeprefix("http://").partition(":")
    return f"influx -host {host} -port {port or 8086} -database {database.name}"


def where_stored(database: Database | None) -> str:
    """A few words for the summary: where the readings are stored."""
    if database is None:
        return "nowhere (no InfluxDB)"
    kind = "embedded InfluxDB" if database.embedded else "InfluxDB"
    return f"{kind} {database.url} ({database.name})"


def storage_notice(database: Database | None, configured_url: str, state_folder: str) -> str:
    """The sentences saying where readings go, how to query them, and what is not kept."""
    if database is not None:
        data = f", data in {database.folder}/" if database.folder is not None else ""
        return (
            f"storage: readings and KPIs go to {where_stored(database)}{data}; "
            f"query them with: {influx_command(database)}"
        )
    return (
        f"storage: no InfluxDB answers at {configured_url} and influxd is not installed "
        f"({INSTALL_HINT}): readings are validated, counted and fed to the twin, but NOT stored "
        "(no time series, no KPI history, the spool is not used); the twin's state is kept in "
        f"{state_folder}. Install influxd, or start InfluxDB and set PARKTWIN_INFLUX__URL, to "
        "store them."
    )
