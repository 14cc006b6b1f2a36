"""docker-compose.yml: Debian's docker-compose (1.29, no engine needed) accepts it with the
example environment, every file it mounts exists, and Grafana gets the provisioned folders."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require_binary

from dashboards.provisioning import CONTAINER_JSON_DIR

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The compose file as docker-compose resolves it, with the demo profile's services."""
    binary = require_binary("docker-compose")
    result = subprocess.run(
        [binary, "--env-file", ".env.example", "--profile", "demo", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


def test_every_service_is_there_and_the_simulator_only_in_the_demo(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"mosquitto", "influxdb", "grafana", "parktwin", "simulator"}
    assert config["services"]["simulator"]["profiles"] == ["demo"]
    with (ROOT / "docker-compose.yml").open() as file:
        assert "profiles" not in yaml.safe_load(file)["services"]["parktwin"]


def test_every_long_running_service_has_a_health_check(config: dict[str, Any]) -> None:
    for name in ("mosquitto", "influxdb", "grafana", "parktwin"):
        assert config["services"][name]["healthcheck"]["test"], name


def test_every_mounted_file_exists_and_volumes_are_named(config: dict[str, Any]) -> None:
    mounted = []
    for service in config["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("/"):
                assert Path(source).exists(), source
                mounted.append(Path(source))
            else:
                assert source in config["volumes"], source
    assert ROOT / "deploy/mosquitto" in mounted
    for needed in ("mosquitto.conf", "acl", "entrypoint.sh"):
        assert (ROOT / "deploy/mosquitto" / needed).is_file()


def test_grafana_loads_the_provisioning_and_dashboard_folders(config: dict[str, Any]) -> None:
    grafana = config["services"]["grafana"]
    targets = {v.split(":")[1]: Path(v.split(":")[0]) for v in grafana["volumes"]}
    assert targets["/etc/grafana/provisioning"] == ROOT / "dashboards/provisioning"
    assert targets[CONTAINER_JSON_DIR] == ROOT / "dashboards/json"
    providers = yaml.safe_load(
        (ROOT / "dashboards/provisioning/dashboards/parktwin.yaml").read_text()
    )
    for provider in providers["providers"]:
        inside = Path(provider["options"]["path"]).relative_to(CONTAINER_JSON_DIR)
        assert list((ROOT / "dashboards/json" / inside).glob("*.json"))
    assert {"INFLUX_URL", "INFLUX_BUCKET", "INFLUX_TOKEN"} <= set(grafana["environment"])


def test_parktwin_runs_against_influxdb_2_with_its_api_open_in_the_container(
    config: dict[str, Any],
) -> None:
    environment = config["services"]["parktwin"]["environment"]
    assert environment["PARKTWIN_INFLUX__API"] == "v2"
    assert environment["PARKTWIN_API__HOST"] == "0.0.0.0"
    influx = config["services"]["influxdb"]["environment"]
    assert influx["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"] == environment["PARKTWIN_INFLUX__TOKEN"]
    assert influx["DOCKER_INFLUXDB_INIT_BUCKET"] == environment["PARKTWIN_INFLUX__BUCKET"]
    assert influx["DOCKER_INFLUXDB_INIT_RETENTION"] == "0"
