package b2step

import (
	"github.com/ByteArena/box2d"
)

// GJK distance (B2Distance) for time of impact and sensor overlaps: a copy
// of the library's with the simplex's methods on pointers (the library's
// copy the simplex on each call) and without the unsynchronised call
// counters it increments, which parallel worlds would race on.

// gjkSimplex is B2Simplex.
type gjkSimplex struct {
	M_vs    [3]box2d.B2SimplexVertex
	M_count int
}

func (simplex *gjkSimplex) readCache(cache *box2d.B2SimplexCache, proxyA *box2d.B2DistanceProxy, transformA box2d.B2Transform, proxyB *box2d.B2DistanceProxy, transformB box2d.B2Transform) {

	// Copy data from cache.
	simplex.M_count = cache.Count
	vertices := &simplex.M_vs
	for i := 0; i < simplex.M_count; i++ {
		v := &vertices[i]
		v.IndexA = cache.IndexA[i]
		v.IndexB = cache.IndexB[i]
		wALocal := proxyA.M_vertices[v.IndexA]
		wBLocal := proxyB.M_vertices[v.IndexB]
		v.WA = box2d.B2TransformVec2Mul(transformA, wALocal)
		v.WB = box2d.B2TransformVec2Mul(transformB, wBLocal)
		v.W = box2d.B2Vec2Sub(v.WB, v.WA)
		v.A = 0.0
	}

	// Compute the new simplex metric, if it is substantially different than
	// old metric then flush the simplex.
	if simplex.M_count > 1 {
		metric1 := cache.Metric
		metric2 := simplex.metric()
		if metric2 < 0.5*metric1 || 2.0*metric1 < metric2 || metric2 < box2d.B2_epsilon {
			// Reset the simplex.
			simplex.M_count = 0
		}
	}

	// If the cache is empty or invalid ...
	if simplex.M_count == 0 {
		v := &vertices[0]
		v.IndexA = 0
		v.IndexB = 0
		wALocal := proxyA.M_vertices[0]
		wBLocal := proxyB.M_vertices[0]
		v.WA = box2d.B2TransformVec2Mul(transformA, wALocal)
		v.WB = box2d.B2TransformVec2Mul(transformB, wBLocal)
		v.W = box2d.B2Vec2Sub(v.WB, v.WA)
		v.A = 1.0
		simplex.M_count = 1
	}
}

func (simplex *gjkSimplex) writeCache(cache *box2d.B2SimplexCache) {
	cache.Metric = simplex.metric()
	cache.Count = simplex.M_count
	vertices := &simplex.M_vs
	for i := 0; i < simplex.M_count; i++ {
		cache.IndexA[i] = vertices[i].IndexA
		cache.IndexB[i] = vertices[i].IndexB
	}
}

func (simplex *gjkSimplex) searchDirection() box2d.B2Vec2 {
	switch simplex.M_count {
	case 1:
		return simplex.M_vs[0].W.OperatorNegate()

	case 2:
		{
			e12 := box2d.B2Vec2Sub(simplex.M_vs[1].W, simplex.M_vs[0].W)
			sgn := box2d.B2Vec2Cross(e12, simplex.M_vs[0].W.OperatorNegate())
			if sgn > 0.0 {
				// Origin is left of e12.
				return box2d.B2Vec2CrossScalarVector(1.0, e12)
			} else {
				// Origin is right of e12.
				return box2d.B2Vec2CrossVectorScalar(e12, 1.0)
			}
		}

	default:
		return box2d.B2Vec2_zero
	}
}

func (simplex *gjkSimplex) witnessPoints(pA *box2d.B2Vec2, pB *box2d.B2Vec2) {
	switch simplex.M_count {
	case 0:
		break

	case 1:
		*pA = simplex.M_vs[0].WA
		*pB = simplex.M_vs[0].WB
		break

	case 2:
		*pA = box2d.B2Vec2Add(
			box2d.B2Vec2MulScalar(simplex.M_vs[0].A, simplex.M_vs[0].WA),
			box2d.B2Vec2MulScalar(simplex.M_vs[1].A, simplex.M_vs[1].WA),
		)
		*pB = box2d.B2Vec2Add(
			box2d.B2Vec2MulScalar(simplex.M_vs[0].A, simplex.M_vs[0].WB),
			box2d.B2Vec2MulScalar(simplex.M_vs[1].A, simplex.M_vs[1].WB),
		)
		break

	case 3:
		*pA = box2d.B2Vec2Add(
			box2d.B2Vec2Add(
				box2d.B2Vec2MulScalar(simplex.M_vs[0].A, simplex.M_vs[0].WA),
				box2d.B2Vec2MulScalar(simplex.M_vs[1].A, simplex.M_vs[1].WA),
			),
			box2d.B2Vec2MulScalar(simplex.M_vs[2].A, simplex.M_vs[2].WA),
		)
		*pB = *pA
		break

	default:
		break
	}
}

func (simplex *gjkSimplex) metric() float64 {
	switch simplex.M_count {
	case 0:
		return 0.0

	case 1:
		return 0.0

	case 2:
		return box2d.B2Vec2Distance(simplex.M_vs[0].W, simplex.M_vs[1].W)

	case 3:
		return box2d.B2Vec2Cross(
			box2d.B2Vec2Sub(simplex.M_vs[1].W, simplex.M_vs[0].W),
			box2d.B2Vec2Sub(simplex.M_vs[2].W, simplex.M_vs[0].W),
		)

	default:
		return 0.0
	}
}

func (simplex *gjkSimplex) solve2() {
	w1 := simplex.M_vs[0].W
	w2 := simplex.M_vs[1].W
	e12 := box2d.B2Vec2Sub(w2, w1)

	// w1 region
	d12_2 := -box2d.B2Vec2Dot(w1, e12)
	if d12_2 <= 0.0 {
		// a2 <= 0, so we clamp it to 0
		simplex.M_vs[0].A = 1.0
		simplex.M_count = 1
		return
	}

	// w2 region
	d12_1 := box2d.B2Vec2Dot(w2, e12)
	if d12_1 <= 0.0 {
		// a1 <= 0, so we clamp it to 0
		simplex.M_vs[1].A = 1.0
		simplex.M_count = 1
		simplex.M_vs[0] = simplex.M_vs[1]
		return
	}

	// Must be in e12 region.
	inv_d12 := 1.0 / (d12_1 + d12_2)
	simplex.M_vs[0].A = d12_1 * inv_d12
	simplex.M_vs[1].A = d12_2 * inv_d12
	simplex.M_count = 2
}

func (simplex *gjkSimplex) solve3() {

	w1 := simplex.M_vs[0].W
	w2 := simplex.M_vs[1].W
	w3 := simplex.M_vs[2].W

	// Edge12
	// [1      1     ][a1] = [1]
	// [w1.e12 w2.e12][a2] = [0]
	// a3 = 0
	e12 := box2d.B2Vec2Sub(w2, w1)
	w1e12 := box2d.B2Vec2Dot(w1, e12)
	w2e12 := box2d.B2Vec2Dot(w2, e12)
	d12_1 := w2e12
	d12_2 := -w1e12

	// Edge13
	// [1      1     ][a1] = [1]
	// [w1.e13 w3.e13][a3] = [0]
	// a2 = 0
	e13 := box2d.B2Vec2Sub(w3, w1)
	w1e13 := box2d.B2Vec2Dot(w1, e13)
	w3e13 := box2d.B2Vec2Dot(w3, e13)
	d13_1 := w3e13
	d13_2 := -w1e13

	// Edge23
	// [1      1     ][a2] = [1]
	// [w2.e23 w3.e23][a3] = [0]
	// a1 = 0
	e23 := box2d.B2Vec2Sub(w3, w2)
	w2e23 := box2d.B2Vec2Dot(w2, e23)
	w3e23 := box2d.B2Vec2Dot(w3, e23)
	d23_1 := w3e23
	d23_2 := -w2e23

	// Triangle123
	n123 := box2d.B2Vec2Cross(e12, e13)

	d123_1 := n123 * box2d.B2Vec2Cross(w2, w3)
	d123_2 := n123 * box2d.B2Vec2Cross(w3, w1)
	d123_3 := n123 * box2d.B2Vec2Cross(w1, w2)

	// w1 region
	if d12_2 <= 0.0 && d13_2 <= 0.0 {
		simplex.M_vs[0].A = 1.0
		simplex.M_count = 1
		return
	}

	// e12
	if d12_1 > 0.0 && d12_2 > 0.0 && d123_3 <= 0.0 {
		inv_d12 := 1.0 / (d12_1 + d12_2)
		simplex.M_vs[0].A = d12_1 * inv_d12
		simplex.M_vs[1].A = d12_2 * inv_d12
		simplex.M_count = 2
		return
	}

	// e13
	if d13_1 > 0.0 && d13_2 > 0.0 && d123_2 <= 0.0 {
		inv_d13 := 1.0 / (d13_1 + d13_2)
		simplex.M_vs[0].A = d13_1 * inv_d13
		simplex.M_vs[2].A = d13_2 * inv_d13
		simplex.M_count = 2
		simplex.M_vs[1] = simplex.M_vs[2]
		return
	}

	// w2 region
	if d12_1 <= 0.0 && d23_2 <= 0.0 {
		simplex.M_vs[1].A = 1.0
		simplex.M_count = 1
		simplex.M_vs[0] = simplex.M_vs[1]
		return
	}

	// w3 region
	if d13_1 <= 0.0 && d23_1 <= 0.0 {
		simplex.M_vs[2].A = 1.0
		simplex.M_count = 1
		simplex.M_vs[0] = simplex.M_vs[2]
		return
	}

	// e23
	if d23_1 > 0.0 && d23_2 > 0.0 && d123_1 <= 0.0 {
		inv_d23 := 1.0 / (d23_1 + d23_2)
		simplex.M_vs[1].A = d23_1 * inv_d23
		simplex.M_vs[2].A = d23_2 * inv_d23
		simplex.M_count = 2
		simplex.M_vs[0] = simplex.M_vs[2]
		return
	}

	// Must be in triangle123
	inv_d123 := 1.0 / (d123_1 + d123_2 + d123_3)
	simplex.M_vs[0].A = d123_1 * inv_d123
	simplex.M_vs[1].A = d123_2 * inv_d123
	simplex.M_vs[2].A = d123_3 * inv_d123
	simplex.M_count = 3
}

func distance(output *box2d.B2DistanceOutput, cache *box2d.B2SimplexCache, input *box2d.B2DistanceInput) {

	proxyA := &input.ProxyA
	proxyB := &input.ProxyB

	transformA := input.TransformA
	transformB := input.TransformB

	// Initialize the simplex.
	var simplex gjkSimplex
	simplex.readCache(cache, proxyA, transformA, proxyB, transformB)

	// Get simplex vertices as an array.
	vertices := &simplex.M_vs
	k_maxIters := 20

	// These store the vertices of the last simplex so that we
	// can check for duplicates and prevent cycling.
	var saveA, saveB [3]int
	saveCount := 0

	// Main iteration loop.
	iter := 0
	for iter < k_maxIters {
		// Copy simplex so we can identify duplicates.
		saveCount = simplex.M_count
		for i := 0; i < saveCount; i++ {
			saveA[i] = vertices[i].IndexA
			saveB[i] = vertices[i].IndexB
		}

		switch simplex.M_count {
		case 1:
			break

		case 2:
			simplex.solve2()
			break

		case 3:
			simplex.solve3()
			break

		default:
		}

		// If we have 3 points, then the origin is in the corresponding triangle.
		if simplex.M_count == 3 {
			break
		}

		// Get search direction.
		d := simplex.searchDirection()

		// Ensure the search direction is numerically fit.
		if d.LengthSquared() < box2d.B2_epsilon*box2d.B2_epsilon {
			// The origin is probably contained by a line segment
			// or triangle. Thus the shapes are overlapped.

			// We can't return zero here even though there may be overlap.
			// In case the simplex is a point, segment, or triangle it is difficult
			// to determine if the origin is contained in the CSO or very close to it.
			break
		}

		// Compute a tentative new simplex vertex using support points.
		vertex := &vertices[simplex.M_count]
		vertex.IndexA = support(proxyA,
			box2d.B2RotVec2MulT(transformA.Q, d.OperatorNegate()),
		)
		vertex.WA = box2d.B2TransformVec2Mul(transformA, proxyA.M_vertices[vertex.IndexA])
		// b2Vec2 wBLocal;
		vertex.IndexB = support(proxyB, box2d.B2RotVec2MulT(transformB.Q, d))
		vertex.WB = box2d.B2TransformVec2Mul(transformB, proxyB.M_vertices[vertex.IndexB])
		vertex.W = box2d.B2Vec2Sub(vertex.WB, vertex.WA)

		// Iteration count is equated to the number of support point calls.
		iter++

		// Check for duplicate support points. This is the main termination criteria.
		duplicate := false
		for i := 0; i < saveCount; i++ {
			if vertex.IndexA == saveA[i] && vertex.IndexB == saveB[i] {
				duplicate = true
				break
			}
		}

		// If we found a duplicate support point we must exit to avoid cycling.
		if duplicate {
			break
		}

		// New vertex is ok and needed.
		simplex.M_count++
	}

	// Prepare output.
	simplex.witnessPoints(&output.PointA, &output.PointB)
	output.Distance = box2d.B2Vec2Distance(output.PointA, output.PointB)
	output.Iterations = iter

	// // Cache the simplex.
	simplex.writeCache(cache)

	// // Apply radii if requested.
	if input.UseRadii {
		rA := proxyA.M_radius
		rB := proxyB.M_radius

		if output.Distance > rA+rB && output.Distance > box2d.B2_epsilon {
			// Shapes are still no overlapped.
			// Move the witness points to the outer surface.
			output.Distance -= rA + rB
			normal := box2d.B2Vec2Sub(output.PointB, output.PointA)
			normal.Normalize()
			output.PointA.OperatorPlusInplace(
				box2d.B2Vec2MulScalar(rA, normal),
			)
			output.PointB.OperatorMinusInplace(
				box2d.B2Vec2MulScalar(rB, normal),
			)
		} else {
			// Shapes are overlapped when radii are considered.
			// Move the witness points to the middle.
			p := box2d.B2Vec2MulScalar(
				0.5,
				box2d.B2Vec2Add(output.PointA, output.PointB),
			)
			output.PointA = p
			output.PointB = p
			output.Distance = 0.0
		}
	}
}
