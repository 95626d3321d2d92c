package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"tandem/bus"
	"tandem/demos"
	"tandem/live"
	"tandem/policies"

	"github.com/spf13/cobra"

	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
	"tandem/teleop/evdev"
	"tandem/web"
)

func init() { commands = append(commands, newServeCmd) }

type serveFlags struct {
	addr, data, task, mode, policy, token string
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
Operator actions need the token (--token, TANDEM_TOKEN, or a generated one);
viewers need none on a loopback address. SIGINT/SIGTERM stop the sessions at a
tick boundary, flush the recorder and exit 0.

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
	fl.StringVar(&f.token, "token", "", "operator token (default $TANDEM_TOKEN, else generated)")
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
	if f.token == "" {
		f.token = os.Getenv("TANDEM_TOKEN")
	}
	if f.token != "" && len(f.token) < 8 {
		return usagef("--token must be at least 8 characters")
	}
	var learn *live.OnlineConfig
	if f.learn != "" {
		kv, err := parseParams(f.learnParams)
		if err != nil {
			return usageError{err}
		}
		learn = &live.OnlineConfig{Algo: f.learn, Params: kv, MinNewEpisodes: f.learnMin, EvalEpisodes: f.learnEval, PromoteMin: f.learnPromote}
		if f.learnPromote == 0 {
			learn.PromoteMin = 1e-9 // "0" means promote whatever the first version scores
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
	srv, err := web.New(web.Config{
		Addr: f.addr, DataDir: f.data, Token: f.token, Task: f.task, Mode: f.mode, Policy: f.policy,
		Skill: skill, Seed: f.seed, Devices: f.devices, NoStore: f.noStore,
		Policies:   reg,
		HapticGain: f.hapticGain, HapticCap: f.hapticCap, Operator: f.operator, Learn: learn,
		OpenDevice:  openServeDevice,
		RecorderTap: tap,
		Registry:    metrics,
		Log:         errOut,
	})
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
			m := b.MirrorPolicies(st, func(string, string) { hub.FollowPromotions(nil) })
			// Stop following before the server closes the store.
			context.AfterFunc(ctx, m.Close)
			defer m.Close()
		}
	}
	fmt.Fprintf(errOut, "tandem: operator token %s (send as Authorization: Bearer TOKEN or ?token=TOKEN)\n", srv.Token())
	fmt.Fprintf(errOut, "tandem: default session seeds from %d (--seed %d repeats them)\n", f.seed, f.seed)
	if f.hotplug {
		w := evdev.NewWatcher(f.inputDir)
		go w.Run(ctx.Done(), func(c evdev.Change) { hotplug(srv, c, openHotplugDevice, errOut) })
	}
	return srv.Run(ctx)
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
