"""Pricing's shortcuts give what its general paths give, to the last bit.

The twin prices every tick's readings and reports every current period's cost each tick, so
pricing takes shortcuts for the usual case: intervals that lie in one tariff segment or one
hour, and place sums of which only the band rows a tick changed are added up again. Each test
feeds the shortcut and the general path the same input and asks for identical results (the
tariff is tests/helpers.py's, with its bands, holidays and mid-month revision).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SMALL_PARK, TARIFFS, local_ms, steady
from hypothesis import given, settings
from hypothesis import strategies as st

from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from parktwin.periods import GRANULARITIES
from twin.model.costs import CostLedger, add_costs
from twin.model.topology import Level
from twin.state.cost_report import (
    basic_of_month,
    cost_report,
    kept_basic,
    level_totals,
    period_cost,
    place_costs,
    whole_level_totals,
)
from twin.state.snapshot import plain
from twin.state.twin import Twin

LEVELS = (Level.PARK, Level.ZONE, Level.BUILDING, Level.ENTERPRISE)
MINUTE = 60_000


def many_meters_park(meters: int = 24) -> Park:
    """The small park with the test tariff and ``meters`` more sub-meters over its two
    buildings, so that every place adds up several priced flows."""
    extra = "".join(
        f"  - {{{{id: s{i}, kind: sub_meter, building: {'plant-1' if i % 3 else 'flats'}"
        + (", enterprise: acme" if i % 3 else "")
        + "}}\n"
        for i in range(meters)
    )
    text = SMALL_PARK.replace('"""', "") + extra
    return parse_park(text.format(park_id="many") + TARIFFS.format(carbon=0), "many_meters")


def ledger_pair(twin: Twin) -> tuple[CostLedger, CostLedger]:
    assert twin.cost_plan is not None
    return twin.cost_plan.empty(), twin.cost_plan.empty()


def assert_same_ledgers(a: CostLedger, b: CostLedger) -> None:
    for granularity in GRANULARITIES:
        assert a.amount[granularity].keys() == b.amount[granularity].keys()
        for start, table in a.amount[granularity].items():
            assert np.array_equal(table, b.amount[granularity][start])
            assert np.array_equal(a.yuan[granularity][start], b.yuan[granularity][start])
    assert a.demand.keys() == b.demand.keys()
    for start, table in a.demand.items():
        assert np.array_equal(table, b.demand[start])


# Where a batch's intervals end and how long they are: inside one quarter hour, across quarter
# hours and band changes inside one hour, across hours, local midnight, the revision of
# 2026-11-16 and the end of the month.
ENDS = ["2026-10-13T09:14", "2026-10-13T10:59", "2026-10-13T11:05", "2026-10-14T00:03",
        "2026-11-16T00:01", "2026-11-30T23:59", "2026-12-01T00:20"]  # fmt: skip
SPANS_MIN = [0.5, 1, 4, 14, 30, 61, 180, 1500]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(ENDS), st.sampled_from(SPANS_MIN), st.integers(0, 2**31)),
        min_size=1,
        max_size=6,
    )
)
def test_pricing_with_shortcuts_files_the_general_paths_figures(
    batches: list[tuple[str, float, int]],
) -> None:
    twin = Twin(many_meters_park())
    plan = twin.cost_plan
    assert plan is not None
    fast, general = ledger_pair(twin)
    flows = len(twin.topology.flow_keys)
    for end, span_min, seed in batches:
        rng = np.random.default_rng(seed)
        # Every flow (priced or not), some twice (a device read twice in one batch), each
        # interval ending up to a minute before the batch's end.
        flow = np.concatenate([np.arange(flows), rng.integers(0, flows, 5)]).astype(np.int64)
        t1 = local_ms(end) - rng.integers(0, MINUTE, len(flow))
        t0 = t1 - int(span_min * MINUTE) - rng.integers(0, 3, len(flow)) * (span_min > 1)
        amount = rng.uniform(0, 50, len(flow))
        amount[::7] = 0.0
        add_costs(fast, plan, twin.calendar, flow, t0, t1, amount)
        add_costs(general, plan, twin.calendar, flow, t0, t1, amount, shortcuts=False)
        assert_same_ledgers(fast, general)


def test_a_flow_read_twice_in_one_quarter_hour_is_priced_as_the_general_path_prices_it() -> None:
    twin = Twin(many_meters_park())
    plan = twin.cost_plan
    assert plan is not None
    fast, general = ledger_pair(twin)
    main = twin.topology.flow_keys.index("main|energy_import_kwh")
    flow = np.asarray([main, main, main], dtype=np.int64)
    t1 = np.asarray([local_ms("2026-10-13T09:02") + i * MINUTE for i in range(3)], dtype=np.int64)
    amount = np.asarray([0.1, 0.2, 0.3])
    add_costs(fast, plan, twin.calendar, flow, t1 - MINUTE, t1, amount)
    add_costs(general, plan, twin.calendar, flow, t1 - MINUTE, t1, amount, shortcuts=False)
    assert_same_ledgers(fast, general)
    assert fast.demand[local_ms("2026-10-01T00:00")].sum() == pytest.approx(0.6)


QUANTITY_OF = {"grid_main_meter": "energy_import_kwh", "sub_meter": "energy_kwh",
               "pv_inverter": "energy_kwh", "gas_meter": "gas_m3"}  # fmt: skip


def quantity_of(kind: str) -> str:
    return QUANTITY_OF[kind]


def day_of_readings(start: str, end: str, step_min: int) -> list[list[Reading]]:
    """Every meter of the many-meters park counting steadily, as batches of one reading each."""
    park = many_meters_park()
    counted = [
        (device.id, quantity_of(device.kind), 3 + i % 5)
        for i, device in enumerate(park.devices)
        if device.kind in QUANTITY_OF
    ]
    series = [list(steady(d, q, kw, start, end, step_min)) for d, q, kw in counted]
    return [list(batch) for batch in zip(*series, strict=True)]


def assert_kept_sums_are_whole_sums(twin: Twin) -> None:
    view, plan, costs = twin._cost_view(), twin.cost_plan, twin.state.costs
    assert view is not None and plan is not None and costs is not None
    for granularity in GRANULARITIES:
        for start in costs.amount[granularity]:
            for level in LEVELS:
                kept = level_totals(view, plan, level, granularity, start)
                whole = whole_level_totals(view, plan, level, granularity, start)
                assert np.array_equal(kept.amount, whole.amount)
                assert np.array_equal(kept.yuan, whole.yuan)


def test_place_sums_kept_from_tick_to_tick_are_the_sums_of_the_whole_table() -> None:
    # Across band changes (09:00 peak, 11:00 sharp...), hours and local midnight.
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:50", "2026-10-14T01:10", 5):
        twin.ingest(batch)
        assert_kept_sums_are_whole_sums(twin)
    # Once more after a restart from a checkpoint (periods without a revision yet), and on.
    restored = Twin.restore(twin.park, None, twin.checkpoint())
    assert_kept_sums_are_whole_sums(restored)
    for batch in day_of_readings("2026-10-14T01:15", "2026-10-14T03:00", 15)[1:]:
        restored.ingest(batch)
        assert_kept_sums_are_whole_sums(restored)


def test_kept_place_sums_cannot_be_written() -> None:
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:50", "2026-10-13T09:10", 10):
        twin.ingest(batch)
    view, plan = twin._cost_view(), twin.cost_plan
    assert view is not None and plan is not None
    kept = level_totals(view, plan, Level.BUILDING, GRANULARITIES[0], view.start(GRANULARITIES[0]))
    with pytest.raises(ValueError):
        kept.amount[0, 0, 0] = 1.0


def test_a_reports_basic_charges_made_once_are_each_periods_own() -> None:
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:50", "2026-10-13T12:10", 10):
        twin.ingest(batch)
    view, plan = twin._cost_view(), twin.cost_plan
    assert view is not None and plan is not None
    report = cost_report(view, plan)
    for granularity in GRANULARITIES:
        assert report.periods[granularity.value] == period_cost(view, plan, granularity)
    month = view.start(GRANULARITIES[2])
    assert kept_basic(view, plan, month, {}) == basic_of_month(view, plan, month)


def test_meter_costs_made_on_demand_are_the_json_form_of_the_tables_sums() -> None:
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:50", "2026-10-13T09:10", 10):
        twin.ingest(batch)
    view, plan, costs = twin._cost_view(), twin.cost_plan, twin.state.costs
    assert view is not None and plan is not None and costs is not None
    day = GRANULARITIES[1]
    meters = period_cost(view, plan, day).meters
    amount, yuan = costs.table(day, view.start(day))
    keys = [twin.topology.flow_keys[f] for f in plan.priced_flows.tolist()]
    expected = {
        "keys": keys,
        "amount": amount.sum(axis=0).tolist(),
        "yuan": yuan.sum(axis=0).tolist(),
    }
    assert plain(meters) == expected
    assert (meters.keys, meters.amount, meters.yuan) == tuple(expected.values())


def assert_costs_of_rows_in_use_are_costs_of_every_row(twin: Twin) -> None:
    view, plan, costs = twin._cost_view(), twin.cost_plan, twin.state.costs
    assert view is not None and plan is not None and costs is not None
    for granularity in GRANULARITIES:
        start = view.start(granularity)
        cost = period_cost(view, plan, granularity)
        for level, table in (
            (Level.ZONE, cost.zones),
            (Level.BUILDING, cost.buildings),
            (Level.ENTERPRISE, cost.enterprises),
        ):
            whole = whole_level_totals(view, plan, level, granularity, start)
            assert place_costs(plan, view.topology.places[level].ids, whole) == table
        amount, yuan = costs.table(granularity, start)
        assert np.array_equal(cost.meters.amount, amount.sum(axis=0))
        assert np.array_equal(cost.meters.yuan, yuan.sum(axis=0))


def test_place_and_meter_costs_of_the_rows_in_use_are_those_of_every_band_row() -> None:
    # Two bands in the hour at 08:00, four in the day by noon; the other rows stay zeros.
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:40", "2026-10-13T12:10", 10):
        twin.ingest(batch)
        assert_costs_of_rows_in_use_are_costs_of_every_row(twin)
    restored = Twin.restore(twin.park, None, twin.checkpoint())
    assert_costs_of_rows_in_use_are_costs_of_every_row(restored)
    for batch in day_of_readings("2026-10-13T12:10", "2026-10-13T13:30", 10)[1:]:
        restored.ingest(batch)
        assert_costs_of_rows_in_use_are_costs_of_every_row(restored)


def test_place_sums_are_kept_for_one_period_a_granularity() -> None:
    # Hours pass; the cost ledger keeps 50 of them, the place sums only the latest asked for.
    twin = Twin(many_meters_park())
    for batch in day_of_readings("2026-10-13T07:50", "2026-10-13T12:10", 20):
        twin.ingest(batch)
        twin.snapshot()
    costs = twin.state.costs
    assert costs is not None and len(costs.amount[GRANULARITIES[0]]) >= 4
    for granularity in GRANULARITIES:
        for level in LEVELS:
            kept = [
                p
                for p, sums in costs.sums.items()
                if p[0] is granularity and ("places", level) in sums
            ]
            assert len(kept) == 1
