"""Every dashboard in every language, as Grafana JSON: the single source of what is exported
and pushed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dashboards.boards import carbon, costs, energy, enterprises, occupancy, overview
from dashboards.i18n import LANGUAGES, Labels
from dashboards.model import Dashboard

BOARDS: tuple[Callable[[Labels], Dashboard], ...] = (
    overview.build,
    energy.build,
    occupancy.build,
    carbon.build,
    enterprises.build,
    costs.build,
)


def dashboard(build: Callable[[Labels], Dashboard], lang: str) -> Dashboard:
    """One dashboard in one language: Chinese ones get their own uid, both get language tags."""
    board = build(Labels(lang))
    uid = board.uid if lang == "en" else f"{board.uid}-{lang}"
    return replace(board, uid=uid, title=f"parktwin · {board.title}", tags=("parktwin", lang))


def dashboards(languages: tuple[str, ...] = LANGUAGES) -> Iterator[tuple[str, Dashboard]]:
    """(language, dashboard) for every board in each of the languages."""
    for lang in languages:
        for build in BOARDS:
            yield lang, dashboard(build, lang)


def dashboard_json(board: Dashboard, lang: str) -> dict[str, Any]:
    """The JSON model; links stay within the dashboard's own language."""
    data = board.to_json()
    for link in data["links"]:
        link["tags"] = ["parktwin", lang]
    return data
