package b2step

import (
	"github.com/ByteArena/box2d"
)

// The contact solver's set-up and position iterations, copied with
// rotations from setRot (math.Sincos) and clamps on the builtin min and max
// instead of B2Rot.Set and math.Min/Max calls: B2ContactSolver's
// InitializeVelocityConstraints, SolvePositionConstraints and
// SolveTOIPositionConstraints, same operations in the same order.

// initializeVelocityConstraints is B2ContactSolver.InitializeVelocityConstraints.
func initializeVelocityConstraints(solver *box2d.B2ContactSolver) {
	for i := 0; i < solver.M_count; i++ {
		vc := &solver.M_velocityConstraints[i]
		pc := &solver.M_positionConstraints[i]

		radiusA := pc.RadiusA
		radiusB := pc.RadiusB
		manifold := solver.M_contacts[vc.ContactIndex].GetManifold()

		indexA := vc.IndexA
		indexB := vc.IndexB

		mA := vc.InvMassA
		mB := vc.InvMassB
		iA := vc.InvIA
		iB := vc.InvIB
		localCenterA := pc.LocalCenterA
		localCenterB := pc.LocalCenterB

		cA := solver.M_positions[indexA].C
		aA := solver.M_positions[indexA].A
		vA := solver.M_velocities[indexA].V
		wA := solver.M_velocities[indexA].W

		cB := solver.M_positions[indexB].C
		aB := solver.M_positions[indexB].A
		vB := solver.M_velocities[indexB].V
		wB := solver.M_velocities[indexB].W

		xfA := box2d.MakeB2Transform()
		xfB := box2d.MakeB2Transform()
		setRot(&xfA.Q, aA)
		setRot(&xfB.Q, aB)
		xfA.P = box2d.B2Vec2Sub(cA, box2d.B2RotVec2Mul(xfA.Q, localCenterA))
		xfB.P = box2d.B2Vec2Sub(cB, box2d.B2RotVec2Mul(xfB.Q, localCenterB))

		worldManifold := box2d.MakeB2WorldManifold()
		worldManifold.Initialize(manifold, xfA, radiusA, xfB, radiusB)

		vc.Normal = worldManifold.Normal

		pointCount := vc.PointCount
		for j := 0; j < pointCount; j++ {
			vcp := &vc.Points[j]

			vcp.RA = box2d.B2Vec2Sub(worldManifold.Points[j], cA)
			vcp.RB = box2d.B2Vec2Sub(worldManifold.Points[j], cB)

			rnA := box2d.B2Vec2Cross(vcp.RA, vc.Normal)
			rnB := box2d.B2Vec2Cross(vcp.RB, vc.Normal)

			kNormal := mA + mB + iA*rnA*rnA + iB*rnB*rnB

			if kNormal > 0.0 {
				vcp.NormalMass = 1.0 / kNormal
			} else {
				vcp.NormalMass = 0.0
			}

			tangent := box2d.B2Vec2CrossVectorScalar(vc.Normal, 1.0)

			rtA := box2d.B2Vec2Cross(vcp.RA, tangent)
			rtB := box2d.B2Vec2Cross(vcp.RB, tangent)

			kTangent := mA + mB + iA*rtA*rtA + iB*rtB*rtB

			if kTangent > 0.0 {
				vcp.TangentMass = 1.0 / kTangent
			} else {
				vcp.TangentMass = 0.0
			}

			// Setup a velocity bias for restitution.
			vcp.VelocityBias = 0.0
			vRel := box2d.B2Vec2Dot(
				vc.Normal,
				box2d.B2Vec2Sub(
					box2d.B2Vec2Sub(
						box2d.B2Vec2Add(
							vB,
							box2d.B2Vec2CrossScalarVector(wB, vcp.RB),
						),
						vA),
					box2d.B2Vec2CrossScalarVector(wA, vcp.RA),
				),
			)
			if vRel < -box2d.B2_velocityThreshold {
				vcp.VelocityBias = -vc.Restitution * vRel
			}
		}

		// If we have two points, then prepare the block solver.
		if vc.PointCount == 2 { // the library's g_blockSolve is always true
			vcp1 := &vc.Points[0]
			vcp2 := &vc.Points[1]

			rn1A := box2d.B2Vec2Cross(vcp1.RA, vc.Normal)
			rn1B := box2d.B2Vec2Cross(vcp1.RB, vc.Normal)
			rn2A := box2d.B2Vec2Cross(vcp2.RA, vc.Normal)
			rn2B := box2d.B2Vec2Cross(vcp2.RB, vc.Normal)

			k11 := mA + mB + iA*rn1A*rn1A + iB*rn1B*rn1B
			k22 := mA + mB + iA*rn2A*rn2A + iB*rn2B*rn2B
			k12 := mA + mB + iA*rn1A*rn2A + iB*rn1B*rn2B

			// Ensure a reasonable condition number.
			k_maxConditionNumber := 1000.0
			if k11*k11 < k_maxConditionNumber*(k11*k22-k12*k12) {
				// K is safe to invert.
				vc.K.Ex.Set(k11, k12)
				vc.K.Ey.Set(k12, k22)
				vc.NormalMass = vc.K.GetInverse()
			} else {
				// The constraints are redundant, just use one.
				// TODO_ERIN use deepest?
				vc.PointCount = 1
			}
		}
	}
}

// solvePositionConstraints is B2ContactSolver.SolvePositionConstraints.
func solvePositionConstraints(solver *box2d.B2ContactSolver) bool {

	minSeparation := 0.0

	for i := 0; i < solver.M_count; i++ {
		pc := &solver.M_positionConstraints[i]

		indexA := pc.IndexA
		indexB := pc.IndexB
		localCenterA := pc.LocalCenterA
		mA := pc.InvMassA
		iA := pc.InvIA
		localCenterB := pc.LocalCenterB
		mB := pc.InvMassB
		iB := pc.InvIB
		pointCount := pc.PointCount

		cA := solver.M_positions[indexA].C
		aA := solver.M_positions[indexA].A

		cB := solver.M_positions[indexB].C
		aB := solver.M_positions[indexB].A

		// Solve normal constraints
		for j := 0; j < pointCount; j++ {
			xfA := box2d.MakeB2Transform()
			xfB := box2d.MakeB2Transform()

			setRot(&xfA.Q, aA)
			setRot(&xfB.Q, aB)
			xfA.P = box2d.B2Vec2Sub(cA, box2d.B2RotVec2Mul(xfA.Q, localCenterA))
			xfB.P = box2d.B2Vec2Sub(cB, box2d.B2RotVec2Mul(xfB.Q, localCenterB))

			psm := box2d.MakeB2PositionSolverManifold()
			psm.Initialize(pc, xfA, xfB, j)
			normal := psm.Normal

			point := psm.Point
			separation := psm.Separation

			rA := box2d.B2Vec2Sub(point, cA)
			rB := box2d.B2Vec2Sub(point, cB)

			// Track max constraint error.
			minSeparation = min(minSeparation, separation)

			// Prevent large corrections and allow slop.
			C := max(-box2d.B2_maxLinearCorrection, min(box2d.B2_baumgarte*(separation+box2d.B2_linearSlop), 0.0))

			// Compute the effective mass.
			rnA := box2d.B2Vec2Cross(rA, normal)
			rnB := box2d.B2Vec2Cross(rB, normal)
			K := mA + mB + iA*rnA*rnA + iB*rnB*rnB

			// Compute normal impulse
			impulse := 0.0
			if K > 0.0 {
				impulse = -C / K
			}

			P := box2d.B2Vec2MulScalar(impulse, normal)

			cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
			aA -= iA * box2d.B2Vec2Cross(rA, P)

			cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
			aB += iB * box2d.B2Vec2Cross(rB, P)
		}

		solver.M_positions[indexA].C = cA
		solver.M_positions[indexA].A = aA

		solver.M_positions[indexB].C = cB
		solver.M_positions[indexB].A = aB
	}

	// We can't expect minSpeparation >= -b2_linearSlop because we don't
	// push the separation above -b2_linearSlop.
	return minSeparation >= -3.0*box2d.B2_linearSlop
}

// solveTOIPositionConstraints is B2ContactSolver.SolveTOIPositionConstraints.
func solveTOIPositionConstraints(solver *box2d.B2ContactSolver, toiIndexA int, toiIndexB int) bool {

	minSeparation := 0.0

	for i := 0; i < solver.M_count; i++ {
		pc := &solver.M_positionConstraints[i]

		indexA := pc.IndexA
		indexB := pc.IndexB
		localCenterA := pc.LocalCenterA
		localCenterB := pc.LocalCenterB
		pointCount := pc.PointCount

		mA := 0.0
		iA := 0.0
		if indexA == toiIndexA || indexA == toiIndexB {
			mA = pc.InvMassA
			iA = pc.InvIA
		}

		mB := 0.0
		iB := 0.0
		if indexB == toiIndexA || indexB == toiIndexB {
			mB = pc.InvMassB
			iB = pc.InvIB
		}

		cA := solver.M_positions[indexA].C
		aA := solver.M_positions[indexA].A

		cB := solver.M_positions[indexB].C
		aB := solver.M_positions[indexB].A

		// Solve normal constraints
		for j := 0; j < pointCount; j++ {
			xfA := box2d.MakeB2Transform()
			xfB := box2d.MakeB2Transform()

			setRot(&xfA.Q, aA)
			setRot(&xfB.Q, aB)
			xfB.P = box2d.B2Vec2Sub(cB, box2d.B2RotVec2Mul(xfB.Q, localCenterB))
			xfA.P = box2d.B2Vec2Sub(cA, box2d.B2RotVec2Mul(xfA.Q, localCenterA))

			psm := box2d.MakeB2PositionSolverManifold()
			psm.Initialize(pc, xfA, xfB, j)
			normal := psm.Normal

			point := psm.Point
			separation := psm.Separation

			rA := box2d.B2Vec2Sub(point, cA)
			rB := box2d.B2Vec2Sub(point, cB)

			// Track max constraint error.
			minSeparation = min(minSeparation, separation)

			// Prevent large corrections and allow slop.
			C := max(-box2d.B2_maxLinearCorrection, min(box2d.B2_toiBaugarte*(separation+box2d.B2_linearSlop), 0.0))

			// Compute the effective mass.
			rnA := box2d.B2Vec2Cross(rA, normal)
			rnB := box2d.B2Vec2Cross(rB, normal)
			K := mA + mB + iA*rnA*rnA + iB*rnB*rnB

			// Compute normal impulse
			impulse := 0.0
			if K > 0.0 {
				impulse = -C / K
			}

			P := box2d.B2Vec2MulScalar(impulse, normal)

			cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
			aA -= iA * box2d.B2Vec2Cross(rA, P)

			cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
			aB += iB * box2d.B2Vec2Cross(rB, P)
		}

		solver.M_positions[indexA].C = cA
		solver.M_positions[indexA].A = aA

		solver.M_positions[indexB].C = cB
		solver.M_positions[indexB].A = aB
	}

	// We can't expect minSpeparation >= -b2_linearSlop because we don't
	// push the separation above -b2_linearSlop.
	return minSeparation >= -1.5*box2d.B2_linearSlop
}
