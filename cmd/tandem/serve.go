package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"tandem/bus"
	"tandem/demos"

	"github.com/spf13/cobra"

	"tandem/live"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
	"tandem/teleop/evdev"
	"tandem/web"
)

func init() { commands = append(commands, newServeCmd) }

type serveFlags struct {
	addr, data, task, mode, policy, token string
	tokenFile                             string
	skill                                 float64
	seed                                  uint64
	devices                               []string
	noStore, hotplug                      bool
	inputDir                              string
	hapticGain, hapticCap                 float64
	operator                              string
	learn                                 string
	learnParams                           []string
	learnMin, learnEval                   int
	learnPromote                          float64
	bus                                   busFlags
	publicHosts                           []string
	viewerExport, idleDefault             bool
	idlePause, replayIdle                 time.Duration
	maxConns, maxConnsPerAddr, maxExports int
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the browser console, the HTTP/WebSocket API and the Foxglove endpoint",
		Long: `Serve runs tandem's server. On start it creates one session of --task (mode --mode,
policy --policy) recording into the store in --data, prints the operator token and
listens on --addr (port 0 picks a free port; the log line "listening on http://ADDR"
names it). Open http://ADDR/ in a browser to watch, demonstrate and take over.
Operator actions need the token ($TANDEM_TOKEN, --token-file, or a generated
one; --token works but shows in ps); viewers need none on a loopback address.
Once it listens it prints the address to open with the token, the task and the
data directory. SIGINT/SIGTERM stop the sessions at a tick boundary, flush the
recorder and exit within 10 s: 0 when every recorded step was saved, 1 (saying
how many were not) otherwise. Limits and the threat model: docs/security.md.

Every recorded step is also published on the bus (NATS JetStream; an embedded
server under DATA/nats listening on --nats-listen, or --nats URL) for tandem
learn, and each task's current policy version on the bus is followed: sessions
running the policy "current" switch at their next episode boundary. A lost bus
never stops a session: rows wait in --bus-buffer and go out when it returns.
See docs/deploy.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", web.DefaultAddr, "listen address (port 0 = any free port)")
	fl.StringVar(&f.data, "data", web.DefaultDataDir, "data directory (store, checkpoints, exports)")
	fl.StringVar(&f.task, "task", web.DefaultTask, "task of the default session (see tandem tasks)")
	fl.StringVar(&f.mode, "mode", web.DefaultMode, "mode of the default session: shared, teleop or auto")
	fl.StringVar(&f.policy, "policy", web.DefaultPolicy, "policy of the default session (built-ins: expert, random)")
	fl.Float64Var(&f.skill, "skill", 1, "expert skill in [0, 1] (1 = best); only with --policy expert")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the default session's first episode (default: drawn at random at each start)")
	fl.StringArrayVar(&f.devices, "device", nil, "input device for the default session: /dev/input/eventN or an evemu recording (repeatable)")
	fl.StringVar(&f.token, "token", "", "operator token (visible in ps: prefer $TANDEM_TOKEN or --token-file; default generated)")
	fl.StringVar(&f.tokenFile, "token-file", "", "read the operator token from this file (first line)")
	fl.StringArrayVar(&f.publicHosts, "public-host", nil, "a host name (no port) clients use for this server besides its listen address and loopback names (repeatable); other Host headers are refused")
	fl.BoolVar(&f.viewerExport, "viewer-export", false, "let viewers without the token download exports (default: yes on a loopback address, no elsewhere)")
	fl.DurationVar(&f.idlePause, "idle-pause", 10*time.Minute, "pause a session created through the API after this long with nobody connected (0: never)")
	fl.BoolVar(&f.idleDefault, "idle-pause-default", false, "apply --idle-pause to the default session too")
	fl.DurationVar(&f.replayIdle, "replay-idle", 2*time.Minute, "delete a replay after this long with nobody watching (0: never)")
	fl.IntVar(&f.maxConns, "max-conns", 0, "connections held at once (default: half the descriptor limit, at most 8192)")
	fl.IntVar(&f.maxConnsPerAddr, "max-conns-per-addr", 0, "connections held at once from one IP address (default: half of --max-conns)")
	fl.IntVar(&f.maxExports, "max-exports", 2, "export downloads in flight at once, in [1, 64] (more: 429)")
	fl.BoolVar(&f.noStore, "no-store", false, "do not record (episode endpoints answer 503)")
	fl.BoolVar(&f.hotplug, "hotplug", false, "attach every gamepad, joystick or SpaceMouse present or plugged in later (not keyboards) to the default session")
	fl.StringVar(&f.inputDir, "input-dir", evdev.DefaultDir, "directory watched by --hotplug")
	fl.StringVar(&f.learn, "learn", "", "run the online trainer with this algorithm (e.g. sirius); the default session learns")
	fl.StringArrayVar(&f.learnParams, "learn-param", nil, "online learner hyper-parameter KEY=VALUE (repeatable)")
	fl.IntVar(&f.learnMin, "learn-min-episodes", 10, "new finished episodes that start a training, in [1, 100000]")
	fl.IntVar(&f.learnEval, "learn-eval-episodes", 30, "held-out episodes scoring each candidate, in [1, 10000]")
	fl.Float64Var(&f.learnPromote, "learn-promote-min", 0.5, "held-out success the first learned version needs to be promoted, in [0, 1]")
	fl.StringVar(&f.operator, "operator", "", "simulated operator on the default session: sim or sim:KEY=VALUE,... (see docs/teleop.md)")
	fl.Float64Var(&f.hapticGain, "haptic-gain", live.DefaultHapticGain, "force feedback gain in (0, 100]")
	fl.Float64Var(&f.hapticCap, "haptic-cap", live.DefaultHapticCap, "force feedback hard cap in (0, 1] of a device's full strength")
	f.bus.add(cmd, true)
	return cmd
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	if _, err := tasks.Lookup(f.task); err != nil {
		return usageError{err}
	}
	if _, err := sim.ParseMode(f.mode); err != nil {
		return usageError{err}
	}
	reg, _, err := storedRegistry(cmd.Context(), f.data, f.task, f.policy)
	if err != nil {
		return err
	}
	var skill *float64
	if cmd.Flags().Changed("skill") {
		skill = &f.skill
	}
	if f.policy != live.Current {
		if err := reg.Check(f.policy, policies.Options{Skill: skill}); err != nil {
			return usageError{err}
		}
	}
	if f.tokenFile != "" {
		if f.token != "" {
			return usagef("--token and --token-file: give one")
		}
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return usagef("--token-file: %v", err)
		}
		f.token, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		f.token = strings.TrimSpace(f.token)
		if f.token == "" {
			return usagef("--token-file %s is empty", f.tokenFile)
		}
	}
	if f.token == "" {
		f.token = os.Getenv("TANDEM_TOKEN")
	}
	if f.token != "" && len(f.token) < 8 {
		return usagef("the token must be at least 8 characters")
	}
	if f.idlePause < 0 || f.replayIdle < 0 {
		return usagef("--idle-pause and --replay-idle must not be negative (0 means never)")
	}
	if f.maxExports < 1 || f.maxExports > 64 {
		return usagef("--max-exports %d: must be in [1, 64]", f.maxExports)
	}
	if f.maxConns < 0 || f.maxConnsPerAddr < 0 {
		return usagef("--max-conns and --max-conns-per-addr must not be negative")
	}
	var learn *live.OnlineConfig
	if f.learn != "" {
		kv, err := parseParams(f.learnParams)
		if err != nil {
			return usageError{err}
		}
		if err := checkOnlineFlags("learn-", f.learnMin, f.learnEval, f.learnPromote); err != nil {
			return err
		}
		learn = &live.OnlineConfig{Algo: f.learn, Params: kv, MinNewEpisodes: f.learnMin, EvalEpisodes: f.learnEval, PromoteMin: f.learnPromote}
		if f.learnPromote == 0 {
			learn.PromoteMin = live.PromoteAny // "0" promotes whatever the first version scores
		}
		if _, err := policies.NewLearner(f.learn); err != nil {
			return usageError{err}
		}
		if f.noStore {
			return usagef("--learn needs a store; drop --no-store")
		}
	}
	if f.operator != "" {
		if _, err := live.ParseOperator(f.operator); err != nil {
			return usagef("--operator: %v", err)
		}
	}
	if !(f.hapticGain > 0 && f.hapticGain <= 100) {
		return usagef("--haptic-gain must be in (0, 100], got %g", f.hapticGain)
	}
	if !(f.hapticCap > 0 && f.hapticCap <= 1) {
		return usagef("--haptic-cap must be in (0, 1], got %g", f.hapticCap)
	}
	for _, d := range f.devices {
		if _, err := os.Stat(d); err != nil {
			return usagef("--device %s: %v", d, err)
		}
	}
	if err := f.bus.check(cmd); err != nil {
		return err
	}
	errOut := cmd.ErrOrStderr()
	if !cmd.Flags().Changed("seed") {
		// A fresh seed per start, so restarts do not record the same
		// episodes over again.
		f.seed = rand.Uint64N(maxDrawnSeed)
	}
	never := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1 // web.Config: negative is never, zero the default
		}
		return d
	}
	cfg := web.Config{
		Addr: f.addr, DataDir: f.data, Token: f.token, Task: f.task, Mode: f.mode, Policy: f.policy,
		Skill: skill, Seed: f.seed, Devices: f.devices, NoStore: f.noStore,
		Policies:   reg,
		HapticGain: f.hapticGain, HapticCap: f.hapticCap, Operator: f.operator, Learn: learn,
		OpenDevice:  openServeDevice,
		PublicHosts: f.publicHosts,
		IdlePause:   never(f.idlePause), IdleDefault: f.idleDefault, ReplayIdle: never(f.replayIdle),
		MaxConns: f.maxConns, MaxConnsPerAddr: f.maxConnsPerAddr, MaxExports: f.maxExports,
		Log: errOut,
	}
	if cmd.Flags().Changed("viewer-export") {
		cfg.ViewerExport = &f.viewerExport
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	metrics := newMetricsRegistry()
	logger := slog.New(slog.NewTextHandler(errOut, nil))
	var (
		b   *bus.Bus
		pub *bus.Publisher
		tap func(demos.Row)
	)
	if !f.bus.off() {
		if b, err = f.bus.open(f.data, "serve-"+hostName(), logger); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "tandem: bus %s\n", describeBus(b))
		if !f.noStore {
			pub = b.NewPublisher(bus.PublisherConfig{Buffer: f.bus.bufferBytes(), Logger: logger})
			tap = pub.Tap
		}
		busMetrics(metrics, b, pub)
	}
	cfg.RecorderTap, cfg.Registry = tap, metrics
	srv, err := web.New(cfg)
	if err != nil {
		if b != nil {
			b.Close()
		}
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if b != nil {
		defer closeBus(b, pub, errOut)
		if st := srv.Hub().Store(); st != nil {
			hub := srv.Hub()
			m := b.MirrorPolicies(st, bus.MirrorConfig{OnCurrent: func(string, string) { hub.FollowPromotions(nil) }})
			// Stop following before the server closes the store.
			context.AfterFunc(ctx, m.Close)
			defer m.Close()
		}
	}
	// Listen first: a bad --addr fails here, before any token is shown.
	if err := srv.Start(); err != nil {
		return err
	}
	printOpen(errOut, srv, f)
	fmt.Fprintf(errOut, "tandem: default session seeds from %d (--seed %d repeats them)\n", f.seed, f.seed)
	if f.hotplug {
		w := evdev.NewWatcher(f.inputDir)
		go w.Run(ctx.Done(), func(c evdev.Change) { hotplug(srv, c, openHotplugDevice, errOut) })
	}
	if err := srv.Serve(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// printOpen tells the operator what to open: the console's address with
// the token, the task of the default session and where data goes.
func printOpen(w io.Writer, srv *web.Server, f serveFlags) {
	u := openURL(srv.Addr(), f.publicHosts)
	fmt.Fprintf(w, "tandem: open %s/?token=%s in a browser to operate (%s/ watches read-only%s)\n",
		u, url.QueryEscape(srv.Token()), u, map[bool]string{true: "", false: " with the token"}[isLoopbackAddr(srv.Addr())])
	fmt.Fprintf(w, "tandem: the token also goes in Authorization: Bearer TOKEN (REST) and ?token=TOKEN (WebSockets)\n")
	data := "none (--no-store: nothing is recorded)"
	if !f.noStore {
		data = f.data
		if abs, err := filepath.Abs(f.data); err == nil {
			data = abs
		}
	}
	fmt.Fprintf(w, "tandem: task %s (mode %s, policy %s); data directory %s\n", f.task, f.mode, f.policy, data)
}

// openURL is the address a browser opens: the first --public-host, else
// the bound address, with a loopback address for the unspecified one.
func openURL(addr string, public []string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	switch ip := net.ParseIP(host); {
	case len(public) > 0:
		host = public[0]
	case ip != nil && ip.IsUnspecified():
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func isLoopbackAddr(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// closeBus publishes what the recorder left (for up to 10 s) and closes
// the connection, stopping an embedded server cleanly.
func closeBus(b *bus.Bus, pub *bus.Publisher, log io.Writer) {
	if pub != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := pub.Close(ctx); err != nil {
			fmt.Fprintf(log, "tandem: bus: %v\n", err)
		}
		cancel()
	}
	if err := b.Close(); err != nil {
		fmt.Fprintf(log, "tandem: bus: %v\n", err)
	}
}

// hostName names this machine in process names on the bus.
func hostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// hotplug attaches a device that appeared to the first session and detaches
// one that disappeared. Keyboards are left alone: every key would become
// operator input. Failures are logged; the server keeps running.
func hotplug(srv *web.Server, c evdev.Change, open web.DeviceOpener, log io.Writer) {
	if !c.Added {
		if _, ok := srv.Devices()[c.Path]; ok {
			if err := srv.DetachDevice(c.Path); err != nil {
				fmt.Fprintf(log, "tandem: hot-plug: %v\n", err)
			}
		}
		return
	}
	sessions := srv.Sessions()
	if len(sessions) == 0 {
		return
	}
	if err := srv.AttachDeviceWith(sessions[0].ID, c.Path, open); err != nil {
		fmt.Fprintf(log, "tandem: hot-plug: %v\n", err)
	}
}

// openServeDevice opens an evdev device or recording as an operator input
// for a session's task.
func openServeDevice(path string, spec sim.Spec) (string, teleop.Source, io.Closer, error) {
	op := "dev:" + filepath.Base(path)
	d, err := evdev.Open(path, evdev.Options{ActionNames: spec.ActionNames, Operator: op})
	if err != nil {
		return "", nil, nil, err
	}
	return op, d, d, nil
}

// openHotplugDevice is openServeDevice for devices found by --hotplug: it
// refuses keyboards, which an explicit --device may still name.
func openHotplugDevice(path string, spec sim.Spec) (string, teleop.Source, io.Closer, error) {
	op, src, closer, err := openServeDevice(path, spec)
	if err != nil {
		return "", nil, nil, err
	}
	if d, ok := src.(evdev.Device); ok && d.Info().Profile == "keyboard" {
		closer.Close()
		return "", nil, nil, fmt.Errorf("%s is a keyboard; name it with --device to use it", d.Name())
	}
	return op, src, closer, nil
}
