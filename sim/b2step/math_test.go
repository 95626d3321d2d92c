package b2step

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ByteArena/box2d"
)

// TestHelpersMatchLibrary checks the copied helpers against the library's
// own on random inputs, bit for bit, special values included.
func TestHelpersMatchLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	special := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, math.Pi, -math.Pi, 1e9, -1e9, math.Inf(1), math.NaN()}
	angle := func(i int) float64 {
		if i < len(special) {
			return special[i]
		}
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(8)))
	}
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
	sameBox := func(a, b box2d.B2AABB) bool {
		return same(a.LowerBound.X, b.LowerBound.X) && same(a.LowerBound.Y, b.LowerBound.Y) &&
			same(a.UpperBound.X, b.UpperBound.X) && same(a.UpperBound.Y, b.UpperBound.Y)
	}
	for i := range 200000 {
		a := angle(i)
		var q1, q2 box2d.B2Rot
		q1.Set(a)
		setRot(&q2, a)
		if !same(q1.S, q2.S) || !same(q1.C, q2.C) {
			t.Fatalf("angle %v: setRot %v; want %v", a, q2, q1)
		}
	}

	poly := box2d.MakeB2PolygonShape()
	circle := box2d.MakeB2CircleShape()
	for i := range 20000 {
		var vs [5]box2d.B2Vec2
		for k := range vs {
			vs[k] = box2d.MakeB2Vec2(r.NormFloat64(), r.NormFloat64())
		}
		poly.Set(vs[:], len(vs))
		circle.M_p, circle.M_radius = box2d.MakeB2Vec2(r.NormFloat64(), r.NormFloat64()), r.Float64()
		var xf box2d.B2Transform
		xf.P = box2d.MakeB2Vec2(100*r.NormFloat64(), 100*r.NormFloat64())
		xf.Q.Set(angle(i))
		var boxes [2]box2d.B2AABB
		for k, shape := range []box2d.B2ShapeInterface{&poly, &circle} {
			var want, got box2d.B2AABB
			shape.ComputeAABB(&want, xf, 0)
			computeAABB(shape, &got, xf, 0)
			if !sameBox(want, got) {
				t.Fatalf("AABB of %T: got %v; want %v", shape, got, want)
			}
			boxes[k] = want
		}
		var u box2d.B2AABB
		u.CombineTwoInPlace(boxes[0], boxes[1])
		if c := combine(boxes[0], boxes[1]); !sameBox(c, u) {
			t.Fatalf("combine: got %v; want %v", c, u)
		}
	}
}
