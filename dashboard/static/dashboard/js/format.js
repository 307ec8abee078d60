// Numbers, money and dates in the reader's locale: 1.234.567 ₫ and dd/mm/yyyy in Vietnamese.
const cfg = JSON.parse(document.getElementById("page-config").textContent);
export const locale = cfg.lang === "en" ? "en-GB" : "vi-VN";
export const strings = cfg.strings || {};

const numberFormats = new Map();
function nf(digits) {
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }));
  }
  return numberFormats.get(digits);
}

export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const d = Math.abs(value) >= 1000 ? 0 : digits;
  return nf(d).format(value);
}

const moneyFormat = new Intl.NumberFormat(locale, { style: "currency", currency: "VND", maximumFractionDigits: 0 });
export function money(value) {
  if (value === null || value === undefined) return "—";
  return moneyFormat.format(value);
}

const dateFormat = new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", year: "numeric" });
export function day(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return dateFormat.format(new Date(y, m - 1, d));
}

const monthFormat = new Intl.DateTimeFormat(locale, { month: "2-digit", year: "numeric" });
export function month(iso) {
  const [y, m] = iso.slice(0, 10).split("-").map(Number);
  return monthFormat.format(new Date(y, m - 1, 1));
}

// A value with its unit: money in đồng, percentages, counts.
export function withUnit(value, unit) {
  if (value === null || value === undefined) return "—";
  const u = (unit || "").trim();
  if (["VND", "đồng", "₫", "vnd"].includes(u)) return money(value);
  if (u === "%") return `${num(value, 1)} %`;
  return u ? `${num(value, 1)} ${u}` : num(value, 1);
}

// Build an element with text content only (never innerHTML with data: search results, popups, lists).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
