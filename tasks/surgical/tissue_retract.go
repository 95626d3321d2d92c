package surgical

import (
	"math"

	"tandem/sim"
)

// tissueRetract: lift a soft flap that covers a target and hold it so the
// target stays at least 90% uncovered for 2 s (10 control steps), without
// stretching any spring beyond 1.5× its rest length (a tear ends the
// episode as a failure).
type tissueRetract struct {
	*bench
	flap     flap
	target   sim.Pose // centre of the target interval on the floor
	free     float64  // uncovered fraction after the last substep
	held     float64  // seconds the target has stayed uncovered
	torn     bool
	maxRatio float64 // largest spring stretch seen this episode
}

func newTissueRetract() sim.Task {
	t := &tissueRetract{bench: newBench(sim.Spec{
		Name:        "tissue-retract",
		Description: "Grasp the free edge of a soft tissue flap covering a target and fold it back so the target stays at least 90% uncovered for 2 s, without tearing the tissue (any spring beyond 1.5× rest length).",
		Source:      "tandem (tissue retraction in the SurRoL style; soft body as a Box2D spring grid)",
		Horizon:     horizon1,
		ObsNames: append(toolObsNames(0, 1),
			"edge_x", "edge_y", "rel_x", "rel_y", "target_x0", "target_x1", "uncovered", "hold", "stretch"),
	}, []vec{port1}, []rect{ws1})}
	t.after = t.check
	t.gripHz = 1
	sb := newScene(view1)
	sb.floor()
	tg := sb.body("target")
	sb.box(tg, targetHalf, 0.05, vec{0, 0.05}, 0, colTarget, 2)
	sb.flap()
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset lays the flap flat over a target drawn under it.
func (t *tissueRetract) Reset(seed uint64) {
	t.begin(seed)
	addFloor(t.world, 0)
	t.flap.build(t.world)
	t.graspable = append(t.graspable, t.flap.grip())
	t.target = sim.Pose{X: t.uniform(-2.2, -0.5), Y: 0} // beyond the first bay, which the pinned edge holds down
	t.free, t.held, t.torn, t.maxRatio = 0, 0, false, 1
	t.free = t.flap.uncovered(t.target.X-targetHalf, t.target.X+targetHalf)
	t.tools[0].place(vec{t.uniform(-1, 4), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{marker: &t.target})
	for i, n := range t.flap.nodes {
		if i != node(flapCols-1, 1) { // the tab carries both edge nodes
			t.poses = append(t.poses, poseSrc{body: n})
		}
	}
	t.trackTools()
	t.ready()
}

// check runs after every substep: tearing, coverage and the hold timer.
func (t *tissueRetract) check(dt float64) {
	var p nodes
	t.flap.positions(&p)
	r := t.flap.stretchAt(&p)
	t.maxRatio = max(t.maxRatio, r)
	if r > tearRatio {
		t.torn = true
	}
	t.free = t.flap.uncoveredAt(&p, t.target.X-targetHalf, t.target.X+targetHalf)
	if t.free >= uncoverGoal && !t.torn {
		t.held += dt
	} else {
		t.held = 0
	}
}

func (t *tissueRetract) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	e := t.flap.edge()
	r := e.Sub(t.tools[0].tip())
	_ = append(o, e[0], e[1], r[0], r[1], t.target.X-targetHalf, t.target.X+targetHalf,
		t.free, min(t.held/holdSeconds, 1), t.flap.stretch())
}

// Success: uncovered for holdSeconds without a tear. The small tolerance
// absorbs the rounding of 48 substeps of 1/240 s into 0.2 s.
func (t *tissueRetract) Success() bool { return !t.torn && t.held >= holdSeconds-1e-6 }

func (t *tissueRetract) Reward() float64 { return sparse(t.Success()) }

// Terminal: a torn flap ends the episode as a failure.
func (t *tissueRetract) Terminal() bool { return t.torn }

// Expert: grasp the free edge, then swing it back along an arc about the
// pinned base slightly inside the flap's length (so no spring stretches),
// and hold it there; P gain 0.6 (as SurRoL's pick-and-lift oracles).
func (t *tissueRetract) Expert(skill float64, seed uint64) sim.Policy {
	in := t.tools[0]
	sc := &script{gain: 0.6, speed: 0.7, build: func(sc *script) {
		g := t.flap.grip()
		at := func(dy float64) func() (vec, float64) {
			return func() (vec, float64) { return t.flap.edge().Add(vec{0, dy}), 0 }
		}
		sc.add(stage{to: at(1.5), jaw: 1, tol: 0.15})
		sc.add(stage{to: at(-0.1), jaw: 1, tol: 0.05})
		sc.add(stage{to: at(-0.1), jaw: -1, tol: 1, until: func() bool { return in.grip.held == g }, timeout: 4, retry: 0})
		piv := t.flap.pivot()
		reach := t.flap.edge().Sub(piv).Len() * 0.9
		for i, a := range tissueArc {
			p := piv.Add(vec{math.Cos(a * deg), math.Sin(a * deg)}.Mul(reach))
			tol, wait := 0.4, 0
			if i == len(tissueArc)-1 {
				tol, wait = 0.1, math.MaxInt32
			}
			sc.add(stage{to: carryPoint(in, t.flap.edge, p), jaw: -1, tol: tol, wait: wait})
		}
	}}
	return t.expertFor(sc, skill, seed)
}

// tissueArc lists the expert's waypoint angles (degrees) about the base.
var tissueArc = []float64{30, 65, 100}
