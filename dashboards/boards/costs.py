"""Costs: today's and this month's cost by band and by charge, cost by enterprise, the month's
15-minute demand against the contract, and what PV saves (docs/tariffs.md)."""

from __future__ import annotations

from dashboards.boards.common import (
    PARK,
    alert_annotation,
    bars,
    latest,
    park_variables,
    series,
    stat,
)
from dashboards.i18n import Labels
from dashboards.influxql import Select, equals, fn
from dashboards.model import Dashboard, Panel, Target

# The bands of China's time-of-use tariffs (尖峰, 高峰, 平段, 低谷, 深谷) under the names the park
# file gives them in the demo and in docs/tariffs.md; a park whose bands are named otherwise
# sees its own band fields in twin_cost.
BANDS = ("sharp", "peak", "flat", "valley", "deep_valley")
DAY, MONTH = equals("period", "day"), equals("period", "month")


def _cost(field: str, period: str) -> Select:
    return latest("twin_cost", {field: field}, equals("period", period))


def _by_band(labels: Labels, period: str, title: str) -> Panel:
    fields = {labels(f"band.{band}"): f"{band}_yuan" for band in BANDS}
    return bars(
        title,
        (Target(latest("twin_cost", fields, equals("period", period))),),
        labels("unit.yuan"),
        w=8,
        decimals=0,
    )


def _by_charge(labels: Labels) -> Panel:
    charges = {
        labels("charge.energy"): "energy_yuan",
        labels("charge.basic"): "basic_yuan",
        labels("gas"): "gas_yuan",
        labels("heat"): "heat_yuan",
        labels("charge.carbon"): "carbon_yuan",
        labels("charge.feed_in"): "feed_in_revenue_yuan",
    }
    return bars(
        labels("cost_month_by_charge"),
        (Target(latest("twin_cost", charges, MONTH)),),
        labels("unit.yuan"),
        w=8,
        decimals=0,
    )


def _demand(labels: Labels) -> Panel:
    fields = {
        "max_kw": ("max", "max_kw"),
        "contracted_kw": ("last", "contracted_kw"),
        "projected_kw": ("max", "window_projected_kw"),
    }
    targets = tuple(
        Target(
            Select(
                (fn(function, field, alias),),
                "twin_cost_demand",
                (PARK,),
                ("time($__interval)",),
                fill="none",
            ),
            alias=labels(f"demand.{alias}"),
        )
        for alias, (function, field) in fields.items()
    )
    return series(labels("demand_against_contract"), targets, "kwatt", w=16,
                  description=labels("desc.demand"))  # fmt: skip


def build(labels: Labels) -> Dashboard:
    """The cost dashboard in one language."""
    enterprise_today = latest(
        "twin_cost_place",
        {"total_yuan": "total_yuan"},
        DAY,
        equals("level", "enterprise"),
        by=("enterprise",),
    )
    hourly = Select(
        (fn("max", "energy_yuan", "energy_yuan"),),
        "twin_cost",
        (PARK, equals("period", "hour")),
        ("time(1h)",),
        fill="none",
    )
    yuan = labels("unit.yuan")
    headline = (
        stat(labels("cost_today"), _cost("total_yuan", "day"), yuan, decimals=0),
        stat(labels("cost_month"), _cost("total_yuan", "month"), yuan, decimals=0),
        stat(labels("basic_month"), _cost("basic_yuan", "month"), yuan, decimals=0),
        stat(
            labels("peak_demand_month"),
            latest("twin_cost_demand", {"max_kw": "max_kw"}),
            "kwatt",
            decimals=0,
        ),
        stat(labels("pv_savings_today"), _cost("pv_savings_yuan", "day"), yuan, decimals=0),
        stat(labels("feed_in_today"), _cost("feed_in_revenue_yuan", "day"), yuan, decimals=0),
    )
    return Dashboard(
        uid="parktwin-costs",
        title=labels("board.costs"),
        rows=(
            headline,
            (
                _by_band(labels, "day", labels("cost_today_by_band")),
                _by_band(labels, "month", labels("cost_month_by_band")),
                _by_charge(labels),
            ),
            (
                _demand(labels),
                bars(
                    labels("cost_today_by_enterprise"),
                    (Target(enterprise_today, alias="$tag_enterprise"),),
                    yuan,
                    w=8,
                    decimals=0,
                ),
            ),
            (
                series(
                    labels("hourly_cost"),
                    (Target(hourly, alias=labels("charge.energy")),),
                    yuan,
                    custom={"drawStyle": "bars", "fillOpacity": 60},
                    w=24,
                ),
            ),
        ),
        variables=park_variables(labels, places=False),
        annotations=(alert_annotation(labels),),
        time_from="now-2d",
    )
