package surgical

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// Soft tissue flap: a grid of small bodies (two rows, seen edge-on) joined
// by springy distance joints, diagonals included for shear, pinned along its
// base edge.
const (
	flapCols     = 9
	flapGap      = 0.5  // cm between columns
	flapThick    = 0.2  // cm between the rows
	lipX         = 0.8  // the grasping lip sits this far beyond the free edge
	flapBaseX    = -3.5 // x of the pinned base edge
	nodeR        = 0.1
	nodeMass     = 0.002 // kg per node (tandem's choice)
	flapHz       = 10    // spring frequency: the stiff end of 4–10 Hz
	flapDamping  = 0.6   // damping ratio, within 0.5–0.7
	flapWeight   = 0.03  // gravity scale; see tissueGravity
	tearRatio    = 1.5   // a joint stretched beyond 1.5× its rest length tears
	uncoverGoal  = 0.9   // the target must be at least 90% uncovered
	holdSeconds  = 2.0   // for 10 control steps at 5 Hz
	targetHalf   = 0.6   // target half width
	coverSamples = 60
)

// tissueGravity: a two-row spring grid has no bending stiffness of its own,
// and at 4–10 Hz springs carry little weight (static stretch g/ω² ≈ 0.4 cm
// per node at 8 Hz), so a flap under full gravity would tear under its own
// weight when lifted. Real tissue is carried by its stiffness and the
// tissue beneath; the scaled gravity stands in for that.
const tissueGravity = flapWeight

// flapJoint is one spring: node indices and rest length.
type flapJoint struct {
	a, b int
	rest float64
}

// flap is the tissue model and its bookkeeping. Node 2j is the bottom node
// of column j, 2j+1 the top. The free edge (last column) is one rigid body
// carrying both its nodes, a tab the jaw grasps: holding a single node would
// leave the short vertical spring below it to carry the whole edge.
type flap struct {
	nodes  [2 * flapCols]*box2d.B2Body
	offset [2 * flapCols]vec // node position in its body's frame
	joints []flapJoint
}

// at is the world position of node i.
func (f *flap) at(i int) vec { return worldPoint(f.nodes[i], f.offset[i]) }

func node(col, row int) int { return 2*col + row }

// build adds the flap to w lying on the floor from flapBaseX.
func (f *flap) build(w *box2d.B2World) {
	for j := range flapCols {
		for r := range 2 {
			p := vec{flapBaseX + flapGap*float64(j), nodeR + flapThick*float64(r)}
			var b *box2d.B2Body
			off := vec{}
			switch {
			case j == 0:
				b = staticBody(w, p, 0)
			case j == flapCols-1 && r == 1:
				b, off = f.nodes[node(j, 0)], vec{0, flapThick}
			default:
				b = dynamicBody(w, p, 0)
			}
			o := fixtureOpts{cat: catTissue, group: -10, friction: 0.8}
			addCircle(b, nodeR, off, o)
			if j == flapCols-1 && r == 1 {
				addCircle(b, nodeR, vec{lipX, flapThick}, o)
			}
			if j > 0 {
				b.ResetMassData()
				setMass(b, nodeMass*(1+2*float64(r)))
				b.SetGravityScale(tissueGravity)
			}
			f.nodes[node(j, r)], f.offset[node(j, r)] = b, off
		}
	}
	f.joints = f.joints[:0]
	link := func(a, b int) {
		pa, pb := f.at(a), f.at(b)
		def := box2d.MakeB2DistanceJointDef()
		def.Initialize(f.nodes[a], f.nodes[b], b2(pa), b2(pb))
		def.FrequencyHz, def.DampingRatio = flapHz, flapDamping
		w.CreateJoint(&def)
		f.joints = append(f.joints, flapJoint{a: a, b: b, rest: pa.Sub(pb).Len()})
	}
	for j := range flapCols {
		if j > 0 && j < flapCols-1 {
			link(node(j, 0), node(j, 1))
		}
		if j+1 < flapCols {
			link(node(j, 0), node(j+1, 0))
			link(node(j, 1), node(j+1, 1))
			link(node(j, 0), node(j+1, 1))
			link(node(j, 1), node(j+1, 0))
		}
	}
}

// nodes holds every node's world position, computed once per check.
type nodes [2 * flapCols]vec

// positions writes every node's world position into p.
func (f *flap) positions(p *nodes) {
	for i := range f.nodes {
		p[i] = f.at(i)
	}
}

// stretch is the largest length/rest ratio over the springs.
func (f *flap) stretch() float64 {
	var p nodes
	f.positions(&p)
	return f.stretchAt(&p)
}

// stretchAt is stretch with the node positions p.
func (f *flap) stretchAt(p *nodes) float64 {
	m := 0.0
	for _, j := range f.joints {
		l := p[j.a].Sub(p[j.b]).Len()
		m = max(m, l/j.rest)
	}
	return m
}

// uncovered is the fraction of the target interval [x0, x1] on the floor not
// under the flap: a sample is covered when it lies within the horizontal
// extent of any bay (the quad between two columns), i.e. seen from above.
func (f *flap) uncovered(x0, x1 float64) float64 {
	var p nodes
	f.positions(&p)
	return f.uncoveredAt(&p, x0, x1)
}

// uncoveredAt is uncovered with the node positions p.
func (f *flap) uncoveredAt(p *nodes, x0, x1 float64) float64 {
	// Each bay's horizontal extent.
	var lo, hi [flapCols - 1]float64
	for j := range lo {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for _, n := range [4]int{node(j, 0), node(j, 1), node(j+1, 0), node(j+1, 1)} {
			px := p[n][0]
			lo[j], hi[j] = min(lo[j], px-nodeR), max(hi[j], px+nodeR)
		}
	}
	free := 0
	for i := range coverSamples {
		x := x0 + (x1-x0)*(float64(i)+0.5)/coverSamples
		covered := false
		for j := 0; j < len(lo) && !covered; j++ {
			covered = x >= lo[j] && x <= hi[j]
		}
		if !covered {
			free++
		}
	}
	return float64(free) / coverSamples
}

// grip is the body the instrument lifts the flap by: the free edge's tab.
func (f *flap) grip() *box2d.B2Body { return f.nodes[node(flapCols-1, 0)] }

// edge is the lip on the free edge's tab, where the jaw takes hold: far
// enough out that the open jaw straddles it without touching the flap.
func (f *flap) edge() vec { return worldPoint(f.grip(), vec{lipX, flapThick}) }

// pivot is the base edge's top node, about which the flap folds back.
func (f *flap) pivot() vec { return f.at(node(0, 1)) }

// flap draws the nodes: one body per node, except the free edge's tab
// which carries two circles.
func (b *sceneBuilder) flap() {
	for j := range flapCols {
		for r := range 2 {
			if j == flapCols-1 && r == 1 {
				tab := len(b.sc.Bodies) - 1
				b.circle(tab, nodeR, vec{0, flapThick}, colTissue, true, 3, "")
				b.shape(sim.Shape{Body: tab, Kind: sim.Polyline, Points: [][2]float64{{0, flapThick}, {lipX, flapThick}}, Width: 0.05, Color: colTissue, Layer: 3})
				b.circle(tab, nodeR, vec{lipX, flapThick}, colTissue, true, 3, "lip")
				continue
			}
			n := b.body("tissue" + string(rune('a'+j)) + string(rune('0'+r)))
			b.circle(n, nodeR, vec{}, colTissue, true, 3, "")
		}
	}
}
