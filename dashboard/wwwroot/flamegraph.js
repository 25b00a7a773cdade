// flamegraph.js: draws the flamegraph of a [data-flame] element (JSON tree, lab-server/Profiles/FLAMEGRAPH.md).
// Our own ~150 lines rather than d3-flame-graph: that needs d3 on every page, and its differential mode colours the
// head profile's widths, while the lab draws frames at the larger side's width so frames that vanished stay visible.
// kind "flame": node {n, v, s, c}; kind "diff": node {n, b, h, bs, hs, w, c} (shares of each side).
// Zoom: click a frame; search: substring, highlighted, with the matched share; hover: the status line.
(function () {
  'use strict';
  const ROW = 18;

  function pct(x) { return (x * 100).toFixed(1) + '%'; }

  function setup(el) {
    const kind = el.dataset.kind;
    const root = JSON.parse(el.dataset.flame);
    const scope = el.parentElement;
    const status = scope.querySelector('.flame-status');
    const match = scope.querySelector('.flame-match');
    const search = scope.querySelector('.flame-search');
    const orient = scope.querySelector('.flame-orientation');
    const reset = scope.querySelector('.flame-reset');
    const width = n => kind === 'diff' ? n.w : n.v;
    let focus = root, focusPath = [root], icicle = false, term = '';

    function depthOf(n) { return 1 + Math.max(0, ...(n.c || []).map(depthOf)); }
    const depth = depthOf(root);

    function describe(n) {
      if (kind === 'diff') {
        const d = n.h - n.b;
        return `${n.n} — base ${pct(n.b)}, head ${pct(n.h)} (${d >= 0 ? '+' : '−'}${(Math.abs(d) * 100).toFixed(1)} pt); self ${pct(n.bs)} → ${pct(n.hs)}`;
      }
      return `${n.n} — ${n.v} samples, ${pct(n.v / root.v)} of all, self ${n.s}`;
    }

    function colour(n, hit) {
      if (hit) return 'rgb(200, 60, 200)';
      if (kind === 'diff') {
        const d = n.h - n.b, m = Math.max(n.b, n.h) || 1, t = Math.min(1, Math.abs(d) / m);
        const light = Math.round(235 - 120 * t);
        return d > 0 ? `rgb(240, ${light}, ${light})` : d < 0 ? `rgb(${light}, ${light}, 240)` : 'rgb(225, 225, 225)';
      }
      let h = 0;
      for (let i = 0; i < n.n.length; i++) h = (h * 31 + n.n.charCodeAt(i)) >>> 0;
      const user = n.n.endsWith('_[u]');
      return user ? `rgb(${90 + h % 50}, ${170 + h % 60}, ${120 + h % 40})` : `rgb(${220 + h % 35}, ${100 + h % 110}, ${40 + h % 40})`;
    }

    function draw() {
      el.textContent = '';
      el.style.height = (depth * ROW) + 'px';
      const total = width(focus) || 1;
      let matched = 0;
      const frames = [];
      // The zoomed frame and its ancestors (focusPath, root first, focus last) span the full width.
      focusPath.forEach((n, i) => frames.push({ n, x: 0, w: 1, d: i, hit: term && n !== root && n.n.toLowerCase().includes(term) }));
      (function walk(n, x, d, inHit) {
        let cx = x;
        for (const c of n.c || []) {
          const w = width(c) / total;
          if (w >= 0.001) {
            const hit = term && c.n.toLowerCase().includes(term);
            frames.push({ n: c, x: cx, w, d, hit });
            walk(c, cx, d + 1, inHit || hit);
          }
          cx += w;
        }
      })(focus, 0, focusPath.length, false);
      // The matched share counts every frame, drawn or too narrow to draw, once per stack.
      (function count(n) {
        for (const c of n.c || []) {
          if (term && c.n.toLowerCase().includes(term)) matched += kind === 'diff' ? Math.max(c.b, c.h) : c.v;
          else count(c);
        }
      })(focus);
      for (const f of frames) {
        const div = document.createElement('div');
        div.className = 'frame' + (f.hit ? ' hit' : '') + (f.n === focus && focus !== root ? ' focus' : '');
        div.style.left = (f.x * 100) + '%';
        div.style.width = (f.w * 100) + '%';
        div.style[icicle ? 'top' : 'bottom'] = (f.d * ROW) + 'px';
        div.style.background = colour(f.n, f.hit);
        div.textContent = f.n.n;
        div.title = describe(f.n);
        div.addEventListener('mouseenter', () => { status.textContent = describe(f.n); });
        div.addEventListener('click', () => zoom(f.n));
        el.appendChild(div);
      }
      if (match) {
        const all = kind === 'diff' ? Math.max(focus.b, focus.h) : focus.v;
        match.textContent = term ? `matched: ${pct(all ? matched / all : 0)}` : '';
      }
    }

    function pathTo(target, n, path) {
      path.push(n);
      if (n === target) return true;
      for (const c of n.c || []) if (pathTo(target, c, path)) return true;
      path.pop();
      return false;
    }

    function zoom(n) {
      const path = [];
      pathTo(n, root, path);
      focus = n;
      focusPath = path;
      draw();
    }

    search && search.addEventListener('input', () => { term = search.value.trim().toLowerCase(); draw(); });
    orient && orient.addEventListener('click', () => {
      icicle = !icicle;
      orient.textContent = icicle ? 'flame' : 'icicle';
      orient.dataset.orientation = icicle ? 'icicle' : 'flame';
      draw();
    });
    reset && reset.addEventListener('click', () => { focus = root; focusPath = [root]; draw(); });
    draw();
  }

  document.querySelectorAll('[data-flame]').forEach(setup);
})();
