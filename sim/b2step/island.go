package b2step

import (
	"math"

	"github.com/ByteArena/box2d"
)

// solve is B2World.Solve: find and solve every awake island, then move the
// broad-phase proxies of the bodies that moved and look for new pairs.
func (s *Stepper) solve(step box2d.B2TimeStep) {
	w := s.w
	s.grow(w.M_bodyCount, w.M_contactManager.M_contactCount, w.M_jointCount)

	// Clear all the island flags. (The library clears contacts' island
	// flag with the body flag's value; both are 0x0001.)
	for b := w.M_bodyList; b != nil; b = b.M_next {
		b.M_flags &= ^box2d.B2Body_Flags.E_islandFlag
	}
	for c := w.M_contactManager.M_contactList; c != nil; {
		base := baseOf(c)
		base.M_flags &= ^box2d.B2Body_Flags.E_islandFlag
		c = base.M_next
	}
	for j := w.M_jointList; j != nil; j = j.GetNext() {
		j.SetIslandFlag(false)
	}

	// Build and simulate all awake islands.
	stack := s.stack
	for seed := w.M_bodyList; seed != nil; seed = seed.M_next {
		if seed.M_flags&box2d.B2Body_Flags.E_islandFlag != 0 {
			continue
		}
		if !seed.IsAwake() || !seed.IsActive() {
			continue
		}
		// The seed can be dynamic or kinematic.
		if seed.M_type == box2d.B2BodyType.B2_staticBody {
			continue
		}

		nb, nc, nj := 0, 0, 0
		stackCount := 0
		stack[stackCount] = seed
		stackCount++
		seed.M_flags |= box2d.B2Body_Flags.E_islandFlag

		// Depth-first search on the constraint graph.
		for stackCount > 0 {
			stackCount--
			b := stack[stackCount]
			b.M_islandIndex = nb
			s.bodies[nb] = b
			nb++

			// Make sure the body is awake (without resetting sleep timer).
			b.M_flags |= box2d.B2Body_Flags.E_awakeFlag

			// Islands do not propagate across static bodies.
			if b.M_type == box2d.B2BodyType.B2_staticBody {
				continue
			}

			for ce := b.M_contactList; ce != nil; ce = ce.Next {
				contact := ce.Contact
				base := baseOf(contact)
				flags := base.M_flags
				if flags&box2d.B2Body_Flags.E_islandFlag != 0 {
					continue
				}
				// Solid and touching?
				const want = 0x0004 | 0x0002 // enabled | touching (B2Contact_Flag)
				if flags&want != want {
					continue
				}
				// Skip sensors.
				if base.M_fixtureA.M_isSensor || base.M_fixtureB.M_isSensor {
					continue
				}

				s.contacts[nc] = contact
				nc++
				base.M_flags = flags | box2d.B2Body_Flags.E_islandFlag

				other := ce.Other
				if other.M_flags&box2d.B2Body_Flags.E_islandFlag != 0 {
					continue
				}
				stack[stackCount] = other
				stackCount++
				other.M_flags |= box2d.B2Body_Flags.E_islandFlag
			}

			for je := b.M_jointList; je != nil; je = je.Next {
				if je.Joint.GetIslandFlag() {
					continue
				}
				other := je.Other
				// Don't simulate joints connected to inactive bodies.
				if !other.IsActive() {
					continue
				}
				s.joints[nj] = je.Joint
				nj++
				je.Joint.SetIslandFlag(true)

				if other.M_flags&box2d.B2Body_Flags.E_islandFlag != 0 {
					continue
				}
				stack[stackCount] = other
				stackCount++
				other.M_flags |= box2d.B2Body_Flags.E_islandFlag
			}
		}

		if s.Order != nil {
			s.Order(s.contacts[:nc])
		}
		s.solveIsland(step, w.M_gravity, w.M_allowSleep, nb, nc, nj)

		// Allow static bodies to participate in other islands.
		for i := 0; i < nb; i++ {
			if b := s.bodies[i]; b.M_type == box2d.B2BodyType.B2_staticBody {
				b.M_flags &= ^box2d.B2Body_Flags.E_islandFlag
			}
		}
	}

	// Synchronize fixtures, check for out of range bodies.
	for b := w.M_bodyList; b != nil; b = b.M_next {
		// If a body was not in an island then it did not move.
		if b.M_flags&box2d.B2Body_Flags.E_islandFlag == 0 {
			continue
		}
		if b.M_type == box2d.B2BodyType.B2_staticBody {
			continue
		}
		s.synchronizeFixtures(b)
	}

	// Look for new contacts.
	s.findNewContacts()
}

// solveIsland is B2Island.Solve for the island in s.bodies[:nb],
// s.contacts[:nc] and s.joints[:nj].
func (s *Stepper) solveIsland(step box2d.B2TimeStep, gravity box2d.B2Vec2, allowSleep bool, nb, nc, nj int) {
	h := step.Dt

	// Integrate velocities and apply damping. Initialize the body state.
	for i := 0; i < nb; i++ {
		b := s.bodies[i]

		c := b.M_sweep.C
		a := b.M_sweep.A
		v := b.M_linearVelocity
		w := b.M_angularVelocity

		// Store positions for continuous collision.
		b.M_sweep.C0 = b.M_sweep.C
		b.M_sweep.A0 = b.M_sweep.A

		if b.M_type == box2d.B2BodyType.B2_dynamicBody {
			// Integrate velocities.
			v.OperatorPlusInplace(
				box2d.B2Vec2MulScalar(
					h,
					box2d.B2Vec2Add(
						box2d.B2Vec2MulScalar(b.M_gravityScale, gravity),
						box2d.B2Vec2MulScalar(b.M_invMass, b.M_force),
					),
				),
			)
			w += h * b.M_invI * b.M_torque

			// Apply damping (Padé approximation of exp(-c·dt)).
			v.OperatorScalarMulInplace(1.0 / (1.0 + h*b.M_linearDamping))
			w *= 1.0 / (1.0 + h*b.M_angularDamping)
		}

		s.positions[i].C = c
		s.positions[i].A = a
		s.velocities[i].V = v
		s.velocities[i].W = w
	}

	solverData := box2d.B2SolverData{Step: step, Positions: s.positions, Velocities: s.velocities}

	// Initialize velocity constraints.
	solver := box2d.B2ContactSolver{
		M_step:                step,
		M_count:               nc,
		M_positions:           s.positions,
		M_velocities:          s.velocities,
		M_positionConstraints: s.pcs[:nc],
		M_velocityConstraints: s.vcs[:nc],
		M_contacts:            s.contacts,
	}
	for i := 0; i < nc; i++ {
		initConstraint(&s.vcs[i], &s.pcs[i], i, s.contacts[i], &step)
	}
	initializeVelocityConstraints(&solver)

	if step.WarmStarting {
		solver.WarmStart()
	}

	for i := 0; i < nj; i++ {
		initJointVelocity(s.joints[i], &solverData)
	}

	// Solve velocity constraints.
	for i := 0; i < step.VelocityIterations; i++ {
		for j := 0; j < nj; j++ {
			solveJointVelocity(s.joints[j], &solverData)
		}
		solveVelocityConstraints(&solver)
	}

	// Store impulses for warm starting.
	solver.StoreImpulses()

	// Integrate positions.
	for i := 0; i < nb; i++ {
		c := s.positions[i].C
		a := s.positions[i].A
		v := s.velocities[i].V
		w := s.velocities[i].W

		// Check for large velocities.
		translation := box2d.B2Vec2MulScalar(h, v)
		if box2d.B2Vec2Dot(translation, translation) > box2d.B2_maxTranslationSquared {
			ratio := box2d.B2_maxTranslation / translation.Length()
			v.OperatorScalarMulInplace(ratio)
		}

		rotation := h * w
		if rotation*rotation > box2d.B2_maxRotationSquared {
			ratio := box2d.B2_maxRotation / math.Abs(rotation)
			w *= ratio
		}

		// Integrate.
		c.OperatorPlusInplace(box2d.B2Vec2MulScalar(h, v))
		a += h * w

		s.positions[i].C = c
		s.positions[i].A = a
		s.velocities[i].V = v
		s.velocities[i].W = w
	}

	// Solve position constraints.
	positionSolved := false
	for i := 0; i < step.PositionIterations; i++ {
		contactsOkay := solvePositionConstraints(&solver)

		jointsOkay := true
		for j := 0; j < nj; j++ {
			jointOkay := solveJointPosition(s.joints[j], &solverData)
			jointsOkay = jointsOkay && jointOkay
		}

		if contactsOkay && jointsOkay {
			// Exit early if the position errors are small.
			positionSolved = true
			break
		}
	}

	// Copy state buffers back to the bodies.
	for i := 0; i < nb; i++ {
		body := s.bodies[i]
		body.M_sweep.C = s.positions[i].C
		body.M_sweep.A = s.positions[i].A
		body.M_linearVelocity = s.velocities[i].V
		body.M_angularVelocity = s.velocities[i].W
		synchronizeTransform(body)
	}

	s.report(s.contacts[:nc], s.vcs[:nc])

	if allowSleep {
		minSleepTime := box2d.B2_maxFloat

		linTolSqr := box2d.B2_linearSleepTolerance * box2d.B2_linearSleepTolerance
		angTolSqr := box2d.B2_angularSleepTolerance * box2d.B2_angularSleepTolerance

		for i := 0; i < nb; i++ {
			b := s.bodies[i]
			if b.M_type == box2d.B2BodyType.B2_staticBody {
				continue
			}

			if (b.M_flags&box2d.B2Body_Flags.E_autoSleepFlag) == 0 || b.M_angularVelocity*b.M_angularVelocity > angTolSqr || box2d.B2Vec2Dot(b.M_linearVelocity, b.M_linearVelocity) > linTolSqr {
				b.M_sleepTime = 0.0
				minSleepTime = 0.0
			} else {
				b.M_sleepTime += h
				minSleepTime = math.Min(minSleepTime, b.M_sleepTime)
			}
		}

		if minSleepTime >= box2d.B2_timeToSleep && positionSolved {
			for i := 0; i < nb; i++ {
				s.bodies[i].SetAwake(false)
			}
		}
	}
}

// initConstraint fills vc and pc, the position-independent part of contact
// constraint i, as MakeB2ContactSolver does for a freshly made solver.
func initConstraint(vc *box2d.B2ContactVelocityConstraint, pc *box2d.B2ContactPositionConstraint, i int, contact box2d.B2ContactInterface, step *box2d.B2TimeStep) {
	base := baseOf(contact)
	fixtureA := base.M_fixtureA
	fixtureB := base.M_fixtureB
	bodyA := fixtureA.M_body
	bodyB := fixtureB.M_body
	manifold := base.M_manifold
	pointCount := manifold.PointCount

	*vc = box2d.B2ContactVelocityConstraint{
		Friction:     base.M_friction,
		Restitution:  base.M_restitution,
		TangentSpeed: base.M_tangentSpeed,
		IndexA:       bodyA.M_islandIndex,
		IndexB:       bodyB.M_islandIndex,
		InvMassA:     bodyA.M_invMass,
		InvMassB:     bodyB.M_invMass,
		InvIA:        bodyA.M_invI,
		InvIB:        bodyB.M_invI,
		ContactIndex: i,
		PointCount:   pointCount,
	}

	*pc = box2d.B2ContactPositionConstraint{
		IndexA:       bodyA.M_islandIndex,
		IndexB:       bodyB.M_islandIndex,
		InvMassA:     bodyA.M_invMass,
		InvMassB:     bodyB.M_invMass,
		LocalCenterA: bodyA.M_sweep.LocalCenter,
		LocalCenterB: bodyB.M_sweep.LocalCenter,
		InvIA:        bodyA.M_invI,
		InvIB:        bodyB.M_invI,
		LocalNormal:  manifold.LocalNormal,
		LocalPoint:   manifold.LocalPoint,
		PointCount:   pointCount,
		RadiusA:      fixtureA.M_shape.GetRadius(),
		RadiusB:      fixtureB.M_shape.GetRadius(),
		Type:         manifold.Type,
	}

	for j := 0; j < pointCount; j++ {
		cp := &manifold.Points[j]
		if step.WarmStarting {
			vc.Points[j].NormalImpulse = step.DtRatio * cp.NormalImpulse
			vc.Points[j].TangentImpulse = step.DtRatio * cp.TangentImpulse
		}
		pc.LocalPoints[j] = cp.LocalPoint
	}
}

// report is B2Island.Report: PostSolve for every contact of the island,
// with one impulse record reused for all of them.
func (s *Stepper) report(contacts []box2d.B2ContactInterface, vcs []box2d.B2ContactVelocityConstraint) {
	listener := s.w.M_contactManager.M_contactListener
	if listener == nil {
		return
	}
	for i := range contacts {
		vc := &vcs[i]
		imp := &s.impulse
		*imp = box2d.MakeB2ContactImpulse()
		imp.Count = vc.PointCount
		for j := 0; j < vc.PointCount; j++ {
			imp.NormalImpulses[j] = vc.Points[j].NormalImpulse
			imp.TangentImpulses[j] = vc.Points[j].TangentImpulse
		}
		listener.PostSolve(contacts[i], imp)
	}
}
