package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// Catalog is the task catalogue a hub offers (the tasks registry by
// default; tests pass their own tasks).
type Catalog interface {
	Specs() []sim.Spec
	New(name string) (sim.Task, error)
}

type registryCatalog struct{}

func (registryCatalog) Specs() []sim.Spec                 { return tasks.Specs() }
func (registryCatalog) New(name string) (sim.Task, error) { return tasks.New(name) }

// Config configures a Hub. Zero values mean the defaults named on each
// field.
type Config struct {
	// Clock drives sessions (sim.WallClock{}); tests pass a sim.ManualClock.
	Clock sim.Clock
	// Catalog of tasks (the tasks registry).
	Catalog Catalog
	// Policies resolves policy names (policies.NewRegistry()).
	Policies *policies.Registry
	// Store, if set, records sessions (created with Record unset or true):
	// the hub runs a demos.Recorder on it and closes the recorder (not the
	// store) in Close.
	Store *demos.Store
	// Recorder configures that recorder.
	Recorder demos.RecorderConfig
	// Instance names this process in the store's session rows, so two
	// servers on one data directory never share a session name (default:
	// 6 random hex digits).
	Instance string
	// MaxSessions bounds live sessions, replays included (256).
	MaxSessions int
	// TickHook, if set, returns the sim.SessionConfig.TickHook of session
	// id (metrics). It runs on the loop goroutine and must not block.
	TickHook func(id string) func(elapsed time.Duration, skipped int)
	// OnEnd, if set, is called after a session stopped (metrics cleanup).
	OnEnd func(id string)
	// HapticGain multiplies force feedback levels (1) and HapticCap bounds
	// them in (0, 1] (0.8): a hard cap whatever the task's forces.
	HapticGain, HapticCap float64
	// Logger receives one line per notable event (slog.Default()).
	Logger *slog.Logger
	// FollowEvery is how often sessions running the policy "current" look
	// for a newly promoted version (DefaultFollowEvery; negative: never,
	// call FollowPromotions yourself).
	FollowEvery time.Duration
}

// Defaults of Config's zero values.
const (
	DefaultMaxSessions = 256
	DefaultHapticGain  = 1.0
	DefaultHapticCap   = 0.8
)

// Hub owns the live sessions of one process. Its methods are safe for
// concurrent use.
type Hub struct {
	cfg Config
	rec *demos.Recorder // nil without a store
	log *slog.Logger

	mu       sync.Mutex // guards sessions, pending, nextID, closing, watchers
	sessions map[string]*Session
	pending  int // ids reserved for sessions still being built
	nextID   int
	closing  bool
	watchers map[int]func(Event)
	watchID  int

	devMu   sync.Mutex // guards devices; taken after mu, never before
	devices map[string]*device

	stopFollow chan struct{}
	online     *Online // guarded by mu; nil until StartLearning
}

// Event reports a session added to or removed from a hub.
type Event struct {
	Session *Session
	Added   bool
}

// New checks cfg and returns a hub (with a recorder when cfg.Store is set).
func New(cfg Config) (*Hub, error) {
	if cfg.Clock == nil {
		cfg.Clock = sim.WallClock{}
	}
	if cfg.Catalog == nil {
		cfg.Catalog = registryCatalog{}
	}
	if cfg.Policies == nil {
		cfg.Policies = policies.NewRegistry()
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.HapticGain == 0 {
		cfg.HapticGain = DefaultHapticGain
	}
	if cfg.HapticCap == 0 {
		cfg.HapticCap = DefaultHapticCap
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Instance == "" {
		var b [3]byte
		rand.Read(b[:])
		cfg.Instance = hex.EncodeToString(b[:])
	}
	switch {
	case cfg.MaxSessions < 0:
		return nil, errors.New("live: MaxSessions must not be negative")
	case !(cfg.HapticGain > 0) || cfg.HapticGain > 100:
		return nil, fmt.Errorf("live: haptic gain %g not in (0, 100]", cfg.HapticGain)
	case !(cfg.HapticCap > 0 && cfg.HapticCap <= 1):
		return nil, fmt.Errorf("live: haptic cap %g not in (0, 1]", cfg.HapticCap)
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, sessions: map[string]*Session{}, watchers: map[int]func(Event){}, devices: map[string]*device{}}
	if cfg.Store != nil {
		rc := cfg.Recorder
		if rc.Logger == nil {
			rc.Logger = cfg.Logger
		}
		h.rec = demos.NewRecorder(cfg.Store, rc)
	}
	h.stopFollow = make(chan struct{})
	if cfg.Store != nil && cfg.FollowEvery >= 0 {
		every := cfg.FollowEvery
		if every == 0 {
			every = DefaultFollowEvery
		}
		go h.followLoop(every, h.stopFollow)
	}
	return h, nil
}

// Recorder is the hub's recorder (nil without a store).
func (h *Hub) Recorder() *demos.Recorder { return h.rec }

// Store is the hub's store (nil without one).
func (h *Hub) Store() *demos.Store { return h.cfg.Store }

// Policies is the hub's policy registry.
func (h *Hub) Policies() *policies.Registry { return h.cfg.Policies }

// Catalog is the hub's task catalogue.
func (h *Hub) Catalog() Catalog { return h.cfg.Catalog }

// Instance names this process in the store's session rows.
func (h *Hub) Instance() string { return h.cfg.Instance }

// Watch calls f for every session added or removed from now on, from the
// goroutine that added or removed it; it returns a function that stops
// the calls. f must not call back into the hub's session table.
func (h *Hub) Watch(f func(Event)) (stop func()) {
	h.mu.Lock()
	h.watchID++
	id := h.watchID
	h.watchers[id] = f
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.watchers, id)
		h.mu.Unlock()
	}
}

func (h *Hub) notify(e Event) {
	h.mu.Lock()
	ws := make([]func(Event), 0, len(h.watchers))
	for _, w := range h.watchers {
		ws = append(ws, w)
	}
	h.mu.Unlock()
	for _, w := range ws {
		w(e)
	}
}

// ErrClosing is returned once Close has begun.
var ErrClosing = errors.New("live: shutting down")

// NotFoundError reports an unknown session id.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string {
	id := e.ID
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return fmt.Sprintf("unknown session %q", id)
}

// ErrTooMany is returned when MaxSessions sessions (replays included)
// are live or being built.
var ErrTooMany = errors.New("live: too many sessions")

// reserve allocates a session id, refusing beyond MaxSessions. Sessions
// still being built count (a replay loads its episode between reserve and
// add), so concurrent creations cannot pass the limit; every reserve is
// followed by add or unreserve.
func (h *Hub) reserve() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return "", ErrClosing
	}
	if n := len(h.sessions) + h.pending; n >= h.cfg.MaxSessions {
		return "", fmt.Errorf("%w: %d sessions, the limit", ErrTooMany, n)
	}
	h.pending++
	h.nextID++
	return "s" + strconv.Itoa(h.nextID), nil
}

// unreserve gives back a reservation whose session was not built.
func (h *Hub) unreserve() {
	h.mu.Lock()
	h.pending--
	h.mu.Unlock()
}

// add registers a started session, ending its reservation.
func (h *Hub) add(s *Session) error {
	h.mu.Lock()
	h.pending--
	if h.closing {
		h.mu.Unlock()
		s.stop()
		return ErrClosing
	}
	h.sessions[s.id] = s
	h.mu.Unlock()
	h.notify(Event{Session: s, Added: true})
	return nil
}

// Get returns session id.
func (h *Hub) Get(id string) (*Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[id]
	if !ok {
		return nil, &NotFoundError{ID: id}
	}
	return s, nil
}

// List returns the live sessions in id order (s2 before s10).
func (h *Hub) List() []*Session {
	h.mu.Lock()
	list := make([]*Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		list = append(list, s)
	}
	h.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return idLess(list[i].id, list[j].id) })
	return list
}

// Len is the number of live sessions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Delete stops session id at a tick boundary, detaches its devices and
// flushes its recording.
func (h *Hub) Delete(id string) error {
	h.mu.Lock()
	s, ok := h.sessions[id]
	delete(h.sessions, id)
	h.mu.Unlock()
	if !ok {
		return &NotFoundError{ID: id}
	}
	h.notify(Event{Session: s})
	h.detachAll(s)
	return s.stop()
}

// Close stops every session (in parallel, each at a tick boundary),
// detaches every device, flushes the recordings and closes the recorder.
// It returns when that is done or ctx ends, whichever is first; with ctx
// ended it reports what was not flushed. Calls after the first return nil.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil
	}
	h.closing = true
	close(h.stopFollow)
	onl := h.online
	list := make([]*Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		list = append(list, s)
	}
	h.sessions = map[string]*Session{}
	h.mu.Unlock()
	if onl != nil {
		onl.Close() // a training in flight is abandoned (its context ends)
	}
	h.devMu.Lock()
	devs := h.devices
	h.devices = map[string]*device{}
	h.devMu.Unlock()
	for _, d := range devs {
		d.close()
	}
	errc := make(chan error, len(list))
	for _, s := range list {
		go func() {
			h.notify(Event{Session: s})
			if err := s.stop(); err != nil {
				errc <- fmt.Errorf("session %s: %w", s.id, err)
				return
			}
			errc <- nil
		}()
	}
	var errs []error
	for range list {
		select {
		case err := <-errc:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return errors.Join(append(errs, fmt.Errorf("live: sessions still stopping when the shutdown deadline passed: %w", ctx.Err()))...)
		}
	}
	if h.rec != nil {
		done := make(chan error, 1)
		go func() { done <- h.rec.Close() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			st := h.rec.Stats()
			errs = append(errs, fmt.Errorf("live: recorder still flushing %d steps when the shutdown deadline passed", st.PendingSteps))
		}
	}
	return errors.Join(errs...)
}
