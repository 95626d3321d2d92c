package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/teleop"
)

// Options describe a session to create. Zero values take the defaults
// named on each field; Hub.Create validates them once.
type Options struct {
	Task string // required: a catalogue task name
	Mode string // shared | teleop | auto (shared)
	// Policy is a registered policy name (expert), or Current: the task's
	// promoted version (the expert until one is promoted), followed as
	// promotions and rollbacks happen, at episode boundaries.
	Policy string
	// Skill of the scripted expert in [0, 1]; nil means 1. Only with the
	// expert policy.
	Skill *float64
	Seed  uint64
	// ControlHz overrides the task's control rate: the rate the session
	// decides and records at (0: the task's; it must divide the physics
	// rate). TeleopHz is the sub-tick rate (0: the task's teleoperation
	// rate when it fits, else the control rate). See sim.Spec.CheckRates.
	ControlHz float64
	TeleopHz  float64
	Paused    bool
	// Record stores the session's episodes; nil means yes when the hub has
	// a store.
	Record *bool
	// Learn makes the session take part in the hub's online learning: it
	// runs the policy Current (whatever Policy says) and its episodes feed
	// the online trainer. It needs Hub.StartLearning.
	Learn bool
	// Operator attaches a simulated operator: "sim" or "sim:KEY=VALUE,..."
	// (teleop.ParseOperator), the same one `tandem rollout --operator`
	// uses, so a shared-autonomy session can run unattended.
	Operator string
}

// ParseOperator reads a simulated operator argument, "sim" or
// "sim:KEY=VALUE,...", into its configuration.
func ParseOperator(arg string) (teleop.OperatorConfig, error) {
	spec, ok := strings.CutPrefix(arg, "sim")
	if !ok || spec != "" && spec[0] != ':' {
		return teleop.OperatorConfig{}, fmt.Errorf("unknown operator %q (valid: sim, sim:KEY=VALUE,...)", arg)
	}
	return teleop.ParseOperator(strings.TrimPrefix(spec, ":"))
}

// Session is one live task in a hub: its loop goroutine, arbiter,
// recording and devices. Its methods are safe for concurrent use.
type Session struct {
	hub    *Hub
	id     string
	opts   Options
	spec   sim.Spec
	scene  *sim.Scene
	sim    *sim.Session
	arb    *teleop.Arbiter // nil for replays
	task   sim.Task        // loop goroutine only (through sim.Do)
	replay *demos.Replay   // nil for live sessions
	rec    *demos.Recording
	// forceScale is the task's sim.ForceScaler value (0 without one).
	forceScale float64

	cancel   context.CancelFunc
	loopEnd  chan struct{}
	stopOnce sync.Once
	stopErr  error

	mu     sync.Mutex // guards policy, prev, follow
	policy string
	prev   string
	follow bool // the policy is the task's current version (Current)
	learn  bool // the session takes part in online learning
}

// Create builds, starts and registers a session.
func (h *Hub) Create(o Options) (*Session, error) {
	if o.Mode == "" {
		o.Mode = string(sim.ModeShared)
	}
	if o.Policy == "" {
		o.Policy = policies.Expert
	}
	mode, err := sim.ParseMode(o.Mode)
	if err != nil {
		return nil, err
	}
	if o.Learn {
		if h.Learning() == "" {
			return nil, errors.New("live: learning needs the online trainer (tandem serve --learn ALGO)")
		}
		o.Policy = Current
	}
	follow := o.Policy == Current
	if follow {
		if o.Policy, err = h.current(o.Task); err != nil {
			return nil, err
		}
	}
	reg := h.cfg.Policies
	if err := reg.Check(o.Policy, policies.Options{Skill: o.Skill}); err != nil {
		return nil, err
	}
	if o.Task == "" {
		return nil, errors.New("live: a session needs a task")
	}
	task, err := h.cfg.Catalog.New(o.Task)
	if err != nil {
		return nil, err
	}
	spec := task.Spec()
	control, teleopHz, err := spec.CheckRates(o.ControlHz, o.TeleopHz)
	if err != nil {
		return nil, err
	}
	pol, err := reg.New(o.Policy, task, policies.Options{Skill: o.Skill, Seed: o.Seed, Explore: o.Learn})
	if err != nil {
		return nil, err
	}
	arb, err := teleop.NewArbiter(task, teleop.Config{
		Mode: mode, Policy: pol, PolicyVersion: reg.Version(o.Policy),
		ControlHz: control, TeleopHz: teleopHz, Clock: h.cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	if o.Operator != "" {
		ocfg, err := ParseOperator(o.Operator)
		if err != nil {
			return nil, err
		}
		ocfg.Seed += o.Seed
		op, err := teleop.NewSimOperator(task, ocfg)
		if err != nil {
			return nil, err
		}
		if err := arb.AddSource(ocfg.ID, op); err != nil {
			return nil, err
		}
	}
	id, err := h.reserve()
	if err != nil {
		return nil, err
	}
	cfg := sim.SessionConfig{
		ID: id, Controller: arb, Clock: h.cfg.Clock, Seed: o.Seed,
		ControlHz: control, TeleopHz: teleopHz, Paused: o.Paused,
	}
	if h.cfg.TickHook != nil {
		cfg.TickHook = h.cfg.TickHook(id)
	}
	simS, err := sim.NewSession(task, cfg)
	if err != nil {
		h.unreserve()
		return nil, err
	}
	s := &Session{hub: h, id: id, opts: o, spec: spec, scene: task.Scene(), sim: simS, arb: arb, task: task, policy: o.Policy, follow: follow, learn: o.Learn}
	if fs, ok := task.(sim.ForceScaler); ok {
		s.forceScale = fs.ToolForceScale()
	}
	if err := s.start(o.Record == nil || *o.Record); err != nil {
		h.unreserve()
		return nil, err
	}
	return s, h.add(s)
}

// CreateReplay builds, starts and registers a session that plays back
// stored episode id for viewers (see demos.Replay). speed is in
// [MinReplaySpeed, MaxReplaySpeed] (0 means 1).
func (h *Hub) CreateReplay(ctx context.Context, episode int64, speed float64, paused bool) (*Session, error) {
	if h.cfg.Store == nil {
		return nil, errors.New("live: this hub has no store to replay from")
	}
	if speed == 0 {
		speed = 1
	}
	if err := CheckReplaySpeed(speed); err != nil {
		return nil, err
	}
	id, err := h.reserve()
	if err != nil {
		return nil, err
	}
	rp, err := demos.NewReplay(ctx, h.cfg.Store, episode, h.cfg.Catalog.New,
		demos.ReplayConfig{ID: id, Clock: h.cfg.Clock, Speed: speed, Paused: paused})
	if err != nil {
		h.unreserve()
		return nil, err
	}
	s := &Session{hub: h, id: id, opts: Options{Task: rp.Episode.Task}, spec: rp.Session.Spec(), scene: rp.Session.Scene(),
		sim: rp.Session, replay: rp}
	if err := s.start(false); err != nil {
		h.unreserve()
		return nil, err
	}
	return s, h.add(s)
}

// start attaches the recorder (when asked and available) and runs the
// loop goroutine.
func (s *Session) start(record bool) error {
	if record && s.hub.rec != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec, err := s.hub.rec.Attach(ctx, s.sim, demos.SessionInfo{Name: s.id + "@" + s.hub.cfg.Instance})
		if err != nil {
			return fmt.Errorf("record session %s: %w", s.id, err)
		}
		s.rec = rec
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.loopEnd = make(chan struct{})
	go func() {
		defer close(s.loopEnd)
		s.sim.Run(ctx) //nolint:errcheck // a fresh session runs once
	}()
	return nil
}

// stop ends the loop at a tick boundary and flushes the recording
// (idempotent).
func (s *Session) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		<-s.loopEnd
		if s.rec != nil {
			s.rec.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.hub.rec.Flush(ctx); err != nil && !errors.Is(err, demos.ErrRecorderClosed) {
				s.stopErr = err
			}
		}
		if s.hub.cfg.OnEnd != nil {
			s.hub.cfg.OnEnd(s.id)
		}
	})
	return s.stopErr
}

// Done is closed when the session's loop has ended.
func (s *Session) Done() <-chan struct{} { return s.loopEnd }

// ID is the session's id.
func (s *Session) ID() string { return s.id }

// Spec is the task's spec.
func (s *Session) Spec() sim.Spec { return s.spec }

// Scene is the task's static scene (immutable).
func (s *Session) Scene() *sim.Scene { return s.scene }

// Horizon is the episode length in control periods.
func (s *Session) Horizon() int { return s.sim.Horizon() }

// Subs is the number of sub-ticks per control period.
func (s *Session) Subs() int { return s.sim.Subs() }

// Period is the tick (sub-tick) period.
func (s *Session) Period() time.Duration { return s.sim.Period() }

// Replay is the replay this session plays (nil for live sessions).
func (s *Session) Replay() *demos.Replay { return s.replay }

// Live reports whether the session takes operators (it is not a replay).
func (s *Session) Live() bool { return s.arb != nil }

// Subscribe returns a subscription to the session's records (see
// sim.Session.Subscribe): a full channel drops its oldest record.
func (s *Session) Subscribe(buffer int) *sim.Subscription { return s.sim.Subscribe(buffer) }

// Last is the newest record (nil before the first tick).
func (s *Session) Last() *sim.Record { return s.sim.Last() }

// Recording reports the session's recording, if it has one.
func (s *Session) Recording() (demos.RecordingStatus, bool) {
	if s.rec == nil {
		return demos.RecordingStatus{}, false
	}
	return s.rec.Status(), true
}

// Info describes a session for listings: the newest record's view of it
// plus its fixed facts.
type Info struct {
	ID            string
	Task          string
	Mode          sim.Mode // "" for replays
	Policy        string   // the policy's registry name ("" for replays)
	PolicyVersion string
	Paused        bool
	Episode       int
	Seed          uint64
	T             int
	ControlHz     float64
	TeleopHz      float64
	Horizon       int
	Recording     bool
	Replay        int64 // the replayed episode's id, 0 for live sessions
	Holder        string
	Requests      []string
	Help          bool
	Label         *sim.Label
	Learning      bool // takes part in online learning
	Ticks         uint64
	Overruns      uint64
}

// Info snapshots the session.
func (s *Session) Info() Info {
	st := s.sim.State()
	in := Info{
		ID: s.id, Task: s.spec.Name, Policy: s.policyName(), Paused: st.Paused, Episode: st.Episode, Seed: st.Seed, T: st.T,
		ControlHz: st.ControlHz, TeleopHz: st.TeleopHz, Horizon: s.sim.Horizon(), Recording: s.rec != nil,
		Label: st.Label, Ticks: st.Ticks, Overruns: st.Overruns, Requests: []string{}, Learning: s.Learning(),
	}
	if s.replay != nil {
		in.Replay, in.Holder = s.replay.Episode.ID, "replay"
		return in
	}
	in.Mode = sim.Mode(s.opts.Mode)
	if r := s.sim.Last(); r != nil {
		if r.Mode != "" {
			in.Mode = r.Mode
		}
		in.PolicyVersion, in.Holder, in.Help = r.PolicyVersion, r.Holder, r.Help
		if r.Requests != nil {
			in.Requests = r.Requests
		}
	}
	if in.PolicyVersion == "" && in.Mode != sim.ModeTeleop {
		in.PolicyVersion = s.hub.cfg.Policies.Version(in.Policy)
	}
	return in
}

func (s *Session) policyName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy
}

// ErrReplay is returned for operator actions on a replay session.
var ErrReplay = errors.New("a replay session takes no operators")

// Attach adds an operator's input source under operator.
func (s *Session) Attach(operator string, src teleop.Source) error {
	if s.arb == nil {
		return ErrReplay
	}
	return s.arb.AddSource(operator, src)
}

// Detach removes operator's source (and its authority).
func (s *Session) Detach(operator string) {
	if s.arb != nil {
		s.arb.RemoveSource(operator) //nolint:errcheck // detaching an absent operator is a no-op
	}
}

// TakeOver gives operator control at the next period (sticky until it
// hands back); another holder queues it instead.
func (s *Session) TakeOver(operator string) error {
	if s.arb == nil {
		return ErrReplay
	}
	return s.arb.TakeOver(operator)
}

// HandBack returns control from operator to the policy.
func (s *Session) HandBack(operator string) error {
	if s.arb == nil {
		return ErrReplay
	}
	return s.arb.HandBack(operator)
}

// Request queues operator for control.
func (s *Session) Request(operator string) error {
	if s.arb == nil {
		return ErrReplay
	}
	return s.arb.Request(operator)
}

// Press presses console buttons (reset, success, failure, help) on
// operator's behalf: the same path as a device's buttons.
func (s *Session) Press(operator string, b teleop.Buttons) error {
	if s.arb == nil {
		return ErrReplay
	}
	return s.arb.Press(operator, b)
}

// SetMode switches the mode at the next period.
func (s *Session) SetMode(m sim.Mode) error {
	if s.arb == nil {
		return errors.New("a replay session has no mode")
	}
	return s.arb.SetMode(m)
}

// Pause stops ticking until Resume.
func (s *Session) Pause() error { return s.sim.Pause() }

// Resume continues a paused session.
func (s *Session) Resume() error { return s.sim.Resume() }

// Reset ends the episode (stored as cut) and starts the next, from seed
// when given; a replay restarts its episode.
func (s *Session) Reset(seed *uint64) error {
	switch {
	case s.replay != nil:
		return s.replay.Restart()
	case seed != nil:
		return s.sim.ResetTo(*seed)
	}
	return s.sim.Reset()
}
