package manip

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Peg-insert geometry and rates. 1 unit = 1 cm, table top at y = 0. The
// 1 mm diametral clearance is 0.1 units: 20× Box2D's linear slop (0.005)
// and 10× its polygon skin (0.01); two skins and the slop leave about
// 0.7 mm of free play.
const (
	pegHz        = 10  // HIL-SERL's real-robot control rate
	pegPhysicsHz = 240 // 24 substeps per control step
	pegHorizon   = 100 // HIL-SERL episodes run 100–120 steps
	pegSpeed     = 4.0 // cm/s at |action| = 1
	pegStream    = 0x7e9

	pegHalfW      = 1.0                       // cm: 2 cm peg
	pegHalfH      = 3.0                       // cm: 6 cm long
	clearance     = 0.1                       // cm: hole width − peg width
	holeHalfW     = pegHalfW + clearance/2    // cm
	holeDepth     = 4.0                       // cm: full insertion depth (floor = table top)
	holeWallHalfW = 2.0                       // cm: each wall is 4 cm wide
	seatTol       = 0.1                       // cm: seated within 1 mm of full depth
	pegDensity    = 0.01                      // kg/cm²: 0.12 kg peg
	pegFriction   = 0.3                       // peg on hole walls
	pegPalmHalfW  = 3.0                       // cm
	pegPalmHalfH  = 0.75                      // cm
	pegJawHalfW   = 0.4                       // cm
	pegJawHalfH   = 0.75                      // cm: fingers hold the top 1.5 cm of the peg
	pegBelowPalm  = pegPalmHalfH + 2*pegHalfH // peg bottom below the palm centre
	pegServoHz    = 8.0                       // Hz: natural frequency of the palm's impedance servo (critically damped)
	pegLead       = 0.5                       // cm: the servo's reference may lead the palm by this much, which bounds the push
	pegForceMax   = 300.0                     // kg·cm/s² (3 N) per axis: the servo's force limit, which makes the gantry compliant
	pegXRange     = 20.0                      // cm: palm x stays within ±pegXRange
	pegYMax       = 20.0                      // cm: palm ceiling
	pegGain       = 5.0                       // 1/s: expert's proportional gain
	pegAlignTol   = 0.015                     // cm: expert descends into the hole only this well aligned
	pegDescend    = 0.5                       // expert's normalised descent speed
)

var pegObs = []string{"peg_x", "peg_z", "hole_x", "hole_z", "rel_x", "rel_z", "vel_x", "vel_z", "force_x", "force_z"}

// PegInsert is precision insertion in the manner of HIL-SERL's assembly
// tasks (10 Hz control, ~100-step episodes): side view, a 2 cm peg already
// held in the gripper must go to full depth in a hole at a random place
// with 1 mm clearance. Peg and hole walls are Box2D bodies, so the tolerance
// is real. The gantry is force-limited (a velocity servo whose force is
// clipped), like the compliant impedance control HIL-SERL runs on its
// robot, so a misaligned peg rests on the hole's edge instead of exploding.
// Success is the peg within 1 mm of full depth; it ends the episode.
type PegInsert struct {
	spec  sim.Spec
	scene *sim.Scene

	world *box2d.B2World
	phys  b2step.Stepper // steps world; bound at the end of Reset
	palm  *box2d.B2Body  // dynamic, fixed rotation; jaws are palm fixtures
	peg   *box2d.B2Body
	hole  *box2d.B2Body

	cmd   box2d.B2Vec2 // palm velocity command, cm/s
	ref   box2d.B2Vec2 // impedance servo's reference position of the palm
	force box2d.B2Vec2 // contact force on the peg summed over this step's substeps
	steps int          // substeps summed into force
	last  box2d.B2Vec2 // mean contact force on the peg over the last control step
	wm    box2d.B2WorldManifold

	skipPhysics bool // tests only: run tandem's code without the physics step
}

// NewPegInsert returns the peg-insert task, ready for Reset.
func NewPegInsert() *PegInsert {
	low, high := sim.Normalised(2)
	t := &PegInsert{spec: sim.Spec{
		Name:        "peg-insert",
		Kind:        sim.Manipulation,
		Description: "Push a peg held in a compliant gripper to full depth in a hole with 1 mm clearance (side view, gravity).",
		Source:      "HIL-SERL precision assembly (10 Hz, 100-step episodes)",
		ObsNames:    pegObs,
		ActionNames: []string{"vx", "vz"},
		ActionLow:   low, ActionHigh: high,
		ControlHz: pegHz, TeleopHz: 30, PhysicsHz: pegPhysicsHz,
		Horizon: pegHorizon, Units: "cm", Continuous: false, Version: 2,
	}}
	t.scene = t.buildScene()
	t.Reset(0)
	return t
}

// Spec describes the task.
func (t *PegInsert) Spec() sim.Spec { return t.spec }

func holeFixtures() [2]boxFix {
	return [2]boxFix{
		{cx: -holeHalfW - holeWallHalfW, cy: holeDepth / 2, hx: holeWallHalfW, hy: holeDepth / 2, friction: pegFriction},
		{cx: holeHalfW + holeWallHalfW, cy: holeDepth / 2, hx: holeWallHalfW, hy: holeDepth / 2, friction: pegFriction},
	}
}

func pegPalmFixtures() [3]boxFix {
	return [3]boxFix{
		{hx: pegPalmHalfW, hy: pegPalmHalfH, density: jawDensity, friction: 0.5},
		{cx: -pegHalfW - pegJawHalfW, cy: -pegPalmHalfH - pegJawHalfH, hx: pegJawHalfW, hy: pegJawHalfH, density: jawDensity, friction: 0.5},
		{cx: pegHalfW + pegJawHalfW, cy: -pegPalmHalfH - pegJawHalfH, hx: pegJawHalfW, hy: pegJawHalfH, density: jawDensity, friction: 0.5},
	}
}

// Reset builds the table, the hole at a random place and the gripper with
// the peg above it at a random offset.
func (t *PegInsert) Reset(seed uint64) {
	r := newRand(seed, pegStream)
	t.world = newWorld(-gravity, false)
	table := addBody(t.world, box2d.B2BodyType.B2_staticBody, 0, -1, 0)
	addBox(table, boxFix{hx: tableHalf, hy: 1, friction: pegFriction})
	holeX := uniform(r, -8, 8)
	t.hole = addBody(t.world, box2d.B2BodyType.B2_staticBody, holeX, 0, 0)
	for _, f := range holeFixtures() {
		addBox(t.hole, f)
	}
	px := holeX + uniform(r, -4, 4)
	py := uniform(r, holeDepth+2, holeDepth+5) + pegBelowPalm
	t.palm = addBody(t.world, box2d.B2BodyType.B2_dynamicBody, px, py, 0)
	t.palm.SetFixedRotation(true)
	for _, f := range pegPalmFixtures() {
		addBox(t.palm, f)
	}
	t.peg = addBody(t.world, box2d.B2BodyType.B2_dynamicBody, px, py-pegPalmHalfH-pegHalfH, 0)
	addBox(t.peg, boxFix{hx: pegHalfW, hy: pegHalfH, density: pegDensity, friction: pegFriction})
	wd := box2d.MakeB2WeldJointDef()
	wd.Initialize(t.palm, t.peg, box2d.MakeB2Vec2(px, py-pegPalmHalfH))
	t.world.CreateJoint(&wd)
	t.cmd, t.ref, t.force, t.last, t.steps = box2d.B2Vec2{}, t.palm.GetPosition(), box2d.B2Vec2{}, box2d.B2Vec2{}, 0
	t.phys.Bind(t.world)
}

// Act sets the palm velocity for the next period.
func (t *PegInsert) Act(a []float64, period float64) {
	t.cmd = box2d.MakeB2Vec2(a[0]*pegSpeed, a[1]*pegSpeed)
}

// Substep runs the palm's impedance servo and the physics. The servo's
// reference integrates the commanded velocity and may lead the palm by at
// most pegLead, so a blocked peg is pushed with a bounded force (as HIL-SERL
// clips its impedance controller's target) instead of an ever-growing one.
func (t *PegInsert) Substep(dt float64) {
	p, v := t.palm.GetPosition(), t.palm.GetLinearVelocity()
	m := t.palm.GetMass() + t.peg.GetMass()
	w := 2 * math.Pi * pegServoHz
	k, d := m*w*w, 2*m*w
	vx := speedToward(t.cmd.X, t.ref.X, -pegXRange, pegXRange, dt)
	vy := speedToward(t.cmd.Y, t.ref.Y, -math.MaxFloat64, pegYMax, dt)
	t.ref.X = math.Max(p.X-pegLead, math.Min(p.X+pegLead, t.ref.X+vx*dt))
	t.ref.Y = math.Max(p.Y-pegLead, math.Min(p.Y+pegLead, t.ref.Y+vy*dt))
	fx := math.Max(-pegForceMax, math.Min(pegForceMax, k*(t.ref.X-p.X)+d*(vx-v.X)))
	fy := math.Max(-pegForceMax, math.Min(pegForceMax, k*(t.ref.Y-p.Y)+d*(vy-v.Y)))
	t.palm.ApplyForceToCenter(box2d.MakeB2Vec2(fx, fy+m*gravity), true) // gravity compensated
	if !t.skipPhysics {
		t.phys.Step(dt, velocityIters, positionIters)
	}
	f := contactForce(t.peg, dt, &t.wm)
	t.force.X += f.X
	t.force.Y += f.Y
	t.steps++
}

// EndPeriod makes the mean contact force over the control step's substeps
// the observed force (sim.PeriodEnder): the mean over the whole learning
// step, however many sub-ticks a live session split it into.
func (t *PegInsert) EndPeriod() {
	if t.steps > 0 {
		t.last = box2d.MakeB2Vec2(t.force.X/float64(t.steps), t.force.Y/float64(t.steps))
	}
	t.force, t.steps = box2d.B2Vec2{}, 0
}

// contactForce is the force the last step's contacts put on b (normal and
// friction impulses over dt). wm is scratch space: a local would escape
// through Box2D's contact interface and allocate every call.
func contactForce(b *box2d.B2Body, dt float64, wm *box2d.B2WorldManifold) box2d.B2Vec2 {
	var f box2d.B2Vec2
	for ce := b.GetContactList(); ce != nil; ce = ce.Next {
		c := ce.Contact
		if !c.IsTouching() {
			continue
		}
		c.GetWorldManifold(wm)
		m := c.GetManifold()
		sign := 1.0 // the manifold normal points from A to B
		if c.GetFixtureA().GetBody() == b {
			sign = -1
		}
		n := wm.Normal
		tang := box2d.MakeB2Vec2(n.Y, -n.X)
		for i := 0; i < m.PointCount; i++ {
			pt := m.Points[i]
			f.X += sign * (pt.NormalImpulse*n.X + pt.TangentImpulse*tang.X) / dt
			f.Y += sign * (pt.NormalImpulse*n.Y + pt.TangentImpulse*tang.Y) / dt
		}
	}
	return f
}

// pegBottom is the centre of the peg's bottom face.
func (t *PegInsert) pegBottom() box2d.B2Vec2 {
	return t.peg.GetWorldPoint(box2d.MakeB2Vec2(0, -pegHalfH))
}

// Observe writes the peg bottom, the hole floor centre, their difference,
// the gripper velocity and the contact force on the peg.
func (t *PegInsert) Observe(dst []float64) {
	p, h, v := t.pegBottom(), t.hole.GetPosition(), t.palm.GetLinearVelocity()
	dst[0], dst[1], dst[2], dst[3] = p.X, p.Y, h.X, h.Y
	dst[4], dst[5] = h.X-p.X, h.Y-p.Y
	dst[6], dst[7] = v.X, v.Y
	dst[8], dst[9] = t.last.X, t.last.Y
}

// Success: the peg's bottom within 1 mm of the hole floor, inside the hole.
func (t *PegInsert) Success() bool {
	p, h := t.pegBottom(), t.hole.GetPosition()
	return p.Y-h.Y < seatTol && math.Abs(p.X-h.X) < holeHalfW
}

// Reward is sparse: 1 on success, else 0 (HIL-SERL's binary reward).
func (t *PegInsert) Reward() float64 {
	if t.Success() {
		return 1
	}
	return 0
}

// Terminal ends the episode on success.
func (t *PegInsert) Terminal() bool { return t.Success() }

// ToolForces appends the mean contact force on the peg over the last
// control step (kg·cm/s²).
func (t *PegInsert) ToolForces(dst []float64) []float64 {
	return append(dst, t.last.X, t.last.Y)
}

// Scene draws the table, the hole walls, the gripper and the peg.
func (t *PegInsert) Scene() *sim.Scene { return t.scene }

func (t *PegInsert) buildScene() *sim.Scene {
	s := &sim.Scene{
		Bounds: [4]float64{-pegXRange - 4, -3, pegXRange + 4, pegYMax + 3},
		Bodies: []string{"gripper", "peg", "hole"},
	}
	s.Shapes = append(s.Shapes, rectShape(-1, boxFix{cy: -1, hx: tableHalf, hy: 1}, "#8a7a66", 0))
	for _, f := range pegPalmFixtures() {
		s.Shapes = append(s.Shapes, rectShape(0, f, "#555", 3))
	}
	s.Shapes = append(s.Shapes, rectShape(1, boxFix{hx: pegHalfW, hy: pegHalfH}, "#e0a030", 2))
	for _, f := range holeFixtures() {
		s.Shapes = append(s.Shapes, rectShape(2, f, "#3f7fbf", 1))
	}
	s.Shapes = append(s.Shapes, sim.Shape{Body: 2, Kind: sim.Polyline,
		Points: [][2]float64{{-holeHalfW, seatTol}, {holeHalfW, seatTol}}, Width: 0.05, Color: "#2a2", Layer: 1, Label: "full depth"})
	return s
}

// Poses writes the gripper, peg and hole poses.
func (t *PegInsert) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:3]
	dst[0], dst[1], dst[2] = poseOf(t.palm), poseOf(t.peg), poseOf(t.hole)
	return dst
}

// Expert returns the align-then-insert script wrapped by sim.Skilled.
func (t *PegInsert) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(sim.PolicyFunc(pegExpert), skill, seed, func(dst []float64) { sim.HoldAction(t, dst) })
}

// pegExpert reads only the observation: it servoes x onto the hole, hovers
// just above the hole until aligned within 0.15 mm, then pushes down; once
// the peg is inside it keeps pushing until seated.
func pegExpert(obs, dst []float64) {
	dx, dz := obs[4], obs[5] // hole floor − peg bottom
	dst[0] = clamp1(pegGain * dx / pegSpeed)
	inside := -dz < holeDepth-0.1
	switch {
	case inside || math.Abs(dx) < pegAlignTol:
		dst[1] = -pegDescend
	default: // hover 4 mm above the hole's mouth
		dst[1] = clamp1(pegGain * (holeDepth + 0.4 + dz) / pegSpeed)
	}
}
