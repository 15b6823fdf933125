// Pasar Kawasan service worker: cache the shell, show the offline page when the network is gone.
// Pages are always fetched from the network first, so prices are never taken from the cache while online.
// The server replaces the version with a hash of the shell's files, so a new release refreshes the cache.
const VERSION = "pk-shell-__VERSION__";
// Fetched without cookies: the cached offline page must not show whoever was logged in at install time.
const SHELL = [new Request("/offline", { credentials: "omit" })];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== VERSION).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  const url = new URL(request.url);
  if (url.pathname.startsWith("/static/")) {
    // Static files carry a content hash in their URL, so a cached copy is always the right one.
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(VERSION).then((cache) => cache.put(request, copy));
        }
        return response;
      }))
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  }
});
