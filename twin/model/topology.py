"""The park as index arrays: devices, their channels and flows, and the places they add up to.

Every (device, quantity) pair is a *channel* with a last value. Channels that accumulate over
time are *flows* (a meter's counter, or a people counter integrated to person-hours); flows are
added up per building, zone, enterprise and park with ``np.bincount`` over precomputed slots, so
a snapshot costs time linear in devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

import numpy as np
import numpy.typing as npt

from parktwin.contract.quantities import KINDS, QUANTITIES, DeviceKind
from parktwin.park.model import BuildingUse, Park, ZoneType

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

OCCUPANCY = "occupancy_persons"
KNOWN = "occupancy_known_h"  # the flow key of a people counter's known hours: ``device|KNOWN``

WORKPLACES = frozenset(
    {
        BuildingUse.FACTORY,
        BuildingUse.WAREHOUSE,
        BuildingUse.OFFICE,
        BuildingUse.LAB,
        BuildingUse.RETAIL,
        BuildingUse.UTILITY,
    }
)


class Flow(IntEnum):
    """What a flow channel adds to; the column of every per-place total."""

    GRID_IMPORT_KWH = 0
    GRID_EXPORT_KWH = 1
    PV_KWH = 2
    CHARGE_KWH = 3
    DISCHARGE_KWH = 4
    ELECTRICITY_KWH = 5  # consumption measured by sub-meters and chargers
    GAS_M3 = 6
    HEAT_GJ = 7
    DIESEL_KG = 8
    WATER_M3 = 9
    STACK_CO2_KG = 10
    PERSON_H = 11  # people counters integrated over time
    KNOWN_H = 12  # hours a people counter's reading was known (silent beyond its stale limit: not)


N_FLOWS = len(Flow)

FLOW_OF: dict[tuple[DeviceKind, str], Flow] = {
    (DeviceKind.GRID_MAIN_METER, "energy_import_kwh"): Flow.GRID_IMPORT_KWH,
    (DeviceKind.GRID_MAIN_METER, "energy_export_kwh"): Flow.GRID_EXPORT_KWH,
    (DeviceKind.PV_INVERTER, "energy_kwh"): Flow.PV_KWH,
    (DeviceKind.BATTERY, "energy_charge_kwh"): Flow.CHARGE_KWH,
    (DeviceKind.BATTERY, "energy_discharge_kwh"): Flow.DISCHARGE_KWH,
    (DeviceKind.SUB_METER, "energy_kwh"): Flow.ELECTRICITY_KWH,
    (DeviceKind.EV_CHARGER, "energy_kwh"): Flow.ELECTRICITY_KWH,
    (DeviceKind.GAS_METER, "gas_m3"): Flow.GAS_M3,
    (DeviceKind.HEAT_METER, "heat_gj"): Flow.HEAT_GJ,
    (DeviceKind.FUEL_METER, "diesel_kg"): Flow.DIESEL_KG,
    (DeviceKind.WATER_METER, "water_m3"): Flow.WATER_M3,
    (DeviceKind.STACK_MONITOR, "co2_kg"): Flow.STACK_CO2_KG,
    (DeviceKind.OCCUPANCY_COUNTER, OCCUPANCY): Flow.PERSON_H,
}


class Level(IntEnum):
    BUILDING = 0
    ZONE = 1
    ENTERPRISE = 2
    PARK = 3


@dataclass(frozen=True)
class Places:
    """The places of one level and where each flow adds up among them."""

    ids: list[str]
    # slot[f] = place * N_FLOWS + flow type, or the dump slot len(ids) * N_FLOWS for a flow
    # that has no place at this level or whose parent meter is already counted there.
    slot: Ints

    def totals(self, flow_values: Floats) -> Floats:
        """Per-place totals, shape (places, N_FLOWS)."""
        size = (len(self.ids) + 1) * N_FLOWS
        summed = np.asarray(
            np.bincount(self.slot, weights=flow_values, minlength=size), dtype=np.float64
        )
        return summed[: len(self.ids) * N_FLOWS].reshape(len(self.ids), N_FLOWS)

    def column_totals(self, rows: Sequence[Floats], kind: Flow) -> Floats:
        """One flow type's per-place totals of each of ``rows`` (arrays over flows), the same
        sums ``totals`` makes of each row: shape (rows, places)."""
        taken, place = self.of_kind[kind]
        places = len(self.ids)
        # All rows in one bincount, each row's places offset apart.
        index = np.arange(len(rows))[:, None] * places + place
        weights = np.concatenate([row[taken] for row in rows]) if len(rows) else np.zeros(0)
        summed = np.bincount(index.ravel(), weights=weights, minlength=len(rows) * places)
        return np.asarray(summed, dtype=np.float64).reshape(len(rows), places)

    @cached_property
    def of_kind(self) -> list[tuple[Ints, Ints]]:
        """Per flow type, its flows that add up at this level, in flow order (so that each place
        adds up the same values in the same order as in ``totals``), and their places."""
        counted = self.slot < len(self.ids) * N_FLOWS
        result = []
        for kind in Flow:
            taken = np.flatnonzero(counted & (self.slot % N_FLOWS == kind))
            result.append((taken, self.slot[taken] // N_FLOWS))
        return result


KIND_ORDER = tuple(DeviceKind)  # a device kind's code is its index here


@dataclass(frozen=True)
class QuantityOffsets:
    """Where each quantity name's channel lies within a device of each kind.

    A device's channels are numbered from its first one in the sorted order of its kind's
    quantities, so a value's channel is its device's first channel plus an offset that depends
    only on the kind and the quantity's name. ``code`` numbers every name some kind measures;
    ``offset[kind_code * width + code]`` is that offset, -1 where the kind lacks the quantity.
    The last column, ``unknown``, stands for a name no kind has and is -1 throughout. ``flatten``
    looks up each value's own name, so a reading's names may come in any order.
    """

    code: dict[str, int]
    unknown: int
    width: int
    offset: Ints  # kind-major, ``width`` columns a kind

    @classmethod
    def of_kinds(cls) -> QuantityOffsets:
        names = sorted({q for kind in KIND_ORDER for q in KINDS[kind].quantities})
        code = {name: i for i, name in enumerate(names)}
        table = np.full((len(KIND_ORDER), len(names) + 1), -1, dtype=np.int64)
        for row, kind in zip(table, KIND_ORDER, strict=True):
            for rank, name in enumerate(sorted(KINDS[kind].quantities)):
                row[code[name]] = rank
        return cls(code, len(names), len(names) + 1, table.ravel())


QUANTITY_OFFSETS = QuantityOffsets.of_kinds()


@dataclass(frozen=True)
class Topology:
    """Index arrays of a park, built once from its file."""

    device_ids: list[str]
    device_index: dict[str, int]
    device_kind: list[DeviceKind]
    device_kind_value: list[str]  # the kinds' values, as snapshots list them
    device_kind_code: Ints  # index in KIND_ORDER
    device_first_channel: Ints  # channels of a device follow its kind's sorted quantities
    interval_ms: Floats
    device_building: Ints  # -1: none
    device_enterprise: Ints  # -1: none
    channel_keys: list[str]  # "device|quantity"
    channel_key_array: npt.NDArray[np.object_]  # the same keys, for selecting by mask
    channel_device: Ints
    channel_quantity: list[str]
    channel_lo: Floats
    channel_hi: Floats
    channel_counter: Bools
    channel_flow: Ints  # flow index or -1
    channel_person_h: Bools  # a people counter's reading, integrated to person-hours
    channel_known_flow: Ints  # a people counter's flow of known hours, else -1
    device_channels: list[dict[str, int]]
    flow_channel: Ints
    flow_device: Ints
    flow_type: Ints
    flow_keys: list[str]
    places: dict[Level, Places]
    quantity_offsets: QuantityOffsets
    # Per building, aligned with park.buildings: what occupancy reports need of each.
    building_use: list[str]
    building_capacity: list[int]
    building_workplace: list[bool]
    building_housing: list[bool]  # residential in a talent-housing zone

    def flows_of(self, kind: Flow) -> Ints:
        """Flow indexes of one flow type."""
        return np.flatnonzero(self.flow_type == kind)


def device_enterprise(park: Park) -> dict[str, str]:
    """Each device's enterprise: its own ``enterprise:`` field, nothing else.

    A device without one belongs to no enterprise (a park-owned rooftop PV, a common service),
    whoever occupies its building: the collectors tag InfluxDB from the same field
    (``collectors/tagging.py``), so the twin and Grafana agree (docs/park-file.md).
    """
    return {d.id: d.enterprise for d in park.devices if d.enterprise is not None}


def ancestors(park: Park, device_id: str) -> list[str]:
    """The chain of parent meters above a device, nearest first (a cycle stops the chain)."""
    chain: list[str] = []
    current = park.devices_by_id[device_id].parent
    while current is not None and current not in chain and current != device_id:
        chain.append(current)
        current = park.devices_by_id[current].parent
    return chain


def build_topology(park: Park) -> Topology:
    """Index arrays for a park."""
    devices = park.devices
    device_ids = [d.id for d in devices]
    device_index = {d: i for i, d in enumerate(device_ids)}
    building_index = {b.id: i for i, b in enumerate(park.buildings)}
    zone_index = {z.id: i for i, z in enumerate(park.zones)}
    enterprise_index = {e.id: i for i, e in enumerate(park.enterprises)}
    owner = device_enterprise(park)
    kind_code = {kind: i for i, kind in enumerate(KIND_ORDER)}

    place_of: dict[Level, list[int]] = {
        Level.BUILDING: [building_index[d.building] if d.building else -1 for d in devices],
        Level.ZONE: [zone_index[park.device_zone(d)] for d in devices],
        Level.ENTERPRISE: [enterprise_index[owner[d.id]] if d.id in owner else -1 for d in devices],
        Level.PARK: [0] * len(devices),
    }

    channel_keys: list[str] = []
    channel_device: list[int] = []
    channel_quantity: list[str] = []
    channel_flow: list[int] = []
    device_channels: list[dict[str, int]] = []
    first_channel: list[int] = []
    flow_channel: list[int] = []
    flow_type: list[int] = []
    flow_keys: list[str] = []
    known_flow: dict[int, int] = {}  # people channel -> its flow of known hours
    device_flow_types: list[set[int]] = []
    for index, device in enumerate(devices):
        channels: dict[str, int] = {}
        types: set[int] = set()
        first_channel.append(len(channel_keys))
        for quantity in sorted(KINDS[device.kind].quantities):
            channel = len(channel_keys)
            channels[quantity] = channel
            channel_keys.append(f"{device.id}|{quantity}")
            channel_device.append(index)
            channel_quantity.append(quantity)
            flow = FLOW_OF.get((device.kind, quantity))
            if flow is None:
                channel_flow.append(-1)
                continue
            channel_flow.append(len(flow_channel))
            flow_channel.append(channel)
            flow_type.append(int(flow))
            flow_keys.append(channel_keys[channel])
            types.add(int(flow))
            if flow is Flow.PERSON_H:
                known_flow[channel] = len(flow_channel)
                flow_channel.append(channel)
                flow_type.append(int(Flow.KNOWN_H))
                flow_keys.append(f"{device.id}|{KNOWN}")
                types.add(int(Flow.KNOWN_H))
        device_channels.append(channels)
        device_flow_types.append(types)

    flow_device = [channel_device[c] for c in flow_channel]
    chains = [[device_index[a] for a in ancestors(park, d.id)] for d in devices]
    places: dict[Level, Places] = {}
    place_ids = {
        Level.BUILDING: [b.id for b in park.buildings],
        Level.ZONE: [z.id for z in park.zones],
        Level.ENTERPRISE: [e.id for e in park.enterprises],
        Level.PARK: [park.park.id],
    }
    for level, ids in place_ids.items():
        where = place_of[level]
        dump = len(ids) * N_FLOWS
        slots = []
        for owner_index, kind in zip(flow_device, flow_type, strict=True):
            place = where[owner_index]
            # A parent meter of the same flow in the same place already holds this flow.
            counted = any(
                where[a] == place and kind in device_flow_types[a] for a in chains[owner_index]
            )
            slots.append(dump if place < 0 or counted else place * N_FLOWS + kind)
        places[level] = Places(ids, np.asarray(slots, dtype=np.int64))

    quantities = [QUANTITIES[q] for q in channel_quantity]
    housing = talent_housing_buildings(park)
    return Topology(
        device_ids=device_ids,
        device_index=device_index,
        device_kind=[d.kind for d in devices],
        device_kind_value=[d.kind.value for d in devices],
        device_kind_code=np.asarray([kind_code[d.kind] for d in devices], dtype=np.int64),
        device_first_channel=np.asarray(first_channel, dtype=np.int64),
        interval_ms=np.asarray([d.interval_s * 1000 for d in devices], dtype=np.float64),
        device_building=np.asarray(place_of[Level.BUILDING], dtype=np.int64),
        device_enterprise=np.asarray(place_of[Level.ENTERPRISE], dtype=np.int64),
        channel_keys=channel_keys,
        channel_key_array=np.asarray(channel_keys, dtype=np.object_),
        channel_device=np.asarray(channel_device, dtype=np.int64),
        channel_quantity=channel_quantity,
        channel_lo=np.asarray([q.min_value for q in quantities], dtype=np.float64),
        channel_hi=np.asarray([q.max_value for q in quantities], dtype=np.float64),
        channel_counter=np.asarray([q.counter for q in quantities], dtype=np.bool_),
        channel_person_h=np.asarray(
            [
                f >= 0 and flow_type[f] == Flow.PERSON_H and not q.counter
                for f, q in zip(channel_flow, quantities, strict=True)
            ],
            dtype=np.bool_,
        ),
        channel_known_flow=np.asarray(
            [known_flow.get(c, -1) for c in range(len(channel_keys))], dtype=np.int64
        ),
        channel_flow=np.asarray(channel_flow, dtype=np.int64),
        device_channels=device_channels,
        flow_channel=np.asarray(flow_channel, dtype=np.int64),
        flow_device=np.asarray(flow_device, dtype=np.int64),
        flow_type=np.asarray(flow_type, dtype=np.int64),
        flow_keys=flow_keys,
        places=places,
        quantity_offsets=QUANTITY_OFFSETS,
        building_use=[b.use.value for b in park.buildings],
        building_capacity=[b.occupant_capacity for b in park.buildings],
        building_workplace=[b.use in WORKPLACES for b in park.buildings],
        building_housing=[b.id in housing for b in park.buildings],
    )


def talent_housing_buildings(park: Park) -> set[str]:
    """Residential buildings in talent-housing zones: where the park's workers may live."""
    zones = {z.id for z in park.zones if z.type is ZoneType.TALENT_HOUSING}
    return {b.id for b in park.buildings if b.use is BuildingUse.RESIDENTIAL and b.zone in zones}
