// The dashboard page: one state (time range, statistic, classification, commune), one request per view
// (/dashboard/api/view), and every widget redrawn from its answer.
import { DistrictMap, legendRows } from "./map.js";
import { el, num, withUnit, day, strings } from "./format.js";
import * as charts from "./charts.js";
import { attachSearch } from "./search.js";
import { startLive } from "./live.js";

const read = (id) => JSON.parse(document.getElementById(id).textContent);
const cfg = read("page-config");
const catalog = read("catalog");
const statistics = read("statistics");
const communes = read("communes");
const nameOf = Object.fromEntries(communes.features.map((f) => [f.properties.code, f.properties.name]));
const DEFAULT_ON = new Set(["schools", "health-facilities"]);

const state = { start: cfg.start, end: cfg.end, stat: cfg.stat, method: cfg.method, commune: cfg.focus || null };
const $ = (id) => document.getElementById(id);

for (const layer of catalog) layer.on = DEFAULT_ON.has(layer.slug);
const dmap = new DistrictMap($("map"), {
  communes,
  catalog,
  onCommuneClick: (code) => { location.hash = `#/communes/${code}`; },
});
window.dashboardMap = dmap.map; // for tests and the benchmark

// --- layer switcher and legends --------------------------------------------------------------------
function renderLegends() {
  const box = $("map-legends");
  box.replaceChildren();
  for (const layer of catalog.filter((l) => l.on && l.legend.length)) {
    const rows = el("div");
    legendRows(rows, layer.legend);
    box.append(el("div", { class: "legend", "data-slug": layer.slug }, el("h4", { text: layer.title }), rows));
  }
}

function renderSwitcher() {
  const list = $("layer-list");
  const item = (slug, title, on, kind) => {
    const box = el("input", { type: "checkbox", value: slug });
    box.checked = on;
    box.addEventListener("change", () => {
      const layer = catalog.find((l) => l.slug === slug);
      if (layer) layer.on = box.checked;
      dmap.setVisible(slug, box.checked);
      renderLegends();
    });
    return el("li", { class: `kind-${kind}` }, el("label", {}, box, " ", title));
  };
  const items = catalog.filter((l) => l.slug !== "communes").map((l) => item(l.slug, l.title, l.on, l.kind));
  if (cfg.basemap) items.unshift(item("basemap", "MapProxy", true, "basemap"));
  list.replaceChildren(...items);
  renderLegends();
}

// --- KPIs, choropleth, charts ---------------------------------------------------------------------------
// The figure large, its unit small (money and percentages keep their sign with the number).
function kpiValue(value, unit) {
  const u = (unit || "").trim();
  if (value === null || value === undefined || ["VND", "%"].includes(u)) {
    const text = withUnit(value, u);
    // Billions of đồng: a smaller size keeps the figure on one line.
    return el("div", { class: text.length > 13 ? "kpi-value long" : "kpi-value", text });
  }
  return el("div", { class: "kpi-value" }, num(value, 1), el("span", { class: "kpi-unit", text: u }));
}

function kpiCards(container, cards, withDistrict) {
  container.replaceChildren(
    ...cards.map((c) =>
      el("div", { class: "kpi", "data-key": c.key },
        el("div", { class: "kpi-title", text: c.title }),
        kpiValue(c.value, c.unit),
        withDistrict ? el("div", { class: "kpi-district", text: `${strings.districtAvg}: ${withUnit(c.district, c.unit)}` }) : null,
      ),
    ),
  );
}

function choroplethLegend(ch) {
  const box = $("choropleth-legend");
  if (!ch) return box.replaceChildren();
  const unit = ch.statistic.unit;
  const rows = [];
  let lower = ch.min;
  ch.breaks.forEach((upper, i) => {
    // The unit is in the legend's title; class bounds are plain numbers (money keeps its ₫).
    const f = (v) => (unit === "VND" ? withUnit(v, unit) : num(v, 1));
    rows.push({ color: ch.colors[i], label: i === 0 ? `${f(lower)} – ${f(upper)}` : `> ${f(lower)} – ${f(upper)}` });
    lower = upper;
  });
  const noData = Object.values(ch.values).some((v) => v === null);
  if (noData) rows.push({ color: "#e3e3e3", label: strings.noData });
  const list = el("div");
  legendRows(list, rows);
  // Units that received part of a split unit: their figure is an estimate, and the method says how.
  const estimated = Object.entries(ch.estimated || {});
  const note = estimated.length
    ? el("p", { class: "estimated", id: "estimated-note" },
      `${strings.estimated}: ${estimated.map(([c]) => nameOf[c] || c).join(", ")} – `
      + (estimated.some(([, m]) => m === "area") ? strings.estimatedArea : strings.estimatedPopulation))
    : "";
  box.replaceChildren(el("h4", { text: `${ch.statistic.title}${unit ? ` (${unit})` : ""}` }), list, note);
}

function categoryCharts(container, list, prefix) {
  container.replaceChildren();
  for (const c of list) {
    const canvas = el("canvas", { id: `${prefix}-${c.slug}` });
    const box = el("div", { class: "chart-box" }, canvas);
    box.style.height = `${Math.max(120, 22 * c.labels.length * Math.max(1, c.series.length * 0.7) + 40)}px`;
    container.append(el("figure", {}, el("figcaption", { text: c.title }), box));
    charts.bars(canvas, c.labels, c.series, { horizontal: true, isMoney: !!c.money, stacked: !!c.stacked });
  }
}

function profileLists(lists) {
  const box = $("profile-lists");
  const q = query({ commune: state.commune });
  box.replaceChildren(
    ...lists.map((t) => {
      const head = el("tr", {}, ...t.columns.filter((c) => c.name !== "commune_code").map((c) => el("th", { text: c.title })));
      const rows = t.rows.map((r) => el("tr", {}, ...t.columns.filter((c) => c.name !== "commune_code").map((c) => {
        const v = r[c.name];
        return el("td", { text: typeof v === "number" ? num(v, 2) : /^\d{4}-\d\d-\d\d$/.test(v || "") ? day(v) : v ?? "" });
      })));
      return el("section", { class: "profile-list", "data-slug": t.slug },
        el("h3", {}, `${t.title} (${num(t.total, 0)})`, " ",
          el("a", { href: `/dashboard/tables/${t.slug}.csv?${q}`, text: "CSV" }), " ",
          el("a", { href: `/dashboard/tables/${t.slug}.xlsx?${q}`, text: "XLSX" })),
        el("div", { class: "table-wrap" }, el("table", { class: "data" }, el("thead", {}, head), el("tbody", {}, ...rows))));
    }),
  );
}

// The unit's history across reforms: each version, what it was made of or became, when, by which decision.
function profileHistory(versions) {
  const box = $("profile-history");
  box.hidden = !versions.length;
  if (!versions.length) return box.replaceChildren();
  // valid_to is the first day of the next version: show the last day this one was valid.
  const lastDay = (isoDate) => {
    const d = new Date(`${isoDate}T12:00:00`);
    d.setDate(d.getDate() - 1);
    return day(d.toISOString().slice(0, 10));
  };
  const part = (p) => `${p.name} (${p.code})${p.area_share < 1 ? ` – ${num(100 * p.area_share, 0)} %` : ""}`;
  box.replaceChildren(
    el("h3", { text: strings.history }),
    el("ul", {}, ...versions.map((v) => el("li", {},
      el("strong", { text: `${v.name}: ${day(v.valid_from)} – ${v.valid_to ? lastDay(v.valid_to) : strings.now}` }),
      v.made_of.length ? el("div", { text: `${strings.madeOf}: ${v.made_of.map(part).join(", ")} (${day(v.made_of[0].date)}; ${v.made_of[0].legal_basis || "—"})` }) : "",
      v.became.length ? el("div", { text: `${strings.became}: ${v.became.map(part).join(", ")} (${day(v.became[0].date)}; ${v.became[0].legal_basis || "—"})` }) : "",
    ))),
  );
}

function query(extra = {}) {
  // The unit set (?units=, ?as_of=) is chosen by reloading the page: the boundaries are part of it.
  const p = new URLSearchParams({ start: state.start, end: state.end, method: state.method, ...cfg.units });
  if (state.stat) p.set("stat", state.stat);
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return p.toString();
}

// The forecast figure: only for the statistics that have one (petitions, dossiers, revenue), fetched after the
// view (fitting takes a moment the first time; the server keeps it until the data change).
const FORECASTABLE = new Set(cfg.forecastable || []);
async function drawForecast(mine, unit, prefix = "") {
  const box = $(`${prefix}forecast-box`);
  if (!box) return;
  box.hidden = !FORECASTABLE.has(state.stat);
  if (box.hidden) return;
  const response = await fetch(`/dashboard/api/forecast?${query({ commune: state.commune })}`, { credentials: "same-origin" });
  if (mine !== generation) return;
  if (!response.ok) { box.hidden = true; return; }
  const body = await response.json();
  const title = statistics.find((s) => s.code === state.stat)?.title || "";
  $(`${prefix}forecast-title`).textContent = `${title} – ${strings.forecast}`;
  charts.forecast($(`${prefix}chart-forecast`), body, strings, unit);
  $(`${prefix}forecast-note`).textContent = strings.forecastNote
    .replace("{mae}", num(body.backtest.mae, 1)).replace("{naive}", num(body.backtest.naive_mae, 1));
  box.dataset.ready = "1";
}

// Charts below the fold wait for the next frame, so the map and the KPI cards get the main thread first.
const afterPaint = (fn) => requestAnimationFrame(() => setTimeout(fn, 0));

let generation = 0;
let mapDrawnPending = false;
async function refresh() {
  const mine = ++generation;
  document.body.dataset.loading = "1";
  const url = `/dashboard/api/view?${query({ commune: state.commune })}`;
  // The page started the first request itself, before this module loaded (map.html).
  const early = window.iocFirstView;
  window.iocFirstView = null;
  const r = early && early.url === url ? await early.response : await fetch(url);
  const body = await r.json();
  if (mine !== generation) return;
  if (!r.ok) {
    showRangeError(body.error || strings.error);
    delete document.body.dataset.loading;
    return;
  }
  showRangeError(null);
  const ch = body.choropleth;
  // Figures first; the map paints when it is ready (WebGL start-up must not hold back the KPIs).
  dmap.ready.then(() => {
    if (mine !== generation) return;
    dmap.paint(ch);
    // "Map drawn" = the first time the map settles with the choropleth painted (tests, benchmark).
    if (!mapDrawnPending && !document.body.dataset.mapReady) {
      mapDrawnPending = true;
      dmap.map.once("idle", () => {
        performance.mark("ioc-map-drawn");
        document.body.dataset.mapReady = "1";
      });
    }
  });
  choroplethLegend(ch);
  const unit = ch?.statistic.unit;
  if (state.commune) {
    $("overview").hidden = true;
    $("profile").hidden = false;
    $("profile-title").textContent = nameOf[state.commune] || state.commune;
    kpiCards($("profile-kpis"), body.kpis, true);
    if (mine === 1) performance.mark("ioc-kpis-drawn");
    if (ch) {
      $("profile-series-title").textContent = `${ch.statistic.title} – ${strings.overTime}`;
      charts.series($("chart-profile-series"), [
        { label: nameOf[state.commune], points: body.series.commune },
        { label: strings.district, points: body.series.district },
      ], unit);
    }
    afterPaint(() => mine === generation && categoryCharts($("profile-categories"), body.categories, "pc"));
    afterPaint(() => mine === generation && drawForecast(mine, unit, "profile-"));
    profileLists(body.lists || []);
    profileHistory(body.history || []);
    const q = query();
    $("profile-reports").replaceChildren(
      el("a", { href: `/reports/communes/${state.commune}/?${q}`, target: "_blank", text: strings.report.replace("PDF", "").trim() || "HTML" }), " · ",
      el("a", { href: `/reports/communes/${state.commune}/pdf?${q}`, id: "report-commune-pdf", text: "PDF" }), " · KPI ",
      el("a", { href: `/dashboard/tables/kpis.csv?${query({ commune: state.commune })}`, text: "CSV" }), " · ",
      el("a", { href: `/dashboard/tables/kpis.xlsx?${query({ commune: state.commune })}`, text: "XLSX" }),
    );
  } else {
    $("overview").hidden = false;
    $("profile").hidden = true;
    kpiCards($("kpis"), body.kpis, false);
    if (mine === 1) performance.mark("ioc-kpis-drawn");
    if (ch) {
      $("series-title").textContent = `${ch.statistic.title} – ${strings.overTime}`;
      charts.series($("chart-series"), [{ label: strings.district, points: body.series.district }], unit);
      const codes = Object.keys(ch.values);
      charts.bars($("chart-communes"), codes.map((c) => (nameOf[c] || c).replace(/^(Xã|Thị trấn) /, "")),
        [{ label: ch.statistic.title, data: codes.map((c) => ch.values[c]) }],
        { horizontal: true, isMoney: unit === "VND", colors: codes.map((c) => (ch.classes[c] === null ? "#e3e3e3" : ch.colors[ch.classes[c]])) });
    }
    afterPaint(() => mine === generation && categoryCharts($("category-charts"), body.categories, "cc"));
    afterPaint(() => mine === generation && drawForecast(mine, unit));
    for (const [id, table, fmt] of [["table-stats-csv", "statistic", "csv"], ["table-stats-xlsx", "statistic", "xlsx"], ["table-kpis-csv", "kpis", "csv"], ["table-kpis-xlsx", "kpis", "xlsx"]]) {
      const a = $(id);
      if (a) a.href = `/dashboard/tables/${table}.${fmt}?${query()}`;
    }
    for (const id of ["report-district", "report-district-pdf"]) {
      const a = $(id);
      if (a) a.href = `${a.getAttribute("href").split("?")[0]}?${query()}`;
    }
  }
  document.body.dataset.view = state.commune ? `commune-${state.commune}` : "district";
  document.body.dataset.kpisReady = String(mine);
  delete document.body.dataset.loading;
}

function showRangeError(message) {
  const p = $("range-error");
  p.hidden = !message;
  p.textContent = message || "";
}

// --- time range -----------------------------------------------------------------------------------------
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
function preset(name) {
  const t = new Date();
  const y = t.getFullYear();
  switch (name) {
    case "month": return [new Date(y, t.getMonth(), 1), t];
    case "quarter": return [new Date(y, Math.floor(t.getMonth() / 3) * 3, 1), t];
    case "ytd": return [new Date(y, 0, 1), t];
    case "12m": return [new Date(y - 1, t.getMonth(), t.getDate() + 1), t];
    case "lastyear": return [new Date(y - 1, 0, 1), new Date(y - 1, 11, 31)];
    default: return null;
  }
}

const form = $("timerange");
form.preset.addEventListener("change", () => {
  const range = preset(form.preset.value);
  if (!range) return;
  form.start.value = iso(range[0]);
  form.end.value = iso(range[1]);
  form.requestSubmit();
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  state.start = form.start.value;
  state.end = form.end.value;
  refresh();
});

// --- unit set switch: other boundaries are another page (the communes are embedded in it) ----------------
const unitsForm = $("unitsform");
if (unitsForm) {
  const reload = () => {
    const p = new URLSearchParams({ start: state.start, end: state.end, method: state.method });
    if (state.stat) p.set("stat", state.stat);
    if (unitsForm.units.value) p.set("units", unitsForm.units.value);
    if (unitsForm.as_of.value) p.set("as_of", unitsForm.as_of.value);
    location.assign(`/?${p}`);
  };
  unitsForm.units.addEventListener("change", reload);
  unitsForm.as_of.addEventListener("change", reload);
  unitsForm.addEventListener("submit", (e) => { e.preventDefault(); reload(); });
}

// --- statistic and classification ------------------------------------------------------------------------
const statSelect = $("stat");
const methodSelect = $("method");
if (state.stat) statSelect.value = state.stat;
methodSelect.value = state.method;
statSelect.addEventListener("change", () => { state.stat = statSelect.value; refresh(); });
methodSelect.addEventListener("change", () => { state.method = methodSelect.value; refresh(); });

// --- drill-down through the URL hash ------------------------------------------------------------------------
function route() {
  const m = location.hash.match(/^#\/communes\/(\d+)/);
  const code = m ? m[1] : null;
  if (code && !nameOf[code]) { location.hash = "#/"; return; }
  state.commune = code;
  dmap.ready.then(() => dmap.focusCommune(code));
  refresh();
}
window.addEventListener("hashchange", route);
if (cfg.focus) history.replaceState(null, "", `/${location.search}#/communes/${cfg.focus}`);

// --- search -----------------------------------------------------------------------------------------------------
attachSearch($("search"), $("search-results"), (res) => {
  if (res.kind === "commune") { location.hash = `#/communes/${res.code}`; return; }
  if (res.bbox) dmap.map.fitBounds(res.bbox, { padding: 60, maxZoom: 18, duration: 0 });
  else if (res.lonlat) dmap.map.jumpTo({ center: res.lonlat, zoom: 16 });
  if (res.lonlat) {
    new maplibregl.Popup().setLngLat(res.lonlat).setDOMContent(el("div", { class: "popup" }, el("h3", { text: res.label }), el("p", { text: res.detail || "" }))).addTo(dmap.map);
  }
  const layer = catalog.find((l) => l.slug === res.kind);
  if (layer && !layer.on) { layer.on = true; dmap.ready.then(() => { dmap.setVisible(layer.slug, true); renderSwitcher(); }); }
});

renderSwitcher();
route();
// Live updates (server-sent events) instead of a timer; polling only when the stream cannot be reached.
startLive({ cfg, refresh, dmap, catalog, state, communeName: (code) => nameOf[code] || code });
