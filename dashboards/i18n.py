"""Every label the dashboards show, in English and Chinese: one table, one lookup."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

LANGUAGES = ("en", "zh")

# key: (English, Chinese). Units that Grafana has no id for are "suffix:" units here.
TABLE = MappingProxyType(
    {
        # dashboards
        "board.overview": ("Park overview", "园区总览"),
        "board.energy": ("Energy", "能源"),
        "board.occupancy": ("Occupancy", "人员与空间"),
        "board.carbon": ("Carbon", "碳排放"),
        "board.enterprises": ("Enterprises per mu", "企业亩均评价"),
        "board.costs": ("Energy costs", "能源费用"),
        # variables and annotations
        "var.park": ("Park", "园区"),
        "var.zone": ("Zone", "区域"),
        "var.building": ("Building", "建筑"),
        "var.budget_kwh": ("Daily electricity budget (kWh)", "日用电预算 (kWh)"),
        "var.peak_limit_kw": ("Demand limit (kW)", "需量限值 (kW)"),
        "annotation.alerts": ("Alerts", "告警"),
        # overview
        "grid_power_now": ("Grid power now", "当前电网功率"),
        "pv_power_now": ("PV power now", "当前光伏功率"),
        "electricity_today": ("Electricity today", "今日用电"),
        "budget_used": ("Today against budget", "今日用电占预算"),
        "renewable_share": ("Renewable electricity share today", "今日可再生电力占比"),
        "clean_energy_share": ("Clean-energy share", "清洁能源占比"),
        "power_flows": ("PV, grid and battery power", "光伏、电网与储能功率"),
        "energy_flows_today": ("Energy flows today", "今日能量流"),
        "grid": ("Grid", "电网"),
        "pv": ("PV", "光伏"),
        "battery": ("Battery", "储能"),
        "grid_import": ("Grid import", "电网购电"),
        "grid_export": ("Grid export", "上网电量"),
        "pv_generation": ("PV generation", "光伏发电"),
        "pv_self_consumption": ("PV used on site", "光伏自用"),
        "battery_discharge": ("Battery discharge", "储能放电"),
        "carbon_per_energy": ("Carbon per unit of energy", "单位能耗碳排放"),
        "product_energy": ("Product energy against quota", "产品能耗对标限额"),
        "solid_waste_utilisation": ("Solid-waste utilisation", "固废综合利用率"),
        "waste_heat_utilisation": ("Waste-heat utilisation", "余热利用率"),
        "industrial_water_reuse": ("Industrial water reuse", "工业用水重复利用率"),
        "progress": ("Carbon-neutral progress", "碳中和进展"),
        "net_year": ("Net emissions this year", "本年净排放"),
        "active_alerts": ("Active alerts", "当前告警"),
        "no_alerts": ("No active alerts", "无告警"),
        # energy
        "by_zone": ("Electricity today by zone", "今日各区域用电"),
        "by_building": ("Electricity today by building", "今日各建筑用电"),
        "by_enterprise": ("Electricity today by enterprise", "今日各企业用电"),
        "hourly_by_zone": ("Hourly electricity by zone", "各区域逐时用电"),
        "energy_by_carrier": ("Energy today by carrier", "今日分品种综合能耗"),
        "electricity": ("Electricity", "电力"),
        "gas": ("Natural gas", "天然气"),
        "heat": ("Heat", "热力"),
        "diesel": ("Diesel", "柴油"),
        "load_profile": ("Daily load profile (hour of day by day)", "日负荷曲线 (逐日逐时)"),
        "var.tz": ("Park time zone (IANA)", "园区时区 (IANA)"),
        "peak_demand": ("Peak demand against the limit", "最大需量与限值"),
        "peak": ("Peak", "最大需量"),
        "limit": ("Limit", "限值"),
        "peak_of_limit": ("Peak against the limit", "最大需量占限值"),
        "load": ("Park load", "园区负荷"),
        # occupancy
        "persons_present": ("Persons present", "在园人数"),
        "workers_per_resident": ("Job–housing balance", "职住平衡"),
        "workers_present": ("Workers present", "在岗人数"),
        "residents_present": ("Residents present", "在住人数"),
        "workers_and_residents": ("Workers and residents", "在岗与在住人数"),
        "utilisation": ("Utilisation by building", "各建筑使用率"),
        "utilisation_over_time": ("Utilisation over time", "使用率变化"),
        "energy_per_occupant": ("Electricity per person-hour today", "今日人均每小时用电"),
        "empty_energy": ("Electricity used while empty today", "今日空置时段用电"),
        "person_hours": ("Person-hours today", "今日人时"),
        # carbon
        "scope1": ("Scope 1 this year", "本年范围一排放"),
        "scope2_location": ("Scope 2 this year (location)", "本年范围二排放 (基于位置)"),
        "scope2_market": ("Scope 2 this year (market)", "本年范围二排放 (基于市场)"),
        "sinks": ("Sinks this year", "本年碳汇"),
        "offsets": ("Offsets this year", "本年抵消量"),
        "monthly_carbon": ("Emissions by month", "逐月排放"),
        "scope1_short": ("Scope 1", "范围一"),
        "scope2_short": ("Scope 2 (market)", "范围二 (市场)"),
        "sinks_short": ("Sinks", "碳汇"),
        "offsets_short": ("Offsets", "抵消"),
        "net_short": ("Net", "净排放"),
        "path": ("Net emissions against the path to the target year", "净排放与目标年路径"),
        "annual_net": ("Annual net (last 12 months)", "年化净排放 (近12个月)"),
        "path_net": ("Allowed on the path this year", "路径允许值 (本年)"),
        "baseline_net": ("Baseline", "基准年排放"),
        "target_year": ("Target year", "目标年份"),
        "carbon_per_energy_trend": ("Carbon per unit of energy over time", "单位能耗碳排放变化"),
        # enterprises
        "ranking": ("Per-mu ranking", "亩均效益排名"),
        "enterprise": ("Enterprise", "企业"),
        "score": ("Score", "综合得分"),
        "class": ("Class", "分类"),
        "tax_per_mu": ("Tax per mu", "亩均税收"),
        "value_added_per_mu": ("Value added per mu", "亩均增加值"),
        "labour_productivity": ("Labour productivity", "全员劳动生产率"),
        "value_added_per_tce": ("Value added per tce", "单位能耗增加值"),
        "value_added_per_t_co2": ("Value added per t CO2", "单位碳排放增加值"),
        "rnd_share": ("R&D share", "研发经费占比"),
        "score_by_enterprise": ("Score by enterprise", "各企业综合得分"),
        "value_added_per_mu_by_enterprise": ("Value added per mu", "各企业亩均增加值"),
        # costs
        "cost_today": ("Cost today", "今日费用"),
        "cost_month": ("Cost this month", "本月费用"),
        "basic_month": ("Basic charge this month", "本月基本电费"),
        "peak_demand_month": ("Peak 15-min demand this month", "本月最大需量"),
        "pv_savings_today": ("PV savings today", "今日光伏节省电费"),
        "feed_in_today": ("Feed-in revenue today", "今日上网电费收入"),
        "cost_today_by_band": ("Electricity cost today by band", "今日分时段电费"),
        "cost_month_by_band": ("Electricity cost this month by band", "本月分时段电费"),
        "cost_month_by_charge": ("Cost this month by charge", "本月分项费用"),
        "cost_today_by_enterprise": ("Cost today by enterprise", "今日各企业费用"),
        "demand_against_contract": ("15-minute demand against the contract", "需量与合同最大需量"),
        "hourly_cost": ("Electricity cost per hour", "逐时电费"),
        "band.sharp": ("Sharp peak", "尖峰"),
        "band.peak": ("Peak", "高峰"),
        "band.flat": ("Flat", "平段"),
        "band.valley": ("Valley", "低谷"),
        "band.deep_valley": ("Deep valley", "深谷"),
        "charge.energy": ("Energy", "电度电费"),
        "charge.basic": ("Basic (demand/capacity)", "基本电费"),
        "charge.carbon": ("Carbon", "碳成本"),
        "charge.feed_in": ("Feed-in revenue", "上网收入"),
        "demand.max_kw": ("Month's peak so far", "本月最大需量"),
        "demand.contracted_kw": ("Contracted", "合同最大需量"),
        "demand.projected_kw": ("Window now, projected", "当前15分钟预计需量"),
        # units
        "unit.yuan": ("suffix: yuan", "suffix: 元"),
        "unit.tce": ("suffix: tce", "suffix: 吨标煤"),
        "unit.t_co2": ("suffix: t CO₂", "suffix: 吨CO₂"),
        "unit.t_co2_per_tce": ("suffix: t CO₂/tce", "suffix: 吨CO₂/吨标煤"),
        "unit.persons": ("suffix: persons", "suffix: 人"),
        "unit.kwh_per_person_hour": ("suffix: kWh/person-hour", "suffix: kWh/人·时"),
        "unit.ratio": ("suffix: workers per resident", "suffix: 在岗/在住"),
        "unit.year": ("none", "none"),
        "unit.hours": ("suffix: person-hours", "suffix: 人·时"),
        "unit.10k_yuan_per_mu": ("suffix: 10k yuan/mu", "suffix: 万元/亩"),
        # descriptions
        "desc.renewable_share": (
            "PV used on site over electricity consumed today (green power bought is not in the"
            " day's balance).",
            "今日光伏自用电量占用电量之比 (不含外购绿电)。",
        ),
        "desc.budget": (
            "Today's electricity against the daily budget set in the dashboard variable.",
            "今日用电量与看板变量中日用电预算之比。",
        ),
        "desc.one_plus_five": (
            "Zero-carbon park indicator (发改环资〔2025〕910号); green when it meets the"
            " default threshold.",
            "零碳园区指标 (发改环资〔2025〕910号)；达到默认阈值时为绿色。",
        ),
        "desc.alerts": (
            "Alerts whose latest state is firing (measurement alerts); empty when none exist.",
            "最新状态为触发的告警 (alerts 测量)；无告警时为空。",
        ),
        "desc.load_profile": (
            "Electricity consumed in each local hour (rows) of each day (columns): weekdays,"
            " weekends and holidays side by side.",
            "每日 (列) 各本地小时 (行) 的用电量：工作日、周末与节假日并列对比。",
        ),
        "desc.path": (
            "Net emissions of the last twelve months against the straight line from the"
            " baseline year to neutrality in the target year.",
            "近十二个月净排放与基准年至目标年碳中和直线路径的比较。",
        ),
        "desc.demand": (
            "The month's highest 15-minute mean demand of the main meters so far, the contracted"
            " demand of the tariff, and where the running window is heading.",
            "本月至今主表最大15分钟平均需量、电价中的合同最大需量，以及当前15分钟窗口的预计需量。",
        ),
        "desc.ranking": (
            "亩均论英雄: weighted score and A/B/C/D class of each enterprise this year.",
            "亩均论英雄：各企业本年综合得分与A/B/C/D分类。",
        ),
    }
)


@dataclass(frozen=True)
class Labels:
    """The labels of one language: ``labels("grid")`` is "Grid" or "电网"."""

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"unknown language {self.lang!r}; expected one of {LANGUAGES}")

    def __call__(self, key: str) -> str:
        return TABLE[key][LANGUAGES.index(self.lang)]
