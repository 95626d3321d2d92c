package surgical

import (
	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// Two-instrument layout: ports either side; for bi-peg-transfer the
// workspaces overlap only in a 4 mm band around x = 0 (SurRoL BiPegTransfer
// splits the workspaces at y = 0 with about 4 mm of overlap), so the block
// must change hands in the air.
var (
	portL   = vec{-6, 14}
	portR   = vec{6, 14}
	wsSplit = []rect{{-5.5, 0, 0.2, 8}, {-0.2, 0, 5.5, 8}}
	view2   = [4]float64{-9, -1.5, 9, 15}
)

// biPegTransfer: instrument 1 lifts the block from a left peg, hands it to
// instrument 2 over the middle, and instrument 2 seats it on a right peg.
type biPegTransfer struct {
	*bench
	block *box2d.B2Body
	goalX float64
	goal  sim.Pose
}

func newBiPegTransfer() sim.Task {
	obs := append(toolObsNames(0, 2), toolObsNames(1, 2)...)
	t := &biPegTransfer{bench: newBench(sim.Spec{
		Name:        "bi-peg-transfer",
		Description: "Two instruments whose workspaces overlap only in a 4 mm band: lift the block off a left peg, hand it over in mid-air, seat it on a right peg and let go with both.",
		Source:      "SurRoL BiPegTransfer (med-air/SurRoL surrol/tasks/peg_transfer_bimanual.py), planar side view",
		Horizon:     horizon2,
		ObsNames:    append(obs, "block_x", "block_y", "block_angle", "goal_x", "goal_y"),
	}, []vec{portL, portR}, wsSplit)}
	sb := newScene(view2)
	sb.floor()
	sb.pegs()
	sb.block("block")
	sb.goal("goal", seatLat)
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset seats the block on a random left peg; the goal is a random right peg.
func (t *biPegTransfer) Reset(seed uint64) {
	t.begin(seed)
	addFloor(t.world, 0)
	addPegs(t.world)
	src, dst := t.rng.IntN(3), 3+t.rng.IntN(3)
	t.goalX = pegXs[dst]
	t.goal = sim.Pose{X: t.goalX}
	t.block = addBlock(t.world, vec{pegXs[src], 0})
	t.graspable = append(t.graspable, t.block)
	t.tools[0].place(vec{t.uniform(-5, -1), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.tools[1].place(vec{t.uniform(1, 5), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{body: t.block}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *biPegTransfer) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	o = t.observeTool(o, 1)
	p := bodyPos(t.block)
	_ = append(o, p[0], p[1], t.block.M_sweep.A, t.goal.X, t.goal.Y)
}

func (t *biPegTransfer) Success() bool {
	return seated(t.block, t.goalX) && t.holder(t.block) < 0
}

func (t *biPegTransfer) Reward() float64 { return sparse(t.Success()) }
func (t *biPegTransfer) Terminal() bool  { return false }

// Expert: pick with 1, carry to the band, grasp with 2, release 1 and back
// it off, then place with 2; P gain 0.7 (SurRoL BiPegTransfer oracle).
func (t *biPegTransfer) Expert(skill float64, seed uint64) sim.Policy {
	a, b := t.tools[0], t.tools[1]
	sc := &script{gain: 0.7, build: func(sc *script) {
		pickStages(sc, 0, a, t.block)
		origin := func() vec { return bodyPos(t.block) }
		sc.add(stage{tool: 0, to: carryPoint(a, origin, vec{0, carryH - knobGrip}), jaw: -1, tol: 0.04})
		knob := func(dy float64) func() (vec, float64) {
			return func() (vec, float64) { return worldPoint(t.block, vec{0, knobGrip + dy}), 0 }
		}
		retry := len(sc.stages)
		sc.add(stage{tool: 1, to: knob(1.5), jaw: 1, tol: 0.15})
		sc.add(stage{tool: 1, to: knob(0), jaw: 1, tol: 0.04})
		sc.add(stage{tool: 1, to: knob(0), jaw: -1, tol: 1, until: func() bool { return b.grip.held == t.block }, timeout: 4, retry: retry})
		sc.add(stage{tool: 0, to: func() (vec, float64) { return a.tip(), 0 }, jaw: 1, tol: 1, wait: 2})
		sc.add(stage{tool: 0, to: func() (vec, float64) { return vec{-2, carryH + 2}, 0 }, jaw: 1, tol: 0.3})
		placeStages(sc, 1, b, t.block, t.goalX)
	}}
	return t.expertFor(sc, skill, seed)
}
