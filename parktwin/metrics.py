"""Prometheus metrics of the running services, read from their counters at each scrape.

A registry is built per process (no global state): the counters stay plain dataclasses that the
hot paths increment without locks, and the exporter reads them when Prometheus asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from collectors.stats import CollectorStats


def counter_families(prefix: str, counters: Mapping[str, tuple[float, str]]) -> Iterator[Metric]:
    """Counter metrics ``{prefix}_{name}_total`` from (value, help text) pairs."""
    for name, (value, text) in counters.items():
        yield CounterMetricFamily(f"{prefix}_{name}", text, value=value)


class CollectorMetrics(Collector):
    """Metrics of one collector: messages in and refused, readings written, spooled, lag."""

    def __init__(self, stats: CollectorStats, spool_pending: Callable[[], int]) -> None:
        self._stats = stats
        self._spool_pending = spool_pending

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        counters = {
            "messages_received": (s.messages_received, "MQTT messages taken in"),
            "readings_accepted": (s.readings_accepted, "readings that passed validation"),
            "readings_written": (s.readings_written, "readings written to the database"),
            "readings_spooled": (s.readings_spooled, "readings put in the on-disk spool"),
            "readings_replayed": (s.readings_replayed, "readings moved from spool to database"),
            "readings_refused_by_database": (s.readings_refused_by_database, "refused by db"),
            "write_failures": (s.write_failures, "failed database writes"),
            "mqtt_reconnects": (s.reconnects, "MQTT reconnections"),
        }
        yield from counter_families("parktwin_collector", counters)
        rejected = CounterMetricFamily(
            "parktwin_collector_messages_rejected",
            "messages refused and dead-lettered, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(s.rejected_by_reason.items()):
            rejected.add_metric([reason], count)
        yield rejected
        yield GaugeMetricFamily(
            "parktwin_collector_spool_pending_lines",
            "readings waiting in the spool",
            value=self._spool_pending(),
        )
        if s.last_event_ts_ms is not None:
            # Service health, not twin math: how far behind the wall clock the stream runs.
            lag_s = time.time() - s.last_event_ts_ms / 1000
            yield GaugeMetricFamily(
                "parktwin_collector_event_lag_seconds",
                "wall clock minus the event time of the last accepted reading",
                value=lag_s,
            )


class TwinMetrics(Collector):
    """Metrics of one twin: readings taken in, ticks and their cost, checkpoints, watermark."""

    def __init__(self, stats: Any, watermark_ms: Callable[[], int | None]) -> None:
        self._stats = stats  # twin.service.TwinStats (not imported: the twin imports this)
        self._watermark_ms = watermark_ms

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        counters = {
            "messages_received": (s.messages_received, "MQTT messages taken in by the twin"),
            "readings_ingested": (s.readings_ingested, "readings the twin counted"),
            "messages_rejected": (s.messages_rejected, "messages the twin refused"),
            "inputs_applied": (s.inputs_applied, "monthly input documents applied"),
            "inputs_rejected": (s.inputs_rejected, "monthly input documents refused"),
            "ticks": (s.ticks, "KPI computations"),
            "checkpoints": (s.checkpoints, "checkpoints written"),
            "kpi_points_written": (s.kpi_points_written, "KPI points written to the database"),
            "kpi_write_failures": (s.kpi_write_failures, "failed KPI writes"),
        }
        yield from counter_families("parktwin_twin", counters)
        yield GaugeMetricFamily(
            "parktwin_twin_tick_seconds", "time of the last KPI computation", value=s.last_tick_s
        )
        mark = self._watermark_ms()
        if mark is not None:
            yield GaugeMetricFamily(
                "parktwin_twin_event_lag_seconds",
                "wall clock minus the twin's event-time watermark",
                value=time.time() - mark / 1000,
            )


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text exposition format."""
    return generate_latest(registry)
