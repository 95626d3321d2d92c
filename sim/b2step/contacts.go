package b2step

import (
	"github.com/ByteArena/box2d"
)

// The library's contact factory fills its registry lazily, writing package
// globals without a lock; B2ContactDestroy reads it. Fill it while the
// program is single-threaded.
func init() {
	w := box2d.MakeB2World(box2d.MakeB2Vec2(0, 0))
	bd := box2d.MakeB2BodyDef()
	a, b := w.CreateBody(&bd), w.CreateBody(&bd)
	c1, c2 := box2d.MakeB2CircleShape(), box2d.MakeB2CircleShape()
	box2d.B2ContactFactory(a.CreateFixture(&c1, 1), 0, b.CreateFixture(&c2, 1), 0)
}

// Contact kinds: one per concrete contact type of the library.
const (
	kindNone = iota
	kindCircle
	kindPolygonCircle
	kindPolygon
	kindEdgeCircle
	kindEdgePolygon
	kindChainCircle
	kindChainPolygon
	numKinds
)

// register mirrors the library's contact registry (B2ContactInitializeRegisters):
// which contact type a pair of shape types makes, and whether the fixtures
// keep their order (primary) or are swapped.
type register struct {
	kind    int
	primary bool
}

var registers = func() (r [4][4]register) {
	t := box2d.B2Shape_Type
	add := func(kind int, a, b uint8) {
		r[a][b] = register{kind, true}
		if a != b {
			r[b][a] = register{kind, false}
		}
	}
	add(kindCircle, t.E_circle, t.E_circle)
	add(kindPolygonCircle, t.E_polygon, t.E_circle)
	add(kindPolygon, t.E_polygon, t.E_polygon)
	add(kindEdgeCircle, t.E_edge, t.E_circle)
	add(kindEdgePolygon, t.E_edge, t.E_polygon)
	add(kindChainCircle, t.E_chain, t.E_circle)
	add(kindChainPolygon, t.E_chain, t.E_polygon)
	return r
}()

// contactPool keeps ended contacts, by kind, for new pairs to reuse.
type contactPool struct {
	free [numKinds][]box2d.B2ContactInterface
}

// get returns a contact for the pair, initialised as the library's
// factory (B2ContactFactory and MakeB2Contact) initialises a new one, or
// nil when the library has no contact for these shape types.
func (p *contactPool) get(fixtureA *box2d.B2Fixture, indexA int, fixtureB *box2d.B2Fixture, indexB int) box2d.B2ContactInterface {
	reg := registers[fixtureA.M_shape.GetType()][fixtureB.M_shape.GetType()]
	if reg.kind == kindNone {
		return nil
	}
	if !reg.primary {
		fixtureA, indexA, fixtureB, indexB = fixtureB, indexB, fixtureA, indexA
	}
	// Only chain contacts keep the child indices.
	if reg.kind != kindChainCircle && reg.kind != kindChainPolygon {
		indexA, indexB = 0, 0
	}
	free := p.free[reg.kind]
	var c box2d.B2ContactInterface
	if n := len(free); n > 0 {
		c = free[n-1]
		p.free[reg.kind] = free[:n-1]
	} else {
		c = newContact(reg.kind)
	}
	base := baseOf(c)
	m, nodeA, nodeB := base.M_manifold, base.M_nodeA, base.M_nodeB
	*m = box2d.B2Manifold{}
	*nodeA = box2d.B2ContactEdge{}
	*nodeB = box2d.B2ContactEdge{}
	*base = box2d.B2Contact{
		M_flags:       box2d.B2Contact_Flag.E_enabledFlag,
		M_fixtureA:    fixtureA,
		M_fixtureB:    fixtureB,
		M_indexA:      indexA,
		M_indexB:      indexB,
		M_manifold:    m,
		M_nodeA:       nodeA,
		M_nodeB:       nodeB,
		M_friction:    box2d.B2MixFriction(fixtureA.M_friction, fixtureB.M_friction),
		M_restitution: box2d.B2MixRestitution(fixtureA.M_restitution, fixtureB.M_restitution),
	}
	return c
}

// put returns a contact that is no longer in any world's lists.
func (p *contactPool) put(c box2d.B2ContactInterface) {
	k := kindOf(c)
	if k == kindNone {
		return
	}
	p.free[k] = append(p.free[k], c)
}

// reserve fills the pool so that every pair of fixtures of w that could
// touch can have its contact at once without allocating, counting the
// contacts w already holds, and returns that number of pairs. Pairs on one
// body, pairs with no dynamic body and pairs of shape types the library
// has no contact for are left out; joints and filters are ignored (they can
// only remove pairs).
func (p *contactPool) reserve(w *box2d.B2World) int {
	type fix struct {
		body  *box2d.B2Body
		typ   uint8
		child int
	}
	var fixes []fix
	for b := w.M_bodyList; b != nil; b = b.M_next {
		for f := b.M_fixtureList; f != nil; f = f.M_next {
			fixes = append(fixes, fix{b, f.M_shape.GetType(), f.M_shape.GetChildCount()})
		}
	}
	var need [numKinds]int
	total := 0
	for i, a := range fixes {
		for _, b := range fixes[i+1:] {
			if a.body == b.body {
				continue
			}
			if a.body.M_type != box2d.B2BodyType.B2_dynamicBody && b.body.M_type != box2d.B2BodyType.B2_dynamicBody {
				continue
			}
			k := registers[a.typ][b.typ].kind
			if k == kindNone {
				continue
			}
			n := a.child * b.child
			need[k] += n
			total += n
		}
	}
	var held [numKinds]int
	for c := w.M_contactManager.M_contactList; c != nil; c = c.GetNext() {
		held[kindOf(c)]++
	}
	for k := range need {
		for n := need[k] - held[k]; len(p.free[k]) < n; {
			p.free[k] = append(p.free[k], newContact(k))
		}
	}
	return total
}

// newContact allocates a contact of kind k with its manifold and graph edges.
func newContact(k int) box2d.B2ContactInterface {
	base := box2d.B2Contact{
		M_manifold: new(box2d.B2Manifold),
		M_nodeA:    new(box2d.B2ContactEdge),
		M_nodeB:    new(box2d.B2ContactEdge),
	}
	switch k {
	case kindCircle:
		return &box2d.B2CircleContact{B2Contact: base}
	case kindPolygonCircle:
		return &box2d.B2PolygonAndCircleContact{B2Contact: base}
	case kindPolygon:
		return &box2d.B2PolygonContact{B2Contact: base}
	case kindEdgeCircle:
		return &box2d.B2EdgeAndCircleContact{B2Contact: base}
	case kindEdgePolygon:
		return &box2d.B2EdgeAndPolygonContact{B2Contact: base}
	case kindChainCircle:
		return &box2d.B2ChainAndCircleContact{B2Contact: base}
	case kindChainPolygon:
		return &box2d.B2ChainAndPolygonContact{B2Contact: base}
	}
	panic("b2step: unknown contact kind")
}

// kindOf is the kind of a library contact, kindNone for anything else.
func kindOf(c box2d.B2ContactInterface) int {
	switch c.(type) {
	case *box2d.B2CircleContact:
		return kindCircle
	case *box2d.B2PolygonAndCircleContact:
		return kindPolygonCircle
	case *box2d.B2PolygonContact:
		return kindPolygon
	case *box2d.B2EdgeAndCircleContact:
		return kindEdgeCircle
	case *box2d.B2EdgeAndPolygonContact:
		return kindEdgePolygon
	case *box2d.B2ChainAndCircleContact:
		return kindChainCircle
	case *box2d.B2ChainAndPolygonContact:
		return kindChainPolygon
	}
	return kindNone
}

// baseOf is the B2Contact inside a library contact.
func baseOf(c box2d.B2ContactInterface) *box2d.B2Contact {
	switch c := c.(type) {
	case *box2d.B2PolygonContact:
		return &c.B2Contact
	case *box2d.B2PolygonAndCircleContact:
		return &c.B2Contact
	case *box2d.B2CircleContact:
		return &c.B2Contact
	case *box2d.B2EdgeAndCircleContact:
		return &c.B2Contact
	case *box2d.B2EdgeAndPolygonContact:
		return &c.B2Contact
	case *box2d.B2ChainAndCircleContact:
		return &c.B2Contact
	case *box2d.B2ChainAndPolygonContact:
		return &c.B2Contact
	}
	panic("b2step: not a Box2D contact")
}

// collide is B2ContactManager.Collide: update every awake contact's
// manifold with the narrow phase and destroy those whose fat AABBs no
// longer overlap (or that filtering now rejects).
func (s *Stepper) collide() {
	mgr := &s.w.M_contactManager
	nodes := mgr.M_broadPhase.M_tree.M_nodes
	c := mgr.M_contactList
	for c != nil {
		base := baseOf(c)
		fixtureA, fixtureB := base.M_fixtureA, base.M_fixtureB
		indexA, indexB := base.M_indexA, base.M_indexB
		bodyA, bodyB := fixtureA.M_body, fixtureB.M_body

		// Is this contact flagged for filtering?
		if base.M_flags&box2d.B2Contact_Flag.E_filterFlag != 0 {
			// Should these bodies collide?
			if !shouldCollide(bodyB, bodyA) {
				nuke := c
				c = nuke.GetNext()
				s.destroy(nuke)
				continue
			}
			// Check user filtering.
			if mgr.M_contactFilter != nil && !mgr.M_contactFilter.ShouldCollide(fixtureA, fixtureB) {
				nuke := c
				c = nuke.GetNext()
				s.destroy(nuke)
				continue
			}
			// Clear the filtering flag.
			base.M_flags &= ^box2d.B2Contact_Flag.E_filterFlag
		}

		activeA := bodyA.IsAwake() && bodyA.M_type != box2d.B2BodyType.B2_staticBody
		activeB := bodyB.IsAwake() && bodyB.M_type != box2d.B2BodyType.B2_staticBody

		// At least one body must be awake and it must be dynamic or kinematic.
		if !activeA && !activeB {
			c = base.M_next
			continue
		}

		idA := fixtureA.M_proxies[indexA].ProxyId
		idB := fixtureB.M_proxies[indexB].ProxyId

		// Destroy contacts that cease to overlap in the broad phase.
		if !box2d.B2TestOverlapBoundingBoxes(nodes[idA].Aabb, nodes[idB].Aabb) {
			nuke := c
			c = nuke.GetNext()
			s.destroy(nuke)
			continue
		}

		// The contact persists.
		s.update(c, mgr.M_contactListener)
		c = base.M_next
	}
}

// destroy is B2ContactManager.Destroy, with the contact kept for reuse.
func (s *Stepper) destroy(c box2d.B2ContactInterface) {
	s.w.M_contactManager.Destroy(c)
	s.pool.put(c)
}
