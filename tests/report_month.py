"""A fixed replay for report tests: a small park's November 2026 (and a flat November 2025),
every reading at a quarter hour, with figures that are easy to work out by hand.

Per quarter hour: grid import 20 kWh before 08:00, 40 until 20:00, 25 after; PV 10 kWh from
10:00 to 14:00; plant sub-meter 30 kWh from 08:00 to 20:00, else 10; flats 5; gas 2 m³;
occupancy 100 from 08:00 to 18:00. So a day imports 2,960 kWh, makes 160 kWh of PV and uses
3,120 kWh; November (30 days) uses 93,600 kWh and 5,760 m³ of gas. The people counter is silent
on 10 November; the flats meter is replaced on 20 November (counting on from 5 kWh). One alert
fires on 3 November 10:00 and is resolved at 12:30 (a contract demand and a cost budget alert
too). A two-band tariff prices it. November 2025 imports 10 kWh a quarter hour.
The twin's own KPI points of its last November tick (30 November 23:45) are stored too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from collectors.tagging import render, series_keys
from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from twin.service.kpi_lines import KpiLines
from twin.state.summary import kpi_summary
from twin.state.twin import Twin

TZ = ZoneInfo("Asia/Shanghai")
QUARTER = timedelta(minutes=15)

REPORT_PARK = """
park:
  id: {park_id}
  name: Test park
  timezone: Asia/Shanghai
  location: {{latitude: 30.5, longitude: 120.1}}
zones:
  - {{id: prod, name: Production, type: production}}
  - {{id: home, name: Housing, type: talent_housing}}
buildings:
  - {{id: plant-1, name: Plant 1, zone: prod, use: factory, floor_area_m2: 5000,
     occupant_capacity: 200, shifts: 2}}
  - {{id: flats, name: Flats, zone: home, use: residential, floor_area_m2: 3000,
     occupant_capacity: 150}}
enterprises:
  - {{id: acme, name: ACME 机械, industry: machinery, land_area_mu: 30, buildings: [plant-1]}}
  - {{id: beta, name: Beta, industry: services, land_area_mu: 10, buildings: [flats]}}
devices:
  - {{id: main, kind: grid_main_meter, zone: prod, interval_s: 900}}
  - {{id: m-plant, kind: sub_meter, building: plant-1, enterprise: acme, interval_s: 900}}
  - {{id: m-flats, kind: sub_meter, building: flats, enterprise: beta, interval_s: 900}}
  - {{id: pv-1, kind: pv_inverter, building: plant-1, capacity_kwp: 300, interval_s: 900}}
  - {{id: gas-1, kind: gas_meter, building: plant-1, enterprise: acme, interval_s: 900}}
  - {{id: occ-1, kind: occupancy_counter, building: plant-1, interval_s: 900}}
alerts:
  rules:
    - {{id: month-budget, kind: budget, place: park, period: month, budget_kwh: 100000}}
    - {{id: day-cost, kind: cost_budget, place: park, period: day, budget_yuan: 2000,
       predict: false}}
    - {{id: contract, kind: contract_demand}}
tariffs:
  currency: CNY
  versions:
    - valid_from: 2025-01-01
      source: "a simple two-band test tariff"
      example: true
      bands: {{peak: 1.0, valley: 0.4}}
      seasons:
        - name: all-year
          months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
          weekday:
            - {{from: "00:00", to: "08:00", band: valley}}
            - {{from: "08:00", to: "20:00", band: peak}}
            - {{from: "20:00", to: "24:00", band: valley}}
      basic: {{kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {{main: 150}}}}
      feed_in_yuan_per_kwh: 0.4
      gas_yuan_per_m3: 3.0
      carbon_yuan_per_t: 100
twin:
  financials:
    acme: {{'2026': {{tax_10k_yuan: 300, value_added_10k_yuan: 2000, revenue_10k_yuan: 9000,
                     rnd_10k_yuan: 100, employees: 120}}}}
    beta: {{'2026': {{tax_10k_yuan: 50, value_added_10k_yuan: 400, revenue_10k_yuan: 1000,
                     rnd_10k_yuan: 10, employees: 40}}}}
"""

DAY_IMPORT_KWH = 2960.0
DAY_PV_KWH = 160.0
NOVEMBER_KWH = 30 * (DAY_IMPORT_KWH + DAY_PV_KWH)  # 93,600
NOVEMBER_IMPORT_KWH = 30 * DAY_IMPORT_KWH  # 88,800
NOVEMBER_GAS_M3 = 30 * 192.0  # 5,760
NOVEMBER_PLANT_KWH = 30 * 4 * (12 * 30 + 12 * 10.0)  # 57,600
NOVEMBER_FLATS_KWH = 30 * 96 * 5.0  # 14,400
LAST_NOVEMBER_KWH = 30 * 96 * 10.0  # 28,800
PEAK_KW = 200.0  # 10:00-14:00: 160 kWh imported + 40 kWh of PV an hour

# The two-band tariff: peak 08:00-20:00 at 1.0 CNY/kWh, valley otherwise at 0.4; demand charge
# 40 CNY/kW·month on a contract of 150 kW (105 % threshold, the excess charged once more).
DAY_PEAK_KWH = 48 * 40.0  # 1,920 imported in the peak band a day
DAY_VALLEY_KWH = 32 * 20 + 16 * 25.0  # 1,040
NOVEMBER_PEAK_KWH = 30 * DAY_PEAK_KWH  # 57,600 → 57,600 CNY
NOVEMBER_VALLEY_KWH = 30 * DAY_VALLEY_KWH  # 31,200 → 12,480 CNY
PEAK_15MIN_KW = 160.0  # 40 kWh a quarter hour from 08:00 to 20:00
# Above 157.5 kW (105 % of 150): 160 kW charged and the 2.5 kW excess once more.
NOVEMBER_BASIC_YUAN = 160 * 40 + 2.5 * 40  # 6,500
NOVEMBER_GAS_YUAN = 30 * 192 * 3.0  # 17,280
# ACME's sub-meter: 30 kWh a quarter hour 08:00-20:00 (peak), 10 otherwise (valley); its gas;
# its share of the basic charge: 57,600 of the 72,000 sub-metered kWh.
ACME_PEAK_KWH, ACME_VALLEY_KWH = 30 * 48 * 30.0, 30 * 48 * 10.0  # 43,200, 14,400
ACME_BASIC_YUAN = NOVEMBER_BASIC_YUAN * 57_600 / 72_000  # 5,200


def report_park(park_id: str) -> Park:
    return parse_park(REPORT_PARK.format(park_id=park_id), "report_park")


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def november(first: datetime | None = None, last: datetime | None = None) -> list[Reading]:
    """Quarter-hourly readings from 31 October to 1 December 2026 00:00 (both included)."""
    t = first or datetime(2026, 10, 31, tzinfo=TZ)
    end = last or datetime(2026, 12, 1, tzinfo=TZ)
    imported = pv = plant = flats = gas = 0.0
    out: list[Reading] = []
    while t <= end:
        ts = _ms(t)
        out.append(Reading("main", ts, {"energy_import_kwh": imported, "energy_export_kwh": 0.0}))
        out.append(Reading("pv-1", ts, {"energy_kwh": pv}))
        out.append(Reading("m-plant", ts, {"energy_kwh": plant}))
        out.append(Reading("m-flats", ts, {"energy_kwh": flats}))
        out.append(Reading("gas-1", ts, {"gas_m3": gas}))
        if t.date() != datetime(2026, 11, 10).date():
            people = 100.0 if 8 <= t.hour < 18 else 0.0
            out.append(Reading("occ-1", ts, {"occupancy_persons": people}))
        # What the next quarter hour adds (the hour it starts in decides).
        hour = t.hour
        imported += 20 if hour < 8 else 40 if hour < 20 else 25
        pv += 10 if 10 <= hour < 14 else 0
        plant += 30 if 8 <= hour < 20 else 10
        gas += 2
        t += QUARTER
        if t == datetime(2026, 11, 20, tzinfo=TZ):
            flats = 5.0  # a new meter, counting from zero: 5 kWh in its first quarter hour
        else:
            flats += 5
    return out


def last_november() -> list[Reading]:
    """November 2025: the main meter only, 10 kWh a quarter hour."""
    t = datetime(2025, 10, 31, tzinfo=TZ)
    imported = 0.0
    out = []
    while t <= datetime(2025, 12, 1, tzinfo=TZ):
        out.append(Reading("main", _ms(t), {"energy_import_kwh": imported}))
        imported += 10
        t += QUARTER
    return out


def alert_lines(park_id: str) -> list[str]:
    fired = _ms(datetime(2026, 11, 3, 10, tzinfo=TZ))
    resolved = _ms(datetime(2026, 11, 3, 12, 30, tzinfo=TZ))
    tags = f"alerts,park={park_id},place=park,rule=demand-limit,severity=critical"
    fields = 'summary="Grid import over 180 kW",value=200,limit=180,kind="demand",fingerprint="f1"'
    # A contract demand alert in the window of 2 November 08:00 (160 kW: 10 kW over the
    # contract) and a day's cost budget alert on 3 November (the day costs more than 2,000).
    demand_at = _ms(datetime(2026, 11, 2, 8, 5, tzinfo=TZ))
    demand_tags = f"alerts,park={park_id},place=park,rule=contract,severity=critical"
    demand_fields = 'summary="demand",value=160,limit=150,kind="contract_demand",fingerprint="f2"'
    budget_at = _ms(datetime(2026, 11, 3, 15, tzinfo=TZ))
    budget_end = _ms(datetime(2026, 11, 4, tzinfo=TZ))
    budget_tags = f"alerts,park={park_id},place=park,rule=day-cost,severity=critical"
    budget_fields = 'summary="cost",value=2001,limit=2000,kind="cost_budget",fingerprint="f3"'
    return [
        f"{tags},state=firing {fields} {fired}",
        f"{tags},state=resolved {fields} {resolved}",
        f"{demand_tags},state=firing {demand_fields} {demand_at}",
        f"{demand_tags},state=resolved {demand_fields} {demand_at + 600_000}",
        f"{budget_tags},state=firing {budget_fields} {budget_at}",
        f"{budget_tags},state=resolved {budget_fields} {budget_end}",
    ]


def twin_lines(park: Park) -> list[str]:
    """The KPI points a live twin writes at its last tick in November (at 30 November 23:45,
    before the 1 December reading): its own code, KpiLines, on its own snapshot."""
    twin = Twin(park)
    end = _ms(datetime(2026, 12, 1, tzinfo=TZ))
    readings = [r for r in november() if r.ts_ms < end]
    day_ms = 86_400_000
    for day in sorted({r.ts_ms // day_ms for r in readings}):  # a day's readings a batch
        twin.ingest([r for r in readings if r.ts_ms // day_ms == day])
    snapshot = twin.snapshot()
    state = snapshot.to_dict()
    state["kpis"] = kpi_summary(park, state)
    return KpiLines(park)(snapshot, state)


def stored_lines(park: Park) -> list[str]:
    """Everything the fixed replay stores, as line protocol (ms precision)."""
    keys = series_keys(park)
    return (
        render(keys, november())
        + render(keys, last_november())
        + alert_lines(park.park.id)
        + twin_lines(park)
    )
