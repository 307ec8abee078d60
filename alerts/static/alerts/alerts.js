// The alert centre's map: the located alerts of the list, coloured by severity; a click opens the alert.
(function () {
  const el = document.getElementById("alert-map");
  const data = JSON.parse(document.getElementById("alert-geojson").textContent);
  if (!el || typeof maplibregl === "undefined") return;
  const map = new maplibregl.Map({
    container: el,
    style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f4f6f8" } }] },
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
