package b2step

import (
	"github.com/ByteArena/box2d"
)

// The velocity iterations of the joints whose library code clamps with
// math.Min and math.Max (B2FloatClamp): copies with the builtin min and
// max, which give the same bits without a call each, and the solver data
// passed by pointer. Other joints run the library's own methods.

// solveJointVelocity is j.SolveVelocityConstraints(*data).
func solveJointVelocity(j box2d.B2JointInterface, data *box2d.B2SolverData) {
	switch j := j.(type) {
	case *box2d.B2RevoluteJoint:
		revoluteVelocity(j, data)
	case *box2d.B2PrismaticJoint:
		prismaticVelocity(j, data)
	default:
		j.SolveVelocityConstraints(*data)
	}
}

// revoluteVelocity is B2RevoluteJoint.SolveVelocityConstraints.
func revoluteVelocity(joint *box2d.B2RevoluteJoint, data *box2d.B2SolverData) {
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

// prismaticVelocity is B2PrismaticJoint.SolveVelocityConstraints.
func prismaticVelocity(joint *box2d.B2PrismaticJoint, data *box2d.B2SolverData) {
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
