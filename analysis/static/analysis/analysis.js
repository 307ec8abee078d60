// Analyses page: switch the parameter form with the type, poll the progress of unfinished analyses,
// and show a result layer on a map (vector tiles of the catalog layer) over the offline base map.
import { baseMap } from "../gis_ioc/basemap.js";

const typeSelect = document.getElementById("type");
if (typeSelect) {
  const show = () => document.querySelectorAll("fieldset.params").forEach((fs) => {
    fs.hidden = fs.dataset.type !== typeSelect.value;
    fs.querySelectorAll("input, select, textarea").forEach((el) => { el.disabled = fs.hidden; });
  });
  typeSelect.addEventListener("change", show);
  show();
}

const UNFINISHED = new Set(["queued", "running"]);

function render(el, a) {
  const badge = el.querySelector(".badge");
  badge.className = `badge ${a.status}`;
  badge.textContent = a.status_display;
  const bar = el.querySelector(".bar");
  bar.setAttribute("aria-valuenow", a.percent);
  bar.querySelector("span").style.width = `${a.percent}%`;
  el.querySelector(".msg").textContent = a.status === "failed" ? a.error : a.message;
}

function pending() {
  return [...document.querySelectorAll("[data-id]")].filter((el) => {
    const badge = el.querySelector(".badge");
    return badge && [...badge.classList].some((c) => UNFINISHED.has(c));
  });
}

async function poll() {
  const rows = pending();
  if (!rows.length) return;
  const ids = rows.map((el) => el.dataset.id).join(",");
  try {
    const res = await fetch(`/api/v1/analyses/?ids=${ids}`, { credentials: "same-origin" });
    if (res.ok) {
      const { results } = await res.json();
      for (const a of results) {
        document.querySelectorAll(`[data-id="${a.id}"]`).forEach((el) => render(el.querySelector(".state") || el, a));
        if (!UNFINISHED.has(a.status) && document.getElementById("map-page-reload") === null
            && document.querySelector(".state[data-id]")) {
          window.location.reload();
          return;
        }
      }
    }
  } catch (err) {
    console.warn("progress poll failed", err);
  }
  setTimeout(poll, 2000);
}
setTimeout(poll, 1500);

const mapEl = document.getElementById("map");
if (mapEl && window.maplibregl) {
  const slug = mapEl.dataset.slug;
  const geometry = mapEl.dataset.geometry || "";
  const origin = window.location.origin;
  const map = baseMap({ container: mapEl, center: [108.5, 11.8], zoom: 10 });
  map.on("load", () => {
    map.addSource("result", { type: "vector", tiles: [`${origin}/tiles/${slug}/{z}/{x}/{y}.mvt`], minzoom: 6, maxzoom: 16 });
    map.addLayer(geometry.includes("Polygon")
      ? { id: "result", type: "fill", source: "result", "source-layer": slug,
          paint: { "fill-color": ["interpolate", ["linear"], ["coalesce", ["get", "gi_z"], ["get", "max_abs_z"], 1],
                                  -3, "#4575b4", 0, "#fee090", 3, "#d7191c"], "fill-opacity": 0.55 } }
      : { id: "result", type: "circle", source: "result", "source-layer": slug,
          paint: { "circle-color": "#d7191c", "circle-radius": 5 } });
  });
  map.addControl(new maplibregl.NavigationControl());
  fetch(`/tiles/${slug}.json`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((tj) => { if (tj && tj.bounds) map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: 20 }); })
    .catch(() => {});
  map.on("click", "result", (e) => {
    const props = e.features[0].properties;
    const html = Object.entries(props).map(([k, v]) => `<b>${k}</b>: ${v}`).join("<br>");
    new maplibregl.Popup().setLngLat(e.lngLat).setHTML(html).addTo(map);
  });
}
