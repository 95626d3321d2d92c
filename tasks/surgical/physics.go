package surgical

import (
	"github.com/ByteArena/box2d"
)

// Physical constants. Units: cm, kg, s; forces in kg·cm/s² (0.01 N).
const (
	gravity = 981.0 // cm/s²

	// forceLimit is the grasp constraint's breaking force. SurRoL creates its
	// grasp constraint with maxForce 20 (N); in tandem's kg·cm/s² that is
	// 2000. Equivalently, about 40 times the weight of the heaviest object
	// SurRoL grasps (the 50 g gauze).
	forceLimit = 2000.0

	velocityIters = 8 // Box2D defaults
	positionIters = 3
)

// Collision categories. Kinematic instrument bodies never collide with each
// other or with static bodies (Box2D only collides pairs with a dynamic
// body), so the masks only need to keep soft tissue out of the pegs.
const (
	catStatic uint16 = 1 << iota
	catTool
	catObject
	catTissue
)

type fixtureOpts struct {
	density  float64
	friction float64
	group    int16
	cat      uint16
	mask     uint16
}

func (o fixtureOpts) def(shape box2d.B2ShapeInterface) box2d.B2FixtureDef {
	d := box2d.MakeB2FixtureDef()
	d.Shape = shape
	d.Density = o.density
	if d.Density == 0 {
		d.Density = 1
	}
	d.Friction = o.friction
	if d.Friction == 0 {
		d.Friction = 0.6
	}
	d.Filter = box2d.MakeB2Filter()
	if o.cat != 0 {
		d.Filter.CategoryBits = o.cat
	}
	if o.mask != 0 {
		d.Filter.MaskBits = o.mask
	}
	d.Filter.GroupIndex = o.group
	return d
}

// addBox attaches a box of half sizes hx, hy centred at c (body frame),
// turned by a.
func addBox(b *box2d.B2Body, hx, hy float64, c vec, a float64, o fixtureOpts) *box2d.B2Fixture {
	s := box2d.MakeB2PolygonShape()
	s.SetAsBoxFromCenterAndAngle(hx, hy, b2(c), a)
	d := o.def(&s)
	return b.CreateFixtureFromDef(&d)
}

// addCircle attaches a circle of radius r centred at c (body frame).
func addCircle(b *box2d.B2Body, r float64, c vec, o fixtureOpts) *box2d.B2Fixture {
	s := box2d.MakeB2CircleShape()
	s.M_radius = r
	s.M_p = b2(c)
	d := o.def(&s)
	return b.CreateFixtureFromDef(&d)
}

// newBody creates a body at p turned by a.
func newBody(w *box2d.B2World, typ uint8, p vec, a float64) *box2d.B2Body {
	def := box2d.MakeB2BodyDef()
	def.Type = typ
	def.Position = b2(p)
	def.Angle = a
	return w.CreateBody(&def)
}

func dynamicBody(w *box2d.B2World, p vec, a float64) *box2d.B2Body {
	return newBody(w, box2d.B2BodyType.B2_dynamicBody, p, a)
}

func staticBody(w *box2d.B2World, p vec, a float64) *box2d.B2Body {
	return newBody(w, box2d.B2BodyType.B2_staticBody, p, a)
}

// setMass rescales the densities of b's fixtures so its mass is m (kg),
// keeping the shape's mass distribution.
func setMass(b *box2d.B2Body, m float64) {
	cur := b.M_mass
	if cur <= 0 {
		return
	}
	for f := b.M_fixtureList; f != nil; f = f.M_next {
		f.SetDensity(f.GetDensity() * m / cur)
	}
	b.ResetMassData()
}

// newWorld makes a world with gravity along -y and sleeping off (a resting
// object must react at once when a jaw touches it, and a sleeping body would
// make the grasp test depend on history). Continuous collision is on: it
// is MakeB2World's default, the tasks have always run with it (their
// Spec.Continuous said otherwise until the allocation-free stepper came),
// and turning it off changes the expert episodes of most seeds (over seeds
// 0–19: all of them for gauze-retrieve, peg-transfer and bi-peg-transfer,
// 19 for needle-regrasp, 10 for tissue-retract, 1 for needle-reach and
// needle-pick).
func newWorld() *box2d.B2World {
	w := box2d.MakeB2World(box2d.B2Vec2{Y: -gravity})
	w.M_continuousPhysics = true
	w.SetAllowSleeping(false)
	return &w
}

// addFloor adds the static surface whose top is at y = top.
func addFloor(w *box2d.B2World, top float64) *box2d.B2Body {
	f := staticBody(w, vec{0, top - 1}, 0)
	addBox(f, 30, 1, vec{}, 0, fixtureOpts{cat: catStatic, friction: 0.8})
	return f
}
