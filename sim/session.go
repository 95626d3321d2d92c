package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// RecordKind distinguishes the records in a Session's stream.
type RecordKind string

// Record kinds.
const (
	// ResetRecord starts an episode: Step.Seed is the seed, Step.Next the
	// initial observation; there is no action.
	ResetRecord RecordKind = "reset"
	// StepRecord ends a control period: Step is the period's one learning
	// step, exactly what a headless Env.Step of the same action would give
	// when the period ran without sub-ticks.
	StepRecord RecordKind = "step"
	// SubRecord is a sub-tick inside a period: poses for display and the
	// sub-tick's command in Step.Action, not a learning step. Step.T is the
	// index of the period being executed.
	SubRecord RecordKind = "sub"
	// StateRecord reports a change without motion (pause, resume).
	StateRecord RecordKind = "state"
)

// Outcomes an operator can label an episode with.
const (
	LabelSuccess = "success"
	LabelFailure = "failure"
)

// Label is an operator's verdict on the running episode.
type Label struct {
	Outcome string `json:"outcome"` // LabelSuccess or LabelFailure
	By      string `json:"by"`
}

// Record is the immutable value a Session publishes once per tick that did
// something. It is self-contained: who held authority and in which mode,
// whether the session was paused, which operator inputs the tick applied,
// help, labels. Viewers, metrics and the recorder read records, never the
// session's live state. Subscribers share the same *Record and must not
// modify it.
type Record struct {
	Kind    RecordKind
	Session string
	Episode int // the session's episode counter, from 1
	Step
	Decision
	// Sub is the sub-tick's index within its period and Subs the sub-ticks
	// per period (TeleopHz/ControlHz); a StepRecord has Sub = Subs-1.
	Sub, Subs int
	// Subticks holds, on the StepRecord of a period whose holder's input was
	// applied at every sub-tick (Decision.SubTicks), the Subs commands
	// applied (clamped), Subs·ActionSize values in sub-tick order: what a
	// replay needs to re-execute the period exactly. Nil otherwise.
	Subticks      []float64
	Wall          time.Time // session clock at the tick
	ControlHz     float64
	TeleopHz      float64
	Paused        bool
	Return        float64 // episode return so far
	Interventions int     // interventions so far this episode
	// Label is set on the record of the tick at which an operator labelled
	// the episode.
	Label *Label
	// Rejected reports that the controller's action this tick was refused
	// (NaN, wrong length) and replaced by the hold action.
	Rejected bool
	Poses    []Pose    // one per Scene body, after the tick
	Forces   []float64 // ToolForces, when the task reports them
}

// Learning reports whether r is a learning step (a StepRecord).
func (r *Record) Learning() bool { return r.Kind == StepRecord }

// SessionConfig configures a live Session. Zero values mean defaults.
type SessionConfig struct {
	ID         string
	Controller Controller // required
	Clock      Clock      // required: WallClock{} for live use
	Seed       uint64     // seed of the first episode; later ones count up
	// ControlHz overrides the task's ControlHz: the rate the session
	// decides and records learning steps at (it must divide PhysicsHz).
	ControlHz float64
	// TeleopHz is the sub-tick rate (default the task's TeleopHz when it
	// fits ControlHz, else ControlHz): a whole multiple of ControlHz that
	// divides PhysicsHz. See Spec.CheckRates.
	TeleopHz float64
	// MaxCatchUp caps how many ticks one wake-up may run when the loop fell
	// behind (default 3); the rest are skipped and counted as overruns, so a
	// stall slows the session down rather than spiralling.
	MaxCatchUp int
	// ManualReset keeps an ended episode on screen until Reset is called;
	// by default the next episode starts on the next tick.
	ManualReset bool
	// Paused starts the session paused.
	Paused bool
	// TickHook, if set, is called from the loop after each wake-up with how
	// long its ticks took on Clock and how many ticks were skipped.
	TickHook func(elapsed time.Duration, skipped int)
}

// SessionState is a snapshot of a Session for status displays.
type SessionState struct {
	ID            string  `json:"id"`
	Task          string  `json:"task"`
	ControlHz     float64 `json:"control_hz"`
	TeleopHz      float64 `json:"teleop_hz"`
	Paused        bool    `json:"paused"`
	Episode       int     `json:"episode"`
	Seed          uint64  `json:"seed"`
	T             int     `json:"t"`
	Return        float64 `json:"return"`
	Success       bool    `json:"success"`
	Done          bool    `json:"done"`
	Interventions int     `json:"interventions"`
	Source        Source  `json:"source,omitempty"`
	PolicyVersion string  `json:"policy_version,omitempty"`
	Operator      string  `json:"operator,omitempty"`
	Help          bool    `json:"help"`
	Label         *Label  `json:"label,omitempty"`
	Ticks         uint64  `json:"ticks"`
	Overruns      uint64  `json:"overruns"`
	Rejected      uint64  `json:"rejected_actions"` // bad controller actions replaced by a hold

	Running bool `json:"running"`
}

// ErrSessionClosed is returned by Run on a session that already ran, and by
// commands sent after the loop ended.
var ErrSessionClosed = errors.New("sim: session closed")

// Session is the live loop around an Env with two clocks. It decides, and
// records one learning step, once per control period (ControlHz), exactly
// as a headless rollout does; inside each period it ticks Subs times at
// TeleopHz, applying the holder's latest input at every sub-tick when a
// human holds authority and publishing intermediate poses for display. It
// runs on an injected Clock and publishes a Record per tick to subscribers
// without ever waiting for them.
//
// Run (or Tick) must be called from one goroutine, the loop goroutine, which
// owns the task. Every other method is safe for concurrent use; commands are
// queued and applied at the start of the next tick.
type Session struct {
	cfg    SessionConfig
	env    *Env
	scene  *Scene
	spec   Spec
	period time.Duration // one sub-tick
	subs   int           // sub-ticks per control period
	perSub int           // physics substeps per sub-tick
	teleop float64
	force  ForceReporter
	subCtl SubController

	// loop-goroutine state
	started   bool
	next      time.Time
	seed      uint64
	episode   int
	obs       Vec
	act       []float64
	learned   []float64
	scratch   []float64
	subticks  []float64 // commands of the current period, when sub-ticked
	k         int       // sub-tick of the current period, 0 = not begun
	dec       Decision  // the current period's decision
	decCopy   Decision  // dec with copied slices, for state records
	ret       float64
	interv    int
	paused    bool
	wasPaused bool
	label     *Label
	success   bool // after the last learning step

	mu       sync.Mutex // guards cmds, subs, state, closed
	cmds     []func()
	sublist  []*Subscription
	state    SessionState
	closed   bool
	ran      atomic.Bool
	last     atomic.Pointer[Record]
	ticks    atomic.Uint64
	overruns atomic.Uint64
	rejected atomic.Uint64
}

// NewSession wraps task in a live loop.
func NewSession(task Task, cfg SessionConfig) (*Session, error) {
	if cfg.Controller == nil {
		return nil, errors.New("sim: session needs a Controller")
	}
	if cfg.Clock == nil {
		return nil, errors.New("sim: session needs a Clock")
	}
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = 3
	}
	spec := task.Spec()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	control, teleop, err := spec.CheckRates(cfg.ControlHz, cfg.TeleopHz)
	if err != nil {
		return nil, fmt.Errorf("sim: task %s: %w", spec.Name, err)
	}
	env, err := NewEnv(task, EnvConfig{ControlHz: control})
	if err != nil {
		return nil, err
	}
	subs := int(math.Round(teleop / control))
	n := spec.ActionSize()
	s := &Session{
		cfg:     cfg,
		env:     env,
		scene:   task.Scene(),
		spec:    spec,
		period:  time.Duration(float64(time.Second) / teleop),
		subs:    subs,
		perSub:  env.Substeps() / subs,
		teleop:  teleop,
		seed:    cfg.Seed,
		paused:  cfg.Paused,
		act:     make([]float64, n),
		learned: make([]float64, n),
		scratch: make([]float64, n),
	}
	s.wasPaused = s.paused
	s.force, _ = task.(ForceReporter)
	s.subCtl, _ = cfg.Controller.(SubController)
	s.state = SessionState{ID: cfg.ID, Task: s.spec.Name, ControlHz: control, TeleopHz: teleop, Paused: cfg.Paused}
	return s, nil
}

// ID returns the session's identifier.
func (s *Session) ID() string { return s.cfg.ID }

// Spec returns the task's spec.
func (s *Session) Spec() Spec { return s.spec }

// Scene returns the task's static scene (immutable).
func (s *Session) Scene() *Scene { return s.scene }

// Period is the tick (sub-tick) period, 1/TeleopHz.
func (s *Session) Period() time.Duration { return s.period }

// Subs is the number of sub-ticks per control period.
func (s *Session) Subs() int { return s.subs }

// Horizon is the episode length in control periods (learning steps).
func (s *Session) Horizon() int { return s.env.Horizon() }

// State returns a snapshot of the session's state.
func (s *Session) State() SessionState {
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	st.Ticks, st.Overruns, st.Rejected = s.ticks.Load(), s.overruns.Load(), s.rejected.Load()
	return st
}

// Last returns the most recent Record, or nil before the first tick.
func (s *Session) Last() *Record { return s.last.Load() }

// Pause stops stepping until Resume; the clock keeps running.
func (s *Session) Pause() error { return s.enqueue(func() { s.paused = true }) }

// Resume continues a paused session.
func (s *Session) Resume() error { return s.enqueue(func() { s.paused = false }) }

// Reset ends the current episode (it is recorded as cut, not successful) and
// starts the next one from the next seed.
func (s *Session) Reset() error { return s.enqueue(func() { s.reset(s.seed + 1) }) }

// ResetTo is Reset with an explicit seed.
func (s *Session) ResetTo(seed uint64) error { return s.enqueue(func() { s.reset(seed) }) }

// Do queues f to run on the loop goroutine at the start of the next tick,
// for callers that must touch loop-owned values (a controller's settings).
func (s *Session) Do(f func()) error { return s.enqueue(f) }

func (s *Session) enqueue(f func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	s.cmds = append(s.cmds, f)
	return nil
}

// Subscription receives a Session's Records. C is closed when the session
// ends or the subscription is closed.
type Subscription struct {
	C         <-chan *Record
	c         chan *Record
	s         *Session
	dropped   atomic.Uint64
	closed    bool // guarded by s.mu
	stepsOnly bool
}

// Dropped reports how many records were discarded because C was full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Close unsubscribes and closes C.
func (sub *Subscription) Close() {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	if sub.closed {
		return
	}
	sub.closed = true
	close(sub.c)
	for i, x := range sub.s.sublist {
		if x == sub {
			sub.s.sublist = append(sub.s.sublist[:i], sub.s.sublist[i+1:]...)
			break
		}
	}
}

// Subscribe returns a subscription whose channel holds up to buffer records.
// When it is full the oldest queued record is discarded and counted, so a
// slow subscriber sees the newest state and never slows the loop. A
// subscriber that must see every record (the recorder) uses a large buffer
// and watches Dropped.
func (s *Session) Subscribe(buffer int) *Subscription { return s.subscribe(buffer, false) }

// SubscribeSteps is Subscribe for consumers of learning data (the
// recorder): it receives ResetRecords, StepRecords and any record carrying
// a Label, not display sub-ticks or state changes.
func (s *Session) SubscribeSteps(buffer int) *Subscription { return s.subscribe(buffer, true) }

func (s *Session) subscribe(buffer int, stepsOnly bool) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan *Record, buffer)
	sub := &Subscription{C: c, c: c, s: s, stepsOnly: stepsOnly}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sub.closed = true
		close(c)
		return sub
	}
	s.sublist = append(s.sublist, sub)
	return sub
}

func (s *Session) publish(r *Record) {
	s.last.Store(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	learning := r.Kind == ResetRecord || r.Kind == StepRecord || r.Label != nil
	for _, sub := range s.sublist {
		if sub.stepsOnly && !learning {
			continue
		}
		select {
		case sub.c <- r:
			continue
		default:
		}
		// Full: drop the oldest so the newest gets in. Only the loop sends,
		// so after one receive there is room.
		select {
		case <-sub.c:
			sub.dropped.Add(1)
		default:
		}
		select {
		case sub.c <- r:
		default:
			sub.dropped.Add(1)
		}
	}
}

// Run runs the loop until ctx is done, then closes every subscription and
// returns nil. A session runs once.
func (s *Session) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrSessionClosed
	}
	defer s.close()
	s.mu.Lock()
	s.state.Running = true
	s.mu.Unlock()
	next := s.Tick(s.cfg.Clock.Now())
	for {
		wait := next.Sub(s.cfg.Clock.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-s.cfg.Clock.After(wait):
		}
		if ctx.Err() != nil {
			return nil
		}
		next = s.Tick(s.cfg.Clock.Now())
	}
}

func (s *Session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.state.Running = false
	for _, sub := range s.sublist {
		if !sub.closed {
			sub.closed = true
			close(sub.c)
		}
	}
	s.sublist = nil
}

// Tick runs the ticks due at now (at most MaxCatchUp) and returns when the
// next one is due. Run calls it; tests may call it directly with virtual
// times instead of running a goroutine. Loop goroutine only.
func (s *Session) Tick(now time.Time) time.Time {
	if !s.started {
		s.started = true
		s.next = now
		s.reset(s.seed)
	}
	s.mu.Lock()
	cmds := s.cmds
	s.cmds = nil
	s.mu.Unlock()
	for _, f := range cmds {
		f()
	}
	if now.Before(s.next) {
		return s.next
	}
	due := int(now.Sub(s.next)/s.period) + 1
	skipped := 0
	if due > s.cfg.MaxCatchUp {
		skipped = due - s.cfg.MaxCatchUp
		due = s.cfg.MaxCatchUp
		s.overruns.Add(uint64(skipped))
	}
	for range due {
		if !s.paused {
			s.tickOnce(now)
		}
		s.ticks.Add(1)
	}
	if skipped > 0 {
		s.next = now.Add(s.period)
	} else {
		s.next = s.next.Add(time.Duration(due) * s.period)
	}
	if s.paused != s.wasPaused {
		s.wasPaused = s.paused
		s.publish(s.record(StateRecord, now))
	}
	if s.cfg.TickHook != nil {
		s.cfg.TickHook(s.cfg.Clock.Now().Sub(now), skipped)
	}
	s.syncState()
	return s.next
}

func (s *Session) reset(seed uint64) {
	s.seed = seed
	s.episode++
	s.k = 0
	s.obs = s.env.Reset(seed)
	if r, ok := s.cfg.Controller.(Resetter); ok {
		r.Reset(seed)
	}
	s.ret, s.interv, s.label, s.success = 0, 0, nil, false
	r := s.record(ResetRecord, s.cfg.Clock.Now())
	r.Step = Step{Seed: seed, Next: s.obs}
	r.Decision = Decision{Mode: s.decCopy.Mode, Holder: s.decCopy.Holder, Requests: s.decCopy.Requests, PolicyVersion: s.decCopy.PolicyVersion}
	if m, ok := s.cfg.Controller.(Moded); ok {
		r.Mode = m.CurrentMode()
	}
	s.publish(r)
	s.syncState()
}

// tickOnce runs one sub-tick: the first of a period decides and begins
// it, the last ends it with the learning step.
func (s *Session) tickOnce(now time.Time) {
	var d Decision
	rejected := false
	if s.k == 0 {
		if s.env.Done() {
			if !s.cfg.ManualReset {
				s.reset(s.seed + 1)
			}
			return
		}
		s.dec = s.cfg.Controller.Decide(s.obs.Slice(), s.act)
		if s.subCtl == nil || s.subs == 1 {
			s.dec.SubTicks = false
		}
		if err := s.env.Begin(); err != nil {
			panic(fmt.Sprintf("sim: session %s: %v", s.cfg.ID, err)) // Env invariant broken
		}
		rejected = s.apply(s.act)
		if s.dec.InterventionStart {
			s.interv++
		}
		d = s.dec
	} else {
		if s.subCtl != nil {
			dst := s.scratch // a robot period keeps its action
			if s.dec.SubTicks {
				dst = s.act
			}
			sd := s.subCtl.Sub(dst)
			if s.dec.SubTicks {
				rejected = s.apply(s.act)
			}
			d = s.dec
			d.Inputs, d.Requests, d.Asks, d.AskBy, d.Help = sd.Inputs, sd.Requests, sd.Asks, sd.AskBy, sd.Help || s.dec.Help
		} else {
			d = s.dec
			d.Asks, d.AskBy = 0, ""
		}
	}
	// An intervention starts or ends with a period: the learning step
	// carries the mark, display sub-ticks never do.
	last := s.k == s.subs-1
	d.InterventionStart = last && s.dec.InterventionStart
	d.InterventionEnd = last && s.dec.InterventionEnd
	if rejected {
		d.Help = true
		s.dec.Help = true
	}
	s.env.Advance(s.perSub)
	kind := SubRecord
	var step Step
	if last {
		kind = StepRecord
		learned := s.act // End clamps it
		if s.dec.SubTicks {
			s.spec.CombineSubticks(s.learned, s.subticks, s.subs)
			learned = s.learned
		}
		step = s.env.End(learned)
		s.success = step.Success
		s.obs = step.Next
		s.ret += step.Reward
	} else {
		step = Step{Seed: s.env.Seed(), T: s.env.T(), Obs: s.obs}
		step.Action.Set(s.act)
	}
	r := s.record(kind, now)
	r.Step = step
	r.Decision = d
	copyDecision(&r.Decision)
	r.Rejected = rejected
	if kind == StepRecord && s.dec.SubTicks {
		r.Subticks = append([]float64(nil), s.subticks...)
	}
	if d.Asks&(AskSuccess|AskFailure) != 0 {
		l := &Label{Outcome: LabelSuccess, By: d.AskBy}
		if d.Asks.Has(AskFailure) {
			l.Outcome = LabelFailure
		}
		s.label, r.Label = l, l
	}
	s.decCopy = r.Decision
	s.k = (s.k + 1) % s.subs
	s.publish(r)
	if d.Asks.Has(AskReset) {
		s.reset(s.seed + 1)
	}
}

// apply sets the tick's command: the whole period's when it runs without
// sub-ticks, else this sub-tick's (recorded for replay). A refused action
// (NaN from a mapping, wrong size) is replaced by the hold action and
// counted; it reports whether that happened.
func (s *Session) apply(act []float64) (rejected bool) {
	parts := 1
	if s.dec.SubTicks {
		parts = s.subs
	}
	err := s.env.Apply(act, parts)
	var ae *ActionError
	if errors.As(err, &ae) {
		s.act = s.act[:s.spec.ActionSize()]
		HoldAction(s.env.Task(), s.act)
		s.rejected.Add(1)
		rejected = true
		err = s.env.Apply(s.act, parts)
	}
	if err != nil {
		panic(fmt.Sprintf("sim: session %s: %v", s.cfg.ID, err)) // Env invariant broken
	}
	if s.dec.SubTicks {
		n := s.spec.ActionSize()
		if s.k == 0 {
			s.subticks = s.subticks[:0]
		}
		s.subticks = append(s.subticks, make([]float64, n)...)
		s.env.Clamp(s.subticks[s.k*n:], s.act)
	}
	return rejected
}

// record starts a record of kind with the session's running values.
func (s *Session) record(kind RecordKind, now time.Time) *Record {
	r := &Record{
		Kind: kind, Session: s.cfg.ID, Episode: s.episode, Wall: now,
		Sub: s.k, Subs: s.subs, ControlHz: s.env.ControlHz(), TeleopHz: s.teleop,
		Paused: s.paused, Return: s.ret, Interventions: s.interv,
	}
	if kind == StateRecord {
		r.Decision = s.decCopy
		r.Decision.Asks, r.Decision.AskBy = 0, ""
		r.Decision.InterventionStart, r.Decision.InterventionEnd = false, false
		r.Step = Step{Seed: s.env.Seed(), T: s.env.T(), Obs: s.obs}
	}
	r.Poses = s.env.Task().Poses(make([]Pose, len(s.scene.Bodies)))
	if s.force != nil {
		r.Forces = s.force.ToolForces(nil)
	}
	return r
}

// copyDecision gives d slices of its own (the controller reuses its).
func copyDecision(d *Decision) {
	if d.Requests != nil {
		d.Requests = append([]string(nil), d.Requests...)
	}
	if d.Inputs != nil {
		d.Inputs = append([]Input(nil), d.Inputs...)
	}
}

func (s *Session) syncState() {
	r := s.last.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.state
	st.Paused, st.Episode, st.Seed = s.paused, s.episode, s.seed
	st.Label = s.label
	st.T, st.Return, st.Interventions, st.Done = s.env.T(), s.ret, s.interv, s.env.Done()
	st.Success = s.success
	if r != nil {
		st.Source, st.PolicyVersion, st.Operator, st.Help = r.Source, r.PolicyVersion, r.Operator, r.Help
	}
}
