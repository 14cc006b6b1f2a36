"""Putting roles together: the only place where one role's service is handed to another's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerts.service import AlertService
from collectors.routing import MessageRouter
from parktwin.config import Settings
from parktwin.influx.writer import PointWriter
from parktwin.park.model import Park
from parktwin.validation import Limits
from reports.inputs import describe
from reports.service import ReportService
from twin.service.service import TwinService
from whatif.api import WhatIfRoutes
from whatif.examples import example_paths


def twin_service(park: Park, settings: Settings, writer: PointWriter | None = None) -> TwinService:
    """The park's twin, decoding messages as the collectors do: native and mapped devices
    (the park file's ``mappings:``), so that both take in exactly the same readings."""
    decoder = MessageRouter(park, Limits.from_settings(settings.collector))
    return TwinService(park, settings, writer, decoder=decoder)


def attach_alerts(twin: TwinService) -> AlertService:
    """The park's alert service, listening to the twin's snapshots and shown on its view.

    Raises ValueError when a rule names a place, building or device the park lacks.
    """
    alerts = AlertService(twin.park, twin.settings, twin.intake.publish_nowait)
    twin.add_listener(alerts)
    twin.show_alerts(alerts.active_alerts)
    return alerts


def attach_reports(twin: TwinService, alerts: AlertService | None) -> ReportService:
    """The park's report service: its routes on the twin's HTTP API, the twin's own monthly
    inputs, its schedules run beside the twin (as a listener), announced through the alerts'
    receivers. The twin knows nothing of reports."""

    def inputs() -> tuple[dict[str, Any], str]:
        monthly = dict(twin.twin.state.monthly)
        return monthly, describe(monthly, "the running twin's monthly inputs")

    reports = ReportService(
        twin.park, twin.settings, inputs, alerts.announce if alerts is not None else None
    )
    twin.add_api_routes(reports.add_routes)
    twin.add_listener(reports)
    return reports


def attach_what_if(twin: TwinService, stored: list[Path] | None = None) -> WhatIfRoutes:
    """``/api/what-if`` on the twin's HTTP API, over the InfluxDB the twin reads its history
    from; stored scenarios are the bundled examples unless others are given. The twin knows
    nothing of what-if."""
    routes = WhatIfRoutes(
        twin.park, twin.settings.influx, stored if stored is not None else example_paths()
    )
    twin.add_api_routes(routes.add_routes)
    return routes


def park_twin(
    park: Park, settings: Settings, writer: PointWriter | None = None, what_if: bool = True
) -> tuple[TwinService, AlertService]:
    """The twin as ``parktwin twin``, ``parktwin run`` and the demo run it: decoding as the
    collectors do, with the alerts, the reports and (when ``what_if``: it needs stored history)
    what-if attached."""
    twin = twin_service(park, settings, writer)
    alerts = attach_alerts(twin)
    attach_reports(twin, alerts)
    if what_if:
        attach_what_if(twin)
    return twin, alerts
