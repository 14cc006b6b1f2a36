"""Prometheus metrics of the running services, read from their counters at each scrape.

A registry is built per process (no global state): the counters stay plain dataclasses that the
hot paths increment without locks, and the exporter reads them when Prometheus asks. As with
prometheus_client, this module knows no service: each role registers its own ``Collector``
(``collectors.metrics``, ``twin.service.metrics``) in the registry it is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
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


def publish_families(prefix: str, health: Any) -> Iterator[Metric]:
    """A service's publishes the broker refused, by topic kind, and the broker limits warned
    about (``health`` is a ``parktwin.intake.PublishHealth``)."""
    refused = CounterMetricFamily(
        f"{prefix}_mqtt_publishes_refused",
        "own publishes the broker refused (an ACL without the rights the service needs)",
        labels=["topic"],
    )
    for kind, count in sorted(health.refused.items()):
        refused.add_metric([kind], count)
    yield refused
    yield GaugeMetricFamily(
        f"{prefix}_mqtt_broker_limit_warnings",
        "limits in the broker's CONNACK that will lose data (logged at start-up)",
        value=len(health.broker_warnings),
    )


def sequence_families(prefix: str, gaps: Any) -> Iterator[Metric]:
    """Gaps in the devices' sequence numbers (``gaps`` is a ``parktwin.sequence.SequenceGaps``):
    the numbers missing now, per device that misses any, and the gaps and repeats seen."""
    missing = GaugeMetricFamily(
        f"{prefix}_sequence_missing",
        "sequence numbers a device sent that never arrived (broker drops), by device",
        labels=["device"],
    )
    for device, count in sorted(gaps.missing_by_device().items()):
        missing.add_metric([device], count)
    yield missing
    yield GaugeMetricFamily(
        f"{prefix}_sequence_missing_all",
        "sequence numbers missing, all devices",
        value=gaps.missing,
    )
    yield from counter_families(
        prefix,
        {
            "sequence_gaps": (gaps.gaps, "jumps in a device's sequence numbers"),
            "sequence_repeats": (gaps.repeats, "sequence numbers received again"),
        },
    )


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text exposition format."""
    return generate_latest(registry)
