package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"tandem/bus"
)

// DefaultNATS is where learn, work and jobs look for the bus without
// --nats or $TANDEM_NATS: the embedded server of a tandem serve on the
// same machine.
const DefaultNATS = "nats://127.0.0.1:4222"

// defaultListen is the embedded server's client address in serve.
const defaultListen = "127.0.0.1:4222"

// busFlags are the bus options of every role.
type busFlags struct {
	nats, listen         string
	maxMemory, maxStore  string
	buffer               string
	replicas             int
	embedded, listenUsed bool
}

// add registers the flags. embedded roles (serve) run their own server
// unless --nats names one; the others connect to one.
func (f *busFlags) add(cmd *cobra.Command, embedded bool) {
	f.embedded = embedded
	fl := cmd.Flags()
	def := os.Getenv("TANDEM_NATS")
	if embedded {
		fl.StringVar(&f.nats, "nats", def, `external NATS servers, URL[,URL...] ($TANDEM_NATS; default: an embedded server; "off": no bus)`)
		fl.StringVar(&f.listen, "nats-listen", defaultListen, `the embedded server's client address for other processes ("" in-process only; port 0 any free port)`)
		fl.StringVar(&f.maxMemory, "nats-max-memory", "256MiB", "the embedded server's JetStream memory limit")
		fl.StringVar(&f.maxStore, "nats-max-store", "8GiB", "the embedded server's JetStream file storage limit (under DATA/nats)")
	} else {
		if def == "" {
			def = DefaultNATS
		}
		fl.StringVar(&f.nats, "nats", def, "NATS servers, URL[,URL...] ($TANDEM_NATS)")
	}
	fl.IntVar(&f.replicas, "nats-replicas", 1, "replicas of the streams and buckets this process creates (1, or 3 on a 3-node cluster)")
	fl.StringVar(&f.buffer, "bus-buffer", "64MiB", "memory for recorded rows not yet acknowledged by the bus (rides out an outage; beyond it rows are dropped, the local store keeps them)")
}

// off reports a serve told to run without a bus.
func (f *busFlags) off() bool { return f.embedded && f.nats == "off" }

// check validates the flags (usage errors).
func (f *busFlags) check(cmd *cobra.Command) error {
	if f.off() {
		return nil
	}
	if f.replicas != 1 && f.replicas != 3 && f.replicas != 5 {
		return usagef("--nats-replicas must be 1, 3 or 5, got %d", f.replicas)
	}
	if _, err := parseSize(f.buffer); err != nil {
		return usagef("--bus-buffer: %v", err)
	}
	if f.embedded && f.nats == "" {
		for _, s := range []string{f.maxMemory, f.maxStore} {
			if _, err := parseSize(s); err != nil {
				return usagef("--nats-max-memory/--nats-max-store: %v", err)
			}
		}
		f.listenUsed = cmd.Flags().Changed("nats-listen")
	}
	if f.nats != "" {
		for _, u := range strings.Split(f.nats, ",") {
			if u = strings.TrimSpace(u); !strings.Contains(u, "://") && !strings.Contains(u, ":") {
				return usagef("--nats %q: want nats://host:port[,nats://host:port...]", f.nats)
			}
		}
	}
	return nil
}

// open connects (or starts the embedded server in dataDir/nats). name
// identifies this process on the bus.
func (f *busFlags) open(dataDir, name string, log *slog.Logger) (*bus.Bus, error) {
	cfg := bus.Config{URLs: f.nats, Name: name, Replicas: f.replicas, Logger: log}
	if f.nats == "" {
		mem, _ := parseSize(f.maxMemory)
		store, _ := parseSize(f.maxStore)
		// The server's own notices (its banner, JetStream's limits) are
		// not the application's: warnings and errors only.
		quiet := slog.New(levelHandler{slog.LevelWarn, log.Handler()})
		cfg.Embedded = &bus.ServerConfig{Name: name, Listen: f.listen, StoreDir: filepath.Join(dataDir, "nats"),
			MaxMemory: mem, MaxStore: store, Logger: quiet}
		b, err := bus.Open(cfg)
		if err != nil && !f.listenUsed && f.listen != "" && errors.Is(err, syscall.EADDRINUSE) {
			// Another process has the default port: any free one will do.
			cfg.Embedded.Listen = "127.0.0.1:0"
			b, err = bus.Open(cfg)
		}
		return b, err
	}
	return bus.Open(cfg)
}

func (f *busFlags) bufferBytes() int {
	n, _ := parseSize(f.buffer)
	return int(n)
}

// describe says which bus a process uses, for its start-up line.
func describeBus(b *bus.Bus) string {
	if b.Server() == nil {
		return "NATS " + b.URL()
	}
	if u := b.URL(); u != "" {
		return "embedded NATS at " + u
	}
	return "embedded NATS (in-process only)"
}

// parseSize reads a byte size: 1024, 64KiB, 256MiB, 8GiB (or K, M, G, KB,
// MB, GB as powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// busMetrics registers a publisher's and the connection's counters.
func busMetrics(reg *prometheus.Registry, b *bus.Bus, pub *bus.Publisher) {
	counter := func(name, help string, f func(bus.PublisherStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(pub.Stats()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("tandem_bus_connected", "1 while the bus connection is up.", func() float64 {
			if b.Connected() {
				return 1
			}
			return 0
		}),
	)
	if pub == nil {
		return
	}
	reg.MustRegister(
		counter("tandem_bus_published_rows_total", "Recorded rows the bus acknowledged.", func(s bus.PublisherStats) float64 { return float64(s.Published) }),
		counter("tandem_bus_republished_rows_total", "Publishes repeated after a failure (outage, timeout).", func(s bus.PublisherStats) float64 { return float64(s.Republished) }),
		counter("tandem_bus_dropped_rows_total", "Recorded rows not published because the buffer was full (the local store keeps them).", func(s bus.PublisherStats) float64 { return float64(s.Dropped) }),
		gauge("tandem_bus_buffered_rows", "Recorded rows waiting for the bus's acknowledgement.", func() float64 { return float64(pub.Stats().Buffered) }),
		gauge("tandem_bus_buffered_bytes", "Bytes of recorded rows waiting for the bus's acknowledgement.", func() float64 { return float64(pub.Stats().BufferBytes) }),
	)
}

// newMetricsRegistry is a registry with the Go and process collectors, as
// web makes by default.
func newMetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// levelHandler passes records at or above min to h.
type levelHandler struct {
	min slog.Level
	h   slog.Handler
}

func (l levelHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}
func (l levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{l.min, l.h.WithAttrs(a)}
}
func (l levelHandler) WithGroup(n string) slog.Handler { return levelHandler{l.min, l.h.WithGroup(n)} }
