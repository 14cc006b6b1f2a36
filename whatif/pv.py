"""Generation of new PV panels per step: from the sun model at the park's location, or from the
park's own measured PV per kWp."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt

from parktwin.park.model import Location
from parktwin.sun import (
    clear_sky_ghi_w_m2,
    plane_irradiance_w_m2,
    solar_azimuth_deg,
    solar_position,
)
from whatif.scenario import AddPv

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

SAMPLES_PER_HOUR = 6  # the sun is looked up every ten minutes of a step


def clear_sky_kwh_per_kwp(
    bounds_ms: Ints, location: Location, tilt_deg: float, azimuth_deg: float
) -> Floats:
    """Plane-of-array clear-sky irradiation per step, kWh/m2, which is also the DC energy of
    1 kWp (rated at 1 kW/m2) before losses."""
    out = np.zeros(len(bounds_ms) - 1)
    for i, (start, end) in enumerate(pairwise(bounds_ms.tolist())):
        hours = (end - start) / 3_600_000
        samples = max(1, round(hours * SAMPLES_PER_HOUR))
        width = (end - start) / samples
        total = 0.0
        for k in range(samples):
            ts = round(start + (k + 0.5) * width)
            sun = solar_position(ts, location.latitude, location.longitude)
            if sun.elevation_deg <= 0:
                continue
            ghi = clear_sky_ghi_w_m2(sun.elevation_deg)
            azimuth = solar_azimuth_deg(sun, location.latitude)
            total += plane_irradiance_w_m2(ghi, sun.elevation_deg, azimuth, tilt_deg, azimuth_deg)
        out[i] = total / samples / 1000 * hours
    return out


def pv_generation_kwh(
    change: AddPv, bounds_ms: Ints, location: Location, measured_kwh: Floats, measured_kwp: float
) -> tuple[Floats, str]:
    """The new panels' energy per step, and what it assumed."""
    if change.profile == "measured":
        per_kwp = measured_kwh / measured_kwp
        note = (
            f"{change.kwp:g} kWp like the park's measured PV ({measured_kwp:g} kWp): same "
            "weather, orientation and losses"
        )
        return per_kwp * change.kwp, note
    per_kwp = clear_sky_kwh_per_kwp(bounds_ms, location, change.tilt_deg, change.azimuth_deg)
    factor = change.performance_ratio * change.clear_sky_factor
    note = (
        f"{change.kwp:g} kWp, tilt {change.tilt_deg:g}°, azimuth {change.azimuth_deg:g}°, "
        f"clear-sky sun model (Haurwitz) at {location.latitude:g}, {location.longitude:g}, "
        f"performance ratio {change.performance_ratio:g}, "
        f"clear-sky factor {change.clear_sky_factor:g}"
        + (" (no clouds: an upper bound)" if change.clear_sky_factor == 1.0 else "")
    )
    return per_kwp * change.kwp * factor, note
