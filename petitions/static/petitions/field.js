// Field app: GPS with accuracy, assigned petitions on a map and a list, an IndexedDB outbox synced
// whenever the connection is back. Nothing is lost: a report leaves the outbox only after the
// server confirmed it (201 new, 200 already stored).
import { all, del, get, put, uuid4 } from "./idb-queue.js";
import { baseMap } from "../gis_ioc/basemap.js";

const cfgNode = document.getElementById("field-config");
const cfg = (cfgNode && JSON.parse(cfgNode.textContent)) || { warnAccuracy: 30, maxAccuracy: 100 };
const $ = (id) => document.getElementById(id);
const state = { pos: null, petitions: [], syncing: false };

function csrf() {
  const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : document.querySelector("[name=csrfmiddlewaretoken]")?.value || "";
}

function esc(text) {
  const d = document.createElement("div");
  d.textContent = text == null ? "" : String(text);
  return d.innerHTML;
}

// --- network status -------------------------------------------------------------------------
function showNet() {
  const on = navigator.onLine;
  $("net").textContent = on ? "Trực tuyến" : "Ngoại tuyến";
  $("net").className = "pill " + (on ? "online" : "offline");
}
window.addEventListener("online", () => { showNet(); syncAll(); loadAssigned(); });
window.addEventListener("offline", showNet);

// --- GPS ------------------------------------------------------------------------------------
function showGps() {
  const box = $("gps-box");
  const btn = $("submit");
  if (!state.pos) { $("gps").textContent = "Đang chờ GPS…"; btn.disabled = true; return; }
  const { latitude, longitude, accuracy } = state.pos;
  const acc = Math.round(accuracy);
  let text = `${latitude.toFixed(5)}, ${longitude.toFixed(5)} · ±${acc} m`;
  box.className = "gps ok";
  btn.disabled = false;
  if (accuracy > cfg.maxAccuracy) {
    text += ` — quá kém (tối đa ±${cfg.maxAccuracy} m), chưa lưu được`;
    box.className = "gps bad";
    btn.disabled = true;
  } else if (accuracy > cfg.warnAccuracy) {
    text += " — độ chính xác thấp, nên đo lại";
    box.className = "gps warn";
  }
  $("gps").textContent = text;
}

function startGps() {
  if (!navigator.geolocation) { $("gps").textContent = "Thiết bị không có GPS"; return; }
  navigator.geolocation.watchPosition(
    (p) => {
      const first = !state.pos;
      state.pos = { latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy };
      showGps();
      if (map && me) me.setLngLat([state.pos.longitude, state.pos.latitude]).addTo(map);
      if (first) { loadAssigned(); if (map) map.jumpTo({ center: [state.pos.longitude, state.pos.latitude], zoom: 13 }); }
    },
    (err) => { $("gps").textContent = "Không lấy được GPS: " + err.message; },
    { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
  );
}

// --- map and list -----------------------------------------------------------------------------
let map = null;
let me = null;
function initMap() {
  if (!window.maplibregl) return;
  try {
    // Offline (no signal) the base style is not reachable: the map stays on its plain background.
    map = baseMap({
      container: "map",
      center: [108.49, 11.78], zoom: 9.5, attributionControl: false,
    });
  } catch (e) { map = null; return; }
  me = new maplibregl.Marker({ color: "#0b5394" });
  map.on("load", async () => {
    try {
      const res = await fetch("/field/api/communes.geojson");
      map.addSource("communes", { type: "geojson", data: await res.json() });
      map.addLayer({ id: "c-fill", type: "fill", source: "communes", paint: { "fill-color": "#cfe0f3", "fill-opacity": 0.5 } });
      map.addLayer({ id: "c-line", type: "line", source: "communes", paint: { "line-color": "#0b5394", "line-width": 1 } });
    } catch (e) { /* offline without cache: the list still works */ }
    map.addSource("petitions", { type: "geojson", data: toGeojson(state.petitions) });
    map.addLayer({ id: "p", type: "circle", source: "petitions", paint: {
      "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
      "circle-color": ["case", ["get", "overdue"], "#b3261e", ["get", "mine"], "#0b5394", "#e69f00"] } });
    map.on("click", "p", (e) => { $("petition").value = e.features[0].properties.code; $("note").focus(); });
  });
}

function toGeojson(rows) {
  return { type: "FeatureCollection", features: rows.map((p) => ({ type: "Feature",
    geometry: { type: "Point", coordinates: [p.lon, p.lat] },
    properties: { code: p.tracking_code, overdue: !!p.overdue, mine: !!p.mine } })) };
}

function renderList() {
  const list = $("list");
  const select = $("petition");
  const chosen = select.value;
  select.length = 1;
  if (!state.petitions.length) { list.innerHTML = '<li class="muted">Không có phản ánh nào cần xác minh.</li>'; }
  else {
    list.innerHTML = state.petitions.map((p) => `<li data-code="${esc(p.tracking_code)}">
      <strong>${esc(p.tracking_code)}</strong> <span class="tag">${esc(p.category_label)}</span>
      ${p.overdue ? '<span class="tag late">Quá hạn</span>' : ""}
      <div>${esc(p.description).slice(0, 160)}</div>
      <small>${esc(p.commune)}${p.distance_m != null ? ` · ${p.distance_m} m` : ""} · ${esc(p.status_label)}</small></li>`).join("");
  }
  for (const p of state.petitions) {
    const o = document.createElement("option");
    o.value = p.tracking_code;
    o.textContent = `${p.tracking_code} – ${p.category_label}`;
    select.appendChild(o);
  }
  select.value = chosen;
  list.querySelectorAll("li[data-code]").forEach((li) => li.addEventListener("click", () => { select.value = li.dataset.code; $("note").focus(); }));
  if (map && map.getSource("petitions")) map.getSource("petitions").setData(toGeojson(state.petitions));
}

async function loadAssigned() {
  const q = state.pos ? `?lat=${state.pos.latitude}&lon=${state.pos.longitude}` : "";
  try {
    const res = await fetch("/field/api/assigned/" + q, { credentials: "same-origin" });
    if (!res.ok) throw new Error(res.status);
    const data = await res.json();
    if (data.offline) throw new Error("offline");
    state.petitions = data.results;
    await put("cache", data.results, "assigned");
  } catch (e) {
    state.petitions = (await get("cache", "assigned")) || [];
  }
  renderList();
}

// --- outbox -----------------------------------------------------------------------------------
async function showQueue() {
  const pending = await all("outbox");
  $("queue-count").textContent = `${pending.length} chờ gửi`;
  $("queue-count").className = "pill" + (pending.length ? " pending" : "");
  const sent = (await all("sent")).sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1));
  const waiting = pending.filter((r) => !r.error);
  const failed = pending.filter((r) => r.error);
  $("sent").innerHTML = waiting.map((r) => `<li class="waiting" data-uuid="${esc(r.uuid)}">⏳ Chờ gửi · ${esc(r.petition || "Báo cáo mới")}<div>${esc(r.note)}</div></li>`).join("")
    + failed.map((r) => `<li class="failed" data-uuid="${esc(r.uuid)}"><strong>Lỗi:</strong> ${esc(r.error)}<div>${esc(r.note)}</div></li>`).join("")
    + sent.slice(0, 30).map((r) => `<li class="sent" data-uuid="${esc(r.uuid)}">✓ ${esc(r.petition || "Báo cáo mới")} · ${new Date(r.captured_at).toLocaleString("vi-VN")}<div>${esc(r.note)}</div></li>`).join("");
}

async function syncOne(item) {
  const body = new FormData();
  for (const k of ["uuid", "petition", "lat", "lon", "accuracy", "note", "outcome", "captured_at"]) body.append(k, item[k] ?? "");
  (item.photos || []).forEach((blob, i) => body.append("photos", blob, `photo-${i + 1}.jpg`));
  const res = await fetch("/field/api/reports/", { method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } });
  if (res.status === 200 || res.status === 201) {
    await put("sent", { uuid: item.uuid, petition: item.petition, note: item.note, captured_at: item.captured_at });
    await del("outbox", item.uuid);
    return true;
  }
  if (res.status >= 500 || res.status === 401 || res.status === 429) throw new Error("retry later");
  // 400/403/404/409: the server will never accept this as is; keep it visible for the officer.
  let message = `HTTP ${res.status}`;
  try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
  await put("outbox", { ...item, error: message });
  return false;
}

async function syncAll() {
  if (state.syncing) return;
  state.syncing = true;
  let delivered = 0;
  try {
    for (const item of await all("outbox")) {
      if (item.error) continue;
      try { if (await syncOne(item)) delivered += 1; } catch (e) { break; } // offline again: the next trigger resumes
    }
  } finally {
    state.syncing = false;
    await showQueue();
  }
  if (delivered) loadAssigned(); // verified petitions change status
}

$("report-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!state.pos) return;
  if (state.pos.accuracy > cfg.maxAccuracy) { $("form-msg").textContent = "Vị trí GPS quá kém chính xác."; return; }
  const files = [...$("photos").files];
  const item = {
    uuid: uuid4(),
    petition: $("petition").value,
    outcome: $("petition").value ? $("outcome").value : "",
    note: $("note").value.trim(),
    lat: state.pos.latitude.toFixed(7),
    lon: state.pos.longitude.toFixed(7),
    accuracy: state.pos.accuracy.toFixed(1),
    captured_at: new Date().toISOString(),
    photos: files,
  };
  await put("outbox", item);
  $("report-form").reset();
  $("form-msg").textContent = navigator.onLine ? "Đã lưu, đang gửi…" : "Đã lưu trên máy; sẽ gửi khi có mạng.";
  await showQueue();
  syncAll();
});
$("sync-btn").addEventListener("click", syncAll);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});
}
showNet();
initMap();
startGps();
loadAssigned();
showQueue().then(syncAll);
setInterval(() => { if (navigator.onLine) syncAll(); }, 15000);
