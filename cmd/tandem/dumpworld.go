package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
	"tandem/tasks"
)

// steppedTask is a task whose Box2D world is stepped by b2step (every
// task): bench times its steps and --dump-world records them through the
// stepper's Trace hook.
type steppedTask interface {
	Stepper() *b2step.Stepper
}

// The --dump-world file: a task's world after Reset(1) (bodies, fixtures,
// joints, state) and what the task did to it before each physics substep of
// the recorded expert episode, so that another engine can step the same
// world through the same episode (bench/box2d loads it into C++ Box2D).
// Bodies and joints are listed in creation order and named by index;
// vectors are [x, y]; units are the task's (Spec.Units, kg, s, rad).
type worldDump struct {
	Task               string     `json:"task"`
	Seed               uint64     `json:"seed"`
	Dt                 float64    `json:"dt"`
	VelocityIterations int        `json:"velocity_iterations"`
	PositionIterations int        `json:"position_iterations"`
	Gravity            [2]float64 `json:"gravity"`
	AllowSleep         bool       `json:"allow_sleep"`
	WarmStarting       bool       `json:"warm_starting"`
	Continuous         bool       `json:"continuous"`
	SubStepping        bool       `json:"sub_stepping"`
	// ContactFilter is false when the world has no contact filter: then
	// ByteArena/box2d collides every pair of fixtures on different bodies
	// (one of them dynamic, no joint forbidding it), whatever their filter
	// bits, and an engine that filters by default must not.
	ContactFilter bool         `json:"contact_filter"`
	Bodies        []dumpBody   `json:"bodies"`
	Joints        []dumpJoint  `json:"joints"`
	Steps         []dumpInputs `json:"steps"`
}

type dumpBody struct {
	Type           string        `json:"type"` // static, kinematic, dynamic
	Position       [2]float64    `json:"p"`
	Angle          float64       `json:"a"`
	Velocity       [2]float64    `json:"v"`
	AngularVel     float64       `json:"w"`
	LinearDamping  float64       `json:"linear_damping"`
	AngularDamping float64       `json:"angular_damping"`
	GravityScale   float64       `json:"gravity_scale"`
	FixedRotation  bool          `json:"fixed_rotation"`
	Bullet         bool          `json:"bullet"`
	Awake          bool          `json:"awake"`
	AllowSleep     bool          `json:"allow_sleep"`
	Mass           float64       `json:"mass"`
	Center         [2]float64    `json:"center"`  // centre of mass, body frame
	Inertia        float64       `json:"inertia"` // about the centre of mass
	Fixtures       []dumpFixture `json:"fixtures"`
}

type dumpFixture struct {
	Shape       string       `json:"shape"` // circle, polygon, edge, chain
	Radius      float64      `json:"radius"`
	Center      [2]float64   `json:"center,omitempty"`   // circle
	Vertices    [][2]float64 `json:"vertices,omitempty"` // polygon, edge (v1, v2), chain
	Normals     [][2]float64 `json:"normals,omitempty"`  // polygon
	Centroid    [2]float64   `json:"centroid,omitempty"` // polygon
	Ghost       [][2]float64 `json:"ghost,omitempty"`    // edge v0, v3 or chain prev, next
	HasGhost    [2]bool      `json:"has_ghost,omitempty"`
	Density     float64      `json:"density"`
	Friction    float64      `json:"friction"`
	Restitution float64      `json:"restitution"`
	Sensor      bool         `json:"sensor"`
	Filter      [3]int       `json:"filter"` // category, mask, group
}

type dumpJoint struct {
	ID               int        `json:"id"`
	Type             string     `json:"type"` // weld, revolute, prismatic, distance
	A                int        `json:"a"`
	B                int        `json:"b"`
	CollideConnected bool       `json:"collide_connected"`
	AnchorA          [2]float64 `json:"anchor_a"`
	AnchorB          [2]float64 `json:"anchor_b"`
	ReferenceAngle   float64    `json:"reference_angle"`
	FrequencyHz      float64    `json:"frequency_hz"`  // weld, distance
	DampingRatio     float64    `json:"damping_ratio"` // weld, distance
	Length           float64    `json:"length"`        // distance
	Axis             [2]float64 `json:"axis"`          // prismatic, in body A
	EnableLimit      bool       `json:"enable_limit"`
	Lower            float64    `json:"lower"`
	Upper            float64    `json:"upper"`
	EnableMotor      bool       `json:"enable_motor"`
	MaxMotor         float64    `json:"max_motor"` // torque (revolute) or force (prismatic)
	MotorSpeed       float64    `json:"motor_speed"`
}

// dumpInputs is what the task changed before one substep.
type dumpInputs struct {
	Bodies  []bodyInput  `json:"bodies,omitempty"`
	Forces  []forceInput `json:"forces,omitempty"`
	Motors  []motorInput `json:"motors,omitempty"`
	Create  []dumpJoint  `json:"create,omitempty"`
	Destroy []int        `json:"destroy,omitempty"`
	// Disabled lists the body pairs whose touching contacts the task's
	// contact listener disabled during the substep.
	Disabled [][2]int `json:"disabled,omitempty"`
}

type bodyInput struct {
	I        int         `json:"i"`
	Position *[2]float64 `json:"p,omitempty"` // teleported
	Angle    *float64    `json:"a,omitempty"`
	Velocity [2]float64  `json:"v"`
	Angular  float64     `json:"w"`
}

type forceInput struct {
	I      int        `json:"i"`
	Force  [2]float64 `json:"f"`
	Torque float64    `json:"t"`
}

type motorInput struct {
	J     int     `json:"j"`
	Speed float64 `json:"speed"`
}

// bodyState is what a step leaves in a body, to tell the task's changes
// from the step's.
type bodyState struct {
	p    box2d.B2Vec2
	a    float64
	v    box2d.B2Vec2
	w    float64
	seen bool
}

// recorder builds a worldDump from the stepper's Trace calls.
type recorder struct {
	dump   *worldDump
	list   []*box2d.B2Body // by creation index
	bodies map[*box2d.B2Body]int
	after  []bodyState // what the last step left in each body
	joints []liveJoint // in creation order
	nextID int
	err    error
}

// liveJoint is a joint of the world and the motor speed last recorded.
type liveJoint struct {
	j     box2d.B2JointInterface
	id    int
	speed float64
}

func vec2(v box2d.B2Vec2) [2]float64 { return [2]float64{v.X, v.Y} }

// writeWorldDump writes task name's dump to the file at path.
func writeWorldDump(path, name string) error {
	if _, err := tasks.Lookup(name); err != nil {
		return usageError{err}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := dumpWorldFile(f, name); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dumpWorldFile records one expert episode (seed 1) of task name and
// writes its world and per-substep inputs to w as JSON.
func dumpWorldFile(w io.Writer, name string) error {
	maker, err := tasks.Lookup(name)
	if err != nil {
		return err
	}
	actions, err := expertActions(maker)
	if err != nil {
		return err
	}
	task := maker()
	st, ok := task.(steppedTask)
	if !ok {
		return fmt.Errorf("task %s has no b2step world", name)
	}
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		return err
	}
	env.Reset(1)
	stepper := st.Stepper()
	world := stepper.World()
	r := &recorder{dump: &worldDump{Task: name, Seed: 1}}
	r.snapshot(world)
	stepper.Trace = r.trace
	for i := 0; i < len(actions) && !env.Done(); i++ {
		if _, err := env.Step(actions[i]); err != nil {
			return err
		}
	}
	stepper.Trace = nil
	if r.err != nil {
		return r.err
	}
	if len(r.dump.Steps) == 0 {
		return errors.New("the episode ran no physics steps")
	}
	enc := json.NewEncoder(w)
	return enc.Encode(r.dump)
}

// snapshot writes the world's description and initial state.
func (r *recorder) snapshot(w *box2d.B2World) {
	d := r.dump
	d.Gravity = vec2(w.M_gravity)
	d.AllowSleep, d.WarmStarting = w.M_allowSleep, w.M_warmStarting
	d.Continuous, d.SubStepping = w.M_continuousPhysics, w.M_subStepping
	d.ContactFilter = w.M_contactManager.M_contactFilter != nil

	var order []*box2d.B2Body // creation order: the list is newest first
	for b := w.M_bodyList; b != nil; b = b.M_next {
		order = append(order, b)
	}
	r.bodies = make(map[*box2d.B2Body]int)
	for i := range order {
		b := order[len(order)-1-i]
		r.bodies[b] = i
		r.list = append(r.list, b)
		r.after = append(r.after, stateOf(b))
		d.Bodies = append(d.Bodies, describeBody(b))
	}

	var joints []box2d.B2JointInterface
	for j := w.M_jointList; j != nil; j = j.GetNext() {
		joints = append(joints, j)
	}
	for i := range joints {
		d.Joints = append(d.Joints, r.describeJoint(joints[len(joints)-1-i]))
	}
}

func stateOf(b *box2d.B2Body) bodyState {
	return bodyState{p: b.M_xf.P, a: b.M_sweep.A, v: b.M_linearVelocity, w: b.M_angularVelocity, seen: true}
}

func describeBody(b *box2d.B2Body) dumpBody {
	types := [...]string{"static", "kinematic", "dynamic"}
	d := dumpBody{
		Type: types[b.M_type], Position: vec2(b.M_xf.P), Angle: b.M_sweep.A,
		Velocity: vec2(b.M_linearVelocity), AngularVel: b.M_angularVelocity,
		LinearDamping: b.M_linearDamping, AngularDamping: b.M_angularDamping,
		GravityScale:  b.M_gravityScale,
		FixedRotation: b.IsFixedRotation(), Bullet: b.IsBullet(), Awake: b.IsAwake(),
		AllowSleep: b.IsSleepingAllowed(),
		Mass:       b.M_mass, Center: vec2(b.M_sweep.LocalCenter), Inertia: b.M_I,
	}
	var fixtures []*box2d.B2Fixture
	for f := b.M_fixtureList; f != nil; f = f.M_next {
		fixtures = append(fixtures, f)
	}
	for i := range fixtures {
		d.Fixtures = append(d.Fixtures, describeFixture(fixtures[len(fixtures)-1-i]))
	}
	return d
}

func describeFixture(f *box2d.B2Fixture) dumpFixture {
	d := dumpFixture{
		Density: f.M_density, Friction: f.M_friction, Restitution: f.M_restitution,
		Sensor: f.M_isSensor,
		Filter: [3]int{int(f.M_filter.CategoryBits), int(f.M_filter.MaskBits), int(f.M_filter.GroupIndex)},
	}
	switch s := f.M_shape.(type) {
	case *box2d.B2CircleShape:
		d.Shape, d.Radius, d.Center = "circle", s.M_radius, vec2(s.M_p)
	case *box2d.B2PolygonShape:
		d.Shape, d.Radius, d.Centroid = "polygon", s.M_radius, vec2(s.M_centroid)
		for i := 0; i < s.M_count; i++ {
			d.Vertices = append(d.Vertices, vec2(s.M_vertices[i]))
			d.Normals = append(d.Normals, vec2(s.M_normals[i]))
		}
	case *box2d.B2EdgeShape:
		d.Shape, d.Radius = "edge", s.M_radius
		d.Vertices = [][2]float64{vec2(s.M_vertex1), vec2(s.M_vertex2)}
		d.Ghost = [][2]float64{vec2(s.M_vertex0), vec2(s.M_vertex3)}
		d.HasGhost = [2]bool{s.M_hasVertex0, s.M_hasVertex3}
	case *box2d.B2ChainShape:
		d.Shape, d.Radius = "chain", s.M_radius
		for i := 0; i < s.M_count; i++ {
			d.Vertices = append(d.Vertices, vec2(s.M_vertices[i]))
		}
		d.Ghost = [][2]float64{vec2(s.M_prevVertex), vec2(s.M_nextVertex)}
		d.HasGhost = [2]bool{s.M_hasPrevVertex, s.M_hasNextVertex}
	}
	return d
}

// describeJoint names j with the next id and describes it.
func (r *recorder) describeJoint(j box2d.B2JointInterface) dumpJoint {
	d := dumpJoint{
		ID: r.nextID, A: r.bodies[j.GetBodyA()], B: r.bodies[j.GetBodyB()],
		CollideConnected: j.IsCollideConnected(),
	}
	r.joints = append(r.joints, liveJoint{j: j, id: r.nextID, speed: motorSpeed(j)})
	r.nextID++
	switch j := j.(type) {
	case *box2d.B2WeldJoint:
		d.Type = "weld"
		d.AnchorA, d.AnchorB, d.ReferenceAngle = vec2(j.M_localAnchorA), vec2(j.M_localAnchorB), j.M_referenceAngle
		d.FrequencyHz, d.DampingRatio = j.M_frequencyHz, j.M_dampingRatio
	case *box2d.B2DistanceJoint:
		d.Type = "distance"
		d.AnchorA, d.AnchorB, d.Length = vec2(j.M_localAnchorA), vec2(j.M_localAnchorB), j.M_length
		d.FrequencyHz, d.DampingRatio = j.M_frequencyHz, j.M_dampingRatio
	case *box2d.B2RevoluteJoint:
		d.Type = "revolute"
		d.AnchorA, d.AnchorB, d.ReferenceAngle = vec2(j.M_localAnchorA), vec2(j.M_localAnchorB), j.M_referenceAngle
		d.EnableLimit, d.Lower, d.Upper = j.M_enableLimit, j.M_lowerAngle, j.M_upperAngle
		d.EnableMotor, d.MaxMotor, d.MotorSpeed = j.M_enableMotor, j.M_maxMotorTorque, j.M_motorSpeed
	case *box2d.B2PrismaticJoint:
		d.Type = "prismatic"
		d.AnchorA, d.AnchorB, d.ReferenceAngle = vec2(j.M_localAnchorA), vec2(j.M_localAnchorB), j.M_referenceAngle
		d.Axis = vec2(j.M_localXAxisA)
		d.EnableLimit, d.Lower, d.Upper = j.M_enableLimit, j.M_lowerTranslation, j.M_upperTranslation
		d.EnableMotor, d.MaxMotor, d.MotorSpeed = j.M_enableMotor, j.M_maxMotorForce, j.M_motorSpeed
	default:
		if r.err == nil {
			r.err = fmt.Errorf("joint type %d is not dumped", j.GetType())
		}
	}
	return d
}

// trace records, before a step, what the task changed since the last one,
// and, after it, the state the step left.
func (r *recorder) trace(w *box2d.B2World, dt float64, vi, pi int, after bool) {
	d := r.dump
	if after {
		for i, b := range r.list {
			r.after[i] = stateOf(b)
		}
		in := &d.Steps[len(d.Steps)-1]
		for c := w.M_contactManager.M_contactList; c != nil; c = c.GetNext() {
			if c.IsTouching() && !c.IsEnabled() {
				a, b := r.bodies[c.GetFixtureA().M_body], r.bodies[c.GetFixtureB().M_body]
				in.Disabled = append(in.Disabled, [2]int{a, b})
			}
		}
		return
	}
	if len(d.Steps) == 0 {
		d.Dt, d.VelocityIterations, d.PositionIterations = dt, vi, pi
	} else if (dt != d.Dt || vi != d.VelocityIterations || pi != d.PositionIterations) && r.err == nil {
		r.err = fmt.Errorf("step %d: dt %g, iterations %d/%d differ from the first step's", len(d.Steps), dt, vi, pi)
	}
	var in dumpInputs
	for i, b := range r.list {
		was, now := r.after[i], stateOf(b)
		if now.p != was.p || now.a != was.a || now.v != was.v || now.w != was.w {
			bi := bodyInput{I: i, Velocity: vec2(now.v), Angular: now.w}
			if now.p != was.p || now.a != was.a {
				p, a := vec2(now.p), now.a
				bi.Position, bi.Angle = &p, &a
			}
			in.Bodies = append(in.Bodies, bi)
		}
		if b.M_force != (box2d.B2Vec2{}) || b.M_torque != 0 {
			in.Forces = append(in.Forces, forceInput{I: i, Force: vec2(b.M_force), Torque: b.M_torque})
		}
	}

	// Joints made and destroyed since the last step, and motor speeds set.
	live := make(map[box2d.B2JointInterface]bool)
	var created []box2d.B2JointInterface
	known := make(map[box2d.B2JointInterface]bool)
	for _, lj := range r.joints {
		known[lj.j] = true
	}
	for j := w.M_jointList; j != nil; j = j.GetNext() {
		live[j] = true
		if !known[j] {
			created = append(created, j)
		}
	}
	kept := r.joints[:0]
	for _, lj := range r.joints {
		if !live[lj.j] {
			in.Destroy = append(in.Destroy, lj.id)
			continue
		}
		if s := motorSpeed(lj.j); s != lj.speed {
			in.Motors = append(in.Motors, motorInput{J: lj.id, Speed: s})
			lj.speed = s
		}
		kept = append(kept, lj)
	}
	r.joints = kept
	for i := range created { // the list is newest first
		in.Create = append(in.Create, r.describeJoint(created[len(created)-1-i]))
	}
	d.Steps = append(d.Steps, in)
}

// motorSpeed is a revolute or prismatic joint's motor speed, 0 for others.
func motorSpeed(j box2d.B2JointInterface) float64 {
	switch j := j.(type) {
	case *box2d.B2RevoluteJoint:
		return j.M_motorSpeed
	case *box2d.B2PrismaticJoint:
		return j.M_motorSpeed
	}
	return 0
}
