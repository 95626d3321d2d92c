package b2step

import (
	"slices"

	"github.com/ByteArena/box2d"
)

// synchronizeFixtures is B2Body.SynchronizeFixtures: move b's broad-phase
// proxies to cover its sweep over the step.
func (s *Stepper) synchronizeFixtures(b *box2d.B2Body) {
	xf1 := box2d.MakeB2Transform()
	setRot(&xf1.Q, b.M_sweep.A0)
	xf1.P = box2d.B2Vec2Sub(b.M_sweep.C0, box2d.B2RotVec2Mul(xf1.Q, b.M_sweep.LocalCenter))

	bp := &s.w.M_contactManager.M_broadPhase
	for f := b.M_fixtureList; f != nil; f = f.M_next {
		for i := 0; i < f.M_proxyCount; i++ {
			proxy := &f.M_proxies[i]

			// An AABB that covers the swept shape (may miss some rotation effect).
			aabb1 := box2d.MakeB2AABB()
			aabb2 := box2d.MakeB2AABB()
			computeAABB(f.M_shape, &aabb1, xf1, proxy.ChildIndex)
			computeAABB(f.M_shape, &aabb2, b.M_xf, proxy.ChildIndex)
			proxy.Aabb = combine(aabb1, aabb2)

			displacement := box2d.B2Vec2Sub(b.M_xf.P, xf1.P)
			moveProxy(bp, proxy.ProxyId, proxy.Aabb, displacement)
		}
	}
}

// findNewContacts is B2ContactManager.FindNewContacts (B2BroadPhase.UpdatePairs
// and AddPair): query the tree with every moved proxy's fat AABB, sort the
// pairs, and create a contact for each new one.
func (s *Stepper) findNewContacts() {
	bp := &s.w.M_contactManager.M_broadPhase
	tree := &bp.M_tree
	pairs := s.pairs[:0]

	for i := 0; i < bp.M_moveCount; i++ {
		q := bp.M_moveBuffer[i]
		if q == box2d.E_nullProxy {
			continue
		}
		// Query with the fat AABB so that we don't miss a pair that may
		// touch later. The order of visits does not matter: the pairs are
		// sorted below.
		fat := tree.M_nodes[q].Aabb
		stack := append(s.query[:0], tree.M_root)
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if id == box2d.B2_nullNode {
				continue
			}
			node := &tree.M_nodes[id]
			if !box2d.B2TestOverlapBoundingBoxes(node.Aabb, fat) {
				continue
			}
			if node.Child1 != box2d.B2_nullNode {
				stack = append(stack, node.Child1, node.Child2)
				continue
			}
			// A proxy cannot form a pair with itself.
			if id == q {
				continue
			}
			pairs = append(pairs, box2d.B2Pair{ProxyIdA: min(id, q), ProxyIdB: max(id, q)})
		}
		s.query = stack
	}
	bp.M_moveCount = 0

	// Sort the pair buffer to expose duplicates: pairs are distinct or
	// equal, so any sort gives the library's sequence.
	slices.SortFunc(pairs, comparePairs)

	for i := 0; i < len(pairs); {
		p := pairs[i]
		a := tree.M_nodes[p.ProxyIdA].UserData.(*box2d.B2FixtureProxy)
		b := tree.M_nodes[p.ProxyIdB].UserData.(*box2d.B2FixtureProxy)
		s.addPair(a, b)
		i++
		for i < len(pairs) && pairs[i] == p {
			i++
		}
	}
	s.pairs = pairs
}

func comparePairs(a, b box2d.B2Pair) int {
	switch {
	case a.ProxyIdA != b.ProxyIdA:
		return a.ProxyIdA - b.ProxyIdA
	default:
		return a.ProxyIdB - b.ProxyIdB
	}
}

// addPair is B2ContactManager.AddPair with the contact taken from the pool.
func (s *Stepper) addPair(proxyA, proxyB *box2d.B2FixtureProxy) {
	mgr := &s.w.M_contactManager
	fixtureA, fixtureB := proxyA.Fixture, proxyB.Fixture
	indexA, indexB := proxyA.ChildIndex, proxyB.ChildIndex
	bodyA, bodyB := fixtureA.M_body, fixtureB.M_body

	// Are the fixtures on the same body?
	if bodyA == bodyB {
		return
	}

	// Does a contact already exist?
	for edge := bodyB.M_contactList; edge != nil; edge = edge.Next {
		if edge.Other != bodyA {
			continue
		}
		c := baseOf(edge.Contact)
		fA, fB := c.M_fixtureA, c.M_fixtureB
		iA, iB := c.M_indexA, c.M_indexB
		if fA == fixtureA && fB == fixtureB && iA == indexA && iB == indexB {
			return
		}
		if fA == fixtureB && fB == fixtureA && iA == indexB && iB == indexA {
			return
		}
	}

	// Does a joint override collision? Is at least one body dynamic?
	if !shouldCollide(bodyB, bodyA) {
		return
	}

	// Check user filtering.
	if mgr.M_contactFilter != nil && !mgr.M_contactFilter.ShouldCollide(fixtureA, fixtureB) {
		return
	}

	c := s.pool.get(fixtureA, indexA, fixtureB, indexB)
	if c == nil {
		return
	}

	// Contact creation may swap fixtures.
	fixtureA, fixtureB = c.GetFixtureA(), c.GetFixtureB()
	bodyA, bodyB = fixtureA.M_body, fixtureB.M_body

	// Insert into the world.
	c.SetPrev(nil)
	c.SetNext(mgr.M_contactList)
	if mgr.M_contactList != nil {
		mgr.M_contactList.SetPrev(c)
	}
	mgr.M_contactList = c

	// Connect to body A.
	nodeA := c.GetNodeA()
	nodeA.Contact = c
	nodeA.Other = bodyB
	nodeA.Prev = nil
	nodeA.Next = bodyA.M_contactList
	if bodyA.M_contactList != nil {
		bodyA.M_contactList.Prev = nodeA
	}
	bodyA.M_contactList = nodeA

	// Connect to body B.
	nodeB := c.GetNodeB()
	nodeB.Contact = c
	nodeB.Other = bodyA
	nodeB.Prev = nil
	nodeB.Next = bodyB.M_contactList
	if bodyB.M_contactList != nil {
		bodyB.M_contactList.Prev = nodeB
	}
	bodyB.M_contactList = nodeB

	// Wake up the bodies.
	if !fixtureA.M_isSensor && !fixtureB.M_isSensor {
		bodyA.SetAwake(true)
		bodyB.SetAwake(true)
	}

	mgr.M_contactCount++
}

// shouldCollide is B2Body.ShouldCollide without copying the body.
func shouldCollide(b, other *box2d.B2Body) bool {
	// At least one body should be dynamic.
	if b.M_type != box2d.B2BodyType.B2_dynamicBody && other.M_type != box2d.B2BodyType.B2_dynamicBody {
		return false
	}
	// Does a joint prevent collision?
	for jn := b.M_jointList; jn != nil; jn = jn.Next {
		if jn.Other == other && !jn.Joint.IsCollideConnected() {
			return false
		}
	}
	return true
}
