"""`parktwin check-config` names file, path and line of a mapping's mistake, and
`parktwin try-mapping` shows what a real message would give before anything is deployed."""

from __future__ import annotations

from pathlib import Path

from helpers import DEVICES_DATA, SMALL_PARK
from typer.testing import CliRunner

from programs.cli import app


def park_with(tmp_path: Path, mappings: str) -> Path:
    park = tmp_path / "park.yaml"
    park.write_text(SMALL_PARK.format(park_id="p1") + mappings)
    return park


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_mapping_mistakes_are_reported_with_file_path_and_line(tmp_path: Path) -> None:
    park = park_with(
        tmp_path,
        """
mappings:
  - preset: tasmota
    devices: {plug-1: m-plant, plug-2: nowhere}
  - preset: tasmotta
  - topic: a/+
    identity: {topic_level: 1}
    time: {format: arrival}
    values:
      energy_kwh: {path: $.e, unit: W}
""",
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    out = result.output
    assert f"{park}:{line_of(park, 'plug-2')}: mappings[0].devices.plug-2: unknown device" in out


def test_preset_and_unit_mistakes_are_reported_with_file_path_and_line(tmp_path: Path) -> None:
    park = park_with(
        tmp_path,
        """
mappings:
  - preset: tasmotta
  - topic: a/+
    identity: {topic_level: 1}
    time: {format: arrival}
    values:
      energy_kwh: {path: $.e, unit: W}
""",
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    out = result.output
    assert f"{park}:{line_of(park, 'tasmotta')}: mappings[0].preset: unknown preset" in out
    assert f"{park}:{line_of(park, 'unit: W')}: mappings[1].values.energy_kwh.unit:" in out
    assert "'W' does not convert to kWh" in out


def test_filters_and_paths_are_checked_as_the_file_is_read(tmp_path: Path) -> None:
    park = park_with(
        tmp_path,
        """
mappings:
  - topic: b/+/#/c
    identity: {path: "$.[["}
""",
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    out = result.output
    assert f"{park}:{line_of(park, 'b/+/#/c')}: mappings[0].topic:" in out
    assert f"{park}:{line_of(park, '$.[[')}: mappings[0].identity.path:" in out
    assert "not a JSONPath" in out


def test_preset_checks_name_the_line_too(tmp_path: Path) -> None:
    park = park_with(
        tmp_path,
        """
mappings:
  - preset: neuron
    devices: {meter-1: m-plant}
""",
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    assert f"{park}:{line_of(park, 'preset: neuron')}: mappings[0].values:" in result.output


def test_try_mapping_prints_the_readings_and_what_is_refused() -> None:
    result = CliRunner().invoke(
        app,
        [
            "try-mapping",
            "--park", str(DEVICES_DATA / "park.yaml"),
            "--topic", "/neuron/mqtt",
            "--payload", str(DEVICES_DATA / "neuron" / "values-format.json"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "reading neuron-meter at 2022-04-15T15:06:28.943+08:00 (1650006388943, device):"
        " energy_kwh=123" in result.output
    )
    assert "refused: device_error: power_kw (tag1): error 2014" in result.output


def test_try_mapping_says_why_a_message_gives_nothing() -> None:
    result = CliRunner().invoke(
        app,
        [
            "try-mapping",
            "--park", str(DEVICES_DATA / "park.yaml"),
            "--topic", "zigbee2mqtt/Stopcontact",
            "--payload", str(DEVICES_DATA / "zigbee2mqtt" / "ts0121-no-device-info.json"),
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "refused: missing_identity: $.device.ieeeAddr is not in the message" in result.output
