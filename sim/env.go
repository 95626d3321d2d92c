package sim

import (
	"errors"
	"fmt"
	"math"
)

// ErrEpisodeOver is returned by Env.Step after the episode has ended
// (terminal or truncated) and before the next Reset.
var ErrEpisodeOver = errors.New("sim: episode is over; call Reset")

// ErrNotReset is returned by Env.Step before the first Reset.
var ErrNotReset = errors.New("sim: Step before Reset")

// ActionError reports an action that Env refused. The episode is unaffected.
type ActionError struct {
	Task   string
	Index  int     // offending element, -1 for a length mismatch
	Value  float64 // offending value
	Len    int     // length given
	Want   int     // length expected
	Reason string
}

func (e *ActionError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("sim: task %s: action has %d values; want %d", e.Task, e.Len, e.Want)
	}
	return fmt.Sprintf("sim: task %s: action[%d] = %v: %s", e.Task, e.Index, e.Value, e.Reason)
}

// CheckAction reports whether a has the spec's length and only finite values.
func CheckAction(spec *Spec, a []float64) error {
	if len(a) != spec.ActionSize() {
		return &ActionError{Task: spec.Name, Index: -1, Len: len(a), Want: spec.ActionSize()}
	}
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &ActionError{Task: spec.Name, Index: i, Value: v, Reason: "not a finite number"}
		}
	}
	return nil
}

// Step is the immutable outcome of one control step.
type Step struct {
	Seed      uint64 // the episode's seed
	T         int    // index of this step in the episode, from 0
	Obs       Vec    // observation the action was chosen from
	Action    Vec    // executed action, after clamping
	Next      Vec    // observation after the step
	Reward    float64
	Success   bool
	Terminal  bool // the task ended the episode (failure, or success where the task ends on it)
	Truncated bool // the horizon was reached
}

// Done reports whether the episode ended with this step.
func (s *Step) Done() bool { return s.Terminal || s.Truncated }

// EnvConfig adjusts an Env. The zero value runs the task at its ControlHz.
type EnvConfig struct {
	// ControlHz overrides the task's control rate, typically with its
	// TeleopHz for interactive sessions. The horizon keeps its duration in
	// seconds, so it is scaled by ControlHz / Spec.ControlHz.
	ControlHz float64
}

// Env is the headless fixed-step environment around a Task. Not safe for
// concurrent use.
type Env struct {
	task     Task
	ender    PeriodEnder // task's, or nil
	spec     Spec
	hz       float64
	period   float64
	dt       float64
	substeps int
	horizon  int

	started  bool
	done     bool
	inPeriod bool
	advanced int // substeps run in the current period
	seed     uint64
	t        int
	obs      []float64
	act      []float64
}

// NewEnv validates task's Spec and returns an Env for it.
func NewEnv(task Task, cfg EnvConfig) (*Env, error) {
	spec := task.Spec()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	hz := cfg.ControlHz
	if hz <= 0 {
		hz = spec.ControlHz
	}
	if hz > spec.PhysicsHz {
		return nil, fmt.Errorf("sim: task %s: control rate %g Hz above physics rate %g Hz", spec.Name, hz, spec.PhysicsHz)
	}
	e := &Env{
		task:     task,
		spec:     spec,
		hz:       hz,
		period:   1 / hz,
		substeps: spec.Substeps(hz),
		obs:      make([]float64, spec.ObsSize()),
		act:      make([]float64, spec.ActionSize()),
	}
	e.ender, _ = task.(PeriodEnder)
	e.dt = e.period / float64(e.substeps)
	e.horizon = int(math.Round(float64(spec.Horizon) * hz / spec.ControlHz))
	return e, nil
}

// Task returns the wrapped task.
func (e *Env) Task() Task { return e.task }

// Spec returns the task's spec.
func (e *Env) Spec() *Spec { return &e.spec }

// ControlHz is the rate this Env steps at.
func (e *Env) ControlHz() float64 { return e.hz }

// Period is the control period in seconds.
func (e *Env) Period() float64 { return e.period }

// Horizon is the episode length in steps at this Env's rate.
func (e *Env) Horizon() int { return e.horizon }

// T is the number of steps taken in the current episode.
func (e *Env) T() int { return e.t }

// Seed is the current episode's seed.
func (e *Env) Seed() uint64 { return e.seed }

// Done reports whether the current episode has ended.
func (e *Env) Done() bool { return e.done }

// Reset starts an episode from seed and returns the initial observation.
func (e *Env) Reset(seed uint64) Vec {
	e.task.Reset(seed)
	e.seed, e.t, e.done, e.started, e.inPeriod = seed, 0, false, true, false
	e.task.Observe(e.obs)
	return VecOf(e.obs)
}

// Observe writes the current observation into dst.
func (e *Env) Observe(dst []float64) { e.task.Observe(dst) }

// Step checks action (length, finite), clamps it to the spec's bounds,
// applies it for one control period and returns the outcome. A refused
// action returns an *ActionError and leaves the episode untouched. It is
// Begin, Apply(action, 1), Advance(Substeps()) and End, in that order.
func (e *Env) Step(action []float64) (Step, error) {
	if err := e.Begin(); err != nil {
		return Step{}, err
	}
	if err := e.Apply(action, 1); err != nil {
		e.inPeriod = false
		return Step{}, err
	}
	e.Advance(e.substeps)
	return e.End(e.act), nil
}

// Substeps is the number of physics substeps in one control period.
func (e *Env) Substeps() int { return e.substeps }

// Begin starts a control period executed in parts: live sessions apply
// human input several times per period (sub-ticks), and replays repeat
// them. A period is Begin, then any number of Apply and Advance calls whose
// Advance counts sum to Substeps(), then End. The observation the period
// starts from is the one End reports as Step.Obs.
func (e *Env) Begin() error {
	switch {
	case !e.started:
		return ErrNotReset
	case e.done:
		return ErrEpisodeOver
	}
	e.inPeriod = true
	e.advanced = 0
	return nil
}

// Apply checks action, clamps it to the bounds and sets it as the command
// for the next 1/parts of the period (Task.Act with period/parts). A
// refused action returns an *ActionError and changes nothing.
func (e *Env) Apply(action []float64, parts int) error {
	if !e.inPeriod {
		return errNoPeriod
	}
	if err := CheckAction(&e.spec, action); err != nil {
		return err
	}
	e.Clamp(e.act, action)
	e.task.Act(e.act, e.period/float64(max(parts, 1)))
	return nil
}

// Clamp writes action clamped to the spec's bounds into dst.
func (e *Env) Clamp(dst, action []float64) {
	for i, v := range action {
		dst[i] = min(max(v, e.spec.ActionLow[i]), e.spec.ActionHigh[i])
	}
}

// Advance runs n physics substeps of the current period (never beyond the
// period's Substeps()).
func (e *Env) Advance(n int) {
	if !e.inPeriod {
		return
	}
	n = min(n, e.substeps-e.advanced)
	for range n {
		e.task.Substep(e.dt)
	}
	e.advanced += n
}

// End finishes the period: it runs any substeps Advance left out, counts
// the step and returns its outcome with learned (clamped) as the step's
// action: the one action a learner sees for the whole period.
func (e *Env) End(learned []float64) Step {
	e.Advance(e.substeps - e.advanced)
	if e.ender != nil {
		e.ender.EndPeriod()
	}
	e.inPeriod = false
	// e.obs still holds the observation the period started from: only
	// Reset (which ends any period) and End write it.
	var s Step
	s.Seed, s.T = e.seed, e.t
	s.Obs.n = copy(s.Obs.a[:], e.obs)
	s.Action.n = len(learned)
	e.Clamp(s.Action.a[:], learned)
	e.t++
	e.task.Observe(e.obs)
	s.Next.n = copy(s.Next.a[:], e.obs)
	s.Reward = e.task.Reward()
	s.Success = e.task.Success()
	s.Terminal = e.task.Terminal()
	s.Truncated = !s.Terminal && e.t >= e.horizon
	e.done = s.Terminal || s.Truncated
	return s
}

var errNoPeriod = errors.New("sim: Apply outside a period; call Begin")
