"""What the dashboards share: filters, template variables, the alert annotation, panel kinds."""

from __future__ import annotations

from typing import Any

from dashboards.i18n import Labels
from dashboards.influxql import Column, Select, equals, fn, regex
from dashboards.model import Annotation, Panel, Step, Target, Variable

PARK = regex("park", "park")
ZONE = regex("zone", "zone")
BUILDING = regex("building", "building")
REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}
INTERVAL = "time($__interval)"


def park_variables(labels: Labels, *, places: bool = True) -> tuple[Variable, ...]:
    """Park, then (optionally) zone and building, each narrowed by the one before."""
    park = Variable(
        "park", labels("var.park"), query='SHOW TAG VALUES FROM "electricity" WITH KEY = "park"'
    )
    if not places:
        return (park,)
    zone = Variable(
        "zone",
        labels("var.zone"),
        query=f'SHOW TAG VALUES FROM "electricity" WITH KEY = "zone" WHERE {PARK}',
        multi=True,
        include_all=True,
    )
    building = Variable(
        "building",
        labels("var.building"),
        query=f'SHOW TAG VALUES FROM "electricity" WITH KEY = "building" WHERE {PARK} AND {ZONE}',
        multi=True,
        include_all=True,
    )
    return (park, zone, building)


def textbox(name: str, labels: Labels, default: float | str) -> Variable:
    """A value the operator sets on the dashboard (a budget, a limit, the park's time zone)."""
    text = default if isinstance(default, str) else f"{default:g}"
    return Variable(name, labels(f"var.{name}"), type="textbox", default=text)


def alert_annotation(labels: Labels) -> Annotation:
    """Firing alerts (issue #4's ``alerts`` measurement) on every time series; none: nothing."""
    columns = tuple(Column(f'"{c}"', c) for c in ("summary", "rule", "severity", "place"))
    return Annotation(
        labels("annotation.alerts"),
        Select(columns, "alerts", (PARK, equals("state", "firing"))),
        text_column="summary",
        tags_columns=("rule", "severity", "place"),
    )


def kind_power(kind: str, interval: str = INTERVAL, function: str = "mean") -> Select:
    """Total power of a device kind: each device's mean per bucket, then their sum."""
    per_device = Select(
        (fn(function, "power_kw", "kw"),),
        "electricity",
        (PARK, equals("kind", kind)),
        (interval, "device"),
    )
    return Select((fn("sum", "kw"),), per_device, (), (interval,), fill="none")


def kind_power_now(kind: str) -> Select:
    """The latest total power of a device kind: each device's last reading, summed."""
    per_device = Select(
        (fn("last", "power_kw", "kw"),), "electricity", (PARK, equals("kind", kind)), ("device",)
    )
    return Select((fn("sum", "kw", "power_kw"),), per_device)


def latest(
    measurement: str, fields: dict[str, str], *where: str, by: tuple[str, ...] = ()
) -> Select:
    """The latest value of each field (alias → field) in the time range."""
    columns = tuple(fn("last", field, alias) for alias, field in fields.items())
    return Select(columns, measurement, (PARK, *where), by)


def stat(title: str, query: Select, unit: str, **extra: Any) -> Panel:
    """A single number: the latest value of the query."""
    options = {
        "reduceOptions": REDUCE_LAST,
        "colorMode": "value",
        "graphMode": "none",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    size = {"w": 4, "h": 4} | extra
    return Panel("stat", title, (Target(query),), unit, options=options, **size)


def gauge(title: str, query: Select, unit: str, **extra: Any) -> Panel:
    """A dial against thresholds."""
    options = {"reduceOptions": REDUCE_LAST, "showThresholdMarkers": True}
    size = {"w": 4, "h": 4} | extra
    return Panel("gauge", title, (Target(query),), unit, options=options, **size)


def bars(title: str, targets: tuple[Target, ...], unit: str, **extra: Any) -> Panel:
    """Horizontal bars, one a series or a column (latest values)."""
    options = {
        "reduceOptions": REDUCE_LAST,
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
    }
    size = {"w": 8, "h": 8} | extra
    return Panel("bargauge", title, targets, unit, options=options, **size)


def series(title: str, targets: tuple[Target, ...], unit: str, **extra: Any) -> Panel:
    """Lines over time."""
    options = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "none"},
    }
    custom = {"drawStyle": "line", "lineWidth": 2, "fillOpacity": 10, "spanNulls": True}
    custom |= extra.pop("custom", {})
    size = {"w": 12, "h": 8} | extra
    return Panel("timeseries", title, targets, unit, options=options, custom=custom, **size)


def progress_gauge(labels: Labels, **extra: Any) -> Panel:
    """Carbon-neutral progress: the share of the baseline's net emissions removed."""
    return gauge(
        labels("progress"),
        latest("twin_progress", {"progress_pct": "progress_pct"}),
        "percent",
        min=0,
        max=100,
        steps=(Step("red"), Step("orange", 50), Step("green", 100)),
        description=labels("desc.path"),
        **({"w": 6, "h": 6} | extra),
    )


def threshold_line(steps: tuple[Step, ...]) -> dict[str, Any]:
    """Draw thresholds as dashed lines on a time series."""
    return {"thresholdsStyle": {"mode": "dashed"}} if len(steps) > 1 else {}
