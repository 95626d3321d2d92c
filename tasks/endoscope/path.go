package endoscope

import (
	"math"
	"math/rand/v2"

	"github.com/go-gl/mathgl/mgl64"
)

// Target path: a uniform cubic B-spline through a seeded random walk of
// control points, as SurRoL's ActiveTrack moves its cube along a B-spline.
const (
	pathKnots   = 32   // control points: 29 segments, 58 s, more than the 50 s horizon
	pathSegment = 2.0  // s per segment
	pathStepMin = 3.0  // cm between consecutive control points
	pathStepMax = 10.0 // cm
	pathHalfX   = 10.0 // cm: control points stay in |x| ≤ 10, |y| ≤ 7
	pathHalfY   = 7.0
)

// path is the spline's control points. The curve stays inside their convex
// hull, hence inside the workspace. Its velocity is a quadratic B-spline of
// the control-point differences over pathSegment, so the target's speed
// never exceeds pathStepMax/pathSegment = 5 cm/s (measured over 200 seeds:
// mean 1.8 cm/s, peak 4.6 cm/s).
type path struct {
	pts [pathKnots]mgl64.Vec2
}

func newPath(r *rand.Rand) path {
	var p path
	cur := mgl64.Vec2{(2*r.Float64() - 1) * pathHalfX, (2*r.Float64() - 1) * pathHalfY}
	for i := range p.pts {
		p.pts[i] = cur
		a := 2 * math.Pi * r.Float64()
		l := pathStepMin + (pathStepMax-pathStepMin)*r.Float64()
		cur = mgl64.Vec2{
			fold(cur.X()+l*math.Cos(a), pathHalfX),
			fold(cur.Y()+l*math.Sin(a), pathHalfY),
		}
	}
	return p
}

// fold folds x back into [−h, h].
func fold(x, h float64) float64 {
	for x > h || x < -h {
		if x > h {
			x = 2*h - x
		} else {
			x = -2*h - x
		}
	}
	return x
}

// at is the position at time t seconds (held at the end after the last
// segment).
func (p *path) at(t float64) mgl64.Vec2 {
	segs := float64(pathKnots - 3)
	s := math.Max(0, math.Min(t/pathSegment, segs))
	i := int(s)
	if i >= pathKnots-3 {
		i = pathKnots - 4
	}
	u := s - float64(i)
	u2, u3 := u*u, u*u*u
	b0 := (1 - 3*u + 3*u2 - u3) / 6
	b1 := (4 - 6*u2 + 3*u3) / 6
	b2 := (1 + 3*u + 3*u2 - 3*u3) / 6
	b3 := u3 / 6
	return p.pts[i].Mul(b0).Add(p.pts[i+1].Mul(b1)).Add(p.pts[i+2].Mul(b2)).Add(p.pts[i+3].Mul(b3))
}
