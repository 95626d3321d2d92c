package b2step

import (
	"github.com/ByteArena/box2d"
)

// Stepper advances one Box2D world at a time without allocating. The zero
// value is ready for Bind.
type Stepper struct {
	// UseLibrary makes Step, CreateJoint and DestroyJoint call the
	// library's own B2World methods instead: the reference that tests and
	// benchmarks compare against.
	UseLibrary bool

	// Order, when set, reorders each island's contacts before they are
	// solved. The library solves simultaneous contacts in the order its
	// island search met them (newest contact first), and the order changes
	// the result in the last bits; a task whose trajectories were fixed
	// with another order (Push-T) supplies it here. With Order set, Step is
	// no longer B2World.Step bit for bit. Order must not allocate.
	Order func(contacts []box2d.B2ContactInterface)

	// Trace, when set, is called at the start of every Step, before
	// anything moves (after false), and at its end (after true), with the
	// bound world and Step's arguments. tandem bench records the inputs a
	// task applies between steps, and times the steps, through it.
	Trace func(w *box2d.B2World, dt float64, velocityIterations, positionIterations int, after bool)

	w *box2d.B2World

	// Island storage, sized for the whole world as the library's island is.
	bodies     []*box2d.B2Body
	contacts   []box2d.B2ContactInterface
	joints     []box2d.B2JointInterface
	positions  []box2d.B2Position
	velocities []box2d.B2Velocity
	stack      []*box2d.B2Body
	pcs        []box2d.B2ContactPositionConstraint
	vcs        []box2d.B2ContactVelocityConstraint
	impulse    box2d.B2ContactImpulse

	// Broad phase: the pair buffer and the tree query stack.
	pairs []box2d.B2Pair
	query []int

	pool  contactPool
	jpool jointPool

	// Continuous collision (toi.go).
	toi toiIsland

	// Sensor overlap tests (update.go).
	distIn    box2d.B2DistanceInput
	distBuf   [2][2]box2d.B2Vec2
	distCache box2d.B2SimplexCache
	distOut   box2d.B2DistanceOutput
}

// New returns a Stepper bound to w.
func New(w *box2d.B2World) *Stepper {
	s := &Stepper{}
	s.Bind(w)
	return s
}

// World is the bound world.
func (s *Stepper) World() *box2d.B2World { return s.w }

// Bind makes w the world that Step advances and sizes the Stepper's storage
// for it: island and constraint arrays, the broad phase's buffers, and a
// contact for every pair of fixtures that could touch. Call it after
// building the world (fixtures added later are stepped correctly but may
// make a step allocate).
//
// Binding a new world hands the previous world's contacts, and the joints
// made by CreateJoint in it, back to the pools: the previous world must not
// be stepped again. Bind allocates only when w needs more than any world
// bound before.
func (s *Stepper) Bind(w *box2d.B2World) {
	if s.w != nil && s.w != w && !s.UseLibrary {
		s.reclaim(s.w)
	}
	s.w = w
	if s.UseLibrary {
		return
	}
	bound := s.pool.reserve(w)
	bodies := w.M_bodyCount
	joints := w.M_jointCount + s.jpool.reserved
	contacts := max(bound, w.M_contactManager.M_contactCount)
	s.grow(bodies, contacts, joints)

	// The broad phase buffers every proxy that moves in a step; it grows
	// its buffer by appending, so give it room for every proxy twice (a
	// proxy teleported between steps and moved again by the step).
	bp := &w.M_contactManager.M_broadPhase
	if need := 2*bp.M_proxyCount + 16; bp.M_moveCapacity < need {
		buf := make([]int, need)
		copy(buf, bp.M_moveBuffer[:bp.M_moveCount])
		bp.M_moveBuffer, bp.M_moveCapacity = buf, need
	}
	if need := 2*bound + 16; cap(s.pairs) < need {
		s.pairs = make([]box2d.B2Pair, 0, need)
	}
	if need := bp.M_tree.M_nodeCapacity + 1; cap(s.query) < need {
		s.query = make([]int, 0, need)
	}
}

// grow sizes the island arrays for b bodies, c contacts and j joints.
func (s *Stepper) grow(b, c, j int) {
	if len(s.bodies) < b {
		s.bodies = make([]*box2d.B2Body, b)
		s.stack = make([]*box2d.B2Body, b)
		s.positions = make([]box2d.B2Position, b)
		s.velocities = make([]box2d.B2Velocity, b)
	}
	if len(s.contacts) < c {
		s.contacts = make([]box2d.B2ContactInterface, c)
		s.pcs = make([]box2d.B2ContactPositionConstraint, c)
		s.vcs = make([]box2d.B2ContactVelocityConstraint, c)
	}
	if len(s.joints) < j {
		s.joints = make([]box2d.B2JointInterface, j)
	}
}

// reclaim returns the contacts of a world being dropped, and the joints
// CreateJoint made in it, to the pools.
func (s *Stepper) reclaim(w *box2d.B2World) {
	for c := w.M_contactManager.M_contactList; c != nil; c = c.GetNext() {
		s.pool.put(c)
	}
	s.jpool.reclaim(w)
}

// Step advances the bound world by dt seconds with the given solver
// iterations, as B2World.Step does (see the package documentation).
func (s *Stepper) Step(dt float64, velocityIterations, positionIterations int) {
	if s.Trace == nil {
		s.step(dt, velocityIterations, positionIterations)
		return
	}
	s.Trace(s.w, dt, velocityIterations, positionIterations, false)
	s.step(dt, velocityIterations, positionIterations)
	s.Trace(s.w, dt, velocityIterations, positionIterations, true)
}

func (s *Stepper) step(dt float64, velocityIterations, positionIterations int) {
	w := s.w
	if s.UseLibrary {
		w.Step(dt, velocityIterations, positionIterations)
		return
	}

	// If new fixtures were added, we need to find the new contacts.
	if w.M_flags&box2d.B2World_Flags.E_newFixture != 0 {
		s.findNewContacts()
		w.M_flags &= ^box2d.B2World_Flags.E_newFixture
	}

	w.M_flags |= box2d.B2World_Flags.E_locked

	step := box2d.MakeB2TimeStep()
	step.Dt = dt
	step.VelocityIterations = velocityIterations
	step.PositionIterations = positionIterations
	if dt > 0.0 {
		step.Inv_dt = 1.0 / dt
	} else {
		step.Inv_dt = 0.0
	}
	step.DtRatio = w.M_inv_dt0 * dt
	step.WarmStarting = w.M_warmStarting

	// Update contacts. This is where some contacts are destroyed.
	s.collide()

	// Integrate velocities, solve velocity constraints, and integrate positions.
	if w.M_stepComplete && step.Dt > 0.0 {
		s.solve(step)
	}

	// Handle TOI events.
	if w.M_continuousPhysics && step.Dt > 0.0 {
		s.solveTOI(step)
	}

	if step.Dt > 0.0 {
		w.M_inv_dt0 = step.Inv_dt
	}

	if w.M_flags&box2d.B2World_Flags.E_clearForces != 0 {
		for b := w.M_bodyList; b != nil; b = b.M_next {
			b.M_force.SetZero()
			b.M_torque = 0.0
		}
	}

	w.M_flags &= ^box2d.B2World_Flags.E_locked
}
