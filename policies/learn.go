package policies

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"tandem/policies/nn"
	"tandem/sim"
)

// Episode is one recorded episode as learners see it: in order, the
// observation each step's action was chosen from, the executed action, who
// produced it and the task's feedback. policies does not read the store;
// package live (and cmd) fill Episodes from it (live.Episodes).
type Episode struct {
	ID  int64  // store id (0 when not stored)
	UID string // identity across stores
	// Round is the hitl round or online-training generation the episode was
	// collected in (0: demonstrations); the memory-management rules of
	// Sirius order episodes by it.
	Round int
	// Obs[t] is the observation step t's action was chosen from; Next is the
	// observation after the last step (nil when unknown: a crash-cut
	// episode), so step t's next observation is Obs[t+1] or Next.
	Obs  [][]float64
	Next []float64
	// Action[t] is the executed (clamped) action and PolicyAction[t] what
	// the policy proposed, nil when no policy ran.
	Action       [][]float64
	PolicyAction [][]float64
	// ExpertAction[t] is a simulated expert's label for step t (what it
	// would have done), nil when none watched (see teleop.Labeler).
	ExpertAction [][]float64
	// Source[t] is demo, robot or human; InterventionStart[t] marks the
	// first human step of an intervention.
	Source            []sim.Source
	InterventionStart []bool
	Reward            []float64
	// Terminal is set when the task ended the episode at its last step
	// (failure, or success where the task ends on it); Truncated when the
	// horizon did. Neither: the episode was cut.
	Terminal, Truncated bool
	Success             bool // the success test held at some step
	// SuccessAt[t] is the task's success test after step t.
	SuccessAt []bool
	Mode      sim.Mode
	// PolicyVersion is the version that acted or proposed (first one seen).
	PolicyVersion string
}

// Len is the number of steps.
func (e *Episode) Len() int { return len(e.Action) }

// Validate checks the episode's lengths and sizes against spec.
func (e *Episode) Validate(spec *sim.Spec) error {
	n := len(e.Action)
	if len(e.Obs) != n || len(e.Source) != n || len(e.Reward) != n {
		return fmt.Errorf("policies: episode %d: %d observations, %d actions, %d sources, %d rewards", e.ID, len(e.Obs), n, len(e.Source), len(e.Reward))
	}
	if e.InterventionStart != nil && len(e.InterventionStart) != n || e.PolicyAction != nil && len(e.PolicyAction) != n || e.SuccessAt != nil && len(e.SuccessAt) != n {
		return fmt.Errorf("policies: episode %d: per-step flags do not have %d entries", e.ID, n)
	}
	for t := range n {
		if len(e.Obs[t]) != spec.ObsSize() || len(e.Action[t]) != spec.ActionSize() {
			return fmt.Errorf("policies: episode %d step %d: %d observations and %d actions; task %s has %d and %d",
				e.ID, t, len(e.Obs[t]), len(e.Action[t]), spec.Name, spec.ObsSize(), spec.ActionSize())
		}
	}
	if e.Next != nil && len(e.Next) != spec.ObsSize() {
		return fmt.Errorf("policies: episode %d: final observation has %d values; want %d", e.ID, len(e.Next), spec.ObsSize())
	}
	return nil
}

// TrainInput is what a learner trains from.
type TrainInput struct {
	Spec sim.Spec
	// NewTask makes a fresh task instance (evaluation, RL interaction).
	NewTask func() sim.Task
	// Episodes to learn from, oldest first.
	Episodes []Episode
	// Parent, when set, is the version to warm-start from (its card too).
	Parent     *nn.Model
	ParentCard *nn.Card
	// Params are the algorithm's hyper-parameters from the command line
	// (KEY=VALUE pairs already split); unknown keys are an error.
	Params map[string]string
	Seed   uint64
	// Pool is the worker pool training runs on (nil: nn.DefaultPool, every
	// core). An online trainer passes a smaller one so live sessions keep
	// a core.
	Pool *nn.Pool
	// Progress, if set, hears (done, total) gradient steps.
	Progress func(done, total int)
}

// TrainOutput is a trained model with the card fields the learner fills
// (algorithm, hyper-parameters, episodes used) and training statistics.
type TrainOutput struct {
	Model *nn.Model
	Card  nn.Card
	Stats map[string]any
}

// Learner is a named training algorithm.
type Learner interface {
	// Name is the algorithm's name ("bc", "sirius", "rlif", ...).
	Name() string
	// Train fits a policy to in. It must return promptly when ctx ends.
	Train(ctx context.Context, in TrainInput) (TrainOutput, error)
}

var (
	learnersMu sync.RWMutex
	learners   = map[string]func() Learner{}
)

// RegisterLearner makes a learner available by name. Learners register
// from their package's init; a duplicate name panics (a programming error).
func RegisterLearner(name string, f func() Learner) {
	learnersMu.Lock()
	defer learnersMu.Unlock()
	if _, dup := learners[name]; dup {
		panic("policies: learner " + name + " registered twice")
	}
	learners[name] = f
}

// Learners lists the registered algorithm names, sorted.
func Learners() []string {
	learnersMu.RLock()
	defer learnersMu.RUnlock()
	out := make([]string, 0, len(learners))
	for n := range learners {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewLearner returns a fresh learner for algorithm name.
func NewLearner(name string) (Learner, error) {
	learnersMu.RLock()
	f, ok := learners[name]
	learnersMu.RUnlock()
	if !ok {
		if len(name) > 32 {
			name = name[:32] + "…"
		}
		return nil, fmt.Errorf("policies: unknown algorithm %q (valid: %s)", name, strings.Join(Learners(), ", "))
	}
	return f(), nil
}

// Stateful is a learner that keeps state beyond its actor's checkpoint (an
// RL learner's critics, temperature and optimiser moments). The trainer
// writes State() beside each checkpoint at StatePath and, before warm-
// starting from a checkpoint, hands that file back with Resume, so a
// learner restarted from disk continues exactly.
type Stateful interface {
	Learner
	State() []byte
	Resume(state []byte)
}

// StatePath is where a checkpoint's learner state lives:
// x.safetensors → x.state.safetensors.
func StatePath(tensorsPath string) string {
	return strings.TrimSuffix(tensorsPath, nn.TensorsExt) + StateExt
}

// StateExt is the learner-state file's suffix.
const StateExt = ".state.safetensors"

// Explorers build the stochastic actor an algorithm collects data with
// (RLPD/RLIF sample from their tanh-Gaussian; their checkpoints' own
// policy acts with its mode, which is what evaluation scores). Algorithms
// register one from their package's init.
var (
	explorersMu sync.RWMutex
	explorers   = map[string]func(m *nn.Model, seed uint64) (sim.Policy, error){}
)

// RegisterExplorer registers algo's data-collection actor.
func RegisterExplorer(algo string, f func(m *nn.Model, seed uint64) (sim.Policy, error)) {
	explorersMu.Lock()
	defer explorersMu.Unlock()
	if _, dup := explorers[algo]; dup {
		panic("policies: explorer " + algo + " registered twice")
	}
	explorers[algo] = f
}

// explorer returns algo's data-collection actor, if it has one.
func explorer(algo string) (func(*nn.Model, uint64) (sim.Policy, error), bool) {
	explorersMu.RLock()
	defer explorersMu.RUnlock()
	f, ok := explorers[algo]
	return f, ok
}

// ErrNoData is returned by a learner given no steps it can learn from.
var ErrNoData = errors.New("policies: no steps to learn from")
