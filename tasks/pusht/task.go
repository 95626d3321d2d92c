package pusht

import (
	"math"
	"math/rand/v2"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Task constants from Push-T (diffusion_policy env/pusht/pusht_env.py and
// config/task/pusht_lowdim.yaml).
const (
	controlHz        = 10   // metadata video.frames_per_second
	physicsHz        = 100  // sim_hz
	horizon          = 300  // max_steps of the evaluation
	successThreshold = 0.95 // success_threshold: 95 % coverage
)

// resetStream is the second PCG word of the reset draw (any fixed value).
const resetStream = 0x5eed_7075_4e54

// goalPose is the T's target: (256, 256) at π/4.
var goalPose = pose{vec{256, 256}, math.Pi / 4}

// Observation and action layout.
const (
	obsAgentX = iota
	obsAgentY
	obsBlockX
	obsBlockY
	obsBlockAngle
	obsSize
)

// Task is Push-T: push a T-shaped block onto a fixed goal pose with a
// circular agent that follows a target position. Use New.
type Task struct {
	w      *world
	target vec // agent's PD target, px

	cover      float64 // coverage of the current state
	coverValid bool

	scene sim.Scene
	pcg   rand.PCG
	rng   *rand.Rand // draws from pcg; reseeded by Reset
}

// New returns a Push-T task, reset to seed 0.
func New() sim.Task {
	t := &Task{w: newWorld()}
	t.scene = buildScene()
	t.rng = rand.New(&t.pcg)
	t.Reset(0)
	return t
}

var spec = func() sim.Spec {
	low, high := sim.Normalised(2)
	return sim.Spec{
		Name: "push-t",
		Kind: sim.Manipulation,
		Description: "Push a T-shaped block onto the green goal T with a round agent that " +
			"follows an absolute target position (quasi-static, frictionless).",
		Source:      "Diffusion Policy Push-T: real-stanford/diffusion_policy, diffusion_policy/env/pusht/pusht_env.py",
		ObsNames:    []string{"agent_x", "agent_y", "block_x", "block_y", "block_angle"},
		ActionNames: []string{"target_x", "target_y"},
		// Absolute targets: a period's last sub-tick target is where the
		// agent was sent.
		ActionKinds: []sim.ActionKind{sim.ActionLevel, sim.ActionLevel},
		ActionLow:   low,
		ActionHigh:  high,
		ControlHz:   controlHz,
		PhysicsHz:   physicsHz,
		Horizon:     horizon,
		Units:       "px",
		Continuous:  false,
		Version:     1,
	}
}()

// Spec describes push-t.
func (t *Task) Spec() sim.Spec { return spec }

// Reset draws the episode's initial state from seed: the agent at integer
// pixels in [50, 450)², the block at integer pixels in [100, 400)², its
// angle N(0,1)·2π − π (the reference's randint/randn draws, from a PCG
// stream seeded by seed). As the reference does, one physics substep then
// separates the agent and the block if they start overlapping.
func (t *Task) Reset(seed uint64) {
	t.pcg.Seed(seed, seed^resetStream)
	r := t.rng
	agent := vec{float64(50 + r.IntN(400)), float64(50 + r.IntN(400))}
	block := vec{float64(100 + r.IntN(300)), float64(100 + r.IntN(300))}
	angle := r.NormFloat64()*2*math.Pi - math.Pi
	t.resetTo(agent, block, angle)
}

// ResetTo starts an episode from an explicit state, like the reference's
// reset_to_state: agent centre and T-frame origin in pixels, T angle in
// radians, followed by the same settling substep as Reset.
func (t *Task) ResetTo(agentX, agentY, blockX, blockY, angle float64) {
	t.resetTo(vec{agentX, agentY}, vec{blockX, blockY}, angle)
}

func (t *Task) resetTo(agent, block vec, angle float64) {
	t.w.place(agent, pose{block, angle})
	t.target = agent
	t.Substep(1.0 / physicsHz)
}

// Act sets the agent's target from a normalised action: pixels =
// (a + 1)·256, so −1 ↦ 0 and 1 ↦ 512 on each axis. The target is absolute,
// so the control period does not scale it.
func (t *Task) Act(action []float64, period float64) {
	t.target = vec{fromNorm(action[0]), fromNorm(action[1])}
}

func fromNorm(a float64) float64 { return (a + 1) * (fieldSize / 2) }
func toNorm(px float64) float64  { return px/(fieldSize/2) - 1 }

// Hold writes the action that keeps the agent where it is.
func (t *Task) Hold(dst []float64) {
	p := t.w.agentPos()
	dst[0], dst[1] = toNorm(p.x), toNorm(p.y)
}

// Stepper is the stepper of the task's Box2D world: tests compare it with
// the library's own step, and tandem bench --dump-world records through it.
func (t *Task) Stepper() *b2step.Stepper { return &t.w.phys }

// Substep runs the agent's PD controller and one physics step of dt seconds:
// v += (kp·(target − x) − kd·v)·dt, then Box2D moves the agent at v.
func (t *Task) Substep(dt float64) {
	a := t.w.agent
	x, v := a.GetPosition(), a.M_linearVelocity
	tx, ty := t.target.x/pxPerUnit, t.target.y/pxPerUnit
	v.X += (kp*(tx-x.X) - kd*v.X) * dt
	v.Y += (kp*(ty-x.Y) - kd*v.Y) * dt
	a.M_linearVelocity = v
	t.w.step(dt)
	t.coverValid = false
}

// Observe writes [agent x, agent y, block x, block y, block angle mod 2π].
func (t *Task) Observe(dst []float64) {
	a := t.w.agentPos()
	b := t.w.blockPose()
	dst[obsAgentX], dst[obsAgentY] = a.x, a.y
	dst[obsBlockX], dst[obsBlockY] = b.p.x, b.p.y
	dst[obsBlockAngle] = wrap2Pi(b.angle)
}

// wrap2Pi maps a to [0, 2π) like Python's a % (2π).
func wrap2Pi(a float64) float64 {
	r := math.Mod(a, 2*math.Pi)
	if r < 0 {
		r += 2 * math.Pi
	}
	if r >= 2*math.Pi {
		r = 0
	}
	return r
}

// Coverage is the fraction of the goal T that the block covers now.
func (t *Task) Coverage() float64 {
	if !t.coverValid {
		t.cover = coverage(t.w.blockPose(), goalPose)
		t.coverValid = true
	}
	return t.cover
}

// Reward is clip(coverage / 0.95, 0, 1).
func (t *Task) Reward() float64 {
	return min(max(t.Coverage()/successThreshold, 0), 1)
}

// Success reports coverage above 95 %.
func (t *Task) Success() bool { return t.Coverage() > successThreshold }

// Terminal is Success: the reference ends the episode (done) on success.
func (t *Task) Terminal() bool { return t.Success() }

// Expert returns the scripted pushing planner bound to t, degraded by
// sim.Skilled below skill 1; while it hesitates the agent holds still.
func (t *Task) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(newExpert(t), skill, seed, t.Hold)
}
