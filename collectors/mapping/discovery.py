"""Home Assistant MQTT discovery, read back into mappings.

Many devices already announce themselves to Home Assistant with retained
``homeassistant/<component>/[<node_id>/]<object_id>/config`` messages: where their state is
published (``state_topic``), how to read a value out of it (``value_template``), in which unit,
and whether it is a cumulative total (``state_class: total_increasing``). This module turns the
sensors among them into park-file mappings, and says of every other one why it did not.
Only the simple templates (``{{ value_json.a.b }}``, ``{{ value_json['a'][0] | float }}``) are
translated: anything a JSONPath cannot say is named, not guessed.
https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from parktwin.park.model import Park

# Abbreviations Home Assistant accepts in discovery payloads (the ones this module reads).
_ABBREVIATIONS = {
    "stat_t": "state_topic",
    "val_tpl": "value_template",
    "unit_of_meas": "unit_of_measurement",
    "stat_cla": "state_class",
    "dev_cla": "device_class",
    "uniq_id": "unique_id",
    "dev": "device",
}
_TEMPLATE = re.compile(
    r"^\{\{\s*value_json((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^']*'|\"[^\"]*\"|-?\d+)\s*\])+)"
    r"\s*(?:\|\s*(?:float|int)(?:\(\s*-?[0-9.]*\s*\))?\s*)?\}\}$"
)
_ACCESSOR = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))\s*\]")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOTALS = {"total_increasing", "total"}
# Topic levels that name a kind of message, not a device (Tasmota's, Zigbee2MQTT's, Shelly's).
_NOT_IDENTITY = {"tele", "stat", "cmnd", "SENSOR", "STATE", "zigbee2mqtt", "events", "rpc"}


@dataclass(frozen=True)
class Sensor:
    """One translated discovery config: a quantity read from a state topic."""

    config_topic: str
    state_topic: str
    device_name: str
    device_identifier: str  # Home Assistant's first identifier of the device, if any
    quantity: str
    path: str
    unit: str
    counter: bool


@dataclass(frozen=True)
class Skipped:
    """A discovery config not translated, and why."""

    config_topic: str
    reason: str


def read_config(
    config_topic: str, payload: bytes, prefix: str = "homeassistant"
) -> Sensor | Skipped:
    """Translate one retained discovery message (published under ``prefix``)."""
    levels = config_topic.removeprefix(prefix + "/").split("/")
    if (
        not config_topic.startswith(prefix + "/")
        or len(levels) not in (3, 4)
        or levels[-1] != "config"
    ):
        return Skipped(config_topic, "not a discovery config topic")
    if levels[0] != "sensor":
        return Skipped(config_topic, f"a {levels[0]}, not a sensor")
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Skipped(config_topic, "not JSON (an empty payload removes a device)")
    if not isinstance(raw, dict):
        return Skipped(config_topic, "not a JSON object")
    config = {_ABBREVIATIONS.get(k, k): v for k, v in raw.items()}
    base = config.get("~")
    state_topic = _expand(config.get("state_topic"), base)
    if not state_topic:
        return Skipped(config_topic, "no state_topic")
    template = str(config.get("value_template") or "").strip()
    path = template_path(template) if template else "$"
    if path is None:
        return Skipped(config_topic, f"value_template {template[:60]!r} is not a simple value_json")
    unit = str(config.get("unit_of_measurement") or "")
    found = _quantity(unit, str(config.get("device_class") or ""))
    if found is None:
        return Skipped(config_topic, f"unit {unit!r} has no parktwin quantity")
    quantity, counter = found
    state_class = str(config.get("state_class") or "")
    if counter and state_class not in _TOTALS:
        return Skipped(
            config_topic,
            f"{unit} without state_class total_increasing ({state_class or 'none'}) is not a"
            " cumulative counter",
        )
    device = config.get("device") if isinstance(config.get("device"), dict) else {}
    name = str((device or {}).get("name") or config.get("name") or state_topic)
    ids = (device or {}).get("identifiers") or (device or {}).get("ids") or []
    first_id = str(ids[0] if isinstance(ids, list) and ids else ids or "")
    return Sensor(config_topic, state_topic, name, first_id, quantity, path, unit, counter)


def template_path(template: str) -> str | None:
    """The JSONPath a simple ``{{ value_json... }}`` template reads, or None."""
    match = _TEMPLATE.match(template)
    if match is None:
        return None
    path = "$"
    for name, single, double, index in _ACCESSOR.findall(match.group(1)):
        key = name or single or double
        if index:
            path += f"[{int(index)}]"
        elif _PLAIN_NAME.match(key):
            path += f".{key}"
        else:
            path += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def to_mappings(
    sensors: list[Sensor], park: Park | None
) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """One mapping per state topic, and the sensors left out (a quantity given twice...)."""
    by_topic: dict[str, list[Sensor]] = {}
    for sensor in sensors:
        by_topic.setdefault(sensor.state_topic, []).append(sensor)
    mappings: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for state_topic, group in by_topic.items():
        if "+" in state_topic or "#" in state_topic:
            skipped += [Skipped(s.config_topic, "wildcards in state_topic") for s in group]
            continue
        levels = state_topic.split("/")
        level = next(
            (
                i
                for i in range(len(levels) - 1, -1, -1)
                if levels[i] and levels[i] not in _NOT_IDENTITY
            ),
            len(levels) - 1,
        )
        identity = levels[level]
        device_id = _device_id(identity, group[0].device_name, group[0].device_identifier, park)
        values: dict[str, Any] = {}
        for sensor in group:
            if sensor.quantity in values:
                skipped.append(
                    Skipped(sensor.config_topic, f"{sensor.quantity} already read from this topic")
                )
                continue
            values[sensor.quantity] = {
                "path": sensor.path,
                "unit": sensor.unit,
                "type": "counter" if sensor.counter else "gauge",
            }
        if park is not None and device_id not in park.devices_by_id:
            skipped.append(
                Skipped(
                    group[0].config_topic,
                    f"device {device_id!r} is not in the park: add it, or change devices:",
                )
            )
        mappings.append(
            {
                "name": f"{group[0].device_name} (Home Assistant discovery)",
                "topic": state_topic,
                "identity": {"topic_level": level},
                "devices": {identity: device_id},
                "time": {"format": "arrival"},  # discovery says nothing of the state's time
                "values": values,
            }
        )
    return mappings, skipped


def _expand(topic: object, base: object) -> str:
    """A topic with Home Assistant's ``~`` base abbreviation written out."""
    text = str(topic or "")
    if isinstance(base, str):
        if text.startswith("~"):
            text = base + text[1:]
        elif text.endswith("~"):
            text = text[:-1] + base
    return text


def _quantity(unit: str, device_class: str) -> tuple[str, bool] | None:
    """The parktwin quantity of a Home Assistant unit, and whether it is a counter."""
    if unit in ("Wh", "kWh", "MWh"):
        return "energy_kwh", True
    if unit in ("W", "kW"):
        return "power_kw", False
    if unit in ("m³", "m3", "L"):
        return ("gas_m3", True) if device_class == "gas" else ("water_m3", True)
    if unit in ("°C", "K"):
        return "temperature_c", False
    if unit == "%" and device_class == "humidity":
        return "humidity_pct", False
    if unit == "ppm" and device_class in ("carbon_dioxide", ""):
        return "co2_ppm", False
    return None


def _device_id(identity: str, name: str, identifier: str, park: Park | None) -> str:
    """The park device the identity or the Home Assistant device names, else a slug of them."""
    slugs = [_slug(name), _slug(identifier)]
    if park is not None:
        for candidate in (identity, *slugs):
            if candidate in park.devices_by_id:
                return candidate
    return next((s for s in slugs if s), "device")


def _slug(text: str) -> str:
    """Text as a park id: runs of other characters become "-", lower case, 64 at most."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._").lower()[:64]
    return slug if re.match(r"^[a-z0-9]", slug) else ""
