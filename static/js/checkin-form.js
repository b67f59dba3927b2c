// Manual check-in: picking a suggested station fills its name and its coordinates (so the
// journey gets a distance); typing a new name clears coordinates that no longer belong to it.
(function () {
  document.addEventListener("click", function (event) {
    const button = event.target.closest(".suggestion");
    if (!button) return;
    const field = button.dataset.field;
    document.getElementById("id_" + field + "_name").value = button.dataset.name;
    document.getElementById("id_" + field + "_lat").value = button.dataset.lat;
    document.getElementById("id_" + field + "_lon").value = button.dataset.lon;
    document.getElementById(field + "-suggestions").innerHTML = "";
  });
  for (const field of ["origin", "destination"]) {
    const input = document.getElementById("id_" + field + "_name");
    if (!input) continue;
    input.addEventListener("input", function () {
      document.getElementById("id_" + field + "_lat").value = "";
      document.getElementById("id_" + field + "_lon").value = "";
    });
  }
})();
