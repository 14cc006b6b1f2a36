"""Occupancy: people present, utilisation per building, energy per occupant, energy used in
empty buildings, and the job–housing balance."""

from __future__ import annotations

from dashboards.boards.common import (
    BUILDING,
    INTERVAL,
    PARK,
    ZONE,
    alert_annotation,
    bars,
    latest,
    park_variables,
    series,
    stat,
)
from dashboards.i18n import Labels
from dashboards.influxql import Select, fn
from dashboards.model import Dashboard, Step, Target


def _per_building(field: str) -> Select:
    return latest("twin_occupancy", {field: field}, ZONE, BUILDING, by=("building",))


def _over_time(field: str) -> Select:
    return Select((fn("mean", field),), "twin_jobs_housing", (PARK,), (INTERVAL,), fill="none")


def build(labels: Labels) -> Dashboard:
    """The occupancy dashboard in one language."""
    balance = {"ratio": "workers_per_resident"}
    utilisation = Select(
        (fn("mean", "utilisation_pct"),),
        "twin_occupancy",
        (PARK, ZONE, BUILDING),
        (INTERVAL, "building"),
        fill="none",
    )
    summary = (
        stat(
            labels("persons_present"),
            latest("twin_jobs_housing", {"persons": "persons_present"}),
            labels("unit.persons"),
            w=6,
            h=8,
            decimals=0,
        ),
        stat(
            labels("workers_per_resident"),
            latest("twin_jobs_housing", balance),
            labels("unit.ratio"),
            w=6,
            h=8,
            decimals=2,
        ),
        series(
            labels("workers_and_residents"),
            (
                Target(_over_time("workers_present"), alias=labels("workers_present")),
                Target(_over_time("residents_present"), alias=labels("residents_present")),
            ),
            labels("unit.persons"),
        ),
    )
    busy = (Step("blue"), Step("green", 30), Step("orange", 90), Step("red", 100))
    use = (
        bars(
            labels("utilisation"),
            (Target(_per_building("utilisation_pct"), alias="$tag_building"),),
            "percent",
            w=12,
            h=9,
            min=0,
            max=100,
            steps=busy,
            decimals=0,
        ),
        series(
            labels("utilisation_over_time"),
            (Target(utilisation, alias="$tag_building"),),
            "percent",
            h=9,
        ),
    )
    energy = (
        bars(
            labels("energy_per_occupant"),
            (Target(_per_building("kwh_per_person_hour"), alias="$tag_building"),),
            labels("unit.kwh_per_person_hour"),
            h=9,
            decimals=2,
        ),
        bars(
            labels("empty_energy"),
            (Target(_per_building("empty_electricity_kwh_day"), alias="$tag_building"),),
            "kwatth",
            h=9,
            decimals=0,
        ),
        bars(
            labels("person_hours"),
            (Target(_per_building("person_hours_day"), alias="$tag_building"),),
            labels("unit.hours"),
            h=9,
            decimals=0,
        ),
    )
    return Dashboard(
        uid="parktwin-occupancy",
        title=labels("board.occupancy"),
        rows=(summary, use, energy),
        variables=park_variables(labels),
        annotations=(alert_annotation(labels),),
    )
