// "Turn on notifications on this phone" on the inbox page: subscribes this browser to Web Push with the
// site's public key and hands the subscription to the server (POST /push/subscriptions); "turn off" undoes it.
// The buttons stay hidden where the browser cannot receive pushes. Nothing here decides a business rule.
(function () {
  var turnOn = document.querySelector("[data-push-subscribe]");
  var turnOff = document.querySelector("[data-push-unsubscribe]");
  if (!turnOn || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  var status = document.getElementById(turnOn.getAttribute("data-status"));

  function say(text) { if (status) status.textContent = text || ""; }

  // The same token htmx sends (base.html puts it in the body's hx-headers); the CSRF cookie is httpOnly.
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (error) { return ""; }
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, key) {
    var used = subscription.options && subscription.options.applicationServerKey;
    if (!used) return true;  // an older browser does not say: assume it is ours
    used = new Uint8Array(used);
    if (used.length !== key.length) return false;
    for (var i = 0; i < key.length; i++) if (used[i] !== key[i]) return false;
    return true;
  }

  // The server's answer carries a message in the reader's language when it refuses.
  function send(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { var refused = new Error(answer.message || ""); refused.shown = !!answer.message; throw refused; }
        return answer;
      });
    });
  }

  function show(subscribed) {
    turnOn.hidden = subscribed;
    if (turnOff) turnOff.hidden = !subscribed;
  }

  function registration() {
    // app.js registers the worker on load; registering again is harmless and covers a page opened before it.
    return navigator.serviceWorker.register("/sw.js").then(function () { return navigator.serviceWorker.ready; });
  }

  var key = keyBytes(turnOn.getAttribute("data-key"));

  registration().then(function (worker) { return worker.pushManager.getSubscription(); }).then(function (existing) {
    if (Notification.permission === "denied") { say(turnOn.getAttribute("data-blocked")); show(false); return; }
    show(!!existing && Notification.permission === "granted");
    // Refresh the server's copy: the phone may have been used by someone else since, or its keys changed.
    if (existing && Notification.permission === "granted" && sameKey(existing, key)) send("/push/subscriptions", existing.toJSON()).catch(function () {});
  }).catch(function () { /* no service worker (private mode): the buttons stay hidden */ });

  turnOn.addEventListener("click", function () {
    turnOn.disabled = true;
    say(turnOn.getAttribute("data-busy"));
    registration().then(function (worker) {
      return worker.pushManager.getSubscription().then(function (existing) {
        if (existing && sameKey(existing, key)) return existing;
        // Subscribed with an older key of the site: that subscription cannot be used any more.
        return (existing ? existing.unsubscribe() : Promise.resolve()).then(function () {
          return worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        });
      });
    }).then(function (subscription) {
      return send("/push/subscriptions", subscription.toJSON());
    }).then(function () {
      say(turnOn.getAttribute("data-done"));
      show(true);
    }).catch(function (error) {
      if (Notification.permission === "denied") say(turnOn.getAttribute("data-blocked"));
      else say(error && error.shown ? error.message : turnOn.getAttribute("data-failed"));
    }).then(function () { turnOn.disabled = false; });
  });

  if (turnOff) turnOff.addEventListener("click", function () {
    turnOff.disabled = true;
    registration().then(function (worker) { return worker.pushManager.getSubscription(); }).then(function (existing) {
      if (!existing) return null;
      var endpoint = existing.endpoint;
      return existing.unsubscribe().then(function () { return send("/push/unsubscribe", { endpoint: endpoint }); });
    }).then(function () {
      say(turnOff.getAttribute("data-done"));
      show(false);
    }).catch(function (error) {
      say(error && error.shown ? error.message : turnOff.getAttribute("data-failed"));
    }).then(function () { turnOff.disabled = false; });
  });
})();
