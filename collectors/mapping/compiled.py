"""A park file's mappings made ready to apply: presets filled in, paths compiled, units resolved.

Everything that can be checked before a message arrives is checked here, and reported as
(path in the park file, message) so that ``parktwin check-config`` names file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from collectors.mapping.paths import Path
from collectors.mapping.presets import load_preset, preset_names, with_preset
from collectors.mapping.units import Conversion, conversion, known_units
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.park.mappings import Mapping, TimeFormat, ValueType
from parktwin.park.model import Park

FilePath = tuple[str | int, ...]


class MappingError(Exception):
    """The park file's mappings cannot be used; ``problems`` are (path, message)."""

    def __init__(self, problems: list[tuple[FilePath, str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CompiledValue:
    quantity: str
    paths: tuple[Path, ...]
    conversion: Conversion | None  # None: the unit is read from the message (unit_path)
    unit_path: Path | None
    scale: float
    quantity_unit: str
    # The common case made cheap: one plain path, a fixed unit (raw * factor + offset).
    plain: tuple[str | int, ...] | None
    factor: float
    offset: float
    low: float  # the quantity's valid range
    high: float


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    index: int
    name: str
    topic: str
    levels: tuple[str, ...]
    match_path: Path | None
    match_values: tuple[object, ...]
    identity_level: int | None
    identity_path: Path | None
    devices: dict[str, str] | None
    identities: frozenset[str] | None  # the identities ``devices`` knows (before any "/")
    time_format: TimeFormat
    time_path: Path | None
    zone: ZoneInfo
    channels_path: Path | None
    channel_keys: re.Pattern[str] | None
    values: tuple[CompiledValue, ...]
    quality_path: Path | None
    quality_good: frozenset[int]
    errors_path: Path | None
    partial: bool
    # UTC offset (s) of local minutes already seen ("YYYY-MM-DDTHH:MM"), for TimeFormat.LOCAL
    offsets: dict[str, float] = field(default_factory=dict, compare=False)
    # Epoch ms of time texts already read (TimeFormat.ISO and LOCAL): a fleet's messages share
    # their seconds, and a text means one time in one mapping (its zone is fixed).
    text_times: dict[str, int] = field(default_factory=dict, compare=False)

    def matches_topic(self, topic_levels: list[str]) -> bool:
        """Whether a topic (split on "/") matches this mapping's filter."""
        levels = self.levels
        for i, level in enumerate(levels):
            if level == "#":
                # "#" also matches the parent level; never a topic starting with "$".
                return not (i == 0 and topic_levels[0].startswith("$"))
            if i >= len(topic_levels):
                return False
            if level == "+":
                if i == 0 and topic_levels[0].startswith("$"):
                    return False
            elif level != topic_levels[i]:
                return False
        return len(topic_levels) == len(levels)


def compile_mappings(park: Park) -> list[CompiledMapping]:
    """The park's mappings, compiled; MappingError listing every problem found."""
    problems: list[tuple[FilePath, str]] = []
    compiled: list[CompiledMapping] = []
    names: set[str] = set()
    for index, given in enumerate(park.mappings):
        where: FilePath = ("mappings", index)
        if given.preset is not None:
            try:
                load_preset(given.preset)
            except KeyError:
                known = ", ".join(preset_names())
                problems.append(((*where, "preset"), f"unknown preset {given.preset!r} ({known})"))
                continue
        mapping = with_preset(given)
        found = _problems(park, mapping, where)
        name = mapping.name or f"mappings[{index}]"
        if name in names:
            found.append(((*where, "name"), f"duplicate mapping name {name!r}"))
        names.add(name)
        if found:
            problems.extend(found)
            continue
        compiled.append(_compile(park, mapping, index, name))
    if problems:
        raise MappingError(problems)
    return compiled


def _problems(park: Park, mapping: Mapping, where: FilePath) -> list[tuple[FilePath, str]]:
    problems: list[tuple[FilePath, str]] = []
    for name in ("topic", "identity", "time"):
        if getattr(mapping, name) is None:
            problems.append(((*where, name), f"{name} is required (or a preset that gives it)"))
    if not mapping.values:
        problems.append(((*where, "values"), "values: give at least one quantity"))
    identity = mapping.identity
    if identity is not None and (identity.topic_level is None) == (identity.path is None):
        problems.append(((*where, "identity"), "give exactly one of topic_level and path"))
    if identity is not None and identity.topic_level is not None and mapping.topic is not None:
        levels = mapping.topic.split("/")
        if identity.topic_level >= len(levels) and levels[-1] != "#":
            problems.append(
                ((*where, "identity", "topic_level"), f"the topic has only {len(levels)} levels")
            )
    time = mapping.time
    if time is not None and (time.format is TimeFormat.ARRIVAL) != (time.path is None):
        problems.append(((*where, "time"), "give a path for every format but arrival, and only"))
    kinds = {
        device_id: park.devices_by_id[device_id].kind
        for device_id in (mapping.devices or {}).values()
        if device_id in park.devices_by_id
    }
    for quantity_name, rule in (mapping.values or {}).items():
        at = (*where, "values", quantity_name)
        quantity = QUANTITIES.get(quantity_name)
        if quantity is None:
            problems.append((at, f"{quantity_name!r} is not a parktwin quantity"))
            continue
        if rule is None:
            continue
        if rule.unit is not None and conversion(rule.unit, quantity.unit) is None:
            problems.append(
                (
                    (*at, "unit"),
                    f"{rule.unit!r} does not convert to {quantity.unit}"
                    f" (units known: {', '.join(known_units())})",
                )
            )
        if rule.unit is not None and rule.unit_path is not None:
            problems.append(((*at, "unit_path"), "give unit or unit_path, not both"))
        if rule.type is not None and (rule.type is ValueType.COUNTER) != quantity.counter:
            kind = "a counter" if quantity.counter else "a gauge"
            problems.append(((*at, "type"), f"{quantity_name} is {kind}, not a {rule.type.value}"))
        for device_id, kind in kinds.items():
            if quantity_name not in KINDS[kind].quantities:
                problems.append(
                    (at, f"{quantity_name} is not reported by a {kind.value} ({device_id})")
                )
    return problems


def _compile(park: Park, mapping: Mapping, index: int, name: str) -> CompiledMapping:
    assert mapping.topic and mapping.identity and mapping.time and mapping.values
    values = []
    for quantity_name, rule in mapping.values.items():
        if rule is None:
            continue
        unit = QUANTITIES[quantity_name].unit
        convert = (
            Conversion(1.0)
            if rule.unit is None and rule.unit_path is None
            else (conversion(rule.unit, unit) if rule.unit is not None else None)
        )
        paths = tuple(Path(p) for p in rule.paths)
        quantity = QUANTITIES[quantity_name]
        values.append(
            CompiledValue(
                quantity_name,
                paths,
                convert,
                Path(rule.unit_path) if rule.unit_path else None,
                rule.scale,
                unit,
                paths[0].keys if len(paths) == 1 and convert is not None else None,
                convert.factor * rule.scale if convert is not None else 1.0,
                convert.offset if convert is not None else 0.0,
                quantity.min_value,
                quantity.max_value,
            )
        )
    time, channels, quality = mapping.time, mapping.channels, mapping.quality
    return CompiledMapping(
        index=index,
        name=name,
        topic=mapping.topic,
        levels=tuple(mapping.topic.split("/")),
        match_path=Path(mapping.match.path) if mapping.match else None,
        match_values=tuple(mapping.match.equals) if mapping.match else (),
        identity_level=mapping.identity.topic_level,
        identity_path=Path(mapping.identity.path) if mapping.identity.path else None,
        devices=dict(mapping.devices) if mapping.devices is not None else None,
        identities=_identities(mapping.devices),
        time_format=time.format,
        time_path=Path(time.path) if time.path else None,
        zone=ZoneInfo(time.zone) if time.zone else park.timezone,
        channels_path=Path(channels.path) if channels else None,
        channel_keys=re.compile(channels.keys) if channels and channels.keys else None,
        values=tuple(values),
        quality_path=Path(quality.path) if quality else None,
        quality_good=frozenset(quality.good) if quality else frozenset(),
        errors_path=Path(mapping.errors) if mapping.errors else None,
        partial=bool(mapping.partial),
    )


def _identities(devices: dict[str, str] | None) -> frozenset[str] | None:
    """Each key of ``devices`` and each part of it before a "/" (a channel follows)."""
    if devices is None:
        return None
    found = set(devices)
    for key in devices:
        found.update(key[:i] for i, char in enumerate(key) if char == "/")
    return frozenset(found)
