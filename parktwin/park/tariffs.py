"""The ``tariffs:`` section of a park file: what the park pays for energy, and when.

Field types are checked here (a negative price, an unknown currency, a malformed time of day);
the checks that span fields (bands that overlap or leave a gap, a month without a season, a band
a schedule names but the version does not price, versions out of order) are in
``tariff_checks``, which the loader runs with the other cross-references so that each names its
own line.

Which rule each figure follows, and its source, is in docs/tariffs.md.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Path = tuple[str | int, ...]
BandName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
MeterId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


def _not_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"a negative price ({value:g}) is not allowed here")
    return value


Price = Annotated[float, AfterValidator(_not_negative)]
"""A price that cannot be negative (energy, capacity, demand, gas, heat, premiums)."""

# ISO 4217 list one: the active alphabetic currency codes (funds and metals left out).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
    """.split()  # noqa: SIM905
)

MINUTES_A_DAY = 24 * 60


class Section(BaseModel):
    """Unknown keys are errors, as in the rest of the park file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def minutes_of(text: str) -> int:
    """``"07:30"`` → 450; ``"24:00"`` → 1440 (the end of the day)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


TimeOfDay = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]


class BandRange(Section):
    """One stretch of a day in one band: ``[from, to)`` in local wall-clock time."""

    from_: TimeOfDay = Field(alias="from")
    to: TimeOfDay
    band: BandName

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def start_min(self) -> int:
        return minutes_of(self.from_)

    @property
    def end_min(self) -> int:
        return minutes_of(self.to)


DayType = Literal["weekday", "weekend", "holiday"]
DAY_TYPES: tuple[DayType, ...] = ("weekday", "weekend", "holiday")


class Season(Section):
    """Months that share one schedule of bands; a day type left out takes the weekday's
    (a holiday without its own, the weekend's when given)."""

    name: str = Field(min_length=1)
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1)
    weekday: list[BandRange] = Field(min_length=1)
    weekend: list[BandRange] | None = None
    holiday: list[BandRange] | None = None
    # Band prices of this season where they differ from the version's (yuan/kWh).
    prices: dict[BandName, Price] = Field(default_factory=dict)

    def ranges(self, day_type: DayType) -> list[BandRange]:
        """The schedule of one kind of day."""
        if day_type == "holiday" and self.holiday is not None:
            return self.holiday
        if day_type in ("holiday", "weekend") and self.weekend is not None:
            return self.weekend
        return self.weekday


class DemandCharge(Section):
    """Basic charge on the month's highest 15-minute mean demand (需量电价), per supply point.

    发改办价格〔2016〕1583号: charged on the contracted demand; when the actual maximum exceeds
    105 % of it, the part above 105 % is charged once more (加一倍收取). 发改价格〔2023〕526号: a
    month with at least 260 kWh per kVA of contracted transformer capacity pays 90 % of the
    demand price. Each supply point (main meter) is measured and charged on its own and the
    charges are added (各路进线分别计算最大需量，累加计收).
    """

    kind: Literal["demand"]
    price_yuan_per_kw_month: Price
    contracted_kw: dict[MeterId, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    excess_threshold_pct: float = Field(default=105.0, ge=100)
    excess_surcharge: float = Field(default=1.0, ge=0)  # 加一倍: the excess pays 1 + 1 times
    # 526号: the discount for high use per kVA; needs the transformer capacity.
    transformer_kva: float | None = Field(default=None, gt=0)
    high_use_kwh_per_kva: float = Field(default=260.0, gt=0)
    high_use_price_pct: float = Field(default=90.0, ge=0, le=100)


class CapacityCharge(Section):
    """Basic charge on transformer capacity (容量电价): capacity × price, every month."""

    kind: Literal["capacity"]
    price_yuan_per_kva_month: Price
    capacity_kva: float = Field(gt=0)


BasicCharge = Annotated[DemandCharge | CapacityCharge, Field(discriminator="kind")]


class TariffVersion(Section):
    """The prices valid from one local date until the next version's."""

    valid_from: date
    source: str = Field(min_length=1)  # the notice (and date) these figures come from
    example: bool = False  # True: illustrative, not a current official figure
    bands: dict[BandName, Price] = Field(min_length=1)  # yuan/kWh
    seasons: list[Season] = Field(min_length=1)
    basic: BasicCharge | None = None
    feed_in_yuan_per_kwh: float = 0.0  # may be negative (spot prices can be)
    gas_yuan_per_m3: Price = 0.0
    heat_yuan_per_gj: Price = 0.0
    green_certificate_yuan: Price = 0.0  # per certificate (1 绿证 = 1,000 kWh)
    green_power_premium_yuan_per_kwh: Price = 0.0  # on directly contracted green power
    carbon_yuan_per_t: Price = 0.0  # 0: no carbon cost

    def season_of(self, month: int) -> Season:
        """The season holding a month (``tariff_errors`` guarantees exactly one)."""
        for season in self.seasons:
            if month in season.months:
                return season
        raise LookupError(f"month {month} has no season")

    def price(self, season: Season, band: str) -> float:
        """A band's price in a season (yuan/kWh)."""
        return season.prices.get(band, self.bands[band])


class TariffCalendar(Section):
    """The park's public holidays and make-up workdays (调休): day types for the bands.

    A make-up workday counts as a weekday even on a Saturday or Sunday.
    """

    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)

    def day_type(self, day: date, holidays: frozenset[date], workdays: frozenset[date]) -> DayType:
        if day in holidays:
            return "holiday"
        if day in workdays:
            return "weekday"
        return "weekend" if day.weekday() >= 5 else "weekday"


class MeterTariff(Section):
    """A meter on a tariff of its own: usually a supply point's main meter on another voltage
    level's prices. Its import (or consumption) is priced, and its basic charge made, by these
    versions instead of the park's."""

    versions: list[TariffVersion] = Field(min_length=1)


class Tariffs(Section):
    """The ``tariffs:`` section: the park's tariff (every meter, and every tenant bill), and
    optionally meters on tariffs of their own."""

    currency: str = "CNY"
    calendar: TariffCalendar = Field(default_factory=TariffCalendar)
    versions: list[TariffVersion] = Field(min_length=1)
    meters: dict[MeterId, MeterTariff] = Field(default_factory=dict)
    # How a tenant's share of the park's basic charge is found (docs/tariffs.md).
    demand_share: Literal["energy"] = "energy"
    # False: the park makes its heat itself (from metered gas) and resells it to tenants, so heat
    # is billed to them but is no cost of the park's own.
    heat_purchased: bool = True

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in ISO_4217:
            raise ValueError(f"unknown currency {value!r} (expected an ISO 4217 code, e.g. CNY)")
        return value

    def band_names(self) -> list[str]:
        """Every band any version prices, in order of first appearance."""
        names: list[str] = []
        for version in self.all_versions():
            names.extend(b for b in version.bands if b not in names)
        return names

    def all_versions(self) -> list[TariffVersion]:
        """The park's versions, then each meter tariff's."""
        return [*self.versions, *(v for m in self.meters.values() for v in m.versions)]
