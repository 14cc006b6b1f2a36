"""Tenant bills (转供电: the park resells grid power behind its own meter, at cost) and how they
add up to the utility's invoice for the main meters.

Each enterprise pays, for the month:
- its own sub-meters' electricity, priced on event time at the park's tariff, band by band;
- a share of the park's basic charge (demand or capacity) in proportion to its sub-metered kWh
  among all sub-metered kWh of the month (tenants and the park's own loads): the shares add up
  to the whole basic charge. (Rule "energy"; the notices found prescribe none: docs/tariffs.md.)
- its gas and heat meters at the gas and heat prices.

The reconciliation states every part of the invoice, the difference included:
invoice = tenants' electricity + the park's own loads − PV used on site + difference, where
the difference is what no sub-meter saw (unmetered use, line and transformer losses, battery
losses) less what PV made on site, priced at the tariff; it is shown, never spread over tenants.
"""

from __future__ import annotations

from dataclasses import dataclass

BandAmounts = dict[str, tuple[float, float]]  # band → (kWh, yuan)


@dataclass(frozen=True, slots=True)
class BillLine:
    """One line of a bill: a band's energy, the demand share, gas or heat."""

    item: str  # "energy:<band>", "basic", "gas", "heat"
    quantity: float
    unit: str
    amount_yuan: float


@dataclass(frozen=True, slots=True)
class TenantBill:
    """An enterprise's bill for one month."""

    enterprise: str
    name: str
    month: str
    currency: str
    electricity_kwh: float
    energy_yuan: float
    basic_share_pct: float
    basic_yuan: float
    gas_m3: float
    gas_yuan: float
    heat_gj: float
    heat_yuan: float
    total_yuan: float
    lines: list[BillLine]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The main meters' invoice and where it went."""

    invoice_import_kwh: float
    invoice_energy_yuan: float
    invoice_basic_yuan: float
    invoice_total_yuan: float
    tenants_kwh: float
    tenants_electricity_yuan: float  # energy and basic shares
    own_loads_kwh: float
    own_loads_yuan: float  # energy and basic share
    pv_self_use_kwh: float
    pv_self_use_yuan: float
    difference_kwh: float
    difference_yuan: float  # invoice - tenants - own loads + PV used on site


@dataclass(frozen=True, slots=True)
class BillSet:
    """Every tenant's bill of a month, and the reconciliation with the invoice."""

    month: str
    currency: str
    complete: bool  # False: the month is not over at the twin's watermark
    basic_rule: str
    bills: list[TenantBill]
    reconciliation: Reconciliation


def tenant_bill(
    enterprise: str,
    name: str,
    month: str,
    currency: str,
    bands: BandAmounts,
    basic_share: float,
    basic_total_yuan: float,
    gas: tuple[float, float],
    heat: tuple[float, float],
) -> TenantBill:
    """One enterprise's bill: ``basic_share`` is its fraction (0-1) of the basic charge."""
    lines = [BillLine(f"energy:{band}", kwh, "kWh", yuan) for band, (kwh, yuan) in bands.items()]
    kwh = sum(k for k, _ in bands.values())
    energy = sum(y for _, y in bands.values())
    basic = basic_total_yuan * basic_share
    lines.append(BillLine("basic", basic_share * 100, "%", basic))
    lines.append(BillLine("gas", gas[0], "m3", gas[1]))
    lines.append(BillLine("heat", heat[0], "GJ", heat[1]))
    return TenantBill(
        enterprise=enterprise,
        name=name,
        month=month,
        currency=currency,
        electricity_kwh=kwh,
        energy_yuan=energy,
        basic_share_pct=basic_share * 100,
        basic_yuan=basic,
        gas_m3=gas[0],
        gas_yuan=gas[1],
        heat_gj=heat[0],
        heat_yuan=heat[1],
        total_yuan=energy + basic + gas[1] + heat[1],
        lines=lines,
    )


def basic_shares(tenant_kwh: list[float], own_kwh: float) -> tuple[list[float], float]:
    """Each tenant's and the park's own share of the basic charge, by sub-metered kWh."""
    total = sum(tenant_kwh) + own_kwh
    if total <= 0:
        return [0.0] * len(tenant_kwh), 1.0  # nothing metered: the park keeps the charge
    return [k / total for k in tenant_kwh], own_kwh / total


def reconcile(
    invoice: tuple[float, float, float],
    bills: list[TenantBill],
    own: tuple[float, float],
    pv_self_use: tuple[float, float],
) -> Reconciliation:
    """``invoice`` is (import kWh, energy yuan, basic yuan); ``own`` the park's own loads
    (kWh, yuan with their basic share); ``pv_self_use`` (kWh, yuan at the tariff)."""
    imported, energy, basic = invoice
    tenants_kwh = sum(b.electricity_kwh for b in bills)
    tenants_yuan = sum(b.energy_yuan + b.basic_yuan for b in bills)
    total = energy + basic
    return Reconciliation(
        invoice_import_kwh=imported,
        invoice_energy_yuan=energy,
        invoice_basic_yuan=basic,
        invoice_total_yuan=total,
        tenants_kwh=tenants_kwh,
        tenants_electricity_yuan=tenants_yuan,
        own_loads_kwh=own[0],
        own_loads_yuan=own[1],
        pv_self_use_kwh=pv_self_use[0],
        pv_self_use_yuan=pv_self_use[1],
        difference_kwh=imported - tenants_kwh - own[0] + pv_self_use[0],
        difference_yuan=total - tenants_yuan - own[1] + pv_self_use[1],
    )
