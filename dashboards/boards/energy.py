"""Energy: consumption by zone, building and enterprise, hourly use, the daily load profile,
and peak demand against the limit."""

from __future__ import annotations

from dashboards.boards.common import (
    BUILDING,
    PARK,
    ZONE,
    alert_annotation,
    bars,
    kind_power,
    latest,
    park_variables,
    series,
    stat,
    textbox,
)
from dashboards.i18n import Labels
from dashboards.influxql import Column, Select, equals, fn
from dashboards.model import Dashboard, Panel, Step, Target

# Above the demo park's busiest minute (about 31 MW); a real park sets its contracted demand.
DEFAULT_PEAK_LIMIT_KW = 35_000
DEFAULT_TIMEZONE = "Asia/Shanghai"  # the demo park's; set the park's own on the dashboard
LOAD_KINDS = ("grid_main_meter", "pv_inverter", "battery")  # their power sums to the park's load
MINUTE = "time(1m)"


def _place_today(level: str, tag: str, *where: str) -> Select:
    return latest(
        "twin_place",
        {"electricity_kwh": "electricity_kwh"},
        equals("period", "day"),
        equals("level", level),
        *where,
        by=(tag,),
    )


def _grid_demand() -> Select:
    """Grid demand each minute: the main meters' power, summed."""
    return kind_power("grid_main_meter", MINUTE)


def _load_profile(labels: Labels) -> Panel:
    """Hour of day against day: each cell the park's consumption in that local hour.

    The twin tags each hourly total with its local ``hour_of_day``; every hour is one series,
    which Grafana's heatmap takes as one row (time series buckets), days as columns, cut at
    the park's local midnight by ``tz('$tz')``.
    """
    hourly = Select(
        (fn("last", "electricity_consumption_kwh", "kwh"),),
        "twin_balance",
        (PARK, equals("period", "hour")),
        ("time(1d)", "hour_of_day"),
        fill="none",
        tz="$tz",
    )
    return Panel(
        "heatmap",
        labels("load_profile"),
        (Target(hourly, alias="$tag_hour_of_day"),),
        "kwh",
        w=24,
        h=9,
        description=labels("desc.load_profile"),
        options={
            "calculate": False,
            "rowsFrame": {"layout": "auto"},
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "yAxis": {"axisPlacement": "left", "reverse": True},
            "cellGap": 1,
            "tooltip": {"show": True, "yHistogram": False},
            "legend": {"show": True},
        },
    )


def build(labels: Labels) -> Dashboard:
    """The energy dashboard in one language."""
    carriers = {
        labels("electricity"): "tce_electricity_tce",
        labels("gas"): "tce_gas_tce",
        labels("heat"): "tce_heat_tce",
        labels("diesel"): "tce_diesel_tce",
    }
    hourly_zone = Select(
        (fn("max", "electricity_kwh"),),
        "twin_place",
        (PARK, equals("period", "hour"), equals("level", "zone"), ZONE),
        ("time(1h)", "zone"),
        fill="none",
    )
    peak = Select((fn("max", "kw", "peak_kw"),), _grid_demand(), (), ("time($__interval)",))
    limit_line = Select(
        (Column('last("power_kw") * 0 + $peak_limit_kw', "limit_kw"),),
        "electricity",
        (PARK, equals("kind", "grid_main_meter")),
        ("time($__interval)",),
        fill="none",
    )
    peak_share = Select((Column('max("kw") / $peak_limit_kw * 100', "peak_pct"),), _grid_demand())
    places = (
        bars(
            labels("by_zone"),
            (Target(_place_today("zone", "zone", ZONE), alias="$tag_zone"),),
            "kwatth",
            decimals=0,
        ),
        bars(
            labels("by_building"),
            (Target(_place_today("building", "building", ZONE, BUILDING), alias="$tag_building"),),
            "kwatth",
            decimals=0,
        ),
        bars(
            labels("by_enterprise"),
            (Target(_place_today("enterprise", "enterprise"), alias="$tag_enterprise"),),
            "kwatth",
            decimals=0,
        ),
    )
    hourly = (
        series(
            labels("hourly_by_zone"),
            (Target(hourly_zone, alias="$tag_zone"),),
            "kwatth",
            custom={"drawStyle": "bars", "fillOpacity": 60, "stacking": {"mode": "normal"}},
            w=16,
        ),
        bars(
            labels("energy_by_carrier"),
            (Target(latest("twin_balance", carriers, equals("period", "day"))),),
            labels("unit.tce"),
            decimals=2,
        ),
    )
    steps = (Step("green"), Step("orange", 90), Step("red", 100))
    demand = (
        series(
            labels("peak_demand"),
            (Target(peak, alias=labels("peak")), Target(limit_line, alias=labels("limit"))),
            "kwatt",
            w=18,
        ),
        stat(labels("peak_of_limit"), peak_share, "percent", w=6, h=8, steps=steps, decimals=1),
    )
    return Dashboard(
        uid="parktwin-energy",
        title=labels("board.energy"),
        rows=(places, hourly, (_load_profile(labels),), demand),
        variables=(
            *park_variables(labels),
            textbox("peak_limit_kw", labels, DEFAULT_PEAK_LIMIT_KW),
            textbox("tz", labels, DEFAULT_TIMEZONE),
        ),
        annotations=(alert_annotation(labels),),
        time_from="now-7d",
    )
