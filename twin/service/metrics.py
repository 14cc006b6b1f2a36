"""The twin service's Prometheus metrics, read from its counters at each scrape."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from parktwin.metrics import counter_families, publish_families, sequence_families
from twin.model.live import IngestStats


class TwinMetrics(Collector):
    """Metrics of one twin: readings taken in, ticks and their cost, checkpoints, watermark."""

    def __init__(
        self,
        stats: Any,
        watermark_ms: Callable[[], int | None],
        ingest: Callable[[], IngestStats] | None = None,
    ) -> None:
        self._stats = stats  # twin.service.service.TwinStats (not imported: it imports this)
        self._watermark_ms = watermark_ms
        self._ingest = ingest  # the twin's ingest counts of the moment

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
        if self._ingest is not None:
            i = self._ingest()
            counters |= {
                "counter_resets": (
                    i.counter_resets,
                    "counters that restarted low, unexplained (counter_reset events)",
                ),
                "counter_rollovers": (i.counter_rollovers, "counters past their register maximum"),
                "counter_dropouts": (i.counter_dropouts, "counter drops that came back"),
                "counter_jitter": (i.counter_jitter, "counter decreases taken as noise"),
                "meter_replacements": (i.meter_replacements, "meter_replaced inputs counted"),
                "meter_replacements_refused": (
                    s.meter_replacements_refused,
                    "meter_replaced inputs that could not be used",
                ),
            }
        yield from counter_families("parktwin_twin", counters)
        yield from publish_families("parktwin_twin", s.mqtt)
        yield from sequence_families("parktwin_twin", s.sequences)
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
