// Registers the service worker (offline page, cached shell). Nothing here decides a business rule.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* an old browser or private mode: the site works without it */ });
  });
}
