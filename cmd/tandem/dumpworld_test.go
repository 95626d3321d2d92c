package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
	"tandem/tasks"
)

// loadDump builds the dump's world in ByteArena/box2d, as bench/box2d's
// C++ loader builds it in Box2D 2.4.1, with the mass data set exactly.
func loadDump(t *testing.T, d *worldDump) (*box2d.B2World, []*box2d.B2Body, map[int]box2d.B2JointInterface, *b2step.Stepper) {
	t.Helper()
	w := box2d.MakeB2World(box2d.MakeB2Vec2(d.Gravity[0], d.Gravity[1]))
	w.SetAllowSleeping(d.AllowSleep)
	w.M_warmStarting, w.M_continuousPhysics, w.M_subStepping = d.WarmStarting, d.Continuous, d.SubStepping
	b2v := func(v [2]float64) box2d.B2Vec2 { return box2d.MakeB2Vec2(v[0], v[1]) }
	types := map[string]uint8{"static": 0, "kinematic": 1, "dynamic": 2}
	var bodies []*box2d.B2Body
	for _, db := range d.Bodies {
		bd := box2d.MakeB2BodyDef()
		bd.Type, bd.Position, bd.Angle = types[db.Type], b2v(db.Position), db.Angle
		bd.LinearVelocity, bd.AngularVelocity = b2v(db.Velocity), db.AngularVel
		bd.LinearDamping, bd.AngularDamping, bd.GravityScale = db.LinearDamping, db.AngularDamping, db.GravityScale
		bd.FixedRotation, bd.Bullet, bd.Awake, bd.AllowSleep = db.FixedRotation, db.Bullet, db.Awake, db.AllowSleep
		b := w.CreateBody(&bd)
		for _, df := range db.Fixtures {
			fd := box2d.MakeB2FixtureDef()
			fd.Density, fd.Friction, fd.Restitution, fd.IsSensor = df.Density, df.Friction, df.Restitution, df.Sensor
			fd.Filter = box2d.B2Filter{CategoryBits: uint16(df.Filter[0]), MaskBits: uint16(df.Filter[1]), GroupIndex: int16(df.Filter[2])}
			switch df.Shape {
			case "circle":
				s := box2d.MakeB2CircleShape()
				s.M_radius, s.M_p = df.Radius, b2v(df.Center)
				fd.Shape = &s
			case "polygon":
				s := box2d.MakeB2PolygonShape()
				s.M_count, s.M_radius, s.M_centroid = len(df.Vertices), df.Radius, b2v(df.Centroid)
				for i := range df.Vertices {
					s.M_vertices[i], s.M_normals[i] = b2v(df.Vertices[i]), b2v(df.Normals[i])
				}
				fd.Shape = &s
			default:
				t.Fatalf("shape %s not loaded by this test", df.Shape)
			}
			b.CreateFixtureFromDef(&fd)
		}
		if b.M_type == box2d.B2BodyType.B2_dynamicBody {
			b.M_mass, b.M_I = db.Mass, db.Inertia
			b.M_invMass, b.M_invI = 0, 0
			if db.Mass > 0 {
				b.M_invMass = 1 / db.Mass
			}
			if db.Inertia > 0 {
				b.M_invI = 1 / db.Inertia
			}
			b.M_sweep.LocalCenter = b2v(db.Center)
			b.M_sweep.C = box2d.B2TransformVec2Mul(b.M_xf, b.M_sweep.LocalCenter)
			b.M_sweep.C0 = b.M_sweep.C
		}
		bodies = append(bodies, b)
	}
	joints := make(map[int]box2d.B2JointInterface)
	s := b2step.New(&w)
	for _, dj := range d.Joints {
		joints[dj.ID] = makeJoint(t, s, bodies, dj)
	}
	return &w, bodies, joints, s
}

func makeJoint(t *testing.T, s *b2step.Stepper, bodies []*box2d.B2Body, dj dumpJoint) box2d.B2JointInterface {
	b2v := func(v [2]float64) box2d.B2Vec2 { return box2d.MakeB2Vec2(v[0], v[1]) }
	a, b := bodies[dj.A], bodies[dj.B]
	switch dj.Type {
	case "weld":
		def := box2d.MakeB2WeldJointDef()
		def.BodyA, def.BodyB, def.CollideConnected = a, b, dj.CollideConnected
		def.LocalAnchorA, def.LocalAnchorB, def.ReferenceAngle = b2v(dj.AnchorA), b2v(dj.AnchorB), dj.ReferenceAngle
		def.FrequencyHz, def.DampingRatio = dj.FrequencyHz, dj.DampingRatio
		return s.CreateJoint(&def)
	case "distance":
		def := box2d.MakeB2DistanceJointDef()
		def.BodyA, def.BodyB, def.CollideConnected = a, b, dj.CollideConnected
		def.LocalAnchorA, def.LocalAnchorB, def.Length = b2v(dj.AnchorA), b2v(dj.AnchorB), dj.Length
		def.FrequencyHz, def.DampingRatio = dj.FrequencyHz, dj.DampingRatio
		return s.CreateJoint(&def)
	case "revolute":
		def := box2d.MakeB2RevoluteJointDef()
		def.BodyA, def.BodyB, def.CollideConnected = a, b, dj.CollideConnected
		def.LocalAnchorA, def.LocalAnchorB, def.ReferenceAngle = b2v(dj.AnchorA), b2v(dj.AnchorB), dj.ReferenceAngle
		def.EnableLimit, def.LowerAngle, def.UpperAngle = dj.EnableLimit, dj.Lower, dj.Upper
		def.EnableMotor, def.MaxMotorTorque, def.MotorSpeed = dj.EnableMotor, dj.MaxMotor, dj.MotorSpeed
		return s.CreateJoint(&def)
	case "prismatic":
		def := box2d.MakeB2PrismaticJointDef()
		def.BodyA, def.BodyB, def.CollideConnected = a, b, dj.CollideConnected
		def.LocalAnchorA, def.LocalAnchorB, def.ReferenceAngle = b2v(dj.AnchorA), b2v(dj.AnchorB), dj.ReferenceAngle
		def.LocalAxisA = b2v(dj.Axis)
		def.EnableLimit, def.LowerTranslation, def.UpperTranslation = dj.EnableLimit, dj.Lower, dj.Upper
		def.EnableMotor, def.MaxMotorForce, def.MotorSpeed = dj.EnableMotor, dj.MaxMotor, dj.MotorSpeed
		return s.CreateJoint(&def)
	}
	t.Fatalf("joint %s not loaded by this test", dj.Type)
	return nil
}

// gate disables the contacts the dump says the task's listener disabled.
type gate struct {
	pairs map[[2]*box2d.B2Body]bool
}

func (g *gate) BeginContact(box2d.B2ContactInterface) {}
func (g *gate) EndContact(box2d.B2ContactInterface)   {}
func (g *gate) PostSolve(box2d.B2ContactInterface, *box2d.B2ContactImpulse) {
}
func (g *gate) PreSolve(c box2d.B2ContactInterface, _ box2d.B2Manifold) {
	a, b := c.GetFixtureA().M_body, c.GetFixtureB().M_body
	if g.pairs[[2]*box2d.B2Body{a, b}] || g.pairs[[2]*box2d.B2Body{b, a}] {
		c.SetEnabled(false)
	}
}

// TestDumpWorldReplays dumps every task's world and expert episode, loads
// each dump into a fresh world, replays the recorded inputs with the
// stepper, and compares every body at the end with the task's own run, bit
// for bit: the dump holds everything the task did to its world. (The C++
// replay does the same in Box2D 2.4.1, whose algorithms and float precision
// differ, so its trajectory drifts; the work per substep is the same.)
func TestDumpWorldReplays(t *testing.T) {
	for _, name := range tasks.Names() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := dumpWorldFile(&buf, name); err != nil {
				t.Fatal(err)
			}
			var d worldDump
			if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			maker, _ := tasks.Lookup(name)
			actions, err := expertActions(maker)
			if err != nil {
				t.Fatal(err)
			}
			spec := maker().Spec()
			if want := len(actions) * spec.Substeps(0); len(d.Steps) != want {
				t.Fatalf("%d steps recorded; want %d (%d actions × %d substeps)", len(d.Steps), want, len(actions), spec.Substeps(0))
			}

			// The task's own run, to its last substep.
			task := maker()
			env, _ := sim.NewEnv(task, sim.EnvConfig{})
			env.Reset(1)
			for i := 0; i < len(actions) && !env.Done(); i++ {
				env.Step(actions[i])
			}

			w, bodies, joints, s := loadDump(t, &d)
			g := &gate{}
			w.SetContactListener(g)
			for _, in := range d.Steps {
				for _, bi := range in.Bodies {
					b := bodies[bi.I]
					if bi.Position != nil {
						b.SetTransform(box2d.MakeB2Vec2(bi.Position[0], bi.Position[1]), *bi.Angle)
					}
					b.M_linearVelocity = box2d.MakeB2Vec2(bi.Velocity[0], bi.Velocity[1])
					b.M_angularVelocity = bi.Angular
				}
				for _, f := range in.Forces {
					bodies[f.I].M_force = box2d.MakeB2Vec2(f.Force[0], f.Force[1])
					bodies[f.I].M_torque = f.Torque
				}
				for _, m := range in.Motors {
					switch j := joints[m.J].(type) {
					case *box2d.B2RevoluteJoint:
						j.M_motorSpeed = m.Speed
					case *box2d.B2PrismaticJoint:
						j.M_motorSpeed = m.Speed
					}
				}
				for _, id := range in.Destroy {
					s.DestroyJoint(joints[id])
					delete(joints, id)
				}
				for _, dj := range in.Create {
					joints[dj.ID] = makeJoint(t, s, bodies, dj)
				}
				g.pairs = make(map[[2]*box2d.B2Body]bool)
				for _, p := range in.Disabled {
					g.pairs[[2]*box2d.B2Body{bodies[p[0]], bodies[p[1]]}] = true
				}
				s.Step(d.Dt, d.VelocityIterations, d.PositionIterations)
			}

			// Compare every body with the task's world.
			tw := task.(steppedTask).Stepper().World()
			var order []*box2d.B2Body
			for b := tw.M_bodyList; b != nil; b = b.M_next {
				order = append(order, b)
			}
			worst, exact := 0.0, true
			for i, b := range bodies {
				o := order[len(order)-1-i]
				d := math.Hypot(b.M_xf.P.X-o.M_xf.P.X, b.M_xf.P.Y-o.M_xf.P.Y)
				worst = max(worst, d)
				exact = exact && b.M_xf.P == o.M_xf.P && b.M_sweep.A == o.M_sweep.A
			}
			if !exact {
				t.Errorf("replay of %d substeps ends up to %.3g away from the task's run; want the same bits (the dump misses an input)", len(d.Steps), worst)
			}
		})
	}
}
