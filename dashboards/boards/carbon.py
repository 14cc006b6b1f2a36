"""Carbon: Scope 1 and 2, sinks and offsets, net emissions and their path to the target year."""

from __future__ import annotations

from dashboards.boards.common import (
    PARK,
    alert_annotation,
    latest,
    park_variables,
    progress_gauge,
    series,
    stat,
    threshold_line,
)
from dashboards.i18n import Labels
from dashboards.influxql import Select, equals, fn
from dashboards.model import Dashboard, Target, falling
from parktwin.park.twin import ZeroCarbonThresholds

YEAR = equals("period", "year")


def _monthly(field: str) -> Select:
    """A month's running total, its last value each day (the month so far)."""
    return Select(
        (fn("last", field),),
        "twin_carbon",
        (PARK, equals("period", "month")),
        ("time(1d)",),
        fill="none",
    )


def _progress(field: str) -> Select:
    return Select((fn("last", field),), "twin_progress", (PARK,), ("time(1d)",), fill="none")


def build(labels: Labels) -> Dashboard:
    """The carbon dashboard in one language."""
    t_co2 = labels("unit.t_co2")
    totals = (
        ("scope1", "scope1_co2_t"),
        ("scope2_location", "scope2_location_co2_t"),
        ("scope2_market", "scope2_market_co2_t"),
        ("sinks", "sinks_co2_t"),
        ("offsets", "offsets_co2_t"),
        ("net_year", "net_co2_t"),
    )
    year = tuple(
        stat(labels(key), latest("twin_carbon", {field: field}, YEAR), t_co2, decimals=1)
        for key, field in totals
    )
    monthly = series(
        labels("monthly_carbon"),
        tuple(
            Target(_monthly(field), alias=labels(key))
            for key, field in (
                ("scope1_short", "scope1_co2_t"),
                ("scope2_short", "scope2_market_co2_t"),
                ("sinks_short", "sinks_co2_t"),
                ("offsets_short", "offsets_co2_t"),
                ("net_short", "net_co2_t"),
            )
        ),
        t_co2,
    )
    path = series(
        labels("path"),
        tuple(
            Target(_progress(field), alias=labels(key))
            for key, field in (
                ("annual_net", "annual_net_co2_t"),
                ("path_net", "path_net_co2_t"),
                ("baseline_net", "baseline_net_co2_t"),
            )
        ),
        t_co2,
        description=labels("desc.path"),
    )
    limit = falling(ZeroCarbonThresholds().small_t_co2_per_tce)
    intensity = Select(
        (fn("last", "carbon_per_energy_value"),),
        "twin_zero_carbon",
        (PARK,),
        ("time($__interval)",),
        fill="none",
    )
    outlook = (
        progress_gauge(labels, h=8),
        stat(
            labels("target_year"),
            latest("twin_progress", {"target_year": "target_year"}),
            labels("unit.year"),
            w=6,
            h=8,
            decimals=0,
        ),
        series(
            labels("carbon_per_energy_trend"),
            (Target(intensity, alias=labels("carbon_per_energy")),),
            labels("unit.t_co2_per_tce"),
            steps=limit,
            custom=threshold_line(limit),
            decimals=3,
        ),
    )
    return Dashboard(
        uid="parktwin-carbon",
        title=labels("board.carbon"),
        rows=(year, (monthly, path), outlook),
        variables=park_variables(labels, places=False),
        annotations=(alert_annotation(labels),),
        time_from="now-30d",
    )
