package surgical

import (
	"github.com/ByteArena/box2d"
)

// maxTouch bounds how many bodies one finger tracks as touching per substep.
const maxTouch = 4

// grip is an instrument's grasp state. A grasp is a weld constraint between
// the instrument's hand body and the object, made when both fingers touch a
// graspable object while the jaw is commanded closed and the task's grasp
// rule allows it (SurRoL's contact-constraint grasp); it is removed when the
// jaw opens and broken when its reaction force exceeds forceLimit. After a
// break the jaw must open before it can grasp again.
type grip struct {
	held  *box2d.B2Body
	weld  *box2d.B2WeldJoint
	armed bool
	// breaks counts forced releases in the episode.
	breaks int

	touchA, touchB [maxTouch]*box2d.B2Body
	nA, nB         int

	force vec // contact + constraint force on the instrument, summed over substeps
	count int
	last  vec // average over the last control period
}

func (g *grip) clearTouches() { g.nA, g.nB = 0, 0 }

func (g *grip) touch(finger int, b *box2d.B2Body) {
	switch {
	case finger == 1 && g.nA < maxTouch:
		g.touchA[g.nA] = b
		g.nA++
	case finger == 2 && g.nB < maxTouch:
		g.touchB[g.nB] = b
		g.nB++
	}
}

// both reports whether both fingers touch b.
func (g *grip) both(b *box2d.B2Body) bool {
	a, c := false, false
	for _, x := range g.touchA[:g.nA] {
		a = a || x == b
	}
	for _, x := range g.touchB[:g.nB] {
		c = c || x == b
	}
	return a && c
}

// scanContacts records, for every instrument, which bodies its fingers touch
// and adds the contact impulses on its fingers and shaft (as forces over dt)
// to its force sum.
func (s *bench) scanContacts(dt float64) {
	for _, in := range s.tools {
		in.grip.clearTouches()
	}
	for c := s.world.M_contactManager.M_contactList; c != nil; c = c.GetNext() {
		if !c.IsTouching() {
			continue
		}
		fa, fb := c.GetFixtureA(), c.GetFixtureB()
		ba, bb := fa.M_body, fb.M_body
		for _, in := range s.tools {
			sign := 0.0
			other := bb
			switch {
			case in.owns(ba):
				sign = -1 // impulses act on A with the opposite sign
			case in.owns(bb):
				sign, other = 1, ba
			default:
				continue
			}
			if sign < 0 {
				in.grip.touch(in.finger(ba), bb)
			} else {
				in.grip.touch(in.finger(bb), ba)
			}
			if !c.IsEnabled() || other == in.grip.held {
				continue
			}
			c.GetWorldManifold(&s.wm)
			m := c.GetManifold()
			n := fromB2(s.wm.Normal)
			t := vec{n[1], -n[0]}
			for i := 0; i < m.PointCount; i++ {
				p := n.Mul(m.Points[i].NormalImpulse).Add(t.Mul(m.Points[i].TangentImpulse))
				in.grip.force = in.grip.force.Add(p.Mul(sign / dt))
			}
		}
	}
}

// updateGrasps makes, releases and breaks grasps after a physics substep.
func (s *bench) updateGrasps(dt float64) {
	for k, in := range s.tools {
		g := &in.grip
		if g.held != nil {
			f := fromB2(g.weld.GetReactionForce(1 / dt))
			g.force = g.force.Sub(f) // the object pulls the instrument back
			switch {
			case !in.closed():
				s.release(in)
			case f.Len() > forceLimit:
				s.release(in)
				g.armed, g.breaks = false, g.breaks+1
			}
			continue
		}
		if !in.closed() {
			g.armed = true
			continue
		}
		if !g.armed {
			continue
		}
		for _, obj := range s.graspable {
			if obj != nil && g.both(obj) && (s.rule == nil || s.rule(k, obj)) {
				s.attach(in, obj)
				break
			}
		}
	}
}

// attach welds obj to in's hand where they are now.
func (s *bench) attach(in *instrument, obj *box2d.B2Body) {
	def := &s.weldDef
	*def = box2d.MakeB2WeldJointDef()
	def.Initialize(in.hand, obj, b2(in.tip()))
	def.FrequencyHz, def.DampingRatio = s.gripHz, 0.7
	in.grip.weld = s.phys.CreateJoint(def).(*box2d.B2WeldJoint)
	in.grip.held = obj
	in.jawHold = in.jaw
}

// release removes in's grasp, if any.
func (s *bench) release(in *instrument) {
	if in.grip.weld != nil {
		s.phys.DestroyJoint(in.grip.weld)
	}
	in.grip.weld, in.grip.held = nil, nil
	in.jawHold = 0
}

// holder returns the index of the instrument holding b, or -1.
func (s *bench) holder(b *box2d.B2Body) int {
	for k, in := range s.tools {
		if in.grip.held == b && b != nil {
			return k
		}
	}
	return -1
}

// contactGate disables contacts between an instrument and the object it
// holds, so the weld alone carries the object and the closed fingers do not
// fight it.
type contactGate struct{ s *bench }

func (g contactGate) BeginContact(box2d.B2ContactInterface) {}
func (g contactGate) EndContact(box2d.B2ContactInterface)   {}
func (g contactGate) PostSolve(box2d.B2ContactInterface, *box2d.B2ContactImpulse) {
}

func (g contactGate) PreSolve(c box2d.B2ContactInterface, _ box2d.B2Manifold) {
	ba, bb := c.GetFixtureA().M_body, c.GetFixtureB().M_body
	for _, in := range g.s.tools {
		h := in.grip.held
		if h == nil {
			continue
		}
		if (h == ba && in.owns(bb)) || (h == bb && in.owns(ba)) {
			c.SetEnabled(false)
			return
		}
	}
}
