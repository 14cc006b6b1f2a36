"""What a window's flows cost under the park's tariffs (``tariffs/``), step by step.

The same rules as the twin's cost ledger (docs/tariffs.md), at what-if's step: each step's
import is priced at the mean of the tariff segments it holds (energy flows evenly within a step,
as everywhere in the twin), export at the feed-in price, gas and heat (when bought) at theirs;
the month's basic charge from each main meter's highest step-mean demand (a 15-minute demand
only with ``--step-min 15``; hourly steps read lower) under the version valid at the month's
start; certificates and green-power premiums, and carbon (Scope 1 and location-based Scope 2, as
the twin prices it) at the version's prices. A scenario's import is shared among the main meters
as the measured import was in that step (assumed; evenly when nothing was measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parktwin.contract.quantities import DeviceKind
from parktwin.park.model import Park
from parktwin.park.tariffs import Tariffs
from parktwin.periods import Granularity
from tariffs.charges import month_basic_charge
from tariffs.timeline import Timeline
from twin.indicators.carbon import CarbonAccount
from twin.model.topology import Flow
from whatif.window import Window

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Costs:
    """A run's costs over the window, in the tariff's currency."""

    energy: float
    basic: float
    gas: float
    heat: float
    green: float
    carbon: float
    feed_in_revenue: float
    total: float


@dataclass(frozen=True)
class Pricing:
    """The tariffs laid on the window's steps, made once for the baseline and every scenario."""

    tariffs: Tariffs
    timeline: Timeline
    energy_price: Floats  # per step, yuan/kWh
    feed_in_price: Floats
    gas_price: Floats
    heat_price: Floats
    meters: list[str]  # the main meters
    measured_import: Floats  # (steps, meters): each main meter's measured import
    example: bool  # some version is an example, not an official figure

    @classmethod
    def of(cls, window: Window, park: Park, tariffs: Tariffs) -> Pricing:
        timeline = Timeline(tariffs, park.timezone)
        bounds = window.steps.bounds_ms
        segments = timeline.segments(int(bounds[0]), int(bounds[-1]) - 1)
        starts = segments.bounds[:-1]
        step = np.searchsorted(bounds, starts, side="right") - 1
        inside = (step >= 0) & (step < len(bounds) - 1)
        lo = np.maximum(starts, bounds[0])
        hi = np.minimum(segments.bounds[1:], bounds[-1])
        weight = np.where(inside, np.maximum(hi - lo, 0), 0).astype(np.float64)
        step = np.where(inside, step, 0)
        steps = len(bounds) - 1
        total = np.bincount(step, weights=weight, minlength=steps)

        def mean(price: Floats) -> Floats:
            summed = np.bincount(step, weights=weight * price, minlength=steps)
            return np.asarray(np.where(total > 0, summed / np.maximum(total, 1), 0.0))

        topology = window.topology
        meters = [d.id for d in park.devices if d.kind is DeviceKind.GRID_MAIN_METER]
        flows = [topology.flow_keys.index(f"{m}|energy_import_kwh") for m in meters]
        return cls(
            tariffs,
            timeline,
            mean(segments.energy_price),
            mean(segments.feed_in_price),
            mean(segments.gas_price),
            mean(segments.heat_price),
            meters,
            window.steps.amounts[:, flows],
            any(v.example for v in tariffs.all_versions()),
        )

    def meter_import(self, park_import: Floats) -> Floats:
        """Each main meter's import per step for a park import, shared as measured."""
        measured = self.measured_import
        total = measured.sum(axis=1, keepdims=True)
        even = np.full_like(measured, 1.0 / max(measured.shape[1], 1))
        share = np.where(total > 0, measured / np.where(total > 0, total, 1.0), even)
        return share * park_import[:, None]

    def costs(self, window: Window, flows: Floats, accounts: list[CarbonAccount]) -> Costs:
        """The costs of per-step park flows and their monthly carbon accounts."""
        imported = flows[:, Flow.GRID_IMPORT_KWH]
        energy = float(imported @ self.energy_price)
        feed_in = float(flows[:, Flow.GRID_EXPORT_KWH] @ self.feed_in_price)
        gas = float(flows[:, Flow.GAS_M3] @ self.gas_price)
        heat = float(flows[:, Flow.HEAT_GJ] @ self.heat_price) if self.tariffs.heat_purchased else 0
        meters = self.meter_import(imported)
        power = meters / window.steps.step_h[:, None]
        basic = green = carbon = 0.0
        calendar = window.calendar
        for i, month in enumerate(window.months):
            version = self.timeline.version_at(calendar.parse_label(Granularity.MONTH, month))
            if version is None:
                continue
            in_month = window.month_of_step == i
            peaks = {
                meter: float(power[in_month, j].max()) if in_month.any() else 0.0
                for j, meter in enumerate(self.meters)
            }
            month_import = float(imported[in_month].sum())
            basic += month_basic_charge([(version, 1.0)], peaks, month_import).charge_yuan
            account = accounts[i]
            green += account.green_certificates * version.green_certificate_yuan
            green += account.green_direct_kwh * version.green_power_premium_yuan_per_kwh
            co2 = account.scope1_co2_t + account.scope2_location_co2_t
            carbon += co2 * version.carbon_yuan_per_t
        total = energy + basic + gas + heat + green + carbon - feed_in
        return Costs(energy, basic, gas, heat, green, carbon, feed_in, total)
