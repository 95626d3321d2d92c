package manip

import (
	"math"

	"github.com/ByteArena/box2d"
	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Reach geometry and control constants (tandem's own choices unless cited).
const (
	reachHz        = 20    // control rate: robosuite's 20 Hz
	reachPhysicsHz = 240   // physics rate, as SurRoL/PyBullet's 240 Hz
	reachHorizon   = 100   // 5 s at 20 Hz: ≥ 2× the longest straight reach at full speed
	reachSpeed     = 20.0  // cm/s tip speed at |action| = 1
	reachTol       = 1.0   // cm: success radius
	reachHold      = 5     // consecutive control steps inside reachTol
	reachLambda    = 1.0   // cm: damping of the least-squares inverse near singularities
	maxJointSpeed  = 4.0   // rad/s: motor speed cap; the whole rate vector is scaled
	limitMargin    = 0.05  // rad: a joint this close to a limit stops moving into it
	nullGain       = 1.0   // 1/s: pull of the null-space motion toward mid-range
	nullMinDet     = 100   // cm⁴: det(J Jᵀ) below which the null-space motion is skipped
	motorTorque    = 1e5   // kg·cm²/s²: enough that motors track their speed every substep
	linkDensity    = 0.01  // kg/cm²: a 12×2 cm link weighs 0.24 kg
	linkHalfWidth  = 1.0   // cm
	reachGain      = 4.0   // 1/s: expert's proportional gain on the tip error
	reachArea      = 30.0  // cm: reward normaliser (the arm's full reach)
	reachStream    = 0x5ea // random stream of the reach task
)

var (
	linkLen   = [3]float64{12, 10, 8}                                        // cm
	jointLow  = [3]float64{-math.Pi / 6, -8 * math.Pi / 9, -8 * math.Pi / 9} // rad
	jointHigh = [3]float64{7 * math.Pi / 6, 8 * math.Pi / 9, 8 * math.Pi / 9}
)

var reachObs = []string{"q1", "q2", "q3", "dq1", "dq2", "dq3", "tip_x", "tip_y", "target_x", "target_y", "dx", "dy"}

// Reach is a planar three-link arm seen from above (gravity off) whose tip
// must reach a random target: the classic reacher benchmark (the
// Gym/MuJoCo Reacher family, here with three links, joint motors and joint
// limits). The action is the tip's Cartesian velocity; the task turns it
// into joint motor speeds through the arm's Jacobian with damped least
// squares, the standard resolved-rate scheme near singularities. Success is
// the tip within 1 cm of the target for 5 consecutive control steps, and it
// ends the episode (there is nothing left to do).
type Reach struct {
	spec  sim.Spec
	scene *sim.Scene

	world  *box2d.B2World
	phys   b2step.Stepper // steps world; bound at the end of Reset
	links  [3]*box2d.B2Body
	joints [3]*box2d.B2RevoluteJoint
	target box2d.B2Vec2

	cmd  mgl64.Vec2 // tip velocity command, cm/s
	held int        // consecutive control steps ended within reachTol

	skipPhysics bool // tests only: run tandem's code without the physics step
}

// NewReach returns the reach task, ready for Reset.
func NewReach() *Reach {
	low, high := sim.Normalised(2)
	t := &Reach{spec: sim.Spec{
		Name:        "reach",
		Kind:        sim.Manipulation,
		Description: "Move the tip of a planar three-link arm (top view, joint motors and limits) to within 1 cm of a random target for 5 steps; the action is the tip velocity.",
		Source:      "Gym/MuJoCo Reacher family; resolved-rate control by damped least squares; robosuite 20 Hz control",
		ObsNames:    reachObs,
		ActionNames: []string{"vx", "vy"},
		ActionLow:   low, ActionHigh: high,
		ControlHz: reachHz, TeleopHz: 60, PhysicsHz: reachPhysicsHz,
		Horizon: reachHorizon, Units: "cm", Continuous: false, Version: 2,
	}}
	t.scene = t.buildScene()
	t.Reset(0)
	return t
}

// Spec describes the task.
func (t *Reach) Spec() sim.Spec { return t.spec }

// Reset builds a fresh world with the arm in a random pose and a random
// target, both drawn from seed.
func (t *Reach) Reset(seed uint64) {
	r := newRand(seed, reachStream)
	t.world = newWorld(0, false)
	base := addBody(t.world, box2d.B2BodyType.B2_staticBody, 0, 0, 0)
	prev, x := base, 0.0
	for i, l := range linkLen {
		b := addBody(t.world, box2d.B2BodyType.B2_dynamicBody, x+l/2, 0, 0)
		addBox(b, boxFix{hx: l / 2, hy: linkHalfWidth, density: linkDensity, friction: 0.2, group: -1})
		jd := box2d.MakeB2RevoluteJointDef()
		jd.Initialize(prev, b, box2d.MakeB2Vec2(x, 0))
		jd.EnableLimit, jd.LowerAngle, jd.UpperAngle = true, jointLow[i], jointHigh[i]
		jd.EnableMotor, jd.MaxMotorTorque = true, motorTorque
		t.joints[i] = t.world.CreateJoint(&jd).(*box2d.B2RevoluteJoint)
		t.links[i] = b
		prev, x = b, x+l
	}
	// Start pose: tip in the upper half plane, away from the base and the
	// workspace edge.
	var q [3]float64
	for try := 0; ; try++ {
		q = [3]float64{uniform(r, 0.35, 2.8), uniform(r, -1.8, 1.8), uniform(r, -1.8, 1.8)}
		tip := forward(q)
		if n := tip.Len(); (n > 8 && n < 28 && tip.Y() > 2) || try > 100 {
			break
		}
	}
	t.pose(q)
	tip := forward(q)
	for try := 0; ; try++ {
		rad, th := uniform(r, 12, 26), uniform(r, 0.35, math.Pi-0.35)
		t.target = box2d.MakeB2Vec2(rad*math.Cos(th), rad*math.Sin(th))
		if math.Hypot(t.target.X-tip.X(), t.target.Y-tip.Y()) >= 5 || try > 100 {
			break
		}
	}
	t.cmd, t.held = mgl64.Vec2{}, 0
	t.phys.Bind(t.world)
}

// pose places the links at joint angles q (the joints were built with the
// arm straight along +x, so q are Box2D's joint angles).
func (t *Reach) pose(q [3]float64) {
	var p mgl64.Vec2
	phi := 0.0
	for i, l := range linkLen {
		phi += q[i]
		u := mgl64.Vec2{math.Cos(phi), math.Sin(phi)}
		c := p.Add(u.Mul(l / 2))
		t.links[i].SetTransform(box2d.MakeB2Vec2(c.X(), c.Y()), phi)
		p = p.Add(u.Mul(l))
	}
}

// forward is the tip position at joint angles q.
func forward(q [3]float64) mgl64.Vec2 {
	var p mgl64.Vec2
	phi := 0.0
	for i, l := range linkLen {
		phi += q[i]
		p = p.Add(mgl64.Vec2{math.Cos(phi), math.Sin(phi)}.Mul(l))
	}
	return p
}

// Act sets the tip velocity for the next control period.
func (t *Reach) Act(a []float64, period float64) {
	t.cmd = mgl64.Vec2{a[0], a[1]}.Mul(reachSpeed)
}

// Substep turns the tip velocity into joint speeds and steps the physics.
func (t *Reach) Substep(dt float64) {
	q := t.angles()
	dq := jointRates(q, t.cmd)
	for i, j := range t.joints {
		j.SetMotorSpeed(dq[i])
	}
	if !t.skipPhysics {
		t.phys.Step(dt, velocityIters, positionIters)
	}
}

// EndPeriod counts the control steps that end with the tip on target
// (sim.PeriodEnder): once per learning step, however many sub-ticks a
// live session split it into.
func (t *Reach) EndPeriod() {
	if t.distance() < reachTol {
		t.held++
	} else {
		t.held = 0
	}
}

func (t *Reach) angles() [3]float64 {
	var q [3]float64
	for i, j := range t.joints {
		q[i] = j.GetJointAngle()
	}
	return q
}

// jointRates solves J·dq = v by damped least squares, dq = W Jᵀ(J W Jᵀ + λ²I)⁻¹ v,
// where W drops joints pushing into their limits, then caps the joint speed.
func jointRates(q [3]float64, v mgl64.Vec2) [3]float64 {
	var cols [3]mgl64.Vec2 // Jacobian columns ∂tip/∂q_j
	phi := [3]float64{q[0], q[0] + q[1], q[0] + q[1] + q[2]}
	for j := 2; j >= 0; j-- {
		c := mgl64.Vec2{-math.Sin(phi[j]), math.Cos(phi[j])}.Mul(linkLen[j])
		if j < 2 {
			c = c.Add(cols[j+1])
		}
		cols[j] = c
	}
	w := [3]float64{1, 1, 1}
	dq := dls(cols, w, v, reachLambda)
	// Use the arm's redundancy (3 joints, 2-D tip) to drift the joints back
	// toward mid-range: z projected onto J's null space, z − J⁺Jz, with the
	// exact pseudo-inverse so the tip is not disturbed. Near a singularity
	// that projection is ill-conditioned and the drift is skipped.
	if gram(cols, w).Det() > nullMinDet {
		var z [3]float64
		for i := range z {
			z[i] = nullGain * ((jointLow[i]+jointHigh[i])/2 - q[i])
		}
		var jz mgl64.Vec2
		for j, c := range cols {
			jz = jz.Add(c.Mul(z[j]))
		}
		back := dls(cols, w, jz, 0)
		for i := range dq {
			dq[i] += z[i] - back[i]
		}
	}
	blocked := false
	for i := range dq {
		if (q[i] > jointHigh[i]-limitMargin && dq[i] > 0) || (q[i] < jointLow[i]+limitMargin && dq[i] < 0) {
			w[i], blocked = 0, true
		}
	}
	if blocked {
		dq = dls(cols, w, v, reachLambda)
	}
	peak := math.Max(math.Abs(dq[0]), math.Max(math.Abs(dq[1]), math.Abs(dq[2])))
	if peak > maxJointSpeed {
		for i := range dq {
			dq[i] *= maxJointSpeed / peak
		}
	}
	return dq
}

// gram is J W Jᵀ.
func gram(cols [3]mgl64.Vec2, w [3]float64) mgl64.Mat2 {
	var a mgl64.Mat2
	for j, c := range cols {
		a = a.Add(mgl64.Mat2{c[0] * c[0], c[1] * c[0], c[0] * c[1], c[1] * c[1]}.Mul(w[j]))
	}
	return a
}

// dls returns W Jᵀ (J W Jᵀ + λ²I)⁻¹ v.
func dls(cols [3]mgl64.Vec2, w [3]float64, v mgl64.Vec2, lambda float64) [3]float64 {
	y := gram(cols, w).Add(mgl64.Ident2().Mul(lambda * lambda)).Inv().Mul2x1(v)
	var dq [3]float64
	for j, c := range cols {
		dq[j] = w[j] * c.Dot(y)
	}
	return dq
}

// tip is the arm's end point in the world.
func (t *Reach) tip() box2d.B2Vec2 {
	return t.links[2].GetWorldPoint(box2d.MakeB2Vec2(linkLen[2]/2, 0))
}

func (t *Reach) distance() float64 {
	p := t.tip()
	return math.Hypot(t.target.X-p.X, t.target.Y-p.Y)
}

// Observe writes joint angles and speeds, tip, target and target − tip.
func (t *Reach) Observe(dst []float64) {
	for i, j := range t.joints {
		dst[i] = j.GetJointAngle()
		dst[3+i] = j.GetJointSpeed()
	}
	p := t.tip()
	dst[6], dst[7] = p.X, p.Y
	dst[8], dst[9] = t.target.X, t.target.Y
	dst[10], dst[11] = t.target.X-p.X, t.target.Y-p.Y
}

// Reward is minus the tip's distance to the target over the arm's reach.
func (t *Reach) Reward() float64 { return -t.distance() / reachArea }

// Success reports the tip held within 1 cm for 5 consecutive steps.
func (t *Reach) Success() bool { return t.held >= reachHold }

// Terminal ends the episode on success.
func (t *Reach) Terminal() bool { return t.Success() }

// Scene draws the base, the three links and the target.
func (t *Reach) Scene() *sim.Scene { return t.scene }

func (t *Reach) buildScene() *sim.Scene {
	s := &sim.Scene{
		Bounds: [4]float64{-32, -14, 32, 32},
		Bodies: []string{"link1", "link2", "link3", "target"},
	}
	s.Shapes = append(s.Shapes, sim.Shape{Body: -1, Kind: sim.Circle, Radius: 2, Color: "#555", Fill: true, Layer: 0, Label: "base"})
	colors := [3]string{"#4a78c2", "#5b8bd6", "#74a3ea"}
	for i, l := range linkLen {
		s.Shapes = append(s.Shapes,
			rectShape(i, boxFix{hx: l / 2, hy: linkHalfWidth}, colors[i], 2),
			sim.Shape{Body: i, Kind: sim.Circle, Center: [2]float64{-l / 2, 0}, Radius: 1.2, Color: "#222", Fill: true, Layer: 3})
	}
	s.Shapes = append(s.Shapes,
		sim.Shape{Body: 2, Kind: sim.Circle, Center: [2]float64{linkLen[2] / 2, 0}, Radius: 0.5, Color: "#d33", Fill: true, Layer: 4, Label: "tip"},
		sim.Shape{Body: 3, Kind: sim.Circle, Radius: reachTol, Color: "#2a2", Fill: false, Layer: 1, Label: "target"},
		sim.Shape{Body: 3, Kind: sim.Polyline, Points: [][2]float64{{-1.5, 0}, {1.5, 0}}, Width: 0.2, Color: "#2a2", Layer: 1},
		sim.Shape{Body: 3, Kind: sim.Polyline, Points: [][2]float64{{0, -1.5}, {0, 1.5}}, Width: 0.2, Color: "#2a2", Layer: 1},
	)
	return s
}

// Poses writes the three link poses and the target's.
func (t *Reach) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:4]
	for i, b := range t.links {
		dst[i] = poseOf(b)
	}
	dst[3] = sim.Pose{X: t.target.X, Y: t.target.Y}
	return dst
}

// Expert returns the proportional tip controller wrapped by sim.Skilled.
func (t *Reach) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(sim.PolicyFunc(reachExpert), skill, seed, func(dst []float64) { sim.HoldAction(t, dst) })
}

// reachExpert drives the tip straight at the target: v = k·(target − tip),
// clipped to the action's unit disc. It reads only the observation.
func reachExpert(obs, dst []float64) {
	v := mgl64.Vec2{obs[10], obs[11]}.Mul(reachGain / reachSpeed)
	if n := v.Len(); n > 1 {
		v = v.Mul(1 / n)
	}
	dst[0], dst[1] = v[0], v[1]
}
