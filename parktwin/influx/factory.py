"""The writer for the configured InfluxDB API.

Kept apart from ``parktwin.influx.writer``, which both writers import for ``WriteError``, so
that choosing one needs no late import.
"""

from __future__ import annotations

from parktwin.config import InfluxApi, InfluxSettings
from parktwin.influx.v1 import InfluxV1Writer
from parktwin.influx.v2 import InfluxV2Writer
from parktwin.influx.writer import PointWriter


def make_writer(settings: InfluxSettings) -> PointWriter:
    """The writer for the configured API: v1 ``/write`` or the v2 API."""
    if settings.api is InfluxApi.V2:
        return InfluxV2Writer(settings)
    return InfluxV1Writer(settings)
