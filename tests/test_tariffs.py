"""The tariffs section of a park file: bad input is named by line and problem; which band and
price hold at an instant."""

from __future__ import annotations

import pytest
from helpers import SMALL_PARK, local_ms, tariff_park

from parktwin.park.loader import ParkFileError, parse_park
from tariffs.charges import demand_charge
from tariffs.timeline import Timeline

BASE = SMALL_PARK.format(park_id="bad")


# Lines of the tariffs section below, counted after the small park's text.
FIRST = BASE.count("\n") + 1  # "tariffs:"
CURRENCY, BANDS, SEASONS, SECOND_RANGE = FIRST + 1, FIRST + 5, FIRST + 6, FIRST + 11


def problems(tariffs: str) -> list[str]:
    with pytest.raises(ParkFileError) as caught:
        parse_park(BASE + tariffs, "park.yaml")
    return [str(p) for p in caught.value.problems]


def version(days: str, extra: str = "") -> str:
    return f"""tariffs:
  currency: CNY
  versions:
    - valid_from: 2026-01-01
      source: test
      bands: {{peak: 1.0, valley: 0.3}}
      seasons:
        - name: all
          months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
          weekday:
{days}
{extra}"""


def test_overlapping_bands_are_named_with_their_line() -> None:
    found = problems(
        version(
            '            - {from: "00:00", to: "12:00", band: valley}\n'
            '            - {from: "11:00", to: "24:00", band: peak}'
        )
    )
    assert any(f"park.yaml:{SECOND_RANGE}:" in p and "overlap: 11:00" in p for p in found), found


def test_a_gap_between_bands_is_named() -> None:
    found = problems(
        version(
            '            - {from: "00:00", to: "08:00", band: valley}\n'
            '            - {from: "09:00", to: "24:00", band: peak}'
        )
    )
    assert any(
        f"park.yaml:{SECOND_RANGE}:" in p and "gap: nothing covers 08:00-09:00" in p for p in found
    )


def test_a_day_that_stops_before_midnight_is_a_gap() -> None:
    found = problems(version('            - {from: "00:00", to: "20:00", band: valley}'))
    assert any("gap: nothing covers 20:00-24:00" in p for p in found), found


def test_a_month_without_a_season_has_no_tariff() -> None:
    text = version('            - {from: "00:00", to: "24:00", band: valley}').replace(
        "months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]", "months: [1, 2, 3]"
    )
    found = problems(text)
    assert any("months 4, 5, 6, 7, 8, 9, 10, 11, 12 have no season" in p for p in found), found
    assert any(f"park.yaml:{SEASONS}:" in p for p in found), found


def test_a_negative_price_is_refused_where_it_is_not_allowed() -> None:
    text = version('            - {from: "00:00", to: "24:00", band: valley}').replace(
        "valley: 0.3", "valley: -0.3"
    )
    found = problems(text)
    assert any(f"park.yaml:{BANDS}:" in p and "negative price" in p for p in found), found


def test_a_negative_feed_in_price_is_allowed() -> None:
    text = version(
        '            - {from: "00:00", to: "24:00", band: valley}',
        "      feed_in_yuan_per_kwh: -0.05",
    )
    park = parse_park(BASE + text, "park.yaml")
    assert park.tariffs is not None and park.tariffs.versions[0].feed_in_yuan_per_kwh == -0.05


def test_an_unknown_currency_is_named() -> None:
    text = version('            - {from: "00:00", to: "24:00", band: valley}').replace(
        "currency: CNY", "currency: RMB"
    )
    found = problems(text)
    assert any(f"park.yaml:{CURRENCY}:" in p and "unknown currency 'RMB'" in p for p in found), (
        found
    )


def test_a_band_without_a_price_and_a_contract_on_an_unknown_meter_are_named() -> None:
    found = problems(
        version(
            '            - {from: "00:00", to: "24:00", band: shoulder}',
            "      basic: {kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {nope: 10}}",
        )
    )
    assert any("band 'shoulder' has no price" in p for p in found), found
    assert any("'nope' is not a grid_main_meter" in p for p in found), found


def test_the_band_and_price_at_an_instant() -> None:
    park = tariff_park()
    assert park.tariffs is not None
    timeline = Timeline(park.tariffs, park.timezone)
    at = timeline.at(local_ms("2026-10-01T11:30"))
    assert (at.day_type, at.season, at.band, at.energy_yuan_per_kwh) == (
        "holiday", "rest", "deep_valley", 0.15
    )  # fmt: skip
    at = timeline.at(local_ms("2026-11-16T09:00"))  # the revision's first day
    assert (at.band, at.energy_yuan_per_kwh, str(at.valid_from)) == ("peak", 1.25, "2026-11-16")
    before = timeline.at(local_ms("2025-12-31T12:00"))
    assert (before.version, before.band, before.energy_yuan_per_kwh) == (-1, None, 0.0)


def test_the_demand_charge_within_and_beyond_105_percent_of_the_contract() -> None:
    park = tariff_park()
    assert park.tariffs is not None
    rule = park.tariffs.versions[0].basic
    assert rule is not None and rule.kind == "demand"
    # Within 105 %: the contracted 100 kW are charged, 100 x 40.
    assert demand_charge("main", 104, rule).charge_yuan == 4000  # type: ignore[arg-type]
    assert demand_charge("main", 60, rule).charge_yuan == 4000  # type: ignore[arg-type]
    # 120 kW: 120 x 40 + (120 - 105) x 40 = 5,400.
    assert demand_charge("main", 120, rule).charge_yuan == 5400  # type: ignore[arg-type]
    # A month of 260 kWh per kVA or more pays 90 % of the demand price (526号).
    assert demand_charge("main", 120, rule, 0.9).charge_yuan == pytest.approx(4860)  # type: ignore[arg-type]


def test_a_meter_tariff_on_an_unknown_meter_and_a_contract_on_a_meter_priced_elsewhere() -> None:
    own = """  meters:
    {meter}:
      versions:
        - valid_from: 2026-01-01
          source: test
          bands: {{flat: 0.5}}
          seasons:
            - {{name: all, months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
               weekday: [{{from: "00:00", to: "24:00", band: flat}}]}}
"""
    base = version(
        '            - {from: "00:00", to: "24:00", band: valley}',
        "      basic: {kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {main: 10}}",
    )
    found = problems(base.replace("  versions:\n", own.format(meter="ghost") + "  versions:\n"))
    assert any("tariffs.meters.ghost: unknown meter 'ghost'" in p for p in found), found
    found = problems(base.replace("  versions:\n", own.format(meter="main") + "  versions:\n"))
    assert any("'main' is not a grid_main_meter this tariff prices" in p for p in found), found
