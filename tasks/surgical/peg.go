package surgical

import (
	"math"

	"github.com/ByteArena/box2d"
)

// Peg board and block geometry (cm), seen from the side. The block is a ring
// (an inverted U whose slot fits over a peg) with a knob on top to grasp.
const (
	pegHX     = 0.15
	pegH      = 1.0
	legHX     = 0.175
	slotHX    = 0.25 // slot half width: 1 mm clearance each side of a peg
	slotH     = 1.2
	barH      = 0.3
	knobHX    = 0.15
	knobH     = 0.6
	blockMass = 0.02 // kg (tandem's choice)
	seatLat   = 0.5  // SurRoL PegTransfer: lateral distance < 5 mm
	seatH     = 0.4  // SurRoL PegTransfer: |Δz| < 4 mm
	knobBase  = slotH + barH
	knobGrip  = knobBase + 0.05 // open jaw tip height above the block's base
	carryH    = 3.4             // jaw tip height while carrying, block clear of pegs
)

// pegXs are the peg positions: three on each side of the board.
var pegXs = [6]float64{-4.5, -3, -1.5, 1.5, 3, 4.5}

// addPegs adds the static pegs.
func addPegs(w *box2d.B2World) {
	for _, x := range pegXs {
		p := staticBody(w, vec{x, pegH / 2}, 0)
		addBox(p, pegHX, pegH/2, vec{}, 0, fixtureOpts{cat: catStatic, friction: 0.3})
	}
}

// addBlock adds the block with its base centre at p.
func addBlock(w *box2d.B2World, p vec) *box2d.B2Body {
	b := dynamicBody(w, p, 0)
	o := fixtureOpts{cat: catObject, friction: 0.3}
	for _, s := range [2]float64{-1, 1} {
		addBox(b, legHX, slotH/2, vec{s * (slotHX + legHX), slotH / 2}, 0, o)
	}
	addBox(b, slotHX+2*legHX, barH/2, vec{0, slotH + barH/2}, 0, o)
	addBox(b, knobHX, knobH/2, vec{0, knobBase + knobH/2}, 0, o)
	b.ResetMassData()
	setMass(b, blockMass)
	return b
}

func (b *sceneBuilder) pegs() {
	for _, x := range pegXs {
		b.box(-1, pegHX, pegH/2, vec{x, pegH / 2}, 0, "#b0a070", 1)
	}
}

func (b *sceneBuilder) block(name string) {
	k := b.body(name)
	for _, s := range [2]float64{-1, 1} {
		b.box(k, legHX, slotH/2, vec{s * (slotHX + legHX), slotH / 2}, 0, colObject, 3)
	}
	b.box(k, slotHX+2*legHX, barH/2, vec{0, slotH + barH/2}, 0, colObject, 3)
	b.box(k, knobHX, knobH/2, vec{0, knobBase + knobH/2}, 0, colObject, 3)
}

// seated reports whether the block sits on the peg at x: within 5 mm
// laterally and 4 mm of resting height (SurRoL's test).
func seated(block *box2d.B2Body, x float64) bool {
	p := bodyPos(block)
	return math.Abs(p[0]-x) < seatLat && math.Abs(p[1]) < seatH
}

// pickStages appends the stages that grasp the block's knob with tool k and
// lift it to carry height. The first appended stage is the retry point.
func pickStages(sc *script, k int, in *instrument, block *box2d.B2Body) {
	first := len(sc.stages)
	knob := func(dy float64) func() (vec, float64) {
		return func() (vec, float64) { return worldPoint(block, vec{0, knobGrip + dy}), 0 }
	}
	sc.add(stage{tool: k, to: knob(1.5), jaw: 1, tol: 0.15})
	sc.add(stage{tool: k, to: knob(0), jaw: 1, tol: 0.04})
	sc.add(stage{tool: k, to: knob(0), jaw: -1, tol: 1, until: func() bool { return in.grip.held == block }, timeout: 4, retry: first})
	sc.add(stage{tool: k, to: func() (vec, float64) { return vec{in.tip()[0], carryH}, 0 }, jaw: -1, tol: 0.2, freeze: true})
}

// placeStages appends the stages that carry the held block over the peg at
// x, lower it onto the peg, release it and back off.
func placeStages(sc *script, k int, in *instrument, block *box2d.B2Body, x float64) {
	origin := func() vec { return bodyPos(block) }
	sc.add(stage{tool: k, to: carryPoint(in, origin, vec{x, carryH - knobGrip}), jaw: -1, tol: 0.04})
	sc.add(stage{tool: k, to: carryPoint(in, origin, vec{x, 0.08}), jaw: -1, tol: 0.04})
	sc.add(stage{tool: k, to: func() (vec, float64) { return in.tip(), 0 }, jaw: 1, tol: 1, wait: 2})
	sc.add(stage{tool: k, to: func() (vec, float64) { return vec{in.tip()[0], carryH + 1}, 0 }, jaw: 1, tol: 0.2, wait: math.MaxInt32, freeze: true})
}
