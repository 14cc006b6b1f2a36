"""Schema of the park file, validated with pydantic.

Cross-references (a device's building, an enterprise's buildings) are checked after the fields,
so that every error can name the path of the field at fault.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parktwin.contract.quantities import KINDS, DeviceKind, Medium
from parktwin.park.alerts import AlertSettings
from parktwin.park.counters import CounterSettings
from parktwin.park.mappings import Mapping
from parktwin.park.sparkplug import SparkplugGroup
from parktwin.park.tariffs import Tariffs
from parktwin.park.twin import TwinSettings

# Ids travel in MQTT topics and InfluxDB tags: no wildcards, no slashes, no spaces.
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a park file must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneType(StrEnum):
    PRODUCTION = "production"
    RND = "rnd"
    TALENT_HOUSING = "talent_housing"
    COMMERCIAL = "commercial"
    GREEN_SPACE = "green_space"
    UTILITIES = "utilities"


class BuildingUse(StrEnum):
    """Drives the simulator's load and occupancy profile and the twin's job-housing balance."""

    FACTORY = "factory"
    WAREHOUSE = "warehouse"
    OFFICE = "office"
    LAB = "lab"
    RESIDENTIAL = "residential"
    RETAIL = "retail"
    PUBLIC = "public"
    PARKING = "parking"
    UTILITY = "utility"


class Location(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    elevation_m: float = 0.0


class ParkInfo(Strict):
    id: Id
    name: str = Field(min_length=1)
    name_zh: str | None = None
    timezone: str
    location: Location
    land_area_km2: float | None = Field(default=None, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class Zone(Strict):
    id: Id
    name: str
    name_zh: str | None = None
    type: ZoneType
    area_m2: float | None = Field(default=None, gt=0)
    # Drawn on the twin view: polygon corners in metres east/north of the park's origin.
    outline_m: list[tuple[float, float]] | None = None


class Building(Strict):
    id: Id
    name: str
    name_zh: str | None = None
    zone: Id
    use: BuildingUse
    floor_area_m2: float = Field(gt=0)
    occupant_capacity: int = Field(ge=0)
    shifts: int = Field(default=1, ge=1, le=3, description="work shifts a day, for factories")
    outline_m: list[tuple[float, float]] | None = None


class Enterprise(Strict):
    id: Id
    name: str
    name_zh: str | None = None
    industry: str
    land_area_mu: float = Field(gt=0, description="1 mu = 666.67 m2")
    buildings: list[Id] = Field(default_factory=list)
    above_size_threshold: bool = True  # 规上企业: evaluated on the full per-mu indicator set
    employees: int = Field(default=0, ge=0)


class Device(Strict):
    id: Id
    kind: DeviceKind
    zone: Id | None = None  # derived from building when omitted
    building: Id | None = None
    enterprise: Id | None = None
    parent: Id | None = Field(
        default=None, description="upstream meter whose reading already includes this one"
    )
    interval_s: float = Field(default=60, gt=0, le=86400, description="expected reporting period")
    rated_power_kw: float | None = Field(default=None, gt=0)
    capacity_kwp: float | None = Field(default=None, gt=0, description="PV peak power")
    capacity_kwh: float | None = Field(default=None, gt=0, description="battery capacity")

    @property
    def medium(self) -> Medium:
        return KINDS[self.kind].medium


class Park(Strict):
    """A whole park file."""

    schema_version: int = Field(default=1, ge=1, le=1)
    park: ParkInfo
    zones: list[Zone] = Field(min_length=1)
    buildings: list[Building] = Field(default_factory=list)
    enterprises: list[Enterprise] = Field(default_factory=list)
    devices: list[Device] = Field(min_length=1)
    twin: TwinSettings = Field(default_factory=TwinSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    mappings: list[Mapping] = Field(default_factory=list)  # real devices' messages, mappings.py
    tariffs: Tariffs | None = None  # none: the twin reports no cost
    counters: CounterSettings = Field(default_factory=CounterSettings)
    sparkplug: list[SparkplugGroup] = Field(default_factory=list)  # Sparkplug B devices

    @cached_property
    def devices_by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}

    @cached_property
    def buildings_by_id(self) -> dict[str, Building]:
        return {b.id: b for b in self.buildings}

    @cached_property
    def zones_by_id(self) -> dict[str, Zone]:
        return {z.id: z for z in self.zones}

    @cached_property
    def enterprises_by_id(self) -> dict[str, Enterprise]:
        return {e.id: e for e in self.enterprises}

    def device_zone(self, device: Device) -> str:
        """The zone a device is in, from its building when it names none itself."""
        if device.zone is not None:
            return device.zone
        assert device.building is not None  # guaranteed by reference checks
        return self.buildings_by_id[device.building].zone

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.park.timezone)
