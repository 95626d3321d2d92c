package pusht

import (
	"github.com/ByteArena/box2d"

	"tandem/sim/b2step"
)

// Physical constants of Push-T (diffusion_policy env/pusht/pusht_env.py),
// in pixels, seconds and the reference's mass unit.
const (
	fieldSize   = 512.0 // window_size: the world is [0, 512]²
	wallLo      = 5.0   // walls are segments at x, y = 5 and 506 ...
	wallHi      = 506.0
	wallRadius  = 2.0  // ... of radius 2, so their inner faces are at 7 and 504
	agentRadius = 15.0 // add_circle(..., 15)
	kp          = 100.0
	kd          = 20.0 // k_p, k_v of the agent's PD controller
	blockMass   = 1.0
	// The reference sets the T's centre of gravity to the mean of its two
	// rectangles' centroids, (0, 15) and (0, 75), and its moment to
	// moment_for_poly(bar) twice (the stem's call passes the bar's
	// vertices). Chipmunk's moment_for_poly is taken about the vertices'
	// origin, so each term is m·(120²+30²)/12 + m·15² = 1500 and the total
	// 3000 px², used by Chipmunk about the centre of gravity. See doc.go.
	blockCoGY    = 45.0
	blockInertia = 3000.0
)

// pxPerUnit is the Box2D scale: 1 Box2D unit = 20 px. Box2D is tuned for
// objects of 0.1–10 units and clamps motion at 2 units per step; at this
// scale the agent is 0.75 units, the bar 6×1.5, the fastest agent substep
// (26.7 px, see the doc) 1.3 units, and Box2D's linear slop of 0.005 units
// is 0.1 px, the same as pymunk's default collision slop.
const pxPerUnit = 20.0

// Solver iterations: pymunk's default of 10 velocity iterations; Box2D's
// usual 3 position iterations.
const (
	velocityIterations = 10
	positionIterations = 3
)

// skin is Box2D's polygon skin (B2_polygonRadius) in pixels. Polygons collide
// as if inflated by it; the agent's circle and the walls are shrunk or moved
// by it so the surfaces touch where the reference's do.
const skin = box2d.B2_polygonRadius * pxPerUnit

func toUnits(v vec) box2d.B2Vec2 { return box2d.MakeB2Vec2(v.x/pxPerUnit, v.y/pxPerUnit) }
func toPx(v box2d.B2Vec2) vec    { return vec{v.X * pxPerUnit, v.Y * pxPerUnit} }

// world is the Box2D world of one task and the stepper that advances it.
// Each episode starts from a freshly built world, which is what
// B2World.Step would start from; b2step.Stepper steps it as B2World.Step
// does (continuous collision off, see doc.go) without allocating, except
// for the solve order of simultaneous contacts (order).
type world struct {
	b2    *box2d.B2World
	phys  b2step.Stepper
	agent *box2d.B2Body
	block *box2d.B2Body
	walls *box2d.B2Body

	rects [2]*box2d.B2Fixture // the T's bar and stem
	sides [4]*box2d.B2Fixture // walls: left, right, bottom, top
}

func newWorld() *world {
	w := &world{}
	w.phys.Order = w.order
	w.build()
	w.phys.Bind(w.b2)
	return w
}

// order sorts an island's contacts into the order Push-T's trajectories
// were fixed with (golden files, recorded demonstrations): the T's bar,
// then its stem, against the left, right, bottom and top walls, then the
// bar and the stem against the agent. B2World.Step would solve them
// newest first; the two orders differ only when several contacts touch at
// once, and then only in the last bits of that substep (see doc.go).
func (w *world) order(cs []box2d.B2ContactInterface) {
	for i := 1; i < len(cs); i++ { // at most 10 contacts: insertion sort
		c, k := cs[i], w.rank(cs[i])
		j := i
		for ; j > 0 && w.rank(cs[j-1]) > k; j-- {
			cs[j] = cs[j-1]
		}
		cs[j] = c
	}
}

// rank is a contact's place in order. Box2D makes the T's rectangle
// fixture A of every contact (polygons before circles, and the T's
// proxies are created before the walls').
func (w *world) rank(c box2d.B2ContactInterface) int {
	r := 0
	if c.GetFixtureA() == w.rects[1] {
		r = 1
	}
	b := c.GetFixtureB()
	for k, f := range w.sides {
		if b == f {
			return 4*r + k
		}
	}
	return 8 + r
}

// build makes a fresh Box2D world with the agent and the T at the origin.
func (w *world) build() {
	b2 := box2d.MakeB2World(box2d.MakeB2Vec2(0, 0))
	b2.M_continuousPhysics = false
	b2.SetAllowSleeping(false)
	w.b2 = &b2

	// Agent: a kinematic circle. Its radius is shortened by the polygon
	// skin so it touches the T at 15 px, as in the reference.
	bd := box2d.MakeB2BodyDef()
	bd.Type = box2d.B2BodyType.B2_kinematicBody
	bd.AllowSleep = false
	w.agent = b2.CreateBody(&bd)
	circle := box2d.MakeB2CircleShape()
	circle.M_radius = (agentRadius - skin) / pxPerUnit
	w.addFixture(w.agent, &circle)

	// Block: the T, dynamic, with its mass data set explicitly.
	bd = box2d.MakeB2BodyDef()
	bd.Type = box2d.B2BodyType.B2_dynamicBody
	bd.AllowSleep = false
	w.block = b2.CreateBody(&bd)
	for k, r := range tRects {
		var vs [4]box2d.B2Vec2
		for i, v := range r {
			vs[i] = toUnits(v)
		}
		poly := box2d.MakeB2PolygonShape()
		poly.Set(vs[:], len(vs))
		w.rects[k] = w.addFixture(w.block, &poly)
	}
	center := toUnits(vec{0, blockCoGY})
	w.block.SetMassData(&box2d.B2MassData{
		Mass:   blockMass,
		Center: center,
		// Box2D takes the moment about the body origin.
		I: blockInertia/(pxPerUnit*pxPerUnit) + blockMass*box2d.B2Vec2Dot(center, center),
	})

	// Walls: four static boxes whose inner faces are the reference's
	// segments' faces (7 and 504 px), moved out by both skins, and 100 px
	// thick so a fast T can never pass through one.
	bd = box2d.MakeB2BodyDef()
	w.walls = b2.CreateBody(&bd)
	lo, hi := wallLo+wallRadius-2*skin, wallHi-wallRadius+2*skin
	const thick = 100.0
	for k, box := range [4][4]float64{
		{lo - thick, lo - thick, lo, hi + thick}, // left
		{hi, lo - thick, hi + thick, hi + thick}, // right
		{lo, lo - thick, hi, lo},                 // bottom (y small)
		{lo, hi, hi, hi + thick},                 // top (y large)
	} {
		poly := box2d.MakeB2PolygonShape()
		c := toUnits(vec{(box[0] + box[2]) / 2, (box[1] + box[3]) / 2})
		poly.SetAsBoxFromCenterAndAngle((box[2]-box[0])/2/pxPerUnit, (box[3]-box[1])/2/pxPerUnit, c, 0)
		w.sides[k] = w.addFixture(w.walls, &poly)
	}
}

// addFixture attaches a frictionless, inelastic shape (the reference's
// shapes keep pymunk's defaults: friction 0, elasticity 0).
func (w *world) addFixture(b *box2d.B2Body, shape box2d.B2ShapeInterface) *box2d.B2Fixture {
	fd := box2d.MakeB2FixtureDef()
	fd.Shape = shape
	fd.Density = 1
	fd.Friction = 0
	fd.Restitution = 0
	return b.CreateFixtureFromDef(&fd)
}

// place starts an episode: a fresh world with the agent and the block posed
// and at rest, as a freshly built reference space would be. It allocates
// (the world is rebuilt); stepping it does not.
func (w *world) place(agent vec, block pose) {
	w.build()
	w.agent.SetTransform(toUnits(agent), 0)
	w.block.SetTransform(toUnits(block.p), block.angle)
	w.phys.Bind(w.b2)
}

// step advances the world by dt seconds with the agent moving at its
// current velocity. It does not allocate.
func (w *world) step(dt float64) {
	// Space damping 0: the block keeps no velocity from one step to the next.
	w.block.M_linearVelocity.SetZero()
	w.block.M_angularVelocity = 0
	w.phys.Step(dt, velocityIterations, positionIterations)
}

func (w *world) agentPos() vec { return toPx(w.agent.GetPosition()) }
func (w *world) agentVel() vec { return toPx(w.agent.M_linearVelocity) }
func (w *world) blockPose() pose {
	return pose{toPx(w.block.GetPosition()), w.block.GetAngle()}
}

// blockCenter is the block's centre of gravity in pixels.
func (w *world) blockCenter() vec { return toPx(w.block.GetWorldCenter()) }
