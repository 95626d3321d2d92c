package b2step

import (
	"github.com/ByteArena/box2d"
)

// update is B2ContactUpdate: the narrow phase of one contact, its touching
// flag, warm-starting impulses matched by feature id, and the listener's
// BeginContact, EndContact and PreSolve. Sensors use overlap, which runs
// the library's GJK on proxies that do not allocate.
func (s *Stepper) update(c box2d.B2ContactInterface, listener box2d.B2ContactListenerInterface) {
	base := baseOf(c)
	manifold := base.M_manifold
	oldManifold := *manifold

	// Re-enable this contact.
	base.M_flags |= box2d.B2Contact_Flag.E_enabledFlag

	touching := false
	wasTouching := base.M_flags&box2d.B2Contact_Flag.E_touchingFlag != 0

	fixtureA, fixtureB := base.M_fixtureA, base.M_fixtureB
	sensor := fixtureA.M_isSensor || fixtureB.M_isSensor

	bodyA, bodyB := fixtureA.M_body, fixtureB.M_body
	xfA, xfB := bodyA.M_xf, bodyB.M_xf

	if sensor {
		touching = s.overlap(fixtureA.M_shape, base.M_indexA, fixtureB.M_shape, base.M_indexB, xfA, xfB)
		// Sensors don't generate manifolds.
		manifold.PointCount = 0
	} else {
		evaluate(c, base, manifold, xfA, xfB)
		touching = manifold.PointCount > 0

		// Match old contact ids to new contact ids and copy the stored
		// impulses to warm start the solver.
		for i := 0; i < manifold.PointCount; i++ {
			mp2 := &manifold.Points[i]
			mp2.NormalImpulse = 0.0
			mp2.TangentImpulse = 0.0
			key := mp2.Id.Key()
			for j := 0; j < oldManifold.PointCount; j++ {
				mp1 := &oldManifold.Points[j]
				if mp1.Id.Key() == key {
					mp2.NormalImpulse = mp1.NormalImpulse
					mp2.TangentImpulse = mp1.TangentImpulse
					break
				}
			}
		}

		if touching != wasTouching {
			bodyA.SetAwake(true)
			bodyB.SetAwake(true)
		}
	}

	if touching {
		base.M_flags |= box2d.B2Contact_Flag.E_touchingFlag
	} else {
		base.M_flags &= ^box2d.B2Contact_Flag.E_touchingFlag
	}

	if listener == nil {
		return
	}
	if !wasTouching && touching {
		listener.BeginContact(c)
	}
	if wasTouching && !touching {
		listener.EndContact(c)
	}
	if !sensor && touching {
		listener.PreSolve(c, oldManifold)
	}
}

// overlap is B2TestOverlapShapes with the distance input kept in the
// Stepper and proxies that point into it instead of fresh slices.
func (s *Stepper) overlap(shapeA box2d.B2ShapeInterface, indexA int, shapeB box2d.B2ShapeInterface, indexB int, xfA, xfB box2d.B2Transform) bool {
	in := &s.distIn
	setProxy(&in.ProxyA, &s.distBuf[0], shapeA, indexA)
	setProxy(&in.ProxyB, &s.distBuf[1], shapeB, indexB)
	in.TransformA = xfA
	in.TransformB = xfB
	in.UseRadii = true

	s.distCache = box2d.MakeB2SimplexCache()
	s.distOut = box2d.MakeB2DistanceOutput()
	distance(&s.distOut, &s.distCache, in)
	return s.distOut.Distance < 10.0*box2d.B2_epsilon
}

// setProxy is B2DistanceProxy.Set with circle and edge vertices copied
// into buf rather than a new slice.
func setProxy(p *box2d.B2DistanceProxy, buf *[2]box2d.B2Vec2, shape box2d.B2ShapeInterface, index int) {
	switch sh := shape.(type) {
	case *box2d.B2CircleShape:
		buf[0] = sh.M_p
		p.M_vertices = buf[:1]
		p.M_count = 1
		p.M_radius = sh.M_radius
	case *box2d.B2PolygonShape:
		p.M_vertices = sh.M_vertices[:]
		p.M_count = sh.M_count
		p.M_radius = sh.M_radius
	case *box2d.B2ChainShape:
		p.M_buffer[0] = sh.M_vertices[index]
		if index+1 < sh.M_count {
			p.M_buffer[1] = sh.M_vertices[index+1]
		} else {
			p.M_buffer[1] = sh.M_vertices[0]
		}
		p.M_vertices = p.M_buffer[:]
		p.M_count = 2
		p.M_radius = sh.M_radius
	case *box2d.B2EdgeShape:
		buf[0], buf[1] = sh.M_vertex1, sh.M_vertex2
		p.M_vertices = buf[:]
		p.M_count = 2
		p.M_radius = sh.M_radius
	default:
		panic("b2step: unknown shape type")
	}
}

// evaluate is c.Evaluate: the narrow phase for the contact's shape types,
// calling the library's collision function directly with the shapes (the
// library's Evaluate methods reach them through value receivers that copy
// the contact and the fixture).
func evaluate(c box2d.B2ContactInterface, base *box2d.B2Contact, manifold *box2d.B2Manifold, xfA, xfB box2d.B2Transform) {
	shapeA, shapeB := base.M_fixtureA.M_shape, base.M_fixtureB.M_shape
	switch c.(type) {
	case *box2d.B2PolygonContact:
		box2d.B2CollidePolygons(manifold, shapeA.(*box2d.B2PolygonShape), xfA, shapeB.(*box2d.B2PolygonShape), xfB)
	case *box2d.B2PolygonAndCircleContact:
		box2d.B2CollidePolygonAndCircle(manifold, shapeA.(*box2d.B2PolygonShape), xfA, shapeB.(*box2d.B2CircleShape), xfB)
	case *box2d.B2CircleContact:
		box2d.B2CollideCircles(manifold, shapeA.(*box2d.B2CircleShape), xfA, shapeB.(*box2d.B2CircleShape), xfB)
	case *box2d.B2EdgeAndCircleContact:
		box2d.B2CollideEdgeAndCircle(manifold, shapeA.(*box2d.B2EdgeShape), xfA, shapeB.(*box2d.B2CircleShape), xfB)
	case *box2d.B2EdgeAndPolygonContact:
		box2d.B2CollideEdgeAndPolygon(manifold, shapeA.(*box2d.B2EdgeShape), xfA, shapeB.(*box2d.B2PolygonShape), xfB)
	default: // chains: the library builds the child edge
		c.Evaluate(manifold, xfA, xfB)
	}
}
