"""Enterprises per mu (亩均论英雄): the ranking by weighted score, with A/B/C/D classes."""

from __future__ import annotations

from dashboards.boards.common import alert_annotation, bars, latest, park_variables
from dashboards.i18n import Labels
from dashboards.model import Dashboard, Panel, Step, Target

CLASS_COLOURS = {"A": "green", "B": "blue", "C": "orange", "D": "red"}
INDICATORS = (
    "tax_per_mu",
    "value_added_per_mu",
    "labour_productivity",
    "value_added_per_tce",
    "value_added_per_t_co2",
    "rnd_share",
)


def _ranking(labels: Labels) -> Panel:
    columns = {
        labels("score"): "score",
        labels("class"): "grade",
        **{labels(name): f"indicators_{name}" for name in INDICATORS},
    }
    classes = {
        "type": "value",
        "options": {
            grade: {"color": colour, "index": i}
            for i, (grade, colour) in enumerate(CLASS_COLOURS.items())
        },
    }
    return Panel(
        "table",
        labels("ranking"),
        (Target(latest("twin_enterprise", columns, by=("enterprise",)), table=True),),
        "none",
        w=24,
        h=12,
        decimals=2,
        description=labels("desc.ranking"),
        options={"showHeader": True, "sortBy": [{"displayName": labels("score"), "desc": True}]},
        overrides=(
            {
                "matcher": {"id": "byName", "options": labels("class")},
                "properties": [
                    {"id": "mappings", "value": [classes]},
                    {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                ],
            },
            {
                "matcher": {"id": "byName", "options": "enterprise"},
                "properties": [{"id": "displayName", "value": labels("enterprise")}],
            },
            {
                "matcher": {"id": "byName", "options": "Time"},
                "properties": [{"id": "custom.hidden", "value": True}],
            },
        ),
    )


def build(labels: Labels) -> Dashboard:
    """The enterprise evaluation dashboard in one language."""
    score = latest("twin_enterprise", {"score": "score"}, by=("enterprise",))
    per_mu = latest(
        "twin_enterprise",
        {"value_added_per_mu": "indicators_value_added_per_mu"},
        by=("enterprise",),
    )
    return Dashboard(
        uid="parktwin-enterprises",
        title=labels("board.enterprises"),
        rows=(
            (_ranking(labels),),
            (
                bars(
                    labels("score_by_enterprise"),
                    (Target(score, alias="$tag_enterprise"),),
                    "none",
                    w=12,
                    h=10,
                    decimals=2,
                    steps=(Step("red"), Step("orange", 80), Step("green", 120)),
                ),
                bars(
                    labels("value_added_per_mu_by_enterprise"),
                    (Target(per_mu, alias="$tag_enterprise"),),
                    labels("unit.10k_yuan_per_mu"),
                    w=12,
                    h=10,
                    decimals=1,
                ),
            ),
        ),
        variables=park_variables(labels, places=False),
        annotations=(alert_annotation(labels),),
        time_from="now-30d",
    )
