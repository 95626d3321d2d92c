package teleop

import (
	"math"
	"math/rand/v2"
	"sync"

	"tandem/sim"
)

// ActionValuer is an optional task interface: the expert's one-step value
// of taking action in the current state (higher is better, positive for
// good actions), for example by a lookahead on privileged state. A
// simulated operator with ValueRule uses it when the task has it.
type ActionValuer interface {
	ActionValue(obs, action []float64) float64
}

// SimOperator is a simulated operator built on a task's scripted expert. It
// is a Source that also implements Observer, TaskSpacer and sim.Resetter:
// the arbiter shows it every tick's observation and the policy's proposal,
// it decides by its rule whether to intervene, and its command is the
// expert's action (delayed by Delay ticks), Engaged while it intervenes and
// with the HandBack button on the tick it lets go.
//
// All its choices come from Config.Seed and the episode seed, so a rollout
// repeats exactly. Observe and Reset run on the loop goroutine; Latest is
// safe for concurrent use.
type SimOperator struct {
	cfg    OperatorConfig
	expert sim.Policy
	// ref is the value rule's reference agent: the script at skill 1, as
	// RLIF judges the policy against a strong reference agent
	// (ground_truth_agent in pd-perry/RLIF examples/train_rlif_main.py)
	// while the intervening actions come from the suboptimal expert. Nil
	// for the other rules and at skill 1 (the expert is the reference).
	ref sim.Policy
	ra  []float64 // reference action this tick
	hold   func(dst []float64)
	valuer ActionValuer
	abs    []bool // absolute-position channels

	rng     *rand.Rand
	ea      []float64   // expert action this tick
	ring    [][]float64 // delay line: Delay+1 past expert actions
	scratch []float64
	t       int  // ticks this episode
	active  bool // intervening
	steps   int  // ticks of the current intervention
	count   int  // interventions started this episode

	mu  sync.Mutex
	cmd Command
}

// NewSimOperator returns a simulated operator acting with task's expert at
// cfg.Skill. cfg must pass Validate: build it with DefaultOperatorConfig or
// ParseOperator. The expert and the hold action read the task, so the operator
// must be driven by the task's loop goroutine (through an Arbiter).
func NewSimOperator(task sim.Task, cfg OperatorConfig) (*SimOperator, error) {
	if cfg.ID == "" {
		cfg.ID = "sim"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec := task.Spec()
	n := spec.ActionSize()
	o := &SimOperator{
		cfg:     cfg,
		expert:  task.Expert(cfg.Skill, cfg.Seed^0x0be7a70e5eed),
		hold:    func(dst []float64) { sim.HoldAction(task, dst) },
		abs:     make([]bool, n),
		ea:      make([]float64, n),
		scratch: make([]float64, n),
	}
	o.valuer, _ = task.(ActionValuer)
	if cfg.Rule == ValueRule && cfg.Skill < 1 {
		o.ref, o.ra = task.Expert(1, cfg.Seed^0x7ef0e7a75c1f1), make([]float64, n)
	}
	for _, ax := range MotionAxes(spec) {
		for _, i := range [3]int{ax.X, ax.Y, ax.Yaw} {
			if i >= 0 && ax.Absolute {
				o.abs[i] = true
			}
		}
	}
	o.ring = make([][]float64, cfg.Delay+1)
	for i := range o.ring {
		o.ring[i] = make([]float64, n)
	}
	o.Reset(0)
	return o, nil
}

// Config returns the operator's configuration.
func (o *SimOperator) Config() OperatorConfig { return o.cfg }

// Interventions reports how many interventions the operator started this
// episode. Loop goroutine only.
func (o *SimOperator) Interventions() int { return o.count }

// TaskSpace implements TaskSpacer: the expert's actions are executed as
// they are.
func (o *SimOperator) TaskSpace() bool { return true }

// ControlRate implements ControlRater: a simulated operator acts once per
// control period, from the observation it was shown.
func (o *SimOperator) ControlRate() bool { return true }

// Latest implements Source. Safe for concurrent use.
func (o *SimOperator) Latest() (Command, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cmd, true
}

// Reset implements sim.Resetter: a new episode from seed.
func (o *SimOperator) Reset(seed uint64) {
	o.rng = rand.New(rand.NewPCG(o.cfg.Seed, seed^0x51a0e7a70c0ffee))
	if r, ok := o.expert.(sim.Resetter); ok {
		r.Reset(seed)
	}
	if r, ok := o.ref.(sim.Resetter); ok {
		r.Reset(seed)
	}
	o.t, o.active, o.steps, o.count = 0, false, 0, 0
	o.mu.Lock()
	o.cmd = Command{Operator: o.cfg.ID}
	o.mu.Unlock()
}

// Observe implements Observer: the expert acts on obs, the rule decides,
// and the command for this tick is published. policyAction is nil when no
// policy ran (teleop mode, or a rejected policy output): the operator then
// acts as the demonstrator, engaged, without counting an intervention.
func (o *SimOperator) Observe(obs, policyAction []float64) {
	o.expert.Act(obs, o.ea) // every tick, so a stateful script advances
	if !finite(o.ea) {
		o.hold(o.ea)
	}
	if o.ref != nil {
		o.ref.Act(obs, o.ra)
		if !finite(o.ra) {
			o.hold(o.ra)
		}
	}
	out := o.delayed()
	engaged, handBack := false, false
	if o.active {
		end := o.cfg.Steps > 0 && o.steps >= o.cfg.Steps
		if o.cfg.Rule == DistanceRule && policyAction != nil && dist(o.ea, policyAction) <= o.cfg.Threshold {
			end = true
		}
		if end {
			o.active, handBack = false, true
		} else {
			o.steps++
			engaged = true
		}
	}
	// RLIF's value rule does not re-check on the tick an intervention ends;
	// its random rule draws afresh every step.
	check := !o.active && policyAction != nil && (!handBack || o.cfg.Rule == RandomRule)
	if check && o.trigger(obs, policyAction) {
		if !handBack {
			o.count++
		}
		o.active, o.steps, engaged, handBack = true, 1, true, false
	}
	if policyAction == nil {
		engaged, handBack = true, false
	}
	o.mu.Lock()
	o.cmd.Operator = o.cfg.ID
	o.cmd.Action.Set(out)
	o.cmd.Engaged = engaged
	o.cmd.Buttons = 0
	if handBack {
		o.cmd.Buttons = HandBack
	}
	o.mu.Unlock()
}

// ExpertAction implements Labeler: the expert's action for the observation
// of the last Observe (before any delay), what DAgger would query. Loop
// goroutine only.
func (o *SimOperator) ExpertAction(dst []float64) bool {
	if o.t == 0 {
		return false
	}
	copy(dst, o.ea)
	return true
}

// delayed pushes this tick's expert action into the delay line and returns
// the one from Delay ticks ago; before that the operator holds still.
func (o *SimOperator) delayed() []float64 {
	k := len(o.ring)
	copy(o.ring[o.t%k], o.ea)
	o.t++
	if o.t <= o.cfg.Delay {
		o.hold(o.scratch)
		return o.scratch
	}
	return o.ring[(o.t-1-o.cfg.Delay)%k]
}

// trigger applies the rule to this tick's expert and policy actions.
func (o *SimOperator) trigger(obs, pa []float64) bool {
	u := o.rng.Float64() // one draw per check keeps the stream simple
	switch o.cfg.Rule {
	case DistanceRule:
		return dist(o.ea, pa) > o.cfg.Threshold && u >= o.cfg.Eps
	case ValueRule:
		p := o.cfg.Q
		if o.worse(obs, pa) {
			p = o.cfg.P
		}
		return u < p
	default: // RandomRule
		return u < o.cfg.Rate
	}
}

// worse is RLIF's test Q(s, a_π) < α·Q(s, a_ref), a_ref the reference
// agent's action (the skill-1 script; the operator's own expert at skill
// 1). With a task ActionValuer the values are its; otherwise tandem uses
// an action-agreement proxy: the value of an action is the cosine between
// the action and the reference's, over all channels, with absolute-position
// channels measured from the hold action (so Push-T compares displacements
// of the target, not positions); the reference's own value is 1 and the
// test becomes cos < α.
func (o *SimOperator) worse(obs, pa []float64) bool {
	ref := o.ea
	if o.ref != nil {
		ref = o.ra
	}
	if o.valuer != nil {
		return o.valuer.ActionValue(obs, pa) < o.cfg.Alpha*o.valuer.ActionValue(obs, ref)
	}
	o.hold(o.scratch)
	for i, abs := range o.abs {
		if !abs {
			o.scratch[i] = 0
		}
	}
	return agreement(pa, ref, o.scratch) < o.cfg.Alpha
}

// agreement is the cosine between a−h and e−h; 1 when neither moves, 0 when
// only one does.
func agreement(a, e, h []float64) float64 {
	const still = 1e-9
	var ae, aa, ee float64
	for i := range a {
		x, y := a[i]-h[i], e[i]-h[i]
		ae += x * y
		aa += x * x
		ee += y * y
	}
	switch {
	case aa < still && ee < still:
		return 1
	case aa < still || ee < still:
		return 0
	}
	return ae / math.Sqrt(aa*ee)
}

func dist(a, b []float64) float64 {
	var ss float64
	for i := range a {
		d := a[i] - b[i]
		ss += d * d
	}
	return math.Sqrt(ss)
}

// NewShared returns an arbiter in shared mode running policy p (labelled
// version) with a simulated operator attached as source cfg.ID: the
// controller of a shared-autonomy rollout. It runs inside sim.Rollout (one
// goroutine, deterministic) as well as in a live sim.Session.
func NewShared(task sim.Task, p sim.Policy, version string, cfg OperatorConfig) (*Arbiter, *SimOperator, error) {
	op, err := NewSimOperator(task, cfg)
	if err != nil {
		return nil, nil, err
	}
	a, err := NewArbiter(task, Config{Mode: sim.ModeShared, Policy: p, PolicyVersion: version})
	if err != nil {
		return nil, nil, err
	}
	if err := a.AddSource(op.cfg.ID, op); err != nil {
		return nil, nil, err
	}
	return a, op, nil
}
