package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tandem/demos"
	"tandem/live"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// Defaults of Config's zero values.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultDataDir = "./tandem-data"
	DefaultTask    = "push-t"
	DefaultMode    = string(sim.ModeShared)
	DefaultPolicy  = policies.Expert

	defaultMaxBody      = 1 << 20  // REST request bodies
	defaultMaxMessage   = 16 << 10 // a WebSocket message is refused above this...
	defaultHardMessage  = 1 << 20  // ...and the connection closed above this (1009)
	defaultSendQueue    = 64       // messages per client
	defaultSlowAfter    = 5 * time.Second
	defaultPingInterval = 10 * time.Second
	defaultPongWait     = 30 * time.Second
	defaultWriteWait    = 10 * time.Second
	defaultMaxSessions  = 256
	defaultMaxViewers   = 1000 // per session
	defaultMaxOperators = 32   // per session, apart from viewers
	defaultMaxFoxSubs   = 1024 // per Foxglove connection: 4 channels × 256 sessions
	defaultControlRate  = 10   // control messages and one-shot presses per second per client
	defaultIdlePause    = 10 * time.Minute
	defaultReplayIdle   = 2 * time.Minute
	defaultMaxExports   = 2
	defaultReserveConns = 64
	defaultReadTimeout  = 30 * time.Second
	defaultWriteTimeout = 30 * time.Second
	defaultIdleTimeout  = 60 * time.Second
	defaultShutdown     = 10 * time.Second
)

// Catalog is the task catalogue a server offers (the tasks registry by
// default; tests pass their own tasks).
type Catalog = live.Catalog

type registryCatalog struct{}

func (registryCatalog) Specs() []sim.Spec                 { return tasks.Specs() }
func (registryCatalog) New(name string) (sim.Task, error) { return tasks.New(name) }

// DeviceOpener opens a --device argument (an evdev path or an evemu
// recording) for a task; cmd wires teleop/evdev here.
type DeviceOpener = live.DeviceOpener

// Config configures a Server. Zero values mean the defaults named on each
// field; Validate reports what is wrong.
type Config struct {
	// Addr is the listen address (DefaultAddr). Port 0 binds a free port;
	// Server.Addr reports the bound address.
	Addr string
	// DataDir holds the store (DefaultDataDir).
	DataDir string
	// Token authorises operator actions. Empty: a random token is generated
	// (Server.Token reports it).
	Token string

	// The default session created at start (unless NoDefaultSession):
	// task (DefaultTask), mode (DefaultMode), policy (DefaultPolicy), expert
	// skill in [0, 1] (nil means 1, the best) and seed.
	Task   string
	Mode   string
	Policy string
	Skill  *float64
	Seed   uint64
	// Operator attaches a simulated operator to the default session ("sim"
	// or "sim:KEY=VALUE,...", see live.Options.Operator).
	Operator         string
	NoDefaultSession bool
	// Learn, if set, starts the hub's online trainer; the default session
	// then learns (runs the task's current version and feeds the trainer).
	Learn *live.OnlineConfig
	// Devices are opened as operators of the default session (evdev device
	// paths or evemu recordings), through OpenDevice.
	Devices []string

	// NoStore runs without recording (episodes endpoints answer 503).
	NoStore bool
	// RecorderTap, if set, hears every row the recorder queues (see
	// demos.RecorderConfig.Tap): cmd publishes them on the bus.
	RecorderTap func(demos.Row)

	// Clock drives sessions (sim.WallClock). Tests pass a sim.ManualClock.
	Clock sim.Clock
	// Catalog of tasks (the tasks registry).
	Catalog Catalog
	// Policies resolves policy names (policies.NewRegistry(): the built-ins).
	Policies *policies.Registry
	// HapticGain and HapticCap scale and bound force feedback (see live.Config).
	HapticGain, HapticCap float64
	// OpenDevice opens a --device argument as an input source; nil refuses
	// devices.
	OpenDevice DeviceOpener
	// Registry receives the metrics (a new registry when nil).
	Registry *prometheus.Registry
	// Log receives one line per notable event (os.Stderr).
	Log io.Writer

	// PublicHosts are the host names (no port) a request's Host header may
	// carry besides the listen address and loopback names: the names a LAN
	// or a reverse proxy uses for this server (serve --public-host). Any
	// other Host is refused (403), which stops DNS rebinding.
	PublicHosts []string
	// ViewerExport lets token-less viewers download exports; nil means yes
	// on a loopback address and no elsewhere (serve --viewer-export).
	ViewerExport *bool

	// Idle policy (docs/api.md): a live session with no client (session or
	// Foxglove WebSocket, device) for IdlePause of session clock is paused
	// (10 min; negative: never); the default session only with
	// IdleDefault. A replay with no client for ReplayIdle is deleted
	// (2 min; negative: never).
	IdlePause   time.Duration
	IdleDefault bool
	ReplayIdle  time.Duration

	// Limits (defaults in parentheses): REST body bytes (1 MiB), WebSocket
	// message bytes refused with an error (16 KiB), per-client send queue
	// (64 messages), how long a full queue is tolerated before the client is
	// disconnected (5 s of session clock), ping interval (10 s), pong wait
	// (30 s), sessions (256), viewers per session (1000), operators per
	// session (32, apart from the viewers so viewers cannot lock operators
	// out), subscriptions per Foxglove connection (1024), control messages
	// and one-shot button presses per second per client (10, bursts of
	// twice that), concurrent exports (2).
	MaxBody      int64
	MaxMessage   int
	SendQueue    int
	SlowAfter    time.Duration
	PingInterval time.Duration
	PongWait     time.Duration
	MaxSessions  int
	MaxViewers   int
	MaxOperators int
	MaxFoxSubs   int
	ControlRate  float64
	MaxExports   int

	// Connections (docs/security.md): at most MaxConns at once (from the
	// descriptor limit: half of it, at most 8192) and MaxConnsPerAddr from
	// one IP address (half of MaxConns). Beyond a cap the oldest idle
	// connection is closed to make room; with none idle, up to
	// ReserveConns (64) more are accepted that serve only /api/health and
	// requests carrying the token. Request headers must arrive within
	// 10 s, bodies within ReadTimeout (30 s), answers leave within
	// WriteTimeout (30 s; an export must keep making progress at that
	// pace), and an idle keep-alive connection is closed after IdleTimeout
	// (60 s).
	MaxConns        int
	MaxConnsPerAddr int
	ReserveConns    int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	// ShutdownTimeout bounds Run's graceful shutdown (10 s): sessions stop
	// and flush in parallel, downloads in flight are abandoned.
	ShutdownTimeout time.Duration
	// SocketBuffer, if positive, sets each connection's kernel send buffer
	// (bytes), bounding how much a stalled client can hold outside the
	// send queue.
	SocketBuffer int
}

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	orDefault(&c.Addr, DefaultAddr)
	orDefault(&c.DataDir, DefaultDataDir)
	orDefault(&c.Task, DefaultTask)
	orDefault(&c.Mode, DefaultMode)
	orDefault(&c.Policy, DefaultPolicy)
	if c.Clock == nil {
		c.Clock = sim.WallClock{}
	}
	if c.Catalog == nil {
		c.Catalog = registryCatalog{}
	}
	if c.Policies == nil {
		c.Policies = policies.NewRegistry()
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	orDefault(&c.MaxBody, defaultMaxBody)
	orDefault(&c.MaxMessage, defaultMaxMessage)
	orDefault(&c.SendQueue, defaultSendQueue)
	orDefault(&c.MaxSessions, defaultMaxSessions)
	orDefault(&c.MaxViewers, defaultMaxViewers)
	orDefault(&c.MaxOperators, defaultMaxOperators)
	orDefault(&c.MaxFoxSubs, defaultMaxFoxSubs)
	orDefault(&c.MaxExports, defaultMaxExports)
	orDefault(&c.MaxConns, defaultMaxConns())
	orDefault(&c.MaxConnsPerAddr, max(c.MaxConns/2, 1))
	orDefault(&c.ReserveConns, defaultReserveConns)
	orDefault(&c.ControlRate, defaultControlRate)
	orDefault(&c.SlowAfter, defaultSlowAfter)
	orDefault(&c.PingInterval, defaultPingInterval)
	orDefault(&c.PongWait, defaultPongWait)
	orDefault(&c.IdlePause, defaultIdlePause)
	orDefault(&c.ReplayIdle, defaultReplayIdle)
	orDefault(&c.ReadTimeout, defaultReadTimeout)
	orDefault(&c.WriteTimeout, defaultWriteTimeout)
	orDefault(&c.IdleTimeout, defaultIdleTimeout)
	orDefault(&c.ShutdownTimeout, defaultShutdown)
	return c
}

// orDefault sets *p to v when *p is its type's zero value.
func orDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Validate reports the first problem in c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("address %q: %v", c.Addr, err)
	}
	if _, err := net.ResolveTCPAddr("tcp", c.Addr); err != nil {
		return fmt.Errorf("address %q: %v", c.Addr, err)
	}
	if _, err := sim.ParseMode(c.Mode); err != nil {
		return err
	}
	if !c.NoDefaultSession && c.Policy != live.Current {
		if err := c.Policies.Check(c.Policy, policies.Options{Skill: c.Skill}); err != nil {
			return err
		}
	}
	if c.Token != "" && len(c.Token) < 8 {
		return errors.New("token must be at least 8 characters")
	}
	switch {
	case c.MaxBody < 0, c.MaxMessage < 0, c.SendQueue < 0, c.MaxSessions < 0, c.MaxViewers < 0, c.MaxOperators < 0,
		c.MaxFoxSubs < 0, c.MaxExports < 0, c.MaxConns < 0, c.MaxConnsPerAddr < 0, c.ReserveConns < 0:
		return errors.New("limits must not be negative")
	case !(c.ControlRate > 0) || c.ControlRate > 1000:
		return fmt.Errorf("control rate %g not in (0, 1000] per second", c.ControlRate)
	case c.SlowAfter < 0, c.PingInterval < 0, c.PongWait < 0, c.ReadTimeout < 0, c.WriteTimeout < 0, c.IdleTimeout < 0, c.ShutdownTimeout < 0:
		return errors.New("durations must not be negative")
	case c.MaxConnsPerAddr > c.MaxConns:
		return fmt.Errorf("connections per address %d above the connection cap %d", c.MaxConnsPerAddr, c.MaxConns)
	case c.PongWait <= c.PingInterval:
		return fmt.Errorf("pong wait %v must exceed the ping interval %v", c.PongWait, c.PingInterval)
	case c.MaxMessage > defaultHardMessage:
		return fmt.Errorf("max message %d above the hard limit %d", c.MaxMessage, defaultHardMessage)
	}
	if !c.NoDefaultSession {
		found := false
		var names []string
		for _, s := range c.Catalog.Specs() {
			names = append(names, s.Name)
			found = found || s.Name == c.Task
		}
		if !found {
			return fmt.Errorf("unknown task %q (valid: %v)", c.Task, names)
		}
	}
	if len(c.Devices) > 0 && c.OpenDevice == nil {
		return errors.New("input devices are not available in this build")
	}
	for _, h := range c.PublicHosts {
		if err := checkPublicHost(h); err != nil {
			return err
		}
	}
	return nil
}

// finite reports whether every value is a finite number.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
