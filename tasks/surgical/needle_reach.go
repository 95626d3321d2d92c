package surgical

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// Success threshold: SurRoL's DISTANCE_THRESHOLD is 5 mm.
const successDist = 0.5

// Single-instrument layout (cm): the port sits above and to the left of the
// workspace, so the shaft comes in obliquely as on a patient.
var (
	port1 = vec{-3, 14}
	ws1   = rect{-5.5, 0, 5.5, 8}
	view1 = [4]float64{-8, -1.5, 8, 15}
)

// needleReach: bring the jaw tip to 5 mm above the needle's arc midpoint.
type needleReach struct {
	*bench
	needle *box2d.B2Body
	pad    *box2d.B2Body
	goal   sim.Pose
}

func newNeedleReach() sim.Task {
	t := &needleReach{bench: newBench(sim.Spec{
		Name:        "needle-reach",
		Description: "Bring the instrument's jaw tip to 5 mm above the midpoint of a needle lying on a sloped tissue pad.",
		Source:      "SurRoL NeedleReach (med-air/SurRoL surrol/tasks/needle_reach.py), planar side view",
		Horizon:     horizon1,
		ObsNames: append(toolObsNames(0, 1),
			"needle_x", "needle_y", "needle_angle", "goal_x", "goal_y"),
	}, []vec{port1}, []rect{ws1})}
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

// Reset draws the needle position (±1 cm, as SurRoL), the pad slope (±25°,
// standing in for SurRoL's ±90° needle yaw) and a random start pose.
func (t *needleReach) Reset(seed uint64) {
	t.begin(seed)
	t.pad, t.needle = t.layNeedle()
	m := needleMid(t.needle)
	t.goal = sim.Pose{X: m[0], Y: m[1] + successDist}
	t.tools[0].place(vec{t.uniform(-4, 4), t.uniform(5.5, 7.5)}, 0, 0)
	t.poses = append(t.poses, poseSrc{body: t.pad}, poseSrc{body: t.needle}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *needleReach) goalVec() vec { return vec{t.goal.X, t.goal.Y} }

func (t *needleReach) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	m := needleMid(t.needle)
	_ = append(o, m[0], m[1], t.needle.M_sweep.A, t.goal.X, t.goal.Y)
}

func (t *needleReach) Success() bool {
	return t.tools[0].tip().Sub(t.goalVec()).Len() < successDist
}

func (t *needleReach) Reward() float64 { return sparse(t.Success()) }
func (t *needleReach) Terminal() bool  { return false }

// Expert: one waypoint, P gain 0.3 (SurRoL NeedleReach oracle).
func (t *needleReach) Expert(skill float64, seed uint64) sim.Policy {
	sc := &script{gain: 0.3, build: func(sc *script) {
		sc.add(stage{to: fixed(t.goalVec(), 0), jaw: -1, tol: 0.05, wait: math.MaxInt32})
	}}
	return t.expertFor(sc, skill, seed)
}
