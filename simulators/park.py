"""The whole park's devices as one deterministic generator of readings in event-time order.

Physics advances in fixed steps of simulated time: each step computes every building's demand,
then every device's gauges and counter rates (electricity first, heat before the gas that makes
it, gas before the stacks that burn it), then integrates. Devices report on their own schedule
(``interval_s``, with a phase drawn from the seed), so readings interleave across the park.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parktwin.contract.quantities import DeviceKind
from parktwin.contract.reading import Reading
from parktwin.park.model import BuildingUse, Device, Park
from parktwin.sun import clear_sky_ghi_w_m2, solar_position
from simulators.battery import Dispatch, dispatch, next_soc_pct
from simulators.calendar import HolidayCalendar, china_calendar
from simulators.devices import DeviceRuntime, counter_names, integrate, reading_values
from simulators.loads import (
    BOILER_EFFICIENCY,
    GAS_KWH_PER_M3,
    BuildingLoad,
    HeatSupply,
    building_load,
)
from simulators.noise import stable_key, uniform
from simulators.profiles import ev_demand
from simulators.weather import WeatherState, climate_for, step_weather, weather_at

STATE_VERSION = 1
OUTDOOR_CO2_PPM = 420.0
CO2_TIME_CONSTANT_S = 1200.0
HEAT_NETWORK_LOSS = 1.06  # a heat source meter reads its consumers plus pipe losses
NG_CO2_KG_PER_M3 = 2.1622  # national GHG accounting guidelines (docs: domain.md section 4)
FLUE_GAS_NM3_PER_M3 = 11.5  # natural gas burned with about 15 % excess air
PV_PERFORMANCE_RATIO = 0.82
EV_SESSION_MS = 1_800_000
FUEL_USE_BLOCK_MS = 1_800_000
ZONE_SUB_METER_KW = 50.0  # a sub-meter without a building (street lights, pumps)
INITIAL_COUNTER_SPAN = 50_000.0  # meters start at a random reading below this


@dataclass(frozen=True)
class ModelOptions:
    """Tuning of the physical model; the defaults give a plausible park."""

    step_s: float | None = None  # default: the shortest device interval, at most 60 s
    meter_replacements_per_year: float = 0.2  # per meter; a replacement resets its counters
    clouds: bool = True
    # Devices report at least this far apart (0: at their own interval); history generated
    # for past months needs no minute-by-minute detail.
    min_interval_s: float = 0.0
    calendar: HolidayCalendar = field(default_factory=china_calendar)


@dataclass(frozen=True, slots=True)
class MeterReset:
    """A meter replaced at ``ts_ms``: its counters restart from zero."""

    device_id: str
    ts_ms: int


@dataclass(frozen=True)
class _Topology:
    """Who feeds whom, derived once from the park file."""

    roots_by_building: dict[str, list[str]]
    root_sub_meters: list[str]  # what the grid main meters see of the sub-metered load
    sub_meter_order: list[str]  # parents before children
    sub_children: dict[str, list[str]]
    ev_ancestors: dict[str, list[str]]
    unmetered_buildings: list[str]
    heat_order: list[str]  # children before parents
    heat_children: dict[str, list[str]]
    by_building_kind: dict[tuple[str, DeviceKind], list[str]]
    supply: dict[str, HeatSupply]


def _ancestors(device: Device, devices: dict[str, Device]) -> list[str]:
    chain: list[str] = []
    parent = device.parent
    while parent is not None and parent not in chain and parent in devices:
        chain.append(parent)
        parent = devices[parent].parent
    return chain


def _topology(park: Park) -> _Topology:
    devices = park.devices_by_id
    by_kind: dict[tuple[str, DeviceKind], list[str]] = {}
    for d in park.devices:
        if d.building is not None:
            by_kind.setdefault((d.building, d.kind), []).append(d.id)
    subs = [d for d in park.devices if d.kind is DeviceKind.SUB_METER]

    def is_root(d: Device) -> bool:
        return d.parent is None or devices[d.parent].kind is not DeviceKind.SUB_METER

    roots: dict[str, list[str]] = {}
    for d in subs:
        if is_root(d) and d.building is not None:
            roots.setdefault(d.building, []).append(d.id)
    depth = {d.id: len(_ancestors(d, devices)) for d in park.devices}
    children: dict[str, list[str]] = {}
    for d in park.devices:
        if d.parent is not None:
            children.setdefault(d.parent, []).append(d.id)
    sub_children = {
        k: [c for c in v if devices[c].kind is DeviceKind.SUB_METER] for k, v in children.items()
    }
    heat = [d for d in park.devices if d.kind is DeviceKind.HEAT_METER]
    supply = {
        b.id: HeatSupply(
            (b.id, DeviceKind.HEAT_METER) in by_kind,
            (b.id, DeviceKind.GAS_METER) in by_kind or (b.id, DeviceKind.STACK_MONITOR) in by_kind,
        )
        for b in park.buildings
    }
    return _Topology(
        roots_by_building=roots,
        root_sub_meters=[d.id for d in subs if is_root(d)],
        sub_meter_order=[d.id for d in sorted(subs, key=lambda d: depth[d.id])],
        sub_children=sub_children,
        ev_ancestors={
            d.id: [a for a in _ancestors(d, devices) if devices[a].kind is DeviceKind.SUB_METER]
            for d in park.devices
            if d.kind is DeviceKind.EV_CHARGER
        },
        unmetered_buildings=[b.id for b in park.buildings if b.id not in roots],
        heat_order=[d.id for d in sorted(heat, key=lambda d: -depth[d.id])],
        heat_children={
            k: [c for c in v if devices[c].kind is DeviceKind.HEAT_METER]
            for k, v in children.items()
        },
        by_building_kind=by_kind,
        supply=supply,
    )


def default_step_s(park: Park) -> float:
    """The physics step: the shortest reporting interval, at most a minute, at least a second."""
    return max(1.0, min(60.0, min(d.interval_s for d in park.devices)))


class ParkSimulator:
    """Readings of every device of a park, in event-time order, deterministic for a seed.

    ``advance(until_ms)`` yields every reading with a timestamp before ``until_ms``;
    ``state()`` and ``from_state`` let a later run continue the same simulated time.
    """

    def __init__(
        self,
        park: Park,
        seed: int = 1,
        start_ms: int = 0,
        options: ModelOptions | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.park = park
        self.seed = seed
        self.options = options or ModelOptions()
        self.resets: list[MeterReset] = []
        self._topo = _topology(park)
        self._tz = park.timezone
        self._climate = climate_for(park.park.location.latitude)
        self._weather_key = stable_key(seed, "weather")
        self._reset_key = stable_key(seed, "meter-replacement")
        self._building_keys = {b.id: stable_key(seed, "building", b.id) for b in park.buildings}
        self._day_types: dict[Any, Any] = {}
        saved = state or {}
        self.origin_ms = int(saved.get("origin_ms", start_ms))
        step_s = self.options.step_s or default_step_s(park)
        self.step_ms = int(saved.get("step_ms", round(step_s * 1000)))
        self.step_index = int(saved.get("step_index", 0))
        self.now_ms = int(saved.get("now_ms", self.origin_ms))
        weather = saved.get("weather", {})
        self._weather = WeatherState(
            float(weather.get("cloud_z", 0.0)), float(weather.get("temperature_anomaly_c", 0.0))
        )
        saved_devices = saved.get("devices", {})
        self._runtimes = [self._runtime(d, saved_devices.get(d.id)) for d in park.devices]
        self._by_id = {rt.device.id: rt for rt in self._runtimes}
        self._heap = [(rt.next_ts_ms, i) for i, rt in enumerate(self._runtimes)]
        heapq.heapify(self._heap)
        self._compute_step()

    # --- public ------------------------------------------------------------------------------

    @classmethod
    def from_state(
        cls, park: Park, state: dict[str, Any], options: ModelOptions | None = None
    ) -> ParkSimulator:
        """Continue a simulation saved with ``state()``."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported simulator state version {state.get('version')!r}")
        return cls(park, int(state["seed"]), int(state["origin_ms"]), options, state)

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot from which ``from_state`` continues exactly."""
        return {
            "version": STATE_VERSION,
            "park_id": self.park.park.id,
            "seed": self.seed,
            "origin_ms": self.origin_ms,
            "step_ms": self.step_ms,
            "step_index": self.step_index,
            "now_ms": self.now_ms,
            "weather": {
                "cloud_z": self._weather.cloud_z,
                "temperature_anomaly_c": self._weather.temperature_anomaly_c,
            },
            "devices": {
                rt.device.id: {
                    "next_ts_ms": rt.next_ts_ms,
                    "seq": rt.seq,
                    "counters": dict(rt.counters),
                    "memory": dict(rt.memory),
                }
                for rt in self._runtimes
            },
        }

    @property
    def step_start_ms(self) -> int:
        return self.origin_ms + self.step_index * self.step_ms

    def next_ts_ms(self) -> int:
        """Event time of the next reading."""
        return self._heap[0][0]

    def advance(self, until_ms: int) -> Iterator[Reading]:
        """Every reading with ``ts_ms < until_ms``, in (time, park file) order."""
        heap, runtimes = self._heap, self._runtimes
        while heap[0][0] < until_ms:
            ts_ms, order = heap[0]
            while ts_ms >= self.step_start_ms + self.step_ms:
                self._finish_step()
            rt = runtimes[order]
            rt.next_ts_ms = ts_ms + rt.interval_ms
            heapq.heapreplace(heap, (rt.next_ts_ms, order))
            rt.seq += 1
            self.now_ms = ts_ms
            values = reading_values(rt, ts_ms, self.step_start_ms)
            yield Reading(rt.device.id, ts_ms, values, rt.seq)
        self.now_ms = max(self.now_ms, until_ms)

    def integrate_until(self, ts_ms: int) -> None:
        """Integrate whole steps until the current one starts at ``ts_ms`` or later, so that
        the counters in ``state()`` are those of that instant when it lies on the step grid."""
        while self.step_start_ms < ts_ms:
            self._finish_step()

    def runtime(self, device_id: str) -> DeviceRuntime:
        """The live state of one device (for tests and the state file)."""
        return self._by_id[device_id]

    # --- set-up ------------------------------------------------------------------------------

    def _runtime(self, device: Device, saved: dict[str, Any] | None) -> DeviceRuntime:
        key = stable_key(self.seed, "device", device.id)
        interval_s = max(device.interval_s, self.options.min_interval_s)
        interval_ms = max(1, round(interval_s * 1000))
        phase_ms = int(uniform(key, 0) * interval_ms)
        rt = DeviceRuntime(device, key, interval_ms, self.origin_ms + phase_ms)
        for i, name in enumerate(counter_names(device.kind)):
            rt.counters[name] = round(uniform(key, 1 + i) * INITIAL_COUNTER_SPAN, 1)
        if device.kind is DeviceKind.BATTERY:
            rt.memory["soc_pct"] = 50.0
        if device.kind is DeviceKind.INDOOR_CO2_SENSOR:
            rt.memory["co2_ppm"] = OUTDOOR_CO2_PPM + 30.0
        if saved is not None:
            rt.next_ts_ms = int(saved["next_ts_ms"])
            rt.seq = int(saved["seq"])
            rt.counters.update({k: float(v) for k, v in saved["counters"].items()})
            rt.memory.update({k: float(v) for k, v in saved["memory"].items()})
        return rt

    # --- stepping ----------------------------------------------------------------------------

    def _finish_step(self) -> None:
        """Integrate the current step, then enter and compute the next one."""
        step_s = self.step_ms / 1000.0
        step_h = step_s / 3600.0
        for rt in self._runtimes:
            integrate(rt, step_h)
            if rt.kind is DeviceKind.BATTERY:
                capacity = rt.device.capacity_kwh or 1.0
                flows = Dispatch(
                    rt.rates_per_h["energy_charge_kwh"], rt.rates_per_h["energy_discharge_kwh"]
                )
                rt.memory["soc_pct"] = next_soc_pct(rt.memory["soc_pct"], capacity, flows, step_s)
            elif rt.kind is DeviceKind.INDOOR_CO2_SENSOR:
                target = rt.memory["co2_target_ppm"]
                lag = 1.0 - math.exp(-step_s / CO2_TIME_CONSTANT_S)
                rt.memory["co2_ppm"] += (target - rt.memory["co2_ppm"]) * lag
        self.step_index += 1
        self._weather = step_weather(self._weather, self._weather_key, self.step_index, step_s)
        self._replace_meters()
        self._compute_step()

    def _replace_meters(self) -> None:
        rate = self.options.meter_replacements_per_year
        if rate <= 0:
            return
        chance = rate * self.step_ms / (365.25 * 86_400_000)
        for rt in self._runtimes:
            if rt.counters and uniform(rt.key ^ self._reset_key, self.step_index) < chance:
                for name in rt.counters:
                    rt.counters[name] = 0.0
                self.resets.append(MeterReset(rt.device.id, self.step_start_ms))

    def _day_type(self, local: datetime) -> Any:
        day = local.date()
        kind = self._day_types.get(day)
        if kind is None:
            kind = self._day_types[day] = self.options.calendar.day_type(day)
        return kind

    def _compute_step(self) -> None:
        """Gauges and counter rates of every device for the current step."""
        t0 = self.step_start_ms
        k = self.step_index
        local = datetime.fromtimestamp(t0 / 1000, self._tz)
        hour = local.hour + local.minute / 60 + local.second / 3600
        day = self._day_type(local)
        weather = weather_at(
            self._climate, self._weather, local.timetuple().tm_yday, hour, self.options.clouds
        )
        location = self.park.park.location
        sun = solar_position(t0 + self.step_ms // 2, location.latitude, location.longitude)
        ghi = clear_sky_ghi_w_m2(sun.elevation_deg)
        topo = self._topo
        loads = {
            b.id: building_load(
                b,
                topo.supply[b.id],
                day,
                hour,
                weather.outdoor_temp_c,
                uniform(self._building_keys[b.id], k),
            )
            for b in self.park.buildings
        }
        self._electricity(loads, day, hour, ghi, weather.cloudiness)
        self._heat_gas_and_stacks(loads)
        self._water_people_air_fuel(loads, day, hour, weather.outdoor_temp_c, weather.cloudiness)

    def _share(self, building: str | None, kind: DeviceKind) -> int:
        if building is None:
            return 1
        return max(1, len(self._topo.by_building_kind.get((building, kind), ())))

    def _electricity(
        self,
        loads: dict[str, BuildingLoad],
        day: Any,
        hour: float,
        ghi_w_m2: float,
        cloudiness: float,
    ) -> None:
        topo, by_id, k = self._topo, self._by_id, self.step_index
        devices = self.park.devices_by_id
        base: dict[str, float] = {}
        for sid in topo.sub_meter_order:
            rt = by_id[sid]
            d = rt.device
            jitter = 0.97 + 0.06 * uniform(rt.key, 10 * k + 2)
            if d.parent is not None and devices[d.parent].kind is DeviceKind.SUB_METER:
                siblings = len(topo.sub_children[d.parent])
                base[sid] = base[d.parent] * 0.55 / siblings * jitter
            elif d.building is not None:
                roots = len(topo.roots_by_building[d.building])
                base[sid] = loads[d.building].electric_kw / roots * jitter
            else:
                rated = d.rated_power_kw or ZONE_SUB_METER_KW
                base[sid] = rated * (0.6 + 0.2 * uniform(rt.key, 10 * k + 3))
        total = dict(base)
        loads_kw = 0.0
        pv_kw = 0.0
        for rt in self._runtimes:
            d = rt.device
            if d.kind is DeviceKind.EV_CHARGER:
                block = self.step_start_ms // EV_SESSION_MS
                use = self._building_use(d.building)
                busy = uniform(rt.key, 3 * block) < ev_demand(use, day, hour)
                rated = d.rated_power_kw or 7.0
                power = rated * (0.75 + 0.25 * uniform(rt.key, 3 * block + 1)) if busy else 0.0
                _set(rt, {"power_kw": power}, {"energy_kwh": power})
                for ancestor in topo.ev_ancestors[d.id]:
                    total[ancestor] += power
                if not topo.ev_ancestors[d.id]:
                    loads_kw += power
            elif d.kind is DeviceKind.PV_INVERTER:
                capacity = d.capacity_kwp or 0.0
                clear = capacity * ghi_w_m2 / 1000.0 * PV_PERFORMANCE_RATIO
                power = clear * (1.0 - 0.75 * cloudiness**2) * (0.98 + 0.04 * uniform(rt.key, k))
                power = min(power, d.rated_power_kw or capacity)
                _set(rt, {"power_kw": power}, {"energy_kwh": power})
                pv_kw += power
        for sid in topo.sub_meter_order:
            _set(by_id[sid], {"power_kw": total[sid]}, {"energy_kwh": total[sid]})
        loads_kw += sum(total[r] for r in topo.root_sub_meters)
        loads_kw += sum(loads[b].electric_kw for b in topo.unmetered_buildings)
        batteries = [rt for rt in self._runtimes if rt.kind is DeviceKind.BATTERY]
        capacity_total = sum(rt.device.capacity_kwh or 0.0 for rt in batteries) or 1.0
        net_kw = loads_kw - pv_kw
        for rt in batteries:
            capacity = rt.device.capacity_kwh or 1.0
            share = capacity / capacity_total
            flows = dispatch(
                rt.memory["soc_pct"],
                capacity,
                rt.device.rated_power_kw or capacity / 2.0,
                (pv_kw - loads_kw) * share,
                (loads_kw - pv_kw) * share,
                hour,
                self.step_ms / 1000.0,
            )
            _set(
                rt,
                {"power_kw": flows.discharge_kw - flows.charge_kw, "soc_pct": rt.memory["soc_pct"]},
                {"energy_charge_kwh": flows.charge_kw, "energy_discharge_kwh": flows.discharge_kw},
            )
            net_kw += flows.charge_kw - flows.discharge_kw
        mains = [rt for rt in self._runtimes if rt.kind is DeviceKind.GRID_MAIN_METER]
        for rt in mains:
            power = net_kw / len(mains)
            _set(
                rt,
                {"power_kw": power},
                {"energy_import_kwh": max(power, 0.0), "energy_export_kwh": max(-power, 0.0)},
            )

    def _building_use(self, building_id: str | None) -> BuildingUse | None:
        if building_id is None:
            return None
        return self.park.buildings_by_id[building_id].use

    def _heat_gas_and_stacks(self, loads: dict[str, BuildingLoad]) -> None:
        topo, by_id, k = self._topo, self._by_id, self.step_index
        heat_kw: dict[str, float] = {}
        source_gas: dict[str, float] = {}
        for hid in topo.heat_order:
            rt = by_id[hid]
            d = rt.device
            children = topo.heat_children.get(hid, [])
            own = 0.0
            if d.building is not None:
                consumers = [
                    h
                    for h in topo.by_building_kind[(d.building, DeviceKind.HEAT_METER)]
                    if not topo.heat_children.get(h)
                ]
                if not children or not consumers:
                    own = loads[d.building].heat_kw / max(1, len(consumers))
            power = own * (0.98 + 0.04 * uniform(rt.key, k)) + HEAT_NETWORK_LOSS * sum(
                heat_kw[c] for c in children
            )
            heat_kw[hid] = power
            _set(rt, {"heat_power_kw": power}, {"heat_gj": power * 0.0036})
            if children and d.building is not None:
                boiler_m3_h = power / (GAS_KWH_PER_M3 * BOILER_EFFICIENCY)
                source_gas[d.building] = source_gas.get(d.building, 0.0) + boiler_m3_h
        for rt in self._runtimes:
            d = rt.device
            b = d.building
            burned = 0.0 if b is None else loads[b].gas_m3_h + source_gas.get(b, 0.0)
            if d.kind is DeviceKind.GAS_METER:
                flow = burned / self._share(b, d.kind) * (0.97 + 0.06 * uniform(rt.key, k))
                _set(rt, {"flow_m3_h": flow}, {"gas_m3": flow})
            elif d.kind is DeviceKind.STACK_MONITOR:
                fuel = burned / self._share(b, d.kind)
                running = fuel > 0.5
                u = uniform(rt.key, k)
                co2 = fuel * NG_CO2_KG_PER_M3
                _set(
                    rt,
                    {
                        "co2_kg_h": co2,
                        "flue_gas_nm3_h": fuel * FLUE_GAS_NM3_PER_M3 * (0.97 + 0.06 * u),
                        "so2_mg_m3": (2.0 + 6.0 * u) if running else 0.0,
                        "nox_mg_m3": (45.0 + 50.0 * u) if running else 0.0,
                    },
                    {"co2_kg": co2},
                )

    def _water_people_air_fuel(
        self,
        loads: dict[str, BuildingLoad],
        day: Any,
        hour: float,
        outdoor_c: float,
        cloudiness: float,
    ) -> None:
        k = self.step_index
        for rt in self._runtimes:
            d = rt.device
            b = d.building
            load = loads[b] if b is not None else None
            kind = d.kind
            if kind is DeviceKind.WATER_METER:
                if load is not None:
                    flow = load.water_m3_h / self._share(b, kind)
                else:  # irrigation of green space: early morning and evening in the warm season
                    watering = (5 <= hour < 7 or 18 <= hour < 20) and outdoor_c > 10
                    flow = 6.0 if watering else 0.02
                flow *= 0.95 + 0.1 * uniform(rt.key, k)
                _set(rt, {"flow_m3_h": flow}, {"water_m3": flow})
            elif kind is DeviceKind.OCCUPANCY_COUNTER:
                persons = 0 if load is None else round(load.persons / self._share(b, kind))
                _set(rt, {"occupancy_persons": float(persons)}, {})
            elif kind is DeviceKind.INDOOR_CO2_SENSOR:
                occ = 0.0 if load is None else load.occupancy_fraction
                u = uniform(rt.key, k)
                rt.memory["co2_target_ppm"] = OUTDOOR_CO2_PPM + 700.0 * occ * (0.9 + 0.2 * u)
                indoor = 21.0 + 2.0 * occ + 0.12 * (outdoor_c - 21.0)
                _set(
                    rt,
                    {
                        "co2_ppm": rt.memory["co2_ppm"],
                        "temperature_c": indoor,
                        "humidity_pct": 38.0 + 15.0 * cloudiness + 6.0 * u,
                    },
                    {},
                )
            elif kind is DeviceKind.FUEL_METER:
                block = self.step_start_ms // FUEL_USE_BLOCK_MS
                working = load is not None and load.activity > 0.5
                busy = uniform(rt.key, 3 * block) < (0.08 if working else 0.01)
                rate = 12.0 * (0.8 + 0.4 * uniform(rt.key, 3 * block + 1)) if busy else 0.0
                _set(rt, {}, {"diesel_kg": rate})


def _set(rt: DeviceRuntime, gauges: dict[str, float], rates: dict[str, float]) -> None:
    rt.gauges = gauges
    rt.rates_per_h = rates
