"""What the alert engine reads from one twin snapshot: places' energy in a period, people in a
building, devices' status, the zero-carbon year. Lookups are built once per snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parktwin.park.alerts import split_place
from parktwin.park.model import Park
from twin.model.counters import CounterEvent
from twin.state.snapshot import PeriodReport, PlaceTotals, TwinSnapshot

LEVEL_LISTS = {"building": "buildings", "zone": "zones", "enterprise": "enterprises"}


@dataclass
class SnapshotLookup:
    """One snapshot, at its watermark ``t_ms``."""

    snapshot: TwinSnapshot
    t_ms: int
    _places: dict[tuple[str, str], dict[str, PlaceTotals]] = field(default_factory=dict)
    _status: dict[str, str] | None = None
    _persons: dict[str, float | None] | None = None

    def period(self, granularity: str) -> PeriodReport:
        return self.snapshot.periods[granularity]

    def energy_kwh(self, granularity: str, place: str, measure: str) -> float | None:
        """A place's electricity in the current period: the park's consumption (or grid import)
        from the balance, a building's, zone's or enterprise's from its meters."""
        report = self.period(granularity)
        level, place_id = split_place(place)
        if level == "park":
            balance = report.balance
            if measure == "grid_import":
                return balance.grid_import_kwh
            return balance.electricity_consumption_kwh
        key = (granularity, level)
        table = self._places.get(key)
        if table is None:
            rows: list[PlaceTotals] = getattr(report, LEVEL_LISTS[level])
            table = self._places[key] = {row.id: row for row in rows}
        row = table.get(place_id)
        return None if row is None else row.electricity_kwh

    def cost_yuan(self, granularity: str, place: str) -> float | None:
        """A place's total cost in the current period; None without tariffs or the place."""
        costs = self.snapshot.costs
        if costs is None:
            return None
        report = costs.periods[granularity]
        level, place_id = split_place(place)
        if level == "park":
            return report.park.total_yuan
        row = getattr(report, LEVEL_LISTS[level]).get(place_id)
        return None if row is None else row["total_yuan"]

    def status(self, device_id: str) -> str:
        """online, stale, offline or never_seen."""
        if self._status is None:
            devices = self.snapshot.devices
            self._status = dict(zip(devices.ids, devices.status, strict=True))
        return self._status.get(device_id, "never_seen")

    def persons(self, building_id: str) -> float | None:
        """People in a building now; None when none of its people counters is online."""
        if self._persons is None:
            occupancy = self.snapshot.occupancy
            rows = occupancy.buildings if occupancy is not None else []
            self._persons = {row.building: row.persons for row in rows}
        return self._persons.get(building_id)

    def unconfirmed_resets(self, since_ms: int) -> dict[str, CounterEvent]:
        """Per device, its latest counter reset since ``since_ms`` that nothing explains."""
        return {
            e.device: e
            for e in self.snapshot.counter_events
            if e.kind == "reset" and not e.confirmed and e.at_ms >= since_ms
        }


def place_name(park: Park, place: str) -> str:
    """The readable name of ``park``, ``building:ID``..."""
    level, place_id = split_place(place)
    tables: dict[str, Any] = {
        "building": park.buildings_by_id,
        "zone": park.zones_by_id,
        "enterprise": park.enterprises_by_id,
    }
    if level == "park":
        return park.park.name
    item = tables[level].get(place_id)
    return item.name if item is not None else place_id
