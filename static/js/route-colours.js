// Departure boards: each line in its operator's colours (GTFS route_color / route_text_color).
// Set here from data attributes, since the Content-Security-Policy allows no style attribute
// in the page; the server sends only six-digit hex colours, and this checks again.
(function () {
  const hex = /^[0-9a-f]{6}$/i;
  for (const line of document.querySelectorAll("[data-route-color]")) {
    const background = line.dataset.routeColor;
    const text = line.dataset.routeTextColor || "";
    if (!hex.test(background)) continue;
    line.style.backgroundColor = "#" + background;
    line.style.color = "#" + (hex.test(text) ? text : "ffffff");
  }
})();
