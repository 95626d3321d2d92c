// Operator input: keyboard, pointer (mouse/touch) and the browser Gamepad API,
// turned into one command per animation frame in the task's action space.
//
// The mapping is derived from spec.action_names (x/y/z, yaw, pitch, roll,
// jaw/grip, with psm1_/psm2_/left_/right_ prefixes for two-arm tasks) and is
// listed on screen by rows(). Velocity tasks get -1..1 per axis scaled by the
// speed slider; absolute-position tasks (Push-T) get the target position
// normalised to -1..1 over the field, which starts at the tool's current pose
// (bumpless) and moves with keys/sticks or jumps to the pointer.

const deadzone = 0.15; // gamepad sticks; real pads rest at 1–4.5% off centre (evemu recordings)

/** Classify one action name: {arm, role}. */
export function classify(name) {
  let n = String(name).toLowerCase();
  let arm = '';
  const m = n.match(/^(psm\d+|arm\d+|left|right|ecm|l|r)[_.\-]/);
  if (m) { arm = m[1]; n = n.slice(m[0].length); }
  let role = 'other';
  if (/jaw|grip|grasp|close|open/.test(n)) role = 'jaw';
  else if (/yaw|theta|phi|psi|rot|angle|omega|^d?a$|^w$/.test(n)) role = 'yaw';
  else if (/pitch/.test(n)) role = 'pitch';
  else if (/roll/.test(n)) role = 'roll';
  else {
    const r = n.replace(/^(delta_|target_|vel_|pos_|d|v)/, '');
    if (/^x/.test(r) || /_x$/.test(n)) role = 'x';
    else if (/^y/.test(r) || /_y$/.test(n)) role = 'y';
    else if (/^z/.test(r) || /_z$/.test(n)) role = 'z';
  }
  return { arm, role };
}

/** Derive the input layout of a task from its spec. */
export function layout(spec) {
  const names = spec?.action_names || [];
  const axes = names.map((name, i) => ({ i, name, ...classify(name) }));
  const arms = [...new Set(axes.map((a) => a.arm))];
  for (const arm of arms) {
    const mine = axes.filter((a) => a.arm === arm);
    // Side-view tasks (x and z, no y) draw z upwards: drive it with the
    // vertical keys and stick.
    if (!mine.some((a) => a.role === 'y')) for (const a of mine) if (a.role === 'z') a.role = 'y';
    // Unknown axes take the first free motion role of their arm.
    const free = ['x', 'y', 'z', 'yaw', 'pitch', 'roll'].filter((r) => !mine.some((a) => a.role === r));
    for (const a of mine) if (a.role === 'other' && free.length) a.role = free.shift();
  }
  const absolute = /push.?t/i.test(spec?.name || '') || names.some((n) => /target|abs/i.test(n));
  return { axes, arms, absolute, size: names.length };
}

// Keyboard bindings by KeyboardEvent.code (layout independent).
const motionKeys = {
  ArrowLeft: ['x', -1], KeyA: ['x', -1], ArrowRight: ['x', 1], KeyD: ['x', 1],
  ArrowUp: ['y', 1], KeyW: ['y', 1], ArrowDown: ['y', -1], KeyS: ['y', -1],
  KeyQ: ['z', -1], KeyE: ['z', 1],
  KeyZ: ['yaw', 1], KeyC: ['yaw', -1],
  KeyR: ['pitch', 1], KeyF: ['pitch', -1],
  KeyX: ['roll', 1], KeyV: ['roll', -1],
};
const actionKeys = {
  KeyT: 'takeover', KeyH: 'handback', KeyN: 'reset', KeyP: 'pause',
  KeyG: 'success', KeyB: 'failure', Tab: 'arm', KeyL: 'labels',
};
// Standard-mapping gamepad buttons.
const pad = { A: 0, B: 1, X: 2, Y: 3, LB: 4, RB: 5, LT: 6, RT: 7, Back: 8, Start: 9, Up: 12, Down: 13, Left: 14, Right: 15 };
const padActions = { [pad.A]: 'takeover', [pad.B]: 'handback', [pad.X]: 'success', [pad.Y]: 'failure', [pad.Back]: 'reset', [pad.Start]: 'pause', [pad.Left]: 'arm', [pad.Right]: 'arm' };

function typing(el) {
  return el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

export class Input {
  /**
   * @param {HTMLCanvasElement} canvas  pointer target
   * @param {import('./render.js').SceneView} view  for pointer → world and the tool pose
   * @param {(what: string) => void} onAction  one-shot actions: takeover, handback, reset, pause, success, failure
   */
  constructor(canvas, view, onAction) {
    this.canvas = canvas; this.view = view; this.onAction = onAction;
    this.lay = layout(null);
    this.executed = null;   // last executed action, from frames
    this.jawLatch = false;
    this.prevEngaged = false;
    this.keys = new Set();
    this.pointer = null;     // {id, world: [x, y]} while pressed
    this.target = null;      // absolute tasks: world target while engaged
    this.tool = -1;          // scene body the operator drives
    this.gain = 0.6;
    this.arm = 0;            // index into lay.arms
    this.padIndex = -1;
    this.padPrev = [];
    this.padName = '';
    this.lastT = 0;
    this.active = new Set(); // mapping rows in use this frame
    this.enabled = true;
    this.handlers = [];
    const on = (t, ev, f, o) => { t.addEventListener(ev, f, o); this.handlers.push([t, ev, f, o]); };
    on(window, 'keydown', (e) => this.key(e, true));
    on(window, 'keyup', (e) => this.key(e, false));
    on(window, 'blur', () => { this.keys.clear(); this.pointer = null; });
    on(canvas, 'pointerdown', (e) => this.pdown(e));
    on(canvas, 'pointermove', (e) => this.pmove(e));
    on(canvas, 'pointerup', (e) => this.pup(e));
    on(canvas, 'pointercancel', (e) => this.pup(e));
    on(canvas, 'contextmenu', (e) => e.preventDefault());
    on(window, 'gamepadconnected', (e) => { this.padIndex = e.gamepad.index; });
    on(window, 'gamepaddisconnected', (e) => { if (e.gamepad.index === this.padIndex) this.padIndex = -1; });
  }

  destroy() { for (const [t, ev, f, o] of this.handlers) t.removeEventListener(ev, f, o); }

  setTask(spec, tool) { this.spec = spec; this.lay = layout(spec); this.executed = null; this.tool = tool; this.arm = 0; this.target = null; }

  key(e, down) {
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const c = e.code;
    if (c === 'Tab' && this.lay.arms.length < 2) return; // keep Tab for focus moves
    if (!(c in motionKeys) && !(c in actionKeys) && c !== 'Space' && c !== 'ShiftLeft' && c !== 'ShiftRight') return;
    e.preventDefault(); // arrows and space would scroll the page
    if (!down) { this.keys.delete(c); return; }
    if (e.repeat) return;
    this.keys.add(c);
    if (c in actionKeys) this.action(actionKeys[c]);
  }

  action(what) {
    if (what === 'arm') { this.arm = (this.arm + 1) % Math.max(1, this.lay.arms.length); return; }
    this.onAction(what);
  }

  pdown(e) {
    if (!this.enabled) return;
    this.canvas.focus({ preventScroll: true });
    this.canvas.setPointerCapture?.(e.pointerId);
    this.pointer = { id: e.pointerId, world: this.view.toWorld(e.clientX, e.clientY), start: null };
    this.pointer.start = this.pointer.world;
    this.ptool = this.toolPose();
    e.preventDefault();
  }
  pmove(e) {
    if (!this.pointer || e.pointerId !== this.pointer.id) return;
    this.pointer.world = this.view.toWorld(e.clientX, e.clientY);
  }
  pup(e) { if (this.pointer && e.pointerId === this.pointer.id) this.pointer = null; }

  toolPose() { return this.tool >= 0 ? this.view.latest(this.tool) : null; }

  /** Read the first connected gamepad, or null. */
  gamepad() {
    const pads = navigator.getGamepads ? navigator.getGamepads() : [];
    let gp = this.padIndex >= 0 ? pads[this.padIndex] : null;
    if (!gp) gp = [...pads].find((p) => p && p.connected) || null;
    this.padName = gp ? gp.id : '';
    return gp;
  }

  /**
   * Sample all inputs at time now (ms). Returns the command fields plus the
   * mapping rows in use: {action, engaged, clutch, buttons, active, target}.
   * holding: whether this client holds authority (after take over).
   */
  sample(now, holding) {
    const dt = this.lastT ? Math.min(0.1, (now - this.lastT) / 1000) : 0;
    this.lastT = now;
    const active = new Set();
    const v = { x: 0, y: 0, z: 0, yaw: 0, pitch: 0, roll: 0 };
    let grip = false, hold = false, clutch = false;
    const buttons = [];
    if (this.enabled) {
      for (const c of this.keys) {
        const m = motionKeys[c];
        if (m) { v[m[0]] += m[1]; active.add(m[0]); }
      }
      if (this.keys.has('Space')) { grip = true; active.add('jaw'); }
      if (this.keys.has('ShiftLeft') || this.keys.has('ShiftRight')) { hold = true; active.add('hold'); }
      const gp = this.gamepad();
      if (gp) this.readPad(gp, v, active, (g, h, c) => { grip ||= g; hold ||= h; clutch ||= c; });
    }
    for (const k in v) v[k] = Math.max(-1, Math.min(1, v[k]));
    const moving = Object.values(v).some((x) => x !== 0);
    const pointing = !!this.pointer;
    if (pointing) active.add('pointer');
    const engaged = this.enabled && (holding || hold || moving || grip || pointing);
    const arm = this.lay.arms[this.arm] ?? '';

    // Bumpless jaw: a jaw the robot holds closed stays closed when the human
    // engages, until the operator presses the grip key/trigger themselves.
    if (engaged && !this.prevEngaged) this.jawLatch = this.robotJawClosed(arm);
    if (grip || !engaged) this.jawLatch = false;
    this.prevEngaged = engaged;
    const closed = grip || this.jawLatch;
    if (closed) { active.add('jaw'); if (this.lay.axes.some((a) => a.role === 'jaw')) buttons.push('grip'); }

    const action = new Array(this.lay.size).fill(0);
    let target = null;
    if (this.lay.absolute) {
      target = this.absolute(engaged, v, dt, action);
    } else {
      for (const a of this.lay.axes) {
        if (a.role === 'jaw') {
          if (a.arm !== arm) { action[a.i] = this.executedOr(a.i, this.jawOpen(a)); continue; }
          action[a.i] = closed ? -this.jawOpen(a) : this.jawOpen(a);
        } else if (a.arm === arm && a.role in v) {
          action[a.i] = v[a.role] * this.gain;
        }
      }
      if (pointing) this.pointerVelocity(action, arm);
    }
    this.active = active;
    return { action, engaged, clutch, buttons, active, target };
  }

  /** The last executed action (frame.action), for bumpless jaw takeover. */
  setExecuted(a) { if (Array.isArray(a) && a.length === this.lay.size) this.executed = a; }

  executedOr(i, dflt) { return this.executed && typeof this.executed[i] === 'number' ? this.executed[i] : dflt; }

  robotJawClosed(arm) {
    return this.lay.axes.some((a) => a.role === 'jaw' && a.arm === arm &&
      this.executed && typeof this.executed[a.i] === 'number' &&
      (this.jawOpen(a) > 0 ? this.executed[a.i] < 0 : this.executed[a.i] > 0));
  }

  // Jaw convention: names with "jaw" open at +1 (SurRoL: < 0 closes);
  // "grip"/"grasp" names close at +1.
  jawOpen(a) { return /grip|grasp|close/i.test(a.name) ? -1 : 1; }

  readPad(gp, v, active, set) {
    const ax = (i) => { const x = gp.axes[i] || 0; return Math.abs(x) < deadzone ? 0 : x; };
    const btn = (i) => gp.buttons[i] ? gp.buttons[i].value || (gp.buttons[i].pressed ? 1 : 0) : 0;
    const lx = ax(0), ly = -ax(1), rx = ax(2), ry = -ax(3); // +Y is down on the pad
    if (lx) { v.x += lx; active.add('x'); }
    if (ly) { v.y += ly; active.add('y'); }
    if (ry) { v.z += ry; active.add('z'); }
    if (rx) { v.yaw -= rx; active.add('yaw'); }
    const dp = btn(pad.Up) - btn(pad.Down);
    if (dp) { v.pitch += dp; active.add('pitch'); }
    const twoArms = this.lay.arms.length > 1;
    const dr = twoArms ? 0 : btn(pad.Right) - btn(pad.Left);
    if (dr) { v.roll += dr; active.add('roll'); }
    const grip = btn(pad.RT) > 0.5;
    if (grip) active.add('jaw');
    const hold = btn(pad.RB) > 0.5;
    if (hold) active.add('hold');
    const clutch = btn(pad.LB) > 0.5;
    if (clutch) active.add('clutch');
    set(grip, hold, clutch);
    // Edge-triggered one-shot buttons.
    for (const [i, what] of Object.entries(padActions)) {
      if (what === 'arm' && !twoArms) continue; // d-pad ← → rolls instead
      const now = btn(+i) > 0.5;
      if (now && !this.padPrev[i]) this.action(what);
      this.padPrev[i] = now;
    }
  }

  // Drag on a velocity task: the offset from where the drag started, in
  // world units relative to a tenth of the field, drives x/y.
  pointerVelocity(action, arm) {
    const b = this.view.scene?.bounds;
    if (!b || !this.pointer) return;
    const span = Math.max(b[2] - b[0], b[3] - b[1]) / 10;
    const dx = (this.pointer.world[0] - this.pointer.start[0]) / span;
    const dy = (this.pointer.world[1] - this.pointer.start[1]) / span;
    for (const a of this.lay.axes) {
      if (a.arm !== arm) continue;
      if (a.role === 'x') action[a.i] = Math.max(-1, Math.min(1, dx)) * this.gain;
      if (a.role === 'y') action[a.i] = Math.max(-1, Math.min(1, dy)) * this.gain;
    }
  }

  // Absolute target (Push-T point-and-push): the target follows the pointer,
  // or moves from the tool's current position with keys and sticks.
  absolute(engaged, v, dt, action) {
    const b = absRange(this.spec, this.view.scene);
    if (!engaged) { this.target = null; } else {
      if (!this.target) {
        const p = this.toolPose();
        this.target = p ? [p.x, p.y] : [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
      }
      if (this.pointer) {
        this.target = [...this.pointer.world];
      } else {
        const speed = 0.6 * this.gain * (b[2] - b[0]); // field widths per second
        this.target[0] += v.x * speed * dt;
        this.target[1] += v.y * speed * dt;
      }
      this.target[0] = Math.max(b[0], Math.min(b[2], this.target[0]));
      this.target[1] = Math.max(b[1], Math.min(b[3], this.target[1]));
    }
    const t = this.target || (() => { const p = this.toolPose(); return p ? [p.x, p.y] : null; })();
    if (t) {
      const n = absNorm(t, b);
      for (const a of this.lay.axes) {
        if (a.role === 'x') action[a.i] = n[0];
        else if (a.role === 'y') action[a.i] = n[1];
      }
    }
    return this.target;
  }

  /** Rows of the on-screen mapping table for the current task. */
  rows() {
    const roles = new Set(this.lay.axes.map((a) => a.role));
    const arm = this.lay.arms[this.arm] ?? '';
    const names = (role) => {
      const n = this.lay.axes.filter((a) => a.role === role && (a.arm === arm || role === 'jaw')).map((a) => a.name);
      return n.length ? ` (${n.join(', ')})` : '';
    };
    const r = [];
    const sec = (t) => r.push({ sec: t });
    sec(this.lay.absolute ? 'Target (absolute position)' : 'Motion');
    if (roles.has('x') || roles.has('y')) {
      r.push({ id: 'x', keys: '← → / A D', pad: 'left stick X', what: (this.lay.absolute ? 'target left / right' : 'left / right') + names('x') });
      r.push({ id: 'y', keys: '↑ ↓ / W S', pad: 'left stick Y', what: (this.lay.absolute ? 'target up / down' : 'up / down') + names('y') });
      r.push({ id: 'pointer', keys: 'drag mouse / touch', pad: '', what: this.lay.absolute ? 'target = point under finger' : 'drag = velocity' });
    }
    if (roles.has('z')) r.push({ id: 'z', keys: 'Q / E', pad: 'right stick Y', what: 'down / up' + names('z') });
    if (roles.has('yaw')) r.push({ id: 'yaw', keys: 'Z / C', pad: 'right stick X', what: 'rotate ccw / cw' + names('yaw') });
    if (roles.has('pitch')) r.push({ id: 'pitch', keys: 'R / F', pad: 'd-pad ↑ / ↓', what: 'pitch' + names('pitch') });
    if (roles.has('roll')) r.push({ id: 'roll', keys: 'X / V', pad: this.lay.arms.length > 1 ? '' : 'd-pad ← / →', what: 'roll' + names('roll') });
    if (roles.has('jaw')) r.push({ id: 'jaw', keys: 'Space (hold)', pad: 'RT (hold)', what: 'close jaw / grip' + names('jaw') + '; a jaw the robot holds stays closed until you press' });
    if (this.lay.arms.length > 1) r.push({ id: 'arm', keys: 'Tab', pad: 'd-pad ← / →', what: `switch arm (now ${this.lay.arms[this.arm] || 'main'})` });
    sec('Control');
    r.push({ id: 'hold', keys: 'Shift (hold)', pad: 'RB (hold)', what: 'intervene while held' });
    r.push({ id: 'takeover', keys: 'T', pad: 'A', what: 'take over (until hand back)' });
    r.push({ id: 'handback', keys: 'H', pad: 'B', what: 'hand back to robot' });
    r.push({ id: 'clutch', keys: '', pad: 'LB (hold)', what: 'clutch (tool frozen)' });
    r.push({ id: 'reset', keys: 'N', pad: 'Back', what: 'reset episode' });
    r.push({ id: 'pause', keys: 'P', pad: 'Start', what: 'pause / resume' });
    r.push({ id: 'success', keys: 'G', pad: 'X', what: 'mark success' });
    r.push({ id: 'failure', keys: 'B', pad: 'Y', what: 'mark failure' });
    r.push({ id: 'labels', keys: 'L', pad: '', what: 'show / hide labels' });
    return r;
  }
}

/**
 * The world rectangle that absolute actions span: Push-T's 0..512 px field
 * (protocol: -1..1 ↔ 0..512 px), otherwise the scene bounds.
 */
export function absRange(spec, scene) {
  if (spec?.units === 'px' && /push.?t/i.test(spec?.name || '')) return [0, 0, 512, 512];
  return scene?.bounds || [0, 0, 512, 512];
}

/** World point → normalised absolute action (-1..1 over the field bounds). */
export function absNorm(p, b) {
  return [
    Math.max(-1, Math.min(1, 2 * (p[0] - b[0]) / (b[2] - b[0]) - 1)),
    Math.max(-1, Math.min(1, 2 * (p[1] - b[1]) / (b[3] - b[1]) - 1)),
  ];
}
