"""Schema of the park file's ``mappings:`` section: real devices' MQTT messages as readings.

A mapping says which messages it takes (a topic filter, optionally a payload field), whose they
are (a topic level or a payload field, looked up in ``devices``), when they were measured, and
which JSONPath gives each quantity in which unit. A mapping may name a preset
(``preset: tasmota``) that supplies every field it leaves out; presets and the engine that
applies mappings live with the collectors (``collectors/mapping/``), which also check what needs
a preset (e.g. that a merged mapping has a topic). Here: the shape, the units and the paths,
so that ``parktwin check-config`` reports every mistake with its file and line.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonpath
from pydantic import BaseModel, ConfigDict, Field, field_validator

# A key of ``devices``: an identity as the device sends it, optionally "/channel" after it.
IdentityKey = Annotated[str, Field(min_length=1, max_length=200)]
DeviceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_jsonpath(value: str) -> str:
    """A JSONPath (RFC 9535 syntax, as python-jsonpath reads it), or ValueError saying why not."""
    try:
        jsonpath.compile(value)
    except jsonpath.JSONPathError as exc:
        raise ValueError(f"not a JSONPath: {str(exc).splitlines()[0]}") from None
    return value


def check_topic_filter(value: str) -> str:
    """An MQTT topic filter: ``+`` alone in a level, ``#`` alone and last."""
    if not value or len(value.encode()) > 65535 or "\0" in value:
        raise ValueError("a topic filter is 1 to 65535 bytes without NUL")
    levels = value.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError("'#' must be a whole level and the last one")
        if "+" in level and level != "+":
            raise ValueError("'+' must be a whole level")
    if value.startswith("$share/"):
        raise ValueError("give the plain filter; the collector adds $share itself")
    return value


class TimeFormat(StrEnum):
    """How the device's time is written; ``arrival`` when it sends none."""

    EPOCH_S = "epoch_s"
    EPOCH_MS = "epoch_ms"
    EPOCH_US = "epoch_us"
    ISO = "iso"  # RFC 3339 with an offset; text without one is refused
    LOCAL = "local"  # ISO text without an offset, in ``zone`` (the park's by default)
    ARRIVAL = "arrival"  # the collector's clock when the message arrived (marked in the point)


class ValueType(StrEnum):
    COUNTER = "counter"  # cumulative
    GAUGE = "gauge"  # a level at an instant


class MatchRule(_Strict):
    """A payload field that must hold one of the given values for the mapping to apply."""

    path: str
    equals: list[str | int | float | bool] = Field(min_length=1)

    _path = field_validator("path")(check_jsonpath)


class IdentityRule(_Strict):
    """Where the device's identity is: a topic level (0 = first) or a payload field."""

    topic_level: int | None = Field(default=None, ge=0, le=63)
    path: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else check_jsonpath(value)


class TimeRule(_Strict):
    format: TimeFormat
    path: str | None = None
    zone: str | None = None  # for ``local``; default the park's time zone

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else check_jsonpath(value)

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class ChannelRule(_Strict):
    """Fan-out: every member of the object (or item of the array) at ``path`` is a channel.

    ``keys`` (a regular expression) keeps only the members whose key matches, e.g. Shelly's
    ``switch:0``, ``em1:1``. Value paths are then read inside each channel.
    """

    path: str
    keys: str | None = None

    _path = field_validator("path")(check_jsonpath)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class QualityRule(_Strict):
    """A quality code beside the values (OPC DA: 192 = 0xC0 = good); others refuse them."""

    path: str
    good: list[int] = Field(default_factory=lambda: [192], min_length=1)

    _path = field_validator("path")(check_jsonpath)


class ValueRule(_Strict):
    """One quantity: where it is, in which unit, scaled how, counter or gauge."""

    path: str | list[str]  # several paths: the first that the message holds
    unit: str | None = None  # the unit the device sends; converted to the quantity's
    unit_path: str | None = None  # or where the message says its unit
    scale: float = 1.0  # a register step, e.g. 0.01 (kWh per count); applied to the raw number
    type: ValueType | None = None  # checked against the quantity's own kind when given

    @field_validator("path")
    @classmethod
    def _paths(cls, value: str | list[str]) -> str | list[str]:
        for path in [value] if isinstance(value, str) else value:
            check_jsonpath(path)
        if isinstance(value, list) and not value:
            raise ValueError("give at least one path")
        return value

    @field_validator("unit_path")
    @classmethod
    def _unit_path(cls, value: str | None) -> str | None:
        return None if value is None else check_jsonpath(value)

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)


class Mapping(_Strict):
    """One mapping of the park file. With ``preset``, every field left out comes from it."""

    name: str | None = None
    preset: str | None = None
    topic: str | None = None
    match: MatchRule | None = None
    identity: IdentityRule | None = None
    devices: dict[IdentityKey, DeviceId] | None = None  # identity -> park device id
    time: TimeRule | None = None
    channels: ChannelRule | None = None
    values: dict[str, ValueRule | None] | None = None  # None drops a preset's value
    quality: QualityRule | None = None
    errors: str | None = None  # JSONPath of an object {name: error}; a value so named is refused
    partial: bool | None = None  # messages carry only what changed: lay them over the last

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        return None if value is None else check_topic_filter(value)

    @field_validator("errors")
    @classmethod
    def _errors(cls, value: str | None) -> str | None:
        return None if value is None else check_jsonpath(value)
