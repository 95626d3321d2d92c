package surgical

import (
	"math"

	"github.com/ByteArena/box2d"
)

// Needle and the tissue pad it rests on.
const (
	needleR     = 2.0  // cm: SurRoL's needle is a rigid semicircle of radius 2 cm
	needleMass  = 0.01 // kg: SurRoL's needle weighs 10 g
	needleWire  = 0.12 // cm: wire thickness (tandem's choice, above Box2D's skin)
	needleSegs  = 8    // boxes along the arc
	graspAngTol = 20 * deg
	padHalfW    = 3.6
	padHalfH    = 0.6
	padTop      = 0.8 // height of the pad surface under the needle's centre
)

// arcPoint is the needle point at arc angle a in the needle's frame: a = 0
// and pi are the ends, pi/2 the midpoint.
func arcPoint(a float64) vec { return vec{needleR * math.Cos(a), needleR * math.Sin(a)} }

// addNeedle makes the needle as a dynamic body whose frame is the arc's
// centre, turned by psi.
func addNeedle(w *box2d.B2World, centre vec, psi float64) *box2d.B2Body {
	b := dynamicBody(w, centre, psi)
	half := needleR * math.Sin(math.Pi/(2*needleSegs))
	for i := range needleSegs {
		a0 := math.Pi * float64(i) / needleSegs
		a1 := math.Pi * float64(i+1) / needleSegs
		c := arcPoint(a0).Add(arcPoint(a1)).Mul(0.5)
		addBox(b, half+needleWire/4, needleWire/2, c, (a0+a1)/2+math.Pi/2, fixtureOpts{cat: catObject, friction: 1})
	}
	b.ResetMassData()
	setMass(b, needleMass)
	b.SetBullet(false)
	return b
}

// needleOnPad returns the centre of a needle resting on a pad whose surface
// passes through (x, padTop) at slope psi.
func needleOnPad(x, psi float64) vec {
	return vec{x, padTop}.Add(rot(vec{0, needleWire / 2}, psi))
}

// addPad adds the static tissue pad under the needle: its top surface passes
// through (x, padTop) at slope psi. The slope stands in for SurRoL's random
// needle yaw: the jaw must turn to meet the needle square.
func addPad(w *box2d.B2World, x, psi float64) *box2d.B2Body {
	c := vec{x, padTop}.Add(rot(vec{0, -padHalfH}, psi))
	p := staticBody(w, c, psi)
	addBox(p, padHalfW, padHalfH, vec{}, 0, fixtureOpts{cat: catStatic, friction: 1})
	return p
}

// needleMid is the world position of the needle's arc midpoint.
func needleMid(n *box2d.B2Body) vec { return worldPoint(n, arcPoint(math.Pi/2)) }

// needleAt is the world position of arc angle a.
func needleAt(n *box2d.B2Body, a float64) vec { return worldPoint(n, arcPoint(a)) }

// needleNormal is the jaw direction (phi) that meets the needle square at
// arc angle a: along the inward normal, towards the arc's centre.
func needleNormal(n *box2d.B2Body, a float64) float64 {
	return angleOf(rot(arcPoint(a), n.M_sweep.A).Mul(-1))
}

// needleAligned is the needle grasp rule: the jaw direction must be within
// 20° of the arc normal where the jaw closes on the needle (at the jaw tip:
// in the plane the fingertips pinch the wire).
func needleAligned(in *instrument, n *box2d.B2Body) bool {
	p := in.tip()
	local := rot(p.Sub(bodyPos(n)), -n.M_sweep.A)
	a := math.Atan2(local[1], local[0])
	return math.Abs(wrap(in.phi()-needleNormal(n, a))) <= graspAngTol
}

// needleScene draws a needle body (arc in its frame).
func (b *sceneBuilder) needle(name string) int {
	n := b.body(name)
	b.arc(n, needleR, 0, math.Pi, needleWire, colNeedle, 3)
	return n
}

// pad draws the tissue pad body.
func (b *sceneBuilder) pad() int {
	p := b.body("pad")
	b.box(p, padHalfW, padHalfH, vec{}, 0, colTissue, 1)
	return p
}

// layNeedle builds the layout needle-reach and needle-pick share: the
// floor, a tissue pad whose centre x is drawn in ±1 cm (SurRoL's needle
// position range) and whose slope in ±25° (standing in for SurRoL's ±90°
// needle yaw, which the plane cannot show), and the needle lying on it.
func (s *bench) layNeedle() (pad, needle *box2d.B2Body) {
	x := s.uniform(-1, 1)
	psi := s.uniform(-25, 25) * deg
	pad = addPad(s.world, x, psi)
	addFloor(s.world, 0)
	return pad, addNeedle(s.world, needleOnPad(x, psi), psi)
}
