package pusht

import "github.com/ByteArena/box2d"

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

// Island indices of the bodies in the solver's position/velocity arrays.
const (
	agentIndex = iota
	blockIndex
	wallsIndex
	numBodies
	moving = wallsIndex // bodies that move: the agent and the block
)

// maxContacts is every shape pair that can touch: the agent against the bar
// and the stem, and each of those against the four walls.
const maxContacts = 2 + 2*4

// world is the Box2D world of one task and the step loop that advances it.
//
// Instead of B2World.Step, which allocates its island and contact solver
// every step and reads the wall clock for its profile, world keeps one
// Box2D contact per shape pair for its whole life and runs Box2D's own
// narrow phase (B2ContactUpdate) and contact solver (B2ContactSolver) on
// preallocated arrays, in the order of B2Island.Solve. With three bodies a
// bounding-circle test replaces the broad phase. Continuous collision is
// not run (see doc.go for why it is not needed).
type world struct {
	b2     box2d.B2World
	agent  *box2d.B2Body
	block  *box2d.B2Body
	walls  *box2d.B2Body
	bodies [numBodies]*box2d.B2Body

	contacts [maxContacts]box2d.B2ContactInterface
	pairs    [maxContacts]pair

	positions  [numBodies]box2d.B2Position
	velocities [numBodies]box2d.B2Velocity
	touching   [maxContacts]box2d.B2ContactInterface
	pcs        [maxContacts]box2d.B2ContactPositionConstraint
	vcs        [maxContacts]box2d.B2ContactVelocityConstraint

	invDt0 float64 // 1/dt of the previous step, 0 after a reset (Box2D's warm-start ratio)
}

// pair names the shapes of a contact: a T rectangle (0 bar, 1 stem) and
// either the agent (wall < 0) or a wall (0 left, 1 right, 2 bottom, 3 top).
type pair struct{ rect, wall int }

// Bounding circles of the T's rectangles in its frame: centre and radius.
var rectBounds = [2]struct {
	c vec
	r float64
}{
	{vec{0, 15}, 61.85}, // bar: half-diagonal of 120×30 is 61.85
	{vec{0, 75}, 47.44}, // stem: half-diagonal of 30×90 is 47.43
}

// init fills Box2D's contact-type registry while the program is still
// single-threaded. B2ContactFactory builds it lazily on first use, writing
// package globals without synchronisation, so two worlds created at once in
// different goroutines (parallel rollouts) race on it.
func init() {
	w := box2d.MakeB2World(box2d.MakeB2Vec2(0, 0))
	bd := box2d.MakeB2BodyDef()
	a, b := w.CreateBody(&bd), w.CreateBody(&bd)
	c1, c2 := box2d.MakeB2CircleShape(), box2d.MakeB2CircleShape()
	box2d.B2ContactFactory(a.CreateFixture(&c1, 1), 0, b.CreateFixture(&c2, 1), 0)
}

func newWorld() *world {
	w := &world{b2: box2d.MakeB2World(box2d.MakeB2Vec2(0, 0))}
	w.b2.SetAllowSleeping(false)

	// Agent: a kinematic circle. Its radius is shortened by the polygon
	// skin so it touches the T at 15 px, as in the reference.
	bd := box2d.MakeB2BodyDef()
	bd.Type = box2d.B2BodyType.B2_kinematicBody
	bd.AllowSleep = false
	w.agent = w.b2.CreateBody(&bd)
	circle := box2d.MakeB2CircleShape()
	circle.M_radius = (agentRadius - skin) / pxPerUnit
	w.addFixture(w.agent, &circle)

	// Block: the T, dynamic, with its mass data set explicitly.
	bd = box2d.MakeB2BodyDef()
	bd.Type = box2d.B2BodyType.B2_dynamicBody
	bd.AllowSleep = false
	w.block = w.b2.CreateBody(&bd)
	var rectFix [2]*box2d.B2Fixture
	for k, r := range tRects {
		var vs [4]box2d.B2Vec2
		for i, v := range r {
			vs[i] = toUnits(v)
		}
		poly := box2d.MakeB2PolygonShape()
		poly.Set(vs[:], len(vs))
		rectFix[k] = w.addFixture(w.block, &poly)
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
	w.walls = w.b2.CreateBody(&bd)
	lo, hi := wallLo+wallRadius-2*skin, wallHi-wallRadius+2*skin
	const thick = 100.0
	var wallFix [4]*box2d.B2Fixture
	for k, box := range [4][4]float64{
		{lo - thick, lo - thick, lo, hi + thick}, // left
		{hi, lo - thick, hi + thick, hi + thick}, // right
		{lo, lo - thick, hi, lo},                 // bottom (y small)
		{lo, hi, hi, hi + thick},                 // top (y large)
	} {
		poly := box2d.MakeB2PolygonShape()
		c := toUnits(vec{(box[0] + box[2]) / 2, (box[1] + box[3]) / 2})
		poly.SetAsBoxFromCenterAndAngle((box[2]-box[0])/2/pxPerUnit, (box[3]-box[1])/2/pxPerUnit, c, 0)
		wallFix[k] = w.addFixture(w.walls, &poly)
	}

	w.bodies = [numBodies]*box2d.B2Body{w.agent, w.block, w.walls}
	for i, b := range w.bodies {
		b.M_islandIndex = i
	}

	// One persistent contact per pair of shapes that can touch, the walls'
	// first: when the agent pins the T against a wall, B2World.Step solves
	// the newer contact (the wall's) first, and so does this order.
	n := 0
	for r, f := range rectFix {
		for k, g := range wallFix {
			w.contacts[n], w.pairs[n] = box2d.B2ContactFactory(f, 0, g, 0), pair{r, k}
			n++
		}
	}
	for r, f := range rectFix {
		w.contacts[n], w.pairs[n] = box2d.B2ContactFactory(f, 0, w.agent.GetFixtureList(), 0), pair{r, -1}
		n++
	}
	return w
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

// place poses the agent and the block and clears every velocity and
// contact, as a freshly built reference space would be.
func (w *world) place(agent vec, block pose) {
	setTransform(w.agent, toUnits(agent), 0)
	setTransform(w.block, toUnits(block.p), block.angle)
	for _, b := range w.bodies {
		b.M_linearVelocity.SetZero()
		b.M_angularVelocity = 0
	}
	for _, c := range w.contacts {
		c.GetManifold().PointCount = 0
		c.SetFlags(c.GetFlags() &^ box2d.B2Contact_Flag.E_touchingFlag)
	}
	w.invDt0 = 0
}

// setTransform poses b as B2Body.SetTransform does, without touching the
// broad phase that world does not use (whose move buffer would otherwise
// grow with every reset, as B2World.Step never runs to drain it).
func setTransform(b *box2d.B2Body, p box2d.B2Vec2, angle float64) {
	b.M_xf.Q.Set(angle)
	b.M_xf.P = p
	b.M_sweep.C = box2d.B2TransformVec2Mul(b.M_xf, b.M_sweep.LocalCenter)
	b.M_sweep.A = angle
	b.M_sweep.C0, b.M_sweep.A0 = b.M_sweep.C, angle
}

func (w *world) agentPos() vec { return toPx(w.agent.GetPosition()) }
func (w *world) agentVel() vec { return toPx(w.agent.M_linearVelocity) }
func (w *world) blockPose() pose {
	return pose{toPx(w.block.GetPosition()), w.block.GetAngle()}
}

// blockCenter is the block's centre of gravity in pixels.
func (w *world) blockCenter() vec { return toPx(w.block.GetWorldCenter()) }
