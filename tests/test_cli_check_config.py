"""`parktwin check-config` accepts the demo park and names file, path and line of an error."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from programs.cli import app

# A park with one zone and its main meter (six lines): each test adds what it is about.
MINIMAL = (
    "park: {id: p, name: P, timezone: Asia/Shanghai,\n"
    "       location: {latitude: 30, longitude: 120}}\n"
    "zones:\n"
    "  - {id: z, name: Z, type: production}\n"
    "devices:\n"
    "  - {id: main, kind: grid_main_meter, zone: z}\n"
)


def test_the_bundled_demo_park_is_valid_and_summarised() -> None:
    result = CliRunner().invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "enterprises" in result.output
    assert "grid_main_meter" in result.output
    assert "tariff from 2026-01-01 EXAMPLE (CNY)" in result.output


def test_an_invalid_park_file_fails_naming_file_path_and_line(tmp_path: Path) -> None:
    park = tmp_path / "park.yaml"
    park.write_text(MINIMAL + "  - {id: m1, kind: sub_meter, building: nowhere}\n")
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    assert f"{park}:7: devices[1].building: unknown building 'nowhere'" in result.output


def test_an_invalid_settings_file_fails_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "parktwin.toml"
    config.write_text('[mqtt]\nport = "eighty"\n')
    result = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}: mqtt.port:" in result.output


def test_an_alert_rule_naming_an_unknown_place_fails_the_park_file(tmp_path: Path) -> None:
    park = tmp_path / "park.yaml"
    park.write_text(
        MINIMAL + "alerts:\n"
        "  rules:\n"
        '    - {id: peak, kind: demand, place: "building:nowhere", limit_kw: 500}\n'
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    assert f"{park}:9: alerts.rules[0].place: unknown building 'nowhere'" in result.output


def test_a_gap_in_a_tariffs_bands_is_named_with_its_line(tmp_path: Path) -> None:
    park = tmp_path / "park.yaml"
    park.write_text(
        MINIMAL + "tariffs:\n"
        "  versions:\n"
        "    - valid_from: 2026-01-01\n"
        "      source: test\n"
        "      bands: {flat: 0.6, valley: 0.3}\n"
        "      seasons:\n"
        "        - name: all\n"
        "          months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n"
        "          weekday:\n"
        '            - {from: "00:00", to: "08:00", band: valley}\n'
        '            - {from: "09:00", to: "24:00", band: flat}\n'
    )
    result = CliRunner().invoke(app, ["check-config", "--park", str(park)])
    assert result.exit_code == 2
    assert (
        f"{park}:17: tariffs.versions[0].seasons[0].weekday[1].from: "
        "gap: nothing covers 08:00-09:00"
    ) in result.output
