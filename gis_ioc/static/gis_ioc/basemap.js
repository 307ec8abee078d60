// The one base map of every map page: `baseMap(options)` is `new maplibregl.Map(options)` on the platform's
// offline base (/tiles/basemap/style.json: relief, commune boundaries and names; tiles/styles.py).
//
// The map starts on a plain background at once (pages add their layers on "load" as before) and the base
// joins when its style arrives; without it (the field app offline, a server error) the page keeps working
// on the plain background. Base layers say where they go (metadata "ioc:place"): "under" below the page,
// "relief" above the page's fills (shading reads through a choropleth), "top" above everything. A page
// layer added without `beforeId` is slotted accordingly, whichever arrives first.
export const BASE_STYLE_URL = "/tiles/basemap/style.json";
const BACKGROUND = "#eef1f4";
const FILLS = new Set(["fill", "raster", "background", "fill-extrusion", "heatmap"]);


function firstWith(map, test) {
  return map.getStyle().layers.find((layer) => test(layer))?.id;
}

function addBase(map, style, without) {
  if (style.glyphs) map.setGlyphs(style.glyphs);
  for (const [id, source] of Object.entries(style.sources)) {
    if (!map.getSource(id)) map.addSource(id, source);
  }
  for (const layer of style.layers) {
    if (layer.type === "background" || without.includes(layer.id) || map.getLayer(layer.id)) continue;
    const place = layer.metadata?.["ioc:place"];
    let before;
    if (place === "under") before = firstWith(map, (l) => l.type !== "background");
    else if (place === "relief") before = firstWith(map, (l) => !l.metadata?.["ioc:place"] && !FILLS.has(l.type));
    map.addLayerOnBase(layer, before);
  }
  map.fire("basemap.ready");
}

/** A MapLibre map on the offline base; `map.baseReady` resolves once the base is drawn (or missing).
 *  `without`: ids of base layers the page draws itself (the dashboard labels the communes of the unit set
 *  it shows, which need not be today's). */
export function baseMap({ without = [], ...options }) {
  const map = new maplibregl.Map({
    ...options,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: "base-background", type: "background", paint: { "background-color": BACKGROUND } }],
    },
  });
  (window.iocMaps ||= []).push(map); // every map of the page, for the browser tests and the console
  const plainAdd = map.addLayer.bind(map);
  map.addLayerOnBase = plainAdd;
  map.addLayer = (layer, beforeId) => {
    if (beforeId === undefined) {
      const above = FILLS.has(layer.type) ? ["relief", "top"] : ["top"];
      beforeId = firstWith(map, (l) => above.includes(l.metadata?.["ioc:place"]));
    }
    return plainAdd(layer, beforeId);
  };
  const style = fetch(BASE_STYLE_URL, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  // Listened for from the start: "load" fires once, and neither map.loaded() nor isStyleLoaded() can tell
  // afterwards that it did (both are false again while a page's own source is loading).
  const loaded = new Promise((resolve) => map.once("load", resolve));
  map.baseReady = Promise.all([style, loaded]).then(([doc]) => {
    // A base that cannot be drawn must not leave the page's map waiting for it: say why, draw without it.
    try {
      if (doc) addBase(map, doc, without);
    } catch (error) {
      console.error("base map not drawn:", error);
    }
    return map;
  });
  return map;
}

