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
// An htmx request that fails (no connection, no answer in time, a server error, or a refusal without a fragment
// to swap) says so next to what was tapped, in the page's language (base.html's #request-failed carries the
// texts); nothing was swapped, so what was typed stays, and htmx has enabled the button again.
if (window.htmx) htmx.config.timeout = 20000;
// A photo on a slow connection may need longer: an upload waits as long as it takes (it says when it fails).
document.addEventListener("htmx:beforeSend", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form");
  if (form && (form.getAttribute("hx-encoding") || form.enctype) === "multipart/form-data") event.detail.xhr.timeout = 0;
});
function failureText(event) {
  var texts = document.getElementById("request-failed");
  if (!texts) return "";
  if (event.type === "htmx:timeout") return texts.getAttribute("data-timeout");
  if (event.type === "htmx:sendError") return texts.getAttribute(navigator.onLine ? "data-network" : "data-offline");
  var status = event.detail.xhr ? event.detail.xhr.status : 0;
  return texts.getAttribute(status >= 500 || status === 0 ? "data-server" : "data-refused");
}
function clearFailure(place) {
  var old = place && place.querySelector && place.querySelector(":scope > [data-request-failed-note]");
  if (old) old.remove();
}
function placeOf(elt) {
  return (elt && elt.closest && elt.closest("form")) || (elt && elt.parentElement);
}
function showRequestFailed(event) {
  var elt = event.detail && event.detail.elt;
  var form = elt && elt.closest && elt.closest("[data-upload-form]");
  if (form && form.querySelector("[data-upload-failed]")) return;  // the upload form says it its own way
  var text = failureText(event);
  var place = placeOf(elt);
  if (!text) return;
  if (!place || !place.isConnected) {
    var region = document.getElementById("request-failed");
    region.textContent = text;
    region.hidden = false;
    return;
  }
  clearFailure(place);
  var note = document.createElement("p");
  note.className = "alert alert-error";
  note.setAttribute("role", "alert");
  note.setAttribute("data-request-failed-note", "");
  note.textContent = text;
  place.appendChild(note);
}
document.addEventListener("htmx:sendError", showRequestFailed);
document.addEventListener("htmx:timeout", showRequestFailed);
document.addEventListener("htmx:responseError", showRequestFailed);
document.addEventListener("htmx:beforeRequest", function (event) {
  clearFailure(placeOf(event.detail.elt));
  var region = document.getElementById("request-failed");
  if (region) region.hidden = true;
});
