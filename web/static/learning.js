// Learning page (#/learning?task=T): is the robot getting better?
//
// Per task: the version in control (the task's current version and what
// each live session runs), success and interventions per episode for each
// policy version in creation order, the field (episodes recorded with the
// version acting) next to its held-out evaluation, the trainer's history
// and every promotion and rollback, and for operators Promote and Roll
// back. Data: GET /api/policies?task, /api/learn?task, /api/sessions,
// /api/episodes (pages, the newest 20,000). Refreshed every few seconds.

import { api, fromTemplate, toast, token, fmt, when } from './api.js';
import { list, tasks } from './fleet.js';
import { allEpisodes, running } from './episodes.js';
import { palette, setup, axes } from './charts.js';

const refreshEvery = 5000; // ms between refreshes of versions, history and sessions
const episodesEvery = 3;   // episodes are re-read every third refresh

function hashTask() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '').get('task') || '';
}

export function mountLearning(root) {
  const el = fromTemplate('t-learning');
  root.replaceChildren(el);
  const form = el.querySelector('form');
  const sel = form.elements.task;
  const rollback = el.querySelector('.rollback');
  let stopped = false;
  let timer = 0;
  let n = 0;
  let eps = [];
  let data = null; // {versions, learn, sessions}

  Promise.all([tasks(), api('GET', '/api/sessions').catch(() => []), api('GET', '/api/policies').catch(() => [])]).then(([ts, ss, ps]) => {
    for (const t of ts) {
      const o = document.createElement('option');
      o.value = o.textContent = t.name;
      sel.append(o);
    }
    // Default: the task asked for, else one a session learns, else one with learned versions.
    const learning = list(ss, 'sessions').find((s) => s.learning);
    const learned = list(ps, 'policies').find((p) => p.kind === 'learned');
    sel.value = hashTask() || learning?.task || learned?.task || sel.value;
    refresh(true);
  }).catch((e) => toast(e.message, 'error'));

  sel.addEventListener('change', () => {
    history.replaceState(null, '', '#/learning?task=' + encodeURIComponent(sel.value));
    eps = [];
    refresh(true);
  });
  rollback.addEventListener('click', async () => {
    try {
      const v = await api('POST', '/api/policies/rollback', { task: sel.value });
      toast(`${sel.value}: ${v.version} is current again`);
      refresh(false);
    } catch (e) { toast(e.message, 'error'); }
  });
  const ro = new ResizeObserver(() => draw());
  ro.observe(el);

  async function refresh(withEpisodes) {
    clearTimeout(timer);
    if (stopped || !sel.value) return;
    const task = sel.value;
    try {
      const [ps, learn, ss] = await Promise.all([
        api('GET', '/api/policies?task=' + encodeURIComponent(task)),
        api('GET', '/api/learn?task=' + encodeURIComponent(task)),
        api('GET', '/api/sessions'),
      ]);
      if (withEpisodes || n % episodesEvery === 0) eps = (await allEpisodes({ task })).eps.filter((e) => !running(e) && e.task === task);
      if (stopped || task !== sel.value) return;
      n++;
      data = {
        versions: list(ps, 'policies').filter((p) => p.kind === 'learned' && p.task === task)
          .sort((a, b) => t(a.created) - t(b.created)),
        learn: learn || {},
        sessions: list(ss, 'sessions').filter((s) => s.task === task && !s.replay),
      };
      draw();
    } catch (e) { toast(e.message, 'error'); }
    timer = setTimeout(() => refresh(false), refreshEvery);
  }

  function draw() {
    if (!data) return;
    const { versions, learn, sessions } = data;
    const task = sel.value;
    const op = !!token();
    el.querySelector('.trainer').textContent = learn.algo
      ? `online trainer: ${learn.algo}` : 'online trainer off (tandem serve --learn ALGO)';
    rollback.disabled = !op || !versions.some((v) => v.promoted);
    rollback.title = op ? 'make the task\'s previous current version current again' : 'read-only viewer: set a token';

    // In control: the task's current version and each session's.
    const cur = versions.find((v) => v.promoted);
    const lastPromo = (learn.promotions || []).filter((p) => p.task === task).at(-1);
    el.querySelector('.current').textContent = cur
      ? `Current version of ${task}: ${cur.version}${lastPromo ? ` (since ${when(lastPromo.at)}: ${lastPromo.reason || 'promoted'})` : ''}`
      : `No learned version of ${task} is current: sessions running "current" use the expert.`;
    el.querySelector('.current').dataset.version = cur?.version || '';
    const ul = el.querySelector('.in-control');
    ul.replaceChildren(...sessions.map((s) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#/s/${encodeURIComponent(s.id)}`;
      a.textContent = s.id;
      const holder = s.authority?.holder && s.authority.holder !== 'robot' && s.authority.holder !== 'none' ? `, ${s.authority.holder.replace(/^browser:/, '')} holds control` : '';
      li.append(a, ` runs ${s.policy_version || s.policy || '–'}${s.policy === 'current' || s.learning ? ' (follows current)' : ''}${holder}`);
      if (s.learning) li.append(badge('learning', 'learn'));
      if (s.authority?.help) li.append(badge('⚠ help', 'help'));
      return li;
    }));
    if (!sessions.length) ul.replaceChildren(Object.assign(document.createElement('li'), { className: 'hint', textContent: 'no live session of this task' }));

    // Per version: field episodes (an episode counts for each version that acted in it).
    const field = new Map();
    for (const e of eps) {
      for (const v of e.policy_versions || []) {
        const f = field.get(v) || { n: 0, ok: 0, iv: 0 };
        f.n++; f.ok += e.success ? 1 : 0; f.iv += e.interventions || 0;
        field.set(v, f);
      }
    }
    // Columns: policies without a creation time that acted (the expert
    // before the first promotion) first, then learned versions in creation order.
    const learned = new Set(versions.map((v) => v.version));
    const cols = [...field.keys()].filter((v) => !learned.has(v)).sort()
      .map((v) => ({ version: v, builtin: true }))
      .concat(versions.map((v) => ({ version: v.version, builtin: false, eval: v.eval, promoted: v.promoted })));
    const points = cols.map((c, i) => {
      const f = field.get(c.version) || { n: 0, ok: 0, iv: 0 };
      return {
        version: c.version, color: palette[i % palette.length], current: !!c.promoted, builtin: c.builtin,
        episodes: f.n, success: f.n ? f.ok / f.n : null, interventions: f.n ? f.iv / f.n : null,
        eval_success: c.eval ? c.eval.success_rate : null, eval_ci95: c.eval?.success_ci95 || null, eval_episodes: c.eval?.episodes || 0,
      };
    });
    successChart(el.querySelector('[data-chart=version-success]'), points);
    interventionChart(el.querySelector('[data-chart=version-interventions]'), points);

    // Versions table.
    const tb = el.querySelector('.versions tbody');
    tb.replaceChildren(...versions.map((v) => {
      const p = points.find((x) => x.version === v.version);
      const tr = document.createElement('tr');
      tr.dataset.version = v.version;
      tr.classList.toggle('current', !!v.promoted);
      const ev = v.eval;
      const cells = [v.version + (v.promoted ? ' ★ current' : ''), v.algo, v.parent || '–', when(v.created),
        String(p?.episodes ?? 0), p?.success == null ? '–' : pct(p.success),
        ev ? `${pct(ev.success_rate)} [${pct(ev.success_ci95?.[0])}–${pct(ev.success_ci95?.[1])}] of ${ev.episodes}` : '–',
        p?.interventions == null ? '–' : fmt(p.interventions, 2)];
      for (const c of cells) tr.append(Object.assign(document.createElement('td'), { textContent: c }));
      const td = document.createElement('td');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'Promote';
      b.disabled = !op || v.promoted;
      b.title = !op ? 'read-only viewer: set a token' : v.promoted ? 'already current' : `make ${v.version} the current version of ${task}`;
      b.addEventListener('click', async () => {
        try {
          await api('POST', '/api/policies/promote', { policy: v.version, reason: 'promoted from the console' });
          toast(`${v.version} is now current: sessions following it switch at their next episode`);
          refresh(false);
        } catch (e) { toast(e.message, 'error'); }
      });
      td.append(b);
      tr.append(td);
      return tr;
    }));
    el.querySelector('.empty').hidden = versions.length > 0;

    // History: trainings and every promotion or rollback, newest first.
    const rows = [];
    for (const e of learn.events || []) {
      const ev = e.eval ? ` held-out success ${pct(e.eval.success_rate)} of ${e.eval.episodes}` : '';
      rows.push({ at: e.at, what: e.error ? 'training failed' : e.promoted ? 'trained, promoted' : 'trained, kept back',
        version: e.version || '–', why: e.error || `${e.episodes} episodes, ${fmt(e.train_s, 1)} s;${ev} — ${e.reason}` });
    }
    const seen = new Set();
    for (const p of learn.promotions || []) {
      rows.push({ at: p.at, what: seen.has(p.version) ? 'rolled back to' : 'promoted', version: p.version, why: p.reason || '' });
      seen.add(p.version);
    }
    rows.sort((a, b) => t(b.at) - t(a.at));
    el.querySelector('.history tbody').replaceChildren(...rows.slice(0, 200).map((r) => {
      const tr = document.createElement('tr');
      tr.className = r.what.replace(/[^a-z]+/g, '-');
      for (const c of [when(r.at), r.what, r.version, r.why]) tr.append(Object.assign(document.createElement('td'), { textContent: c }));
      return tr;
    }));
  }

  refresh(true);
  return () => { stopped = true; clearTimeout(timer); ro.disconnect(); };
}

function badge(text, cls) {
  return Object.assign(document.createElement('span'), { className: 'pill ' + cls, textContent: text });
}

/** Milliseconds of a JSON time (RFC 3339 with any offset), 0 when absent. */
function t(v) { const ms = Date.parse(v); return isNaN(ms) ? 0 : ms; }

function pct(v) { return typeof v === 'number' && isFinite(v) ? `${Math.round(v * 100)}%` : '–'; }

// The points drawn go on the canvas as data-points (JSON), for tests and
// for anyone reading the numbers rather than the bars.
function successChart(canvas, points) {
  canvas.dataset.points = JSON.stringify(points.map((p) => ({ version: p.version, current: p.current, episodes: p.episodes,
    success: p.success, eval_success: p.eval_success })));
  const c = setup(canvas);
  const { ctx, r, dpr, fg } = c;
  axes(c, 1, undefined, 'success rate', 'versions, oldest → newest (★ current); numbers: episodes each bar stands on');
  if (!points.length) return;
  const slot = r.w / points.length, bw = Math.min(28 * dpr, slot * 0.3);
  const Y = (v) => r.y + r.h - v * r.h;
  points.forEach((p, i) => {
    const cx = r.x + slot * (i + 0.5);
    if (p.success != null) {
      ctx.fillStyle = p.color;
      ctx.fillRect(cx - bw - 1 * dpr, Y(p.success), bw, r.y + r.h - Y(p.success));
    }
    if (p.eval_success != null) {
      ctx.strokeStyle = p.color; ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(cx + 1 * dpr, Y(p.eval_success), bw, r.y + r.h - Y(p.eval_success));
      if (p.eval_ci95) {
        const x = cx + 1 * dpr + bw / 2;
        ctx.strokeStyle = fg; ctx.lineWidth = 1.5 * dpr;
        ctx.beginPath();
        ctx.moveTo(x, Y(p.eval_ci95[0])); ctx.lineTo(x, Y(p.eval_ci95[1]));
        ctx.moveTo(x - 4 * dpr, Y(p.eval_ci95[0])); ctx.lineTo(x + 4 * dpr, Y(p.eval_ci95[0]));
        ctx.moveTo(x - 4 * dpr, Y(p.eval_ci95[1])); ctx.lineTo(x + 4 * dpr, Y(p.eval_ci95[1]));
        ctx.stroke();
      }
    }
    ctx.fillStyle = fg; ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    ctx.fillText((p.current ? '★ ' : '') + p.version, cx, r.y + r.h + 4 * dpr);
    // How many episodes each bar stands on.
    ctx.textBaseline = 'bottom';
    if (p.success != null || !p.builtin) {
      ctx.fillText(p.episodes ? `${p.episodes}` : 'none yet', cx - bw / 2 - 1 * dpr, Y(p.success ?? 0) - 2 * dpr);
    }
    if (p.eval_success != null) ctx.fillText(`${p.eval_episodes}`, cx + 1 * dpr + bw / 2, Y(p.eval_ci95 ? p.eval_ci95[1] : p.eval_success) - 2 * dpr);
  });
  // The field success joined across versions: the trend.
  const pts = points.map((p, i) => [r.x + slot * (i + 0.5) - bw / 2 - 1 * dpr, p.success]).filter(([, v]) => v != null);
  if (pts.length > 1) {
    ctx.strokeStyle = fg; ctx.lineWidth = 1 * dpr; ctx.setLineDash([4 * dpr, 3 * dpr]);
    ctx.beginPath();
    pts.forEach(([x, v], i) => (i ? ctx.lineTo(x, Y(v)) : ctx.moveTo(x, Y(v))));
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

function interventionChart(canvas, points) {
  canvas.dataset.points = JSON.stringify(points.map((p) => ({ version: p.version, interventions: p.interventions })));
  const c = setup(canvas);
  const { ctx, r, dpr, fg } = c;
  const top = Math.max(1, ...points.map((p) => p.interventions || 0));
  const ymax = top <= 1 ? 1 : Math.ceil(top);
  axes(c, ymax, undefined, 'interventions / episode', 'versions, oldest → newest', (v) => (ymax <= 1 ? v.toFixed(2) : String(Math.round(v))));
  if (!points.length) return;
  const slot = r.w / points.length, bw = Math.min(40 * dpr, slot * 0.5);
  points.forEach((p, i) => {
    const cx = r.x + slot * (i + 0.5);
    if (p.interventions != null) {
      const h = (p.interventions / ymax) * r.h;
      ctx.fillStyle = p.color;
      ctx.fillRect(cx - bw / 2, r.y + r.h - h, bw, h);
    }
    ctx.fillStyle = fg; ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    ctx.fillText(p.version, cx, r.y + r.h + 4 * dpr);
  });
}
