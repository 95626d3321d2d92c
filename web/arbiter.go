package web

import (
	"tandem/sim"
	"tandem/teleop"
)

// Arbiter is the controller of a live session: each tick it decides whether
// the policy or an operator acts. Decide runs on the session's loop
// goroutine; every other method is safe for concurrent use and takes effect
// at the next Decide. teleop.Arbiter provides it (see teleopArbiter);
// Config.NewArbiter may substitute another.
type Arbiter interface {
	sim.Controller
	// Attach adds an operator's input source; Detach removes it (and its
	// authority).
	Attach(operator string, src teleop.Source) error
	Detach(operator string)
	// TakeOver gives operator control; HandBack returns it to the robot;
	// Request asks for control while someone else holds it.
	TakeOver(operator string) error
	HandBack(operator string) error
	Request(operator string) error
	// SetMode switches between ModeShared, ModeTeleop and ModeAuto.
	SetMode(mode string) error
	// SetPolicy swaps the policy; it acts from the next tick.
	SetPolicy(p sim.Policy, version string)
	// Authority returns a snapshot of who is in control.
	Authority() ArbiterState
}

// ArbiterState is a snapshot of an Arbiter.
type ArbiterState struct {
	Mode          string
	Holder        string // "robot", an operator id, or "none"
	Requests      []string
	Help          bool
	PolicyVersion string
}

// ArbiterConfig is what a session's arbiter is built from.
type ArbiterConfig struct {
	Task          sim.Task // the session's task (loop goroutine only)
	Policy        sim.Policy
	PolicyVersion string
	Mode          string
	ControlHz     float64 // the session's tick rate
	Clock         sim.Clock
}

// NewArbiterFunc builds the arbiter of a new session.
type NewArbiterFunc func(cfg ArbiterConfig) (Arbiter, error)

// defaultArbiter wraps teleop.Arbiter.
func defaultArbiter(cfg ArbiterConfig) (Arbiter, error) {
	a, err := teleop.NewArbiter(cfg.Task, teleop.Config{
		Mode: sim.Mode(cfg.Mode), Policy: cfg.Policy, PolicyVersion: cfg.PolicyVersion,
		ControlHz: cfg.ControlHz, Clock: cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	return teleopArbiter{a}, nil
}

// teleopArbiter adapts *teleop.Arbiter to Arbiter.
type teleopArbiter struct{ *teleop.Arbiter }

func (a teleopArbiter) Attach(op string, src teleop.Source) error { return a.AddSource(op, src) }
func (a teleopArbiter) Detach(op string)                          { a.RemoveSource(op) }
func (a teleopArbiter) SetMode(m string) error                    { return a.Arbiter.SetMode(sim.Mode(m)) }

func (a teleopArbiter) Authority() ArbiterState {
	st := a.State()
	h := st.Holder
	if h == "" {
		h = "none"
	}
	return ArbiterState{Mode: string(st.Mode), Holder: h, Requests: st.Requests, Help: st.Help, PolicyVersion: st.PolicyVersion}
}
