// Redox Lab dashboard: the little every page needs. No inline scripts anywhere (the CSP allows none).
// Times: the server writes UTC; show them in the viewer's zone, keeping UTC in the tooltip.
(function () {
  "use strict";
  const pad = (n) => String(n).padStart(2, "0");
  const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const relative = (d) => {
    const s = Math.round((Date.now() - d.getTime()) / 1000);
    if (s < 0) return local(d);
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    if (s < 86400 * 14) return `${Math.floor(s / 86400)} d ago`;
    return local(d).slice(0, 10);
  };
  function localiseTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) continue;
      el.textContent = el.dataset.style === "relative" ? relative(d) : local(d);
      el.title = `${local(d)} (${Intl.DateTimeFormat().resolvedOptions().timeZone})\n${el.title}`;
    }
  }
  window.RedoxLab = Object.assign(window.RedoxLab || {}, { localiseTimes, formatLocal: local });
  localiseTimes(document);
})();

// Console page: "only highlighted lines" hides the plain lines of the page shown.
(function () {
  "use strict";
  const box = document.getElementById("filter-marked");
  if (!box) return;
  box.addEventListener("change", () => {
    for (const pre of document.querySelectorAll("pre.console")) pre.classList.toggle("only-marked", box.checked);
  });
})();
