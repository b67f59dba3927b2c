// Statistics page: charts drawn from the tables beside them (so a chart and its table can never
// disagree, and the page works without JavaScript), and the map of the range's journeys.
(function () {
  const palette = ["#0b5cad", "#d9822b", "#2e8540", "#b3261e", "#6b4fbb", "#00838f", "#8d6e63", "#546e7a"];

  function series(table) {
    const labels = [], values = [];
    for (const row of table.tBodies[0].rows) {
      const cell = row.querySelector("td[data-value]");
      if (!cell) continue;
      labels.push(row.cells[0].textContent.trim());
      values.push(parseFloat(cell.dataset.value));
    }
    return { labels, values };
  }

  if (window.Chart) {
    for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
      const table = document.getElementById(canvas.dataset.source);
      if (!table) continue;
      const { labels, values } = series(table);
      if (!values.length) { canvas.parentElement.hidden = true; continue; }
      const kind = canvas.dataset.chart;
      new Chart(canvas, {
        type: kind,
        data: {
          labels,
          datasets: [{
            label: "km",
            data: values,
            backgroundColor: kind === "bar" ? palette[0] : palette.slice(0, values.length),
          }],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: kind !== "bar", position: "bottom" },
            tooltip: { callbacks: { label: (item) => `${item.label}: ${item.formattedValue} km` } },
          },
          scales: kind === "bar" ? { y: { beginAtZero: true, title: { display: true, text: "km" } } } : {},
        },
      });
      canvas.dataset.ready = "true";
    }
  }

  const element = document.getElementById("stats-map");
  if (element && window.L) {
    const map = L.map(element, { scrollWheelZoom: false }).setView([51, 10], 4);
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
    fetch(element.dataset.source, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((data) => {
        const lines = (data.paths || []).map((path) => L.polyline(path, { color: "#0b5cad", weight: 3, opacity: 0.6 }).addTo(map));
        if (lines.length) map.fitBounds(L.featureGroup(lines).getBounds(), { padding: [20, 20] });
        element.dataset.ready = "true";
        element.dataset.routes = String(lines.length);
      })
      .catch(() => { element.dataset.ready = "error"; });
  }
})();
