// Public petition form: choose the location by tapping the map or by the phone's GPS.
import { baseMap } from "../gis_ioc/basemap.js";

const form = document.getElementById("petition-form");
const latInput = document.getElementById("lat");
const lonInput = document.getElementById("lon");
const statusEl = document.getElementById("loc-status");
const CENTER = [108.49, 11.78]; // Đơn Dương

function setLocation(lon, lat, text) {
  latInput.value = lat.toFixed(6);
  lonInput.value = lon.toFixed(6);
  statusEl.textContent = text || `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  if (window._marker) window._marker.setLngLat([lon, lat]);
}

function bounds(fc) {
  let [w, s, e, n] = [180, 90, -180, -90];
  const visit = (c) => { if (typeof c[0] === "number") { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); } else c.forEach(visit); };
  fc.features.forEach((f) => visit(f.geometry.coordinates));
  return [[w, s], [e, n]];
}

function initMap() {
  if (!window.maplibregl) return;
  const map = baseMap({
    container: "map",
    center: CENTER,
    zoom: 9.6,
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.on("load", async () => {
    try {
      const res = await fetch("/field/api/communes.geojson");
      const data = await res.json();
      map.addSource("communes", { type: "geojson", data });
      if (!latInput.value) map.fitBounds(bounds(data), { padding: 12, duration: 0 });
      map.addLayer({ id: "communes-fill", type: "fill", source: "communes", paint: { "fill-color": "#cfe0f3", "fill-opacity": 0.55 } });
      map.addLayer({ id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#0b5394", "line-width": 1.2 } });
    } catch (e) { /* the form still works with GPS */ }
  });
  window._marker = new maplibregl.Marker({ color: "#b3261e" });
  if (latInput.value && lonInput.value) {
    window._marker.setLngLat([+lonInput.value, +latInput.value]).addTo(map);
  }
  map.on("click", (e) => {
    window._marker.setLngLat(e.lngLat).addTo(map);
    setLocation(e.lngLat.lng, e.lngLat.lat);
  });
  window._map = map;
}

document.getElementById("gps-btn").addEventListener("click", () => {
  if (!navigator.geolocation) { statusEl.textContent = "Thiết bị không hỗ trợ GPS"; return; }
  statusEl.textContent = "Đang lấy vị trí…";
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const { longitude, latitude, accuracy } = pos.coords;
      setLocation(longitude, latitude, `${latitude.toFixed(5)}, ${longitude.toFixed(5)} (±${Math.round(accuracy)} m)`);
      if (window._map) { window._marker.addTo(window._map); window._map.flyTo({ center: [longitude, latitude], zoom: 15 }); }
    },
    (err) => { statusEl.textContent = "Không lấy được vị trí: " + err.message; },
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

form.addEventListener("submit", (e) => {
  const photos = document.getElementById("photos").files;
  if (!latInput.value && photos.length === 0) {
    e.preventDefault();
    statusEl.textContent = "Vui lòng chạm vào bản đồ hoặc dùng GPS để chọn vị trí.";
    statusEl.classList.add("field-error");
  }
});

initMap();
