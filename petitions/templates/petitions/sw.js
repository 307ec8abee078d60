// Field app service worker: the app shell is cached at install; assigned petitions are cached
// network-first so the officer still sees them without a signal. Report POSTs are never cached:
// the page keeps them in IndexedDB and retries (idempotent by UUID on the server).
const CACHE = "field-shell-v4";
const DATA = "field-data-v1";
const ASSETS = {{ assets|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE && k !== DATA).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/field/api/assigned") || url.pathname.startsWith("/field/api/my-reports")) {
    // Network first; the last good answer when offline.
    const key = url.pathname;
    event.respondWith(
      fetch(req).then((res) => {
        if (res.ok) { const copy = res.clone(); caches.open(DATA).then((c) => c.put(key, copy)); }
        return res;
      }).catch(() => caches.match(key).then((hit) => hit || new Response('{"results": [], "offline": true}', { headers: { "Content-Type": "application/json" } }))),
    );
    return;
  }
  if (url.pathname === "/field/" || req.mode === "navigate") {
    event.respondWith(
      fetch(req).then((res) => {
        if (res.ok && url.pathname === "/field/") { const copy = res.clone(); caches.open(CACHE).then((c) => c.put("/field/", copy)); }
        return res;
      }).catch(() => caches.match("/field/")),
    );
    return;
  }
  event.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
});
