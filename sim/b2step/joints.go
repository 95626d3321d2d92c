package b2step

import (
	"github.com/ByteArena/box2d"
)

// jointPool keeps destroyed joints, by type, for CreateJoint to reuse, and
// the live joints CreateJoint made, to reclaim when their world is dropped.
type jointPool struct {
	free     [16][]box2d.B2JointInterface // by B2JointType
	live     []box2d.B2JointInterface
	reserved int // joints ReserveJoints asked room for
}

// ReserveJoints makes room for n joints of the given definition's type
// (B2JointType.E_weldJoint, …) to exist at once without CreateJoint
// allocating. Only weld, distance, revolute and prismatic joints are
// pooled; for other types it does nothing.
func (s *Stepper) ReserveJoints(typ uint8, n int) {
	if !pooled(typ) {
		return
	}
	p := &s.jpool
	have := len(p.free[typ])
	for _, j := range p.live {
		if j.GetType() == typ {
			have++
		}
	}
	for ; have < n; have++ {
		p.free[typ] = append(p.free[typ], newJoint(typ))
	}
	p.reserved = max(p.reserved, n)
	if s.w != nil && !s.UseLibrary {
		s.grow(0, 0, s.w.M_jointCount+p.reserved)
	}
	if cap(p.live) < n {
		live := make([]box2d.B2JointInterface, len(p.live), 2*n)
		copy(live, p.live)
		p.live = live
	}
}

func pooled(typ uint8) bool {
	switch typ {
	case box2d.B2JointType.E_weldJoint, box2d.B2JointType.E_distanceJoint,
		box2d.B2JointType.E_revoluteJoint, box2d.B2JointType.E_prismaticJoint:
		return true
	}
	return false
}

// newJoint allocates an uninitialised joint of a pooled type.
func newJoint(typ uint8) box2d.B2JointInterface {
	base := &box2d.B2Joint{M_edgeA: new(box2d.B2JointEdge), M_edgeB: new(box2d.B2JointEdge)}
	switch typ {
	case box2d.B2JointType.E_weldJoint:
		return &box2d.B2WeldJoint{B2Joint: base}
	case box2d.B2JointType.E_distanceJoint:
		return &box2d.B2DistanceJoint{B2Joint: base}
	case box2d.B2JointType.E_revoluteJoint:
		return &box2d.B2RevoluteJoint{B2Joint: base}
	case box2d.B2JointType.E_prismaticJoint:
		return &box2d.B2PrismaticJoint{B2Joint: base}
	}
	panic("b2step: joint type not pooled")
}

// CreateJoint is B2World.CreateJoint on the world of def's bodies (not
// necessarily bound yet), reusing a joint from the pool when one of the
// type is free.
func (s *Stepper) CreateJoint(def box2d.B2JointDefInterface) box2d.B2JointInterface {
	w := def.GetBodyA().M_world
	if s.UseLibrary || !pooled(def.GetType()) || w.IsLocked() {
		return w.CreateJoint(def)
	}
	p := &s.jpool
	free := p.free[def.GetType()]
	var j box2d.B2JointInterface
	if n := len(free); n > 0 {
		j = free[n-1]
		p.free[def.GetType()] = free[:n-1]
	} else {
		j = newJoint(def.GetType())
	}
	initJoint(j, def)
	p.live = append(p.live, j)
	if w == s.w {
		s.grow(0, 0, w.M_jointCount+1)
	}

	// Connect to the world list.
	j.SetPrev(nil)
	j.SetNext(w.M_jointList)
	if w.M_jointList != nil {
		w.M_jointList.SetPrev(j)
	}
	w.M_jointList = j
	w.M_jointCount++

	// Connect to the bodies' doubly linked lists.
	bodyA, bodyB := j.GetBodyA(), j.GetBodyB()
	ea, eb := j.GetEdgeA(), j.GetEdgeB()
	ea.Joint = j
	ea.Other = bodyB
	ea.Prev = nil
	ea.Next = bodyA.M_jointList
	if bodyA.M_jointList != nil {
		bodyA.M_jointList.Prev = ea
	}
	bodyA.M_jointList = ea

	eb.Joint = j
	eb.Other = bodyA
	eb.Prev = nil
	eb.Next = bodyB.M_jointList
	if bodyB.M_jointList != nil {
		bodyB.M_jointList.Prev = eb
	}
	bodyB.M_jointList = eb

	// If the joint prevents collisions, flag any contacts for filtering.
	if !def.IsCollideConnected() {
		for edge := bodyB.M_contactList; edge != nil; edge = edge.Next {
			if edge.Other == bodyA {
				edge.Contact.FlagForFiltering()
			}
		}
	}
	// Note: creating a joint doesn't wake the bodies.
	return j
}

// DestroyJoint is B2World.DestroyJoint on the joint's world; a joint of a
// pooled type goes back to the pool for CreateJoint to reuse, so the caller
// must drop its reference.
func (s *Stepper) DestroyJoint(j box2d.B2JointInterface) {
	w := j.GetBodyA().M_world
	locked := w.IsLocked()
	w.DestroyJoint(j)
	if s.UseLibrary || locked || !pooled(j.GetType()) {
		return
	}
	p := &s.jpool
	for i, x := range p.live {
		if x == j {
			p.live = append(p.live[:i], p.live[i+1:]...)
			break
		}
	}
	p.free[j.GetType()] = append(p.free[j.GetType()], j)
}

// reclaim returns the joints CreateJoint made in w, a world being
// dropped, to the pool.
func (p *jointPool) reclaim(w *box2d.B2World) {
	keep := p.live[:0]
	for _, j := range p.live {
		if j.GetBodyA().M_world == w {
			p.free[j.GetType()] = append(p.free[j.GetType()], j)
		} else {
			keep = append(keep, j)
		}
	}
	clear(p.live[len(keep):])
	p.live = keep
}

// initJoint initialises pooled joint j from def exactly as the library's
// constructor (B2JointCreate) initialises a new joint: every field zero
// except those it sets.
func initJoint(j box2d.B2JointInterface, def box2d.B2JointDefInterface) {
	var base *box2d.B2Joint
	switch j := j.(type) {
	case *box2d.B2WeldJoint:
		base = j.B2Joint
		d := def.(*box2d.B2WeldJointDef)
		*j = box2d.B2WeldJoint{
			B2Joint:          base,
			M_localAnchorA:   d.LocalAnchorA,
			M_localAnchorB:   d.LocalAnchorB,
			M_referenceAngle: d.ReferenceAngle,
			M_frequencyHz:    d.FrequencyHz,
			M_dampingRatio:   d.DampingRatio,
		}
	case *box2d.B2DistanceJoint:
		base = j.B2Joint
		d := def.(*box2d.B2DistanceJointDef)
		*j = box2d.B2DistanceJoint{
			B2Joint:        base,
			M_localAnchorA: d.LocalAnchorA,
			M_localAnchorB: d.LocalAnchorB,
			M_length:       d.Length,
			M_frequencyHz:  d.FrequencyHz,
			M_dampingRatio: d.DampingRatio,
		}
	case *box2d.B2RevoluteJoint:
		base = j.B2Joint
		d := def.(*box2d.B2RevoluteJointDef)
		*j = box2d.B2RevoluteJoint{
			B2Joint:          base,
			M_localAnchorA:   d.LocalAnchorA,
			M_localAnchorB:   d.LocalAnchorB,
			M_referenceAngle: d.ReferenceAngle,
			M_lowerAngle:     d.LowerAngle,
			M_upperAngle:     d.UpperAngle,
			M_maxMotorTorque: d.MaxMotorTorque,
			M_motorSpeed:     d.MotorSpeed,
			M_enableLimit:    d.EnableLimit,
			M_enableMotor:    d.EnableMotor,
			M_limitState:     box2d.B2LimitState.E_inactiveLimit,
		}
	case *box2d.B2PrismaticJoint:
		base = j.B2Joint
		d := def.(*box2d.B2PrismaticJointDef)
		*j = box2d.B2PrismaticJoint{
			B2Joint:            base,
			M_localAnchorA:     d.LocalAnchorA,
			M_localAnchorB:     d.LocalAnchorB,
			M_localXAxisA:      d.LocalAxisA,
			M_referenceAngle:   d.ReferenceAngle,
			M_lowerTranslation: d.LowerTranslation,
			M_upperTranslation: d.UpperTranslation,
			M_maxMotorForce:    d.MaxMotorForce,
			M_motorSpeed:       d.MotorSpeed,
			M_enableLimit:      d.EnableLimit,
			M_enableMotor:      d.EnableMotor,
			M_limitState:       box2d.B2LimitState.E_inactiveLimit,
		}
		j.M_localXAxisA.Normalize()
		j.M_localYAxisA = box2d.B2Vec2CrossScalarVector(1.0, j.M_localXAxisA)
	default:
		panic("b2step: joint type not pooled")
	}
	edgeA, edgeB := base.M_edgeA, base.M_edgeB
	*edgeA = box2d.B2JointEdge{}
	*edgeB = box2d.B2JointEdge{}
	*base = box2d.B2Joint{
		M_type:             def.GetType(),
		M_bodyA:            def.GetBodyA(),
		M_bodyB:            def.GetBodyB(),
		M_collideConnected: def.IsCollideConnected(),
		M_userData:         def.GetUserData(),
		M_edgeA:            edgeA,
		M_edgeB:            edgeB,
	}
}
