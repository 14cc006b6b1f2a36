"""Every text a report shows, in English and Chinese: one table, one lookup.

Keys are the report model's (section, table, column, row and note keys) and, for indicator
names, the twin's own English names. Free text that comes from the park file or from the
twin's "basis" explanations (factor sources) is shown as it is.
"""

from __future__ import annotations

from types import MappingProxyType

LANGUAGES = ("en", "zh")

TABLE = MappingProxyType(
    {
        # the document
        "title.park": ("Park report", "园区运行报告"),
        "title.enterprise": ("Enterprise report", "企业运行报告"),
        "summary": ("Summary", "摘要"),
        "period": ("Period", "报告期"),
        "park": ("Park", "园区"),
        "generated": ("Generated", "生成时间"),
        "source": ("Source of the figures", "数据来源"),
        "contents": ("Contents", "目录"),
        "total": ("Total", "合计"),
        "pass": ("pass", "达标"),
        "fail": ("fail", "未达标"),
        "unknown": ("unknown", "未知"),
        "yes": ("yes", "是"),
        "no": ("no", "否"),
        "heatmap.title": ("Load profile by day and hour", "逐日逐时负荷热力图"),
        "heatmap.hour": ("Hour of day", "时刻"),
        "heatmap.day": ("Day", "日期"),
        "chart.monthly": ("Electricity by month", "逐月用电量"),
        "chart.daily": ("Electricity by day", "逐日用电量"),
        "chart.carriers": ("Energy by carrier", "分品种能耗"),
        "chart.carbon": ("Carbon account", "碳排放核算"),
        # costs
        "costs": ("Costs", "费用"),
        "by_tariff_band": ("Electricity by tariff band", "分时段电量与电费"),
        "tariff_band": ("Tariff band", "时段"),
        "sharp": ("Sharp peak", "尖峰"),
        "peak": ("Peak", "高峰"),
        "flat": ("Flat", "平段"),
        "valley": ("Valley", "低谷"),
        "deep_valley": ("Deep valley", "深谷"),
        "unpriced": ("Before the first tariff", "电价生效前"),
        "cost": ("Cost", "费用"),
        "mean_price": ("Mean price", "平均电价"),
        "demand_15min": ("Peak 15-minute demand", "最大 15 分钟需量"),
        "meter": ("Meter", "计量点"),
        "window_start": ("Window start", "时段起点"),
        "contracted_demand": ("Contracted demand", "合同需量"),
        "of_contract": ("Of contract", "占合同需量"),
        "excess_over_threshold": ("Excess over threshold", "超阈值需量"),
        "cost_by_charge": ("Costs by month", "逐月费用"),
        "energy_yuan": ("Energy", "电度电费"),
        "basic_yuan": ("Basic charge", "基本电费"),
        "gas_yuan": ("Gas", "燃气费"),
        "heat_yuan": ("Heat", "热费"),
        "carbon_yuan": ("Carbon", "碳成本"),
        "green_yuan": ("Green certificates and premiums", "绿证与绿电溢价"),
        "feed_in_revenue": ("Feed-in revenue", "上网电费收入"),
        "total_cost": ("Total cost", "费用合计"),
        "pv_savings_yuan": ("PV savings", "光伏节省"),
        "bill_by_month": ("Electricity bill by month", "逐月电费账单"),
        "basic_share": ("Share of the basic charge", "基本电费分摊比例"),
        "peak_15min_demand": ("Peak 15-minute demand", "最大 15 分钟需量"),
        "alert_cost": ("Cost", "费用"),
        "alert_cost_basis": ("How the cost is known", "费用依据"),
        # sections
        "energy": ("Energy", "能源"),
        "carbon": ("Carbon", "碳排放"),
        "zero_carbon": ("Zero-carbon park (1+5)", "零碳园区“1+5”指标"),
        "green_park": ("Green park (GB/T 36132)", "绿色园区（GB/T 36132）"),
        "per_mu": ("Per-mu evaluation", "亩均效益评价"),
        "alerts": ("Alerts", "告警"),
        "data_quality": ("Data quality", "数据质量"),
        # tables
        "electricity_balance": ("Electricity balance", "电力平衡"),
        "energy_by_carrier": ("Energy by carrier", "分品种能耗"),
        "by_building": ("By building", "分建筑"),
        "by_zone": ("By zone", "分区域"),
        "by_enterprise": ("By enterprise", "分企业"),
        "by_month": ("By month", "分月"),
        "enterprise_energy": ("The enterprise's energy", "企业能耗"),
        "energy_budget": ("Against budget", "预算执行"),
        "peak_demand": ("Peak demand", "最大需量"),
        "carbon_account": ("Carbon account", "碳排放核算"),
        "green_power": ("Green power", "绿色电力"),
        "carbon_by_month": ("Carbon by month", "分月碳排放"),
        "carbon_progress": ("Carbon-neutral progress", "碳中和进展"),
        "factors": ("Factors used", "所用因子"),
        "zero_carbon_indicators": ("Indicators", "指标"),
        "zero_carbon_basis": ("Basis", "核算基础"),
        "green_park_indicators": ("Indicators", "指标"),
        "per_mu_results": ("Enterprises", "企业评价结果"),
        "per_mu_benchmarks": ("Benchmarks and weights", "基准值与权重"),
        "grade_counts": ("Enterprises per class", "各类企业数量"),
        "alerts_fired": ("Alerts of the period", "本期告警"),
        "device_completeness": ("Readings received per device", "设备数据完整率"),
        "replay_ingest": ("Replay of the stored readings", "存储读数回放统计"),
        "twin_points": ("The twin's own KPI points", "孪生体写入的指标点"),
        # columns
        "item": ("Item", "项目"),
        "this_period": ("This period", "本期"),
        "same_period_last_year": ("Same period last year", "去年同期"),
        "change": ("Change", "同比变化"),
        "carrier": ("Carrier", "能源品种"),
        "quantity": ("Quantity", "实物量"),
        "unit": ("Unit", "单位"),
        "place": ("Place", "位置"),
        "month": ("Month", "月份"),
        "rule": ("Rule", "规则"),
        "budget_rule": ("Budget rule", "预算规则"),
        "budget": ("Budget", "预算"),
        "when": ("When", "时间"),
        "value": ("Value", "数值"),
        "co2": ("CO₂", "二氧化碳"),
        "factor": ("Factor", "因子"),
        "indicator": ("Indicator", "指标"),
        "threshold": ("Threshold", "阈值"),
        "comparison": ("Comparison", "比较"),
        "passes": ("Pass", "是否达标"),
        "missing_months": ("Months missing input", "缺数据月份"),
        "basis": ("Basis", "依据"),
        "category": ("Category", "类别"),
        "lead_value": ("Lead value", "引领值"),
        "score": ("Score", "得分"),
        "enterprise": ("Enterprise", "企业"),
        "land_area": ("Land", "用地"),
        "grade": ("Class", "分类"),
        "rank": ("Rank", "排名"),
        "missing": ("Missing", "缺失"),
        "benchmark": ("Benchmark", "基准值"),
        "weight": ("Weight", "权重"),
        "count": ("Count", "数量"),
        "severity": ("Severity", "级别"),
        "fired": ("Fired", "触发时间"),
        "resolved": ("Resolved", "恢复时间"),
        "firing_in_period": ("Firing in period", "本期持续"),
        "device": ("Device", "设备"),
        "kind": ("Kind", "类型"),
        "interval": ("Interval", "上报间隔"),
        "expected_readings": ("Expected readings", "应收读数"),
        "received_readings": ("Received readings", "实收读数"),
        "received_share": ("Received", "完整率"),
        "hours_without_readings": ("Hours without readings", "无数据小时数"),
        "longest_gap": ("Longest gap", "最长中断"),
        "counter_resets": ("Counter resets", "计数器复位"),
        "written_at": ("Written at", "写入时间"),
        "twin_written": ("Written by the twin", "孪生体写入值"),
        # rows: energy
        "grid_import": ("Grid import", "电网购电"),
        "grid_export": ("Grid export", "上网电量"),
        "pv_generation": ("PV generation", "光伏发电"),
        "pv_self_consumption": ("PV self-consumption", "光伏自用"),
        "battery_charge": ("Battery charge", "储能充电"),
        "battery_discharge": ("Battery discharge", "储能放电"),
        "electricity_consumption": ("Electricity consumption", "用电量"),
        "sub_metered": ("Sub-metered", "分项计量"),
        "unmetered": ("Not sub-metered", "未分项计量"),
        "electricity": ("Electricity", "电力"),
        "natural_gas": ("Natural gas", "天然气"),
        "heat": ("Heat", "热力"),
        "diesel": ("Diesel", "柴油"),
        "water": ("Water", "水"),
        "energy_tce": ("Energy", "综合能耗"),
        "co2_location": ("CO₂ (Scope 1 + location Scope 2)", "二氧化碳（范围一+基于位置的范围二）"),
        "peak_hour_demand": ("Peak hourly demand", "最大小时平均需量"),
        "mean_demand": ("Mean demand", "平均需量"),
        "peak_day": ("Highest day", "最高日用电"),
        "change_on_last_year": ("Energy against last year", "综合能耗同比"),
        "budget_used": ("Budget used", "预算使用率"),
        # rows: carbon
        "gas_co2": ("Natural gas combustion", "天然气燃烧"),
        "diesel_co2": ("Diesel combustion", "柴油燃烧"),
        "process_co2": ("Process (stack)", "工艺排放（烟囱）"),
        "scope1": ("Scope 1", "范围一"),
        "scope2_location": ("Scope 2, location-based", "范围二（基于位置）"),
        "scope2_market": ("Scope 2, market-based", "范围二（基于市场）"),
        "zero_carbon_co2": ("Zero-carbon park accounting", "零碳园区核算口径"),
        "sinks": ("Sinks", "碳汇"),
        "offsets": ("Offsets", "碳抵消"),
        "net": ("Net emissions", "净排放"),
        "green_certificates": ("Green certificates", "绿证"),
        "green_direct": ("Direct green power", "绿电直供"),
        "green_applied": ("Green power applied", "计入的绿色电力"),
        "baseline_year": ("Baseline year", "基准年"),
        "baseline_net": ("Baseline net emissions", "基准年净排放"),
        "target_year": ("Target year", "目标年"),
        "path_net": ("Straight-line path this year", "本年直线路径值"),
        "annual_net": ("Annual net emissions (recent)", "近期年化净排放"),
        "progress": ("Progress", "减排进度"),
        "on_track": ("On track", "是否按计划"),
        "trend": ("Trend", "趋势"),
        "projected_year": ("Projected carbon-neutral year", "预计碳中和年份"),
        "grid_factor": ("Grid (location-based)", "电网排放因子（基于位置）"),
        "market_factor": ("Grid residual (market-based)", "剩余电网因子（基于市场）"),
        "fossil_factor": ("Fossil power (zero-carbon accounting)", "化石能源电力因子（零碳核算）"),
        "gas_factor": ("Natural gas", "天然气排放因子"),
        "diesel_factor": ("Diesel", "柴油排放因子"),
        "electricity_calorific": ("Electricity, calorific equivalent", "电力当量值"),
        "electricity_generation": ("Electricity, generation equivalent", "电力等价值"),
        "gas_tce_factor": ("Natural gas to standard coal", "天然气折标系数"),
        "heat_tce_factor": ("Heat to standard coal", "热力折标系数"),
        "diesel_tce_factor": ("Diesel to standard coal", "柴油折标系数"),
        "stack_mode": ("Stack CO₂ counted as", "烟囱二氧化碳计入方式"),
        "net_basis": ("Net emissions", "净排放口径"),
        # rows: zero-carbon and green park (the twin's indicator and category names)
        "carbon per unit of energy": ("Carbon per unit of energy", "单位能耗碳排放"),
        "clean-energy share of consumption": ("Clean-energy share", "清洁能源消费占比"),
        "worst product energy per unit, share of quota grade 2": (
            "Product energy per unit against quota grade 2 (worst)",
            "单位产品能耗占能耗限额二级值比例（最差）",
        ),
        "industrial solid waste utilisation": (
            "Industrial solid waste utilisation",
            "工业固废综合利用率",
        ),
        "waste heat utilisation": ("Waste heat utilisation", "余热余冷余压利用率"),
        "industrial water reuse": ("Industrial water reuse", "工业用水重复利用率"),
        "energy per unit of value added": ("Energy per value added", "单位工业增加值能耗"),
        "non-fossil share of energy": ("Non-fossil share", "非化石能源占比"),
        "renewable electricity share": ("Renewable electricity share", "可再生能源电力占比"),
        "general solid waste utilisation": (
            "General solid waste utilisation",
            "一般固废综合利用率",
        ),
        "waste heat recovery": ("Waste heat recovery", "余热资源回收利用率"),
        "CO2 per unit of value added": ("CO₂ per value added", "单位工业增加值二氧化碳排放"),
        "energy use": ("Energy use", "能源利用"),
        "resource use": ("Resource use", "资源利用"),
        "infrastructure": ("Infrastructure", "基础设施"),
        "industry": ("Industry", "产业"),
        "ecological environment": ("Ecological environment", "生态环境"),
        "operational management": ("Operational management", "运行管理"),
        "at_least": ("at least", "不低于"),
        "at_most": ("at most", "不高于"),
        "year_to_date": ("Year", "年度"),
        "band": ("Size band energy", "规模档位能耗"),
        "clean_energy": ("Clean energy", "清洁能源"),
        "carbon_per_energy": ("Carbon per unit of energy", "单位能耗碳排放"),
        "core_indicator": ("Core indicator (veto)", "核心指标（一票否决）"),
        "green_score": ("Green park score", "绿色园区得分"),
        # rows: per mu
        "permu.tax_per_mu": ("Tax per mu", "亩均税收"),
        "permu.value_added_per_mu": ("Value added per mu", "亩均增加值"),
        "permu.labour_productivity": ("Labour productivity", "全员劳动生产率"),
        "permu.value_added_per_tce": ("Value added per tce", "单位能耗增加值"),
        "permu.value_added_per_t_co2": ("Value added per t CO₂", "单位排放增加值"),
        "permu.rnd_share": ("R&D share of revenue", "研发经费占营收比"),
        "permu.tax_per_kwh": ("Tax per kWh", "单位电耗税收"),
        "permu.co2_per_value_added": ("CO₂ per value added", "单位增加值排放"),
        "permu.small.tax_per_mu": ("Tax per mu (small enterprises)", "亩均税收（规下企业）"),
        "permu.small.tax_per_kwh": ("Tax per kWh (small enterprises)", "单位电耗税收（规下企业）"),
        # rows: data quality
        "readings": ("Readings", "读数"),
        "unknown_device_readings": ("Readings of unknown devices", "未知设备读数"),
        "unknown_quantity_values": ("Values of unknown quantities", "未知量值"),
        "rejected_values": ("Values rejected (out of range)", "被拒数值（超范围）"),
        "duplicate_values": ("Duplicate values", "重复数值"),
        "out_of_order_values": ("Out-of-order values", "乱序数值"),
        "counter_rollovers": ("Counter rollovers", "计数器满量程回零"),
        "counter_dropouts": ("Counter dropouts (came back)", "计数器跳零后恢复"),
        "counter_jitter": ("Counter jitter (small decreases)", "计数器小幅回落"),
        "meter_replacements": ("Meter replacements recorded", "已登记换表"),
        "alerts_count": ("Alerts", "告警次数"),
        "data_completeness": ("Readings received", "数据完整率"),
        # notes
        "note.source": (
            "Figures: the readings stored in InfluxDB from {since} to {until} (local time) "
            "replayed through the twin's own code, as the twin rebuilds itself from history; "
            "{readings} readings fell in the period.",
            "数据来源：InfluxDB 中 {since} 至 {until}（当地时间）存储的读数，经数字孪生自身的"
            "计算代码回放（与孪生体从历史数据重建的方式相同）；本期读数 {readings} 条。",
        ),
        "note.range": (
            "First reading of the period {first}, last {last}.",
            "本期首条读数 {first}，末条读数 {last}。",
        ),
        "note.inputs": ("Monthly inputs: {source}.", "月度填报数据：{source}。"),
        "note.partial": (
            "The period is not complete: readings end at {last}.",
            "报告期尚未结束或数据不完整：读数截至 {last}。",
        ),
        "note.electricity_basis": (
            "Electricity in tce at the {basis} basis, {factor} kgce/kWh.",
            "电力折标采用{basis}口径，{factor} kgce/kWh。",
        ),
        "note.no_last_year": (
            "No stored readings for {period}: no comparison with last year.",
            "{period} 无存储读数，无法同比。",
        ),
        "note.peak_demand": (
            "Demand is the mean of each hour (the hour's energy); the peak within an hour is "
            "higher.",
            "需量按小时平均功率（每小时电量）计算，小时内的瞬时峰值更高。",
        ),
        "note.no_tariffs": (
            "The park file sets no tariffs: no energy by tariff band and no costs.",
            "园区文件未配置电价：无分时段电量与费用。",
        ),
        "note.bands_park": (
            "The main meters' import by tariff band, priced on event time by the twin (as "
            "/api/costs).",
            "总表购电量按时段划分，由孪生体按事件时间计价（与 /api/costs 一致）。",
        ),
        "note.bands_enterprise": (
            "The enterprise's own sub-meters by tariff band, from its own bill.",
            "企业自有分表按时段划分的电量，取自其电费账单。",
        ),
        "note.demand_15min": (
            "Demand: the highest 15-minute mean of the main meters together (fixed quarter "
            "hours); the excess is what lies above the tariff's threshold (105 % of the "
            "contract), charged once more.",
            "需量为总表合计的最大 15 分钟平均功率（固定刻钟）；超出部分为高于阈值（合同需量的 "
            "105%）的需量，加倍收取。",
        ),
        "note.costs_source": (
            "Costs are the twin's own: its cost ledger over the replayed readings, the same "
            "code as /api/costs and the tenant bills (parktwin bill).",
            "费用取自孪生体自身：回放读数后的费用台账，与 /api/costs 及租户账单（parktwin bill）"
            "同一代码。",
        ),
        "note.tariff": (
            "Tariff from {from}: {source}.",
            "电价自 {from} 起：{source}。",
        ),
        "note.tariff_example": (
            "Tariff from {from}: {source} (example prices, not a current official figure).",
            "电价自 {from} 起：{source}（示例价格，非现行官方价格）。",
        ),
        "note.pv_savings": (
            "PV savings (PV used on site at the price of its band) are not in the total, which "
            "already lacks that energy; the feed-in revenue is taken off the total.",
            "光伏节省（自用光伏电量按所在时段电价计）不计入合计（合计已不含该电量）；上网电费收入从合计中扣除。",
        ),
        "note.basic_share": (
            "The basic charge is shared in proportion to sub-metered kWh of the month.",
            "基本电费按当月分表电量比例分摊。",
        ),
        "note.no_targets": (
            "No baseline or target year is set in the park file (twin.targets).",
            "园区文件未设置基准年或目标年（twin.targets）。",
        ),
        "note.assumed": (
            "Assumed or unconfirmed, as the twin marks it: {what}.",
            "假设值或未经确认（沿用孪生体标注）：{what}。",
        ),
        "note.enterprise_carbon": (
            "An enterprise's CO₂ is Scope 1 plus location-based Scope 2 of its own meters; "
            "green power, sinks and offsets are accounted for the park.",
            "企业二氧化碳为其自有计量的范围一与基于位置的范围二；绿电、碳汇与抵消在园区层面核算。",
        ),
        "note.year_to_date": (
            "Year to date up to the period's last reading ({until}).",
            "年初至本期末条读数（{until}）累计。",
        ),
        "note.missing_inputs": (
            "Missing input for: {names}.",
            "缺少填报数据：{names}。",
        ),
        "note.not_assessed": ("Not assessed: {names}.", "未评价：{names}。"),
        "note.green_score": ("Green park score: {score} %.", "绿色园区得分：{score}%。"),
        "note.green_basis": ("Lead values: {basis}.", "引领值依据：{basis}。"),
        "note.per_mu_year": (
            "Evaluation year {year}; electricity at the {basis} basis.",
            "评价年度 {year}；电力按{basis}口径折标。",
        ),
        "note.per_mu_ranked": (
            "{count} of {total} enterprises have a score and a rank.",
            "{total} 家企业中 {count} 家有得分和排名。",
        ),
        "note.no_alerts": ("No alert fired in the period.", "本期无告警。"),
        "note.alerts_source": (
            "From the alerts the twin wrote to InfluxDB (measurement alerts); an alert still "
            "firing at the end counts until the end.",
            "来自孪生体写入 InfluxDB 的告警记录（alerts 表）；期末仍在告警的计至期末。",
        ),
        "note.alert_cost": (
            "Cost of an alert: for a contract demand alert, the excess of the window it warned "
            "of over the contracted demand × the demand price; for a cost budget alert, the "
            "period's cost over the budget.",
            "告警费用：合同需量告警为所预警时段超出合同需量的部分 × 需量电价；费用预算告警为"
            "该周期超出预算的费用。",
        ),
        "note.alert_cost_unknown": (
            "What the other alerts cost is not known.",
            "其他告警造成的费用未知。",
        ),
        "alert_cost.demand_excess": ("excess demand × demand price", "超需量 × 需量电价"),
        "alert_cost.over_budget": ("cost over budget", "超出预算费用"),
        "alert_cost.not_known": ("not known", "未知"),
        "alert_cost.not_kept": (
            "not known (the replay keeps the costs of 62 days)",
            "未知（回放仅保留 62 天的费用）",
        ),
        "note.twin_points": (
            "The twin writes each month's running totals at every tick (twin_balance); its last "
            "point of a month can lack the month's last interval, which the next reading after "
            "the month completes, so the replay may be slightly higher.",
            "孪生体每个周期写入当月累计值（twin_balance）；当月最后一个点可能缺少月末最后一段，"
            "该段由下月首条读数补齐，因此回放值可能略高。",
        ),
        "note.no_twin_points": (
            "The twin wrote no month points for this period (it was not running, or wrote to "
            "another database): the figures rest on the replay alone.",
            "本期无孪生体写入的月度指标点（未运行或写入其他数据库）：数据仅来自回放。",
        ),
        "note.quality_expected": (
            "Expected readings: the time covered divided by each device's reporting interval.",
            "应收读数 = 覆盖时长 / 设备上报间隔。",
        ),
        "note.quality_replay": (
            "Counter resets and the replay's counts come from the readings thinned to the "
            "first and last of each {resolution} s.",
            "计数器复位与回放统计基于每 {resolution} 秒取首末值的抽稀读数。",
        ),
        "note.dead_letters": (
            "Not yet measured: dead letters (refused messages are published on {topic} and "
            "not stored).",
            "尚未计量：死信（被拒消息发布在 {topic}，未存储）。",
        ),
    }
)


def text(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (``en`` or ``zh``), with ``{name}`` values filled in;
    the key itself when the table has no entry (free text from the park file or the twin)."""
    found = TABLE.get(key)
    if found is None:
        return key
    template = found[LANGUAGES.index(lang)]
    return template.format(**values) if values else template
