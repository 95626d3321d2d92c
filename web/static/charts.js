// Charts of the store's episodes (GET /api/episodes), drawn on plain canvas:
// rolling success rate and interventions per episode in order of recording,
// coloured by policy version, and a per-version summary.

import { api, fromTemplate, toast, query } from './api.js';
import { list, tasks } from './fleet.js';
import { versions, running } from './episodes.js';

const palette = ['#4da3ff', '#3ecf7a', '#ffb020', '#e8590c', '#8b5cf6', '#0ea5b7', '#ff5c5c', '#c0ca33', '#ec4899', '#94a3b8'];

export function mountCharts(root) {
  const el = fromTemplate('t-charts');
  root.replaceChildren(el);
  const form = el.querySelector('form');
  let eps = [];
  let live = 0; // running episodes left out
  tasks().then((ts) => {
    for (const t of ts) {
      const o = document.createElement('option');
      o.value = o.textContent = t.name;
      form.elements.task.append(o);
    }
  }).catch(() => {});
  form.addEventListener('change', load);
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  const ro = new ResizeObserver(() => draw());
  ro.observe(el);

  async function load() {
    try {
      eps = list(await api('GET', '/api/episodes' + query({ task: form.elements.task.value })), 'episodes');
    } catch (e) { toast(e.message, 'error'); eps = []; }
    const task = form.elements.task.value;
    if (task) eps = eps.filter((e) => e.task === task);
    // An episode still being recorded has no outcome yet: it is not a
    // failure, so it stays out of every rate and count.
    live = eps.filter(running).length;
    eps = eps.filter((e) => !running(e));
    eps.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    draw();
  }

  function draw() {
    const win = Math.max(1, +form.elements.window.value || 10);
    const versions = [...new Set(eps.map(version))];
    const color = (v) => palette[versions.indexOf(v) % palette.length];
    // Rolling success per version, plotted at each episode's global index.
    const series = versions.map((v) => {
      const pts = [];
      const hist = [];
      eps.forEach((e, i) => {
        if (version(e) !== v) return;
        hist.push(e.success ? 1 : 0);
        if (hist.length > win) hist.shift();
        pts.push([i, hist.reduce((a, b) => a + b, 0) / hist.length]);
      });
      return { color: color(v), pts };
    });
    chart(el.querySelector('[data-chart=success]'), {
      xmax: Math.max(1, eps.length - 1), ymax: 1, ylabel: 'success', xlabel: 'episode (oldest → newest)',
      lines: series,
    });
    const imax = niceMax(Math.max(4, ...eps.map((e) => e.interventions || 0)));
    chart(el.querySelector('[data-chart=interventions]'), {
      xmax: Math.max(1, eps.length - 1), ymax: imax, ylabel: 'interventions', xlabel: 'episode',
      bars: eps.map((e, i) => ({ x: i, y: e.interventions || 0, color: color(version(e)) })),
    });
    const per = versions.map((v) => {
      const es = eps.filter((e) => version(e) === v);
      return {
        v, n: es.length, color: color(v),
        success: es.reduce((a, e) => a + (e.success ? 1 : 0), 0) / (es.length || 1),
        interventions: es.reduce((a, e) => a + (e.interventions || 0), 0) / (es.length || 1),
      };
    });
    versionChart(el.querySelector('[data-chart=versions]'), per);
    const lg = el.querySelector('.legend');
    lg.replaceChildren(...per.map((p) => {
      const s = document.createElement('span');
      s.innerHTML = '<i></i>';
      s.firstChild.style.background = p.color;
      s.append(`${p.v} (${p.n} episodes, ${(100 * p.success).toFixed(0)}% success, ${p.interventions.toFixed(1)} interventions/ep)`);
      return s;
    }));
    if (!eps.length) lg.textContent = 'No finished episodes recorded yet.';
    if (live) {
      const n = document.createElement('span');
      n.className = 'running-note';
      n.textContent = `${live} running episode${live === 1 ? '' : 's'} not counted until ${live === 1 ? 'it ends' : 'they end'}`;
      lg.append(n);
    }
  }

  load();
  return () => ro.disconnect();
}

/** Smallest of 1, 2, 4, 8, 20, 40, … ≥ v, so four grid steps land on whole numbers. */
function niceMax(v) {
  for (let m = 1; ; m *= 10) for (const k of [1, 2, 4, 8]) if (k * m >= v) return k * m;
}

function version(e) { return versions(e) || (e.mode === 'teleop' ? 'demonstration' : 'unknown'); }

/** Prepare a canvas at device resolution; returns ctx and the plot rectangle. */
function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr)), h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue('--dim').trim() || '#9aa4b2';
  const line = css.getPropertyValue('--line').trim() || '#2f3744';
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  const r = { x: 44 * dpr, y: 10 * dpr, w: w - 84 * dpr, h: h - 36 * dpr };
  return { ctx, r, dpr, fg, line };
}

function axes(c, ymax, xmax, ylabel, xlabel, yfmt = (v) => (ymax === 1 ? `${Math.round(v * 100)}%` : String(Math.round(v)))) {
  const { ctx, r, dpr, fg, line } = c;
  ctx.strokeStyle = line; ctx.fillStyle = fg; ctx.lineWidth = dpr;
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = r.y + r.h - (i / 4) * r.h;
    ctx.beginPath(); ctx.moveTo(r.x, y); ctx.lineTo(r.x + r.w, y); ctx.stroke();
    ctx.fillText(yfmt((i / 4) * ymax), r.x - 6 * dpr, y);
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  if (xmax !== undefined) {
    for (let i = 0; i <= 4; i++) {
      const x = r.x + (i / 4) * r.w;
      ctx.fillText(String(Math.round((i / 4) * xmax)), x, r.y + r.h + 4 * dpr);
    }
  }
  ctx.textAlign = 'left';
  ctx.fillText(xlabel || '', r.x, r.y + r.h + 16 * dpr);
  ctx.save(); ctx.translate(10 * dpr, r.y + r.h / 2); ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center'; ctx.fillText(ylabel || '', 0, 0); ctx.restore();
}

function chart(canvas, o) {
  const c = setup(canvas);
  const { ctx, r, dpr } = c;
  axes(c, o.ymax, o.xmax, o.ylabel, o.xlabel);
  const X = (x) => r.x + (x / o.xmax) * r.w, Y = (y) => r.y + r.h - (y / o.ymax) * r.h;
  for (const s of o.lines || []) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 2 * dpr;
    ctx.beginPath();
    s.pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    ctx.fillStyle = s.color;
    for (const [x, y] of s.pts) { ctx.beginPath(); ctx.arc(X(x), Y(y), 2 * dpr, 0, 2 * Math.PI); ctx.fill(); }
  }
  if (o.bars) {
    const bw = Math.max(1, r.w / (o.xmax + 1) * 0.8);
    for (const b of o.bars) { ctx.fillStyle = b.color; ctx.fillRect(X(b.x) - bw / 2, Y(b.y), bw, r.y + r.h - Y(b.y)); }
  }
}

function versionChart(canvas, per) {
  const c = setup(canvas);
  const { ctx, r, dpr, fg } = c;
  axes(c, 1, undefined, 'success rate', 'bars: success rate · line marks: mean interventions (right scale)');
  if (!per.length) return;
  const imax = Math.max(1, ...per.map((p) => p.interventions));
  const slot = r.w / per.length, bw = Math.min(60 * dpr, slot * 0.6);
  ctx.textAlign = 'left'; ctx.textBaseline = 'middle'; ctx.fillStyle = fg;
  for (let i = 0; i <= 4; i++) ctx.fillText(((i / 4) * imax).toFixed(1), r.x + r.w + 6 * dpr, r.y + r.h - (i / 4) * r.h);
  per.forEach((p, i) => {
    const cx = r.x + slot * (i + 0.5);
    ctx.fillStyle = p.color;
    ctx.fillRect(cx - bw / 2, r.y + r.h - p.success * r.h, bw, p.success * r.h);
    const iy = r.y + r.h - (p.interventions / imax) * r.h;
    ctx.strokeStyle = fg; ctx.lineWidth = 3 * dpr;
    ctx.beginPath(); ctx.moveTo(cx - bw / 2 - 4 * dpr, iy); ctx.lineTo(cx + bw / 2 + 4 * dpr, iy); ctx.stroke();
    ctx.fillStyle = fg; ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    ctx.fillText(p.v, cx, r.y + r.h - 2 * dpr);
  });
}
