"""The alert message every receiver gets (docs/alerts.md): what, where, how far over, the
forecast, since when, and a link to the dashboard. Chat formats are rendered from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.engine import AlertEvent
from alerts.fingerprint import idempotency_key
from alerts.lookup import place_name
from parktwin.park.alerts import split_place
from parktwin.park.model import Park

PAYLOAD_VERSION = 1
DASHBOARD_MARGIN_MS = 3_600_000  # the link shows an hour either side of the alert


def local_iso(park: Park, ts_ms: int) -> str:
    """RFC 3339 text of an instant in the park's time zone."""
    return datetime.fromtimestamp(ts_ms / 1000, park.timezone).isoformat(timespec="seconds")


def dashboard_link(template: str | None, park: Park, event: AlertEvent) -> str | None:
    """The dashboard URL for this alert, from the configured template; None without one."""
    if template is None:
        return None
    _, place_id = split_place(event.meta.place)
    return template.format_map(
        {
            "park": park.park.id,
            "place": place_id,
            "rule": event.meta.name,
            "fingerprint": event.fingerprint,
            "from_ms": event.since_ms - DASHBOARD_MARGIN_MS,
            "to_ms": event.at_ms + DASHBOARD_MARGIN_MS,
        }
    )


def alert_payload(park: Park, event: AlertEvent, dashboard_url: str | None) -> dict[str, Any]:
    """The generic JSON body of one firing or resolution."""
    meta, tracked = event.meta, event.tracked
    level, place_id = split_place(meta.place)
    # How far over: the forecast's overrun for a prediction, the value's otherwise.
    compared = tracked.forecast if meta.kind == "budget_forecast" else tracked.value
    over = None if compared is None else compared - tracked.limit
    summary = tracked.summary
    if event.state == "resolved":
        summary = f"Resolved ({event.reason}): {summary}"
    return {
        "version": PAYLOAD_VERSION,
        "idempotency_key": idempotency_key(event.fingerprint, event.since_ms, event.state),
        "fingerprint": event.fingerprint,
        "state": event.state,
        "reason": event.reason or None,
        "severity": meta.severity,
        "rule": meta.name,
        "kind": meta.kind,
        "park": {"id": park.park.id, "name": park.park.name, "timezone": park.park.timezone},
        "place": {"level": level, "id": place_id, "name": place_name(park, meta.place)},
        "summary": summary,
        "value": tracked.value,
        "peak": tracked.peak,
        "limit": tracked.limit,
        "unit": tracked.unit,
        "over_by": over,
        "over_by_pct": over / tracked.limit * 100 if over is not None and tracked.limit else None,
        "forecast": tracked.forecast,
        "period": tracked.scope or None,
        "since_ms": event.since_ms,
        "since": local_iso(park, event.since_ms),
        "at_ms": event.at_ms,
        "at": local_iso(park, event.at_ms),
        "duration_s": (event.at_ms - event.since_ms) / 1000,
        "dashboard_url": dashboard_link(dashboard_url, park, event),
    }
