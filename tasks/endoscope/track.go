package endoscope

import (
	"math"
	"math/rand/v2"

	"github.com/ByteArena/box2d"
	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Rates and scales of ecm-track.
const (
	trackHz        = 10                // SurRoL ECM tasks step 0.1 s
	trackPhysicsHz = 240               // SurRoL/PyBullet: 24 substeps per step
	trackHorizon   = 500               // SurRoL ActiveTrack episode length
	panStep        = 0.035             // rad (2°) of view sweep per step at |action| = 1: 20°/s
	insertStep     = 0.5               // cm per step
	rollStep       = 3 * math.Pi / 180 // SurRoL 'droll' mode: 3° per step
	insertStart    = 9.0               // cm
	distractors    = 18                // SurRoL ActiveTrack CUBE_NUMBER
	cubeHalf       = 1.0               // cm: 2 cm cubes
	cubeDensity    = 0.01              // kg/cm²
	cubeDamping    = 4.0               // 1/s: stands in for table friction in the top view
	wallX, wallY   = 15.0, 12.0
	trackStream    = 0xec3
)

var trackObs = []string{"tip_x", "tip_y", "tip_z", "yaw", "tilt", "roll", "insert", "in_view", "u", "v", "omega"}

// Track is SurRoL's ActiveTrack in a plane: an endoscope pivoting about its
// port keeps a target cube, moving on a smooth random path among 18
// distractor cubes, centred in its view. The cubes live on the table (the
// Box2D world, seen from above, no gravity); the endoscope is above it and
// its camera projects the target into the image. Actions are increments of
// view pan (right, up), insertion and roll. Reward is SurRoL's dense
// 1 − (d/2 + 0.1|ω|), with d the target's distance from the image centre
// and ω the roll rate; the episode ends when the target leaves the view.
type Track struct {
	spec  sim.Spec
	scene *sim.Scene

	world  *box2d.B2World
	phys   b2step.Stepper // steps world; bound at the end of Reset
	target *box2d.B2Body  // kinematic: follows the path exactly, pushes distractors
	cubes  [distractors]*box2d.B2Body
	path   path
	cam    ecm

	rate    [4]float64 // per-second pan x, pan y (rad), insert (cm), roll (rad)
	elapsed float64    // s since reset
	horizon float64    // s: Spec.Horizon at ControlHz

	u, v  float64 // the target's image position, valid while !stale
	in    bool
	stale bool    // the camera or target moved since look
	omega float64 // roll rate of the last control step, rad/s

	skipPhysics bool // tests only: run tandem's code without the physics step
}

// NewTrack returns ecm-track, ready for Reset.
func NewTrack() *Track {
	low, high := sim.Normalised(4)
	t := &Track{spec: sim.Spec{
		Name:        "ecm-track",
		Kind:        sim.Surgical,
		Description: "Pivot an endoscope about its port to keep a cube moving on a random spline centred in view among 18 distractors; the episode ends when it leaves the view.",
		Source:      "SurRoL ActiveTrack (med-air/SurRoL surrol/tasks/ecm_active_track.py)",
		ObsNames:    trackObs,
		ActionNames: []string{"pan_x", "pan_y", "insert", "roll"},
		ActionLow:   low, ActionHigh: high,
		ControlHz: trackHz, TeleopHz: 30, PhysicsHz: trackPhysicsHz,
		Horizon: trackHorizon, Units: "cm", Continuous: false, Version: 1,
	}}
	t.horizon = float64(trackHorizon) / trackHz
	t.scene = t.buildScene()
	t.Reset(0)
	return t
}

// Spec describes the task.
func (t *Track) Spec() sim.Spec { return t.spec }

// Reset draws a path, scatters the distractors and aims the endoscope near
// the target with a small random error and roll.
func (t *Track) Reset(seed uint64) {
	r := rand.New(rand.NewPCG(seed, trackStream))
	w := box2d.MakeB2World(box2d.B2Vec2{})
	w.M_continuousPhysics = false
	t.world = &w
	walls := t.world.CreateBody(ptr(box2d.MakeB2BodyDef()))
	for _, f := range wallFixtures() {
		addBox(walls, f, 0)
	}
	t.path = newPath(r)
	start := t.path.at(0)
	t.target = t.addCube(box2d.B2BodyType.B2_kinematicBody, start.X(), start.Y(), 0)
	placed := []mgl64.Vec2{start}
	for i := range t.cubes {
		var p mgl64.Vec2
		for try := 0; try < 200; try++ {
			p = mgl64.Vec2{(2*r.Float64() - 1) * (wallX - 2), (2*r.Float64() - 1) * (wallY - 2)}
			if clear(p, placed, 3.5) {
				break
			}
		}
		placed = append(placed, p)
		t.cubes[i] = t.addCube(box2d.B2BodyType.B2_dynamicBody, p.X(), p.Y(), 2*math.Pi*r.Float64())
	}
	t.cam = ecm{insert: insertStart}
	t.cam.aim(mgl64.Vec3{start.X(), start.Y(), targetZ})
	t.cam.yaw += (2*r.Float64() - 1) * 0.08
	t.cam.tilt += (2*r.Float64() - 1) * 0.08
	t.cam.roll = (2*r.Float64() - 1) * 0.25
	t.cam.clamp()
	t.rate, t.elapsed, t.omega = [4]float64{}, 0, 0
	t.stale = true
	t.look()
	t.phys.Bind(t.world)
}

// Stepper is the stepper of the task's Box2D world: tests compare it with
// the library's own step, and tandem bench --dump-world records through it.
func (t *Track) Stepper() *b2step.Stepper { return &t.phys }

func ptr[T any](v T) *T { return &v }

func clear(p mgl64.Vec2, others []mgl64.Vec2, gap float64) bool {
	for _, o := range others {
		if p.Sub(o).Len() < gap {
			return false
		}
	}
	return true
}

func (t *Track) addCube(typ uint8, x, y, angle float64) *box2d.B2Body {
	bd := box2d.MakeB2BodyDef()
	bd.Type = typ
	bd.Position = box2d.MakeB2Vec2(x, y)
	bd.Angle = angle
	bd.LinearDamping, bd.AngularDamping = cubeDamping, cubeDamping
	b := t.world.CreateBody(&bd)
	addBox(b, fix{hx: cubeHalf, hy: cubeHalf}, cubeDensity)
	return b
}

// fix is one rectangular fixture in its body's frame.
type fix struct{ cx, cy, hx, hy float64 }

func addBox(b *box2d.B2Body, f fix, density float64) {
	shape := box2d.MakeB2PolygonShape()
	shape.SetAsBoxFromCenterAndAngle(f.hx, f.hy, box2d.MakeB2Vec2(f.cx, f.cy), 0)
	fd := box2d.MakeB2FixtureDef()
	fd.Shape = &shape
	fd.Density = density
	fd.Friction = 0.3
	fd.Filter = box2d.MakeB2Filter() // MakeB2FixtureDef leaves the filter zero: collides with nothing
	b.CreateFixtureFromDef(&fd)
}

func wallFixtures() [4]fix {
	return [4]fix{
		{cy: -wallY - 0.5, hx: wallX + 1, hy: 0.5}, {cy: wallY + 0.5, hx: wallX + 1, hy: 0.5},
		{cx: -wallX - 0.5, hx: 0.5, hy: wallY}, {cx: wallX + 0.5, hx: 0.5, hy: wallY},
	}
}

// Act sets the endoscope's motion for the next period: each action is an
// increment per 1/ControlHz, applied as a rate so that a session running at
// TeleopHz moves the view at the same speed.
func (t *Track) Act(a []float64, period float64) {
	_ = period // rates are per second: increments × ControlHz
	t.rate = [4]float64{a[0] * panStep * trackHz, a[1] * panStep * trackHz, a[2] * insertStep * trackHz, a[3] * rollStep * trackHz}
	t.omega = t.rate[3]
}

// Substep moves the endoscope and the target and steps the physics.
func (t *Track) Substep(dt float64) {
	t.cam.pan(t.rate[0]*dt, t.rate[1]*dt)
	t.cam.insert += t.rate[2] * dt
	t.cam.roll += t.rate[3] * dt
	t.cam.clamp()
	t.elapsed += dt
	next := t.path.at(t.elapsed)
	p := t.target.GetPosition()
	t.target.SetLinearVelocity(box2d.MakeB2Vec2((next.X()-p.X)/dt, (next.Y()-p.Y)/dt))
	if !t.skipPhysics {
		t.phys.Step(dt, 8, 3)
	}
	t.stale = true // projected when read, once per control step, not per substep
}

// look projects the target's centre into the image, if it moved since the
// last projection.
func (t *Track) look() {
	if !t.stale {
		return
	}
	p := t.target.GetPosition()
	t.u, t.v, t.in = t.cam.project(mgl64.Vec3{p.X, p.Y, targetZ})
	t.stale = false
}

// Observe writes the endoscope state and the target's image position.
func (t *Track) Observe(dst []float64) {
	t.look()
	tip := t.cam.tip()
	dst[0], dst[1], dst[2] = tip.X(), tip.Y(), tip.Z()
	dst[3], dst[4], dst[5], dst[6] = t.cam.yaw, t.cam.tilt, t.cam.roll, t.cam.insert
	dst[7] = 0
	if t.in {
		dst[7] = 1
	}
	dst[8], dst[9], dst[10] = t.u, t.v, t.omega
}

// Reward is SurRoL ActiveTrack's dense reward, 1 − (d/2 + 0.1|ω|), with d
// the target's distance from the image centre in normalised image units.
func (t *Track) Reward() float64 {
	t.look()
	return 1 - (math.Hypot(t.u, t.v)/2 + 0.1*math.Abs(t.omega))
}

// Terminal reports the target out of view.
func (t *Track) Terminal() bool {
	t.look()
	return !t.in
}

// Success is the target kept in view for the whole horizon (50 s): true on
// the last step of an episode that never lost it.
func (t *Track) Success() bool {
	t.look()
	return t.in && t.elapsed >= t.horizon-1e-6
}

// CameraPose is the endoscope's view frame on the table (sim.Viewer).
func (t *Track) CameraPose() sim.Pose { return t.cam.viewPose() }

// Poses writes the target, distractors, the tip (projected on the table,
// turned to the shaft's yaw) and the view frame.
func (t *Track) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:distractors+3]
	dst[0] = poseOf(t.target)
	for i, c := range t.cubes {
		dst[1+i] = poseOf(c)
	}
	tip := t.cam.tip()
	dst[distractors+1] = sim.Pose{X: tip.X(), Y: tip.Y(), Angle: t.cam.yaw}
	dst[distractors+2] = t.cam.viewPose()
	return dst
}

func poseOf(b *box2d.B2Body) sim.Pose {
	p := b.GetPosition()
	return sim.Pose{X: p.X, Y: p.Y, Angle: b.GetAngle()}
}
