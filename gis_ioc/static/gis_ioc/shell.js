// The shell's behaviour on every page (gis_ioc/templates/gis_ioc/shell.html): the menu and the user box are
// <details> elements, so they work without this script; it closes them on Escape, on a click elsewhere and
// when the other one opens, and makes the error page's "back" link go back when there is a page to go to.
const panels = [...document.querySelectorAll(".shell-menu, .shell-user")];

for (const panel of panels) {
  panel.addEventListener("toggle", () => {
    if (panel.open) panels.filter((other) => other !== panel).forEach((other) => { other.open = false; });
  });
}
document.addEventListener("click", (event) => {
  for (const panel of panels) if (panel.open && !panel.contains(event.target)) panel.open = false;
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const panel of panels) {
    if (panel.open) {
      panel.open = false;
      panel.querySelector("summary").focus();
    }
  }
});
for (const link of document.querySelectorAll("a[data-back]")) {
  link.addEventListener("click", (event) => {
    if (window.history.length > 1 && document.referrer.startsWith(window.location.origin)) {
      event.preventDefault();
      window.history.back();
    }
  });
}
