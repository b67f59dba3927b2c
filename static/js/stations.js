// "Stations near me": fills the search form's position from the browser and submits it.
// Without JavaScript (or geolocation) the button stays hidden and search by name still works.
(function () {
  const button = document.getElementById("station-nearby");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("station-lat").value = position.coords.latitude.toFixed(5);
      document.getElementById("station-lon").value = position.coords.longitude.toFixed(5);
      button.form.submit();
    });
  });
  // Empty position fields must not be sent as "lat=&lon=" with a plain name search.
  button.form.addEventListener("submit", function () {
    for (const id of ["station-lat", "station-lon"]) {
      const field = document.getElementById(id);
      if (!field.value) field.disabled = true;
    }
  });
})();
