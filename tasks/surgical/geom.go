package surgical

import (
	"math"

	"github.com/ByteArena/box2d"
	"github.com/go-gl/mathgl/mgl64"
)

// vec is a point or displacement in the plane, in centimetres.
type vec = mgl64.Vec2

// deg converts degrees to radians.
const deg = math.Pi / 180

// dir is the unit vector of a jaw or shaft direction phi, measured from
// straight down (phi = 0 points along -y) and positive towards +x.
func dir(phi float64) vec { return vec{math.Sin(phi), -math.Cos(phi)} }

// angleOf inverts dir: the phi whose dir is parallel to v.
func angleOf(v vec) float64 { return math.Atan2(v[0], -v[1]) }

// wrap maps an angle to (-pi, pi].
func wrap(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a <= 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

// rot rotates v by angle a (counter-clockwise).
func rot(v vec, a float64) vec {
	s, c := math.Sincos(a)
	return vec{c*v[0] - s*v[1], s*v[0] + c*v[1]}
}

func b2(v vec) box2d.B2Vec2       { return box2d.B2Vec2{X: v[0], Y: v[1]} }
func fromB2(v box2d.B2Vec2) vec   { return vec{v.X, v.Y} }
func bodyPos(b *box2d.B2Body) vec { return fromB2(b.M_xf.P) }
func worldPoint(b *box2d.B2Body, local vec) vec {
	return bodyPos(b).Add(rot(local, b.M_sweep.A))
}

// rect is an axis-aligned rectangle: min x, min y, max x, max y.
type rect [4]float64

func (r rect) clamp(p vec) vec {
	return vec{clamp(p[0], r[0], r[2]), clamp(p[1], r[1], r[3])}
}

// boxPoints lists the corners of a box of half sizes hx, hy centred at c and
// turned by a, for drawing.
func boxPoints(hx, hy float64, c vec, a float64) [][2]float64 {
	out := make([][2]float64, 4)
	for i, p := range []vec{{-hx, -hy}, {hx, -hy}, {hx, hy}, {-hx, hy}} {
		q := c.Add(rot(p, a))
		out[i] = [2]float64{q[0], q[1]}
	}
	return out
}
