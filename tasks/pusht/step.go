package pusht

import (
	"math"

	"github.com/ByteArena/box2d"
)

// The step loop: Box2D's narrow phase and contact solver driven on
// preallocated arrays, in B2Island.Solve's order (see world).

// step advances the world by dt seconds with the agent moving at its
// current velocity. It does not allocate.
func (w *world) step(dt float64) {
	// Space damping 0: the block keeps no velocity from one step to the next.
	w.block.M_linearVelocity.SetZero()
	w.block.M_angularVelocity = 0

	w.collide()

	ts := box2d.MakeB2TimeStep()
	ts.Dt, ts.Inv_dt = dt, 1/dt
	ts.DtRatio = w.invDt0 * dt
	ts.VelocityIterations, ts.PositionIterations = velocityIterations, positionIterations
	ts.WarmStarting = true
	w.invDt0 = ts.Inv_dt

	// Body state. Gravity, forces and damping are all zero, so Box2D's
	// velocity integration leaves velocities as they are.
	for i, b := range w.bodies {
		b.M_sweep.C0, b.M_sweep.A0 = b.M_sweep.C, b.M_sweep.A
		w.positions[i] = box2d.B2Position{C: b.M_sweep.C, A: b.M_sweep.A}
		w.velocities[i] = box2d.B2Velocity{V: b.M_linearVelocity, W: b.M_angularVelocity}
	}

	n := 0
	for _, c := range w.contacts {
		if c.GetManifold().PointCount > 0 && c.IsEnabled() {
			w.touching[n] = c
			w.initConstraint(n, c, &ts)
			n++
		}
	}
	solver := box2d.B2ContactSolver{
		M_step:                ts,
		M_positions:           w.positions[:],
		M_velocities:          w.velocities[:],
		M_positionConstraints: w.pcs[:n],
		M_velocityConstraints: w.vcs[:n],
		M_contacts:            w.touching[:n],
		M_count:               n,
	}
	if n > 0 {
		solver.InitializeVelocityConstraints()
		solver.WarmStart()
		for range velocityIterations {
			solver.SolveVelocityConstraints()
		}
		solver.StoreImpulses()
	}

	// Integrate positions with Box2D's per-step motion limits.
	for i := range moving {
		p, v := &w.positions[i], &w.velocities[i]
		tr := box2d.B2Vec2MulScalar(dt, v.V)
		if l2 := box2d.B2Vec2Dot(tr, tr); l2 > box2d.B2_maxTranslationSquared {
			v.V.OperatorScalarMulInplace(box2d.B2_maxTranslation / math.Sqrt(l2))
		}
		if r := dt * v.W; r*r > box2d.B2_maxRotationSquared {
			v.W *= box2d.B2_maxRotation / math.Abs(r)
		}
		p.C.X += dt * v.V.X
		p.C.Y += dt * v.V.Y
		p.A += dt * v.W
	}

	if n > 0 {
		for range positionIterations {
			if solver.SolvePositionConstraints() {
				break
			}
		}
	}

	for i := range moving {
		b := w.bodies[i]
		b.M_sweep.C, b.M_sweep.A = w.positions[i].C, w.positions[i].A
		b.M_linearVelocity, b.M_angularVelocity = w.velocities[i].V, w.velocities[i].W
		b.SynchronizeTransform()
	}
}

// margin pads the bounding-circle tests of collide, in pixels.
const margin = 4.0

// collide updates every contact's manifold with Box2D's narrow phase, or
// empties it when a bounding-circle test shows the shapes are apart (the
// T's rectangles against the agent's circle and the walls' faces).
func (w *world) collide() {
	bp := w.blockPose()
	s, c := math.Sincos(bp.angle)
	a := w.agentPos()
	lo, hi := wallLo+wallRadius, wallHi-wallRadius
	var near [2][5]bool // [rect][wall 0..3, agent 4]
	for k, rb := range rectBounds {
		p := rb.c.rotate(c, s).add(bp.p)
		reach := rb.r + margin
		near[k] = [5]bool{
			p.x-lo < reach, hi-p.x < reach, p.y-lo < reach, hi-p.y < reach,
			a.sub(p).norm() < reach+agentRadius,
		}
	}
	for i, ct := range w.contacts {
		pr := w.pairs[i]
		other := pr.wall
		if other < 0 {
			other = 4
		}
		if !near[pr.rect][other] {
			ct.GetManifold().PointCount = 0
			ct.SetFlags(ct.GetFlags() &^ box2d.B2Contact_Flag.E_touchingFlag)
			continue
		}
		box2d.B2ContactUpdate(ct, nil)
	}
}

// initConstraint fills the position-independent part of the solver's
// constraint k from contact c, as Box2D's MakeB2ContactSolver does, but into
// preallocated arrays.
func (w *world) initConstraint(k int, c box2d.B2ContactInterface, ts *box2d.B2TimeStep) {
	fa, fb := c.GetFixtureA(), c.GetFixtureB()
	ba, bb := fa.GetBody(), fb.GetBody()
	m := c.GetManifold()

	vc := &w.vcs[k]
	*vc = box2d.B2ContactVelocityConstraint{
		Friction:     c.GetFriction(),
		Restitution:  c.GetRestitution(),
		TangentSpeed: c.GetTangentSpeed(),
		IndexA:       ba.M_islandIndex,
		IndexB:       bb.M_islandIndex,
		InvMassA:     ba.M_invMass,
		InvMassB:     bb.M_invMass,
		InvIA:        ba.M_invI,
		InvIB:        bb.M_invI,
		ContactIndex: k,
		PointCount:   m.PointCount,
	}
	pc := &w.pcs[k]
	*pc = box2d.B2ContactPositionConstraint{
		IndexA:       ba.M_islandIndex,
		IndexB:       bb.M_islandIndex,
		InvMassA:     ba.M_invMass,
		InvMassB:     bb.M_invMass,
		LocalCenterA: ba.M_sweep.LocalCenter,
		LocalCenterB: bb.M_sweep.LocalCenter,
		InvIA:        ba.M_invI,
		InvIB:        bb.M_invI,
		LocalNormal:  m.LocalNormal,
		LocalPoint:   m.LocalPoint,
		PointCount:   m.PointCount,
		RadiusA:      fa.GetShape().GetRadius(),
		RadiusB:      fb.GetShape().GetRadius(),
		Type:         m.Type,
	}
	for j := range m.PointCount {
		cp := &m.Points[j]
		if ts.WarmStarting {
			vc.Points[j].NormalImpulse = ts.DtRatio * cp.NormalImpulse
			vc.Points[j].TangentImpulse = ts.DtRatio * cp.TangentImpulse
		}
		pc.LocalPoints[j] = cp.LocalPoint
	}
}
