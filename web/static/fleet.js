// Sessions page: the create form and the fleet of live tiles.
//
// Each tile watches its session over its own read-only WebSocket (up to
// maxLiveTiles; the rest show the polled state only). The list itself is
// polled from GET /api/sessions. Sessions asking for help pulse amber;
// sessions under human control get an orange frame.

import { api, fromTemplate, toast, token, wsURL, fmt } from './api.js';
import { Conn } from './ws.js';
import { SceneView } from './render.js';

const pollEvery = 3000; // ms between session list refreshes
const maxLiveTiles = 16; // WebSockets opened by one fleet page

/** Normalise list answers that may be wrapped: [..] or {key: [..]}. */
export function list(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

let taskCache = null;
/** GET /api/tasks once per page load. */
export async function tasks() {
  if (!taskCache) taskCache = api('GET', '/api/tasks').then((d) => list(d, 'tasks')).catch((e) => { taskCache = null; throw e; });
  return taskCache;
}

export function mountSessions(root) {
  const el = fromTemplate('t-sessions');
  root.replaceChildren(el);
  const form = el.querySelector('#create');
  const tilesEl = el.querySelector('.tiles');
  const tiles = new Map(); // id -> {el, view, conn, info, hud}
  let stopped = false;

  // Create form.
  const sel = form.elements.task;
  tasks().then((ts) => {
    for (const t of ts) {
      const o = document.createElement('option');
      o.value = t.name; o.textContent = `${t.name}${t.kind ? ' (' + t.kind + ')' : ''}`;
      o.dataset.desc = t.description || '';
      sel.append(o);
    }
    showDesc();
  }).catch((e) => toast(e.message, 'error'));
  const showDesc = () => {
    const o = sel.selectedOptions[0];
    form.querySelector('.task-desc').textContent = o ? o.dataset.desc : '';
  };
  sel.addEventListener('change', showDesc);
  api('GET', '/api/policies').then((ps) => {
    const dl = form.querySelector('#policy-list');
    dl.replaceChildren(...list(ps, 'policies').map((p) => {
      const o = document.createElement('option');
      o.value = p.name;
      o.label = [p.version !== p.name ? p.version : '', p.description].filter(Boolean).join(' — ');
      return o;
    }));
  }).catch(() => { /* keep the built-in "expert" suggestion */ });
  const lockForm = () => form.querySelectorAll('select, input, button').forEach((x) => {
    x.disabled = !token();
    x.title = token() ? '' : 'read-only viewer: set an operator token to create sessions';
  });
  lockForm();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const body = { task: f.task.value, mode: f.mode.value, policy: f.policy.value || 'expert' };
    if (f.seed.value !== '') body.seed = Number(f.seed.value);
    try {
      const s = await api('POST', '/api/sessions', body);
      const id = s?.id || s?.session?.id;
      toast(`session ${id} started`);
      if (id) location.hash = `#/s/${encodeURIComponent(id)}`;
    } catch (err) { toast(err.message, 'error'); }
  });

  // Fleet.
  async function poll() {
    if (stopped) return;
    try {
      const ss = list(await api('GET', '/api/sessions'), 'sessions');
      const seen = new Set();
      for (const s of ss) {
        seen.add(s.id);
        let t = tiles.get(s.id);
        if (!t) { t = addTile(s); tiles.set(s.id, t); }
        t.info = { ...t.info, ...s };
      }
      for (const [id, t] of tiles) if (!seen.has(id)) { t.conn?.close(); t.el.remove(); tiles.delete(id); }
      el.querySelector('.empty').hidden = ss.length > 0;
      el.querySelector('.count').textContent = `(${ss.length})`;
    } catch (e) {
      toast(e.message, 'error');
    }
    setTimeout(poll, pollEvery);
  }

  function addTile(info) {
    const tel = fromTemplate('t-tile');
    tel.href = `#/s/${encodeURIComponent(info.id)}`;
    tilesEl.append(tel);
    const view = new SceneView(tel.querySelector('canvas'));
    const t = { el: tel, view, info, hud: null, conn: null, connected: false };
    if (tiles.size < maxLiveTiles) {
      t.conn = new Conn(() => wsURL(`/api/sessions/${encodeURIComponent(info.id)}/ws`, { viewer: true }), {
        onMessage: (m) => {
          if (m.type === 'hello') {
            view.setScene(m.scene); t.info = { ...t.info, ...m.session };
            if (m.frame) { view.push(m.frame.poses, performance.now(), true); t.hud = m.frame.hud; }
          } else if (m.type === 'frame') {
            view.push(m.poses, performance.now(), m.kind === 'reset');
            t.hud = m.hud; t.episode = m.episode;
          } else if (m.type === 'state') {
            t.info = { ...t.info, ...m.session };
          }
        },
        onState: (s) => { t.connected = s === 'open'; },
      });
    }
    return t;
  }

  let raf = 0;
  let lastText = 0;
  function loop(now) {
    raf = requestAnimationFrame(loop);
    const text = now - lastText > 200;
    if (text) lastText = now;
    for (const t of tiles.values()) {
      t.view.banner = t.conn && !t.connected ? 'DISCONNECTED' : '';
      t.view.draw(now);
      if (text) tileText(t);
    }
  }

  function tileText(t) {
    const s = t.info || {}, h = t.hud || {};
    const help = !!(s.authority?.help || h.help);
    const holder = h.holder || s.authority?.holder || 'robot';
    const src = h.source || (holder !== 'robot' ? 'human' : 'robot');
    let who = src, label = src.toUpperCase();
    if (src === 'human') label = `HUMAN (${String(h.operator || holder).replace(/^browser:/, '')})`;
    if (s.replay) { who = 'replay'; label = `REPLAY #${s.replay}`; }
    if (t.conn && !t.connected) { who = 'disconnected'; label = 'DISCONNECTED'; }
    const b = t.el.querySelector('.tile-banner');
    b.dataset.who = who;
    const paused = s.paused && s.paused_reason === 'idle' ? ' · paused (idle)' : s.paused || h.paused ? ' · paused' : '';
    b.textContent = (help ? '⚠ HELP · ' : '') + label + paused;
    t.el.classList.toggle('help', help);
    t.el.classList.toggle('human', src === 'human');
    t.el.querySelector('.tile-id').textContent = s.id;
    t.el.querySelector('.tile-task').textContent = `${s.task || ''} · ${s.mode || ''}`;
    t.el.querySelector('.tile-stats').textContent =
      `ep ${t.episode ?? s.episode ?? '–'} · step ${h.step ?? s.t ?? '–'} · R ${fmt(h.return, 2)} · int ${h.interventions ?? '–'}${h.success ? ' · ✓' : ''}`;
  }

  poll();
  raf = requestAnimationFrame(loop);
  return () => {
    stopped = true;
    cancelAnimationFrame(raf);
    for (const t of tiles.values()) t.conn?.close();
  };
}
