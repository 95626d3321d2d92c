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

// Ask is a request a Controller passes to its Session on an operator's
// behalf: the buttons and console actions that act on the episode rather
// than on the tool. A Session honours them at the tick they arrive.
type Ask uint8

// Asks.
const (
	// AskReset ends the episode now (stored as cut) and starts the next.
	AskReset Ask = 1 << iota
	// AskSuccess and AskFailure label the running episode by the operator.
	AskSuccess
	AskFailure
	// AskHelpAck acknowledges a help request (the controller clears it).
	AskHelpAck
)

// Has reports whether every ask in m is set.
func (a Ask) Has(m Ask) bool { return a&m == m }

// Input is the newest command sequence number a controller sampled from
// one operator at a tick, so a client can tell which of its commands a
// frame reflects.
type Input struct {
	Operator string `json:"operator"`
	Seq      uint64 `json:"seq"`
}

// Decision is what a Controller reports besides the action itself. Its
// slices belong to the controller and are valid until its next call; a
// Session copies them into the Record it publishes.
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
	// ExpertAction is what a simulated expert watching the step would have
	// done (its label, as DAgger queries it), when one was attached;
	// empty otherwise. It is recorded, never executed by itself.
	ExpertAction Vec
	// Help is raised when the policy (or a lost operator) asks for a human,
	// and stays raised until acknowledged, answered by a takeover, or the
	// episode ends.
	Help bool

	// Mode is the mode the decision was made in; Holder who held authority:
	// "robot", an operator id, or "" when nobody did (teleop without an
	// operator, holding after a disconnect). Requests lists the operators
	// waiting for authority, in queue order.
	Mode     Mode
	Holder   string
	Requests []string
	// Inputs lists, per connected operator, the newest command sequence
	// number sampled this tick.
	Inputs []Input
	// Asks are operator requests for the session (reset, labels, help
	// acknowledgement) and AskBy who made them.
	Asks  Ask
	AskBy string
	// SubTicks says that the holder's input is applied at every sub-tick
	// of this period (a device or browser operator holds authority): the
	// Session calls SubController.Sub for each later sub-tick's action.
	// Otherwise the period's action is applied once, as a headless Env
	// step would.
	SubTicks bool
}

// Controller chooses the action for each control period: a policy, a
// demonstrator, or the teleop arbiter that switches between them. Decide is
// called once per period from the goroutine that owns the task; it writes
// the action into dst. A Controller that also implements Resetter is reset
// at every episode start.
type Controller interface {
	Decide(obs, dst []float64) Decision
}

// Moded is implemented by controllers that know their mode before they
// decide (the arbiter, Auto, Demonstrate): a Session labels each episode's
// reset record with it. Loop goroutine only.
type Moded interface {
	CurrentMode() Mode
}

// SubController is a Controller that samples its operators again between
// decisions. A live Session calls Sub at every sub-tick of a period after
// the first (the first is Decide's): it reports the inputs and asks of the
// sub-tick and, when the period's Decision set SubTicks, writes the
// sub-tick's action into dst. Authority, mode and policy change only at
// Decide. Loop goroutine only.
type SubController interface {
	Controller
	Sub(dst []float64) Decision
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
	d := Decision{Source: Robot, PolicyVersion: a.version, Mode: ModeAuto, Holder: "robot"}
	if finiteAll(dst) {
		// A non-finite proposal is refused by the Env (the session holds
		// still) and not kept: NaN cannot be exported.
		d.PolicyAction.Set(dst)
	}
	return d
}

// CurrentMode implements Moded.
func (a *auto) CurrentMode() Mode { return ModeAuto }

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
	return Decision{Source: Demo, Operator: d.operator, Mode: ModeTeleop, Holder: d.operator}
}

// CurrentMode implements Moded.
func (d *demo) CurrentMode() Mode { return ModeTeleop }

func (d *demo) Reset(seed uint64) {
	if r, ok := d.p.(Resetter); ok {
		r.Reset(seed)
	}
}
