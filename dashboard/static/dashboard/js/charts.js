// Chart.js wrappers: one chart per canvas, updated in place when the view changes.
import { locale, num, month, money } from "./format.js";

// Okabe–Ito: categorical colours told apart with every common colour-vision deficiency.
export const OKABE_ITO = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];

const charts = new Map();

function draw(canvas, config) {
  const old = charts.get(canvas);
  if (old) old.destroy();
  config.options = Object.assign(
    {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale,
      plugins: { legend: { display: config.data.datasets.length > 1, labels: { boxWidth: 12 } } },
    },
    config.options || {},
  );
  const chart = new window.Chart(canvas, config);
  charts.set(canvas, chart);
  return chart;
}

function valueAxis(isMoney) {
  return { beginAtZero: true, ticks: { callback: (v) => (isMoney ? money(v) : num(v, 1)) } };
}

export function series(canvas, datasets, unit) {
  const labels = (datasets[0]?.points || []).map(([d]) => month(d));
  return draw(canvas, {
    type: "line",
    data: {
      labels,
      datasets: datasets.map((ds, i) => ({
        label: ds.label,
        data: ds.points.map(([, v]) => v),
        borderColor: OKABE_ITO[i % OKABE_ITO.length],
        backgroundColor: OKABE_ITO[i % OKABE_ITO.length],
        borderDash: i ? [6, 3] : [],
        spanGaps: true,
        tension: 0.2,
        pointRadius: 2,
      })),
    },
    options: { scales: { y: valueAxis(unit === "VND") } },
  });
}

export function bars(canvas, labels, datasets, { horizontal = false, isMoney = false, colors = null, stacked = false } = {}) {
  return draw(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: datasets.map((ds, i) => ({
        label: ds.label,
        data: ds.data,
        backgroundColor: colors && datasets.length === 1 ? colors : OKABE_ITO[i % OKABE_ITO.length],
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      // Every category named (Chart.js would skip labels of a crowded axis).
      // Stacked (the crop mix: one series per season) when the chart says so.
      scales: horizontal
        ? { x: { ...valueAxis(isMoney), stacked }, y: { ticks: { autoSkip: false }, stacked } }
        : { y: { ...valueAxis(isMoney), stacked }, x: { stacked } },
    },
  });
}

/** History, the forecast and its band (the band fills between its lower and upper line). */
export function forecast(canvas, body, words, unit) {
  const past = body.history.slice(-24);
  const labels = [...past.map(([d]) => month(d)), ...body.forecast.map(([d]) => month(d))];
  const pad = (n) => Array(n).fill(null);
  const last = past[past.length - 1][1];
  const ahead = body.forecast;
  return draw(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: words.forecastHistory, data: [...past.map(([, v]) => v), ...pad(ahead.length)], borderColor: OKABE_ITO[0],
          backgroundColor: OKABE_ITO[0], pointRadius: 1, tension: 0.2 },
        { label: words.forecastMean, data: [...pad(past.length - 1), last, ...ahead.map(([, m]) => m)],
          borderColor: OKABE_ITO[5], backgroundColor: OKABE_ITO[5], borderDash: [6, 3], pointRadius: 2, tension: 0.2 },
        { label: "lo", data: [...pad(past.length), ...ahead.map(([, , lo]) => lo)], borderWidth: 0, pointRadius: 0 },
        { label: words.forecastBand, data: [...pad(past.length), ...ahead.map(([, , , hi]) => hi)], borderWidth: 0,
          pointRadius: 0, fill: "-1", backgroundColor: "rgba(213, 94, 0, 0.18)" },
      ],
    },
    options: {
      scales: { y: valueAxis(unit === "VND") },
      plugins: { legend: { display: true, labels: { boxWidth: 12, filter: (item) => item.text !== "lo" } } },
    },
  });
}
