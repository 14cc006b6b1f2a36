"""One simulated device: its counters, the rates and gauges of the current step, its schedule.

A step fixes each device's instantaneous values (gauges) and the hourly rate of each counter;
a reading at any instant of the step is the counter at the step's start plus rate times the
time elapsed. All meters integrate the same step powers, so the grid meter's import and export
always balance the loads, PV and battery to within rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parktwin.contract.quantities import KINDS, QUANTITIES, DeviceKind
from parktwin.park.model import Device

_MS_PER_H = 3_600_000.0


@dataclass(slots=True)
class DeviceRuntime:
    """The mutable state of one simulated device."""

    device: Device
    key: int  # noise stream of this device
    interval_ms: int
    next_ts_ms: int
    seq: int = 0
    counters: dict[str, float] = field(default_factory=dict)  # value at the step's start
    rates_per_h: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)  # soc_pct, co2_ppm: carried state

    @property
    def kind(self) -> DeviceKind:
        return self.device.kind


def counter_names(kind: DeviceKind) -> list[str]:
    """The cumulative quantities a kind reports, in a fixed order."""
    return sorted(q for q in KINDS[kind].quantities if QUANTITIES[q].counter)


def gauge_names(kind: DeviceKind) -> list[str]:
    """The instantaneous quantities a kind reports, in a fixed order."""
    return sorted(q for q in KINDS[kind].quantities if not QUANTITIES[q].counter)


def reading_values(runtime: DeviceRuntime, ts_ms: int, step_start_ms: int) -> dict[str, float]:
    """The device's values at ``ts_ms`` within the current step, rounded for the wire."""
    elapsed_h = (ts_ms - step_start_ms) / _MS_PER_H
    values = {name: round(value, 3) for name, value in runtime.gauges.items()}
    rates = runtime.rates_per_h
    for name, value in runtime.counters.items():
        values[name] = round(value + rates[name] * elapsed_h, 3)
    return values


def integrate(runtime: DeviceRuntime, step_h: float) -> None:
    """Move the counters to the end of the step."""
    rates = runtime.rates_per_h
    counters = runtime.counters
    for name in counters:
        counters[name] += rates[name] * step_h
