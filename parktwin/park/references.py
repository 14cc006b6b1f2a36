"""Checks that span the park file: unique ids and references that resolve."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from parktwin.contract.quantities import KINDS, QUANTITIES, DeviceKind
from parktwin.park.alerts import split_place
from parktwin.park.model import Park
from parktwin.park.tariff_checks import tariff_errors

Path = tuple[str | int, ...]


def _duplicates(items: list, section: str) -> Iterator[tuple[Path, str]]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            yield (section, index, "id"), f"duplicate id {item.id!r} in {section}"
        seen.add(item.id)


def reference_errors(park: Park) -> list[tuple[Path, str]]:
    """Every broken cross-reference, as (path in the file, message)."""
    errors: list[tuple[Path, str]] = []
    for section in ("zones", "buildings", "enterprises", "devices"):
        errors.extend(_duplicates(getattr(park, section), section))
    zones, buildings = park.zones_by_id, park.buildings_by_id
    enterprises, devices = park.enterprises_by_id, park.devices_by_id
    for i, building in enumerate(park.buildings):
        if building.zone not in zones:
            errors.append((("buildings", i, "zone"), f"unknown zone {building.zone!r}"))
    for i, enterprise in enumerate(park.enterprises):
        for j, building_id in enumerate(enterprise.buildings):
            if building_id not in buildings:
                errors.append(
                    (("enterprises", i, "buildings", j), f"unknown building {building_id!r}")
                )
    mains = 0
    for i, device in enumerate(park.devices):
        mains += device.kind is DeviceKind.GRID_MAIN_METER
        if device.zone is None and device.building is None:
            errors.append((("devices", i), "a device needs a zone or a building"))
        if device.zone is not None and device.zone not in zones:
            errors.append((("devices", i, "zone"), f"unknown zone {device.zone!r}"))
        if device.building is not None:
            home = buildings.get(device.building)
            if home is None:
                errors.append((("devices", i, "building"), f"unknown building {device.building!r}"))
            elif device.zone is not None and device.zone != home.zone:
                errors.append(
                    (
                        ("devices", i, "zone"),
                        f"zone {device.zone!r} differs from building's zone {home.zone!r}",
                    )
                )
        if device.enterprise is not None and device.enterprise not in enterprises:
            errors.append(
                (("devices", i, "enterprise"), f"unknown enterprise {device.enterprise!r}")
            )
        if device.parent is not None:
            parent = devices.get(device.parent)
            if parent is None or parent.id == device.id:
                errors.append((("devices", i, "parent"), f"unknown parent meter {device.parent!r}"))
            elif parent.medium != device.medium:
                errors.append(
                    (("devices", i, "parent"), f"parent {parent.id!r} measures {parent.medium}")
                )
        if device.kind is DeviceKind.PV_INVERTER and device.capacity_kwp is None:
            errors.append((("devices", i, "capacity_kwp"), "a PV inverter needs capacity_kwp"))
        if device.kind is DeviceKind.BATTERY and device.capacity_kwh is None:
            errors.append((("devices", i, "capacity_kwh"), "a battery needs capacity_kwh"))
    if mains == 0:
        errors.append((("devices",), "the park needs at least one grid_main_meter"))
    for device_id in park.counters.devices:
        if device_id not in devices:
            errors.append((("counters", "devices", device_id), f"unknown device {device_id!r}"))
    errors.extend(_sparkplug_errors(park))
    errors.extend(alert_reference_errors(park))
    for i, mapping in enumerate(park.mappings):
        for key, device_id in (mapping.devices or {}).items():
            if device_id not in devices:
                errors.append((("mappings", i, "devices", key), f"unknown device {device_id!r}"))
    errors.extend(tariff_errors(park))
    return errors


def alert_reference_errors(park: Park) -> list[tuple[Path, str]]:
    """Every place, building or device a rule names that the park lacks, as (path, message)."""
    return list(_alert_reference_errors(park))


def _alert_reference_errors(park: Park) -> Iterator[tuple[Path, str]]:
    known: dict[str, Mapping[str, object]] = {
        "zone": park.zones_by_id,
        "building": park.buildings_by_id,
        "enterprise": park.enterprises_by_id,
    }
    for i, rule in enumerate(park.alerts.rules):
        path: Path = ("alerts", "rules", i)
        place = getattr(rule, "place", "park")
        level, place_id = split_place(place)
        if level != "park" and place_id not in known[level]:
            yield (*path, "place"), f"unknown {level} {place_id!r}"
        for j, building in enumerate(getattr(rule, "buildings", [])):
            if building not in park.buildings_by_id:
                yield (*path, "buildings", j), f"unknown building {building!r}"
        for j, device in enumerate(getattr(rule, "devices", [])):
            if device not in park.devices_by_id:
                yield (*path, "devices", j), f"unknown device {device!r}"


def _sparkplug_errors(park: Park) -> Iterator[tuple[Path, str]]:
    """Devices and quantities the ``sparkplug:`` section names, and identities named twice."""
    seen: set[tuple[str, str]] = set()
    for i, group in enumerate(park.sparkplug):
        for identity, device_id in group.devices.items():
            path: Path = ("sparkplug", i, "devices", identity)
            device = park.devices_by_id.get(device_id)
            if device is None:
                yield path, f"unknown device {device_id!r}"
            elif not set(group.values) & KINDS[device.kind].quantities:
                yield path, f"{device_id} ({device.kind.value}) reports none of the values"
            if (group.group, identity) in seen:
                yield path, f"{identity!r} of group {group.group!r} is mapped twice"
            seen.add((group.group, identity))
        for quantity in group.values:
            if quantity not in QUANTITIES:
                yield ("sparkplug", i, "values", quantity), f"unknown quantity {quantity!r}"
