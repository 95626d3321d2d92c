package surgical

import (
	"math"

	"github.com/ByteArena/box2d"
)

// Instrument geometry and command scaling. Lengths in cm, angles in radians.
const (
	fingerLen   = 1.5 // jaw finger length from the wrist pivot to the tip (tandem's choice)
	fingerWidth = 0.15
	shaftWidth  = 0.5  // a 5 mm laparoscopic shaft (tandem's choice)
	shaftLen    = 30.0 // longer than any insertion, so the shaft always spans the port

	stepLen  = 1.0       // cm per control step at |action| = 1: SurRoL scales Δxyz by 1 cm
	stepRot  = 20 * deg  // rad per control step at |action| = 1: SurRoL v2 scales Δyaw by 20°
	jawOpen  = 40 * deg  // SurRoL opens the jaw to 40°, closes it to 0°
	jawSpeed = 200 * deg // rad/s: open to closed in one 0.2 s control step (tandem's choice)

	phiMax   = 80 * deg // jaw direction limit either side of straight down
	wristMax = 85 * deg // wrist joint limit relative to the shaft
	floorGap = 0.05     // fingertips stay this far above the floor (saturation, not collision)
)

// joints is the instrument's joint state: pivot angle of the shaft about the
// port (theta, from straight down), insertion depth from the port to the
// wrist (d), and the wrist angle relative to the shaft.
type joints struct{ theta, d, wrist float64 }

// instrument is a laparoscopic instrument whose shaft passes through a fixed
// port (the remote centre of motion). It is kinematically driven: its bodies
// follow the joint state exactly, so the shaft passes through the port by
// construction, and contacts push objects but never the instrument.
type instrument struct {
	port      vec
	ws        rect    // workspace of the jaw tip
	floor     float64 // height of the surface below
	thetaMax  float64
	dMin      float64
	dMax      float64
	controlHz float64

	q, q0, q1 joints  // now, at the start of the control period, commanded
	jaw       float64 // opening, rad
	jawCmd    float64 // commanded opening: 0 or jawOpen
	jawHold   float64 // the jaw cannot close past this while holding
	elapsed   float64
	period    float64

	shaft, hand, fingerA, fingerB *box2d.B2Body

	grip grip // grasp state (grasp.go)
}

// phi is the jaw direction in the world.
func (in *instrument) phi() float64 { return in.q.theta + in.q.wrist }

// wristPoint is where the shaft ends and the jaw hinges.
func (in *instrument) wristPoint(q joints) vec { return in.port.Add(dir(q.theta).Mul(q.d)) }

// tipOf is the jaw tip (the tool point commands move) for joint state q.
func (in *instrument) tipOf(q joints) vec {
	return in.wristPoint(q).Add(dir(q.theta + q.wrist).Mul(fingerLen))
}

// tip is the jaw tip now.
func (in *instrument) tip() vec { return in.tipOf(in.q) }

// target is the commanded jaw tip at the end of the current period.
func (in *instrument) target() vec { return in.tipOf(in.q1) }

// closed reports whether the operator is commanding the jaw closed.
func (in *instrument) closed() bool { return in.jawCmd == 0 }

// solve is the inverse kinematics with saturation: it returns the joint state
// that puts the jaw tip as close as the limits allow to tip with jaw
// direction phi. Out-of-range requests saturate; they never fail.
func (in *instrument) solve(tip vec, phi float64) joints {
	q := in.solveOnce(tip, phi)
	// A clamped wrist turns the jaw, which moves the tip: solve again for
	// the direction the wrist can reach, so the tip stays in the workspace.
	for range 3 {
		got := q.theta + q.wrist
		if math.Abs(got-clamp(phi, -phiMax, phiMax)) < 1e-12 {
			break
		}
		phi = got
		q = in.solveOnce(tip, phi)
	}
	return q
}

func (in *instrument) solveOnce(tip vec, phi float64) joints {
	phi = clamp(phi, -phiMax, phiMax)
	tip = in.ws.clamp(tip)
	// Keep both fingertips above the floor at the widest opening.
	low := math.Inf(1)
	for _, s := range [2]float64{-1, 1} {
		low = min(low, fingerLen*dir(phi + s*jawOpen/2)[1])
	}
	w := tip.Sub(dir(phi).Mul(fingerLen))
	if minY := in.floor + floorGap + fingerWidth/2; w[1]+low < minY {
		w[1] = minY - low
	}
	v := w.Sub(in.port)
	q := joints{theta: angleOf(v), d: v.Len()}
	q.theta = clamp(q.theta, -in.thetaMax, in.thetaMax)
	q.d = clamp(q.d, in.dMin, in.dMax)
	q.wrist = clamp(phi-q.theta, -wristMax, wristMax)
	return q
}

// place puts the instrument at rest at tip with jaw direction phi and the
// given opening (used at reset, before any step).
func (in *instrument) place(tip vec, phi, jaw float64) {
	in.q = in.solve(tip, phi)
	in.q0, in.q1 = in.q, in.q
	in.jaw, in.jawCmd = jaw, jaw
	in.elapsed, in.period = 0, 0
	in.pose(0)
}

// command sets the motion for the next period from a normalised action
// [dx, dy, dphi, jaw]. Increments are defined per control step at
// controlHz and scaled by period·controlHz, so any session rate moves the
// tool at the same speed.
func (in *instrument) command(a []float64, period float64) {
	scale := period * in.controlHz
	tip := in.target().Add(vec{a[0], a[1]}.Mul(stepLen * scale))
	phi := in.q1.theta + in.q1.wrist + a[2]*stepRot*scale
	in.q0 = in.q
	in.q1 = in.solve(tip, phi)
	in.elapsed, in.period = 0, period
	if a[3] < 0 { // SurRoL: a negative jaw command closes, otherwise open
		in.jawCmd = 0
	} else {
		in.jawCmd = jawOpen
	}
}

// advance moves the joint state dt seconds along the commanded motion
// (linear in joint space, so every intermediate pose respects the port) and
// sets the kinematic bodies' velocities to arrive there after dt.
func (in *instrument) advance(dt float64) {
	in.elapsed += dt
	f := 1.0
	if in.period > 0 {
		f = min(in.elapsed/in.period, 1)
	}
	in.q = joints{
		theta: in.q0.theta + (in.q1.theta-in.q0.theta)*f,
		d:     in.q0.d + (in.q1.d-in.q0.d)*f,
		wrist: in.q0.wrist + (in.q1.wrist-in.q0.wrist)*f,
	}
	step := jawSpeed * dt
	jaw := in.jaw + clamp(in.jawCmd-in.jaw, -step, step)
	if in.grip.held != nil {
		jaw = max(jaw, in.jawHold)
	}
	in.jaw = jaw
	in.pose(dt)
}

// pose drives the kinematic bodies to the current joint state: with dt > 0
// by velocity (so contacts see the motion), with dt = 0 by teleporting.
func (in *instrument) pose(dt float64) {
	w := in.wristPoint(in.q)
	phi := in.phi()
	drive(in.shaft, w, in.q.theta, dt)
	drive(in.hand, w, phi, dt)
	drive(in.fingerA, w, phi+in.jaw/2, dt)
	drive(in.fingerB, w, phi-in.jaw/2, dt)
}

// drive moves kinematic body b to position p and angle a in dt seconds.
func drive(b *box2d.B2Body, p vec, a, dt float64) {
	if dt <= 0 {
		b.SetTransform(b2(p), a)
		b.SetLinearVelocity(box2d.B2Vec2{})
		b.SetAngularVelocity(0)
		return
	}
	v := p.Sub(bodyPos(b)).Mul(1 / dt)
	b.SetLinearVelocity(b2(v))
	b.SetAngularVelocity((a - b.M_sweep.A) / dt)
}

// portError is the distance from the port to the line of the shaft body as
// Box2D holds it now: the RCM error.
func (in *instrument) portError() float64 {
	p := bodyPos(in.shaft)
	u := dir(in.shaft.M_sweep.A)
	r := in.port.Sub(p)
	return math.Abs(r[0]*u[1] - r[1]*u[0])
}

// build creates the instrument's bodies in w. group is the negative
// collision group shared by the instrument's own fixtures.
func (in *instrument) build(w *box2d.B2World, group int16) {
	kin := func() *box2d.B2Body {
		def := box2d.MakeB2BodyDef()
		def.Type = box2d.B2BodyType.B2_kinematicBody
		return w.CreateBody(&def)
	}
	in.shaft, in.hand, in.fingerA, in.fingerB = kin(), kin(), kin(), kin()
	addBox(in.shaft, shaftWidth/2, shaftLen/2, vec{0, shaftLen / 2}, 0, fixtureOpts{group: group, cat: catTool})
	for _, f := range [2]*box2d.B2Body{in.fingerA, in.fingerB} {
		addBox(f, fingerWidth/2, fingerLen/2, vec{0, -fingerLen / 2}, 0, fixtureOpts{group: group, cat: catTool, friction: 1})
	}
	in.grip = grip{armed: true}
}

// owns reports whether body b is part of this instrument.
func (in *instrument) owns(b *box2d.B2Body) bool {
	return b == in.shaft || b == in.fingerA || b == in.fingerB || b == in.hand
}

// finger reports 1 or 2 for the jaw fingers, 0 otherwise.
func (in *instrument) finger(b *box2d.B2Body) int {
	switch b {
	case in.fingerA:
		return 1
	case in.fingerB:
		return 2
	}
	return 0
}
