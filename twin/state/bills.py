"""A month's tenant bills from the twin's cost ledger (the arithmetic is ``tariffs.bills``)."""

from __future__ import annotations

from parktwin.periods import Granularity
from tariffs.bills import BillSet, basic_shares, reconcile, tenant_bill
from twin.model.costs import CostPlan
from twin.model.topology import Flow, Level
from twin.state.cost_report import View, basic_of_month, level_totals, park_cost


def month_bills(view: View, plan: CostPlan, month: str) -> BillSet:
    """Every enterprise's bill for ``month`` (``YYYY-MM``) and the invoice's reconciliation."""
    start = view.calendar.parse_label(Granularity.MONTH, month)
    end = view.calendar.shift(Granularity.MONTH, start, 1)
    names = plan.timeline.band_names
    n = len(names)
    e, gas, heat = Flow.ELECTRICITY_KWH, Flow.GAS_M3, Flow.HEAT_GJ
    tenants = level_totals(view, plan, Level.ENTERPRISE, Granularity.MONTH, start)
    park = level_totals(view, plan, Level.PARK, Granularity.MONTH, start)
    enterprises = view.park.enterprises
    tenant_kwh = [float(tenants.amount[:n, i, e].sum()) for i in range(len(enterprises))]
    own_kwh = float(park.amount[:n, 0, e].sum()) - sum(tenant_kwh)
    own_yuan = float(park.yuan[:n, 0, e].sum()) - float(tenants.yuan[:n, :, e].sum())
    shares, own_share = basic_shares(tenant_kwh, own_kwh)
    basic = basic_of_month(view, plan, start)
    currency = plan.timeline.tariffs.currency
    bills = [
        tenant_bill(
            enterprise.id,
            enterprise.name,
            month,
            currency,
            {
                name: (float(tenants.amount[b, i, e]), float(tenants.yuan[b, i, e]))
                for b, name in enumerate(names)
            },
            shares[i],
            basic.charge_yuan,
            (float(tenants.amount[:, i, gas].sum()), float(tenants.yuan[:, i, gas].sum())),
            (float(tenants.amount[:, i, heat].sum()), float(tenants.yuan[:, i, heat].sum())),
        )
        for i, enterprise in enumerate(enterprises)
    ]
    whole = park_cost(view, plan, Granularity.MONTH, start, end)
    reconciliation = reconcile(
        (whole.grid_import_kwh, whole.energy_yuan, whole.basic_yuan),
        bills,
        (own_kwh, own_yuan + basic.charge_yuan * own_share),
        (whole.pv_self_use_kwh, whole.pv_savings_yuan),
    )
    return BillSet(
        month=month,
        currency=currency,
        complete=view.watermark_ms >= end,
        basic_rule="share of the basic charge in proportion to sub-metered kWh",
        bills=bills,
        reconciliation=reconciliation,
    )
