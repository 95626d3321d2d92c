package bus

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Defaults of ServerConfig's JetStream limits. nats-server's own defaults
// are 75% of the machine's memory and of the store's free disk (17 GB and
// 55 GB on the machines tandem was measured on): far more than steps,
// checkpoints and jobs need, and not a limit at all on a shared box.
const (
	DefaultMaxMemory = 256 << 20 // nothing tandem keeps is in memory storage
	DefaultMaxStore  = 8 << 30   // room for the steps stream (4 GiB), checkpoints (2 GiB) and jobs
)

// ServerConfig configures an embedded NATS server with JetStream on.
type ServerConfig struct {
	// Name is the server's name (default tandem-<random>); the nodes of a
	// cluster need distinct ones.
	Name string
	// Listen is the client address ("": no listener, in-process
	// connections only; port 0 binds a free port, ClientURL reports it).
	Listen string
	// StoreDir holds JetStream's files (required; a data directory's
	// "nats" folder by default in cmd).
	StoreDir string
	// MaxMemory and MaxStore bound JetStream's memory and file storage
	// (DefaultMaxMemory, DefaultMaxStore).
	MaxMemory, MaxStore int64
	// Cluster names the cluster this node joins ("" runs standalone);
	// ClusterListen is its route address and Routes the other nodes'
	// route URLs (nats://host:port). Three nodes give replicated streams.
	Cluster       string
	ClusterListen string
	Routes        []string
	// Logger receives the server's notices and errors (slog.Default()).
	Logger *slog.Logger
}

// Server is an embedded NATS server. Shutdown stops it cleanly.
type Server struct {
	ns  *server.Server
	cfg ServerConfig
}

// StartServer starts an embedded server and waits until it accepts
// connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("bus: an embedded server needs a store directory")
	}
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if cfg.MaxStore == 0 {
		cfg.MaxStore = DefaultMaxStore
	}
	if cfg.MaxMemory < 0 || cfg.MaxStore < 1<<20 {
		return nil, fmt.Errorf("bus: JetStream limits %d B memory, %d B store: want ≥ 0 and ≥ 1 MiB", cfg.MaxMemory, cfg.MaxStore)
	}
	if cfg.Name == "" {
		var b [4]byte
		rand.Read(b[:])
		cfg.Name = "tandem-" + hex.EncodeToString(b[:])
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir, err := filepath.Abs(cfg.StoreDir)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: cfg.Name, JetStream: true, StoreDir: dir,
		JetStreamMaxMemory: cfg.MaxMemory, JetStreamMaxStore: cfg.MaxStore,
		NoSigs: true, // the command handles SIGTERM and calls Shutdown
		// A clean stop hands stream leadership over and closes clients
		// at once: no lame-duck minutes.
		LameDuckDuration: 2 * time.Second, LameDuckGracePeriod: time.Second,
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen address %q: %w", cfg.Listen, err)
		}
		opts.Host, opts.Port = host, port
		if port == 0 {
			opts.Port = server.RANDOM_PORT
		} else {
			// The server reports a taken port only by never becoming
			// ready; try it first so the caller hears at once.
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return nil, fmt.Errorf("bus: listen %s: %w", cfg.Listen, err)
			}
			ln.Close()
		}
	}
	if cfg.Cluster != "" {
		host, port, err := splitHostPort(cfg.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("bus: cluster address %q: %w", cfg.ClusterListen, err)
		}
		opts.Cluster = server.ClusterOpts{Name: cfg.Cluster, Host: host, Port: port}
		for _, r := range cfg.Routes {
			u, err := url.Parse(strings.TrimSpace(r))
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("bus: route %q: want nats://host:port", r)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	ns.SetLoggerV2(&logger{l: cfg.Logger.With("nats", cfg.Name)}, false, false, false)
	ns.Start()
	// A clustered node is ready for clients before its peers are up; the
	// wait is for this node only.
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("bus: embedded server %s not ready within 30 s", cfg.Name)
	}
	return &Server{ns: ns, cfg: cfg}, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	return host, port, nil
}

// ClientURL is the address other processes connect to ("" for an
// in-process-only server).
func (s *Server) ClientURL() string {
	if s.cfg.Listen == "" {
		return ""
	}
	return s.ns.ClientURL()
}

// Name is the server's name.
func (s *Server) Name() string { return s.cfg.Name }

// NATS is the server itself (tests, in-process connections).
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server cleanly: JetStream flushes its files and a
// clustered node hands its stream leaderships over before it leaves.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logger adapts slog to nats-server's Logger: notices at info, warnings
// and errors as such, debug and trace dropped (they are not enabled).
type logger struct{ l *slog.Logger }

func (g *logger) Noticef(format string, v ...any) { g.l.Info(fmt.Sprintf(format, v...)) }
func (g *logger) Warnf(format string, v ...any)   { g.l.Warn(fmt.Sprintf(format, v...)) }
func (g *logger) Fatalf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Errorf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Debugf(string, ...any)           {}
func (g *logger) Tracef(string, ...any)           {}
