// Canvas drawing of a sim.Scene.
//
// World coordinates are task units with +y up; the canvas has +y down, so the
// world transform flips y. A shape with body i is drawn in that body's pose
// frame (translate x, y, then rotate a radians counter-clockwise); body -1 is
// the world. Poses are interpolated between the last two frames by their
// arrival time: the view runs one frame interval behind the newest frame, which
// turns a 10 Hz stream into smooth motion at the display rate.

const maxInterval = 500; // ms: longer gaps snap instead of crawling

/** Normalise a pose from {x,y,a} or [x,y,a]. */
function pose(p) {
  if (Array.isArray(p)) return { x: +p[0] || 0, y: +p[1] || 0, a: +p[2] || 0 };
  return { x: +p?.x || 0, y: +p?.y || 0, a: +p?.a || 0 };
}

function lerpAngle(a, b, t) {
  let d = b - a;
  d = Math.atan2(Math.sin(d), Math.cos(d)); // shortest way round
  return a + d * t;
}

/** Index of the body an operator drives (agent, tool, tip, …), or -1. */
export function toolBody(scene) {
  const names = scene?.bodies || [];
  const pats = [/^(agent|tool|cursor)$/i, /agent|tool|tip|gripper|effector|psm|ecm|camera|jaw|cursor/i];
  for (const p of pats) {
    const i = names.findIndex((n) => p.test(n));
    if (i >= 0) return i;
  }
  return -1;
}

export class SceneView {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.interpolate = opts.interpolate !== false;
    this.background = opts.background || '#0b0d10';
    this.scene = null;
    this.shapes = [];
    this.prev = null; this.cur = null;
    this.tPrev = 0; this.tCur = 0;
    this.marks = []; // extra world-frame markers: {x, y, r, color, kind: "cross"|"ring"}
    this.banner = ''; // text drawn across the view (e.g. DISCONNECTED)
    this.showLabels = false;
    this.xf = { s: 1, ox: 0, oy: 0 };
  }

  setScene(scene) {
    this.scene = scene && Array.isArray(scene.bounds) ? scene : null;
    this.shapes = (scene?.shapes || []).map((s, i) => ({ s, i }))
      .sort((a, b) => (a.s.layer || 0) - (b.s.layer || 0) || a.i - b.i).map((x) => x.s);
    this.prev = this.cur = null;
  }

  /** Record a frame's poses arriving at time now (ms); snap skips interpolation. */
  push(poses, now = performance.now(), snap = false) {
    const p = (poses || []).map(pose);
    if (snap || !this.cur || !this.interpolate || now - this.tCur > maxInterval || this.cur.length !== p.length) {
      this.prev = p; this.tPrev = now - 1;
    } else {
      this.prev = this.posesAt(now); this.tPrev = this.tCur; // continue from what is on screen
    }
    this.cur = p; this.tCur = now;
  }

  /** Interpolated poses at time now. */
  posesAt(now) {
    if (!this.cur) return [];
    if (!this.prev || !this.interpolate) return this.cur;
    const dt = Math.max(1, Math.min(maxInterval, this.tCur - this.tPrev));
    const t = Math.max(0, Math.min(1, (now - this.tCur) / dt));
    if (t >= 1) return this.cur;
    return this.cur.map((c, i) => {
      const p = this.prev[i] || c;
      return { x: p.x + (c.x - p.x) * t, y: p.y + (c.y - p.y) * t, a: lerpAngle(p.a, c.a, t) };
    });
  }

  /** Latest (not interpolated) pose of body i. */
  latest(i) { return this.cur && this.cur[i] ? this.cur[i] : null; }

  resize() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const h = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const b = this.scene ? this.scene.bounds : [0, 0, 1, 1];
    const bw = b[2] - b[0] || 1, bh = b[3] - b[1] || 1;
    const pad = 4 * dpr;
    const s = Math.min((w - 2 * pad) / bw, (h - 2 * pad) / bh);
    this.xf = { s, ox: (w - bw * s) / 2 - b[0] * s, oy: (h - bh * s) / 2 + b[3] * s, dpr };
  }

  /** World point for a client (CSS pixel) position, e.g. from a pointer event. */
  toWorld(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const dpr = this.xf.dpr || 1;
    const px = (clientX - r.left) * dpr, py = (clientY - r.top) * dpr;
    return [(px - this.xf.ox) / this.xf.s, (this.xf.oy - py) / this.xf.s];
  }

  toCanvas(x, y) { return [this.xf.ox + x * this.xf.s, this.xf.oy - y * this.xf.s]; }

  draw(now = performance.now()) {
    this.resize();
    const { ctx, canvas } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = this.background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!this.scene) { this.text(this.banner || 'waiting for scene…'); return; }
    const { s, ox, oy } = this.xf;
    const b = this.scene.bounds;
    const world = () => ctx.setTransform(s, 0, 0, -s, ox, oy);
    world();
    ctx.fillStyle = '#161a20';
    ctx.fillRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    const poses = this.posesAt(now);
    const hair = 1 / s; // one device pixel in world units
    for (const sh of this.shapes) {
      world();
      if (sh.body >= 0) {
        const p = poses[sh.body];
        if (!p) continue; // no pose yet for this body
        ctx.translate(p.x, p.y);
        ctx.rotate(p.a);
      }
      this.shape(sh, hair);
    }
    world();
    for (const m of this.marks) this.mark(m, hair);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.labels(poses);
    if (this.banner) this.text(this.banner);
  }

  shape(sh, hair) {
    const ctx = this.ctx;
    const color = sh.color || '#cccccc';
    ctx.beginPath();
    switch (sh.kind) {
      case 'circle': {
        const c = sh.center || [0, 0];
        ctx.arc(c[0], c[1], Math.max(sh.radius || 0, hair), 0, 2 * Math.PI);
        break;
      }
      case 'polygon':
      case 'polyline': {
        const pts = sh.points || [];
        if (pts.length === 0) return;
        ctx.moveTo(pts[0][0], pts[0][1]);
        for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
        if (sh.kind === 'polygon') ctx.closePath();
        break;
      }
      default:
        return;
    }
    if (sh.fill && sh.kind !== 'polyline') {
      ctx.fillStyle = color;
      ctx.fill();
    } else {
      ctx.strokeStyle = color;
      ctx.lineWidth = sh.width > 0 ? sh.width : 2 * hair;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.stroke();
    }
  }

  mark(m, hair) {
    const ctx = this.ctx;
    const r = m.r || 12 * hair;
    ctx.strokeStyle = m.color || '#ffb020';
    ctx.lineWidth = 2 * hair;
    ctx.beginPath();
    if (m.kind === 'ring') {
      ctx.arc(m.x, m.y, r, 0, 2 * Math.PI);
    } else {
      ctx.moveTo(m.x - r, m.y); ctx.lineTo(m.x + r, m.y);
      ctx.moveTo(m.x, m.y - r); ctx.lineTo(m.x, m.y + r);
    }
    ctx.stroke();
  }

  // Labels are off by default (setLabels); each (body, label) pair is drawn
  // once, at the mean of its shapes' centres (a polyline's first point).
  labels(poses) {
    if (!this.showLabels) return;
    const ctx = this.ctx;
    const dpr = this.xf.dpr || 1;
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const groups = new Map();
    for (const sh of this.shapes) {
      if (!sh.label) continue;
      let lx = 0, ly = 0;
      if (sh.kind === 'circle') { [lx, ly] = sh.center || [0, 0]; } else if (sh.kind === 'polyline' && sh.points?.length) {
        [lx, ly] = sh.points[0];
      } else if (sh.points?.length) {
        for (const p of sh.points) { lx += p[0]; ly += p[1]; }
        lx /= sh.points.length; ly /= sh.points.length;
      }
      const key = sh.body + '\u0000' + sh.label;
      const g = groups.get(key) || { sh, x: 0, y: 0, n: 0 };
      g.x += lx; g.y += ly; g.n++;
      groups.set(key, g);
    }
    for (const { sh, x, y, n } of groups.values()) {
      let lx = x / n, ly = y / n;
      if (sh.body >= 0) {
        const p = poses[sh.body];
        if (!p) continue;
        const c = Math.cos(p.a), sn = Math.sin(p.a);
        [lx, ly] = [p.x + c * lx - sn * ly, p.y + sn * lx + c * ly];
      }
      const [cx, cy] = this.toCanvas(lx, ly);
      const w = ctx.measureText(sh.label).width + 6 * dpr;
      ctx.fillStyle = '#000a';
      ctx.fillRect(cx - w / 2, cy - 8 * dpr, w, 16 * dpr);
      ctx.fillStyle = '#e6e9ee';
      ctx.fillText(sh.label, cx, cy);
    }
  }

  text(msg) {
    const { ctx, canvas } = this;
    const dpr = this.xf.dpr || window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000a';
    ctx.fillRect(0, canvas.height / 2 - 22 * dpr, canvas.width, 44 * dpr);
    ctx.font = `bold ${18 * dpr}px system-ui, sans-serif`;
    ctx.fillStyle = '#fff';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(msg, canvas.width / 2, canvas.height / 2);
  }
}
