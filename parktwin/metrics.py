"""Prometheus metrics of the running services, read from their counters at each scrape.

A registry is built per process (no global state): the counters stay plain dataclasses that the
hot paths increment without locks, and the exporter reads them when Prometheus asks. As with
prometheus_client, this module knows no service: each role registers its own ``Collector``
(``collectors.metrics``, ``twin.service.metrics``) in the registry it is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from parktwin.wire.subscriber import OutboundSession


def counter_families(prefix: str, counters: Mapping[str, tuple[float, str]]) -> Iterator[Metric]:
    """Counter metrics ``{prefix}_{name}_total`` from (value, help text) pairs."""
    for name, (value, text) in counters.items():
        yield CounterMetricFamily(f"{prefix}_{name}", text, value=value)


class IntakeCounters(Protocol):
    """What ``IntakeMetrics`` reads: ``parktwin.intake.Intake``."""

    @property
    def sessions_lost(self) -> int: ...

    @property
    def session(self) -> OutboundSession: ...


class IntakeMetrics(Collector):
    """Metrics of one MQTT intake (the core's, used by the collectors and the twin): its
    session with the broker, under ``parktwin_<role>_mqtt_*``."""

    def __init__(self, intake: IntakeCounters, role: str) -> None:
        self._intake = intake
        self._role = role

    def collect(self) -> Iterator[Metric]:
        intake = self._intake
        counters = {
            "mqtt_sessions_lost": (
                intake.sessions_lost,
                "reconnections that found the broker had lost our MQTT session",
            ),
            "mqtt_publishes_resent": (
                intake.session.publishes_resent,
                "own QoS 1 publishes sent again after a reconnect",
            ),
            "mqtt_publishes_dropped": (
                intake.session.publishes_dropped,
                "own publishes dropped (outbox full, or above the broker's packet size)",
            ),
        }
        yield from counter_families(f"parktwin_{self._role}", counters)


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text exposition format."""
    return generate_latest(registry)
