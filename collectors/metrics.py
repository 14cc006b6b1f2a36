"""A collector's Prometheus metrics, read from its counters at each scrape."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from collectors.stats import CollectorStats
from parktwin.metrics import counter_families, publish_families, sequence_families


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
            "sparkplug_rebirths_requested": (
                s.sparkplug_rebirths_requested,
                "Sparkplug rebirth requests sent (data before birth, seq gaps, unknown aliases)",
            ),
            "sparkplug_seq_gaps": (s.sparkplug_seq_gaps, "Sparkplug messages out of sequence"),
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
        yield from publish_families("parktwin_collector", s.mqtt)
        yield from sequence_families("parktwin_collector", s.sequences)
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
