"""Outdoor weather: a seasonal and daily temperature cycle, and seeded AR(1) cloudiness.

The climate is a rough function of latitude (annual mean and seasonal swing), which is all the
loads need: heating in winter, cooling in summer, clouds that dim PV for hours at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulators.noise import normal

CLOUD_CORRELATION_S = 6 * 3600.0  # clouds persist for hours
TEMPERATURE_ANOMALY_CORRELATION_S = 3 * 86400.0  # warm and cold spells last days


@dataclass(frozen=True, slots=True)
class Climate:
    """Long-term temperature of a place."""

    annual_mean_c: float
    seasonal_amplitude_c: float
    daily_amplitude_c: float
    southern: bool


def climate_for(latitude_deg: float) -> Climate:
    """A plausible climate from latitude (fits eastern China: Shenzhen 23 °C .. Harbin 5 °C)."""
    lat = abs(latitude_deg)
    return Climate(29.0 - 0.43 * lat, 0.3 * lat + 3.0, 4.0, latitude_deg < 0)


@dataclass(slots=True)
class WeatherState:
    """The slowly varying random part of the weather (what a state file keeps)."""

    cloud_z: float = 0.0  # latent N(0, 1) process behind cloudiness
    temperature_anomaly_c: float = 0.0


@dataclass(frozen=True, slots=True)
class Weather:
    """The weather during one simulation step."""

    outdoor_temp_c: float
    cloudiness: float  # 0 clear .. 1 overcast


def step_weather(state: WeatherState, key: int, step: int, step_s: float) -> WeatherState:
    """Advance the AR(1) processes by one step of ``step_s`` seconds (draws from ``key, step``)."""
    phi_c = math.exp(-step_s / CLOUD_CORRELATION_S)
    phi_t = math.exp(-step_s / TEMPERATURE_ANOMALY_CORRELATION_S)
    cloud_z = phi_c * state.cloud_z + math.sqrt(1.0 - phi_c * phi_c) * normal(key, 2 * step)
    anomaly = phi_t * state.temperature_anomaly_c + 3.0 * math.sqrt(1.0 - phi_t * phi_t) * normal(
        key, 2 * step + 1
    )
    return WeatherState(cloud_z, anomaly)


def weather_at(
    climate: Climate, state: WeatherState, day_of_year: int, local_hour: float, clouds: bool
) -> Weather:
    """Temperature and cloudiness from the climate, the season, the hour and the random state."""
    season_peak_day = 20 if climate.southern else 200  # warmest around 20 Jan / 19 Jul
    seasonal = math.cos(2.0 * math.pi * (day_of_year - season_peak_day) / 365.25)
    cloudiness = 1.0 / (1.0 + math.exp(-2.0 * (state.cloud_z - 0.3))) if clouds else 0.0
    daily = math.cos(2.0 * math.pi * (local_hour - 15.0) / 24.0) * (1.0 - 0.6 * cloudiness)
    temp = (
        climate.annual_mean_c
        + climate.seasonal_amplitude_c * seasonal
        + climate.daily_amplitude_c * daily
        + state.temperature_anomaly_c
    )
    return Weather(max(-50.0, min(50.0, temp)), cloudiness)
