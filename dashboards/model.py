"""A small builder for Grafana's dashboard JSON model: panels, targets, thresholds, variables,
annotations, and a layout that places panels on the 24-column grid without overlaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dashboards.datasource import DATASOURCE_REF
from dashboards.influxql import Select

Json = dict[str, Any]
GRID_COLUMNS = 24


@dataclass(frozen=True)
class Step:
    """A threshold step: from ``value`` upwards the colour is ``color`` (None: the base)."""

    color: str
    value: float | None = None


def rising(limit: float) -> tuple[Step, ...]:
    """Red below the limit, green from it on: for "at least" indicators."""
    return (Step("red"), Step("green", limit))


def falling(limit: float) -> tuple[Step, ...]:
    """Green below the limit, red from it on: for "at most" indicators."""
    return (Step("green"), Step("red", limit))


@dataclass(frozen=True)
class Target:
    """One InfluxQL query of a panel; ``alias`` names its series in the legend."""

    query: Select
    alias: str | None = None
    table: bool = False  # resultFormat "table" instead of "time_series"

    def to_json(self, ref_id: str) -> Json:
        data: Json = {
            "refId": ref_id,
            "datasource": dict(DATASOURCE_REF),
            "query": str(self.query),
            "rawQuery": True,
            "resultFormat": "table" if self.table else "time_series",
        }
        if self.alias:
            data["alias"] = self.alias
        return data


@dataclass(frozen=True)
class Panel:
    """A visualisation with its queries, unit, thresholds and size (``w`` × ``h`` grid cells)."""

    type: str  # stat, gauge, bargauge, timeseries, table
    title: str
    targets: tuple[Target, ...]
    unit: str
    w: int = 6
    h: int = 5
    description: str = ""
    steps: tuple[Step, ...] = (Step("green"),)
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    options: Json = field(default_factory=dict)
    custom: Json = field(default_factory=dict)  # fieldConfig.defaults.custom
    mappings: tuple[Json, ...] = ()
    overrides: tuple[Json, ...] = ()
    transformations: tuple[Json, ...] = ()
    no_value: str | None = None

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        defaults: Json = {
            "unit": self.unit,
            "color": {"mode": "thresholds" if self.type != "timeseries" else "palette-classic"},
            "thresholds": {
                "mode": "absolute",
                "steps": [{"color": s.color, "value": s.value} for s in self.steps],
            },
            "mappings": list(self.mappings),
            "custom": dict(self.custom),
        }
        for key, value in (("decimals", self.decimals), ("min", self.min), ("max", self.max)):
            if value is not None:
                defaults[key] = value
        if self.no_value is not None:
            defaults["noValue"] = self.no_value
        return {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "gridPos": {"x": x, "y": y, "w": self.w, "h": self.h},
            "datasource": dict(DATASOURCE_REF),
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
            "fieldConfig": {"defaults": defaults, "overrides": list(self.overrides)},
            "options": dict(self.options),
            "transformations": list(self.transformations),
        }


@dataclass(frozen=True)
class Variable:
    """A template variable: ``query`` (InfluxQL ``SHOW TAG VALUES``) or ``textbox``."""

    name: str
    label: str
    type: str = "query"
    query: str = ""
    multi: bool = False
    include_all: bool = False
    default: str | None = None
    description: str = ""

    def to_json(self) -> Json:
        data: Json = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "query": self.query,
            "description": self.description,
            "hide": 0,
            "skipUrlSync": False,
        }
        if self.type == "query":
            data |= {
                "datasource": dict(DATASOURCE_REF),
                "definition": self.query,
                "refresh": 1,  # on dashboard load: new zones and buildings appear by themselves
                "sort": 1,
                "regex": "",
                "multi": self.multi,
                "includeAll": self.include_all,
            }
            if self.include_all:
                # ".*" rather than a list of every value: it also matches points without the tag
                # (the park's main meters have no building), and keeps queries short.
                data["allValue"] = ".*"
                data["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
        elif self.default is not None:
            data["current"] = {"selected": False, "text": self.default, "value": self.default}
            data["query"] = self.default
        return data


@dataclass(frozen=True)
class Annotation:
    """Events drawn on every time series: an InfluxQL query with text and tag columns."""

    name: str
    query: Select
    text_column: str
    tags_columns: tuple[str, ...]
    color: str = "red"

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "datasource": dict(DATASOURCE_REF),
            "enable": True,
            "hide": False,
            "iconColor": self.color,
            "query": str(self.query),
            "textColumn": self.text_column,
            "tagsColumn": ",".join(self.tags_columns),
            "titleColumn": "",
        }


def arrange(rows: Sequence[Sequence[Panel]]) -> list[Json]:
    """Panels row by row, left to right, with ids from 1; a row too wide wraps."""
    placed: list[Json] = []
    x = y = row_height = 0
    for row in rows:
        for panel in row:
            if x + panel.w > GRID_COLUMNS:
                x, y, row_height = 0, y + row_height, 0
            placed.append(panel.to_json(len(placed) + 1, x, y))
            x += panel.w
            row_height = max(row_height, panel.h)
        x, y, row_height = 0, y + row_height, 0
    return placed


@dataclass(frozen=True)
class Dashboard:
    """A whole dashboard, ready for Grafana's API or a provisioning folder."""

    uid: str
    title: str
    rows: tuple[tuple[Panel, ...], ...]
    variables: tuple[Variable, ...]
    annotations: tuple[Annotation, ...] = ()
    tags: tuple[str, ...] = ("parktwin",)
    time_from: str = "now-24h"
    refresh: str = "1m"
    description: str = ""

    def to_json(self) -> Json:
        builtin = {
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "timezone": "browser",
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": 39,
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": "now"},
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": [builtin, *(a.to_json() for a in self.annotations)]},
            "panels": arrange(self.rows),
            "links": [
                {
                    "type": "dashboards",
                    "tags": ["parktwin"],
                    "asDropdown": True,
                    "includeVars": True,
                    "keepTime": True,
                    "title": "parktwin",
                }
            ],
        }

    def panels(self) -> list[Panel]:
        """Every panel, in layout order."""
        return [p for row in self.rows for p in row]
