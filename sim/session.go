package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// RecordKind distinguishes episode starts from steps in a Session's stream.
type RecordKind string

// Record kinds.
const (
	// ResetRecord starts an episode: Step.Seed is the seed, Step.Next the
	// initial observation; there is no action.
	ResetRecord RecordKind = "reset"
	// StepRecord is one executed control step.
	StepRecord RecordKind = "step"
)

// Record is the immutable value a Session publishes once per tick that did
// something: the step, who acted, and what a viewer needs. Subscribers share
// the same *Record and must not modify it.
type Record struct {
	Kind    RecordKind
	Session string
	Episode int // the session's episode counter, from 1
	Step
	Decision
	Wall          time.Time // session clock at the tick
	ControlHz     float64
	Return        float64   // episode return so far
	Interventions int       // interventions so far this episode
	Poses         []Pose    // one per Scene body, after the step
	Forces        []float64 // ToolForces, when the task reports them
}

// SessionConfig configures a live Session. Zero values mean defaults.
type SessionConfig struct {
	ID         string
	Controller Controller // required
	Clock      Clock      // required: WallClock{} for live use
	Seed       uint64     // seed of the first episode; later ones count up
	// ControlHz overrides the task's ControlHz (for example its TeleopHz).
	ControlHz float64
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
	Ticks         uint64  `json:"ticks"`
	Overruns      uint64  `json:"overruns"`
	Rejected      uint64  `json:"rejected_actions"` // bad controller actions replaced by a hold

	Running bool `json:"running"`
}

// ErrSessionClosed is returned by Run on a session that already ran, and by
// commands sent after the loop ended.
var ErrSessionClosed = errors.New("sim: session closed")

// Session is the live loop around an Env: it ticks at the control rate on an
// injected Clock, samples its Controller once per tick, and publishes a Record
// per tick to subscribers without ever waiting for them.
//
// Run (or Tick) must be called from one goroutine, the loop goroutine, which
// owns the task. Every other method is safe for concurrent use; commands are
// queued and applied at the start of the next tick.
type Session struct {
	cfg    SessionConfig
	env    *Env
	scene  *Scene
	spec   Spec
	period time.Duration
	force  ForceReporter

	// loop-goroutine state
	started  bool
	next     time.Time
	seed     uint64
	episode  int
	obs      Vec
	act      []float64
	ret      float64
	interv   int
	lastDone bool
	paused   bool

	mu       sync.Mutex // guards cmds, subs, state, closed
	cmds     []func()
	subs     []*Subscription
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
	env, err := NewEnv(task, EnvConfig{ControlHz: cfg.ControlHz})
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg:    cfg,
		env:    env,
		scene:  task.Scene(),
		spec:   task.Spec(),
		period: time.Duration(float64(time.Second) / env.ControlHz()),
		seed:   cfg.Seed,
		paused: cfg.Paused,
		act:    make([]float64, env.Spec().ActionSize()),
	}
	s.force, _ = task.(ForceReporter)
	s.state = SessionState{ID: cfg.ID, Task: s.spec.Name, ControlHz: env.ControlHz(), Paused: cfg.Paused}
	return s, nil
}

// ID returns the session's identifier.
func (s *Session) ID() string { return s.cfg.ID }

// Spec returns the task's spec.
func (s *Session) Spec() Spec { return s.spec }

// Scene returns the task's static scene (immutable).
func (s *Session) Scene() *Scene { return s.scene }

// Period is the control period.
func (s *Session) Period() time.Duration { return s.period }

// Horizon is the episode length in ticks at the session's rate.
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
	C       <-chan *Record
	c       chan *Record
	s       *Session
	dropped atomic.Uint64
	closed  bool // guarded by s.mu
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
	for i, x := range sub.s.subs {
		if x == sub {
			sub.s.subs = append(sub.s.subs[:i], sub.s.subs[i+1:]...)
			break
		}
	}
}

// Subscribe returns a subscription whose channel holds up to buffer records.
// When it is full the oldest queued record is discarded and counted, so a
// slow subscriber sees the newest state and never slows the loop. A
// subscriber that must see every record (the recorder) uses a large buffer
// and watches Dropped.
func (s *Session) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan *Record, buffer)
	sub := &Subscription{C: c, c: c, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sub.closed = true
		close(c)
		return sub
	}
	s.subs = append(s.subs, sub)
	return sub
}

func (s *Session) publish(r *Record) {
	s.last.Store(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
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
	for _, sub := range s.subs {
		if !sub.closed {
			sub.closed = true
			close(sub.c)
		}
	}
	s.subs = nil
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
	if s.cfg.TickHook != nil {
		s.cfg.TickHook(s.cfg.Clock.Now().Sub(now), skipped)
	}
	s.syncState()
	return s.next
}

func (s *Session) reset(seed uint64) {
	s.seed = seed
	s.episode++
	s.obs = s.env.Reset(seed)
	if r, ok := s.cfg.Controller.(Resetter); ok {
		r.Reset(seed)
	}
	s.ret, s.interv, s.lastDone = 0, 0, false
	r := &Record{Kind: ResetRecord, Session: s.cfg.ID, Episode: s.episode, Wall: s.cfg.Clock.Now(), ControlHz: s.env.ControlHz()}
	r.Step.Seed = seed
	r.Step.Next = s.obs
	r.Poses = s.env.Task().Poses(make([]Pose, len(s.scene.Bodies)))
	s.publish(r)
	s.syncState()
}

func (s *Session) tickOnce(now time.Time) {
	if s.env.Done() {
		if !s.cfg.ManualReset {
			s.reset(s.seed + 1)
		}
		return
	}
	d := s.cfg.Controller.Decide(s.obs.Slice(), s.act)
	step, err := s.env.Step(s.act)
	var ae *ActionError
	if errors.As(err, &ae) {
		// A controller produced a bad action (NaN from a mapping, wrong
		// size): hold still for this tick rather than stop the loop, and
		// count it.
		s.act = s.act[:s.env.Spec().ActionSize()]
		HoldAction(s.env.Task(), s.act)
		d.Help = true
		s.rejected.Add(1)
		step, err = s.env.Step(s.act)
	}
	if err != nil {
		panic(fmt.Sprintf("sim: session %s: %v", s.cfg.ID, err)) // Env invariant broken
	}
	s.obs = step.Next
	s.ret += step.Reward
	if d.InterventionStart {
		s.interv++
	}
	r := &Record{
		Kind: StepRecord, Session: s.cfg.ID, Episode: s.episode, Step: step, Decision: d,
		Wall: now, ControlHz: s.env.ControlHz(), Return: s.ret, Interventions: s.interv,
	}
	r.Poses = s.env.Task().Poses(make([]Pose, len(s.scene.Bodies)))
	if s.force != nil {
		r.Forces = s.force.ToolForces(nil)
	}
	s.publish(r)
}

func (s *Session) syncState() {
	r := s.last.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.state
	st.Paused, st.Episode, st.Seed = s.paused, s.episode, s.seed
	st.T, st.Return, st.Interventions, st.Done = s.env.T(), s.ret, s.interv, s.env.Done()
	if r != nil {
		st.Success = r.Success
		st.Source, st.PolicyVersion, st.Operator, st.Help = r.Source, r.PolicyVersion, r.Operator, r.Help
		if r.Kind == ResetRecord {
			st.Success, st.Source, st.Help = false, "", false
		}
	}
}
