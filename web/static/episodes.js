// Episode browser: filter the store's episodes, open a replay, export.
//
// Filters map to GET /api/episodes query parameters. "Replay" asks the server
// for a replay session (POST /api/replays) and opens it in the session view,
// where the replay bar plays, pauses, steps and changes speed.

import { api, fromTemplate, toast, token, query, withToken, fmt, when } from './api.js';
import { list, tasks } from './fleet.js';

const pageRows = 500; // rows a page of the table adds (GET /api/episodes pages, newest first)

/**
 * Every episode params select, newest first, following the API's pages
 * (GET /api/episodes answers {episodes, next}) up to max episodes.
 * Returns {eps, more}: more is true when max cut the list short.
 */
export async function allEpisodes(params, max = 20000) {
  const eps = [];
  let cursor = '';
  while (eps.length < max) {
    const page = await api('GET', '/api/episodes' + query({ ...params, order: 'desc', limit: 5000, cursor }));
    eps.push(...list(page, 'episodes'));
    if (!page?.next) return { eps, more: false };
    cursor = page.next;
  }
  return { eps, more: true };
}

/** Filter state kept in the hash: #/episodes?task=push-t&success=true */
function hashParams() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '');
}

export function mountEpisodes(root) {
  const el = fromTemplate('t-episodes');
  root.replaceChildren(el);
  const form = el.querySelector('form');
  const tbody = el.querySelector('tbody');
  const hp = hashParams();
  for (const k of ['success', 'mode', 'min_interventions']) if (hp.has(k)) form.elements[k].value = hp.get(k);

  // Exports without a token only where the server allows viewers to
  // export (GET /api/health's viewer_export).
  let viewerExport = true;
  const health = api('GET', '/api/health').then((h) => { viewerExport = h?.viewer_export !== false; }).catch(() => {});

  tasks().then((ts) => {
    for (const t of ts) {
      const o = document.createElement('option');
      o.value = o.textContent = t.name;
      form.elements.task.append(o);
    }
    if (hp.has('task')) form.elements.task.value = hp.get('task');
    health.then(() => load());
  }).catch((e) => { toast(e.message, 'error'); health.then(() => load()); });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = params();
    history.replaceState(null, '', '#/episodes' + query(p));
    load();
  });
  form.addEventListener('change', () => form.requestSubmit());

  function params() {
    const f = form.elements;
    return {
      task: f.task.value, success: f.success.value, mode: f.mode.value,
      min_interventions: +f.min_interventions.value > 0 ? f.min_interventions.value : '',
    };
  }

  // The table shows the newest page; "Load more" appends the next one
  // (the API's cursor), so a store of 100,000 episodes costs one page.
  let next = '';
  let shown = 0;
  const more = el.querySelector('.more');
  more.addEventListener('click', () => load(next));

  async function load(cursor = '') {
    let page;
    try {
      page = await api('GET', '/api/episodes' + query({ ...params(), order: 'desc', limit: pageRows, cursor }));
    } catch (e) { toast(e.message, 'error'); return; }
    const eps = list(page, 'episodes');
    next = page?.next || '';
    if (!cursor) { tbody.replaceChildren(); shown = 0; }
    tbody.append(...eps.map(row));
    shown += eps.length;
    el.querySelector('.shown').textContent = `${shown} episode${shown === 1 ? '' : 's'}${next ? ', newest first; more below' : ''}`;
    el.querySelector('.empty').hidden = shown > 0;
    more.hidden = !next;
  }

  function row(e) {
    const tr = document.createElement('tr');
    const live = running(e);
    const cells = [
      e.id, e.task, e.mode || (live ? '…' : ''), versions(e) || (live ? '…' : ''), e.seed ?? '',
      e.length ?? '', fmt(e.return, 2), live ? 'running' : (e.success ? 'yes' : 'no') + labelText(e), e.interventions ?? 0,
      (e.operators || []).map(short).join(', '),
      when(e.start) + (live ? ' (running)' : e.complete === false ? ` (${e.outcome || 'cut'})` : ''),
    ];
    for (const [i, c] of cells.entries()) {
      const td = document.createElement('td');
      td.textContent = c;
      if (i === 7) td.className = live ? 'running' : e.success ? 'yes' : 'no';
      tr.append(td);
    }
    if (live) {
      tr.classList.add('running');
      tr.title = 'still being recorded by a live session';
    }
    const acts = document.createElement('td');
    const box = document.createElement('div');
    box.className = 'acts';
    const play = document.createElement('button');
    play.type = 'button';
    play.textContent = '▶ Replay';
    play.disabled = !token() || live;
    play.title = live ? 'still being recorded: replay it once it ended'
      : token() ? 'open a replay session' : 'read-only viewer: set a token to start replays';
    play.addEventListener('click', () => replay(e.id));
    box.append(play);
    const canExport = !!token() || viewerExport;
    for (const [fmtName, label] of [['mcap', 'MCAP'], ['lerobot', 'LeRobot']]) {
      const a = document.createElement('a');
      a.textContent = '⤓ ' + label;
      if (canExport) {
        a.href = withToken(exportURL(e, fmtName));
        a.setAttribute('download', '');
      } else {
        a.className = 'disabled';
        a.title = 'this server lets only operators export: set a token';
      }
      box.append(a);
    }
    acts.append(box);
    tr.append(acts);
    tr.classList.add('ep-row');
    if (!live) tr.title = 'open: who acted at each step and the reward';
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('a, button')) return;
      const next = tr.nextElementSibling;
      if (next && next.classList.contains('ep-detail')) { next.remove(); return; }
      tr.after(detail(e));
    });
    return tr;
  }

  return () => {};
}

/** Export link for one episode (GET /api/episodes/export?ids=ID&format=mcap|lerobot). */
function exportURL(e, format) {
  return `/api/episodes/export${query({ ids: e.id, format })}`;
}

async function replay(id) {
  try {
    const s = await api('POST', '/api/replays', { episode: id });
    const sid = s?.id || s?.session?.id;
    if (sid) location.hash = `#/s/${encodeURIComponent(sid)}`;
  } catch (err) { toast(err.message, 'error'); }
}

const sourceColor = { robot: '#1f9d55', human: '#e8590c', demo: '#8b5cf6' };

/** Detail row: a timeline of who acted at each step with the reward curve. */
function detail(e) {
  const tr = document.createElement('tr');
  tr.className = 'ep-detail';
  const td = document.createElement('td');
  td.colSpan = 12;
  const info = document.createElement('div');
  info.className = 'hint';
  info.textContent = 'loading steps…';
  const canvas = document.createElement('canvas');
  canvas.className = 'timeline';
  td.append(info, canvas);
  tr.append(td);
  api('GET', `/api/episodes/${encodeURIComponent(e.id)}/steps`).then((steps) => {
    steps = Array.isArray(steps) ? steps : [];
    const count = (src) => steps.filter((s) => s.source === src).length;
    const starts = steps.filter((s) => s.intervention_start).length;
    info.textContent = `${steps.length} steps · robot ${count('robot')} · human ${count('human')} · demo ${count('demo')}` +
      ` · ${starts} intervention${starts === 1 ? '' : 's'} · outcome ${e.outcome || (e.success ? 'success' : '–')}` +
      ` · colours: robot green, human orange, demo purple; line: reward`;
    requestAnimationFrame(() => timeline(canvas, steps));
  }).catch((err) => { info.textContent = err.message; });
  return tr;
}

function timeline(canvas, steps) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = canvas.height = Math.max(1, Math.round(canvas.clientHeight * dpr));
  const ctx = canvas.getContext('2d');
  const n = Math.max(1, steps.length);
  const band = 14 * dpr;
  steps.forEach((s, i) => {
    ctx.fillStyle = sourceColor[s.source] || '#4b5563';
    ctx.fillRect((i / n) * w, h - band, Math.ceil(w / n), band);
    if (s.intervention_start) { ctx.fillStyle = '#ffb020'; ctx.fillRect((i / n) * w, 0, 2 * dpr, h - band); }
  });
  const rs = steps.map((s) => s.reward || 0);
  const lo = Math.min(0, ...rs), hi = Math.max(1e-9, ...rs);
  ctx.strokeStyle = '#4da3ff'; ctx.lineWidth = 1.5 * dpr;
  ctx.beginPath();
  rs.forEach((r, i) => {
    const x = ((i + 0.5) / n) * w, y = (h - band - 4 * dpr) * (1 - (r - lo) / (hi - lo)) + 2 * dpr;
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
}

/** running reports an episode a live session is still recording (outcome "running"). */
export function running(e) { return e.outcome === 'running'; }

function short(op) { return String(op || '').replace(/^browser:/, ''); }

/** " · labelled failure by alice" when an operator labelled the episode. */
function labelText(e) {
  if (!e.label) return '';
  return ` · labelled ${e.label}${e.label_by ? ' by ' + short(e.label_by) : ''}`;
}

/** Policy versions that acted in an episode. */
export function versions(e) {
  const v = e.policy_versions || (e.policy_version ? [e.policy_version] : []);
  return v.join(', ');
}
