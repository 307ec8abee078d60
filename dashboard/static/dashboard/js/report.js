// Charts of the printed report; window.reportReady tells the PDF printer they are drawn.
(function () {
  const print = document.getElementById("print-report");
  if (print) print.addEventListener("click", (e) => { e.preventDefault(); window.print(); });
  const d = JSON.parse(document.getElementById("chart-data").textContent);
  const locale = d.lang === "en" ? "en-GB" : "vi-VN";
  const fmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const months = new Intl.DateTimeFormat(locale, { month: "2-digit", year: "numeric" });
  const colours = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"];
  const common = { animation: false, responsive: true, maintainAspectRatio: false, devicePixelRatio: 2 };
  if (d.series.length) {
    new Chart(document.getElementById("report-series"), {
      type: "line",
      data: {
        labels: d.series.map(([x]) => months.format(new Date(x + "T00:00:00"))),
        datasets: [{ label: d.title, data: d.series.map(([, v]) => v), borderColor: colours[0], backgroundColor: colours[0], spanGaps: true }],
      },
      options: { ...common, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { callback: (v) => fmt.format(v) } } } },
    });
  }
  const box = document.getElementById("report-categories");
  for (const c of d.categories) {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = c.title;
    const wrap = document.createElement("div");
    wrap.className = "chart-box small";
    const canvas = document.createElement("canvas");
    wrap.append(canvas);
    fig.append(cap, wrap);
    box.append(fig);
    new Chart(canvas, {
      type: "bar",
      data: { labels: c.labels, datasets: c.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: colours[i] })) },
      options: { ...common, indexAxis: "y", plugins: { legend: { display: c.series.length > 1 } }, scales: { x: { beginAtZero: true, ticks: { callback: (v) => fmt.format(v) } }, y: { ticks: { autoSkip: false } } } },
    });
  }
  requestAnimationFrame(() => { window.reportReady = true; });
})();
