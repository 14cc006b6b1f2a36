"""What a report reads from InfluxDB, with InfluxQL (InfluxDB 1.x, 2.x through DBRP, 3.x): the
park's readings (through the twin's own history loader), readings counted per device and hour,
and the alert changes the twin wrote."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import aiohttp

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS
from parktwin.influx.influxql import query
from parktwin.park.model import Park

HOUR_MS = 3_600_000


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@dataclass(frozen=True, slots=True)
class HourlyCounts:
    """Per device, readings received in each hour of a range (hour start ms -> count)."""

    by_device: dict[str, dict[int, int]]


async def hourly_counts(
    settings: InfluxSettings, park: Park, start_ms: int, end_ms: int
) -> HourlyCounts:
    """Readings per device and hour: a reading counts once, whatever number of fields it has
    (the largest field count of the hour is taken)."""
    media = sorted({KINDS[d.kind].medium.value for d in park.devices})
    park_id = _quoted(park.park.id)
    found: dict[str, dict[int, int]] = defaultdict(dict)
    async with aiohttp.ClientSession() as session:
        for medium in media:
            statement = (
                f'SELECT count(*) FROM "{medium}" WHERE "park" = \'{park_id}\' '
                f"AND time >= {start_ms}ms AND time < {end_ms}ms "
                f'GROUP BY time(1h), "device" fill(none)'
            )
            for series in await query(session, settings, statement):
                device = series.tags.get("device", "")
                hours = found[device]
                for row in series.values:
                    counts = [int(v) for v in row[1:] if v is not None]
                    if counts:
                        hours[int(row[0])] = max(hours.get(int(row[0]), 0), max(counts))
    return HourlyCounts(dict(found))


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One point of the ``alerts`` measurement: an alert firing or resolved."""

    at_ms: int
    rule: str
    severity: str
    place: str
    state: str  # firing, resolved
    summary: str
    fingerprint: str
    value: float | None
    limit: float | None
    kind: str = ""  # the rule's kind (demand, budget, cost_budget, contract_demand...)


async def alert_changes(
    settings: InfluxSettings, park: Park, start_ms: int, end_ms: int
) -> list[AlertChange]:
    """Alert changes between two event times, oldest first (empty when none were written)."""
    statement = (
        f'SELECT * FROM "alerts" WHERE "park" = \'{_quoted(park.park.id)}\' '
        f"AND time >= {start_ms}ms AND time < {end_ms}ms"
    )
    async with aiohttp.ClientSession() as session:
        result = await query(session, settings, statement)
    changes = []
    for series in result:
        columns = series.columns
        for row in series.values:
            item = dict(zip(columns, row, strict=True)) | series.tags
            changes.append(
                AlertChange(
                    at_ms=int(item["time"]),
                    rule=str(item.get("rule") or ""),
                    severity=str(item.get("severity") or ""),
                    place=str(item.get("place") or ""),
                    state=str(item.get("state") or ""),
                    summary=str(item.get("summary") or ""),
                    fingerprint=str(item.get("fingerprint") or ""),
                    value=None if item.get("value") is None else float(item["value"]),
                    limit=None if item.get("limit") is None else float(item["limit"]),
                    kind=str(item.get("kind") or ""),
                )
            )
    changes.sort(key=lambda c: c.at_ms)
    return changes


async def first_and_last_ms(
    settings: InfluxSettings, park: Park, start_ms: int, end_ms: int
) -> tuple[int | None, int | None]:
    """Event times of the park's first and last stored readings between two times (the replay
    sees the thinned ones, placed at the edges of their 15-minute buckets)."""
    media = sorted({KINDS[d.kind].medium.value for d in park.devices})
    park_id = _quoted(park.park.id)
    first: int | None = None
    last: int | None = None
    async with aiohttp.ClientSession() as session:
        for medium in media:
            for order in ("ASC", "DESC"):
                statement = (
                    f'SELECT * FROM "{medium}" WHERE "park" = \'{park_id}\' '
                    f"AND time >= {start_ms}ms AND time < {end_ms}ms ORDER BY time {order} LIMIT 1"
                )
                for series in await query(session, settings, statement):
                    for row in series.values:
                        ts = int(row[0])
                        first = ts if first is None else min(first, ts)
                        last = ts if last is None else max(last, ts)
    return first, last


@dataclass(frozen=True, slots=True)
class WrittenMonth:
    """The twin's last ``twin_balance`` point of a month: its running totals at its last tick."""

    month: str
    at_ms: int
    consumption_kwh: float | None
    energy_tce: float | None


async def written_months(
    settings: InfluxSettings, park: Park, months: list[tuple[str, int, int]]
) -> list[WrittenMonth]:
    """For each (label, start, end) month, the last month point the twin wrote inside it."""
    found = []
    async with aiohttp.ClientSession() as session:
        for label, start_ms, end_ms in months:
            statement = (
                'SELECT "electricity_consumption_kwh", "tce_energy_tce" FROM "twin_balance" '
                f"WHERE \"park\" = '{_quoted(park.park.id)}' AND \"period\" = 'month' "
                f"AND time >= {start_ms}ms AND time < {end_ms}ms ORDER BY time DESC LIMIT 1"
            )
            for series in await query(session, settings, statement):
                for row in series.values:
                    item = dict(zip(series.columns, row, strict=True))
                    consumption = item.get("electricity_consumption_kwh")
                    tce = item.get("tce_energy_tce")
                    found.append(
                        WrittenMonth(
                            label,
                            int(item["time"]),
                            None if consumption is None else float(consumption),
                            None if tce is None else float(tce),
                        )
                    )
    return found
