package b2step

import (
	"math"

	"github.com/ByteArena/box2d"
)

// Helpers that compute what the library's own do, bit for bit, faster:
// math.Sincos runs the same argument reduction and polynomials as math.Sin
// and math.Cos (B2Rot.Set calls both), and the builtin min and max treat
// NaN and signed zeros as math.Min and math.Max do (B2Vec2Min, B2Vec2Max).
// Shapes are read through pointers instead of the library's value
// receivers, which copy a polygon on every call.

// setRot is B2Rot.Set.
func setRot(q *box2d.B2Rot, angle float64) {
	q.S, q.C = math.Sincos(angle)
}

// synchronizeTransform is B2Body.SynchronizeTransform.
func synchronizeTransform(b *box2d.B2Body) {
	setRot(&b.M_xf.Q, b.M_sweep.A)
	b.M_xf.P = box2d.B2Vec2Sub(b.M_sweep.C, box2d.B2RotVec2Mul(b.M_xf.Q, b.M_sweep.LocalCenter))
}

// advance is B2Body.Advance: move the body to the new safe time alpha
// (without moving its broad-phase proxies).
func advance(b *box2d.B2Body, alpha float64) {
	b.M_sweep.Advance(alpha)
	b.M_sweep.C = b.M_sweep.C0
	b.M_sweep.A = b.M_sweep.A0
	synchronizeTransform(b)
}

// rotCache remembers the last rotation setRot computed, by the angle's
// bits: time of impact evaluates the same sweeps many times, and a body
// that does not turn gives the same angle each time.
type rotCache struct {
	bits uint64
	q    box2d.B2Rot
	ok   bool
}

// set is setRot(q, angle), from the cache when angle is the last one.
func (c *rotCache) set(q *box2d.B2Rot, angle float64) {
	b := math.Float64bits(angle)
	if c.ok && c.bits == b {
		*q = c.q
		return
	}
	setRot(q, angle)
	c.bits, c.q, c.ok = b, *q, true
}

// sweepTransform is B2Sweep.GetTransform: the transform at time beta (the
// rotation through rc).
func sweepTransform(sweep *box2d.B2Sweep, xf *box2d.B2Transform, beta float64, rc *rotCache) {
	xf.P = box2d.B2Vec2Add(
		box2d.B2Vec2MulScalar(1.0-beta, sweep.C0),
		box2d.B2Vec2MulScalar(beta, sweep.C),
	)
	angle := (1.0-beta)*sweep.A0 + beta*sweep.A
	rc.set(&xf.Q, angle)

	// Shift to origin.
	xf.P.OperatorMinusInplace(box2d.B2RotVec2Mul(xf.Q, sweep.LocalCenter))
}

// computeAABB is the shape's ComputeAABB.
func computeAABB(shape box2d.B2ShapeInterface, aabb *box2d.B2AABB, xf box2d.B2Transform, child int) {
	switch sh := shape.(type) {
	case *box2d.B2PolygonShape:
		polygonAABB(sh, aabb, &xf)
	case *box2d.B2CircleShape:
		p := box2d.B2Vec2Add(xf.P, box2d.B2RotVec2Mul(xf.Q, sh.M_p))
		aabb.LowerBound.Set(p.X-sh.M_radius, p.Y-sh.M_radius)
		aabb.UpperBound.Set(p.X+sh.M_radius, p.Y+sh.M_radius)
	case *box2d.B2EdgeShape:
		sh.ComputeAABB(aabb, xf, child)
	case *box2d.B2ChainShape:
		sh.ComputeAABB(aabb, xf, child)
	default:
		panic("b2step: unknown shape type")
	}
}

// polygonAABB is B2PolygonShape.ComputeAABB, including its subtraction of
// the skin radius from the upper bound as well as the lower one (C++ Box2D
// adds it there): tandem's trajectories depend on it.
func polygonAABB(poly *box2d.B2PolygonShape, aabb *box2d.B2AABB, xf *box2d.B2Transform) {
	lower := box2d.B2TransformVec2Mul(*xf, poly.M_vertices[0])
	upper := lower
	for i := 1; i < poly.M_count; i++ {
		v := box2d.B2TransformVec2Mul(*xf, poly.M_vertices[i])
		lower = box2d.B2Vec2{X: min(lower.X, v.X), Y: min(lower.Y, v.Y)}
		upper = box2d.B2Vec2{X: max(upper.X, v.X), Y: max(upper.Y, v.Y)}
	}
	r := box2d.MakeB2Vec2(poly.M_radius, poly.M_radius)
	aabb.LowerBound = box2d.B2Vec2Sub(lower, r)
	aabb.UpperBound = box2d.B2Vec2Sub(upper, r)
}

// combine is B2AABB.CombineTwoInPlace: the box around a and b.
func combine(a, b box2d.B2AABB) box2d.B2AABB {
	return box2d.B2AABB{
		LowerBound: box2d.B2Vec2{X: min(a.LowerBound.X, b.LowerBound.X), Y: min(a.LowerBound.Y, b.LowerBound.Y)},
		UpperBound: box2d.B2Vec2{X: max(a.UpperBound.X, b.UpperBound.X), Y: max(a.UpperBound.Y, b.UpperBound.Y)},
	}
}
