// The search box: results from /dashboard/api/search, written as text (never HTML).
import { el, strings } from "./format.js";

export function attachSearch(input, list, onPick) {
  let timer = null;
  let controller = null;
  const close = () => { list.hidden = true; list.replaceChildren(); };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q.length < 2) return close();
      controller?.abort();
      controller = new AbortController();
      try {
        const r = await fetch(`/dashboard/api/search?q=${encodeURIComponent(q)}`, { signal: controller.signal });
        const { results } = await r.json();
        list.replaceChildren(
          ...(results.length
            ? results.map((res) => el("li", { class: `result kind-${res.kind}`, tabindex: "0", onclick: () => { close(); onPick(res); } },
                el("strong", { text: res.label }), " ", el("small", { text: res.detail || "" })))
            : [el("li", { class: "empty", text: strings.noResults })]),
        );
        list.hidden = false;
      } catch (e) {
        if (e.name !== "AbortError") throw e;
      }
    }, 200);
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  document.addEventListener("click", (e) => { if (!list.contains(e.target) && e.target !== input) close(); });
}
