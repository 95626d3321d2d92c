package surgical

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// Gauze pad: a rigid 50 g box as in SurRoL, seen edge-on.
const (
	gauzeHX   = 1.0
	gauzeHY   = 0.15
	gauzeMass = 0.05 // kg: SurRoL's gauze weighs 50 g
	gauzeLift = 4.7  // cm: SurRoL lifts the gauze goal 4.7 cm above the table
)

// gauzeRetrieve: pinch the gauze pad from above and bring it to a goal in
// the air; success while it is held within 5 mm of the goal.
type gauzeRetrieve struct {
	*bench
	gauze *box2d.B2Body
	goal  sim.Pose
}

func newGauzeRetrieve() sim.Task {
	t := &gauzeRetrieve{bench: newBench(sim.Spec{
		Name:        "gauze-retrieve",
		Description: "Pinch a gauze pad lying on the tissue and lift it to a goal point in the air; success while held within 5 mm of the goal.",
		Source:      "SurRoL GauzeRetrieve (med-air/SurRoL surrol/tasks/gauze_retrieve.py), planar side view",
		Horizon:     horizon1,
		ObsNames: append(toolObsNames(0, 1),
			"gauze_x", "gauze_y", "gauze_angle", "rel_x", "rel_y", "goal_x", "goal_y"),
	}, []vec{port1}, []rect{ws1})}
	sb := newScene(view1)
	sb.floor()
	g := sb.body("gauze")
	sb.box(g, gauzeHX, gauzeHY, vec{}, 0, "#f4f4f0", 3)
	sb.goal("goal", successDist)
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset places the gauze at x in [-3, 3] and the goal at x ~ N(0, 2 cm)
// (SurRoL), clipped to the workspace, 4.7 cm up.
func (t *gauzeRetrieve) Reset(seed uint64) {
	t.begin(seed)
	addFloor(t.world, 0)
	x := t.uniform(-3, 3)
	t.gauze = dynamicBody(t.world, vec{x, gauzeHY}, 0)
	addBox(t.gauze, gauzeHX, gauzeHY, vec{}, 0, fixtureOpts{cat: catObject, friction: 1})
	t.gauze.ResetMassData()
	setMass(t.gauze, gauzeMass)
	t.graspable = append(t.graspable, t.gauze)
	gx := clamp(t.rng.NormFloat64()*2, -4, 4)
	t.goal = sim.Pose{X: gx, Y: gauzeLift}
	t.tools[0].place(vec{t.uniform(-4, 4), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{body: t.gauze}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *gauzeRetrieve) goalVec() vec { return vec{t.goal.X, t.goal.Y} }

func (t *gauzeRetrieve) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	p := bodyPos(t.gauze)
	r := p.Sub(t.tools[0].tip())
	_ = append(o, p[0], p[1], t.gauze.M_sweep.A, r[0], r[1], t.goal.X, t.goal.Y)
}

func (t *gauzeRetrieve) Success() bool {
	return t.tools[0].grip.held == t.gauze && bodyPos(t.gauze).Sub(t.goalVec()).Len() < successDist
}

func (t *gauzeRetrieve) Reward() float64 { return sparse(t.Success()) }
func (t *gauzeRetrieve) Terminal() bool  { return false }

// Expert: above the pad, down to pinch its top, close, then carry the pad's
// centre to the goal; P gain 0.6 (SurRoL GauzeRetrieve oracle).
func (t *gauzeRetrieve) Expert(skill float64, seed uint64) sim.Policy {
	in := t.tools[0]
	sc := &script{gain: 0.6, build: func(sc *script) {
		top := func(dy float64) func() (vec, float64) {
			return func() (vec, float64) {
				return worldPoint(t.gauze, vec{0, gauzeHY + dy}), 0
			}
		}
		held := func() bool { return in.grip.held == t.gauze }
		sc.add(stage{to: top(1.5), jaw: 1, tol: 0.15})
		sc.add(stage{to: top(-0.02), jaw: 1, tol: 0.04})
		sc.add(stage{to: top(-0.02), jaw: -1, tol: 1, until: held, timeout: 4, retry: 0})
		sc.add(stage{to: carry(in, t.gauze, t.goalVec()), jaw: -1, tol: 0.1, wait: math.MaxInt32})
	}}
	return t.expertFor(sc, skill, seed)
}

// carry is a target that moves the held body's origin to goal: the jaw tip
// goes where it is now plus the body's remaining offset.
func carry(in *instrument, b *box2d.B2Body, goal vec) func() (vec, float64) {
	return func() (vec, float64) {
		return in.tip().Add(goal.Sub(bodyPos(b))), in.phi()
	}
}
