"""The twin's state and KPIs at one watermark, as a tree of dataclasses with a JSON-ready form.

Units are in the field names. Per-device data is columnar (one array per field, aligned with
``ids`` or ``keys``, see ``twin.model.columns``) so that a park of 100,000 devices stays cheap to
build and to serialise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.indicators.carbon import CarbonAccount, CarbonProgress
from twin.indicators.energy import EnergyBalance
from twin.indicators.enterprises import EnterpriseEvaluation
from twin.indicators.green_park import GreenParkReport
from twin.indicators.indicator import Indicator
from twin.indicators.occupancy import OccupancyReport
from twin.indicators.zero_carbon import ZeroCarbonReport
from twin.model.columns import (
    ChannelTable,
    Columns,
    DeviceTable,
    FlowTable,
    RowTable,
    plain_scalars,
)
from twin.model.counters import CounterEvent
from twin.model.live import IngestStats
from twin.state.cost_report import CostReport, CostTable, MeterCosts

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PlaceTotals:
    """What one building, zone or enterprise used in a period (parent meters not counted twice)."""

    id: str
    electricity_kwh: float  # sub-meters and chargers
    pv_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float
    gas_m3: float
    heat_gj: float
    diesel_kg: float
    water_m3: float
    stack_co2_kg: float
    person_hours: float
    energy_tce: float
    co2_t: float  # Scope 1 and location-based Scope 2


PLACE_FIELDS = tuple(f.name for f in fields(PlaceTotals))


class PlaceTable:
    """The PlaceTotals of one level's places, kept as one array and made into rows on demand.

    A snapshot holds about 2,500 place rows at 10,000 devices and most consumers read a few of
    them or only the JSON form: building them all as dataclasses cost more than the KPIs.
    Iterating or indexing gives PlaceTotals; ``rows`` gives the same dicts ``plain`` made of them.
    """

    __slots__ = ("ids", "values")

    def __init__(self, ids: list[str], values: Floats) -> None:
        self.ids = ids
        self.values = values  # shape (places, PlaceTotals fields after id), in field order

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> PlaceTotals:
        return PlaceTotals(self.ids[i], *self.values[i].tolist())

    def __iter__(self) -> Iterator[PlaceTotals]:
        return (PlaceTotals(p, *row) for p, row in zip(self.ids, self.values.tolist(), strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlaceTable):
            return NotImplemented
        return self.ids == other.ids and np.array_equal(self.values, other.values)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it stands for

    def rows(self) -> list[dict[str, Any]]:
        """Each place's fields as plain data (non-finite numbers as None, like ``plain``)."""
        values: list[list[float | None]] = self.values.tolist()
        if not np.isfinite(self.values).all():
            values = [
                [v if v is not None and math.isfinite(v) else None for v in r] for r in values
            ]
        return [
            dict(zip(PLACE_FIELDS, (place, *row), strict=True))
            for place, row in zip(self.ids, values, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """The current hour, day, month or year in the park's local calendar."""

    granularity: str
    label: str
    start_ms: int
    end_ms: int
    balance: EnergyBalance
    buildings: PlaceTable
    zones: PlaceTable
    enterprises: PlaceTable


@dataclass(frozen=True, slots=True)
class TwinSnapshot:
    """Everything the twin knows at ``watermark_ms``."""

    park_id: str
    timezone: str
    watermark_ms: int | None
    local_time: str | None
    ingest: IngestStats
    devices: DeviceTable
    channels: ChannelTable
    flows: FlowTable
    periods: dict[str, PeriodReport]
    carbon_month: CarbonAccount | None
    carbon_year: CarbonAccount | None
    carbon_by_month: dict[str, CarbonAccount]
    progress: CarbonProgress | None
    zero_carbon: ZeroCarbonReport | None
    green_park: GreenParkReport | None
    occupancy: OccupancyReport | None
    enterprises: EnterpriseEvaluation | None
    monthly_inputs: list[str]  # months with inputs received
    costs: CostReport | None = None  # None: the park has no tariffs (or no reading yet)
    # Counters that started again from a low value (resets, rollovers, replacements), oldest
    # first, kept as long as the ledger keeps days.
    counter_events: list[CounterEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: NaN and infinities become None."""
        result = plain(self)
        assert isinstance(result, dict)
        return result

    def outputs_dict(self) -> dict[str, Any]:
        """The JSON form less what a tick's outputs (KPI summary and points) read as arrays.

        The per-device, per-channel and per-flow columns are left out; the place and cost
        tables and the rows kept as columns (occupancy, enterprises) stay tables (their
        ``rows()`` are their JSON form), and each priced meter's costs stay as they are (no
        output of a tick reads them: they are for ``/api/costs``). Everything else is as in
        ``to_dict``: at 10,000 devices this is a few hundred small dicts, not 100,000 figures.
        """
        kept = (PlaceTable, CostTable, RowTable, MeterCosts)
        return {
            f.name: plain(getattr(self, f.name), kept)
            for f in fields(self)
            if f.name not in LEFT_OUT_OF_OUTPUTS
        }


# What ``outputs_dict`` leaves out: the snapshot's columns, read from the snapshot itself.
LEFT_OUT_OF_OUTPUTS = frozenset({"devices", "channels", "flows"})


SCALARS = (str, int, float, bool, type(None))
AS_IS = frozenset({str, int, bool, type(None)})


def plain(value: Any, kept: tuple[type, ...] = ()) -> Any:
    """Dataclasses, lists and dicts as plain JSON-ready data; instances of ``kept`` as they are."""
    if type(value) in AS_IS:
        return value
    if kept and isinstance(value, kept):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Indicator):
        return value.to_dict()
    if isinstance(value, PlaceTable | CostTable):
        return value.rows()
    if isinstance(value, RowTable):
        return value.rows(plain)
    if isinstance(value, Columns):
        return value.plain()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), kept) for f in fields(value)}
    if isinstance(value, list | tuple):
        if value and type(value[0]) in SCALARS:
            # The long per-device columns hold one scalar type: no call per item.
            return plain_scalars(value)
        return [plain(v, kept) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, kept) for k, v in value.items()}
    return value
