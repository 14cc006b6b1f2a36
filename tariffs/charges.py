"""The monthly basic charge of a two-part tariff (基本电费): on demand or on capacity.

Rules and sources in docs/tariffs.md. In short, per supply point (main meter):
- demand (需量): the contracted demand is charged while the month's highest 15-minute mean
  demand stays within 105 % of it; above, the actual maximum is charged and the part above
  105 % once more (发改办价格〔2016〕1583号);
- a month with at least 260 kWh per kVA of transformer capacity pays the demand price at 90 %
  (发改价格〔2023〕526号), when the tariff gives the capacity;
- capacity (容量): transformer kVA × price, whatever the demand.
A month under two tariff versions pays each version's charge for the share of the month it is
valid (this project's rule, assumed: the notices say nothing of a revision mid-month).
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.park.tariffs import CapacityCharge, DemandCharge, TariffVersion


@dataclass(frozen=True, slots=True)
class DemandBill:
    """The demand charge of one supply point for one month under one version."""

    meter: str
    max_kw: float
    contracted_kw: float
    threshold_kw: float  # contracted × 105 %
    excess_kw: float  # above the threshold, charged once more
    billed_kw: float  # contracted, or the maximum when above the threshold
    price_yuan_per_kw_month: float  # after the high-use discount
    charge_yuan: float


def demand_charge(
    meter: str, max_kw: float, rule: DemandCharge, price_factor: float = 1.0
) -> DemandBill:
    """One supply point's demand charge for a whole month."""
    contracted = rule.contracted_kw[meter]
    price = rule.price_yuan_per_kw_month * price_factor
    threshold = contracted * rule.excess_threshold_pct / 100
    if max_kw <= threshold:
        return DemandBill(meter, max_kw, contracted, threshold, 0.0, contracted, price,
                          contracted * price)  # fmt: skip
    excess = max_kw - threshold
    charge = max_kw * price + excess * price * rule.excess_surcharge
    return DemandBill(meter, max_kw, contracted, threshold, excess, max_kw, price, charge)


def high_use_factor(rule: DemandCharge, month_import_kwh: float) -> float:
    """1, or the reduced share of the demand price for a month of high use per kVA."""
    if rule.transformer_kva is None:
        return 1.0
    if month_import_kwh / rule.transformer_kva >= rule.high_use_kwh_per_kva:
        return rule.high_use_price_pct / 100
    return 1.0


@dataclass(frozen=True, slots=True)
class BasicCharge:
    """The basic charge of a month (so far: as if the month ended now)."""

    kind: str  # demand, capacity or none
    charge_yuan: float
    demand: list[DemandBill]  # per supply point and version share
    capacity_kva: float | None
    version_shares: list[float]  # the share of the month each version's charge covers


def month_basic_charge(
    versions: list[tuple[TariffVersion, float]],
    max_kw: dict[str, float],
    month_import_kwh: float,
) -> BasicCharge:
    """The basic charge of a month under (version, share of the month) pairs.

    ``max_kw`` is each main meter's highest 15-minute mean demand of the month.
    """
    total, bills, kind, capacity = 0.0, [], "none", None
    for version, share in versions:
        basic = version.basic
        if isinstance(basic, DemandCharge):
            kind = "demand"
            factor = high_use_factor(basic, month_import_kwh)
            for meter in basic.contracted_kw:
                bill = demand_charge(meter, max_kw.get(meter, 0.0), basic, factor)
                bills.append(bill)
                total += bill.charge_yuan * share
        elif isinstance(basic, CapacityCharge):
            kind = "capacity"
            capacity = basic.capacity_kva
            total += basic.capacity_kva * basic.price_yuan_per_kva_month * share
    return BasicCharge(kind, total, bills, capacity, [share for _, share in versions])


def combined(charges: list[BasicCharge]) -> BasicCharge:
    """The basic charges of several tariffs (the park's and meters' own) as one."""
    kinds = sorted({c.kind for c in charges} - {"none"})
    capacities = [c.capacity_kva for c in charges if c.capacity_kva is not None]
    return BasicCharge(
        kind="+".join(kinds) or "none",
        charge_yuan=sum(c.charge_yuan for c in charges),
        demand=[bill for c in charges for bill in c.demand],
        capacity_kva=sum(capacities) if capacities else None,
        version_shares=charges[0].version_shares if charges else [],
    )
