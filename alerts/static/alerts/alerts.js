// The alert centre follows the live stream (live/stream.py): an "alert.raised" (to the rule's recipients)
// or "alert.assigned" (to the person given it) event he receives — the stream applies the policy — is
// added at the top of the list, highlighted, without a reload (unless it is listed already).
import { baseMap } from "../gis_ioc/basemap.js";

// The status filter applies on change (an inline onchange= would be refused by the CSP).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}

(function () {
  const live = JSON.parse(document.getElementById("alert-live").textContent);
  if (!live || typeof EventSource === "undefined") return;
  const english = document.documentElement.lang === "en";
  const labels = JSON.parse(document.getElementById("alert-labels").textContent);
  const body = document.querySelector("#alert-list tbody");
  const source = new EventSource(live.url, { withCredentials: true });
  source.onopen = () => { document.body.dataset.live = "on"; };
  source.onerror = () => { document.body.dataset.live = source.readyState === EventSource.CLOSED ? "off" : "connecting"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "alert.changed" && event.payload && event.payload.alert) {
      // A step someone took (acknowledged, resolved…): the listed row shows the new status.
      const listed = document.querySelector(`tr[data-alert="${event.payload.alert.id}"] td.status`);
      if (listed) listed.textContent = labels.status[event.payload.alert.status] || event.payload.alert.status;
      return;
    }
    if (!["alert.raised", "alert.assigned"].includes(event.kind) || !event.payload || !event.payload.alert) return;
    const a = event.payload.alert;
    if (document.querySelector(`tr[data-alert="${a.id}"]`)) return;
    const row = document.createElement("tr");
    row.dataset.alert = a.id;
    row.className = `sev-${a.severity} live-new`;
    const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
    const badge = document.createElement("span");
    badge.className = `badge sev-${a.severity}`;
    badge.textContent = labels.severity[a.severity] || a.severity;
    const first = cell(""); first.append(badge);
    const link = document.createElement("a");
    link.href = `?alert=${a.id}`;
    link.textContent = english && a.message_en ? a.message_en : a.message_vi;
    const text = cell(""); text.append(link);
    const status = cell(labels.status[a.status] || a.status);
    status.className = "status";
    row.append(first, text, cell(a.commune_code || "—"), status, cell(new Date(a.raised_at).toLocaleString()));
    const empty = body.querySelector("td[colspan]");
    if (empty) empty.parentElement.remove();
    body.prepend(row);
  };
})();

// The alert centre's map: the located alerts of the list, coloured by severity; a click opens the alert.
(function () {
  const el = document.getElementById("alert-map");
  const data = JSON.parse(document.getElementById("alert-geojson").textContent);
  if (!el || typeof maplibregl === "undefined") return;
  const map = baseMap({
    container: el,
    center: [108.5, 11.78],
    zoom: 9,
  });
  map.on("load", () => {
    map.addSource("alerts", { type: "geojson", data });
    map.addLayer({
      id: "alerts",
      type: "circle",
      source: "alerts",
      paint: {
        "circle-radius": 7,
        "circle-stroke-width": 1,
        "circle-stroke-color": "#fff",
        "circle-color": ["match", ["get", "severity"], "critical", "#b3261e", "warning", "#b26a00", "#5b6b7b"],
      },
    });
    if (data.features.length) {
      const b = new maplibregl.LngLatBounds();
      data.features.forEach((f) => b.extend(f.geometry.coordinates));
      map.fitBounds(b, { padding: 40, maxZoom: 14, duration: 0 });
    }
    map.on("click", "alerts", (e) => { window.location.search = "?alert=" + e.features[0].properties.id; });
  });
})();
