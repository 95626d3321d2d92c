package surgical

import (
	"github.com/ByteArena/box2d"

	"tandem/sim"
)

// pegTransfer: move the block from its peg to a goal peg on the other side
// of the board and leave it seated there.
type pegTransfer struct {
	*bench
	block *box2d.B2Body
	goalX float64
	goal  sim.Pose
}

func newPegTransfer() sim.Task {
	t := &pegTransfer{bench: newBench(sim.Spec{
		Name:        "peg-transfer",
		Description: "Lift a ring block off its peg, carry it over the board and seat it on a goal peg on the other side, then let go.",
		Source:      "SurRoL PegTransfer (med-air/SurRoL surrol/tasks/peg_transfer.py), planar side view",
		Horizon:     horizon1,
		ObsNames: append(toolObsNames(0, 1),
			"block_x", "block_y", "block_angle", "rel_x", "rel_y", "goal_x", "goal_y"),
	}, []vec{port1}, []rect{ws1})}
	sb := newScene(view1)
	sb.floor()
	sb.pegs()
	sb.block("block")
	sb.goal("goal", seatLat)
	sb.tools(t.ports)
	t.scene = sb.done()
	t.Reset(0)
	return t
}

// Reset seats the block on a random peg and picks a goal peg on the other
// side.
func (t *pegTransfer) Reset(seed uint64) {
	t.begin(seed)
	addFloor(t.world, 0)
	addPegs(t.world)
	src := t.rng.IntN(6)
	dst := t.rng.IntN(3)
	if src < 3 {
		dst += 3
	}
	t.goalX = pegXs[dst]
	t.goal = sim.Pose{X: t.goalX, Y: 0}
	t.block = addBlock(t.world, vec{pegXs[src], 0})
	t.graspable = append(t.graspable, t.block)
	t.tools[0].place(vec{t.uniform(-4, 4), t.uniform(5.5, 7.5)}, 0, jawOpen)
	t.poses = append(t.poses, poseSrc{body: t.block}, poseSrc{marker: &t.goal})
	t.trackTools()
	t.ready()
}

func (t *pegTransfer) Observe(dst []float64) {
	o := t.observeTool(dst[:0], 0)
	p := bodyPos(t.block)
	r := p.Sub(t.tools[0].tip())
	_ = append(o, p[0], p[1], t.block.M_sweep.A, r[0], r[1], t.goal.X, t.goal.Y)
}

func (t *pegTransfer) Success() bool {
	return seated(t.block, t.goalX) && t.holder(t.block) < 0
}

func (t *pegTransfer) Reward() float64 { return sparse(t.Success()) }
func (t *pegTransfer) Terminal() bool  { return false }

// Expert: pick by the knob, lift, carry over, lower onto the goal peg,
// release; P gain 0.7 (SurRoL PegTransfer oracle).
func (t *pegTransfer) Expert(skill float64, seed uint64) sim.Policy {
	in := t.tools[0]
	sc := &script{gain: 0.7, build: func(sc *script) {
		pickStages(sc, 0, in, t.block)
		placeStages(sc, 0, in, t.block, t.goalX)
	}}
	return t.expertFor(sc, skill, seed)
}
