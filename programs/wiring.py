"""Putting roles together: the only place where one role's service is handed to another's."""

from __future__ import annotations

from alerts.service import AlertService
from twin.service.service import TwinService


def attach_alerts(twin: TwinService) -> AlertService:
    """The park's alert service, listening to the twin's snapshots and shown on its view.

    Raises ValueError when a rule names a place, building or device the park lacks.
    """
    alerts = AlertService(twin.park, twin.settings, twin.intake.publish_nowait)
    twin.add_listener(alerts)
    twin.show_alerts(alerts.active_alerts)
    return alerts
