"""Park overview: power now, today's energy against budget, flows, shares, the "1 + 5"
zero-carbon indicators, carbon-neutral progress and active alerts."""

from __future__ import annotations

from dashboards.boards.common import (
    PARK,
    alert_annotation,
    bars,
    gauge,
    kind_power,
    kind_power_now,
    latest,
    park_variables,
    progress_gauge,
    series,
    stat,
    textbox,
)
from dashboards.i18n import Labels
from dashboards.influxql import Column, Select, equals, fn
from dashboards.model import Dashboard, Panel, Step, Target, falling, rising
from parktwin.park.twin import ZeroCarbonThresholds

# A day of the demo park is about 400 MWh; a real park sets its own in the variable.
DEFAULT_DAILY_BUDGET_KWH = 450_000
DAY = equals("period", "day")


def _one_plus_five(labels: Labels) -> tuple[Panel, ...]:
    """The zero-carbon core indicator and the five guiding ones, coloured by their thresholds."""
    limits = ZeroCarbonThresholds()
    # (field prefix in twin_zero_carbon, unit, colour steps, decimals)
    indicators = (
        ("carbon_per_energy", labels("unit.t_co2_per_tce"), falling(limits.small_t_co2_per_tce), 3),
        ("clean_energy_share", "percent", rising(limits.clean_energy_share_min_pct), 1),
        ("product_energy", "percent", falling(100), 1),
        ("solid_waste_utilisation", "percent", rising(limits.solid_waste_utilisation_min_pct), 1),
        ("waste_heat_utilisation", "percent", rising(limits.waste_heat_utilisation_min_pct), 1),
        ("industrial_water_reuse", "percent", rising(limits.industrial_water_reuse_min_pct), 1),
    )
    return tuple(
        stat(
            labels(name),
            latest("twin_zero_carbon", {"value": f"{name}_value"}),
            unit,
            steps=steps,
            decimals=decimals,
            description=labels("desc.one_plus_five"),
        )
        for name, unit, steps, decimals in indicators
    )


def _active_alerts(labels: Labels) -> Panel:
    """Each rule and place whose latest alert state is "firing"."""
    newest = Select(
        (fn("last", "summary", "summary"), Column('"state"', "state"), Column('"severity"', "sev")),
        "alerts",
        (PARK,),
        ("rule", "place"),
    )
    firing = Select(
        (Column('"summary"', "summary"), Column('"sev"', "severity")),
        newest,
        (equals("state", "firing"),),
        ("rule", "place"),
    )
    return Panel(
        "table",
        labels("active_alerts"),
        (Target(firing, table=True),),
        "none",
        w=12,
        h=6,
        description=labels("desc.alerts"),
        no_value=labels("no_alerts"),
        options={"showHeader": True, "sortBy": [{"displayName": "Time", "desc": True}]},
        mappings=(
            {
                "type": "value",
                "options": {
                    "critical": {"color": "red", "index": 0},
                    "warning": {"color": "orange", "index": 1},
                },
            },
        ),
    )


def build(labels: Labels) -> Dashboard:
    """The park overview dashboard in one language."""
    today = {"kwh": "electricity_consumption_kwh"}
    flows = {
        labels("grid_import"): "grid_import_kwh",
        labels("grid_export"): "grid_export_kwh",
        labels("pv_generation"): "pv_generation_kwh",
        labels("pv_self_consumption"): "pv_self_consumption_kwh",
        labels("battery_discharge"): "battery_discharge_kwh",
    }
    budget = Select(
        (Column('last("electricity_consumption_kwh") / $budget_kwh * 100', "budget_used_pct"),),
        "twin_balance",
        (PARK, DAY),
    )
    renewable = Select(
        (
            Column(
                'last("pv_self_consumption_kwh") / last("electricity_consumption_kwh") * 100',
                "renewable_pct",
            ),
        ),
        "twin_balance",
        (PARK, DAY),
    )
    limits = ZeroCarbonThresholds()
    first_row = (
        stat(labels("grid_power_now"), kind_power_now("grid_main_meter"), "kwatt", decimals=0),
        stat(labels("pv_power_now"), kind_power_now("pv_inverter"), "kwatt", decimals=0),
        stat(labels("electricity_today"), latest("twin_balance", today, DAY), "kwatth", decimals=0),
        gauge(
            labels("budget_used"),
            budget,
            "percent",
            min=0,
            max=120,
            steps=(Step("green"), Step("orange", 80), Step("red", 100)),
            description=labels("desc.budget"),
        ),
        stat(
            labels("renewable_share"),
            renewable,
            "percent",
            decimals=1,
            description=labels("desc.renewable_share"),
        ),
        gauge(
            labels("clean_energy_share"),
            latest("twin_zero_carbon", {"value": "clean_energy_share_value"}),
            "percent",
            min=0,
            max=100,
            steps=rising(limits.clean_energy_share_min_pct),
        ),
    )
    flows_row = (
        series(
            labels("power_flows"),
            (
                Target(kind_power("grid_main_meter"), alias=labels("grid")),
                Target(kind_power("pv_inverter"), alias=labels("pv")),
                Target(kind_power("battery"), alias=labels("battery")),
            ),
            "kwatt",
            w=16,
        ),
        bars(
            labels("energy_flows_today"),
            (Target(latest("twin_balance", flows, DAY)),),
            "kwatth",
            decimals=0,
        ),
    )
    progress_row = (
        progress_gauge(labels, h=6),
        stat(
            labels("net_year"),
            latest("twin_carbon", {"net_co2_t": "net_co2_t"}, equals("period", "year")),
            labels("unit.t_co2"),
            w=6,
            h=6,
            decimals=1,
        ),
        _active_alerts(labels),
    )
    return Dashboard(
        uid="parktwin-overview",
        title=labels("board.overview"),
        rows=(first_row, flows_row, _one_plus_five(labels), progress_row),
        variables=(
            *park_variables(labels, places=False),
            textbox("budget_kwh", labels, DEFAULT_DAILY_BUDGET_KWH),
        ),
        annotations=(alert_annotation(labels),),
    )
