// The citizens' planning lookup page: a tap on the map asks the server for the answer at that point (the
// same answer the form gives, as an HTML fragment, and its outlines from the JSON API), and the address bar
// keeps the question so the result can be shared or printed.
import { baseMap } from "../../gis_ioc/basemap.js";

const cfg = JSON.parse(document.getElementById("lookup-config").textContent);
const firstNode = document.getElementById("lookup-first");
const first = firstNode ? JSON.parse(firstNode.textContent) : null;
const result = document.querySelector(".lookup-result");

const map = baseMap({ container: "lookup-map", center: [108.54, 11.78], zoom: 11, attributionControl: { compact: true } });
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");

const empty = { type: "FeatureCollection", features: [] };
map.on("load", () => {
  map.addSource("lookup", { type: "geojson", data: empty });
  map.addLayer({ id: "lookup-zone", type: "fill", source: "lookup", filter: ["==", ["get", "kind"], "zone"],
    paint: { "fill-color": "#e69f00", "fill-opacity": 0.25 } });
  map.addLayer({ id: "lookup-zone-line", type: "line", source: "lookup", filter: ["==", ["get", "kind"], "zone"],
    paint: { "line-color": "#b35c00", "line-width": 1.5 } });
  map.addLayer({ id: "lookup-parcel", type: "line", source: "lookup", filter: ["==", ["get", "kind"], "parcel"],
    paint: { "line-color": "#d7191c", "line-width": 3 } });
  map.addLayer({ id: "lookup-point", type: "circle", source: "lookup", filter: ["==", ["get", "kind"], "point"],
    paint: { "circle-radius": 6, "circle-color": "#d7191c", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  if (first) draw(first);
  document.body.dataset.lookupReady = "1";
});

function draw(answer) {
  const features = [];
  if (answer.parcel?.geometry) features.push({ type: "Feature", geometry: answer.parcel.geometry, properties: { kind: "parcel" } });
  const approved = (answer.plans || []).find((p) => !p.draft);
  if (approved?.zone?.geometry) features.push({ type: "Feature", geometry: approved.zone.geometry, properties: { kind: "zone" } });
  if (answer.point) features.push({ type: "Feature", geometry: { type: "Point", coordinates: answer.point }, properties: { kind: "point" } });
  map.getSource("lookup")?.setData({ type: "FeatureCollection", features });
  const shape = answer.parcel?.geometry;
  if (shape) {
    const coords = shape.coordinates.flat(2);
    const xs = coords.map((c) => c[0]);
    const ys = coords.map((c) => c[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 80, maxZoom: 17, duration: 0 });
  }
}

async function ask(params) {
  const query = new URLSearchParams(params).toString();
  result.setAttribute("aria-busy", "true");
  try {
    const [page, data] = await Promise.all([
      fetch(`/planning/lookup/?${query}&fragment=1`, { credentials: "same-origin" }),
      fetch(`/planning/api/lookup?${query}`, { credentials: "same-origin" }),
    ]);
    result.innerHTML = await page.text();
    if (data.ok) draw(await data.json());
    history.replaceState(null, "", `/planning/lookup/?${query}`);
    bindPlaces();
  } catch (error) {
    result.textContent = cfg.strings.failed;
  } finally {
    result.removeAttribute("aria-busy");
    document.body.dataset.answered = String(Number(document.body.dataset.answered || 0) + 1);
  }
}

map.on("click", (event) => ask({ lon: event.lngLat.lng.toFixed(6), lat: event.lngLat.lat.toFixed(6) }));

function bindPlaces() {
  for (const button of result.querySelectorAll("button.place")) {
    button.addEventListener("click", () => {
      const [lon, lat] = button.dataset.lonlat.split(",").map(Number);
      map.flyTo({ center: [lon, lat], zoom: 15 });
    });
  }
}
bindPlaces();
