"""Which band and price applies at an event time: a park's tariffs laid out on the time axis.

A *segment* is a stretch of time in which one tariff version, one band and one set of prices
hold. Segments are cut at every band change, at local midnight, at a new version's first day
and at every quarter hour, so that each segment lies in one local hour (and day, month, year)
and in one 15-minute demand window: the twin can split a meter's consumption at the segments'
bounds (energy is assumed to flow evenly between two readings, as everywhere in the twin) and
price and file every piece without cutting it again.

Before the first version's ``valid_from`` no tariff holds: such segments have version and band
-1 and zero prices, and the twin reports their energy as unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from parktwin.park.tariffs import DayType, Tariffs, TariffVersion

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

WINDOW_MS = 15 * 60_000
"""The demand window: the month's highest 15-minute mean demand is billed (docs/tariffs.md)."""
CACHED_DAYS = 512


@dataclass(frozen=True, slots=True)
class Segments:
    """Consecutive segments: segment i is ``[bounds[i], bounds[i + 1])``; the other arrays have
    one entry a segment."""

    bounds: Ints
    version: Ints  # index into Tariffs.versions; -1: no tariff
    band: Ints  # index into Timeline.band_names; -1: no tariff
    energy_price: Floats  # yuan/kWh bought from the grid
    feed_in_price: Floats  # yuan/kWh sold to the grid
    gas_price: Floats  # yuan/m3
    heat_price: Floats  # yuan/GJ

    def __len__(self) -> int:
        return len(self.version)


@dataclass(frozen=True, slots=True)
class PriceAt:
    """What applies at one instant."""

    version: int  # -1: no tariff
    valid_from: date | None
    season: str | None
    day_type: DayType
    band: str | None
    energy_yuan_per_kwh: float
    feed_in_yuan_per_kwh: float


class Timeline:
    """A park's tariffs in one time zone; days are worked out once and kept."""

    def __init__(
        self, tariffs: Tariffs, tz: ZoneInfo, versions: list[TariffVersion] | None = None
    ) -> None:
        """The park's tariff, or with ``versions`` a meter's own (bands are numbered across
        all of the park's tariffs, so that every timeline's band indexes agree)."""
        self.tariffs = tariffs
        self.versions = tariffs.versions if versions is None else versions
        self.tz = tz
        self.band_names = tariffs.band_names()
        self._band_index = {name: i for i, name in enumerate(self.band_names)}
        self._holidays = frozenset(tariffs.calendar.holidays)
        self._workdays = frozenset(tariffs.calendar.workdays)
        self._starts = [v.valid_from for v in self.versions]
        self._day = lru_cache(maxsize=CACHED_DAYS)(self._make_day)

    # -- one instant ---------------------------------------------------------------------------
    def version_index(self, day: date) -> int:
        """The version valid on a local day, -1 before the first."""
        found = -1
        for i, start in enumerate(self._starts):
            if start <= day:
                found = i
        return found

    def version_at(self, ts_ms: int) -> TariffVersion | None:
        """The version valid at an instant."""
        index = self.version_index(self.local(ts_ms).date())
        return None if index < 0 else self.versions[index]

    def day_type(self, day: date) -> DayType:
        return self.tariffs.calendar.day_type(day, self._holidays, self._workdays)

    def local(self, ts_ms: int) -> datetime:
        return datetime.fromtimestamp(ts_ms / 1000, self.tz)

    def at(self, ts_ms: int) -> PriceAt:
        """The version, season, day type, band and prices at an instant."""
        day = self.local(ts_ms).date()
        segments = self._day(day)
        i = int(np.searchsorted(segments.bounds, ts_ms, side="right")) - 1
        index = int(segments.version[i])
        version = self.versions[index] if index >= 0 else None
        band = int(segments.band[i])
        return PriceAt(
            version=index,
            valid_from=version.valid_from if version else None,
            season=version.season_of(day.month).name if version else None,
            day_type=self.day_type(day),
            band=self.band_names[band] if band >= 0 else None,
            energy_yuan_per_kwh=float(segments.energy_price[i]),
            feed_in_yuan_per_kwh=float(segments.feed_in_price[i]),
        )

    # -- a stretch of time ---------------------------------------------------------------------
    def segments(self, lo_ms: int, hi_ms: int) -> Segments:
        """Segments from the one holding ``lo_ms`` to the one holding ``hi_ms``, with a last
        bound at or after ``hi_ms`` (what ``parktwin.periods.split`` needs for (lo, hi])."""
        first = self.local(lo_ms).date()
        last = self.local(hi_ms).date()
        days = [self._day(first + timedelta(days=i)) for i in range((last - first).days + 1)]
        if len(days) == 1:
            return days[0]
        return Segments(
            np.concatenate([d.bounds[:-1] for d in days] + [days[-1].bounds[-1:]]),
            *(np.concatenate([getattr(d, name) for d in days]) for name in _PER_SEGMENT),
        )

    def _ms(self, day: date, minutes: int) -> int:
        # Aware + timedelta is wall-clock arithmetic: a day of 23 or 25 hours keeps its bands.
        moment = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(minutes=minutes)
        return round(moment.timestamp() * 1000)

    def _make_day(self, day: date) -> Segments:
        """The segments of one local day, ending with the next day's midnight."""
        start = self._ms(day, 0)
        end = self._ms(day + timedelta(days=1), 0)
        index = self.version_index(day)
        quarter = np.arange(start, end, WINDOW_MS, dtype=np.int64)
        if index < 0:
            bounds = np.append(quarter, end)
            n = len(quarter)
            none = np.full(n, -1, dtype=np.int64)
            zero = np.zeros(n)
            return Segments(bounds, none, none.copy(), zero, zero.copy(), zero.copy(), zero.copy())
        version = self.versions[index]
        season = version.season_of(day.month)
        ranges = season.ranges(self.day_type(day))
        range_starts = np.asarray([self._ms(day, r.start_min) for r in ranges], dtype=np.int64)
        bounds = np.unique(np.concatenate([quarter, range_starts, [end]]))
        bounds = bounds[(bounds >= start) & (bounds <= end)]
        which = np.searchsorted(range_starts, bounds[:-1], side="right") - 1
        band_of_range = np.asarray([self._band_index[r.band] for r in ranges], dtype=np.int64)
        price_of_range = np.asarray([version.price(season, r.band) for r in ranges])
        n = len(bounds) - 1
        return Segments(
            bounds,
            np.full(n, index, dtype=np.int64),
            band_of_range[which],
            price_of_range[which],
            np.full(n, version.feed_in_yuan_per_kwh),
            np.full(n, version.gas_yuan_per_m3),
            np.full(n, version.heat_yuan_per_gj),
        )


_PER_SEGMENT = ("version", "band", "energy_price", "feed_in_price", "gas_price", "heat_price")
