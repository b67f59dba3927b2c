// Draws a journey's route (an encoded polyline, precision 6) on a Leaflet map.
(function () {
  const element = document.getElementById("journey-map");
  if (!element || !window.L) return;

  function decode(text, precision) {
    const factor = Math.pow(10, precision);
    const points = [];
    let index = 0, lat = 0, lon = 0;
    while (index < text.length) {
      for (const axis of [0, 1]) {
        let result = 0, shift = 0, byte;
        do {
          byte = text.charCodeAt(index++) - 63;
          result |= (byte & 0x1f) << shift;
          shift += 5;
        } while (byte >= 0x20);
        const delta = result & 1 ? ~(result >> 1) : result >> 1;
        if (axis === 0) lat += delta; else lon += delta;
      }
      points.push([lat / factor, lon / factor]);
    }
    return points;
  }

  const points = decode(element.dataset.path, 6);
  const map = L.map(element, { scrollWheelZoom: false });
  L.tileLayer(element.dataset.tiles, {
    maxZoom: 18,
    attribution: "© OpenStreetMap contributors",
  }).addTo(map);
  const line = L.polyline(points, { color: "#0b5cad", weight: 5 }).addTo(map);
  L.circleMarker(points[0], { radius: 6 }).addTo(map);
  L.circleMarker(points[points.length - 1], { radius: 6 }).addTo(map);
  map.fitBounds(line.getBounds(), { padding: [20, 20] });
  element.dataset.ready = "true";
})();
