"""Alerts as InfluxDB points, for Grafana annotations.

Measurement ``alerts``; tags park, rule, severity, place (building, zone or enterprise id, or
``park``), state (firing, resolved); fields summary (string), value, limit, forecast (when there
is one), and kind, level, fingerprint (strings). Stamped with the change's event time, so a
replay writes the same points.
"""

from __future__ import annotations

from typing import Any

from parktwin.influx.lineprotocol import format_fields, line, series_key


def alert_line(payload: dict[str, Any]) -> str:
    """One point from a generic payload (alerts/payload.py)."""
    tags = {
        "park": payload["park"]["id"],
        "rule": payload["rule"],
        "severity": payload["severity"],
        "place": payload["place"]["id"],
        "state": payload["state"],
    }
    fields: dict[str, float | bool | str] = {
        "summary": payload["summary"],
        "value": float(payload["value"]),
        "limit": float(payload["limit"]),
        "kind": payload["kind"],
        "level": payload["place"]["level"],
        "fingerprint": payload["fingerprint"],
    }
    if payload["forecast"] is not None:
        fields["forecast"] = float(payload["forecast"])
    return line(series_key("alerts", tags), format_fields(fields), int(payload["at_ms"]))
