package web

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tandem/demos"
	"tandem/live"
)

// SessionOptions describe a session to create (POST /api/sessions); see
// live.Options for each field's meaning and range.
type SessionOptions struct {
	Task      string   `json:"task"`
	Mode      string   `json:"mode"`
	Policy    string   `json:"policy"`
	Skill     *float64 `json:"skill,omitempty"`
	Seed      uint64   `json:"seed"`
	ControlHz float64  `json:"control_hz"`
	TeleopHz  float64  `json:"teleop_hz"`
	Paused    bool     `json:"paused"`
	Record    *bool    `json:"record,omitempty"`
	Operator  string   `json:"operator,omitempty"`
	Learn     bool     `json:"learn,omitempty"`
	// IdlePauseS is the idle rule's delay in seconds: 0 never pauses,
	// absent takes the server's (Config.IdlePause); in [1, 604800].
	IdlePauseS *float64 `json:"idle_pause_s,omitempty"`
}

// maxIdlePause bounds a session's idle delay (one week).
const maxIdlePause = 7 * 24 * time.Hour

// Server is tandem's HTTP server: REST API, session WebSockets, the
// Foxglove endpoint, metrics and the embedded console, over a live.Hub.
// Its methods are safe for concurrent use.
type Server struct {
	cfg          Config
	token        string
	openViewers  bool
	viewerExport bool
	echo         *echo.Echo
	http         *http.Server
	ln           *connLimiter
	hosts        *hostGuard
	log          *slog.Logger
	metrics      *metrics
	hub          *live.Hub
	store        *demos.Store // nil without a store
	upgrader     websocket.Upgrader
	connSeq      atomic.Uint64
	clientsWG    sync.WaitGroup // WebSocket handlers; Add only through enter
	served       chan error
	fox          *foxHub
	stopWatch    func()
	stopIdle     chan struct{}
	exportSlots  chan struct{} // one token per export in flight
	cancelReqs   context.CancelFunc

	mu        sync.Mutex // guards views, closing, the Adds of exportsWG and clientsWG
	views     map[string]*view
	closing   bool
	exportsWG sync.WaitGroup // export handlers in flight; Add only through enter
}

// New checks cfg, opens the store and prepares a server; Start listens.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:         cfg,
		token:       cfg.Token,
		metrics:     newMetrics(cfg.Registry),
		views:       map[string]*view{},
		served:      make(chan error, 1),
		hosts:       newHostGuard(cfg.PublicHosts),
		exportSlots: make(chan struct{}, max(cfg.MaxExports, 1)),
		// A repeated log line (a full disk fails a commit every 100 ms)
		// is written once per logEvery with a count.
		log: slog.New(newLimitHandler(slog.NewTextHandler(cfg.Log, nil), logEvery)),
	}
	if s.token == "" {
		s.token = newToken()
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      s.checkOrigin,
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			writeJSONError(w, status, reason.Error())
		},
	}
	s.fox = newFoxHub(s)
	if !cfg.NoStore {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := demos.Open(ctx, cfg.DataDir, demos.Options{})
		cancel()
		if err != nil {
			return nil, err
		}
		s.store = st
		lctx, lcancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = live.LoadVersions(lctx, st, cfg.Policies)
		lcancel()
		if err != nil {
			st.Close()
			return nil, err
		}
		s.cleanExports()
	}
	logger := s.log
	hub, err := live.New(live.Config{
		Clock: cfg.Clock, Catalog: cfg.Catalog, Policies: cfg.Policies, Store: s.store,
		Recorder: demos.RecorderConfig{Logger: logger, Tap: cfg.RecorderTap}, MaxSessions: cfg.MaxSessions,
		TickHook: s.metrics.tickHook, HapticGain: cfg.HapticGain, HapticCap: cfg.HapticCap, Logger: logger,
	})
	if err != nil {
		if s.store != nil {
			s.store.Close()
		}
		return nil, err
	}
	s.hub = hub
	if rec := hub.Recorder(); rec != nil {
		s.metrics.recorder(rec)
	}
	s.stopWatch = hub.Watch(s.sessionEvent)
	s.echo = s.routes()
	return s, nil
}

// sessionEvent adds a view for a new session and closes the view of one
// that is going away.
func (s *Server) sessionEvent(e live.Event) {
	if e.Added {
		v := s.newView(e.Session)
		s.mu.Lock()
		s.views[v.id] = v
		n := len(s.views)
		s.mu.Unlock()
		s.metrics.sessions.Set(float64(n))
		s.fox.sessionAdded(v)
		return
	}
	s.mu.Lock()
	v, ok := s.views[e.Session.ID()]
	delete(s.views, e.Session.ID())
	n, closing := len(s.views), s.closing
	s.mu.Unlock()
	if !ok {
		return
	}
	s.metrics.sessions.Set(float64(n))
	s.fox.sessionGone(v)
	if closing {
		v.close(websocket.CloseGoingAway, "server shutting down")
	} else {
		v.close(websocket.CloseNormalClosure, "session deleted")
	}
}

// enter counts a handler in wg (clientsWG or exportsWG), or reports
// false once Shutdown has begun. A WebSocket handler enters before its
// upgrade: a hijacked connection is no longer one http.Server.Shutdown
// waits for, so a count taken after it could race Shutdown's Wait
// (WaitGroup's rule: an Add from zero must happen before the Wait). Under
// mu, every Add comes before Shutdown sets closing, so before its Wait.
func (s *Server) enter(wg *sync.WaitGroup) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	wg.Add(1)
	return true
}

// Token is the operator token (generated when Config.Token was empty).
func (s *Server) Token() string { return s.token }

// Hub is the server's live core.
func (s *Server) Hub() *live.Hub { return s.hub }

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Addr is the bound address once Start returned.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// URL is http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Start listens, creates the default session (unless disabled) and serves
// in the background. It logs "listening on http://ADDR". When it fails,
// nothing is left running: sessions, recorder and store are closed.
func (s *Server) Start() error {
	raw, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.abort()
		return err
	}
	ln := newConnLimiter(raw, s.cfg.MaxConns, s.cfg.MaxConnsPerAddr, s.cfg.ReserveConns)
	ln.onRefuse = func(addr string) {
		s.metrics.connRefused.WithLabelValues("cap").Inc()
		s.log.Warn("connection refused: connection cap reached", "addr", addr, "max", s.cfg.MaxConns, "per_addr", s.cfg.MaxConnsPerAddr)
	}
	ln.onEvict = s.metrics.connEvicted.Inc
	ln.sendBuffer = s.cfg.SocketBuffer
	s.metrics.connections(ln)
	s.ln = ln
	s.hosts.bind(raw.Addr())
	host, _, _ := net.SplitHostPort(raw.Addr().String())
	s.openViewers = isLoopback(host)
	s.viewerExport = s.openViewers
	if s.cfg.ViewerExport != nil {
		s.viewerExport = *s.cfg.ViewerExport
	}
	if s.cfg.Learn != nil {
		if err := s.hub.StartLearning(*s.cfg.Learn); err != nil {
			ln.Close()
			s.abort()
			return err
		}
	}
	if !s.cfg.NoDefaultSession {
		if err := s.startDefault(); err != nil {
			raw.Close()
			s.abort()
			return err
		}
	}
	base, cancel := context.WithCancel(context.Background())
	s.cancelReqs = cancel
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         ln.connState,
		ConnContext:       connContext,
		BaseContext:       func(net.Listener) context.Context { return base },
		// Accept errors (descriptors exhausted) repeat every few ms: one
		// line per logEvery with a count.
		ErrorLog: log.New(newLimitWriter(s.cfg.Log, logEvery), "tandem: http: ", 0),
	}
	s.stopIdle = make(chan struct{})
	go s.runIdle(s.stopIdle)
	go func() { s.served <- s.http.Serve(ln) }()
	fmt.Fprintf(s.cfg.Log, "tandem: listening on %s\n", s.URL())
	return nil
}

func (s *Server) startDefault() error {
	sess, err := s.hub.Create(live.Options{Task: s.cfg.Task, Mode: s.cfg.Mode, Policy: s.cfg.Policy, Skill: s.cfg.Skill, Seed: s.cfg.Seed,
		Operator: s.cfg.Operator, Learn: s.cfg.Learn != nil})
	if err != nil {
		return fmt.Errorf("default session: %w", err)
	}
	if s.cfg.IdleDefault {
		if v, err := s.session(sess.ID()); err == nil {
			v.setIdle(s.cfg.IdlePause)
		}
	}
	for _, d := range s.cfg.Devices {
		if err := s.hub.AttachDevice(sess.ID(), d, s.cfg.OpenDevice); err != nil {
			return err
		}
	}
	return nil
}

// abort releases what New and a failed Start hold.
func (s *Server) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.hub.Close(ctx) //nolint:errcheck // reporting the start failure instead
	s.stopWatch()
	if s.store != nil {
		s.store.Close()
	}
}

// Run starts the server and serves until ctx ends, then shuts down
// within Config.ShutdownTimeout (see Shutdown).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Serve waits, after Start, until ctx ends or the listener fails, then
// shuts down within Config.ShutdownTimeout (see Shutdown).
func (s *Server) Serve(ctx context.Context) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-s.served:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, s.Shutdown(sctx))
}

// CreateSession creates and starts a session; empty options take the
// server's defaults.
func (s *Server) CreateSession(o SessionOptions) (SessionInfo, error) {
	v, err := s.createSession(o)
	if err != nil {
		return SessionInfo{}, err
	}
	return v.info(), nil
}

func (s *Server) createSession(o SessionOptions) (*view, error) {
	if o.Task == "" {
		o.Task = s.cfg.Task
	}
	if o.Mode == "" {
		o.Mode = s.cfg.Mode
	}
	if o.Policy == "" {
		o.Policy = s.cfg.Policy
	}
	idle := s.cfg.IdlePause
	if o.IdlePauseS != nil {
		x := *o.IdlePauseS
		if x != 0 && !(x >= 1 && x <= maxIdlePause.Seconds()) {
			return nil, &live.RangeError{Field: "idle_pause_s", Value: x, Min: 1, Max: maxIdlePause.Seconds(), Or: "0 (never)"}
		}
		idle = time.Duration(x * float64(time.Second))
	}
	sess, err := s.hub.Create(live.Options{
		Task: o.Task, Mode: o.Mode, Policy: o.Policy, Skill: o.Skill, Seed: o.Seed,
		ControlHz: o.ControlHz, TeleopHz: o.TeleopHz, Paused: o.Paused, Record: o.Record, Operator: o.Operator, Learn: o.Learn,
	})
	if err != nil {
		return nil, err
	}
	v, err := s.session(sess.ID())
	if err != nil {
		return nil, err
	}
	v.setIdle(idle)
	return v, nil
}

// DeleteSession stops a session and closes its clients.
func (s *Server) DeleteSession(id string) error {
	if err := s.hub.Delete(id); err != nil {
		var nf *live.NotFoundError
		if errors.As(err, &nf) {
			return errUnknownSession(id)
		}
		return err
	}
	return nil
}

// Sessions lists the live sessions by id.
func (s *Server) Sessions() []SessionInfo {
	list := s.viewList()
	out := make([]SessionInfo, len(list))
	for i, v := range list {
		out[i] = v.info()
	}
	return out
}

// session returns the view of session id.
func (s *Server) session(id string) (*view, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return nil, errUnknownSession(id)
	}
	return v, nil
}

// viewList returns the sessions' views in the hub's order (by id: s2
// before s10). A session whose view is not made yet, or already closed,
// is left out.
func (s *Server) viewList() []*view {
	sessions := s.hub.List() // before s.mu: no lock is held calling into live
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*view, 0, len(sessions))
	for _, sess := range sessions {
		if v, ok := s.views[sess.ID()]; ok {
			list = append(list, v)
		}
	}
	return list
}

func errUnknownSession(id string) *echo.HTTPError {
	return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("unknown session %q", truncate(id, 64)))
}

// Metrics handler on the server's registry.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}
