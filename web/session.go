package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/teleop"
)

// SessionOptions describe a session to create (POST /api/sessions).
type SessionOptions struct {
	Task   string `json:"task"`   // task name (the server's default task)
	Mode   string `json:"mode"`   // shared | teleop | auto (shared)
	Policy string `json:"policy"` // expert | random (expert)
	// Skill of the scripted expert in [0, 1]; nil means 1.
	Skill *float64 `json:"skill,omitempty"`
	Seed  uint64   `json:"seed"`
	// ControlHz overrides the tick rate; 0 means the task's TeleopHz (or
	// ControlHz when it has none).
	ControlHz float64 `json:"control_hz"`
	Paused    bool    `json:"paused"`
	// Record stores the session's steps; nil means yes when a store is open.
	Record *bool `json:"record,omitempty"`

	replay *demos.Replay // set for replay sessions
}

// session is one live task: its loop goroutine (sim.Session.Run), its
// fan-out goroutine (records → encoded frames → client queues) and its
// clients. Lock order: session.mu before client.qmu; the arbiter's own
// lock is never held while taking session.mu.
type session struct {
	srv   *Server
	id    string
	opts  SessionOptions
	spec  sim.Spec
	scene *sim.Scene
	sim   *sim.Session
	arb   Arbiter  // nil for replays
	task  sim.Task // loop goroutine only (through sim.Do)
	rec   recorder
	hz    float64

	cancel  context.CancelFunc
	loopEnd chan struct{} // closed when Run returned
	done    chan struct{} // closed when the fan-out goroutine returned
	poke    chan struct{} // TickHook → fan-out: look for state changes

	mu       sync.Mutex // guards clients, byOp, closing, policy, prev
	policy   string
	prev     string
	clients  map[*client]struct{}
	byOp     map[string]*client
	closing  bool
	all      atomic.Pointer[[]*client] // fan-out snapshot
	ops      atomic.Pointer[[]*client] // operators, read by ackController
	last     atomic.Pointer[frame]
	stateKey atomic.Pointer[stateKey]

	// fan-out goroutine state
	seq        uint64
	buf        []byte
	lastHelp   bool
	lastSucc   bool
	lastInterv int
}

// recorder is one session's recording; Close flushes what it holds.
type recorder interface {
	Close() error
}

// newSession builds and starts a session.
func (srv *Server) newSession(id string, o SessionOptions) (*session, error) {
	if o.replay != nil {
		return srv.startSession(id, o, o.replay.Session, o.replay.Session.Scene())
	}
	task, err := srv.cfg.Catalog.New(o.Task)
	if err != nil {
		return nil, err
	}
	spec := task.Spec()
	hz := o.ControlHz
	if hz == 0 {
		hz = spec.TeleopHz
	}
	if hz < 0 || !finite(hz) || hz > spec.PhysicsHz {
		return nil, fmt.Errorf("control_hz %g out of range (0, %g]", hz, spec.PhysicsHz)
	}
	pol, err := srv.cfg.Policies.New(o.Policy, task, policies.Options{Skill: o.Skill, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	arb, err := srv.cfg.NewArbiter(ArbiterConfig{Task: task, Policy: pol, PolicyVersion: o.Policy, Mode: o.Mode, ControlHz: hzOf(&spec, hz), Clock: srv.cfg.Clock})
	if err != nil {
		return nil, err
	}
	ctrl := &ackController{Arbiter: arb}
	poke := make(chan struct{}, 1)
	simS, err := sim.NewSession(task, sim.SessionConfig{
		ID: id, Controller: ctrl, Clock: srv.cfg.Clock, Seed: o.Seed, ControlHz: hz, Paused: o.Paused,
		TickHook: srv.metrics.tickHook(id, func() {
			select {
			case poke <- struct{}{}:
			default:
			}
		}),
	})
	if err != nil {
		return nil, err
	}
	s, err := srv.prepareSession(id, o, simS, task.Scene(), poke)
	if err != nil {
		return nil, err
	}
	s.arb, s.task = arb, task
	ctrl.s = s
	return s, s.start()
}

// startSession wraps a session built elsewhere (a replay) and starts it.
func (srv *Server) startSession(id string, o SessionOptions, simS *sim.Session, scene *sim.Scene) (*session, error) {
	s, err := srv.prepareSession(id, o, simS, scene, make(chan struct{}, 1))
	if err != nil {
		return nil, err
	}
	return s, s.start()
}

func (srv *Server) prepareSession(id string, o SessionOptions, simS *sim.Session, scene *sim.Scene, poke chan struct{}) (*session, error) {
	s := &session{
		srv: srv, id: id, opts: o, spec: simS.Spec(), scene: scene, sim: simS, policy: o.Policy,
		loopEnd: make(chan struct{}), done: make(chan struct{}), poke: poke,
		clients: map[*client]struct{}{}, byOp: map[string]*client{},
	}
	empty := []*client{}
	s.all.Store(&empty)
	s.ops.Store(&empty)
	s.hz = simS.State().ControlHz
	return s, nil
}

// start attaches the recorder and runs the loop and fan-out goroutines.
func (s *session) start() error {
	srv := s.srv
	if srv.store != nil && s.opts.replay == nil && (s.opts.Record == nil || *s.opts.Record) {
		var err error
		if s.rec, err = srv.store.record(s); err != nil {
			return fmt.Errorf("record session %s: %w", s.id, err)
		}
	}
	sub := s.sim.Subscribe(16)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.loopEnd)
		s.sim.Run(ctx) //nolint:errcheck // a fresh session runs once
	}()
	go s.fanout(sub)
	return nil
}

// stop ends the session at a tick boundary, disconnects its clients with
// code and reason, and flushes its recording.
func (s *session) stop(code int, reason string) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closing = true
	cl := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		cl = append(cl, c)
	}
	s.mu.Unlock()
	s.cancel()
	<-s.loopEnd
	<-s.done
	for _, c := range cl {
		c.kick(code, reason)
	}
	var err error
	if s.rec != nil {
		err = s.rec.Close()
	}
	s.srv.metrics.sessionEnded(s.id)
	return err
}

// info snapshots the session for REST and hellos.
func (s *session) info() SessionInfo { return s.infoWith(s.authority(), s.sim.State()) }

func (s *session) infoWith(a ArbiterState, st sim.SessionState) SessionInfo {
	s.mu.Lock()
	ops, views := s.counts()
	policy := s.policy
	s.mu.Unlock()
	req := a.Requests
	if req == nil {
		req = []string{}
	}
	pv := a.PolicyVersion
	if pv == "" {
		pv = st.PolicyVersion
	}
	return SessionInfo{
		ID: s.id, Task: s.spec.Name, Mode: a.Mode, Policy: policy, PolicyVersion: pv,
		Paused: st.Paused, Episode: st.Episode, Seed: st.Seed, T: st.T, ControlHz: st.ControlHz, Horizon: s.sim.Horizon(),
		Recording: s.rec != nil, Replay: s.replayID(),
		Authority: Authority{Holder: a.Holder, Requests: req, Help: a.Help || st.Help},
		Clients:   ClientCounts{Operators: ops, Viewers: views},
		Ticks:     st.Ticks, Overruns: st.Overruns,
	}
}

// addClient registers c and queues its hello before any frame. An operator
// id already connected is replaced (the old connection is closed).
func (s *session) addClient(c *client) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return sim.ErrSessionClosed
	}
	if len(s.clients) >= s.srv.cfg.MaxClients {
		s.mu.Unlock()
		return fmt.Errorf("session %s has %d clients, the limit", s.id, len(s.clients))
	}
	var old *client
	if c.role == RoleOperator {
		old = s.byOp[c.operator]
		if old != nil {
			s.removeLocked(old)
		}
		s.byOp[c.operator] = c
	}
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	if old != nil {
		old.kick(closeReplaced, "replaced by a new connection of "+c.operator)
	}
	if c.role == RoleOperator && s.arb != nil {
		// Browser commands are task-space actions (docs/protocol.md).
		if err := s.arb.Attach(c.operator, teleop.TaskSpace(c.latch)); err != nil {
			s.removeClient(c)
			return err
		}
	}
	c.pushMsg(s.hello(c))
	s.mu.Lock()
	s.snapshotLocked()
	s.mu.Unlock()
	s.pokeState()
	return nil
}

// removeClient unregisters c (idempotent).
func (s *session) removeClient(c *client) {
	s.mu.Lock()
	_, ok := s.clients[c]
	if ok {
		s.removeLocked(c)
	}
	s.mu.Unlock()
	if ok {
		s.pokeState()
	}
}

func (s *session) removeLocked(c *client) {
	delete(s.clients, c)
	if c.role == RoleOperator && s.byOp[c.operator] == c {
		delete(s.byOp, c.operator)
		c.latch.Disconnect()
		if s.arb != nil {
			s.arb.Detach(c.operator)
		}
	}
	s.snapshotLocked()
}

func (s *session) snapshotLocked() {
	all := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *client) int { return int(a.n - b.n) })
	ops := slices.DeleteFunc(slices.Clone(all), func(c *client) bool { return c.role != RoleOperator })
	s.all.Store(&all)
	s.ops.Store(&ops)
}

func (s *session) hello(c *client) []byte {
	var fr json.RawMessage = []byte("null")
	if f := s.last.Load(); f != nil {
		fr = appendFrameTail(slices.Clip(f.body), 0, 0)
	}
	b, err := json.Marshal(helloMsg{
		Type: msgHello, Role: c.role, Client: c.id, Operator: c.operator,
		Session: s.info(), Spec: s.spec, Scene: s.scene, Frame: fr,
		Limits: helloLimits{MaxMessage: s.srv.cfg.MaxMessage, SendQueue: s.srv.cfg.SendQueue, SlowAfterMS: s.srv.cfg.SlowAfter.Milliseconds()},
	})
	if err != nil {
		// A task scene with NaN coordinates cannot be encoded; report it to
		// the client rather than send nothing.
		b, _ = json.Marshal(errorMsg{Type: msgError, Error: "cannot encode hello: " + err.Error(), Code: codeClosed})
	}
	return b
}

// ackController wraps a session's arbiter to note, for every operator, the
// newest command seq sampled at each step, so frames can acknowledge
// exactly the commands they reflect. Decide and Reset run on the loop
// goroutine.
type ackController struct {
	Arbiter
	s       *session
	episode uint64
	t       uint64
}

// Reset implements sim.Resetter.
func (a *ackController) Reset(seed uint64) {
	a.episode++
	a.t = 0
	if r, ok := a.Arbiter.(sim.Resetter); ok {
		r.Reset(seed)
	}
}

// Decide implements sim.Controller.
func (a *ackController) Decide(obs, dst []float64) sim.Decision {
	a.t++
	key := a.episode<<32 | a.t
	for _, c := range *a.s.ops.Load() {
		c.acks.note(key, c.cmdSeq.Load())
	}
	return a.Arbiter.Decide(obs, dst)
}

// setPolicy swaps the session's policy for the named built-in. The policy
// is built on the loop goroutine (an expert binds to its task instance) and
// reset to the running episode.
func (s *session) setPolicy(name string) error {
	if s.arb == nil {
		return errors.New("a replay session has no policy")
	}
	o := policies.Options{Seed: s.opts.Seed}
	if name == policies.Expert {
		o.Skill = s.opts.Skill
	}
	errc := make(chan error, 1)
	err := s.sim.Do(func() {
		p, err := s.srv.cfg.Policies.New(name, s.task, o)
		if err != nil {
			errc <- err
			return
		}
		if r, ok := p.(sim.Resetter); ok {
			r.Reset(s.sim.State().Seed)
		}
		s.arb.SetPolicy(p, name)
		errc <- nil
	})
	if err != nil {
		return err
	}
	select {
	case err = <-errc:
	case <-s.loopEnd:
		return sim.ErrSessionClosed
	case <-time.After(10 * time.Second):
		return errors.New("the session loop did not take the new policy within 10 s")
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.policy != name {
		s.prev, s.policy = s.policy, name
	}
	s.mu.Unlock()
	s.pokeState()
	return nil
}

// prevPolicy is the policy before the last activation ("" if none).
func (s *session) prevPolicy() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prev
}

// hzOf is the rate a session runs at: hz, or the task's ControlHz.
func hzOf(spec *sim.Spec, hz float64) float64 {
	if hz > 0 {
		return hz
	}
	return spec.ControlHz
}

// replayID is the replayed episode's id, 0 for live sessions.
func (s *session) replayID() int64 {
	if s.opts.replay == nil {
		return 0
	}
	return s.opts.replay.Episode.ID
}

// reset starts the next episode (from seed when given); a replay restarts
// its episode.
func (s *session) reset(seed *uint64) error {
	switch {
	case s.opts.replay != nil:
		return s.opts.replay.Restart()
	case seed != nil:
		return s.sim.ResetTo(*seed)
	}
	return s.sim.Reset()
}
