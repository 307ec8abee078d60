// The MapLibre map on the offline base (gis_ioc/basemap.js: relief, boundaries, names): commune boundaries
// (GeoJSON, coloured by the choropleth through feature state), clickable commune names as HTML markers,
// catalog layers as vector/raster tiles, popups.
import { el, strings } from "./format.js";
import { baseMap } from "../../gis_ioc/basemap.js";

const NO_DATA = "#e3e3e3";

function bboxOf(fc) {
  let b = [180, 90, -180, -90];
  for (const f of fc.features) {
    const [x0, y0, x1, y1] = f.properties.bbox;
    b = [Math.min(b[0], x0), Math.min(b[1], y0), Math.max(b[2], x1), Math.max(b[3], y1)];
  }
  return b;
}

function colorExpr(style, fallback) {
  if (style.kind === "categories" && style.field && style.colors) {
    const expr = ["match", ["to-string", ["get", style.field]]];
    for (const [k, c] of Object.entries(style.colors)) expr.push(k, c);
    expr.push(style.default_color || "#888888");
    return expr;
  }
  return style.color || fallback;
}

export class DistrictMap {
  constructor(container, { communes, catalog, onCommuneClick, interactive = true }) {
    this.communes = communes;
    this.catalog = catalog;
    this.onCommuneClick = onCommuneClick;
    this.labels = [];
    this.filters = new Map();
    this.bounds = communes.features.length ? bboxOf(communes) : [108.3, 11.6, 108.7, 11.9];
    // The online basemap, when configured (IOC_MAPPROXY_BASEMAP_URL), is a layer "basemap" of the base style.
    this.map = baseMap({
      container,
      without: ["base-boundaries", "base-labels"], // drawn here, for the unit set shown (not only today's)
      bounds: this.bounds,
      fitBoundsOptions: { padding: 20 },
      attributionControl: false,
      preserveDrawingBuffer: true, // screenshots and the printed report read the canvas
      interactive,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
    this.map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    this.ready = new Promise((resolve) => this.map.on("load", () => { this._addCommunes(); this._addCatalog(); resolve(this); }));
  }

  _addCommunes() {
    const m = this.map;
    m.addSource("communes", { type: "geojson", data: this.communes, promoteId: "code" });
    m.addLayer({
      id: "communes-fill", type: "fill", source: "communes",
      paint: {
        "fill-color": ["coalesce", ["feature-state", "color"], NO_DATA],
        "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.95, 0.78],
      },
    });
    m.addLayer({ id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#2b2b2b", "line-width": 1.2 } });
    m.addLayer({
      id: "communes-focus", type: "line", source: "communes", filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#d55e00", "line-width": 4 },
    });
    for (const f of this.communes.features) {
      const node = el("div", { class: "commune-label", "data-code": f.properties.code, text: f.properties.name.replace(/^(Xã|Thị trấn) /, "") });
      node.addEventListener("click", () => this.onCommuneClick?.(f.properties.code));
      this.labels.push(new maplibregl.Marker({ element: node }).setLngLat(f.properties.label).addTo(m));
    }
    let hovered = null;
    m.on("mousemove", "communes-fill", (e) => {
      if (hovered !== null) m.setFeatureState({ source: "communes", id: hovered }, { hover: false });
      hovered = e.features[0]?.id ?? null;
      if (hovered !== null) m.setFeatureState({ source: "communes", id: hovered }, { hover: true });
      m.getCanvas().style.cursor = "pointer";
    });
    m.on("mouseleave", "communes-fill", () => {
      if (hovered !== null) m.setFeatureState({ source: "communes", id: hovered }, { hover: false });
      hovered = null;
      m.getCanvas().style.cursor = "";
    });
    m.on("click", (e) => this._click(e));
  }

  _addCatalog() {
    const m = this.map;
    for (const layer of this.catalog) {
      if (layer.slug === "communes") continue;
      const id = `lyr-${layer.slug}`;
      const url = new URL(layer.tiles, location.origin).href.replace(/%7B/g, "{").replace(/%7D/g, "}");
      const visibility = layer.on ? "visible" : "none";
      if (layer.kind === "raster") {
        m.addSource(id, { type: "raster", tiles: [url], tileSize: 256, minzoom: layer.min_zoom, maxzoom: Math.min(layer.max_zoom, 18) });
        m.addLayer({ id, type: "raster", source: id, layout: { visibility }, paint: { "raster-opacity": 0.7 } }, "communes-line");
        continue;
      }
      m.addSource(id, { type: "vector", tiles: [`${url}?v=${layer.version}`], minzoom: Math.min(layer.min_zoom, 14), maxzoom: 14 });
      const color = colorExpr(layer.style || {}, "#0072b2");
      const base = { source: id, "source-layer": layer.slug, layout: { visibility } };
      if (layer.geometry_type.includes("Point")) {
        m.addLayer({ ...base, id, type: "circle", paint: { "circle-color": color, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1.2 } });
      } else if (layer.geometry_type.includes("Polygon")) {
        m.addLayer({ ...base, id, type: "fill", paint: { "fill-color": color, "fill-opacity": layer.style?.fill_opacity ?? 0.45 } }, "communes-line");
        m.addLayer({ ...base, id: `${id}-outline`, type: "line", paint: { "line-color": "#444", "line-width": 0.5 } }, "communes-line");
      } else {
        m.addLayer({ ...base, id, type: "line", paint: { "line-color": color, "line-width": 2 } });
      }
    }
  }

  // Control room: fetch the tiles again (the server answers 304 for unchanged ones, by ETag).
  reloadTiles() {
    for (const layer of this.catalog) {
      const source = this.map.getSource(`lyr-${layer.slug}`);
      if (source && layer.on && source.setTiles) source.setTiles(source.tiles);
    }
  }

  layerIds(slug) {
    return [`lyr-${slug}`, `lyr-${slug}-outline`].filter((id) => this.map.getLayer(id));
  }

  setVisible(slug, on) {
    if (slug === "basemap") {
      if (this.map.getLayer("basemap")) this.map.setLayoutProperty("basemap", "visibility", on ? "visible" : "none");
      return;
    }
    for (const id of this.layerIds(slug)) this.map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
  }

  // The features of one commune only (profile view), or of all (null).
  focusCommune(code) {
    this.map.setFilter("communes-focus", ["==", ["get", "code"], code || ""]);
    for (const layer of this.catalog) {
      // Raster layers take no filter; layers without a commune code are left whole.
      if (layer.kind === "raster" || !layer.fields.some((f) => f.name === "commune_code")) continue;
      for (const id of this.layerIds(layer.slug)) {
        this.map.setFilter(id, code ? ["==", ["get", "commune_code"], code] : null);
      }
    }
    const f = this.communes.features.find((x) => x.properties.code === code);
    this.map.fitBounds(f ? f.properties.bbox : this.bounds, { padding: 40, maxZoom: 13, duration: 0 });
  }

  // Choropleth: colour of each commune from its class.
  paint(choropleth) {
    for (const f of this.communes.features) {
      const code = f.properties.code;
      const cls = choropleth ? choropleth.classes[code] : null;
      const color = cls === null || cls === undefined ? null : choropleth.colors[cls];
      this.map.setFeatureState({ source: "communes", id: f.id }, { color });
    }
  }

  _click(e) {
    const m = this.map;
    const ids = this.catalog.flatMap((l) => this.layerIds(l.slug)).filter((id) => m.getLayoutProperty(id, "visibility") === "visible");
    const hits = ids.length ? m.queryRenderedFeatures(e.point, { layers: ids }) : [];
    if (hits.length) {
      const hit = hits[0];
      const slug = hit.layer.id.replace(/^lyr-/, "").replace(/-outline$/, "");
      const layer = this.catalog.find((l) => l.slug === slug);
      const table = el("table", { class: "popup-table" });
      for (const field of layer.fields) {
        const value = hit.properties[field.name];
        if (value === undefined || value === null || value === "") continue;
        table.append(el("tr", {}, el("th", { text: field.title }), el("td", { text: String(value) })));
      }
      new maplibregl.Popup({ maxWidth: "320px" })
        .setLngLat(e.lngLat)
        .setDOMContent(el("div", { class: "popup" }, el("h3", { text: layer.title }), table))
        .addTo(m);
      return;
    }
    const communes = m.queryRenderedFeatures(e.point, { layers: ["communes-fill"] });
    if (communes.length) this.onCommuneClick?.(communes[0].properties.code);
  }
}

export function legendRows(container, entries) {
  container.replaceChildren(
    ...entries.map((e) => {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = e.color;
      return el("div", { class: "legend-row" }, swatch, el("span", { text: e.label }));
    }),
  );
}

export { strings };
