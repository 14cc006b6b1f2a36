// The twin view: draws the park plan from /api/plan and updates it from /api/events (SSE).
// No build step, no dependencies: plain DOM and SVG.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

const LABELS = {
  en: {
    waiting: "waiting for the twin…", live: "live", lost: "reconnecting…",
    grid_power: "Grid power", pv_power: "PV power", energy_today: "Energy today", cost_today: "Cost today",
    band_now: "now {b}", example_tariff: "example tariff",
    clean_share: "Clean-energy share", carbon_energy: "Carbon per unit of energy",
    persons: "People present", neutral_progress: "Carbon-neutral progress",
    alerts: "Active alerts", no_alerts: "none", buildings: "Buildings", building: "Building",
    power: "Power", today: "Today", people: "People",
    colour_load: "Colour: load", colour_occupancy: "Colour: occupancy", lang: "中文",
    budget: "of {b} budget ({p} %)", no_budget: "no day budget set",
    threshold: "threshold {t}", projected: "projected neutral {y}", target_line: "target line {t} %",
    utilisation: "utilisation", kwh_pph: "kWh per person-hour", pv_today: "PV today",
    capacity: "capacity", load: "load", occupancy: "occupancy", low: "low", high: "high",
    history: "History", stored_in: "readings stored in", nowhere: "nowhere (no database)",
    month_view: "Month", year_view: "Year", used: "electricity used", pv_line: "PV generated",
    trend_line: "trend", trend: "{s} % a {p} over {n} whole {u}",
    no_trend: "a trend needs three whole {u}", day: "day", days: "days", month: "month",
    months: "months", no_history: "no history yet",
  },
  zh: {
    waiting: "等待孪生体…", live: "实时", lost: "重新连接中…",
    grid_power: "电网功率", pv_power: "光伏功率", energy_today: "今日用电", cost_today: "今日电费",
    band_now: "当前{b}时段", example_tariff: "示例电价",
    clean_share: "清洁能源占比", carbon_energy: "单位能耗碳排放",
    persons: "在园人数", neutral_progress: "碳中和进度",
    alerts: "当前告警", no_alerts: "无", buildings: "建筑", building: "建筑",
    power: "功率", today: "今日", people: "人数",
    colour_load: "着色：负荷", colour_occupancy: "着色：占用", lang: "English",
    budget: "预算 {b} 的 {p} %", no_budget: "未设置日预算",
    threshold: "阈值 {t}", projected: "预计 {y} 年实现碳中和", target_line: "目标线 {t} %",
    utilisation: "使用率", kwh_pph: "千瓦时/人·小时", pv_today: "今日光伏",
    capacity: "容量", load: "负荷", occupancy: "占用", low: "低", high: "高",
    history: "历史", stored_in: "数据存储于", nowhere: "未存储（无数据库）",
    month_view: "月", year_view: "年", used: "用电量", pv_line: "光伏发电", trend_line: "趋势",
    trend: "每{p} {s} %（{n} 个完整{u}）", no_trend: "趋势需要三个完整{u}",
    day: "日", days: "日", month: "月", months: "月", no_history: "暂无历史数据",
  },
};

const view = {
  lang: "en", colour: "load", plan: null, last: null, ticks: 0,
  span: "month", trends: null, trendsAt: 0,
};
const TRENDS_EVERY_MS = 10000;  // the days and months change slowly; ask now and then

function t(key, values) {
  let text = LABELS[view.lang][key] || key;
  for (const [name, value] of Object.entries(values || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function fmt(value, digits, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const locale = view.lang === "zh" ? "zh-CN" : "en-GB";
  const text = Number(value).toLocaleString(locale, {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
  return unit ? `${text} ${unit}` : text;
}

function nameOf(item) {
  return view.lang === "zh" && item.name_zh ? item.name_zh : item.name;
}

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- the plan ---------------------------------------------------------------------------------
function drawPlan(plan) {
  const svg = document.getElementById("plan");
  const b = plan.bounds, pad = 20;
  const width = b.max_x - b.min_x + 2 * pad, height = b.max_y - b.min_y + 2 * pad;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  // Park coordinates grow northwards; the screen's y grows downwards.
  const point = ([x, y]) => `${x - b.min_x + pad},${b.max_y - y + pad}`;
  const centre = (outline) => {
    const xs = outline.map((p) => p[0]), ys = outline.map((p) => p[1]);
    return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
  };
  for (const zone of plan.zones) {
    if (!zone.outline) continue;
    svg.append(el("svg:polygon", { class: "zone", points: zone.outline.map(point).join(" ") }));
    const xs = zone.outline.map((p) => p[0]), ys = zone.outline.map((p) => p[1]);
    const label = el("svg:text", { class: "zone-label", "data-zone": zone.id },
      nameOf(zone));
    const [lx, ly] = point([Math.min(...xs) + 6, Math.max(...ys) - 22]).split(",");
    label.setAttribute("x", lx);
    label.setAttribute("y", ly);
    svg.append(label);
  }
  for (const building of plan.buildings) {
    if (!building.outline) continue;
    const shape = el("svg:polygon", {
      class: "building", "data-building": building.id,
      points: building.outline.map(point).join(" "), fill: "hsl(210 10% 40%)",
    });
    shape.addEventListener("mousemove", (event) => showTooltip(event, building.id));
    shape.addEventListener("mouseleave", hideTooltip);
    svg.append(shape);
    const [cx, cy] = point(centre(building.outline)).split(",");
    svg.append(el("svg:text", { class: "building-label", x: cx, y: cy, "data-label": building.id },
      building.id.replace(/^.*?-/, "")));
  }
}

function colourFor(figures) {
  let ratio = null;
  if (view.colour === "load") {
    const max = Math.max(1, ...view.last.buildings.map((f) => f.power_kw || 0));
    if (figures.power_kw !== null) ratio = figures.power_kw / max;
  } else if (figures.utilisation_pct !== null) {
    ratio = Math.min(1, figures.utilisation_pct / 100);
  }
  if (ratio === null) return "hsl(210 10% 40%)";
  return `hsl(${200 - 200 * ratio} 75% ${45 + 8 * ratio}%)`;
}

function buildingById(id) {
  return view.plan.buildings.find((b) => b.id === id);
}

function figuresById(id) {
  return view.last ? view.last.buildings.find((f) => f.id === id) : null;
}

// Text for innerHTML: names come from the park file, but nothing is shown unescaped.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function showTooltip(event, id) {
  const box = document.getElementById("tooltip");
  const building = buildingById(id), f = figuresById(id);
  const lines = [`<b>${escapeHtml(nameOf(building))}</b> <span class="muted">${escapeHtml(id)}</span>`];
  if (f) {
    lines.push(`${t("power")}: ${fmt(f.power_kw, 0, "kW")}`);
    lines.push(`${t("today")}: ${fmt(f.electricity_kwh_day, 0, "kWh")}`);
    if (f.pv_kwh_day) lines.push(`${t("pv_today")}: ${fmt(f.pv_kwh_day, 0, "kWh")}`);
    lines.push(`${t("people")}: ${fmt(f.persons, 0)} / ${fmt(f.capacity, 0)}` +
      ` (${t("utilisation")} ${fmt(f.utilisation_pct, 0, "%")})`);
    lines.push(`${t("kwh_pph")}: ${fmt(f.kwh_per_person_hour, 2)}`);
  }
  box.innerHTML = lines.join("<br>");
  const frame = document.getElementById("plan-box").getBoundingClientRect();
  box.style.left = `${event.clientX - frame.left + 14}px`;
  box.style.top = `${event.clientY - frame.top + 14}px`;
  box.hidden = false;
}

function hideTooltip() {
  document.getElementById("tooltip").hidden = true;
}

// -- figures ----------------------------------------------------------------------------------
function setTile(id, value, note) {
  const tile = document.getElementById(id);
  tile.querySelector(".value").textContent = value;
  const noteEl = tile.querySelector(".note");
  if (noteEl) noteEl.textContent = note || "";
}

function renderKpis(event) {
  const k = event.kpis || {};
  document.getElementById("sim-time").textContent =
    k.local_time ? k.local_time.slice(0, 16).replace("T", " ") : "—";
  setTile("kpi-grid-power", fmt(k.grid_power_kw, 0, "kW"));
  setTile("kpi-pv-power", fmt(k.pv_power_kw, 0, "kW"));
  const used = (k.today || {}).electricity_consumption_kwh;
  const budget = event.budget_kwh_day;
  setTile("kpi-energy-today", fmt(used, 0, "kWh"), budget
    ? t("budget", { b: fmt(budget, 0, "kWh"), p: fmt(100 * (used || 0) / budget, 0) })
    : t("no_budget"));
  const clean = k.clean_energy_share || {};
  setTile("kpi-clean-share", fmt(clean.value, 1, "%"),
    clean.threshold != null ? t("threshold", { t: `${clean.threshold} %` }) : "");
  const cpe = k.carbon_per_energy || {};
  setTile("kpi-carbon-energy", fmt(cpe.value, 2, "t CO₂/tce"),
    cpe.threshold != null ? t("threshold", { t: cpe.threshold }) : "");
  const cost = k.costs;
  setTile("kpi-cost-today", cost ? fmt(cost.today.total_yuan, 0, cost.currency) : "—",
    cost ? [t("band_now", { b: cost.band_now || "—" }),
            cost.tariff_example ? t("example_tariff") : ""].filter(Boolean).join(" · ") : "");
  setTile("kpi-persons", fmt(k.persons_present, 0));
  const progress = k.carbon_neutral_progress_pct;
  setTile("kpi-neutral", fmt(progress, 1, "%"),
    k.projected_neutral_year ? t("projected", { y: k.projected_neutral_year }) : "");
  const clamped = Math.max(0, Math.min(100, progress || 0));
  document.querySelector("#kpi-neutral .fill").style.width = `${clamped}%`;
}

function renderBuildings(event) {
  const body = document.querySelector("#buildings tbody");
  body.replaceChildren();
  for (const f of event.buildings) {
    const shape = document.querySelector(`[data-building="${f.id}"]`);
    if (shape) {
      shape.setAttribute("fill", colourFor(f));
      shape.dataset.power = f.power_kw === null ? "" : f.power_kw.toFixed(1);
      shape.dataset.persons = f.persons === null ? "" : f.persons.toFixed(0);
    }
    const building = buildingById(f.id);
    const row = el("tr", { "data-building-row": f.id });
    row.append(el("td", {}, building ? nameOf(building) : f.id),
      el("td", {}, fmt(f.power_kw, 0, "kW")), el("td", {}, fmt(f.electricity_kwh_day, 0, "kWh")),
      el("td", {}, `${fmt(f.persons, 0)}/${fmt(f.capacity, 0)}`));
    body.append(row);
  }
}

function renderAlerts(event) {
  const list = document.getElementById("alerts");
  list.replaceChildren();
  if (!event.alerts.length) list.append(el("li", { class: "muted" }, t("no_alerts")));
  for (const alert of event.alerts) {
    list.append(el("li", { class: alert.severity }, `[${alert.severity}] ${alert.summary}`));
  }
}

// -- history: days of the month, months of the year, and their trend ------------------------
function drawTrends() {
  const svg = document.getElementById("trend-chart");
  svg.replaceChildren();
  for (const button of document.querySelectorAll("[data-span]")) {
    button.classList.toggle("on", button.dataset.span === view.span);
  }
  const note = document.getElementById("trend-note");
  const data = view.trends;
  const month = view.span === "month";
  const rows = data ? (month ? data.days : data.months) : [];
  svg.dataset.bars = String(rows.length);
  svg.dataset.trend = "";
  if (!rows.length) {
    note.textContent = t("no_history");
    return;
  }
  const W = 1000, H = 220, left = 70, right = 10, top = 10, bottom = 24;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.electricity_kwh, r.pv_kwh)));
  const step = (W - left - right) / rows.length;
  const x = (i) => left + step * (i + 0.5);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  for (const fraction of [0, 0.5, 1]) {
    const v = max * fraction;
    svg.append(el("svg:line", { class: "grid", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    svg.append(el("svg:text", { class: "axis", x: 4, y: y(v) + 4 }, fmt(v, 0, "kWh")));
  }
  rows.forEach((r, i) => {
    const kind = r.partial ? " partial" : r.complete ? "" : " open";
    const bar = el("svg:rect", {
      class: `bar-used${kind}`, x: x(i) - step * 0.35, width: step * 0.7,
      y: y(r.electricity_kwh), height: Math.max(0, y(0) - y(r.electricity_kwh)),
      "data-label": r.label,
    });
    bar.append(el("svg:title", {}, `${r.label}: ${fmt(r.electricity_kwh, 0, "kWh")}`));
    svg.append(bar);
    const every = Math.ceil(rows.length / 12);
    if (i % every === 0 || i === rows.length - 1) {
      const text = month ? r.label.slice(5) : r.label;
      svg.append(el("svg:text", { class: "axis", x: x(i), y: H - 6, "text-anchor": "middle" }, text));
    }
  });
  svg.append(el("svg:polyline", {
    class: "pv", points: rows.map((r, i) => `${x(i)},${y(r.pv_kwh)}`).join(" "),
  }));
  const trend = month ? data.day_trend : data.month_trend;
  const whole = rows.map((r, i) => (r.complete && !r.partial ? i : -1)).filter((i) => i >= 0);
  const units = t(month ? "days" : "months");
  if (trend && whole.length >= 3) {
    const first = whole[0], last = whole[whole.length - 1];
    svg.append(el("svg:line", {
      class: "trend", x1: x(first), y1: y(trend.start), x2: x(last), y2: y(trend.end),
    }));
    svg.dataset.trend = trend.slope_pct_per_period.toFixed(2);
    const sign = trend.slope_pct_per_period >= 0 ? "+" : "";
    note.textContent = `■ ${t("used")}  — ${t("pv_line")}  - - ${t("trend_line")}: ` + t("trend", {
      s: sign + fmt(trend.slope_pct_per_period, 1), p: t(month ? "day" : "month"),
      n: whole.length, u: units,
    });
  } else {
    note.textContent = `■ ${t("used")}  — ${t("pv_line")}; ` + t("no_trend", { u: units });
  }
}

async function refreshTrends(force) {
  const now = Date.now();
  if (!force && now - view.trendsAt < TRENDS_EVERY_MS) return;
  view.trendsAt = now;
  try {
    const response = await fetch("/api/trends");
    if (response.ok) view.trends = await response.json();
  } catch (error) {
    return;  // the next tick asks again
  }
  drawTrends();
}

function render() {
  if (!view.last) return;
  renderKpis(view.last);
  renderBuildings(view.last);
  renderAlerts(view.last);
  document.getElementById("storage").textContent = view.last.storage || t("nowhere");
  drawTrends();
}

// -- labels and toggles -----------------------------------------------------------------------
function renderLabels() {
  document.documentElement.lang = view.lang === "zh" ? "zh-CN" : "en";
  document.body.dataset.lang = view.lang;
  document.body.dataset.colour = view.colour;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  document.getElementById("toggle-lang").textContent = t("lang");
  document.getElementById("toggle-colour").textContent =
    t(view.colour === "load" ? "colour_load" : "colour_occupancy");
  document.getElementById("legend").innerHTML =
    `<span>${t(view.colour)}: ${t("low")}</span><span class="ramp"></span><span>${t("high")}</span>`;
  if (view.plan) {
    const park = view.plan.park;
    document.getElementById("park-name").textContent = nameOf(park);
    document.title = `${nameOf(park)} — parktwin`;
    for (const label of document.querySelectorAll("[data-zone]")) {
      const zone = view.plan.zones.find((z) => z.id === label.dataset.zone);
      label.textContent = nameOf(zone);
    }
  }
  render();
}

function setStatus(key) {
  const status = document.getElementById("status");
  status.dataset.i18n = key;
  status.textContent = t(key);
  status.className = `status ${key === "live" ? "live" : "waiting"}`;
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("tick", (message) => {
    view.last = JSON.parse(message.data);
    view.ticks += 1;
    document.body.dataset.ticks = String(view.ticks);
    setStatus("live");
    render();
    refreshTrends(false);
  });
  source.onerror = () => setStatus("lost");  // EventSource reconnects by itself
}

async function start() {
  const params = new URLSearchParams(location.search);
  if (params.get("lang") === "zh") view.lang = "zh";
  if (params.get("colour") === "occupancy") view.colour = "occupancy";
  document.getElementById("toggle-lang").addEventListener("click", () => {
    view.lang = view.lang === "en" ? "zh" : "en";
    renderLabels();
  });
  document.getElementById("toggle-colour").addEventListener("click", () => {
    view.colour = view.colour === "load" ? "occupancy" : "load";
    renderLabels();
  });
  for (const button of document.querySelectorAll("[data-span]")) {
    button.addEventListener("click", () => {
      view.span = button.dataset.span;
      drawTrends();
    });
  }
  if (params.get("span") === "year") view.span = "year";
  renderLabels();
  const response = await fetch("/api/plan");
  view.plan = await response.json();
  drawPlan(view.plan);
  renderLabels();
  listen();
}

start();
