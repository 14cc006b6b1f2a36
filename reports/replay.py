"""A period replayed through the twin's own code, from the readings stored in InfluxDB.

The twin rebuilds itself from history the same way (twin/history.py): readings thinned to the
first and last of each 15-minute bucket, which keeps every counter total exact (deltas
telescope) and every interval in its local hour. The replay starts at the beginning of the
period's local year, so that year-to-date indicators (zero-carbon, green park, per-mu) are the
twin's own for the period's end, and one day earlier still, so that the interval between the
last reading before the year and the first in it is split at the boundary as the live twin
splits it. It is read a month at a time, so memory stays bounded by one month of readings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from parktwin.config import InfluxSettings
from parktwin.park.model import Park
from parktwin.park.twin import Retention
from parktwin.periods import Granularity
from reports.history import (
    AlertChange,
    HourlyCounts,
    WrittenMonth,
    alert_changes,
    first_and_last_ms,
    hourly_counts,
    written_months,
)
from reports.period import ReportPeriod, same_period_last_year
from twin.model.inputs import MonthlyInputs
from twin.model.topology import Flow, Level
from twin.service.history import latest_event_ms, load_history
from twin.state.snapshot import IngestStats, TwinSnapshot
from twin.state.twin import Twin

Floats = npt.NDArray[np.float64]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
LEAD_MS = DAY_MS  # read this much before the replay's start and after the period's end
RESOLUTION_S = 900  # the twin's own history resolution (twin/history.py)
KEPT_HOURS = 24 * 45  # a month read at once, with its lead and margin
ALERT_LOOKBACK_MS = 31 * DAY_MS  # an alert that fired this long before the period still counts


class NoDataError(ValueError):
    """The period has no stored readings of the park."""


@dataclass
class HourTotals:
    """Each hour's park totals by flow type and each enterprise's sub-metered kWh, taken out of
    the replayed twin's ledger as the replay goes, so that a year at 10,000 devices does not
    keep 8,760 hours of per-meter totals (some 0.7 GB) for a 24-column heatmap."""

    park: dict[int, Floats] = field(default_factory=dict)
    enterprise_kwh: dict[int, Floats] = field(default_factory=dict)

    def take(self, twin: Twin, before_ms: int) -> None:
        """Move the ledger's hours that start before ``before_ms`` into these totals."""
        table = twin.state.ledger.periods[Granularity.HOUR]
        places = twin.topology.places
        for start in [s for s in table if s < before_ms]:
            flows = table.pop(start)
            park = places[Level.PARK].totals(flows)[0]
            kwh = places[Level.ENTERPRISE].totals(flows)[:, Flow.ELECTRICITY_KWH]
            # An interval that ends after its hour was taken adds to it again: add up.
            if start in self.park:
                park, kwh = park + self.park[start], kwh + self.enterprise_kwh[start]
            self.park[start], self.enterprise_kwh[start] = park, kwh


@dataclass
class Replayed:
    """A twin fed the stored readings of a period, with marks at the period's start and end."""

    twin: Twin
    snapshot: TwinSnapshot | None  # at the last reading of the period; None without one
    resets_at_start: npt.NDArray[np.int64]
    resets_at_end: npt.NDArray[np.int64]
    stats_at_start: IngestStats
    stats_at_end: IngestStats
    readings_in_period: int
    first_ms: int | None  # the period's first and last stored reading
    last_ms: int | None
    hours: HourTotals


def replay_twin(park: Park) -> Twin:
    """A twin that keeps every day and month of the replay, and the hours of a month and more
    (the replay takes the older hours out, see HourTotals); the live twin keeps fewer."""
    settings = park.twin.model_copy(
        update={"retention": Retention(hours=KEPT_HOURS, days=800, months=30, years=4)}
    )
    return Twin(park, settings)


async def _load(
    settings: InfluxSettings,
    park: Park,
    twin: Twin,
    hours: HourTotals,
    starts: list[int],
    until_ms: int,
) -> tuple[int, int | None]:
    """Feed stored readings month by month from ``starts[0]`` to ``until_ms``; return how many
    and the time of the first."""
    count, first = 0, None
    for lo, hi in pairwise([*starts, until_ms]):
        if hi <= lo:
            continue
        hours.take(twin, lo - DAY_MS)  # the current local day's hours stay for the snapshot
        readings = await load_history(settings, park, lo, hi, RESOLUTION_S)
        if readings:
            twin.ingest(readings)
            count += len(readings)
            first = readings[0].ts_ms if first is None else first
    return count, first


async def replay(
    settings: InfluxSettings,
    park: Park,
    period: ReportPeriod,
    inputs: dict[str, MonthlyInputs],
    since_ms: int,
    snapshot: bool,
) -> Replayed:
    """Replay stored readings from ``since_ms`` to the period's end, then a day after it.

    The day after completes the period's last intervals (the reading after the end splits
    them at the boundary, as the live twin does) without moving the snapshot, taken at the
    period's last reading, out of the period.
    """
    twin = replay_twin(park)
    hours = HourTotals()
    for item in inputs.values():
        twin.apply_monthly_inputs(item)
    calendar = twin.calendar
    starts = [since_ms]
    month = calendar.start_of(Granularity.MONTH, since_ms)
    while (month := calendar.shift(Granularity.MONTH, month, 1)) < period.start_ms:
        starts.append(month)
    await _load(settings, park, twin, hours, starts, period.start_ms)
    resets, stats = twin.state.resets.copy(), twin.state.stats
    during, first = await _load(
        settings, park, twin, hours, list(period.month_starts), period.end_ms
    )
    state = twin.state
    last = int(state.watermark_ms) if during else None
    taken = twin.snapshot() if during and snapshot else None
    resets_end, stats_end = state.resets.copy(), state.stats
    await _load(settings, park, twin, hours, [period.end_ms], period.end_ms + LEAD_MS)
    hours.take(twin, period.end_ms + LEAD_MS)
    return Replayed(twin, taken, resets, resets_end, stats, stats_end, during, first, last, hours)


@dataclass
class Gathered:
    """Everything a report is built from."""

    park: Park
    period: ReportPeriod
    replayed: Replayed
    replay_since_ms: int
    last_year: Replayed
    last_year_period: ReportPeriod
    counts: HourlyCounts
    alerts: list[AlertChange]
    written: list[WrittenMonth]  # the twin's own last month points, to compare
    inputs_source: str
    made_at_ms: int


async def gather(
    settings: InfluxSettings,
    park: Park,
    period: ReportPeriod,
    inputs: dict[str, MonthlyInputs],
    inputs_source: str,
) -> Gathered:
    """Read and replay what the report needs; NoDataError when the period has no readings."""
    latest = await latest_event_ms(settings, park)
    if latest is None:
        raise NoDataError(f"no stored readings of park {park.park.id} at all")
    if latest < period.start_ms:
        raise NoDataError(
            f"no stored readings of park {park.park.id} in {period.label}: the newest is older"
        )
    calendar = Twin(park).calendar
    # From the period's local year (year-to-date indicators), one day earlier still.
    since = calendar.start_of(Granularity.YEAR, period.start_ms) - LEAD_MS
    replayed = await replay(settings, park, period, inputs, since, snapshot=True)
    if not replayed.readings_in_period:
        raise NoDataError(f"no stored readings of park {park.park.id} in {period.label}")
    earlier = same_period_last_year(period, calendar)
    last_year = await replay(settings, park, earlier, inputs, earlier.start_ms - LEAD_MS, False)
    counts = await hourly_counts(settings, park, period.start_ms, period.end_ms)
    replayed.first_ms, replayed.last_ms = await first_and_last_ms(
        settings, park, period.start_ms, period.end_ms
    )
    alerts = await alert_changes(settings, park, period.start_ms - ALERT_LOOKBACK_MS, period.end_ms)
    bounds = [*period.month_starts, period.end_ms]
    written = await written_months(
        settings,
        park,
        [(m, a, b) for m, a, b in zip(period.months, bounds, bounds[1:], strict=False)],
    )
    return Gathered(
        park,
        period,
        replayed,
        since,
        last_year,
        earlier,
        counts,
        alerts,
        written,
        inputs_source,
        int(time.time() * 1000),
    )
