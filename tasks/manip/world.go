package manip

import (
	"math"
	"math/rand/v2"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Box2D solver settings shared by the manipulation tasks: Box2D's recommended
// iteration counts (8 velocity, 3 position; box2d testbed defaults).
const (
	velocityIters = 8
	positionIters = 3
)

// gravity is standard gravity in cm/s² (1 unit = 1 cm).
const gravity = 981.0

// newWorld returns an empty world with gravity gy (cm/s²) along y. Sleeping
// is off: every task here has a handful of bodies, and a sleeping body would
// ignore motor commands until woken.
func newWorld(gy float64, continuous bool) *box2d.B2World {
	w := box2d.MakeB2World(box2d.MakeB2Vec2(0, gy))
	w.M_continuousPhysics = continuous
	w.SetAllowSleeping(false)
	return &w
}

// addBody creates a body of type typ (box2d.B2BodyType.*) at (x, y, angle).
func addBody(w *box2d.B2World, typ uint8, x, y, angle float64) *box2d.B2Body {
	bd := box2d.MakeB2BodyDef()
	bd.Type = typ
	bd.Position = box2d.MakeB2Vec2(x, y)
	bd.Angle = angle
	bd.AllowSleep = false
	return w.CreateBody(&bd)
}

// boxFix describes one rectangular fixture in its body's frame.
type boxFix struct {
	cx, cy, hx, hy float64 // centre and half extents, cm
	density        float64 // kg/cm²
	friction       float64
	group          int16 // Box2D collision group; negative never collide with each other
}

// addBox attaches a rectangular fixture to b.
func addBox(b *box2d.B2Body, f boxFix) *box2d.B2Fixture {
	shape := box2d.MakeB2PolygonShape()
	shape.SetAsBoxFromCenterAndAngle(f.hx, f.hy, box2d.MakeB2Vec2(f.cx, f.cy), 0)
	fd := box2d.MakeB2FixtureDef()
	fd.Shape = &shape
	fd.Density = f.density
	fd.Friction = f.friction
	fd.Filter = box2d.MakeB2Filter() // MakeB2FixtureDef leaves the filter zero: collides with nothing
	fd.Filter.GroupIndex = f.group
	return b.CreateFixtureFromDef(&fd)
}

// rectShape is the drawing of boxFix f on scene body i.
func rectShape(body int, f boxFix, color string, layer int) sim.Shape {
	return sim.Shape{
		Body: body, Kind: sim.Polygon, Color: color, Fill: true, Layer: layer,
		Points: [][2]float64{
			{f.cx - f.hx, f.cy - f.hy}, {f.cx + f.hx, f.cy - f.hy},
			{f.cx + f.hx, f.cy + f.hy}, {f.cx - f.hx, f.cy + f.hy},
		},
	}
}

// poseOf is b's pose.
func poseOf(b *box2d.B2Body) sim.Pose {
	p := b.GetPosition()
	return sim.Pose{X: p.X, Y: p.Y, Angle: b.GetAngle()}
}

// touching reports whether a and b have a touching contact. It walks a's
// contact list and does not allocate.
func touching(a, b *box2d.B2Body) bool {
	for ce := a.GetContactList(); ce != nil; ce = ce.Next {
		if ce.Other == b && ce.Contact.IsTouching() {
			return true
		}
	}
	return false
}

// newRand is the episode's random stream; stream separates tasks that share
// a seed.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// clamp1 limits v to [-1, 1].
func clamp1(v float64) float64 { return math.Max(-1, math.Min(1, v)) }

// speedToward returns velocity v limited so that a point at x moving for dt
// stays within [lo, hi].
func speedToward(v, x, lo, hi, dt float64) float64 {
	return math.Max((lo-x)/dt, math.Min((hi-x)/dt, v))
}

// Stepper is the stepper of the task's Box2D world: tests compare it with
// the library's own step, and tandem bench --dump-world records through it.
func (t *Reach) Stepper() *b2step.Stepper { return &t.phys }

func (t *PickPlace) Stepper() *b2step.Stepper { return &t.phys }

func (t *PegInsert) Stepper() *b2step.Stepper { return &t.phys }

// setSkipPhysics is for tests: it runs tandem's code without the physics step.
func (t *Reach) setSkipPhysics(skip bool) { t.skipPhysics = skip }

func (t *PickPlace) setSkipPhysics(skip bool) { t.skipPhysics = skip }

func (t *PegInsert) setSkipPhysics(skip bool) { t.skipPhysics = skip }
