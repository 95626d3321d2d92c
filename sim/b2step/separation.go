package b2step

import (
	"github.com/ByteArena/box2d"
)

// separation is B2SeparationFunction, the separating axis that time of
// impact advances along, with its sweeps' transforms from sweepTransform
// and its proxies read through pointers (the library's proxy methods have
// value receivers and copy the proxy).
type separation struct {
	proxyA, proxyB *box2d.B2DistanceProxy
	sweepA, sweepB box2d.B2Sweep
	typ            uint8
	localPoint     box2d.B2Vec2
	axis           box2d.B2Vec2
	rotA, rotB     *rotCache // the caller's, for the same sweeps
}

// support is B2DistanceProxy.GetSupport.
func support(p *box2d.B2DistanceProxy, d box2d.B2Vec2) int {
	bestIndex := 0
	bestValue := box2d.B2Vec2Dot(p.M_vertices[0], d)
	for i := 1; i < p.M_count; i++ {
		value := box2d.B2Vec2Dot(p.M_vertices[i], d)
		if value > bestValue {
			bestIndex = i
			bestValue = value
		}
	}
	return bestIndex
}

// initialize is B2SeparationFunction.Initialize.
func (f *separation) initialize(cache *box2d.B2SimplexCache, proxyA *box2d.B2DistanceProxy, sweepA box2d.B2Sweep, proxyB *box2d.B2DistanceProxy, sweepB box2d.B2Sweep, t1 float64) float64 {
	f.proxyA = proxyA
	f.proxyB = proxyB
	count := cache.Count

	f.sweepA = sweepA
	f.sweepB = sweepB

	xfA := box2d.MakeB2Transform()
	xfB := box2d.MakeB2Transform()
	sweepTransform(&f.sweepA, &xfA, t1, f.rotA)
	sweepTransform(&f.sweepB, &xfB, t1, f.rotB)

	if count == 1 {
		f.typ = box2d.B2SeparationFunction_Type.E_points
		localPointA := f.proxyA.M_vertices[cache.IndexA[0]]
		localPointB := f.proxyB.M_vertices[cache.IndexB[0]]
		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)
		pointB := box2d.B2TransformVec2Mul(xfB, localPointB)
		f.axis = box2d.B2Vec2Sub(pointB, pointA)
		return f.axis.Normalize()
	} else if cache.IndexA[0] == cache.IndexA[1] {
		// Two points on B and one on A.
		f.typ = box2d.B2SeparationFunction_Type.E_faceB
		localPointB1 := proxyB.M_vertices[cache.IndexB[0]]
		localPointB2 := proxyB.M_vertices[cache.IndexB[1]]

		f.axis = box2d.B2Vec2CrossVectorScalar(box2d.B2Vec2Sub(localPointB2, localPointB1), 1.0)
		f.axis.Normalize()
		normal := box2d.B2RotVec2Mul(xfB.Q, f.axis)

		f.localPoint = box2d.B2Vec2MulScalar(0.5, box2d.B2Vec2Add(localPointB1, localPointB2))
		pointB := box2d.B2TransformVec2Mul(xfB, f.localPoint)

		localPointA := proxyA.M_vertices[cache.IndexA[0]]
		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)

		s := box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointA, pointB), normal)
		if s < 0.0 {
			f.axis = f.axis.OperatorNegate()
			s = -s
		}
		return s
	}
	// Two points on A and one or two points on B.
	f.typ = box2d.B2SeparationFunction_Type.E_faceA
	localPointA1 := f.proxyA.M_vertices[cache.IndexA[0]]
	localPointA2 := f.proxyA.M_vertices[cache.IndexA[1]]

	f.axis = box2d.B2Vec2CrossVectorScalar(box2d.B2Vec2Sub(localPointA2, localPointA1), 1.0)
	f.axis.Normalize()
	normal := box2d.B2RotVec2Mul(xfA.Q, f.axis)

	f.localPoint = box2d.B2Vec2MulScalar(0.5, box2d.B2Vec2Add(localPointA1, localPointA2))
	pointA := box2d.B2TransformVec2Mul(xfA, f.localPoint)

	localPointB := f.proxyB.M_vertices[cache.IndexB[0]]
	pointB := box2d.B2TransformVec2Mul(xfB, localPointB)

	s := box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointB, pointA), normal)
	if s < 0.0 {
		f.axis = f.axis.OperatorNegate()
		s = -s
	}
	return s
}

// findMinSeparation is B2SeparationFunction.FindMinSeparation.
func (f *separation) findMinSeparation(indexA, indexB *int, t float64) float64 {
	xfA := box2d.MakeB2Transform()
	xfB := box2d.MakeB2Transform()
	sweepTransform(&f.sweepA, &xfA, t, f.rotA)
	sweepTransform(&f.sweepB, &xfB, t, f.rotB)

	switch f.typ {
	case box2d.B2SeparationFunction_Type.E_points:
		axisA := box2d.B2RotVec2MulT(xfA.Q, f.axis)
		axisB := box2d.B2RotVec2MulT(xfB.Q, f.axis.OperatorNegate())

		*indexA = support(f.proxyA, axisA)
		*indexB = support(f.proxyB, axisB)

		localPointA := f.proxyA.M_vertices[*indexA]
		localPointB := f.proxyB.M_vertices[*indexB]

		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)
		pointB := box2d.B2TransformVec2Mul(xfB, localPointB)

		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointB, pointA), f.axis)

	case box2d.B2SeparationFunction_Type.E_faceA:
		normal := box2d.B2RotVec2Mul(xfA.Q, f.axis)
		pointA := box2d.B2TransformVec2Mul(xfA, f.localPoint)

		axisB := box2d.B2RotVec2MulT(xfB.Q, normal.OperatorNegate())

		*indexA = -1
		*indexB = support(f.proxyB, axisB)

		localPointB := f.proxyB.M_vertices[*indexB]
		pointB := box2d.B2TransformVec2Mul(xfB, localPointB)

		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointB, pointA), normal)

	case box2d.B2SeparationFunction_Type.E_faceB:
		normal := box2d.B2RotVec2Mul(xfB.Q, f.axis)
		pointB := box2d.B2TransformVec2Mul(xfB, f.localPoint)

		axisA := box2d.B2RotVec2MulT(xfA.Q, normal.OperatorNegate())

		*indexB = -1
		*indexA = support(f.proxyA, axisA)

		localPointA := f.proxyA.M_vertices[*indexA]
		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)

		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointA, pointB), normal)
	}
	*indexA = -1
	*indexB = -1
	return 0.0
}

// evaluate is B2SeparationFunction.Evaluate.
func (f *separation) evaluate(indexA, indexB int, t float64) float64 {
	xfA := box2d.MakeB2Transform()
	xfB := box2d.MakeB2Transform()
	sweepTransform(&f.sweepA, &xfA, t, f.rotA)
	sweepTransform(&f.sweepB, &xfB, t, f.rotB)

	switch f.typ {
	case box2d.B2SeparationFunction_Type.E_points:
		localPointA := f.proxyA.M_vertices[indexA]
		localPointB := f.proxyB.M_vertices[indexB]

		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)
		pointB := box2d.B2TransformVec2Mul(xfB, localPointB)
		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointB, pointA), f.axis)

	case box2d.B2SeparationFunction_Type.E_faceA:
		normal := box2d.B2RotVec2Mul(xfA.Q, f.axis)
		pointA := box2d.B2TransformVec2Mul(xfA, f.localPoint)

		localPointB := f.proxyB.M_vertices[indexB]
		pointB := box2d.B2TransformVec2Mul(xfB, localPointB)

		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointB, pointA), normal)

	case box2d.B2SeparationFunction_Type.E_faceB:
		normal := box2d.B2RotVec2Mul(xfB.Q, f.axis)
		pointB := box2d.B2TransformVec2Mul(xfB, f.localPoint)

		localPointA := f.proxyA.M_vertices[indexA]
		pointA := box2d.B2TransformVec2Mul(xfA, localPointA)

		return box2d.B2Vec2Dot(box2d.B2Vec2Sub(pointA, pointB), normal)
	}
	return 0.0
}
