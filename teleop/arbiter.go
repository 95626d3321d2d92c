package teleop

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"tandem/sim"
)

// OnDisconnect says what happens when the operator holding authority
// disconnects in shared mode.
type OnDisconnect string

// Disconnect behaviours.
const (
	// HandBackOnDisconnect returns control to the policy (the default).
	HandBackOnDisconnect OnDisconnect = "handback"
	// HoldOnDisconnect holds the tool still, raises Help and waits for an
	// operator to take over or for an explicit HandBack.
	HoldOnDisconnect OnDisconnect = "hold"
)

// HelpRequester is implemented by policies that can ask for a human (an
// uncertainty or risk estimate above its threshold). The arbiter asks once
// per tick after the policy acted.
type HelpRequester interface {
	NeedsHelp() bool
}

// Observer is implemented by sources that watch the robot, such as a
// simulated operator. The arbiter calls Observe once per tick on the loop
// goroutine, after the policy acted and before it samples the sources;
// policyAction is nil when no policy ran this tick. Observe must not block
// and must not keep its arguments.
type Observer interface {
	Observe(obs, policyAction []float64)
}

// Labeler is implemented by sources that can say what an expert would do
// at every tick, whether or not they act (a simulated operator): the
// arbiter records it as the step's expert label (sim.Decision.ExpertAction),
// the label DAgger-style learners train on. ExpertAction is called on the
// loop goroutine after Observe and must not keep dst.
type Labeler interface {
	ExpertAction(dst []float64) bool
}

// TaskSpacer is implemented by sources whose commands are already the
// action to execute (a simulated operator's expert action, a browser
// pointer giving Push-T's absolute target): the arbiter applies them as
// they are, without motion scaling, camera mapping or rate integration.
type TaskSpacer interface {
	TaskSpace() bool
}

// TaskSpace wraps src so that the arbiter treats its commands as task-space
// actions (see TaskSpacer).
func TaskSpace(src Source) Source { return taskSpace{src} }

type taskSpace struct{ Source }

func (taskSpace) TaskSpace() bool { return true }

// Config configures an Arbiter. Zero values mean defaults.
type Config struct {
	// Mode is the initial mode (default sim.ModeShared).
	Mode sim.Mode
	// Policy is the initial policy (nil: the robot holds still) and
	// PolicyVersion its label.
	Policy        sim.Policy
	PolicyVersion string
	// ControlHz is the rate Decide is called at (default the task's
	// ControlHz); it converts HandBackAfter to periods.
	ControlHz float64
	// TeleopHz is the rate at which a live session samples input within a
	// period: Decide at the first sub-tick, Sub at the others (default
	// ControlHz: no sub-ticks). RateGain integrates per sub-tick.
	TeleopHz float64
	// HandBackTicks is how many released ticks an operator keeps authority
	// after a rule-based takeover before the policy acts again (default 0:
	// the first released tick is a robot tick, as in HIL-SERL and Sirius
	// where the intervention lasts exactly while the input is active).
	HandBackTicks int
	// HandBackAfter, when positive, replaces HandBackTicks with a duration
	// of loop time, rounded up to whole ticks.
	HandBackAfter time.Duration
	// Toggle makes rule-based takeovers sticky: once engaged, the operator
	// keeps authority until the HandBack button or a HandBack call.
	Toggle bool
	// OnDisconnect is what a lost holder leaves behind in shared mode
	// (default HandBackOnDisconnect).
	OnDisconnect OnDisconnect
	// MotionScale maps operator motion to tool motion on the task's motion
	// axes (default 1; surgical consoles use 0.2–1).
	MotionScale float64
	// RateGain is how far, in normalised action units per second, a fully
	// deflected device moves an absolute-position action such as Push-T's
	// target (default 1: a full-scale push crosses half the workspace in a
	// second).
	RateGain float64
	// Clock, if set, timestamps applied commands to measure input latency
	// (Command.At to the Decide that applies it). Nil disables it.
	Clock sim.Clock
	// Hold, if set, replaces sim.HoldAction(task, ·) as the hold-still action.
	Hold func(dst []float64)
}

// ErrUnknownSource is returned for operator ids that are not attached.
var ErrUnknownSource = errors.New("teleop: unknown source")

// SourceState is one attached source as the console shows it.
type SourceState struct {
	ID         string `json:"id"`
	Connected  bool   `json:"connected"`
	Engaged    bool   `json:"engaged"`
	Requesting bool   `json:"requesting"`
	TaskSpace  bool   `json:"task_space,omitempty"`
}

// State is a snapshot of an Arbiter for the web console. Holder is "robot"
// while the policy acts, an operator id while a human does, and "" when
// nobody does (teleop mode without an operator, or holding after a
// disconnect).
type State struct {
	Mode               sim.Mode      `json:"mode"`
	Holder             string        `json:"holder"`
	Sticky             bool          `json:"sticky,omitempty"`  // explicit or toggled takeover
	Holding            bool          `json:"holding,omitempty"` // holding still after a disconnect
	Requests           []string      `json:"requests"`
	Help               bool          `json:"help"`
	Interventions      int           `json:"interventions"` // this episode
	TotalInterventions int           `json:"total_interventions"`
	Source             sim.Source    `json:"source,omitempty"` // of the last tick
	Operator           string        `json:"operator,omitempty"`
	PolicyVersion      string        `json:"policy_version,omitempty"`
	Sources            []SourceState `json:"sources"`
	Ticks              uint64        `json:"ticks"`
	// Rejected counts operator commands with a wrong length or a non-finite
	// value; PolicyRejected the same for policy outputs. Both were replaced
	// by the hold action.
	Rejected       uint64 `json:"rejected_commands"`
	PolicyRejected uint64 `json:"rejected_policy_actions"`
}

// latencyRing is how many input-to-apply samples an Arbiter keeps.
const latencyRing = 1024

// opKind is an explicit operator call queued for the next tick.
type opKind uint8

const (
	opTakeOver opKind = iota
	opHandBack
	opRequest
	opPress // buttons pressed from a console (Press)
)

type op struct {
	kind    opKind
	id      string
	buttons Buttons
}

// slot is one attached source. id, src and taskSpace are immutable; the
// other fields belong to the loop goroutine.
type slot struct {
	id          string
	src         Source
	taskSpace   bool
	controlRate bool
	observer    Observer
	labeler     Labeler

	cmd        Command
	connected  bool
	engaged    bool // connected, Engaged, HandBack not held, not suppressed
	suppressed bool // handed back: ignore Engaged until it is released once
	explicit   bool // in the request queue by an explicit call
	requesting bool
	needsReset bool
	lastAt     time.Time
	lastBtn    Buttons // buttons at the previous sample, for press edges
}

// Arbiter decides who acts each tick: the policy, a human operator, or
// both (shared autonomy). It implements sim.Controller and sim.Resetter.
//
// Decide and Reset run on the session's loop goroutine; every other method
// is safe for concurrent use and takes effect at the next tick.
type Arbiter struct {
	task    sim.Task
	spec    sim.Spec
	hold    func(dst []float64)
	absIdx  []int // absolute-position action channels (Push-T's target)
	viewer  sim.Viewer
	axes    []Axes
	release int     // released ticks before hand-back
	gain    float64 // rate integration per sub-tick, normalised units
	grips   []int   // jaw and gripper channels (Grip closes them)
	cfg     Config

	mu            sync.Mutex // guards the fields below up to loop state
	sources       []*slot
	ops, opsSpare []op
	nextPolicy    sim.Policy
	nextVersion   string
	policyPending bool
	epPolicy      sim.Policy // applied at the next Reset
	epVersion     string
	epPending     bool
	nextMode      sim.Mode
	snap          State
	lat           [latencyRing]time.Duration
	latN          int

	// loop goroutine state
	mode      sim.Mode
	policy    sim.Policy
	version   string
	seed      uint64
	live      []*slot
	holder    *slot
	lastID    string // the last holder, for labels while holding
	sticky    bool
	holding   bool
	released  int
	requests  []*slot
	lastHuman bool
	interv    int
	total     int
	ticks     uint64
	rejected  uint64
	badPolicy uint64
	pa        []float64 // policy action
	tmp       []float64
	target    []float64 // integrated absolute target
	targetOK  bool
	lastSrc   sim.Source
	lastOp    string
	help      bool // a help request is raised and not yet answered
	subTicks  bool // this period's holder is sampled at every sub-tick
	presses   []op // console presses taken for this tick
	reqIDs    []string
	inputs    []sim.Input
	asks      sim.Ask
	askBy     string
}

// NewArbiter returns an arbiter for task. The task is only touched from
// Decide and Reset (hold action, camera pose), on the loop goroutine.
func NewArbiter(task sim.Task, cfg Config) (*Arbiter, error) {
	spec := task.Spec()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if cfg.Mode == "" {
		cfg.Mode = sim.ModeShared
	}
	if _, err := sim.ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	switch cfg.OnDisconnect {
	case "":
		cfg.OnDisconnect = HandBackOnDisconnect
	case HandBackOnDisconnect, HoldOnDisconnect:
	default:
		return nil, fmt.Errorf("teleop: unknown disconnect behaviour %q (valid: handback, hold)", cfg.OnDisconnect)
	}
	if cfg.ControlHz == 0 {
		cfg.ControlHz = spec.ControlHz
	}
	if cfg.TeleopHz == 0 {
		cfg.TeleopHz = cfg.ControlHz
	}
	if cfg.MotionScale == 0 {
		cfg.MotionScale = 1
	}
	if cfg.RateGain == 0 {
		cfg.RateGain = 1
	}
	switch {
	case !(cfg.ControlHz > 0) || math.IsInf(cfg.ControlHz, 0):
		return nil, fmt.Errorf("teleop: control rate %g Hz must be positive", cfg.ControlHz)
	case !sim.Divides(cfg.ControlHz, cfg.TeleopHz):
		return nil, fmt.Errorf("teleop: teleoperation rate %g Hz must be a whole multiple of the control rate %g Hz", cfg.TeleopHz, cfg.ControlHz)
	case cfg.HandBackTicks < 0 || cfg.HandBackAfter < 0:
		return nil, errors.New("teleop: hand-back time must not be negative")
	case !(cfg.MotionScale > 0) || math.IsInf(cfg.MotionScale, 0):
		return nil, fmt.Errorf("teleop: motion scale %g must be positive", cfg.MotionScale)
	case !(cfg.RateGain > 0) || math.IsInf(cfg.RateGain, 0):
		return nil, fmt.Errorf("teleop: rate gain %g must be positive", cfg.RateGain)
	}
	a := &Arbiter{task: task, spec: spec, cfg: cfg, hold: cfg.Hold}
	if a.hold == nil {
		a.hold = func(dst []float64) { sim.HoldAction(task, dst) }
	}
	a.viewer, _ = task.(sim.Viewer)
	a.axes = MotionAxes(spec)
	for _, ax := range a.axes {
		if ax.Absolute {
			for _, i := range [3]int{ax.X, ax.Y, ax.Yaw} {
				if i >= 0 {
					a.absIdx = append(a.absIdx, i)
				}
			}
		}
	}
	a.release = cfg.HandBackTicks
	if cfg.HandBackAfter > 0 {
		a.release = int(math.Ceil(cfg.HandBackAfter.Seconds()*cfg.ControlHz - 1e-9))
	}
	a.gain = cfg.RateGain / cfg.TeleopHz
	a.grips = GripChannels(spec)
	n := spec.ActionSize()
	a.pa, a.tmp, a.target = make([]float64, n), make([]float64, n), make([]float64, n)
	a.mode, a.policy, a.version = cfg.Mode, cfg.Policy, cfg.PolicyVersion
	a.snap = State{Mode: a.mode, PolicyVersion: a.version, Holder: a.holderName(), Requests: []string{}, Sources: []SourceState{}}
	return a, nil
}
