// Pasar Kawasan service worker: cache the shell, show the offline page when the network is gone, and keep
// the last catalogue, product and vendor pages for reading offline.
// Pages are always fetched from the network first, so prices are never taken from the cache while online;
// a page served from the cache is marked as a saved copy that may be out of date, and only catalogue pages
// are ever saved: cart, checkout and every form post go to the network or fail.
// The server replaces the version with a hash of the shell's files, so a new release refreshes the cache.
const VERSION = "pk-shell-__VERSION__";
const PAGES = "pk-pages-__VERSION__";
const MAX_SAVED_PAGES = 40;
const SAVED_PAGE = /^\/(catalogue|products\/\d+|vendors\/\d+)$/;
// Fetched without cookies: the cached offline page must not show whoever was logged in at install time.
const SHELL = [new Request("/offline", { credentials: "omit" })];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== VERSION && key !== PAGES).map((key) => caches.delete(key))))
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
  if (request.mode === "navigate" && SAVED_PAGE.test(url.pathname)) {
    event.respondWith(fetch(request).then((response) => {
      if (response.ok && (response.headers.get("content-type") || "").startsWith("text/html")) {
        const copy = response.clone();
        event.waitUntil(savePage(request, copy));
      }
      return response;
    }).catch(() => savedCopy(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  }
});

async function savePage(request, response) {
  const cache = await caches.open(PAGES);
  await cache.put(request, response);
  const keys = await cache.keys();  // oldest first
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_SAVED_PAGES)).map((key) => cache.delete(key)));
}

// A saved page, with its "saved copy, may be out of date" note shown (the page carries the note, translated,
// hidden); the offline page when this page was never saved.
async function savedCopy(request) {
  const cache = await caches.open(PAGES);
  const saved = await cache.match(request);
  if (!saved) return caches.match("/offline");
  const html = (await saved.text()).replace("data-saved-copy-note hidden", "data-saved-copy-note");
  return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// Web Push: the server sends {title, body, url} (encrypted, see backend/notifications/push.py); show it, and
// open its page when it is tapped.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data.text() };
  }
  event.waitUntil(self.registration.showNotification(message.title || "Pasar Kawasan", {
    body: message.body || "",
    icon: "/static/icons/icon-192.png",
    data: { url: message.url || "/inbox" },
    // One message sent twice (after a server crash) replaces itself instead of showing twice.
    tag: message.tag || undefined,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL((event.notification.data && event.notification.data.url) || "/inbox", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/inbox", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === target.href && "focus" in client);
      return open ? open.focus() : self.clients.openWindow(target.href);
    })
  );
});
