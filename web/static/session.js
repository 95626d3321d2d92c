// The session view: live canvas, control banner, HUD, controls, mapping.
//
// One WebSocket per open session (ws.js reconnects with backoff). Each
// animation frame samples the inputs, sends a command at most every
// sendEvery ms while the operator is engaged (plus one disengaging command
// when they let go), and draws the interpolated scene.

import { fromTemplate, fmt, toast, wsURL, token, netState, api } from './api.js';
import { Conn } from './ws.js';
import { SceneView, toolBody } from './render.js';
import { Input } from './input.js';

const sendEvery = 33;   // ms: ~30 Hz while engaged (protocol asks for ≥ 4 Hz)
const pingEvery = 1000; // ms between latency probes
const hudEvery = 100;   // ms between HUD text refreshes

/** Mount the session view for id into root; returns a cleanup function. */
export function mountSession(root, id) {
  const el = fromTemplate('t-session');
  root.replaceChildren(el);
  const $ = (s) => el.querySelector(s);
  const canvas = $('canvas.scene');
  const view = new SceneView(canvas);
  const st = {
    role: '', me: '', session: null, spec: null, hud: null, frame: null,
    connected: false, retryAt: 0, lastSeq: 0, missed: 0, serverDropped: 0,
    seq: 0, lastSend: 0, wasEngaged: false, took: false,
    pingId: 0, lastPing: 0, pings: new Map(), rtt: NaN, ackLatency: NaN, sentAt: new Map(),
    frames: 0, fpsT: 0, fps: 0, lastHud: 0, flash: '', flashUntil: 0,
  };

  const input = new Input(canvas, view, (what) => act(what));
  function canOperate() { return st.connected && st.role === 'operator'; }
  // holding: this client took over explicitly (T, A, the button) and has not
  // handed back. Implicit engagement (a held key or stick) is not holding: it
  // ends when the input stops. The flag drops when the server moves authority
  // away from us (another operator, the robot, a rejected take over).
  function holding() { return st.took; }

  function onMessage(m) {
    switch (m.type) {
      case 'hello':
        st.role = m.role; st.me = m.operator || ''; st.session = m.session; st.spec = m.spec;
        st.took = !!st.me && m.session?.authority?.holder === st.me;
        st.lastSeq = 0;
        view.setScene(m.scene);
        input.setTask(m.spec, toolBody(m.scene));
        renderMapping();
        if (m.frame) onFrame(m.frame, true);
        refreshControls();
        break;
      case 'frame': onFrame(m, false); break;
      case 'state': {
        const was = st.session?.authority?.holder;
        st.session = m.session;
        const now = st.session?.authority?.holder;
        if (st.me && was === st.me && now !== st.me) st.took = false;
        refreshControls();
        break;
      }
      case 'error':
        if (m.code === 'rejected') st.took = false;
        toast(m.error || 'error', 'error');
        break;
      case 'pong': {
        const t0 = st.pings.get(m.id);
        if (t0 !== undefined) { st.rtt = performance.now() - t0; st.pings.delete(m.id); }
        break;
      }
    }
  }

  function onFrame(f, snap) {
    const now = performance.now();
    if (st.lastSeq && f.seq > st.lastSeq + 1) st.missed += f.seq - st.lastSeq - 1;
    if (f.seq) st.lastSeq = f.seq;
    if (typeof f.dropped === 'number') st.serverDropped = f.dropped;
    const reset = f.kind === 'reset' || (st.frame && f.episode !== st.frame.episode);
    view.push(f.poses, now, snap || reset);
    if (f.ack && st.sentAt.has(f.ack)) {
      st.ackLatency = now - st.sentAt.get(f.ack);
      for (const k of st.sentAt.keys()) if (k <= f.ack) st.sentAt.delete(k);
    }
    st.frame = f;
    input.setExecuted(f.action);
    if (f.hud) st.hud = f.hud;
    for (const e of f.events || []) {
      const text = { intervention_start: 'INTERVENTION', intervention_end: 'HANDED BACK', success: 'SUCCESS',
        help: 'ROBOT ASKS FOR HELP', reset: 'NEW EPISODE', terminal: 'EPISODE END', truncated: 'TIME UP' }[e];
      if (text) { st.flash = text; st.flashUntil = now + 1200; }
    }
  }

  function send(obj) { return conn.send(obj); }

  function command(s, extraButtons = []) {
    st.seq++;
    st.sentAt.set(st.seq, performance.now());
    if (st.sentAt.size > 200) st.sentAt.delete(st.sentAt.keys().next().value);
    send({ type: 'command', seq: st.seq, action: s.action, engaged: s.engaged, clutch: s.clutch,
      buttons: [...s.buttons, ...extraButtons] });
  }

  function control(op, extra = {}) {
    if (!canOperate()) { toast(st.role === 'viewer' ? 'read-only viewer: set an operator token to control' : 'not connected', 'error'); return; }
    send({ type: 'control', op, ...extra });
  }

  // One-shot actions from keys, pad buttons and the on-screen buttons.
  function act(what) {
    switch (what) {
      case 'takeover': if (canOperate()) st.took = true; control('takeover'); break;
      case 'handback': st.took = false; control('handback'); break;
      case 'reset': control('reset'); break;
      case 'labels': view.showLabels = !view.showLabels; break;
      case 'pause': control(st.session?.paused ? 'resume' : 'pause'); break;
      case 'success': case 'failure': case 'help':
        if (!canOperate()) { control(what); return; }
        command(input.sample(performance.now(), holding()), [what]);
        toast(what === 'help' ? 'help acknowledged' : `marked ${what}`);
        break;
    }
  }

  // On-screen buttons.
  el.querySelectorAll('[data-op]').forEach((b) => {
    if (b.tagName === 'SELECT') {
      b.addEventListener('change', () => control('mode', { mode: b.value }));
    } else {
      b.addEventListener('click', () => act(b.dataset.op));
    }
  });
  el.querySelectorAll('[data-mark]').forEach((b) => b.addEventListener('click', () => act(b.dataset.mark)));
  const gain = $('.gain input');
  gain.addEventListener('input', () => { input.gain = +gain.value; $('.gain output').textContent = (+gain.value).toFixed(2); });
  input.gain = +gain.value;

  // Replay controls: a replay session is an ordinary session, so play and
  // pause are the pause/resume controls; step and speed are control ops that
  // replay sessions accept ({"op":"step"}, {"op":"speed","speed":2}).
  const rbar = $('.replay-bar');
  rbar.querySelector('[data-replay=play]').addEventListener('click', () => act('pause'));
  rbar.querySelector('[data-replay=step]').addEventListener('click', () => control('step'));
  rbar.querySelector('[data-replay=speed]').addEventListener('change', (e) => control('speed', { speed: +e.target.value }));

  // Learning: the session takes part in the server's online learning (it
  // then runs the task's current version and its episodes train the next
  // one). Operators toggle it; it needs tandem serve --learn.
  let trainer = null; // the online trainer's algorithm, "" when off
  api('GET', '/api/learn').then((l) => { trainer = l?.algo || ''; }).catch(() => { trainer = ''; });
  const learnBtn = $('.learn-toggle');
  learnBtn.addEventListener('click', async () => {
    const on = !st.session?.learning;
    try {
      await api('POST', `/api/sessions/${encodeURIComponent(id)}/learn`, { on });
      // The server sends the new setting in a state message.
      toast(on ? `session ${id} learns: it runs the current version and its episodes train the next` : `session ${id} stopped learning (it keeps its version)`);
    } catch (err) { toast(err.message, 'error'); }
  });

  // Stop ends the session for everyone (DELETE /api/sessions/ID): a first
  // click arms the button, a second within 4 s stops it.
  const stopBtn = $('.controls [data-stop]');
  let stopArmed = 0;
  stopBtn.addEventListener('click', async () => {
    if (!canOperate()) { control('stop'); return; }
    const now = performance.now();
    if (now > stopArmed) {
      stopArmed = now + 4000;
      stopBtn.textContent = 'Click again to stop';
      stopBtn.classList.add('armed');
      setTimeout(() => { if (performance.now() >= stopArmed) disarm(); }, 4100);
      return;
    }
    disarm();
    try {
      await api('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
      toast(`session ${id} stopped`);
      gone('session stopped');
    } catch (err) { toast(err.message, 'error'); }
  });
  function disarm() { stopArmed = 0; stopBtn.textContent = 'Stop session'; stopBtn.classList.remove('armed'); }

  function refreshControls() {
    const ok = canOperate();
    // Replay controls too: a viewer cannot play, step or change speed.
    const all = el.querySelectorAll('.controls button, .controls select, .replay-bar button, .replay-bar select');
    all.forEach((b) => {
      b.disabled = !ok;
      b.title = ok ? '' : (st.role === 'viewer' ? 'read-only viewer: set a token' : 'not connected');
    });
    const s = st.session;
    if (s) {
      $('.controls [data-op=pause]').innerHTML = s.paused ? 'Resume <kbd>P</kbd>' : 'Pause <kbd>P</kbd>';
      $('.controls select[data-op=mode]').value = s.mode;
      $('.ack-help').classList.toggle('attention', !!s.authority?.help);
      const replay = !!s.replay;
      rbar.hidden = !replay;
      rbar.querySelector('[data-replay=play]').textContent = s.paused ? '▶ Play' : '❚❚ Pause';
    }
    input.enabled = ok;
  }

  // The strip under the canvas repeats the main bindings (keyboard · pad),
  // so they stay visible when the mapping card is scrolled away.
  const stripRows = ['takeover', 'handback', 'hold', 'x', 'jaw', 'reset'];
  function renderStrip() {
    const strip = $('.strip');
    strip.replaceChildren();
    for (const r of input.rows()) {
      if (!stripRows.includes(r.id)) continue;
      const sp = document.createElement('span');
      sp.dataset.id = r.id;
      const b = document.createElement('b');
      const keys = r.id === 'x' ? 'arrows/WASD' : r.keys.replace(' (hold)', '');
      const pad = r.id === 'x' ? 'left stick' : r.pad.replace(' (hold)', '');
      b.textContent = [keys, pad].filter(Boolean).join(' · ');
      const what = r.id === 'x' ? 'move' : r.what.replace(/ \(.*\)$/, '');
      sp.append(b, ' ' + what);
      strip.append(sp);
    }
  }

  function renderMapping() {
    renderStrip();
    const tb = $('.map tbody');
    tb.replaceChildren();
    for (const r of input.rows()) {
      const tr = document.createElement('tr');
      if (r.sec) {
        tr.className = 'sec';
        tr.innerHTML = `<td colspan="3"></td>`;
        tr.firstChild.textContent = r.sec;
      } else {
        tr.dataset.id = r.id;
        for (const t of [r.keys, r.what, r.pad]) {
          const td = document.createElement('td');
          td.textContent = t;
          tr.append(td);
        }
      }
      tb.append(tr);
    }
  }

  function banner(now) {
    const b = $('.banner');
    const s = st.session, h = st.hud;
    let who = 'none', big = 'CONNECTING', sub = '';
    if (st.gone) {
      who = 'disconnected'; big = st.gone.toUpperCase(); sub = '';
    } else if (!st.connected && (st.session || st.retryAt)) {
      who = 'disconnected';
      big = 'DISCONNECTED';
      const left = Math.max(0, Math.ceil((st.retryAt - now) / 1000));
      sub = `reconnecting${left ? ` in ${left}s` : '…'} — input is off`;
    } else if (h || s) {
      const src = h?.source || (s?.authority?.holder && s.authority.holder !== 'robot' ? 'human' : 'robot');
      const holder = h?.holder || s?.authority?.holder || '';
      const op = h?.operator || (holder !== 'robot' ? holder : '');
      const pv = h?.policy_version || s?.policy_version || '';
      if (s?.replay) { who = 'replay'; big = `REPLAY of episode ${s.replay}`; }
      else if (src === 'human') { who = 'human'; big = `HUMAN (${short(op) || '?'})`; }
      else if (src === 'demo') { who = 'demo'; big = `DEMO (${short(op) || 'expert'})`; }
      else { who = 'robot'; big = 'ROBOT'; }
      const parts = [];
      if (who === 'robot' || who === 'replay') parts.push(policyText(s?.policy, pv));
      if (st.me && holder === st.me) parts.push('YOU are in control');
      else if (st.me && who === 'human' && op === st.me) parts.push('YOU are driving');
      if (s?.paused_reason === 'idle' && s?.paused) parts.push(`PAUSED: nobody connected for ${minutes(s.idle_pause_s)} — Resume to continue`);
      else if (s?.paused || h?.paused) parts.push('PAUSED');
      if (s?.authority?.help || h?.help) parts.push('⚠ robot asks for help');
      if (st.role === 'viewer') parts.push('watching read-only');
      sub = parts.join(' · ');
    }
    if (b.dataset.who !== who) b.dataset.who = who;
    b.classList.toggle('help', !!(s?.authority?.help || h?.help));
    setText(b.querySelector('.who'), big);
    const subEl = b.querySelector('.sub');
    if (st.gone) {
      if (!subEl.querySelector('a')) subEl.innerHTML = '<a href="#/">back to the session list</a>';
    } else {
      setText(subEl, sub);
    }
  }

  function hud(now) {
    const s = st.session || {}, h = st.hud || {};
    const set = (k, v, cls) => {
      const d = el.querySelector(`[data-hud=${k}]`);
      setText(d, v);
      if (cls !== undefined) d.className = cls;
    };
    setText($('.sid'), id);
    set('task', s.task || st.spec?.name || '–');
    set('mode', h.mode || s.mode || '–');
    set('policy', s.replay ? 'replay' : s.policy || '–');
    // The version in control: the one acting now (a human's steps record
    // the version that proposed).
    const pv = h.policy_version || s.policy_version || '';
    const src = h.source || (s.authority?.holder && !['robot', 'none'].includes(s.authority.holder) ? 'human' : 'robot');
    set('version', s.replay ? '–' : src === 'demo' ? 'none (demonstration)' : src === 'human' ? `${pv || '–'} proposing; a human acts` : pv || '–');
    const ld = el.querySelector('[data-hud=learning] span');
    setText(ld, s.replay ? '–' : s.learning ? `on (${trainer || 'online trainer'})` : trainer === '' ? 'off (no online trainer)' : 'off');
    ld.className = s.learning ? 'good' : '';
    learnBtn.hidden = !!s.replay || trainer === null || (trainer === '' && !s.learning);
    learnBtn.textContent = s.learning ? 'Stop' : 'Learn';
    learnBtn.disabled = !canOperate();
    learnBtn.title = canOperate() ? (s.learning ? 'stop taking part in online learning' : 'take part in online learning: run the current version, train the next on these episodes')
      : 'read-only viewer: set a token';
    set('episode', String(st.frame?.episode ?? s.episode ?? '–'));
    const horizon = s.horizon || st.spec?.horizon; // the session's, scaled to its tick rate
    set('step', `${h.step ?? st.frame?.t ?? '–'}${horizon ? ' / ' + horizon : ''}`);
    set('return', fmt(h.return, 3));
    set('reward', fmt(h.reward, 3));
    set('success', h.success ? 'yes' : 'no', h.success ? 'good' : '');
    set('interventions', String(h.interventions ?? '–'));
    set('latency', `${isNaN(st.rtt) ? '–' : st.rtt.toFixed(0) + ' ms'} rtt${isNaN(st.ackLatency) ? '' : ' · ' + st.ackLatency.toFixed(0) + ' ms cmd'}`);
    set('dropped', `${st.serverDropped} server · ${st.missed} missed`, st.serverDropped + st.missed ? 'bad' : '');
    set('role', st.role ? `${st.role}${st.me ? ' ' + st.me : ''}` : '–');
    const pad = input.padName;
    setText($('.mapping .pad'), pad ? '🎮 ' + pad.slice(0, 40) : (token() ? 'no gamepad (press a button)' : 'read-only'));
    // Highlight mapping rows in use.
    for (const tr of el.querySelectorAll('.map tr[data-id], .strip span[data-id]')) {
      const id = tr.dataset.id;
      tr.classList.toggle('on', input.active.has(id) || (id === 'takeover' && holding()) ||
        (tr.tagName === 'SPAN' && id === 'x' && (input.active.has('y') || input.active.has('pointer'))));
    }
    setText($('.overlay'), overlayText(now));
  }

  function overlayText(now) {
    const lines = [];
    if (st.flash && now < st.flashUntil) lines.push(st.flash);
    if (st.wasEngaged) lines.push('● sending input');
    lines.push(`${st.fps.toFixed(0)} fps`);
    return lines.join('\n');
  }

  // Connect last: the socket's callbacks use everything defined above.
  const conn = new Conn(() => wsURL(`/api/sessions/${encodeURIComponent(id)}/ws`), {
    onMessage: (m) => onMessage(m),
    onState: (s, delay) => {
      st.connected = s === 'open';
      if (s === 'open') netState('online');
      if (s === 'closed') {
        netState('offline');
        st.retryAt = performance.now() + delay;
        const ev = conn.lastClose;
        if (ev && ev.code >= 4000) toast(`disconnected: ${ev.reason || ev.code}`, 'error');
        if (ev && ev.code === 1000) gone('session ended'); // deleted on the server
        else checkExists();
      }
      refreshControls();
    },
  });

  // A session that no longer exists stops the reconnect loop.
  let checking = false;
  async function checkExists() {
    if (checking || st.gone) return;
    checking = true;
    try {
      await api('GET', `/api/sessions/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e.status === 404) gone('session not found');
    } finally { checking = false; }
  }
  function gone(why) {
    st.gone = why;
    conn.close();
    st.connected = false;
    refreshControls();
  }

  let raf = 0;
  function loop(now) {
    raf = requestAnimationFrame(loop);
    // Input → command.
    const hold = holding();
    const s = input.sample(now, hold);
    if (canOperate()) {
      if (s.engaged && now - st.lastSend >= sendEvery) {
        command(s); st.lastSend = now; st.wasEngaged = true;
      } else if (!s.engaged && st.wasEngaged) {
        command(s); st.lastSend = now; st.wasEngaged = false;
      }
    } else {
      st.wasEngaged = false;
    }
    if (now - st.lastPing >= pingEvery && conn.open) {
      st.lastPing = now;
      st.pings.set(++st.pingId, now);
      if (st.pings.size > 20) st.pings.delete(st.pings.keys().next().value);
      send({ type: 'ping', id: st.pingId, sent: Date.now() }); // protocol: integer client ms
    }
    // Draw.
    const tp = s.target;
    view.marks = tp ? [{ x: tp[0], y: tp[1], color: '#ffb020' }] : [];
    view.banner = st.gone ? st.gone.toUpperCase() : !st.connected && (st.session || st.retryAt) ? 'DISCONNECTED' : '';
    view.draw(now);
    st.frames++;
    if (now - st.fpsT >= 1000) { st.fps = st.frames * 1000 / (now - st.fpsT || 1); st.frames = 0; st.fpsT = now; }
    if (now - st.lastHud >= hudEvery) { st.lastHud = now; banner(now); hud(now); }
  }
  raf = requestAnimationFrame(loop);
  canvas.focus({ preventScroll: true });

  return () => {
    cancelAnimationFrame(raf);
    input.destroy();
    conn.close();
  };
}

function policyText(name, version) {
  name = name || ''; version = version || '';
  if (!version || version === name) return name ? `policy ${name}` : '';
  return `policy ${name} ${version}`.trim();
}

function short(op) { return String(op || '').replace(/^browser:/, ''); }

function minutes(sec) {
  if (!sec) return 'a while';
  return sec >= 120 ? `${Math.round(sec / 60)} min` : `${Math.round(sec)} s`;
}

function setText(node, text) { if (node && node.textContent !== text) node.textContent = text; }
