// Starts the admin's map widgets (gis_ioc/widgets/local_map.html) from their JSON options, so that no
// inline script is needed (the Content-Security-Policy forbids them). No online basemap: the district's
// commune boundaries, served by this platform, are the reference layer.
"use strict";
(function () {
  function communesLayer(url) {
    return new ol.layer.Vector({
      // GeoJSON is lon/lat (EPSG:4326); the source reprojects it to the map's Web Mercator view.
      source: new ol.source.Vector({ url: url, format: new ol.format.GeoJSON() }),
      style: function (feature) {
        return new ol.style.Style({
          stroke: new ol.style.Stroke({ color: "#52606d", width: 1.2, lineDash: [4, 3] }),
          text: new ol.style.Text({
            text: feature.get("name"), font: "12px DejaVu Sans, sans-serif", overflow: true,
            fill: new ol.style.Fill({ color: "#334e68" }),
            stroke: new ol.style.Stroke({ color: "#ffffff", width: 3 }),
          }),
        });
      },
    });
  }

  function start() {
    for (const wrapper of document.querySelectorAll("[data-local-map]")) {
      const options = JSON.parse(document.getElementById(wrapper.dataset.localMap).textContent);
      options.base_layer = communesLayer(options.communes_url);
      window[options.module] = new MapWidget(options);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
