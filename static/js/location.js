// "Use my location": fills the latitude and longitude inputs from the phone's GPS.
// The button stays hidden without JavaScript or geolocation; then, or when permission is refused,
// the vendor simply types the numbers (or the catalogue measures from the factory or zone). Messages come translated from the page (data-* attributes).
(function () {
  "use strict";
  var button = document.querySelector("[data-locate]");
  if (!button || !("geolocation" in navigator)) return;
  var latitude = document.getElementById(button.dataset.lat);
  var longitude = document.getElementById(button.dataset.lon);
  var status = document.getElementById(button.dataset.status);
  if (!latitude || !longitude) return;

  function say(message) { if (status && message) status.textContent = message; }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say(button.dataset.busy);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        button.disabled = false;
        say(button.dataset.done);
        // The catalogue searches again from the new place at once.
        var form = button.dataset.submit && document.getElementById(button.dataset.submit);
        if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
      },
      function () {
        button.disabled = false;
        say(button.dataset.failed);
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });
})();
