// Registers the service worker (offline page, cached shell) and the small behaviours pages share; the CSP allows
// no inline script, so they live here. Nothing here decides a business rule.
// Logging out or in forgets the pages saved for offline reading (they may show the previous person's view);
// logging out also stops this phone's push notifications (the next person would read the previous one's).
function forgetSavedPages() {
  if (!("caches" in window)) return Promise.resolve();
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key.indexOf("pk-pages-") === 0; })
      .map(function (key) { return caches.delete(key); }));
  });
}
function stopPushes() {
  if (!("serviceWorker" in navigator)) return Promise.resolve();
  return navigator.serviceWorker.getRegistration().then(function (registration) {
    return registration && registration.pushManager ? registration.pushManager.getSubscription() : null;
  }).then(function (subscription) { return subscription ? subscription.unsubscribe() : null; });
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-forget-saved-pages")) return;
  event.preventDefault();  // finish forgetting before the page goes away
  var leaving = form.getAttribute("action") === "/logout";
  Promise.all([forgetSavedPages(), leaving ? stopPushes() : null])
    .catch(function () { /* nothing saved, or storage unavailable */ })
    .then(function () { form.submit(); });
});
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* an old browser or private mode: the site works without it */ });
  });
}
// A photo upload that fails on the way (no connection, a refused size) says so under the form.
function showUploadFailed(event) {
  var form = event.target.closest && event.target.closest("[data-upload-form]");
  var note = form && form.querySelector("[data-upload-failed]");
  if (note) note.hidden = false;
}
document.addEventListener("htmx:responseError", showUploadFailed);
document.addEventListener("htmx:sendError", showUploadFailed);
