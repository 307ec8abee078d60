// Two planning plans on two synchronised maps; conflicting parcels outlined on plan B's map.
import { el, num, strings } from "./format.js";
import { legendRows } from "./map.js";
import { baseMap } from "../../gis_ioc/basemap.js";

const read = (id) => JSON.parse(document.getElementById(id).textContent);
const cfg = read("page-config");
const communes = read("communes");
const colours = read("landuse-colors");

function bbox(fc) {
  let b = [180, 90, -180, -90];
  for (const f of fc.features) {
    const [x0, y0, x1, y1] = f.properties.bbox;
    b = [Math.min(b[0], x0), Math.min(b[1], y0), Math.max(b[2], x1), Math.max(b[3], y1)];
  }
  return fc.features.length ? b : [108.3, 11.6, 108.7, 11.9];
}

const landuse = ["match", ["get", "land_use"]];
for (const [k, c] of Object.entries(colours)) landuse.push(k, c);
landuse.push("#bdbdbd");

function planMap(container, planId, withConflicts) {
  const map = baseMap({
    container,
    bounds: bbox(communes),
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    preserveDrawingBuffer: true,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  const zones = planId ? fetch(`/planning/api/plans/${planId}/zones`).then((r) => r.json()) : Promise.resolve(null);
  const loaded = new Promise((resolve) => map.on("load", async () => {
    map.addSource("communes", { type: "geojson", data: communes });
    map.addLayer({ id: "communes-fill", type: "fill", source: "communes", paint: { "fill-color": "#ffffff", "fill-opacity": 0.6 } });
    if (planId) {
      map.zonesData = await zones;
      map.addSource("zones", { type: "geojson", data: map.zonesData });
      map.addLayer({ id: "zones", type: "fill", source: "zones", paint: { "fill-color": landuse, "fill-opacity": 0.75 } });
      map.addLayer({ id: "zones-line", type: "line", source: "zones", paint: { "line-color": "#555", "line-width": 0.6 } });
    }
    map.addLayer({ id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#222", "line-width": 1.2 } });
    if (withConflicts) {
      map.addSource("conflicts", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addLayer({ id: "conflicts", type: "fill", source: "conflicts", paint: { "fill-color": "#d55e00", "fill-opacity": 0.85 } });
      map.addLayer({ id: "conflicts-line", type: "line", source: "conflicts", paint: { "line-color": "#000", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.2, 16, 2] } });
    }
    map.on("click", "zones", (e) => {
      const p = e.features[0].properties;
      const t = el("table", { class: "popup-table" });
      for (const k of ["zone_code", "land_use", "commune_code", "max_density", "max_height"]) {
        if (p[k] !== undefined && p[k] !== null && p[k] !== "null") t.append(el("tr", {}, el("th", { text: k }), el("td", { text: String(p[k]) })));
      }
      new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(t).addTo(map);
    });
    resolve(map);
  }));
  return { map, loaded };
}

const a = planMap("map-a", cfg.a, false);
const b = planMap("map-b", cfg.b, cfg.canSeeParcels && cfg.b);
window.compareMaps = [a.map, b.map];

// Keep both views identical: whichever map the user moves leads, the other follows.
let syncing = false;
function follow(src, dst) {
  src.on("move", () => {
    if (syncing) return;
    syncing = true;
    dst.jumpTo({ center: src.getCenter(), zoom: src.getZoom(), bearing: src.getBearing(), pitch: src.getPitch() });
    syncing = false;
  });
}
follow(a.map, b.map);
follow(b.map, a.map);

// Swipe: the same two maps, stacked; plan B is shown right of the slider, plan A left of it.
const maps = document.getElementById("compare-maps");
const modeBar = document.querySelector(".compare-mode");
const slider = document.getElementById("swipe");
function setSwipe(value) {
  maps.style.setProperty("--swipe", `${value}%`);
  maps.style.setProperty("--swipe-f", String(value / 100));
}
function setMode(mode) {
  maps.classList.toggle("swipe", mode === "swipe");
  modeBar.classList.toggle("swipe", mode === "swipe");
  a.map.resize();
  b.map.resize();
  document.body.dataset.compareMode = mode;
}
for (const radio of document.querySelectorAll("input[name=compare-mode]")) {
  radio.addEventListener("change", () => setMode(radio.value));
}
slider.addEventListener("input", () => setSwipe(slider.value));
setSwipe(slider.value);

// Conflicting parcels of one commune: fetched after the page is up (the overlay takes seconds on a
// full cadastre), listed, drawn on plan B's map; a row zooms both maps to its parcel.
function zoomTo(f) {
  const pts = f.geometry.coordinates.flat(2);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  b.map.fitBounds([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], { padding: 80, maxZoom: 17, duration: 0 });
}

async function loadConflicts(code) {
  const status = document.getElementById("conflicts-status");
  const body = document.querySelector("#conflicts-table tbody");
  status.textContent = strings.loading;
  body.replaceChildren();
  for (const id of ["conflicts-csv", "conflicts-xlsx"]) {
    const a = document.getElementById(id);
    a.href = a.href.replace(/commune=\d*/, `commune=${code}`);
  }
  const r = await fetch(`/planning/api/plans/${cfg.b}/conflicts?commune=${code}`);
  const fc = await r.json();
  if (!r.ok) { status.textContent = fc.error || strings.error; return; }
  await b.loaded;
  b.map.getSource("conflicts").setData(fc);
  body.replaceChildren(...fc.features.map((f) => {
    const p = f.properties;
    return el("tr", { "data-parcel": String(p.id), onclick: () => zoomTo(f) },
      ...[p.commune_code, p.sheet_number, p.parcel_number, p.land_use, p.planned_land_use, p.zone_code].map((v) => el("td", { text: String(v ?? "") })));
  }));
  status.textContent = fc.total
    ? `${num(fc.total, 0)} ${strings.conflicts}${fc.truncated ? ` (${strings.shown.replace("%(n)s", num(fc.features.length, 0))})` : ""}`
    : strings.noConflicts;
  document.body.dataset.conflictsReady = code;
}

const communeSelect = document.getElementById("conflict-commune");
if (cfg.canSeeParcels && cfg.b && communeSelect) {
  communeSelect.addEventListener("change", () => loadConflicts(communeSelect.value));
  loadConflicts(communeSelect.value);
}

function extent(fc) {
  const b = [180, 90, -180, -90];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  for (const f of fc?.features || []) walk(f.geometry.coordinates);
  return b[0] <= b[2] ? b : null;
}

// Legend: the classes present in either plan; both maps open on the planned area.
Promise.all([a.loaded, b.loaded]).then(() => {
  const boxes = [a.map.zonesData, b.map.zonesData].map(extent).filter(Boolean);
  if (boxes.length) {
    const box = [Math.min(...boxes.map((x) => x[0])), Math.min(...boxes.map((x) => x[1])), Math.max(...boxes.map((x) => x[2])), Math.max(...boxes.map((x) => x[3]))];
    a.map.fitBounds(box, { padding: 40, maxZoom: 14, duration: 0 });
  }
  const present = new Set([...document.querySelectorAll("#changes-table td[title]")].map((td) => td.textContent.trim()));
  const rows = Object.entries(colours).filter(([k]) => present.has(k)).map(([k, c]) => ({ label: k, color: c }));
  legendRows(document.getElementById("compare-legend"), rows);
  Promise.all([a.map, b.map].map((m) => new Promise((r) => m.once("idle", r)))).then(() => { document.body.dataset.mapsReady = "1"; });
});
