"""Every dashboard is well formed for Grafana: unique uids and panel ids, panels that do not
overlap on the grid, one datasource (the provisioned one), a unit on every panel; and the
committed JSON and provisioning files are what the builder renders now."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.catalogue import dashboard_json, dashboards
from dashboards.datasource import DATASOURCE_UID
from dashboards.export import PACKAGE_DIR, rendered, stale, write
from dashboards.i18n import LANGUAGES, TABLE

MODELS = [dashboard_json(board, lang) for lang, board in dashboards()]
IDS = [m["uid"] for m in MODELS]


def test_uids_are_unique_and_every_board_exists_in_every_language() -> None:
    assert len(IDS) == len(set(IDS)) == 6 * len(LANGUAGES)
    assert all(len(uid) <= 40 for uid in IDS)  # Grafana's limit


def test_every_label_has_both_languages() -> None:
    assert all(len(pair) == len(LANGUAGES) and all(pair) for pair in TABLE.values())


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_panel_ids_are_unique(model: dict[str, Any]) -> None:
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_panels_stay_on_the_grid_and_do_not_overlap(model: dict[str, Any]) -> None:
    boxes = [p["gridPos"] for p in model["panels"]]
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24 and box["h"] > 0
    for a, b in itertools.combinations(boxes, 2):
        apart = (
            a["x"] + a["w"] <= b["x"]
            or b["x"] + b["w"] <= a["x"]
            or a["y"] + a["h"] <= b["y"]
            or b["y"] + b["h"] <= a["y"]
        )
        assert apart, f"{a} overlaps {b}"


def datasource_refs(node: Any) -> list[dict[str, Any]]:
    """Every ``datasource`` reference anywhere in a model (panels, targets, variables...)."""
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [r for v in node.values() for r in datasource_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in datasource_refs(v)]
    return []


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_every_datasource_reference_is_the_provisioned_one(model: dict[str, Any]) -> None:
    refs = datasource_refs(model)
    provisioned = yaml.safe_load(rendered()[Path("provisioning/datasources/parktwin.yaml")])
    [datasource] = provisioned["datasources"]
    assert datasource["uid"] == DATASOURCE_UID
    grafana_builtin = {"type": "grafana", "uid": "-- Grafana --"}  # the built-in annotations
    assert refs and all(
        r in ({"type": "influxdb", "uid": DATASOURCE_UID}, grafana_builtin) for r in refs
    )
    assert sum(r["uid"] == DATASOURCE_UID for r in refs) > len(model["panels"])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_every_panel_has_a_unit_and_a_query(model: dict[str, Any]) -> None:
    for panel in model["panels"]:
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert panel["targets"] and all(t["query"].startswith("SELECT") for t in panel["targets"])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_place_variables_narrow_each_other_and_allow_all(model: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["park"]["query"].startswith("SHOW TAG VALUES")
    if "building" in variables:
        assert "$park" in variables["zone"]["query"] and "$zone" in variables["building"]["query"]
        assert variables["building"]["includeAll"] and variables["building"]["allValue"] == ".*"


def test_the_committed_files_are_what_the_builder_renders() -> None:
    assert stale(PACKAGE_DIR) == [], "run: parktwin dashboards export"


def test_export_writes_every_file_once_then_nothing(tmp_path: Path) -> None:
    first = write(tmp_path)
    assert {p.relative_to(tmp_path) for p in first} == set(rendered())
    assert write(tmp_path) == []
    assert stale(tmp_path) == []
    (tmp_path / "json/en/parktwin-energy.json").write_text("{}")
    assert stale(tmp_path) == [Path("json/en/parktwin-energy.json")]
