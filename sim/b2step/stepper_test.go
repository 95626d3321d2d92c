package b2step

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ByteArena/box2d"
)

// scene is a test world with every feature the stepper reproduces: static,
// kinematic and dynamic bodies; polygons, circles, edges and a chain; every
// pooled joint type, soft and rigid, with limits and motors; a sensor; a
// contact listener that disables some contacts; forces, damping, gravity
// scale, fixed rotation; and joints made and destroyed while it runs.
type scene struct {
	w        *box2d.B2World
	s        *Stepper
	kin      *box2d.B2Body
	pushed   *box2d.B2Body
	loose    []*box2d.B2Body
	motor    *box2d.B2RevoluteJoint
	slider   *box2d.B2PrismaticJoint
	weld     box2d.B2JointInterface
	weldDef  box2d.B2WeldJointDef
	listener *recorder
	rng      *rand.Rand
}

type options struct {
	sleep      bool
	filter     bool
	listener   bool
	continuous bool
}

// recorder logs listener calls so both runs can be compared; PreSolve
// disables contacts between two chosen bodies.
type recorder struct {
	log     []string
	a, b    *box2d.B2Body
	impulse float64
}

func (r *recorder) name(c box2d.B2ContactInterface) string {
	return fmt.Sprintf("%d-%d", c.GetFixtureA().M_body.M_userData.(*tag).n, c.GetFixtureB().M_body.M_userData.(*tag).n)
}
func (r *recorder) BeginContact(c box2d.B2ContactInterface) {
	r.log = append(r.log, "begin "+r.name(c))
}
func (r *recorder) EndContact(c box2d.B2ContactInterface) { r.log = append(r.log, "end "+r.name(c)) }
func (r *recorder) PreSolve(c box2d.B2ContactInterface, old box2d.B2Manifold) {
	ba, bb := c.GetFixtureA().M_body, c.GetFixtureB().M_body
	if (ba == r.a && bb == r.b) || (ba == r.b && bb == r.a) {
		c.SetEnabled(false)
	}
	r.impulse += old.Points[0].NormalImpulse
}
func (r *recorder) PostSolve(c box2d.B2ContactInterface, imp *box2d.B2ContactImpulse) {
	for i := 0; i < imp.Count; i++ {
		r.impulse += imp.NormalImpulses[i] + 0.5*imp.TangentImpulses[i]
	}
}

// oddFilter is a user contact filter: it rejects pairs of two circles.
type oddFilter struct{}

func (oddFilter) ShouldCollide(a, b *box2d.B2Fixture) bool {
	return !(a.GetType() == box2d.B2Shape_Type.E_circle && b.GetType() == box2d.B2Shape_Type.E_circle)
}

// tag gives each body a name that is the same in both worlds, for logs.
type tag struct{ n int }

func newScene(opt options, library bool, seed uint64) *scene {
	w := box2d.MakeB2World(box2d.MakeB2Vec2(0, -10))
	w.M_continuousPhysics = opt.continuous
	sc := &scene{w: &w, rng: rand.New(rand.NewPCG(seed, 7))}
	w.SetAllowSleeping(opt.sleep)
	n := 0
	body := func(typ uint8, x, y, a float64) *box2d.B2Body {
		bd := box2d.MakeB2BodyDef()
		bd.Type, bd.Position, bd.Angle = typ, box2d.MakeB2Vec2(x, y), a
		bd.UserData = &tag{n}
		n++
		return w.CreateBody(&bd)
	}
	fixture := func(b *box2d.B2Body, shape box2d.B2ShapeInterface, density, friction float64) *box2d.B2Fixture {
		fd := box2d.MakeB2FixtureDef()
		fd.Shape, fd.Density, fd.Friction = shape, density, friction
		fd.Restitution = 0.1
		fd.Filter = box2d.MakeB2Filter()
		return b.CreateFixtureFromDef(&fd)
	}
	box := func(b *box2d.B2Body, hx, hy, density float64) {
		p := box2d.MakeB2PolygonShape()
		p.SetAsBox(hx, hy)
		fixture(b, &p, density, 0.4)
	}
	circle := func(b *box2d.B2Body, r, density float64) {
		c := box2d.MakeB2CircleShape()
		c.M_radius = r
		fixture(b, &c, density, 0.3)
	}

	// Ground: a box, an edge and a chain.
	ground := body(box2d.B2BodyType.B2_staticBody, 0, 0, 0)
	box(ground, 20, 0.5, 0)
	e := box2d.MakeB2EdgeShape()
	e.Set(box2d.MakeB2Vec2(-20, 0.5), box2d.MakeB2Vec2(-25, 8))
	fixture(ground, &e, 0, 0.5)
	ch := box2d.MakeB2ChainShape()
	ch.CreateChain([]box2d.B2Vec2{{X: 20, Y: 0.5}, {X: 23, Y: 3}, {X: 25, Y: 8}}, 3)
	fixture(ground, &ch, 0, 0.5)

	// A pile of boxes and circles, some with damping, gravity scale and
	// fixed rotation.
	for i := range 12 {
		x := -8 + 1.3*float64(i%6) + 0.1*sc.rng.Float64()
		y := 1.5 + 1.2*float64(i/6)
		b := body(box2d.B2BodyType.B2_dynamicBody, x, y, 0.2*sc.rng.Float64())
		if i%3 == 0 {
			circle(b, 0.5, 1)
		} else {
			box(b, 0.5, 0.4, 1+float64(i%2))
		}
		b.M_linearDamping = 0.05 * float64(i%4)
		b.M_angularDamping = 0.1 * float64(i%3)
		if i == 5 {
			b.SetGravityScale(0.3)
		}
		if i == 7 {
			b.SetFixedRotation(true)
		}
		sc.loose = append(sc.loose, b)
	}
	// Two boxes on the edge's slope and the chain.
	for _, x := range []float64{-22, 22} {
		b := body(box2d.B2BodyType.B2_dynamicBody, x, 6, 0)
		box(b, 0.4, 0.4, 1)
		sc.loose = append(sc.loose, b)
	}

	// A kinematic paddle sweeping the pile.
	sc.kin = body(box2d.B2BodyType.B2_kinematicBody, -12, 1.2, 0)
	box(sc.kin, 0.3, 1.0, 1)

	// A pendulum on a motorised, limited revolute joint.
	arm := body(box2d.B2BodyType.B2_dynamicBody, 6, 6, 0)
	box(arm, 1.5, 0.2, 1)
	rd := box2d.MakeB2RevoluteJointDef()
	rd.Initialize(ground, arm, box2d.MakeB2Vec2(4.5, 6))
	rd.EnableLimit, rd.LowerAngle, rd.UpperAngle = true, -1.2, 0.8
	rd.EnableMotor, rd.MaxMotorTorque, rd.MotorSpeed = true, 50, 1
	sc.motor = w.CreateJoint(&rd).(*box2d.B2RevoluteJoint)

	// A slider with limit and motor.
	slide := body(box2d.B2BodyType.B2_dynamicBody, 10, 3, 0)
	box(slide, 0.5, 0.5, 1)
	pd := box2d.MakeB2PrismaticJointDef()
	pd.Initialize(ground, slide, box2d.MakeB2Vec2(10, 3), box2d.MakeB2Vec2(1, 0.2))
	pd.EnableLimit, pd.LowerTranslation, pd.UpperTranslation = true, -2, 2
	pd.EnableMotor, pd.MaxMotorForce, pd.MotorSpeed = true, 30, 2
	sc.slider = w.CreateJoint(&pd).(*box2d.B2PrismaticJoint)

	// A soft chain of distance joints hanging from the ground.
	prev := ground
	for i := range 4 {
		b := body(box2d.B2BodyType.B2_dynamicBody, 14, 9-float64(i), 0)
		circle(b, 0.2, 1)
		dd := box2d.MakeB2DistanceJointDef()
		anchor := box2d.MakeB2Vec2(14, 10-float64(i))
		if prev != ground {
			anchor = prev.GetPosition()
		}
		dd.Initialize(prev, b, anchor, b.GetPosition())
		dd.FrequencyHz, dd.DampingRatio = 6, 0.5
		w.CreateJoint(&dd)
		prev = b
	}

	// A rigid distance joint and a free revolute hinge between two boxes.
	rodA := body(box2d.B2BodyType.B2_dynamicBody, -2, 8, 0)
	box(rodA, 0.3, 0.3, 1)
	rodB := body(box2d.B2BodyType.B2_dynamicBody, -0.5, 8.5, 0)
	box(rodB, 0.3, 0.2, 1)
	rigid := box2d.MakeB2DistanceJointDef()
	rigid.Initialize(rodA, rodB, rodA.GetPosition(), rodB.GetPosition())
	w.CreateJoint(&rigid)
	hinge := box2d.MakeB2RevoluteJointDef()
	hinge.Initialize(rodB, sc.loose[2], rodB.GetPosition())
	w.CreateJoint(&hinge)

	// Two bodies welded rigidly, one pushed by a force, and a sensor.
	sc.pushed = body(box2d.B2BodyType.B2_dynamicBody, 2, 2, 0)
	box(sc.pushed, 0.6, 0.6, 1)
	welded := body(box2d.B2BodyType.B2_dynamicBody, 3.2, 2, 0)
	box(welded, 0.6, 0.3, 1)
	wd := box2d.MakeB2WeldJointDef()
	wd.Initialize(sc.pushed, welded, box2d.MakeB2Vec2(2.6, 2))
	w.CreateJoint(&wd)
	sensor := body(box2d.B2BodyType.B2_staticBody, -4, 1.5, 0)
	sp := box2d.MakeB2PolygonShape()
	sp.SetAsBox(1, 1)
	fd := box2d.MakeB2FixtureDef()
	fd.Shape, fd.IsSensor, fd.Filter = &sp, true, box2d.MakeB2Filter()
	sensor.CreateFixtureFromDef(&fd)

	// Fast bodies for continuous collision: a bullet fired at the pile
	// and a thin plate thrown at the ground.
	bullet := body(box2d.B2BodyType.B2_dynamicBody, -30, 3, 0)
	circle(bullet, 0.1, 5)
	bullet.SetBullet(true)
	bullet.SetLinearVelocity(box2d.MakeB2Vec2(250, -5))
	plate := body(box2d.B2BodyType.B2_dynamicBody, 0, 30, 0.3)
	box(plate, 1, 0.05, 1)
	plate.SetLinearVelocity(box2d.MakeB2Vec2(5, -400))
	sc.loose = append(sc.loose, plate)

	if opt.listener {
		sc.listener = &recorder{a: sc.loose[0], b: sc.loose[1]}
		w.SetContactListener(sc.listener)
	}
	if opt.filter {
		w.SetContactFilter(oddFilter{})
	}
	sc.s = &Stepper{UseLibrary: library}
	sc.s.ReserveJoints(box2d.B2JointType.E_weldJoint, 1)
	sc.s.Bind(sc.w)
	return sc
}

// drive applies this step's inputs: the paddle's velocity, motor speeds, a
// force, and grasping (a soft weld between the paddle and a loose body)
// made and broken on a schedule.
func (sc *scene) drive(k int) {
	t := float64(k) / 60
	sc.kin.SetLinearVelocity(box2d.MakeB2Vec2(3*math.Cos(0.7*t), 0.5*math.Sin(2*t)))
	sc.kin.SetAngularVelocity(0.8 * math.Sin(t))
	sc.motor.SetMotorSpeed(2 * math.Sin(1.3*t))
	sc.slider.SetMotorSpeed(3 * math.Cos(0.9*t))
	sc.pushed.ApplyForceToCenter(box2d.MakeB2Vec2(8*math.Sin(t), 2), true)
	sc.pushed.ApplyTorque(0.5, true)
	switch {
	case k%90 == 30 && sc.weld == nil:
		sc.weldDef = box2d.MakeB2WeldJointDef()
		obj := sc.loose[(k/90)%len(sc.loose)]
		sc.weldDef.Initialize(sc.kin, obj, obj.GetWorldCenter())
		sc.weldDef.FrequencyHz, sc.weldDef.DampingRatio = 4, 0.7
		sc.weld = sc.s.CreateJoint(&sc.weldDef)
	case k%90 == 75 && sc.weld != nil:
		sc.s.DestroyJoint(sc.weld)
		sc.weld = nil
	}
}

// sameBits compares every body of two worlds built alike.
func sameBits(a, b *box2d.B2World) error {
	ba, bb := a.M_bodyList, b.M_bodyList
	for i := 0; ba != nil || bb != nil; i++ {
		if ba == nil || bb == nil {
			return fmt.Errorf("body counts: got %d; want %d", b.GetBodyCount(), a.GetBodyCount())
		}
		fa := [...]float64{ba.M_xf.P.X, ba.M_xf.P.Y, ba.M_sweep.A, ba.M_linearVelocity.X, ba.M_linearVelocity.Y, ba.M_angularVelocity, ba.M_sweep.C.X, ba.M_sweep.C.Y}
		fb := [...]float64{bb.M_xf.P.X, bb.M_xf.P.Y, bb.M_sweep.A, bb.M_linearVelocity.X, bb.M_linearVelocity.Y, bb.M_angularVelocity, bb.M_sweep.C.X, bb.M_sweep.C.Y}
		for k := range fa {
			if math.Float64bits(fa[k]) != math.Float64bits(fb[k]) {
				return fmt.Errorf("body %d field %d: got %v; want %v", i, k, fb[k], fa[k])
			}
		}
		if ba.IsAwake() != bb.IsAwake() {
			return fmt.Errorf("body %d awake: got %v; want %v", i, bb.IsAwake(), ba.IsAwake())
		}
		ba, bb = ba.M_next, bb.M_next
	}
	// The broad phase's tree, node for node.
	ta, tb := &a.M_contactManager.M_broadPhase.M_tree, &b.M_contactManager.M_broadPhase.M_tree
	if ta.M_root != tb.M_root || ta.M_nodeCount != tb.M_nodeCount || ta.M_freeList != tb.M_freeList {
		return fmt.Errorf("tree: root %d, %d nodes, free %d; want %d, %d, %d", tb.M_root, tb.M_nodeCount, tb.M_freeList, ta.M_root, ta.M_nodeCount, ta.M_freeList)
	}
	for i := range ta.M_nodes {
		na, nb := &ta.M_nodes[i], &tb.M_nodes[i]
		if na.Aabb != nb.Aabb || na.Parent != nb.Parent || na.Child1 != nb.Child1 || na.Child2 != nb.Child2 || na.Height != nb.Height {
			return fmt.Errorf("tree node %d: got %+v; want %+v", i, *nb, *na)
		}
	}
	if a.GetContactCount() != b.GetContactCount() {
		return fmt.Errorf("contacts: got %d; want %d", b.GetContactCount(), a.GetContactCount())
	}
	if a.GetJointCount() != b.GetJointCount() {
		return fmt.Errorf("joints: got %d; want %d", b.GetJointCount(), a.GetJointCount())
	}
	return nil
}

func TestStepMatchesLibrary(t *testing.T) {
	for _, opt := range []options{
		{},
		{sleep: true},
		{listener: true},
		{filter: true, listener: true, sleep: true},
		{continuous: true},
		{continuous: true, listener: true, sleep: true},
	} {
		t.Run(fmt.Sprintf("%+v", opt), func(t *testing.T) {
			lib, ours := newScene(opt, true, 1), newScene(opt, false, 1)
			asleep, tois := 0, 0
			for k := range 900 {
				lib.drive(k)
				ours.drive(k)
				lib.s.Step(1.0/60, 8, 3)
				ours.s.Step(1.0/60, 8, 3)
				if err := sameBits(lib.w, ours.w); err != nil {
					t.Fatalf("step %d: %v", k, err)
				}
				for b := ours.w.M_bodyList; b != nil; b = b.M_next {
					if b.M_type == box2d.B2BodyType.B2_dynamicBody && !b.IsAwake() {
						asleep++
					}
				}
				for c := ours.w.GetContactList(); c != nil; c = c.GetNext() {
					tois += c.GetTOICount()
				}
			}
			if opt.continuous && tois == 0 {
				t.Errorf("no time-of-impact event; the continuous path went untested")
			}
			if opt.listener {
				if len(lib.listener.log) != len(ours.listener.log) {
					t.Fatalf("listener calls: got %d; want %d", len(ours.listener.log), len(lib.listener.log))
				}
				for i := range lib.listener.log {
					if lib.listener.log[i] != ours.listener.log[i] {
						t.Fatalf("listener call %d: got %q; want %q", i, ours.listener.log[i], lib.listener.log[i])
					}
				}
				if math.Float64bits(lib.listener.impulse) != math.Float64bits(ours.listener.impulse) {
					t.Fatalf("listener impulses: got %v; want %v", ours.listener.impulse, lib.listener.impulse)
				}
			}
			if opt.sleep && asleep == 0 {
				t.Errorf("no body ever slept; the sleeping path went untested")
			}
		})
	}
}

// TestRebind steps several worlds in turn through one Stepper (as tasks do
// across episodes), so later worlds run on pooled contacts and joints.
func TestRebind(t *testing.T) {
	s := &Stepper{}
	for ep := range 3 {
		opt := options{listener: true, continuous: ep == 1}
		lib, ours := newScene(opt, true, uint64(ep)), newScene(opt, false, uint64(ep))
		ours.s = s
		s.Bind(ours.w)
		for k := range 300 {
			lib.drive(k)
			ours.drive(k)
			lib.s.Step(1.0/60, 8, 3)
			ours.s.Step(1.0/60, 8, 3)
			if err := sameBits(lib.w, ours.w); err != nil {
				t.Fatalf("episode %d step %d: %v", ep, k, err)
			}
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	s := &Stepper{}
	var sc *scene
	run := func() {
		sc = newScene(options{sleep: true, continuous: true}, false, 3)
		sc.s = s
		s.ReserveJoints(box2d.B2JointType.E_weldJoint, 1)
		s.Bind(sc.w)
	}
	for range 2 { // warm the pools
		run()
		for k := range 400 {
			sc.drive(k)
			sc.s.Step(1.0/60, 8, 3)
		}
	}
	run()
	k := 0
	first := true
	allocs := testing.AllocsPerRun(1, func() {
		if first { // AllocsPerRun's warm-up call
			first = false
			return
		}
		for ; k < 400; k++ {
			sc.drive(k)
			sc.s.Step(1.0/60, 8, 3)
		}
	})
	if allocs != 0 {
		t.Errorf("400 steps allocated %v times; want 0", allocs)
	}
}

// BenchmarkStep steps the test scene (about 30 bodies, 8 joints, a pile
// of contacts) with the Stepper and with B2World.Step.
func BenchmarkStep(b *testing.B) {
	for _, library := range []bool{false, true} {
		name := "stepper"
		if library {
			name = "library"
		}
		b.Run(name, func(b *testing.B) {
			sc := newScene(options{}, library, 1)
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				if k == 900 {
					b.StopTimer()
					sc = newScene(options{}, library, 1)
					k = 0
					b.StartTimer()
				}
				sc.drive(k)
				sc.s.Step(1.0/60, 8, 3)
				k++
			}
		})
	}
}
