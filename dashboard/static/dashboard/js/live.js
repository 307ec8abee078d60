// Live updates of the dashboard: server-sent events from the live stream (live/stream.py) instead of a
// reload-everything timer. On an event only what it touches is fetched again: the tiles of the changed
// layers (with their new version), and the one view request (KPIs, choropleth, charts) when a statistic on
// screen reads the changed table. What changed flashes briefly (KPI card, feature on the map) and is listed
// under "just changed". When the stream cannot be reached the page polls, as the timer did.
import { el } from "./format.js";

const FLASH_MS = 4000;
const FEED_LENGTH = 6;
const RETRY_GRACE_MS = 10000;

export function startLive({ cfg, refresh, dmap, catalog, state, communeName }) {
  const live = cfg.live;
  const poll = () => { refresh(); dmap.ready.then(() => dmap.reloadTiles()); };
  if (!live || typeof EventSource === "undefined") {
    if (cfg.wall) setInterval(poll, cfg.refreshSeconds * 1000); // visitors' control-room screens poll
    return null;
  }
  const t = live.strings;
  const css = el("link", { rel: "stylesheet", href: new URL("../live.css", import.meta.url).href });
  document.head.append(css);
  const status = el("p", { class: "live-status", id: "live-status", role: "status" });
  const feed = el("ul", { class: "live-feed", id: "live-feed", "aria-label": t.feed });
  const box = el("section", { class: "live-box" }, status, el("h4", { text: t.feed }), feed);
  document.getElementById("sidebar").prepend(box);

  let polling = null;
  const setStatus = (mode, text) => {
    document.body.dataset.live = mode;
    status.className = `live-status ${mode}`;
    status.textContent = text;
  };
  setStatus("connecting", t.connecting);

  // Refetches coalesce: one running, at most one more queued behind it (a burst of events = two requests).
  let running = null;
  let again = false;
  const flashKeys = new Set();
  function refetch(keys) {
    for (const k of keys) flashKeys.add(k);
    if (running) { again = true; return; }
    running = Promise.resolve(refresh()).finally(() => {
      running = null;
      flashCards();
      if (again) { again = false; refetch([]); }
    });
  }
  function flashCards() {
    for (const card of document.querySelectorAll(".kpi[data-key]")) {
      if (flashKeys.has(card.dataset.key)) flash(card);
    }
    flashKeys.clear();
  }

  function reloadLayer(slug, version) {
    const layer = catalog.find((l) => l.slug === slug);
    if (!layer) return;
    if (version) layer.version = version;
    dmap.ready.then(() => {
      const source = dmap.map.getSource(`lyr-${slug}`);
      if (!source || !source.setTiles || !source.tiles) return;
      // A new version in the URL: the browser cannot reuse a tile of the old one.
      source.setTiles(source.tiles.map((u) => (/[?&]v=\d+/.test(u) ? u.replace(/([?&]v=)\d+/, `$1${layer.version}`) : u)));
    });
  }

  function flashFeature(geometry) {
    if (!geometry || geometry.type !== "Point") return;
    dmap.ready.then(() => {
      // MapLibre positions a marker with `transform`: the animated ring is a child, not the marker itself.
      const dot = el("div", { class: "live-marker" }, el("div", { class: "live-pulse" }));
      const marker = new maplibregl.Marker({ element: dot }).setLngLat(geometry.coordinates).addTo(dmap.map);
      setTimeout(() => marker.remove(), FLASH_MS);
    });
  }

  function remember(event) {
    const feature = (event.payload.features || [])[0];
    const props = feature?.properties || {};
    const layer = catalog.find((l) => event.layers.includes(l.slug));
    const time = new Date(event.at).toLocaleTimeString(cfg.lang === "en" ? "en-GB" : "vi-VN");
    const what = [layer ? layer.title : event.kind, props.tracking_code, event.commune ? communeName(event.commune) : null];
    const item = el("li", { "data-event": String(event.id), "data-feature": feature ? String(feature.id) : "" },
      el("time", { text: time }), " ", what.filter(Boolean).join(" · "));
    feed.prepend(item);
    flash(item);
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
  }

  // An alert for this person (the stream sends "alert.raised" to the rule's recipients only, and
  // "alert.assigned" to the person given it): listed first in the feed, marked by severity, linking to
  // it in the alert centre. Data did not change: nothing is fetched again.
  function remindAlert(event) {
    const a = event.payload.alert;
    const time = new Date(event.at).toLocaleTimeString(cfg.lang === "en" ? "en-GB" : "vi-VN");
    const link = el("a", { href: a.url,
      text: (cfg.lang === "en" && a.message_en) || a.message_vi });
    const assigned = event.kind === "alert.assigned" ? " live-assigned" : "";
    const item = el("li", { class: `live-alert sev-${a.severity}${assigned}`, "data-event": String(event.id),
      "data-alert": String(a.id) }, el("time", { text: time }), " ⚠ ", link);
    feed.prepend(item);
    flash(item);
    flashFeature(event.geometry);
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
    document.body.dataset.liveLast = String(event.id);
  }

  function onEvent(event) {
    const payload = event.payload || {};
    if ((event.kind === "alert.raised" || event.kind === "alert.assigned") && payload.alert) {
      remindAlert(event);
      return;
    }
    if (event.kind.startsWith("alert.")) return; // a step of an alert's handling: the alert centre's news
    for (const slug of event.layers || []) reloadLayer(slug, (payload.layers || {})[slug]);
    // The statistics on screen that read the changed data (no list: an event of another kind, refetch).
    const onScreen = new Set([state.stat, ...[...document.querySelectorAll(".kpi[data-key]")].map((c) => c.dataset.key)]);
    const touched = payload.statistics ? payload.statistics.filter((s) => onScreen.has(s)) : [...onScreen];
    if (touched.length) refetch(touched);
    flashFeature(event.geometry);
    remember(event);
    document.body.dataset.liveLast = String(event.id);
  }

  function startPolling() {
    if (polling) return;
    setStatus("polling", t.polling.replace("%(n)s", cfg.refreshSeconds));
    polling = setInterval(poll, cfg.refreshSeconds * 1000);
  }

  const source = new EventSource(live.url, { withCredentials: true });
  let retrying = null;
  source.onopen = () => {
    if (polling) { clearInterval(polling); polling = null; }
    if (retrying) { clearTimeout(retrying); retrying = null; }
    setStatus("on", t.on);
  };
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
  // Away longer than the events are kept (or too far behind): reload everything once, then live.
  source.addEventListener("reset", () => { poll(); });
  source.onerror = () => {
    // CLOSED: it gave up (refused, no live server): poll from now on. CONNECTING: EventSource retries by
    // itself and resumes with Last-Event-ID (a stream ends every 10 minutes); poll only if that takes long.
    if (source.readyState === EventSource.CLOSED) { startPolling(); return; }
    if (!polling && !retrying) {
      setStatus("connecting", t.connecting);
      retrying = setTimeout(() => { retrying = null; if (source.readyState !== EventSource.OPEN) startPolling(); }, RETRY_GRACE_MS);
    }
  };
  return source;
}

function flash(node) {
  node.classList.remove("live-flash");
  void node.offsetWidth; // restart the animation when the same card changes twice
  node.classList.add("live-flash");
  setTimeout(() => node.classList.remove("live-flash"), FLASH_MS);
}
