package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"tandem/sim"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is tandem's HTTP server: REST API, session WebSockets, the
// Foxglove endpoint, metrics and the embedded console. Its methods are safe
// for concurrent use.
type Server struct {
	cfg         Config
	token       string
	openViewers bool
	echo        *echo.Echo
	http        *http.Server
	ln          net.Listener
	metrics     *metrics
	store       *storeLink // nil without a store
	upgrader    websocket.Upgrader
	connSeq     atomic.Uint64
	clientsWG   sync.WaitGroup
	served      chan error
	fox         *foxHub

	devMu   sync.Mutex          // guards devices; taken after mu, never before
	devices map[string]attached // by the path they were opened from

	mu       sync.Mutex // guards sessions, nextID, closing
	sessions map[string]*session
	nextID   int
	closing  bool
}

// New checks cfg, opens the store and prepares a server; Start listens.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		token:    cfg.Token,
		metrics:  newMetrics(cfg.Registry),
		sessions: map[string]*session{},
		served:   make(chan error, 1),
	}
	if s.token == "" {
		s.token = newToken()
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      checkOrigin,
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			writeJSONError(w, status, reason.Error())
		},
	}
	s.fox = newFoxHub(s)
	if !cfg.NoStore {
		st, err := openStore(s, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		s.store = st
	}
	s.echo = s.routes()
	return s, nil
}

// Token is the operator token (generated when Config.Token was empty).
func (s *Server) Token() string { return s.token }

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
// in the background. It logs "listening on http://ADDR".
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	s.openViewers = isLoopback(host)
	if !s.cfg.NoDefaultSession {
		sess, err := s.createSession(SessionOptions{Task: s.cfg.Task, Mode: s.cfg.Mode, Policy: s.cfg.Policy, Skill: s.cfg.Skill, Seed: s.cfg.Seed})
		if err != nil {
			ln.Close()
			return fmt.Errorf("default session: %w", err)
		}
		for _, d := range s.cfg.Devices {
			if err := s.attachDevice(sess, d, s.cfg.OpenDevice); err != nil {
				ln.Close()
				return err
			}
		}
	}
	s.http = &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.served <- s.http.Serve(ln) }()
	fmt.Fprintf(s.cfg.Log, "tandem: listening on %s\n", s.URL())
	return nil
}

// Run starts the server and serves until ctx ends, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-s.served:
		if !errors.Is(err, http.ErrServerClosed) {
			s.Shutdown(context.Background())
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// Shutdown stops accepting requests, stops every session at a tick
// boundary (closing its clients with 1001), flushes the recordings and
// closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.devMu.Lock()
	for path, d := range s.devices {
		d.closer.Close()
		delete(s.devices, path)
	}
	s.devMu.Unlock()
	for _, sess := range sessions {
		if err := sess.stop(websocket.CloseGoingAway, "server shutting down"); err != nil {
			errs = append(errs, fmt.Errorf("session %s: %w", sess.id, err))
		}
		s.fox.sessionGone(sess)
	}
	s.fox.close()
	waited := make(chan struct{})
	go func() { s.clientsWG.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, errors.New("clients did not close in time"))
	}
	if s.store != nil {
		if err := s.store.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CreateSession creates and starts a session; empty options take the
// server's defaults.
func (s *Server) CreateSession(o SessionOptions) (SessionInfo, error) {
	sess, err := s.createSession(o)
	if err != nil {
		return SessionInfo{}, err
	}
	return sess.info(), nil
}

func (s *Server) createSession(o SessionOptions) (*session, error) {
	if o.Task == "" {
		o.Task = s.cfg.Task
	}
	if o.Mode == "" {
		o.Mode = s.cfg.Mode
	}
	if o.Policy == "" {
		o.Policy = s.cfg.Policy
	}
	if _, err := sim.ParseMode(o.Mode); err != nil {
		return nil, err
	}
	if o.Skill != nil && !(*o.Skill >= 0 && *o.Skill <= 1) {
		return nil, fmt.Errorf("skill must be in [0, 1], got %g", *o.Skill)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, errors.New("server is shutting down")
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		return nil, fmt.Errorf("%d sessions, the limit", len(s.sessions))
	}
	s.nextID++
	id := "s" + strconv.Itoa(s.nextID)
	s.mu.Unlock()
	return s.addSession(id, o)
}

// addSession builds, starts and registers session id.
func (s *Server) addSession(id string, o SessionOptions) (*session, error) {
	sess, err := s.newSession(id, o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		sess.stop(websocket.CloseGoingAway, "server shutting down")
		return nil, errors.New("server is shutting down")
	}
	s.sessions[id] = sess
	s.metrics.sessions.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	s.fox.sessionAdded(sess)
	return sess, nil
}

// DeleteSession stops a session and closes its clients.
func (s *Server) DeleteSession(id string) error {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	delete(s.sessions, id)
	s.metrics.sessions.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	if !ok {
		return errUnknownSession(id)
	}
	s.fox.sessionGone(sess)
	s.devMu.Lock()
	for path, d := range s.devices {
		if d.sess == sess {
			d.closer.Close()
			delete(s.devices, path)
		}
	}
	s.devMu.Unlock()
	return sess.stop(websocket.CloseNormalClosure, "session deleted")
}

// Sessions lists the live sessions by id.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return idLess(list[i].id, list[j].id) })
	out := make([]SessionInfo, len(list))
	for i, sess := range list {
		out[i] = sess.info()
	}
	return out
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (s *Server) session(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil, errUnknownSession(id)
	}
	return sess, nil
}

func (s *Server) sessionList() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	sort.Slice(list, func(i, j int) bool { return idLess(list[i].id, list[j].id) })
	return list
}

func errUnknownSession(id string) *echo.HTTPError {
	return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("unknown session %q", truncate(id, 64)))
}

// Metrics handler on the server's registry.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}
