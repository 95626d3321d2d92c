package surgical

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// Arc angles where the instruments hold the needle: 50° either side of the
// midpoint (SurRoL NeedleRegrasp hands over between the needle's ±45°/±60°
// waypoints).
const (
	regraspA1 = math.Pi/2 + 50*deg
	regraspA2 = math.Pi/2 - 50*deg
)

var wsWide = []rect{{-5.5, 0, 3, 8}, {-3, 0, 5.5, 8}}

// needleRegrasp: the needle starts held by instrument 1; instrument 2 grasps
// the other half square to the arc, instrument 1 lets go, and instrument 2
// brings the midpoint to the goal.
type needleRegrasp struct {
	*bench
	needle *box2d.B2Body
	goal   sim.Pose
}

func newNeedleRegrasp() sim.Task {
	obs := append(toolObsNames(0, 2), toolObsNames(1, 2)...)
	t := &needleRegrasp{bench: newBench(sim.Spec{
		Name:        "needle-regrasp",
		Description: "A needle starts held by instrument 1; instrument 2 grasps the other half square to the arc, instrument 1 releases, and instrument 2 brings the midpoint to a goal.",
		Source:      "SurRoL NeedleRegrasp (med-air/SurRoL surrol/tasks/needle_regrasp_bimanual.py), planar side view",
		Horizon:     horizon2,
		ObsNames:    append(obs, "needle_x", "needle_y", "needle_angle", "goal_x", "goal_y"),
	}, []vec{portL, portR}, wsWide)}
	t.rule = func(k int, obj *box2d.B2Body) bool { return needleAligned(t.tools[k], obj) }
	sb := newScene(view2)
	sb.floor()
	sb.needle("needle")
	sb.goal("goal", successDist)
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset puts the needle in the air, held by instrument 1, and draws a goal
// to the right.
func (t *needleRegrasp) Reset(seed uint64) {
	t.begin(seed)
	addFloor(t.world, 0)
	c := vec{t.uniform(-1, 0), t.uniform(2.5, 3.5)}
	psi := t.uniform(-15, 15) * deg
	t.needle = addNeedle(t.world, c, psi)
	t.graspable = append(t.graspable, t.needle)
	t.goal = sim.Pose{X: t.uniform(1, 2.5), Y: t.uniform(4, 5)}
	in := t.tools[0]
	phi := needleNormal(t.needle, regraspA1)
	in.place(needleAt(t.needle, regraspA1).Add(dir(phi).Mul(pinchDepth)), phi, 0.2)
	in.jawCmd = 0
	t.attach(in, t.needle)
	t.tools[1].place(vec{t.uniform(2, 5), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{body: t.needle}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *needleRegrasp) goalVec() vec { return vec{t.goal.X, t.goal.Y} }

func (t *needleRegrasp) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	o = t.observeTool(o, 1)
	m := needleMid(t.needle)
	_ = append(o, m[0], m[1], t.needle.M_sweep.A, t.goal.X, t.goal.Y)
}

// Success: midpoint within 5 mm of the goal, held by instrument 2 alone.
func (t *needleRegrasp) Success() bool {
	return t.tools[1].grip.held == t.needle && t.tools[0].grip.held == nil &&
		needleMid(t.needle).Sub(t.goalVec()).Len() < successDist
}

func (t *needleRegrasp) Reward() float64 { return sparse(t.Success()) }
func (t *needleRegrasp) Terminal() bool  { return false }

// Expert: 2 squares up outside its grasp point, moves in, closes; 1 opens
// and backs off along its normal; 2 carries the midpoint to the goal; P gain
// 0.5 (SurRoL NeedleRegrasp oracle).
func (t *needleRegrasp) Expert(skill float64, seed uint64) sim.Policy {
	a, b := t.tools[0], t.tools[1]
	sc := &script{gain: 0.5, build: func(sc *script) {
		g2 := needleGrasp(t.needle, regraspA2)
		sc.add(stage{tool: 1, to: g2(-1.5), jaw: 1, tol: 0.15})
		sc.add(stage{tool: 1, to: g2(pinchDepth), jaw: 1, tol: 0.04})
		sc.add(stage{tool: 1, to: g2(pinchDepth), jaw: -1, tol: 1, until: func() bool { return b.grip.held == t.needle }, timeout: 4, retry: 0})
		sc.add(stage{tool: 0, to: func() (vec, float64) { return a.tip(), a.phi() }, jaw: 1, tol: 1, wait: 2})
		sc.add(stage{tool: 0, to: func() (vec, float64) { return a.tip().Sub(dir(a.phi()).Mul(2)), a.phi() }, jaw: 1, tol: 0.3, freeze: true})
		sc.add(stage{tool: 1, to: carryPoint(b, func() vec { return needleMid(t.needle) }, t.goalVec()), jaw: -1, tol: 0.1, wait: math.MaxInt32})
	}}
	return t.expertFor(sc, skill, seed)
}
