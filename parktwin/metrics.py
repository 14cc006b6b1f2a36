"""Prometheus metrics of the running services, read from their counters at each scrape.

A registry is built per process (no global state): the counters stay plain dataclasses that the
hot paths increment without locks, and the exporter reads them when Prometheus asks. As with
prometheus_client, this module knows no service: each role registers its own ``Collector``
(``collectors.metrics``, ``twin.service.metrics``) in the registry it is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric


def counter_families(prefix: str, counters: Mapping[str, tuple[float, str]]) -> Iterator[Metric]:
    """Counter metrics ``{prefix}_{name}_total`` from (value, help text) pairs."""
    for name, (value, text) in counters.items():
        yield CounterMetricFamily(f"{prefix}_{name}", text, value=value)


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text exposition format."""
    return generate_latest(registry)
