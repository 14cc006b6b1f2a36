"""Checks of the tariffs section that span fields: each problem with the path of its field.

Bands must cover every day from 00:00 to 24:00 without gap or overlap, every month must be in
one season, a schedule may use only bands its version prices, versions come in date order, and
a demand contract names a grid main meter that the tariff prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from parktwin.park.model import Park
from parktwin.park.tariffs import (
    DAY_TYPES,
    MINUTES_A_DAY,
    BandRange,
    DemandCharge,
    Path,
    TariffVersion,
)


def _range_errors(
    ranges: list[BandRange], path: Path, bands: set[str]
) -> Iterator[tuple[Path, str]]:
    """A day's ranges must run from 00:00 to 24:00, in order, without gap or overlap."""
    at = 0
    for i, item in enumerate(ranges):
        start, end = item.start_min, item.end_min
        where = (*path, i)
        if end <= start:
            yield (*where, "to"), f"the range {item.from_}-{item.to} ends before it starts"
            return
        if start > at:
            yield (*where, "from"), f"gap: nothing covers {_hhmm(at)}-{item.from_}"
        elif start < at:
            yield (*where, "from"), f"overlap: {item.from_} is before the previous range ends"
        if item.band not in bands:
            yield (*where, "band"), f"band {item.band!r} has no price in this version"
        at = max(at, end)
    if at < MINUTES_A_DAY:
        yield path, f"gap: nothing covers {_hhmm(at)}-24:00"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def tariff_errors(park: Park) -> list[tuple[Path, str]]:
    """Every problem of the tariffs section that spans fields, as (path, message)."""
    tariffs = park.tariffs
    if tariffs is None:
        return []
    mains = {d.id for d in park.devices if d.kind.value == "grid_main_meter"}
    own = set(tariffs.meters)
    errors = _versions_errors(tariffs.versions, ("tariffs", "versions"), mains - own)
    for meter, tariff in tariffs.meters.items():
        path: Path = ("tariffs", "meters", meter)
        if meter not in park.devices_by_id:
            errors.append((path, f"unknown meter {meter!r}"))
        allowed = {meter} & mains
        errors += _versions_errors(tariff.versions, (*path, "versions"), allowed)
    return errors


def _versions_errors(
    versions: list[TariffVersion], where: Path, contract_meters: set[str]
) -> list[tuple[Path, str]]:
    """Versions in date order; each month in one season; days covered; contracts on main
    meters that this tariff prices (``contract_meters``)."""
    errors: list[tuple[Path, str]] = []
    previous: date | None = None
    for v, version in enumerate(versions):
        path: Path = (*where, v)
        if previous is not None and version.valid_from <= previous:
            errors.append(
                ((*path, "valid_from"), f"{version.valid_from} is not after the version before")
            )
        previous = version.valid_from
        bands = set(version.bands)
        owner: dict[int, str] = {}
        for s, season in enumerate(version.seasons):
            spath = (*path, "seasons", s)
            for m, month in enumerate(season.months):
                if month in owner:
                    errors.append(
                        ((*spath, "months", m), f"month {month} is also in season {owner[month]!r}")
                    )
                owner.setdefault(month, season.name)
            for day_type in DAY_TYPES:
                ranges = getattr(season, day_type)
                if ranges is not None:
                    errors.extend(_range_errors(ranges, (*spath, day_type), bands))
            for band in season.prices:
                if band not in bands:
                    errors.append(((*spath, "prices", band), f"unknown band {band!r}"))
        missing = [m for m in range(1, 13) if m not in owner]
        if missing:
            months = ", ".join(str(m) for m in missing)
            errors.append(((*path, "seasons"), f"months {months} have no season (no tariff)"))
        if isinstance(version.basic, DemandCharge):
            for meter in version.basic.contracted_kw:
                if meter not in contract_meters:
                    errors.append(
                        (
                            (*path, "basic", "contracted_kw", meter),
                            f"{meter!r} is not a grid_main_meter this tariff prices",
                        )
                    )
    return errors
