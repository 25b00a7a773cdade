// Redox Lab charts: series over commits drawn with uPlot (wwwroot/lib/uplot, from npm).
// Each <div class="chart" data-chart="{json}"> holds its data (see SeriesCharts.razor): per commit the
// median, the min-max band and, for boot time, each stage's median time stacked in boot order.
// Text from the server is only ever set with textContent.
(function () {
  "use strict";
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  const ink = dark ? "#e4e8ee" : "#1b2330";
  const grid = dark ? "#28303a" : "#e8ebef";
  const muted = dark ? "#8d98a6" : "#667085";
  const palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const fmt = (v) => v == null ? "—" : v === 0 ? "0" : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };

  function draw(box) {
    const d = JSON.parse(box.dataset.chart);
    const n = d.commits.length;
    const xs = Array.from({ length: n }, (_, i) => i);
    const data = [xs];
    const series = [{}];
    const stacked = !d.metric && d.stages.length > 0;
    // Stacked bars: one per commit, each stage a segment (the cumulative series overlap, top stage first).
    const bars = uPlot.paths.bars({ size: [0.7, 48], gap: 1 });
    if (stacked) {
      // Cumulative sums, drawn from the top stage down so each lower stage paints over the one above.
      let sum = new Array(n).fill(0);
      const cums = d.stages.map((_, s) => (sum = sum.map((c, k) => c + (d.stageMedians[s][k] ?? 0))));
      for (let s = cums.length - 1; s >= 0; s--) {
        data.push(cums[s]);
        const c = palette[s % palette.length];
        // Opaque: the bars overlap, and translucent fills would blend into colours no stage has.
        series.push({ label: d.stages[s], stroke: c, fill: c, width: 0, points: { show: false }, paths: bars });
      }
    }
    const maxIdx = data.push(d.max) - 1;
    series.push({ label: "slowest", stroke: "transparent", points: { show: false } });
    const minIdx = data.push(d.min) - 1;
    series.push({ label: "fastest", stroke: "transparent", points: { show: false } });
    data.push(d.median);
    series.push({ label: "median", stroke: ink, width: 2, points: { show: true, size: 7, fill: ink, stroke: ink } });

    const tip = el("div", "chart-tip");
    const wrap = el("div", "chart-wrap");
    box.appendChild(wrap);
    const opts = {
      width: Math.max(320, box.clientWidth),
      height: 320,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, range: () => [-0.5, Math.max(0.5, n - 0.5)] }, y: { range: (u, lo, hi) => [0, hi * 1.08 || 1] } },
      axes: [
        { stroke: muted, grid: { show: false }, ticks: { stroke: grid }, space: 60, incrs: [1, 2, 5, 10, 20, 50, 100],
          values: (u, splits) => splits.map((i) => Number.isInteger(i) && d.commits[i] ? d.commits[i].slice(0, 8) : ""), font: "11px ui-monospace, monospace" },
        { stroke: muted, grid: { stroke: grid }, ticks: { stroke: grid }, size: 64, label: d.unit, labelSize: 18, values: (u, splits) => splits.map(fmt) },
      ],
      series,
      bands: [{ series: [maxIdx, minIdx], fill: dark ? "rgba(228,232,238,0.16)" : "rgba(27,35,48,0.12)" }],
      hooks: {
        draw: [(u) => {
          if (d.highlight < 0) return;
          const x = u.valToPos(d.highlight, "x", true);
          const ctx = u.ctx;
          ctx.save(); ctx.strokeStyle = "#f97316"; ctx.lineWidth = 2 * devicePixelRatio; ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke(); ctx.restore();
        }],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
          tip.replaceChildren();
          tip.appendChild(el("b", null, d.commits[i].slice(0, 12)));
          tip.appendChild(el("div", "sub", window.RedoxLab ? window.RedoxLab.formatLocal(new Date(d.at[i])) : new Date(d.at[i]).toISOString()));
          tip.appendChild(el("div", null, `median ${fmt(d.median[i])} ${d.unit} · ${d.boots[i]} ${d.metric ? "values" : "boots"}`));
          tip.appendChild(el("div", "sub", `range ${fmt(d.min[i])} – ${fmt(d.max[i])}`));
          if (stacked) {
            const t = el("table");
            for (let s = d.stages.length - 1; s >= 0; s--) {
              const r = el("tr");
              const sw = el("td"); sw.appendChild(el("i", "sw")).style.background = palette[s % palette.length];
              r.append(sw, el("td", null, d.stages[s]), el("td", "num", "+" + fmt(d.stageMedians[s][i])));
              t.appendChild(r);
            }
            tip.appendChild(t);
          }
          tip.appendChild(el("div", "sub", "click to open the run"));
          tip.hidden = false;
          const left = u.valToPos(i, "x");
          tip.style.left = Math.min(left + 14, u.over.clientWidth - 230) + "px";
          tip.style.top = "8px";
        }],
      },
    };
    const plot = new uPlot(opts, data, wrap);
    plot.over.appendChild(tip);
    tip.hidden = true;
    plot.over.style.cursor = "pointer";
    plot.over.addEventListener("click", () => {
      const i = plot.cursor.idx;
      if (i != null && d.runs[i]) window.location.href = d.runs[i];
    });
    if (stacked) {
      const legend = el("div", "chart-legend");
      d.stages.forEach((s, k) => { const item = el("span"); item.appendChild(el("i", "sw")).style.background = palette[k % palette.length]; item.appendChild(document.createTextNode(s)); legend.appendChild(item); });
      const med = el("span"); med.appendChild(el("i", "sw line")); med.appendChild(document.createTextNode("median to last stage, shaded: fastest–slowest boot")); legend.appendChild(med);
      box.appendChild(legend);
    }
    window.addEventListener("resize", () => plot.setSize({ width: Math.max(320, box.clientWidth), height: 320 }));
    box.dataset.ready = "true";
  }

  for (const box of document.querySelectorAll(".chart[data-chart]")) draw(box);
})();
