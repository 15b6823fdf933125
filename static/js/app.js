// Registers the service worker (offline page, cached shell). Nothing here decides a business rule.
// Logging out or in forgets the pages saved for offline reading: they may show the previous person's view.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!("caches" in window) || !form.hasAttribute("data-forget-saved-pages")) return;
  event.preventDefault();  // finish forgetting before the page goes away
  caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key.indexOf("pk-pages-") === 0; })
      .map(function (key) { return caches.delete(key); }));
  }).catch(function () { /* nothing saved, or storage unavailable */ }).then(function () { form.submit(); });
});
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* an old browser or private mode: the site works without it */ });
  });
}
