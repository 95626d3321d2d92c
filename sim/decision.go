package sim

import "fmt"

// Source says who produced an executed action.
type Source string

// Action sources, as stored with every step.
const (
	// Robot: the policy acted autonomously.
	Robot Source = "robot"
	// Human: an operator intervened (took over from the policy).
	Human Source = "human"
	// Demo: a demonstrator (human or scripted expert) drove the whole
	// episode with no policy in control.
	Demo Source = "demo"
)

// Mode says who may act in a session or episode. It is part of every
// record and stored with every step, so the vocabulary lives here, in the
// kernel every consumer imports (teleop arbitrates by it, demos stores and
// filters by it, web shows it).
type Mode string

// Modes.
const (
	// ModeTeleop: a demonstrator (a person, a device, a simulated operator)
	// drives every step; no policy acts. Steps are Demo steps.
	ModeTeleop Mode = "teleop"
	// ModeAuto: the policy drives every step; operators are ignored. Steps
	// are Robot steps.
	ModeAuto Mode = "auto"
	// ModeShared: the policy drives and a human may take over (Human steps)
	// and hand back. An episode in shared mode stays shared even when no
	// one intervened.
	ModeShared Mode = "shared"
)

// Modes lists the modes in the order help texts name them.
func Modes() []Mode { return []Mode{ModeShared, ModeTeleop, ModeAuto} }

// ParseMode reads "shared", "teleop" or "auto".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeTeleop, ModeAuto, ModeShared:
		return m, nil
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return "", fmt.Errorf("unknown mode %q (valid: shared, teleop, auto)", s)
}

// Decision is what a Controller reports besides the action itself.
type Decision struct {
	Source Source
	// PolicyAction is what the policy proposed this tick, when a policy ran
	// (empty otherwise). When Source is Robot it equals the executed action
	// before clamping.
	PolicyAction  Vec
	PolicyVersion string
	Operator      string // who acted when Source is Human or Demo
	// InterventionStart and InterventionEnd mark the first human tick of an
	// intervention and the first tick after it handed back.
	InterventionStart bool
	InterventionEnd   bool
	// Help is raised when the policy asks for a human.
	Help bool
}

// Controller chooses the action for each control tick: a policy, a
// demonstrator, or the teleop arbiter that switches between them. Decide is
// called once per tick from the goroutine that owns the task; it writes the
// action into dst. A Controller that also implements Resetter is reset at
// every episode start.
type Controller interface {
	Decide(obs, dst []float64) Decision
}

// Auto runs policy p autonomously: every step is a Robot step labelled with
// version.
func Auto(p Policy, version string) Controller { return &auto{p: p, version: version} }

type auto struct {
	p       Policy
	version string
}

func (a *auto) Decide(obs, dst []float64) Decision {
	a.p.Act(obs, dst)
	d := Decision{Source: Robot, PolicyVersion: a.version}
	d.PolicyAction.Set(dst)
	return d
}

func (a *auto) Reset(seed uint64) {
	if r, ok := a.p.(Resetter); ok {
		r.Reset(seed)
	}
}

// Demonstrate runs p as a demonstrator (for example a task's scripted
// expert): every step is a Demo step by operator.
func Demonstrate(p Policy, operator string) Controller { return &demo{p: p, operator: operator} }

type demo struct {
	p        Policy
	operator string
}

func (d *demo) Decide(obs, dst []float64) Decision {
	d.p.Act(obs, dst)
	return Decision{Source: Demo, Operator: d.operator}
}

func (d *demo) Reset(seed uint64) {
	if r, ok := d.p.(Resetter); ok {
		r.Reset(seed)
	}
}
