package surgical

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

const needleLift = 4.5 // cm: goal height of the midpoint (SurRoL lifts 4 cm above the needle)

// needlePick: turn the jaw square to the needle, grasp it at the midpoint
// and lift it to a goal; success when the midpoint is within 5 mm of it.
type needlePick struct {
	*bench
	needle *box2d.B2Body
	pad    *box2d.B2Body
	goal   sim.Pose
}

func newNeedlePick() sim.Task {
	t := &needlePick{bench: newBench(sim.Spec{
		Name:        "needle-pick",
		Description: "Turn the jaw square to a needle on a sloped tissue pad, grasp it (only within 20° of the arc normal) and lift its midpoint to a goal.",
		Source:      "SurRoL NeedlePick (med-air/SurRoL surrol/tasks/needle_pick.py), planar side view",
		Horizon:     horizon1,
		ObsNames: append(toolObsNames(0, 1),
			"needle_x", "needle_y", "needle_angle", "rel_x", "rel_y", "goal_x", "goal_y"),
	}, []vec{port1}, []rect{ws1})}
	t.rule = func(k int, obj *box2d.B2Body) bool { return needleAligned(t.tools[k], obj) }
	sb := newScene(view1)
	sb.floor()
	sb.pad()
	sb.needle("needle")
	sb.goal("goal", successDist)
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset: needle x ±1 cm and pad slope ±25° as needle-reach; goal x ~
// N(0, 1 cm) (SurRoL), clipped, at needleLift.
func (t *needlePick) Reset(seed uint64) {
	t.begin(seed)
	t.pad, t.needle = t.layNeedle()
	t.graspable = append(t.graspable, t.needle)
	t.goal = sim.Pose{X: clamp(t.rng.NormFloat64(), -2.5, 2.5), Y: needleLift}
	t.tools[0].place(vec{t.uniform(-4, 4), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{body: t.pad}, poseSrc{body: t.needle}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *needlePick) goalVec() vec { return vec{t.goal.X, t.goal.Y} }

func (t *needlePick) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	m := needleMid(t.needle)
	r := m.Sub(t.tools[0].tip())
	_ = append(o, m[0], m[1], t.needle.M_sweep.A, r[0], r[1], t.goal.X, t.goal.Y)
}

func (t *needlePick) Success() bool {
	return needleMid(t.needle).Sub(t.goalVec()).Len() < successDist
}

func (t *needlePick) Reward() float64 { return sparse(t.Success()) }
func (t *needlePick) Terminal() bool  { return false }

// pinchDepth puts the open jaw tip just past the wire's centre line: the
// open fingertips clear the wire and meet it as the jaw closes. In the plane
// the jaw pinches the wire between its fingertips, as it pinches the gauze.
const pinchDepth = 0.05

// Expert: square up outside the midpoint, move in along the normal, close,
// lift the midpoint to the goal; P gain 0.4 (SurRoL NeedlePick oracle).
func (t *needlePick) Expert(skill float64, seed uint64) sim.Policy {
	in := t.tools[0]
	sc := &script{gain: 0.4, build: func(sc *script) {
		grasp := needleGrasp(t.needle, math.Pi/2)
		sc.add(stage{to: grasp(-1.5), jaw: 1, tol: 0.15})
		sc.add(stage{to: grasp(pinchDepth), jaw: 1, tol: 0.04})
		sc.add(stage{to: grasp(pinchDepth), jaw: -1, tol: 1, until: func() bool { return in.grip.held == t.needle }, timeout: 4, retry: 0})
		sc.add(stage{to: carryPoint(in, func() vec { return needleMid(t.needle) }, t.goalVec()), jaw: -1, tol: 0.1, wait: math.MaxInt32})
	}}
	return t.expertFor(sc, skill, seed)
}

// needleGrasp returns targets on the normal through arc angle a: the jaw tip
// at depth past the wire (negative: outside the arc), jaw square to it.
func needleGrasp(n *box2d.B2Body, a float64) func(depth float64) func() (vec, float64) {
	return func(depth float64) func() (vec, float64) {
		return func() (vec, float64) {
			phi := needleNormal(n, a)
			return needleAt(n, a).Add(dir(phi).Mul(depth)), phi
		}
	}
}

// carryPoint moves the point p() of a held object to goal.
func carryPoint(in *instrument, p func() vec, goal vec) func() (vec, float64) {
	return func() (vec, float64) {
		return in.tip().Add(goal.Sub(p())), in.phi()
	}
}
