package b2step

import (
	"math"

	"github.com/ByteArena/box2d"
)

// toiIsland is the storage of continuous collision's small islands, with
// the library's capacities (B2World.SolveTOI: 2·B2_maxTOIContacts bodies,
// B2_maxTOIContacts contacts).
type toiIsland struct {
	bodies     [2 * box2d.B2_maxTOIContacts]*box2d.B2Body
	positions  [2 * box2d.B2_maxTOIContacts]box2d.B2Position
	velocities [2 * box2d.B2_maxTOIContacts]box2d.B2Velocity
	contacts   [box2d.B2_maxTOIContacts]box2d.B2ContactInterface
	pcs        [box2d.B2_maxTOIContacts]box2d.B2ContactPositionConstraint
	vcs        [box2d.B2_maxTOIContacts]box2d.B2ContactVelocityConstraint
	nb, nc     int

	in   box2d.B2TOIInput
	out  box2d.B2TOIOutput
	dist box2d.B2DistanceInput
	buf  [2][2]box2d.B2Vec2 // circle and edge vertices of the proxies
}

func (is *toiIsland) addBody(b *box2d.B2Body) {
	b.M_islandIndex = is.nb
	is.bodies[is.nb] = b
	is.nb++
}

// solveTOI is B2World.SolveTOI: find the earliest time of impact among the
// contacts of fast (non-dynamic or bullet) pairs, move the pair back to it,
// solve a sub-step island there, and repeat.
func (s *Stepper) solveTOI(step box2d.B2TimeStep) {
	w := s.w
	mgr := &w.M_contactManager
	is := &s.toi

	if w.M_stepComplete {
		for b := w.M_bodyList; b != nil; b = b.M_next {
			b.M_flags &= ^box2d.B2Body_Flags.E_islandFlag
			b.M_sweep.Alpha0 = 0.0
		}
		for c := mgr.M_contactList; c != nil; c = c.GetNext() {
			// Invalidate TOI.
			base := baseOf(c)
			base.M_flags &= ^(box2d.B2Contact_Flag.E_toiFlag | box2d.B2Contact_Flag.E_islandFlag)
			base.M_toiCount = 0
			base.M_toi = 1.0
		}
	}

	// Find TOI events and solve them.
	for {
		// Find the first TOI.
		var minContact box2d.B2ContactInterface
		minAlpha := 1.0

		for c := mgr.M_contactList; c != nil; c = c.GetNext() {
			base := baseOf(c)

			// Is this contact disabled?
			if base.M_flags&box2d.B2Contact_Flag.E_enabledFlag == 0 {
				continue
			}
			// Prevent excessive sub-stepping.
			if base.M_toiCount > box2d.B2_maxSubSteps {
				continue
			}

			alpha := 1.0
			if base.M_flags&box2d.B2Contact_Flag.E_toiFlag != 0 {
				// This contact has a valid cached TOI.
				alpha = base.M_toi
			} else {
				fA, fB := base.M_fixtureA, base.M_fixtureB

				// Is there a sensor?
				if fA.M_isSensor || fB.M_isSensor {
					continue
				}

				bA, bB := fA.M_body, fB.M_body
				typeA, typeB := bA.M_type, bB.M_type

				activeA := bA.IsAwake() && typeA != box2d.B2BodyType.B2_staticBody
				activeB := bB.IsAwake() && typeB != box2d.B2BodyType.B2_staticBody

				// Is at least one body active (awake and dynamic or kinematic)?
				if !activeA && !activeB {
					continue
				}

				collideA := bA.M_flags&box2d.B2Body_Flags.E_bulletFlag != 0 || typeA != box2d.B2BodyType.B2_dynamicBody
				collideB := bB.M_flags&box2d.B2Body_Flags.E_bulletFlag != 0 || typeB != box2d.B2BodyType.B2_dynamicBody

				// Are these two non-bullet dynamic bodies?
				if !collideA && !collideB {
					continue
				}

				// Put the sweeps onto the same time interval.
				alpha0 := bA.M_sweep.Alpha0
				if bA.M_sweep.Alpha0 < bB.M_sweep.Alpha0 {
					alpha0 = bB.M_sweep.Alpha0
					bA.M_sweep.Advance(alpha0)
				} else if bB.M_sweep.Alpha0 < bA.M_sweep.Alpha0 {
					alpha0 = bA.M_sweep.Alpha0
					bB.M_sweep.Advance(alpha0)
				}

				// Compute the time of impact in interval [0, minTOI].
				in := &is.in
				*in = box2d.MakeB2TOIInput()
				setProxy(&in.ProxyA, &is.buf[0], fA.M_shape, base.M_indexA)
				setProxy(&in.ProxyB, &is.buf[1], fB.M_shape, base.M_indexB)
				in.SweepA = bA.M_sweep
				in.SweepB = bB.M_sweep
				in.TMax = 1.0

				is.out = box2d.MakeB2TOIOutput()
				timeOfImpact(&is.out, in, &is.dist)

				// Beta is the fraction of the remaining portion of the step.
				beta := is.out.T
				if is.out.State == box2d.B2TOIOutput_State.E_touching {
					alpha = math.Min(alpha0+(1.0-alpha0)*beta, 1.0)
				} else {
					alpha = 1.0
				}

				base.M_toi = alpha
				base.M_flags |= box2d.B2Contact_Flag.E_toiFlag
			}

			if alpha < minAlpha {
				// This is the minimum TOI found so far.
				minContact = c
				minAlpha = alpha
			}
		}

		if minContact == nil || 1.0-10.0*box2d.B2_epsilon < minAlpha {
			// No more TOI events. Done!
			w.M_stepComplete = true
			break
		}

		// Advance the bodies to the TOI.
		min := baseOf(minContact)
		bA, bB := min.M_fixtureA.M_body, min.M_fixtureB.M_body

		backup1 := bA.M_sweep
		backup2 := bB.M_sweep

		advance(bA, minAlpha)
		advance(bB, minAlpha)

		// The TOI contact likely has some new contact points.
		s.update(minContact, mgr.M_contactListener)
		min.M_flags &= ^box2d.B2Contact_Flag.E_toiFlag
		min.M_toiCount++

		// Is the contact solid?
		if min.M_flags&box2d.B2Contact_Flag.E_enabledFlag == 0 || min.M_flags&box2d.B2Contact_Flag.E_touchingFlag == 0 {
			// Restore the sweeps.
			min.M_flags &= ^box2d.B2Contact_Flag.E_enabledFlag
			bA.M_sweep = backup1
			bB.M_sweep = backup2
			synchronizeTransform(bA)
			synchronizeTransform(bB)
			continue
		}

		bA.SetAwake(true)
		bB.SetAwake(true)

		// Build the island.
		is.nb, is.nc = 0, 0
		is.addBody(bA)
		is.addBody(bB)
		is.contacts[is.nc] = minContact
		is.nc++

		bA.M_flags |= box2d.B2Body_Flags.E_islandFlag
		bB.M_flags |= box2d.B2Body_Flags.E_islandFlag
		min.M_flags |= box2d.B2Contact_Flag.E_islandFlag

		// Get contacts on bodyA and bodyB.
		for _, body := range [2]*box2d.B2Body{bA, bB} {
			if body.M_type != box2d.B2BodyType.B2_dynamicBody {
				continue
			}
			for ce := body.M_contactList; ce != nil; ce = ce.Next {
				if is.nb == len(is.bodies) || is.nc == len(is.contacts) {
					break
				}

				contact := ce.Contact
				cb := baseOf(contact)

				// Has this contact already been added to the island?
				if cb.M_flags&box2d.B2Contact_Flag.E_islandFlag != 0 {
					continue
				}

				// Only add static, kinematic, or bullet bodies.
				other := ce.Other
				if other.M_type == box2d.B2BodyType.B2_dynamicBody &&
					body.M_flags&box2d.B2Body_Flags.E_bulletFlag == 0 &&
					other.M_flags&box2d.B2Body_Flags.E_bulletFlag == 0 {
					continue
				}

				// Skip sensors.
				if cb.M_fixtureA.M_isSensor || cb.M_fixtureB.M_isSensor {
					continue
				}

				// Tentatively advance the body to the TOI.
				backup := other.M_sweep
				if other.M_flags&box2d.B2Body_Flags.E_islandFlag == 0 {
					advance(other, minAlpha)
				}

				// Update the contact points.
				s.update(contact, mgr.M_contactListener)

				// Was the contact disabled by the user? Are there contact points?
				if cb.M_flags&box2d.B2Contact_Flag.E_enabledFlag == 0 || cb.M_flags&box2d.B2Contact_Flag.E_touchingFlag == 0 {
					other.M_sweep = backup
					synchronizeTransform(other)
					continue
				}

				// Add the contact to the island.
				cb.M_flags |= box2d.B2Contact_Flag.E_islandFlag
				is.contacts[is.nc] = contact
				is.nc++

				// Has the other body already been added to the island?
				if other.M_flags&box2d.B2Body_Flags.E_islandFlag != 0 {
					continue
				}

				// Add the other body to the island.
				other.M_flags |= box2d.B2Body_Flags.E_islandFlag
				if other.M_type != box2d.B2BodyType.B2_staticBody {
					other.SetAwake(true)
				}
				is.addBody(other)
			}
		}

		subStep := box2d.MakeB2TimeStep()
		subStep.Dt = (1.0 - minAlpha) * step.Dt
		subStep.Inv_dt = 1.0 / subStep.Dt
		subStep.DtRatio = 1.0
		subStep.PositionIterations = 20
		subStep.VelocityIterations = step.VelocityIterations
		subStep.WarmStarting = false
		s.solveTOIIsland(subStep, bA.M_islandIndex, bB.M_islandIndex)

		// Reset island flags and synchronize broad-phase proxies.
		for i := 0; i < is.nb; i++ {
			body := is.bodies[i]
			body.M_flags &= ^box2d.B2Body_Flags.E_islandFlag

			if body.M_type != box2d.B2BodyType.B2_dynamicBody {
				continue
			}

			s.synchronizeFixtures(body)

			// Invalidate all contact TOIs on this displaced body.
			for ce := body.M_contactList; ce != nil; ce = ce.Next {
				cb := baseOf(ce.Contact)
				cb.M_flags &= ^(box2d.B2Contact_Flag.E_toiFlag | box2d.B2Contact_Flag.E_islandFlag)
			}
		}

		// Commit fixture proxy movements to the broad phase so that new
		// contacts are created. Also, some contacts can be destroyed.
		s.findNewContacts()

		if w.M_subStepping {
			w.M_stepComplete = false
			break
		}
	}
}

// solveTOIIsland is B2Island.SolveTOI for the island in s.toi.
func (s *Stepper) solveTOIIsland(subStep box2d.B2TimeStep, toiIndexA, toiIndexB int) {
	is := &s.toi
	nb, nc := is.nb, is.nc

	// Initialize the body state.
	for i := 0; i < nb; i++ {
		b := is.bodies[i]
		is.positions[i].C = b.M_sweep.C
		is.positions[i].A = b.M_sweep.A
		is.velocities[i].V = b.M_linearVelocity
		is.velocities[i].W = b.M_angularVelocity
	}

	solver := box2d.B2ContactSolver{
		M_step:                subStep,
		M_count:               nc,
		M_positions:           is.positions[:],
		M_velocities:          is.velocities[:],
		M_positionConstraints: is.pcs[:nc],
		M_velocityConstraints: is.vcs[:nc],
		M_contacts:            is.contacts[:],
	}
	for i := 0; i < nc; i++ {
		initConstraint(&is.vcs[i], &is.pcs[i], i, is.contacts[i], &subStep)
	}

	// Solve position constraints.
	for i := 0; i < subStep.PositionIterations; i++ {
		if solveTOIPositionConstraints(&solver, toiIndexA, toiIndexB) {
			break
		}
	}

	// Leap of faith to new safe state.
	is.bodies[toiIndexA].M_sweep.C0 = is.positions[toiIndexA].C
	is.bodies[toiIndexA].M_sweep.A0 = is.positions[toiIndexA].A
	is.bodies[toiIndexB].M_sweep.C0 = is.positions[toiIndexB].C
	is.bodies[toiIndexB].M_sweep.A0 = is.positions[toiIndexB].A

	// No warm starting is needed for TOI events because warm starting
	// impulses were applied in the discrete solver.
	initializeVelocityConstraints(&solver)

	// Solve velocity constraints.
	for i := 0; i < subStep.VelocityIterations; i++ {
		solveVelocityConstraints(&solver)
	}

	// Don't store the TOI contact forces for warm starting because they
	// can be quite large.

	h := subStep.Dt

	// Integrate positions.
	for i := 0; i < nb; i++ {
		c := is.positions[i].C
		a := is.positions[i].A
		v := is.velocities[i].V
		w := is.velocities[i].W

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

		is.positions[i].C = c
		is.positions[i].A = a
		is.velocities[i].V = v
		is.velocities[i].W = w

		// Sync bodies.
		body := is.bodies[i]
		body.M_sweep.C = c
		body.M_sweep.A = a
		body.M_linearVelocity = v
		body.M_angularVelocity = w
		synchronizeTransform(body)
	}

	s.report(is.contacts[:nc], is.vcs[:nc])
}

// timeOfImpact is B2TimeOfImpact without its wall-clock timer and the
// package-level statistics it updates (unsynchronised globals, which
// parallel worlds would race on): conservative advancement of the two
// sweeps to the time they come within B2_linearSlop of touching.
func timeOfImpact(output *box2d.B2TOIOutput, input *box2d.B2TOIInput, distanceInput *box2d.B2DistanceInput) {
	output.State = box2d.B2TOIOutput_State.E_unknown
	output.T = input.TMax

	proxyA := &input.ProxyA
	proxyB := &input.ProxyB

	sweepA := input.SweepA
	sweepB := input.SweepB

	// Large rotations can make the root finder fail, so we normalize the
	// sweep angles.
	sweepA.Normalize()
	sweepB.Normalize()

	tMax := input.TMax

	totalRadius := proxyA.M_radius + proxyB.M_radius
	target := math.Max(box2d.B2_linearSlop, totalRadius-3.0*box2d.B2_linearSlop)
	tolerance := 0.25 * box2d.B2_linearSlop

	t1 := 0.0
	const maxIterations = 20
	iter := 0

	// Prepare input for distance query.
	cache := box2d.MakeB2SimplexCache()
	cache.Count = 0
	*distanceInput = box2d.B2DistanceInput{}
	distanceInput.ProxyA = input.ProxyA
	distanceInput.ProxyB = input.ProxyB
	distanceInput.UseRadii = false

	var rotA, rotB rotCache

	// The outer loop progressively attempts to compute new separating axes.
	// This loop terminates when an axis is repeated (no progress is made).
	for {
		xfA := box2d.MakeB2Transform()
		xfB := box2d.MakeB2Transform()
		sweepTransform(&sweepA, &xfA, t1, &rotA)
		sweepTransform(&sweepB, &xfB, t1, &rotB)

		// Get the distance between shapes. We can also use the results
		// to get a separating axis.
		distanceInput.TransformA = xfA
		distanceInput.TransformB = xfB
		distanceOutput := box2d.MakeB2DistanceOutput()
		distance(&distanceOutput, &cache, distanceInput)

		// If the shapes are overlapped, we give up on continuous collision.
		if distanceOutput.Distance <= 0.0 {
			output.State = box2d.B2TOIOutput_State.E_overlapped
			output.T = 0.0
			break
		}

		if distanceOutput.Distance < target+tolerance {
			output.State = box2d.B2TOIOutput_State.E_touching
			output.T = t1
			break
		}

		// Initialize the separating axis.
		fcn := separation{rotA: &rotA, rotB: &rotB}
		fcn.initialize(&cache, proxyA, sweepA, proxyB, sweepB, t1)

		// Compute the TOI on the separating axis. We do this by successively
		// resolving the deepest point. This loop is bounded by the number of vertices.
		done := false
		t2 := tMax
		pushBackIter := 0
		for {
			// Find the deepest point at t2. Store the witness point indices.
			var indexA, indexB int
			s2 := fcn.findMinSeparation(&indexA, &indexB, t2)

			// Is the final configuration separated?
			if s2 > target+tolerance {
				output.State = box2d.B2TOIOutput_State.E_separated
				output.T = tMax
				done = true
				break
			}

			// Has the separation reached tolerance?
			if s2 > target-tolerance {
				// Advance the sweeps.
				t1 = t2
				break
			}

			// Compute the initial separation of the witness points.
			s1 := fcn.evaluate(indexA, indexB, t1)

			// Check for initial overlap. This might happen if the root finder
			// runs out of iterations.
			if s1 < target-tolerance {
				output.State = box2d.B2TOIOutput_State.E_failed
				output.T = t1
				done = true
				break
			}

			// Check for touching.
			if s1 <= target+tolerance {
				// t1 should hold the TOI (could be 0.0).
				output.State = box2d.B2TOIOutput_State.E_touching
				output.T = t1
				done = true
				break
			}

			// Compute 1D root of: f(x) - target = 0.
			rootIterCount := 0
			a1 := t1
			a2 := t2
			for {
				// Use a mix of the secant rule and bisection.
				t := 0.0
				if rootIterCount&1 != 0 {
					// Secant rule to improve convergence.
					t = a1 + (target-s1)*(a2-a1)/(s2-s1)
				} else {
					// Bisection to guarantee progress.
					t = 0.5 * (a1 + a2)
				}
				rootIterCount++

				s := fcn.evaluate(indexA, indexB, t)

				if math.Abs(s-target) < tolerance {
					// t2 holds a tentative value for t1.
					t2 = t
					break
				}

				// Ensure we continue to bracket the root.
				if s > target {
					a1 = t
					s1 = s
				} else {
					a2 = t
					s2 = s
				}

				if rootIterCount == 50 {
					break
				}
			}

			pushBackIter++
			if pushBackIter == box2d.B2_maxPolygonVertices {
				break
			}
		}

		iter++
		if done {
			break
		}

		if iter == maxIterations {
			// Root finder got stuck. Semi-victory.
			output.State = box2d.B2TOIOutput_State.E_failed
			output.T = t1
			break
		}
	}
}
