"""MQTT topic layout, version 1 of the contract (docs/contract.md).

Every topic starts with ``parks/{park}`` so that one broker can serve many parks and an ACL
can give each device exactly its own topics.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "parks"


def telemetry(park_id: str, device_id: str) -> str:
    """Topic on which a device publishes its readings."""
    return f"{ROOT}/{park_id}/devices/{device_id}/telemetry"


def device_status(park_id: str, device_id: str) -> str:
    """Retained online/offline status of a device, set as its MQTT last will."""
    return f"{ROOT}/{park_id}/devices/{device_id}/status"


def gateway_status(park_id: str, gateway_id: str) -> str:
    """Retained status of a gateway (or simulator) that speaks for many devices."""
    return f"{ROOT}/{park_id}/gateways/{gateway_id}/status"


def dead_letter(park_id: str) -> str:
    """Where the collectors put every message they refuse, with the reason."""
    return f"{ROOT}/{park_id}/deadletter"


def twin_state(park_id: str) -> str:
    """Retained JSON state of the park's digital twin."""
    return f"{ROOT}/{park_id}/twin/state"


def alert(park_id: str, fingerprint: str) -> str:
    """Retained state of one active alert; an empty retained message clears it on resolve."""
    return f"{ROOT}/{park_id}/alerts/{fingerprint}"


def monthly_inputs(park_id: str, month: str) -> str:
    """Retained figures no sensor measures (waste, water reuse, finances...), one topic a month."""
    return f"{ROOT}/{park_id}/inputs/monthly/{month}"


def monthly_inputs_filter(park_id: str) -> str:
    """Subscription filter for every month's inputs of a park."""
    return f"{ROOT}/{park_id}/inputs/monthly/+"


def telemetry_filter(park_id: str = "+") -> str:
    """Subscription filter for the telemetry of one park, or of every park with ``+``."""
    return f"{ROOT}/{park_id}/devices/+/telemetry"


def shared(filter_: str, group: str) -> str:
    """MQTT v5 shared subscription: the broker spreads messages over the group's members."""
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True, slots=True)
class TelemetryTopic:
    """The parts of a telemetry topic."""

    park_id: str
    device_id: str


def parse_telemetry(topic: str) -> TelemetryTopic | None:
    """Split a telemetry topic into park and device, or None when it is not one."""
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[0] != ROOT
        or parts[2] != "devices"
        or parts[4] != "telemetry"
        or not parts[1]
        or not parts[3]
    ):
        return None
    return TelemetryTopic(parts[1], parts[3])
