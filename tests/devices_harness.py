"""Real devices' messages (tests/data/devices): the park that maps them and the hand-written
readings each must give."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from parktwin.park.loader import load_park
from parktwin.park.model import Park

DEVICES_DATA = Path(__file__).parent / "data" / "devices"


@dataclass(frozen=True)
class Expected:
    device: str
    ts_ms: int | None  # None: the message's arrival time
    values: dict[str, float]


@dataclass(frozen=True)
class DeviceCase:
    """One recorded message, where it was published, and what it must give."""

    preset: str
    sample: str
    topic: str
    source: str
    readings: list[Expected]
    refused: list[str]

    @property
    def payload(self) -> bytes:
        return (DEVICES_DATA / self.sample).read_bytes()


def devices_park() -> Park:
    return load_park(DEVICES_DATA / "park.yaml")


def device_cases() -> list[DeviceCase]:
    """Every case of tests/data/devices/cases.yaml."""
    raw: list[dict[str, Any]] = yaml.safe_load((DEVICES_DATA / "cases.yaml").read_text("utf-8"))
    return [
        DeviceCase(
            case["preset"],
            case["sample"],
            case["topic"],
            case["source"],
            [
                Expected(r["device"], None if r["ts_ms"] == "arrival" else r["ts_ms"], r["values"])
                for r in case["readings"]
            ],
            case.get("refused", []),
        )
        for case in raw
    ]
