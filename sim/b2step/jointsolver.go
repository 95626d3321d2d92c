package b2step

import (
	"math"

	"github.com/ByteArena/box2d"
)

// The solver functions of the joints tandem's tasks use (weld, distance,
// revolute, prismatic), copied from the library with rotations from
// setRot (math.Sincos) instead of separate math.Sin and math.Cos calls,
// clamps on the builtin min and max instead of math.Min and math.Max
// calls, and the solver data passed by pointer: the same operations in the
// same order. Other joint types run the library's own methods.

// initJointVelocity is j.InitVelocityConstraints(*data).
func initJointVelocity(j box2d.B2JointInterface, data *box2d.B2SolverData) {
	switch j := j.(type) {
	case *box2d.B2DistanceJoint:
		distanceInitVelocity(j, data)
	case *box2d.B2WeldJoint:
		weldInitVelocity(j, data)
	case *box2d.B2RevoluteJoint:
		revoluteInitVelocity(j, data)
	case *box2d.B2PrismaticJoint:
		prismaticInitVelocity(j, data)
	default:
		j.InitVelocityConstraints(*data)
	}
}

// solveJointVelocity is j.SolveVelocityConstraints(*data).
func solveJointVelocity(j box2d.B2JointInterface, data *box2d.B2SolverData) {
	switch j := j.(type) {
	case *box2d.B2DistanceJoint:
		distanceSolveVelocity(j, data)
	case *box2d.B2WeldJoint:
		weldSolveVelocity(j, data)
	case *box2d.B2RevoluteJoint:
		revoluteSolveVelocity(j, data)
	case *box2d.B2PrismaticJoint:
		prismaticSolveVelocity(j, data)
	default:
		j.SolveVelocityConstraints(*data)
	}
}

// solveJointPosition is j.SolvePositionConstraints(*data).
func solveJointPosition(j box2d.B2JointInterface, data *box2d.B2SolverData) bool {
	switch j := j.(type) {
	case *box2d.B2DistanceJoint:
		return distanceSolvePosition(j, data)
	case *box2d.B2WeldJoint:
		return weldSolvePosition(j, data)
	case *box2d.B2RevoluteJoint:
		return revoluteSolvePosition(j, data)
	case *box2d.B2PrismaticJoint:
		return prismaticSolvePosition(j, data)
	default:
		return j.SolvePositionConstraints(*data)
	}
}

// rotOf is MakeB2RotFromAngle.
func rotOf(angle float64) box2d.B2Rot {
	var q box2d.B2Rot
	setRot(&q, angle)
	return q
}

// weldInitVelocity is B2WeldJoint.InitVelocityConstraints.
func weldInitVelocity(joint *box2d.B2WeldJoint, data *box2d.B2SolverData) {
	joint.M_indexA = joint.M_bodyA.M_islandIndex
	joint.M_indexB = joint.M_bodyB.M_islandIndex
	joint.M_localCenterA = joint.M_bodyA.M_sweep.LocalCenter
	joint.M_localCenterB = joint.M_bodyB.M_sweep.LocalCenter
	joint.M_invMassA = joint.M_bodyA.M_invMass
	joint.M_invMassB = joint.M_bodyB.M_invMass
	joint.M_invIA = joint.M_bodyA.M_invI
	joint.M_invIB = joint.M_bodyB.M_invI

	aA := data.Positions[joint.M_indexA].A
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W

	aB := data.Positions[joint.M_indexB].A
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	qA := rotOf(aA)
	qB := rotOf(aB)

	joint.M_rA = box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	joint.M_rB = box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))

	// J = [-I -r1_skew I r2_skew]
	//     [ 0       -1 0       1]
	// r_skew = [-ry; rx]

	// Matlab
	// K = [ mA+r1y^2*iA+mB+r2y^2*iB,  -r1y*iA*r1x-r2y*iB*r2x,          -r1y*iA-r2y*iB]
	//     [  -r1y*iA*r1x-r2y*iB*r2x, mA+r1x^2*iA+mB+r2x^2*iB,           r1x*iA+r2x*iB]
	//     [          -r1y*iA-r2y*iB,           r1x*iA+r2x*iB,                   iA+iB]

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	var K box2d.B2Mat33
	K.Ex.X = mA + mB + joint.M_rA.Y*joint.M_rA.Y*iA + joint.M_rB.Y*joint.M_rB.Y*iB
	K.Ey.X = -joint.M_rA.Y*joint.M_rA.X*iA - joint.M_rB.Y*joint.M_rB.X*iB
	K.Ez.X = -joint.M_rA.Y*iA - joint.M_rB.Y*iB
	K.Ex.Y = K.Ey.X
	K.Ey.Y = mA + mB + joint.M_rA.X*joint.M_rA.X*iA + joint.M_rB.X*joint.M_rB.X*iB
	K.Ez.Y = joint.M_rA.X*iA + joint.M_rB.X*iB
	K.Ex.Z = K.Ez.X
	K.Ey.Z = K.Ez.Y
	K.Ez.Z = iA + iB

	if joint.M_frequencyHz > 0.0 {
		K.GetInverse22(&joint.M_mass)

		invM := iA + iB
		m := 0.0
		if invM > 0.0 {
			m = 1.0 / invM
		}

		C := aB - aA - joint.M_referenceAngle

		// Frequency
		omega := 2.0 * box2d.B2_pi * joint.M_frequencyHz

		// Damping coefficient
		d := 2.0 * m * joint.M_dampingRatio * omega

		// Spring stiffness
		k := m * omega * omega

		// magic formulas
		h := data.Step.Dt
		joint.M_gamma = h * (d + h*k)
		if joint.M_gamma != 0.0 {
			joint.M_gamma = 1.0 / joint.M_gamma
		} else {
			joint.M_gamma = 0.0
		}
		joint.M_bias = C * h * k * joint.M_gamma

		invM += joint.M_gamma
		if invM != 0.0 {
			joint.M_mass.Ez.Z = 1.0 / invM
		} else {
			joint.M_mass.Ez.Z = 0.0
		}
	} else if K.Ez.Z == 0.0 {
		K.GetInverse22(&joint.M_mass)
		joint.M_gamma = 0.0
		joint.M_bias = 0.0
	} else {
		K.GetSymInverse33(&joint.M_mass)
		joint.M_gamma = 0.0
		joint.M_bias = 0.0
	}

	if data.Step.WarmStarting {
		// Scale impulses to support a variable time step.
		joint.M_impulse.OperatorScalarMultInplace(data.Step.DtRatio)

		P := box2d.MakeB2Vec2(joint.M_impulse.X, joint.M_impulse.Y)

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * (box2d.B2Vec2Cross(joint.M_rA, P) + joint.M_impulse.Z)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * (box2d.B2Vec2Cross(joint.M_rB, P) + joint.M_impulse.Z)
	} else {
		joint.M_impulse.SetZero()
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// weldSolveVelocity is B2WeldJoint.SolveVelocityConstraints.
func weldSolveVelocity(joint *box2d.B2WeldJoint, data *box2d.B2SolverData) {
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	if joint.M_frequencyHz > 0.0 {
		Cdot2 := wB - wA

		impulse2 := -joint.M_mass.Ez.Z * (Cdot2 + joint.M_bias + joint.M_gamma*joint.M_impulse.Z)
		joint.M_impulse.Z += impulse2

		wA -= iA * impulse2
		wB += iB * impulse2

		Cdot1 := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(vB, box2d.B2Vec2CrossScalarVector(wB, joint.M_rB)), vA), box2d.B2Vec2CrossScalarVector(wA, joint.M_rA))

		impulse1 := box2d.B2Vec2Mul22(joint.M_mass, Cdot1).OperatorNegate()
		joint.M_impulse.X += impulse1.X
		joint.M_impulse.Y += impulse1.Y

		P := impulse1

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * box2d.B2Vec2Cross(joint.M_rA, P)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * box2d.B2Vec2Cross(joint.M_rB, P)
	} else {
		Cdot1 := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(vB, box2d.B2Vec2CrossScalarVector(wB, joint.M_rB)), vA), box2d.B2Vec2CrossScalarVector(wA, joint.M_rA))
		Cdot2 := wB - wA
		Cdot := box2d.MakeB2Vec3(Cdot1.X, Cdot1.Y, Cdot2)

		impulse := box2d.B2Vec3Mat33Mul(joint.M_mass, Cdot).OperatorNegate()
		joint.M_impulse.OperatorPlusInplace(impulse)

		P := box2d.MakeB2Vec2(impulse.X, impulse.Y)

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * (box2d.B2Vec2Cross(joint.M_rA, P) + impulse.Z)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * (box2d.B2Vec2Cross(joint.M_rB, P) + impulse.Z)
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// weldSolvePosition is B2WeldJoint.SolvePositionConstraints.
func weldSolvePosition(joint *box2d.B2WeldJoint, data *box2d.B2SolverData) bool {
	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A

	qA := rotOf(aA)
	qB := rotOf(aB)

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	rA := box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	rB := box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))

	positionError := 0.0
	angularError := 0.0

	var K box2d.B2Mat33
	K.Ex.X = mA + mB + rA.Y*rA.Y*iA + rB.Y*rB.Y*iB
	K.Ey.X = -rA.Y*rA.X*iA - rB.Y*rB.X*iB
	K.Ez.X = -rA.Y*iA - rB.Y*iB
	K.Ex.Y = K.Ey.X
	K.Ey.Y = mA + mB + rA.X*rA.X*iA + rB.X*rB.X*iB
	K.Ez.Y = rA.X*iA + rB.X*iB
	K.Ex.Z = K.Ez.X
	K.Ey.Z = K.Ez.Y
	K.Ez.Z = iA + iB

	if joint.M_frequencyHz > 0.0 {
		C1 := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, rB), cA), rA)

		positionError = C1.Length()
		angularError = 0.0

		P := K.Solve22(C1).OperatorNegate()

		cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		aA -= iA * box2d.B2Vec2Cross(rA, P)

		cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		aB += iB * box2d.B2Vec2Cross(rB, P)
	} else {
		C1 := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, rB), cA), rA)
		C2 := aB - aA - joint.M_referenceAngle

		positionError = C1.Length()
		angularError = math.Abs(C2)

		C := box2d.MakeB2Vec3(C1.X, C1.Y, C2)

		var impulse box2d.B2Vec3
		if K.Ez.Z > 0.0 {
			impulse = K.Solve33(C).OperatorNegate()
		} else {
			impulse2 := K.Solve22(C1).OperatorNegate()
			impulse.Set(impulse2.X, impulse2.Y, 0.0)
		}

		P := box2d.MakeB2Vec2(impulse.X, impulse.Y)

		cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		aA -= iA * (box2d.B2Vec2Cross(rA, P) + impulse.Z)

		cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		aB += iB * (box2d.B2Vec2Cross(rB, P) + impulse.Z)
	}

	data.Positions[joint.M_indexA].C = cA
	data.Positions[joint.M_indexA].A = aA
	data.Positions[joint.M_indexB].C = cB
	data.Positions[joint.M_indexB].A = aB

	return positionError <= box2d.B2_linearSlop && angularError <= box2d.B2_angularSlop
}

// distanceInitVelocity is B2DistanceJoint.InitVelocityConstraints.
func distanceInitVelocity(joint *box2d.B2DistanceJoint, data *box2d.B2SolverData) {
	joint.M_indexA = joint.M_bodyA.M_islandIndex
	joint.M_indexB = joint.M_bodyB.M_islandIndex
	joint.M_localCenterA = joint.M_bodyA.M_sweep.LocalCenter
	joint.M_localCenterB = joint.M_bodyB.M_sweep.LocalCenter
	joint.M_invMassA = joint.M_bodyA.M_invMass
	joint.M_invMassB = joint.M_bodyB.M_invMass
	joint.M_invIA = joint.M_bodyA.M_invI
	joint.M_invIB = joint.M_bodyB.M_invI

	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W

	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	qA := rotOf(aA)
	qB := rotOf(aB)

	joint.M_rA = box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	joint.M_rB = box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))
	joint.M_u = box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, joint.M_rB), cA), joint.M_rA)

	// Handle singularity.
	length := joint.M_u.Length()
	if length > box2d.B2_linearSlop {
		joint.M_u.OperatorScalarMulInplace(1.0 / length)
	} else {
		joint.M_u.Set(0.0, 0.0)
	}

	crAu := box2d.B2Vec2Cross(joint.M_rA, joint.M_u)
	crBu := box2d.B2Vec2Cross(joint.M_rB, joint.M_u)
	invMass := joint.M_invMassA + joint.M_invIA*crAu*crAu + joint.M_invMassB + joint.M_invIB*crBu*crBu

	// Compute the effective mass matrix.
	if invMass != 0.0 {
		joint.M_mass = 1.0 / invMass
	} else {
		joint.M_mass = 0
	}

	if joint.M_frequencyHz > 0.0 {
		C := length - joint.M_length

		// Frequency
		omega := 2.0 * box2d.B2_pi * joint.M_frequencyHz

		// Damping coefficient
		d := 2.0 * joint.M_mass * joint.M_dampingRatio * omega

		// Spring stiffness
		k := joint.M_mass * omega * omega

		// magic formulas
		h := data.Step.Dt
		joint.M_gamma = h * (d + h*k)
		if joint.M_gamma != 0.0 {
			joint.M_gamma = 1.0 / joint.M_gamma
		} else {
			joint.M_gamma = 0.0
		}
		joint.M_bias = C * h * k * joint.M_gamma

		invMass += joint.M_gamma
		if invMass != 0.0 {
			joint.M_mass = 1.0 / invMass
		} else {
			joint.M_mass = 0.0
		}
	} else {
		joint.M_gamma = 0.0
		joint.M_bias = 0.0
	}

	if data.Step.WarmStarting {
		// Scale the impulse to support a variable time step.
		joint.M_impulse *= data.Step.DtRatio

		P := box2d.B2Vec2MulScalar(joint.M_impulse, joint.M_u)
		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(joint.M_invMassA, P))
		wA -= joint.M_invIA * box2d.B2Vec2Cross(joint.M_rA, P)
		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(joint.M_invMassB, P))
		wB += joint.M_invIB * box2d.B2Vec2Cross(joint.M_rB, P)
	} else {
		joint.M_impulse = 0.0
	}

	// Note: mutation on value, not ref; but OK because Velocities is an array
	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// distanceSolveVelocity is B2DistanceJoint.SolveVelocityConstraints.
func distanceSolveVelocity(joint *box2d.B2DistanceJoint, data *box2d.B2SolverData) {
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	// Cdot = dot(u, v + cross(w, r))
	vpA := box2d.B2Vec2Add(vA, box2d.B2Vec2CrossScalarVector(wA, joint.M_rA))
	vpB := box2d.B2Vec2Add(vB, box2d.B2Vec2CrossScalarVector(wB, joint.M_rB))
	Cdot := box2d.B2Vec2Dot(joint.M_u, box2d.B2Vec2Sub(vpB, vpA))

	impulse := -joint.M_mass * (Cdot + joint.M_bias + joint.M_gamma*joint.M_impulse)
	joint.M_impulse += impulse

	P := box2d.B2Vec2MulScalar(impulse, joint.M_u)
	vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(joint.M_invMassA, P))
	wA -= joint.M_invIA * box2d.B2Vec2Cross(joint.M_rA, P)
	vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(joint.M_invMassB, P))
	wB += joint.M_invIB * box2d.B2Vec2Cross(joint.M_rB, P)

	// Note: mutation on value, not ref; but OK because Velocities is an array
	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// distanceSolvePosition is B2DistanceJoint.SolvePositionConstraints.
func distanceSolvePosition(joint *box2d.B2DistanceJoint, data *box2d.B2SolverData) bool {
	if joint.M_frequencyHz > 0.0 {
		// There is no position correction for soft distance constraints.
		return true
	}

	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A

	qA := rotOf(aA)
	qB := rotOf(aB)

	rA := box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	rB := box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))
	u := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, rB), cA), rA)

	length := u.Normalize()
	C := length - joint.M_length
	C = max(-box2d.B2_maxLinearCorrection, min(C, box2d.B2_maxLinearCorrection))

	impulse := -joint.M_mass * C
	P := box2d.B2Vec2MulScalar(impulse, u)

	cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(joint.M_invMassA, P))
	aA -= joint.M_invIA * box2d.B2Vec2Cross(rA, P)
	cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(joint.M_invMassB, P))
	aB += joint.M_invIB * box2d.B2Vec2Cross(rB, P)

	// Note: mutation on value, not ref; but OK because Positions is an array
	data.Positions[joint.M_indexA].C = cA
	data.Positions[joint.M_indexA].A = aA
	data.Positions[joint.M_indexB].C = cB
	data.Positions[joint.M_indexB].A = aB

	return math.Abs(C) < box2d.B2_linearSlop
}

// revoluteInitVelocity is B2RevoluteJoint.InitVelocityConstraints.
func revoluteInitVelocity(joint *box2d.B2RevoluteJoint, data *box2d.B2SolverData) {
	joint.M_indexA = joint.M_bodyA.M_islandIndex
	joint.M_indexB = joint.M_bodyB.M_islandIndex
	joint.M_localCenterA = joint.M_bodyA.M_sweep.LocalCenter
	joint.M_localCenterB = joint.M_bodyB.M_sweep.LocalCenter
	joint.M_invMassA = joint.M_bodyA.M_invMass
	joint.M_invMassB = joint.M_bodyB.M_invMass
	joint.M_invIA = joint.M_bodyA.M_invI
	joint.M_invIB = joint.M_bodyB.M_invI

	aA := data.Positions[joint.M_indexA].A
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W

	aB := data.Positions[joint.M_indexB].A
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	qA := rotOf(aA)
	qB := rotOf(aB)

	joint.M_rA = box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	joint.M_rB = box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))

	// J = [-I -r1_skew I r2_skew]
	//     [ 0       -1 0       1]
	// r_skew = [-ry; rx]

	// Matlab
	// K = [ mA+r1y^2*iA+mB+r2y^2*iB,  -r1y*iA*r1x-r2y*iB*r2x,          -r1y*iA-r2y*iB]
	//     [  -r1y*iA*r1x-r2y*iB*r2x, mA+r1x^2*iA+mB+r2x^2*iB,           r1x*iA+r2x*iB]
	//     [          -r1y*iA-r2y*iB,           r1x*iA+r2x*iB,                   iA+iB]

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	fixedRotation := (iA+iB == 0.0)

	joint.M_mass.Ex.X = mA + mB + joint.M_rA.Y*joint.M_rA.Y*iA + joint.M_rB.Y*joint.M_rB.Y*iB
	joint.M_mass.Ey.X = -joint.M_rA.Y*joint.M_rA.X*iA - joint.M_rB.Y*joint.M_rB.X*iB
	joint.M_mass.Ez.X = -joint.M_rA.Y*iA - joint.M_rB.Y*iB
	joint.M_mass.Ex.Y = joint.M_mass.Ey.X
	joint.M_mass.Ey.Y = mA + mB + joint.M_rA.X*joint.M_rA.X*iA + joint.M_rB.X*joint.M_rB.X*iB
	joint.M_mass.Ez.Y = joint.M_rA.X*iA + joint.M_rB.X*iB
	joint.M_mass.Ex.Z = joint.M_mass.Ez.X
	joint.M_mass.Ey.Z = joint.M_mass.Ez.Y
	joint.M_mass.Ez.Z = iA + iB

	joint.M_motorMass = iA + iB
	if joint.M_motorMass > 0.0 {
		joint.M_motorMass = 1.0 / joint.M_motorMass
	}

	if joint.M_enableMotor == false || fixedRotation {
		joint.M_motorImpulse = 0.0
	}

	if joint.M_enableLimit && fixedRotation == false {
		jointAngle := aB - aA - joint.M_referenceAngle
		if math.Abs(joint.M_upperAngle-joint.M_lowerAngle) < 2.0*box2d.B2_angularSlop {
			joint.M_limitState = box2d.B2LimitState.E_equalLimits
		} else if jointAngle <= joint.M_lowerAngle {
			if joint.M_limitState != box2d.B2LimitState.E_atLowerLimit {
				joint.M_impulse.Z = 0.0
			}
			joint.M_limitState = box2d.B2LimitState.E_atLowerLimit
		} else if jointAngle >= joint.M_upperAngle {
			if joint.M_limitState != box2d.B2LimitState.E_atUpperLimit {
				joint.M_impulse.Z = 0.0
			}
			joint.M_limitState = box2d.B2LimitState.E_atUpperLimit
		} else {
			joint.M_limitState = box2d.B2LimitState.E_inactiveLimit
			joint.M_impulse.Z = 0.0
		}
	} else {
		joint.M_limitState = box2d.B2LimitState.E_inactiveLimit
	}

	if data.Step.WarmStarting {
		// Scale impulses to support a variable time step.
		joint.M_impulse.OperatorScalarMultInplace(data.Step.DtRatio)
		joint.M_motorImpulse *= data.Step.DtRatio

		P := box2d.MakeB2Vec2(joint.M_impulse.X, joint.M_impulse.Y)

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * (box2d.B2Vec2Cross(joint.M_rA, P) + joint.M_motorImpulse + joint.M_impulse.Z)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * (box2d.B2Vec2Cross(joint.M_rB, P) + joint.M_motorImpulse + joint.M_impulse.Z)
	} else {
		joint.M_impulse.SetZero()
		joint.M_motorImpulse = 0.0
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// revoluteSolveVelocity is B2RevoluteJoint.SolveVelocityConstraints.
func revoluteSolveVelocity(joint *box2d.B2RevoluteJoint, data *box2d.B2SolverData) {
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	fixedRotation := (iA+iB == 0.0)

	// Solve motor constraint.
	if joint.M_enableMotor && joint.M_limitState != box2d.B2LimitState.E_equalLimits && fixedRotation == false {
		Cdot := wB - wA - joint.M_motorSpeed
		impulse := -joint.M_motorMass * Cdot
		oldImpulse := joint.M_motorImpulse
		maxImpulse := data.Step.Dt * joint.M_maxMotorTorque
		joint.M_motorImpulse = max(-maxImpulse, min(joint.M_motorImpulse+impulse, maxImpulse))
		impulse = joint.M_motorImpulse - oldImpulse

		wA -= iA * impulse
		wB += iB * impulse
	}

	// Solve limit constraint.
	if joint.M_enableLimit && joint.M_limitState != box2d.B2LimitState.E_inactiveLimit && fixedRotation == false {
		Cdot1 := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(vB, box2d.B2Vec2CrossScalarVector(wB, joint.M_rB)), vA), box2d.B2Vec2CrossScalarVector(wA, joint.M_rA))
		Cdot2 := wB - wA
		Cdot := box2d.MakeB2Vec3(Cdot1.X, Cdot1.Y, Cdot2)

		impulse := joint.M_mass.Solve33(Cdot).OperatorNegate()

		if joint.M_limitState == box2d.B2LimitState.E_equalLimits {
			joint.M_impulse.OperatorPlusInplace(impulse)
		} else if joint.M_limitState == box2d.B2LimitState.E_atLowerLimit {
			newImpulse := joint.M_impulse.Z + impulse.Z
			if newImpulse < 0.0 {
				rhs := box2d.B2Vec2Add(Cdot1.OperatorNegate(), box2d.B2Vec2MulScalar(joint.M_impulse.Z, box2d.MakeB2Vec2(joint.M_mass.Ez.X, joint.M_mass.Ez.Y)))
				reduced := joint.M_mass.Solve22(rhs)
				impulse.X = reduced.X
				impulse.Y = reduced.Y
				impulse.Z = -joint.M_impulse.Z
				joint.M_impulse.X += reduced.X
				joint.M_impulse.Y += reduced.Y
				joint.M_impulse.Z = 0.0
			} else {
				joint.M_impulse.OperatorPlusInplace(impulse)
			}
		} else if joint.M_limitState == box2d.B2LimitState.E_atUpperLimit {
			newImpulse := joint.M_impulse.Z + impulse.Z
			if newImpulse > 0.0 {
				rhs := box2d.B2Vec2Add(Cdot1.OperatorNegate(), box2d.B2Vec2MulScalar(joint.M_impulse.Z, box2d.MakeB2Vec2(joint.M_mass.Ez.X, joint.M_mass.Ez.Y)))
				reduced := joint.M_mass.Solve22(rhs)
				impulse.X = reduced.X
				impulse.Y = reduced.Y
				impulse.Z = -joint.M_impulse.Z
				joint.M_impulse.X += reduced.X
				joint.M_impulse.Y += reduced.Y
				joint.M_impulse.Z = 0.0
			} else {
				joint.M_impulse.OperatorPlusInplace(impulse)
			}
		}

		P := box2d.MakeB2Vec2(impulse.X, impulse.Y)

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * (box2d.B2Vec2Cross(joint.M_rA, P) + impulse.Z)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * (box2d.B2Vec2Cross(joint.M_rB, P) + impulse.Z)
	} else {
		// Solve point-to-point constraint
		Cdot := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(vB, box2d.B2Vec2CrossScalarVector(wB, joint.M_rB)), vA), box2d.B2Vec2CrossScalarVector(wA, joint.M_rA))
		impulse := joint.M_mass.Solve22(Cdot.OperatorNegate())

		joint.M_impulse.X += impulse.X
		joint.M_impulse.Y += impulse.Y

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, impulse))
		wA -= iA * box2d.B2Vec2Cross(joint.M_rA, impulse)

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, impulse))
		wB += iB * box2d.B2Vec2Cross(joint.M_rB, impulse)
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// revoluteSolvePosition is B2RevoluteJoint.SolvePositionConstraints.
func revoluteSolvePosition(joint *box2d.B2RevoluteJoint, data *box2d.B2SolverData) bool {
	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A

	qA := rotOf(aA)
	qB := rotOf(aB)

	angularError := 0.0
	positionError := 0.0

	fixedRotation := (joint.M_invIA+joint.M_invIB == 0.0)

	// Solve angular limit constraint.
	if joint.M_enableLimit && joint.M_limitState != box2d.B2LimitState.E_inactiveLimit && fixedRotation == false {
		angle := aB - aA - joint.M_referenceAngle
		limitImpulse := 0.0

		if joint.M_limitState == box2d.B2LimitState.E_equalLimits {
			// Prevent large angular corrections
			C := max(-box2d.B2_maxAngularCorrection, min(angle-joint.M_lowerAngle, box2d.B2_maxAngularCorrection))
			limitImpulse = -joint.M_motorMass * C
			angularError = math.Abs(C)
		} else if joint.M_limitState == box2d.B2LimitState.E_atLowerLimit {
			C := angle - joint.M_lowerAngle
			angularError = -C

			// Prevent large angular corrections and allow some slop.
			C = max(-box2d.B2_maxAngularCorrection, min(C+box2d.B2_angularSlop, 0.0))
			limitImpulse = -joint.M_motorMass * C
		} else if joint.M_limitState == box2d.B2LimitState.E_atUpperLimit {
			C := angle - joint.M_upperAngle
			angularError = C

			// Prevent large angular corrections and allow some slop.
			C = max(0.0, min(C-box2d.B2_angularSlop, box2d.B2_maxAngularCorrection))
			limitImpulse = -joint.M_motorMass * C
		}

		aA -= joint.M_invIA * limitImpulse
		aB += joint.M_invIB * limitImpulse
	}

	// Solve point-to-point constraint.
	{
		setRot(&qA, aA)
		setRot(&qB, aB)
		rA := box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
		rB := box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))

		C := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, rB), cA), rA)
		positionError = C.Length()

		mA := joint.M_invMassA
		mB := joint.M_invMassB
		iA := joint.M_invIA
		iB := joint.M_invIB

		var K box2d.B2Mat22
		K.Ex.X = mA + mB + iA*rA.Y*rA.Y + iB*rB.Y*rB.Y
		K.Ex.Y = -iA*rA.X*rA.Y - iB*rB.X*rB.Y
		K.Ey.X = K.Ex.Y
		K.Ey.Y = mA + mB + iA*rA.X*rA.X + iB*rB.X*rB.X

		impulse := K.Solve(C).OperatorNegate()

		cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, impulse))
		aA -= iA * box2d.B2Vec2Cross(rA, impulse)

		cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, impulse))
		aB += iB * box2d.B2Vec2Cross(rB, impulse)
	}

	data.Positions[joint.M_indexA].C = cA
	data.Positions[joint.M_indexA].A = aA
	data.Positions[joint.M_indexB].C = cB
	data.Positions[joint.M_indexB].A = aB

	return positionError <= box2d.B2_linearSlop && angularError <= box2d.B2_angularSlop
}

// prismaticInitVelocity is B2PrismaticJoint.InitVelocityConstraints.
func prismaticInitVelocity(joint *box2d.B2PrismaticJoint, data *box2d.B2SolverData) {
	joint.M_indexA = joint.M_bodyA.M_islandIndex
	joint.M_indexB = joint.M_bodyB.M_islandIndex
	joint.M_localCenterA = joint.M_bodyA.M_sweep.LocalCenter
	joint.M_localCenterB = joint.M_bodyB.M_sweep.LocalCenter
	joint.M_invMassA = joint.M_bodyA.M_invMass
	joint.M_invMassB = joint.M_bodyB.M_invMass
	joint.M_invIA = joint.M_bodyA.M_invI
	joint.M_invIB = joint.M_bodyB.M_invI

	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W

	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	qA := rotOf(aA)
	qB := rotOf(aB)

	// Compute the effective masses.
	rA := box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	rB := box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))
	d := box2d.B2Vec2Sub(box2d.B2Vec2Add(box2d.B2Vec2Sub(cB, cA), rB), rA)

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	// Compute motor Jacobian and effective mass.
	{
		joint.M_axis = box2d.B2RotVec2Mul(qA, joint.M_localXAxisA)
		joint.M_a1 = box2d.B2Vec2Cross(box2d.B2Vec2Add(d, rA), joint.M_axis)
		joint.M_a2 = box2d.B2Vec2Cross(rB, joint.M_axis)

		joint.M_motorMass = mA + mB + iA*joint.M_a1*joint.M_a1 + iB*joint.M_a2*joint.M_a2
		if joint.M_motorMass > 0.0 {
			joint.M_motorMass = 1.0 / joint.M_motorMass
		}
	}

	// Prismatic constraint.
	{
		joint.M_perp = box2d.B2RotVec2Mul(qA, joint.M_localYAxisA)

		joint.M_s1 = box2d.B2Vec2Cross(box2d.B2Vec2Add(d, rA), joint.M_perp)
		joint.M_s2 = box2d.B2Vec2Cross(rB, joint.M_perp)

		k11 := mA + mB + iA*joint.M_s1*joint.M_s1 + iB*joint.M_s2*joint.M_s2
		k12 := iA*joint.M_s1 + iB*joint.M_s2
		k13 := iA*joint.M_s1*joint.M_a1 + iB*joint.M_s2*joint.M_a2
		k22 := iA + iB
		if k22 == 0.0 {
			// For bodies with fixed rotation.
			k22 = 1.0
		}
		k23 := iA*joint.M_a1 + iB*joint.M_a2
		k33 := mA + mB + iA*joint.M_a1*joint.M_a1 + iB*joint.M_a2*joint.M_a2

		joint.M_K.Ex.Set(k11, k12, k13)
		joint.M_K.Ey.Set(k12, k22, k23)
		joint.M_K.Ez.Set(k13, k23, k33)
	}

	// Compute motor and limit terms.
	if joint.M_enableLimit {
		jointTranslation := box2d.B2Vec2Dot(joint.M_axis, d)
		if math.Abs(joint.M_upperTranslation-joint.M_lowerTranslation) < 2.0*box2d.B2_linearSlop {
			joint.M_limitState = box2d.B2LimitState.E_equalLimits
		} else if jointTranslation <= joint.M_lowerTranslation {
			if joint.M_limitState != box2d.B2LimitState.E_atLowerLimit {
				joint.M_limitState = box2d.B2LimitState.E_atLowerLimit
				joint.M_impulse.Z = 0.0
			}
		} else if jointTranslation >= joint.M_upperTranslation {
			if joint.M_limitState != box2d.B2LimitState.E_atUpperLimit {
				joint.M_limitState = box2d.B2LimitState.E_atUpperLimit
				joint.M_impulse.Z = 0.0
			}
		} else {
			joint.M_limitState = box2d.B2LimitState.E_inactiveLimit
			joint.M_impulse.Z = 0.0
		}
	} else {
		joint.M_limitState = box2d.B2LimitState.E_inactiveLimit
		joint.M_impulse.Z = 0.0
	}

	if joint.M_enableMotor == false {
		joint.M_motorImpulse = 0.0
	}

	if data.Step.WarmStarting {
		// Account for variable time step.
		joint.M_impulse.OperatorScalarMultInplace(data.Step.DtRatio)
		joint.M_motorImpulse *= data.Step.DtRatio

		P := box2d.B2Vec2Add(box2d.B2Vec2MulScalar(joint.M_impulse.X, joint.M_perp), box2d.B2Vec2MulScalar(joint.M_motorImpulse+joint.M_impulse.Z, joint.M_axis))
		LA := joint.M_impulse.X*joint.M_s1 + joint.M_impulse.Y + (joint.M_motorImpulse+joint.M_impulse.Z)*joint.M_a1
		LB := joint.M_impulse.X*joint.M_s2 + joint.M_impulse.Y + (joint.M_motorImpulse+joint.M_impulse.Z)*joint.M_a2

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * LA

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * LB
	} else {
		joint.M_impulse.SetZero()
		joint.M_motorImpulse = 0.0
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// prismaticSolveVelocity is B2PrismaticJoint.SolveVelocityConstraints.
func prismaticSolveVelocity(joint *box2d.B2PrismaticJoint, data *box2d.B2SolverData) {
	vA := data.Velocities[joint.M_indexA].V
	wA := data.Velocities[joint.M_indexA].W
	vB := data.Velocities[joint.M_indexB].V
	wB := data.Velocities[joint.M_indexB].W

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	// Solve linear motor constraint.
	if joint.M_enableMotor && joint.M_limitState != box2d.B2LimitState.E_equalLimits {
		Cdot := box2d.B2Vec2Dot(joint.M_axis, box2d.B2Vec2Sub(vB, vA)) + joint.M_a2*wB - joint.M_a1*wA
		impulse := joint.M_motorMass * (joint.M_motorSpeed - Cdot)
		oldImpulse := joint.M_motorImpulse
		maxImpulse := data.Step.Dt * joint.M_maxMotorForce
		joint.M_motorImpulse = max(-maxImpulse, min(joint.M_motorImpulse+impulse, maxImpulse))
		impulse = joint.M_motorImpulse - oldImpulse

		P := box2d.B2Vec2MulScalar(impulse, joint.M_axis)
		LA := impulse * joint.M_a1
		LB := impulse * joint.M_a2

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * LA

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * LB
	}

	var Cdot1 box2d.B2Vec2
	Cdot1.X = box2d.B2Vec2Dot(joint.M_perp, box2d.B2Vec2Sub(vB, vA)) + joint.M_s2*wB - joint.M_s1*wA
	Cdot1.Y = wB - wA

	if joint.M_enableLimit && joint.M_limitState != box2d.B2LimitState.E_inactiveLimit {
		// Solve prismatic and limit constraint in block form.
		Cdot2 := 0.0
		Cdot2 = box2d.B2Vec2Dot(joint.M_axis, box2d.B2Vec2Sub(vB, vA)) + joint.M_a2*wB - joint.M_a1*wA
		Cdot := box2d.MakeB2Vec3(Cdot1.X, Cdot1.Y, Cdot2)

		f1 := joint.M_impulse
		df := joint.M_K.Solve33(Cdot.OperatorNegate())
		joint.M_impulse.OperatorPlusInplace(df)

		if joint.M_limitState == box2d.B2LimitState.E_atLowerLimit {
			joint.M_impulse.Z = max(joint.M_impulse.Z, 0.0)
		} else if joint.M_limitState == box2d.B2LimitState.E_atUpperLimit {
			joint.M_impulse.Z = min(joint.M_impulse.Z, 0.0)
		}

		// f2(1:2) = invK(1:2,1:2) * (-Cdot(1:2) - K(1:2,3) * (f2(3) - f1(3))) + f1(1:2)
		b := box2d.B2Vec2Sub(Cdot1.OperatorNegate(), box2d.B2Vec2MulScalar(joint.M_impulse.Z-f1.Z, box2d.MakeB2Vec2(joint.M_K.Ez.X, joint.M_K.Ez.Y)))
		f2r := box2d.B2Vec2Add(joint.M_K.Solve22(b), box2d.MakeB2Vec2(f1.X, f1.Y))
		joint.M_impulse.X = f2r.X
		joint.M_impulse.Y = f2r.Y

		df = box2d.B2Vec3Sub(joint.M_impulse, f1)

		P := box2d.B2Vec2Add(box2d.B2Vec2MulScalar(df.X, joint.M_perp), box2d.B2Vec2MulScalar(df.Z, joint.M_axis))
		LA := df.X*joint.M_s1 + df.Y + df.Z*joint.M_a1
		LB := df.X*joint.M_s2 + df.Y + df.Z*joint.M_a2

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * LA

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * LB
	} else {
		// Limit is inactive, just solve the prismatic constraint in block form.
		df := joint.M_K.Solve22(Cdot1.OperatorNegate())
		joint.M_impulse.X += df.X
		joint.M_impulse.Y += df.Y

		P := box2d.B2Vec2MulScalar(df.X, joint.M_perp)
		LA := df.X*joint.M_s1 + df.Y
		LB := df.X*joint.M_s2 + df.Y

		vA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
		wA -= iA * LA

		vB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
		wB += iB * LB
	}

	data.Velocities[joint.M_indexA].V = vA
	data.Velocities[joint.M_indexA].W = wA
	data.Velocities[joint.M_indexB].V = vB
	data.Velocities[joint.M_indexB].W = wB
}

// prismaticSolvePosition is B2PrismaticJoint.SolvePositionConstraints.
func prismaticSolvePosition(joint *box2d.B2PrismaticJoint, data *box2d.B2SolverData) bool {
	cA := data.Positions[joint.M_indexA].C
	aA := data.Positions[joint.M_indexA].A
	cB := data.Positions[joint.M_indexB].C
	aB := data.Positions[joint.M_indexB].A

	qA := rotOf(aA)
	qB := rotOf(aB)

	mA := joint.M_invMassA
	mB := joint.M_invMassB
	iA := joint.M_invIA
	iB := joint.M_invIB

	// Compute fresh Jacobians
	rA := box2d.B2RotVec2Mul(qA, box2d.B2Vec2Sub(joint.M_localAnchorA, joint.M_localCenterA))
	rB := box2d.B2RotVec2Mul(qB, box2d.B2Vec2Sub(joint.M_localAnchorB, joint.M_localCenterB))
	d := box2d.B2Vec2Sub(box2d.B2Vec2Sub(box2d.B2Vec2Add(cB, rB), cA), rA)

	axis := box2d.B2RotVec2Mul(qA, joint.M_localXAxisA)
	a1 := box2d.B2Vec2Cross(box2d.B2Vec2Add(d, rA), axis)
	a2 := box2d.B2Vec2Cross(rB, axis)
	perp := box2d.B2RotVec2Mul(qA, joint.M_localYAxisA)

	s1 := box2d.B2Vec2Cross(box2d.B2Vec2Add(d, rA), perp)
	s2 := box2d.B2Vec2Cross(rB, perp)

	impulse := box2d.MakeB2Vec3(0, 0, 0)
	C1 := box2d.MakeB2Vec2(0, 0)
	C1.X = box2d.B2Vec2Dot(perp, d)
	C1.Y = aB - aA - joint.M_referenceAngle

	linearError := math.Abs(C1.X)
	angularError := math.Abs(C1.Y)

	active := false
	C2 := 0.0
	if joint.M_enableLimit {
		translation := box2d.B2Vec2Dot(axis, d)
		if math.Abs(joint.M_upperTranslation-joint.M_lowerTranslation) < 2.0*box2d.B2_linearSlop {
			// Prevent large angular corrections
			C2 = max(-box2d.B2_maxLinearCorrection, min(translation, box2d.B2_maxLinearCorrection))
			linearError = max(linearError, math.Abs(translation))
			active = true
		} else if translation <= joint.M_lowerTranslation {
			// Prevent large linear corrections and allow some slop.
			C2 = max(-box2d.B2_maxLinearCorrection, min(translation-joint.M_lowerTranslation+box2d.B2_linearSlop, 0.0))
			linearError = max(linearError, joint.M_lowerTranslation-translation)
			active = true
		} else if translation >= joint.M_upperTranslation {
			// Prevent large linear corrections and allow some slop.
			C2 = max(0.0, min(translation-joint.M_upperTranslation-box2d.B2_linearSlop, box2d.B2_maxLinearCorrection))
			linearError = max(linearError, translation-joint.M_upperTranslation)
			active = true
		}
	}

	if active {
		k11 := mA + mB + iA*s1*s1 + iB*s2*s2
		k12 := iA*s1 + iB*s2
		k13 := iA*s1*a1 + iB*s2*a2
		k22 := iA + iB
		if k22 == 0.0 {
			// For fixed rotation
			k22 = 1.0
		}
		k23 := iA*a1 + iB*a2
		k33 := mA + mB + iA*a1*a1 + iB*a2*a2

		K := box2d.MakeB2Mat33()
		K.Ex.Set(k11, k12, k13)
		K.Ey.Set(k12, k22, k23)
		K.Ez.Set(k13, k23, k33)

		C := box2d.MakeB2Vec3(0, 0, 0)
		C.X = C1.X
		C.Y = C1.Y
		C.Z = C2

		impulse = K.Solve33(C.OperatorNegate())
	} else {
		k11 := mA + mB + iA*s1*s1 + iB*s2*s2
		k12 := iA*s1 + iB*s2
		k22 := iA + iB
		if k22 == 0.0 {
			k22 = 1.0
		}

		K := box2d.MakeB2Mat22()
		K.Ex.Set(k11, k12)
		K.Ey.Set(k12, k22)

		impulse1 := K.Solve(C1.OperatorNegate())
		impulse.X = impulse1.X
		impulse.Y = impulse1.Y
		impulse.Z = 0.0
	}

	P := box2d.B2Vec2Add(box2d.B2Vec2MulScalar(impulse.X, perp), box2d.B2Vec2MulScalar(impulse.Z, axis))
	LA := impulse.X*s1 + impulse.Y + impulse.Z*a1
	LB := impulse.X*s2 + impulse.Y + impulse.Z*a2

	cA.OperatorMinusInplace(box2d.B2Vec2MulScalar(mA, P))
	aA -= iA * LA
	cB.OperatorPlusInplace(box2d.B2Vec2MulScalar(mB, P))
	aB += iB * LB

	data.Positions[joint.M_indexA].C = cA
	data.Positions[joint.M_indexA].A = aA
	data.Positions[joint.M_indexB].C = cB
	data.Positions[joint.M_indexB].A = aB

	return linearError <= box2d.B2_linearSlop && angularError <= box2d.B2_angularSlop
}
