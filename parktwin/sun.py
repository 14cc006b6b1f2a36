"""Where the sun is, and how much light reaches the ground (or a tilted panel) under a clear sky.

NOAA's low-precision formulas (Spencer's Fourier series for declination and the equation of
time): good to a few tenths of a degree, plenty for a PV profile. Pure maths in the core: the
simulators make PV readings with it and the what-if role sizes new PV with it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

_MS_PER_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class SolarPosition:
    """The sun seen from one place at one instant."""

    declination_deg: float
    equation_of_time_min: float
    hour_angle_deg: float
    elevation_deg: float


def solar_position(ts_ms: int, latitude_deg: float, longitude_deg: float) -> SolarPosition:
    """Declination, equation of time, hour angle and elevation at epoch-ms ``ts_ms`` (UTC)."""
    day_of_year = time.gmtime(ts_ms // 1000).tm_yday
    utc_minutes = (ts_ms % _MS_PER_DAY) / 60_000.0
    gamma = 2.0 * math.pi / 365.0 * (day_of_year - 1 + (utc_minutes / 60.0 - 12.0) / 24.0)
    eot = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    true_solar_min = utc_minutes + eot + 4.0 * longitude_deg
    hour_angle = true_solar_min / 4.0 - 180.0
    hour_angle = (hour_angle + 180.0) % 360.0 - 180.0
    lat = math.radians(latitude_deg)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(
        math.radians(hour_angle)
    )
    elevation = 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))
    return SolarPosition(math.degrees(decl), eot, hour_angle, elevation)


def solar_noon_ms(day_start_utc_ms: int, longitude_deg: float) -> int:
    """UTC instant of solar noon (hour angle 0) on the UTC day starting at ``day_start_utc_ms``."""
    eot = solar_position(day_start_utc_ms + _MS_PER_DAY // 2, 0.0, longitude_deg)
    minutes = 720.0 - 4.0 * longitude_deg - eot.equation_of_time_min
    return day_start_utc_ms + round(minutes * 60_000)


def clear_sky_ghi_w_m2(elevation_deg: float) -> float:
    """Global horizontal irradiance under a clear sky (Haurwitz's model); zero below the horizon."""
    if elevation_deg <= 0.0:
        return 0.0
    cos_zenith = math.sin(math.radians(elevation_deg))
    return 1098.0 * cos_zenith * math.exp(-0.057 / cos_zenith)


# Clear-sky split of global irradiance into beam and diffuse, and the ground's reflectance: both
# assumed round figures (a clear sky sends roughly a sixth of its light as diffuse; grass and
# concrete reflect about a fifth), good enough for a yearly PV estimate, not for a yield study.
CLEAR_SKY_DIFFUSE_SHARE = 0.15
GROUND_ALBEDO = 0.2


def solar_azimuth_deg(position: SolarPosition, latitude_deg: float) -> float:
    """The sun's azimuth in degrees clockwise from north (90 east, 180 south, 270 west)."""
    lat = math.radians(latitude_deg)
    decl = math.radians(position.declination_deg)
    zenith = math.radians(90.0 - position.elevation_deg)
    sin_zenith = math.sin(zenith)
    if abs(math.cos(lat)) < 1e-9 or sin_zenith < 1e-9:
        return 180.0  # at a pole or with the sun overhead the azimuth does not matter
    cos_az = (math.sin(decl) - math.sin(lat) * math.cos(zenith)) / (math.cos(lat) * sin_zenith)
    azimuth = math.degrees(math.acos(max(-1.0, min(1.0, cos_az))))
    return azimuth if position.hour_angle_deg < 0 else 360.0 - azimuth


def plane_irradiance_w_m2(
    ghi_w_m2: float,
    elevation_deg: float,
    sun_azimuth_deg: float,
    tilt_deg: float,
    panel_azimuth_deg: float,
) -> float:
    """Irradiance on a panel tilted ``tilt_deg`` from horizontal, facing ``panel_azimuth_deg``
    (clockwise from north), from the global horizontal irradiance: beam on the panel, isotropic
    diffuse sky and ground reflection. A flat panel gets the global irradiance itself."""
    if elevation_deg <= 0.0 or ghi_w_m2 <= 0.0:
        return 0.0
    diffuse = CLEAR_SKY_DIFFUSE_SHARE * ghi_w_m2
    cos_zenith = math.sin(math.radians(elevation_deg))
    beam_normal = (ghi_w_m2 - diffuse) / cos_zenith
    tilt = math.radians(tilt_deg)
    zenith = math.radians(90.0 - elevation_deg)
    cos_incidence = math.cos(zenith) * math.cos(tilt) + math.sin(zenith) * math.sin(
        tilt
    ) * math.cos(math.radians(sun_azimuth_deg - panel_azimuth_deg))
    beam = beam_normal * max(cos_incidence, 0.0)
    sky = diffuse * (1.0 + math.cos(tilt)) / 2.0
    ground = ghi_w_m2 * GROUND_ALBEDO * (1.0 - math.cos(tilt)) / 2.0
    return beam + sky + ground
