package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tandem/bus"
	"tandem/demos"
	"tandem/live"
	"tandem/policies"
	"tandem/tasks"
)

func init() { commands = append(commands, newLearnCmd) }

type learnFlags struct {
	data, algo, consumer string
	tasks, params        []string
	minEpisodes, evalEps int
	promoteMin           float64
	every, ackWait       time.Duration
	asJSON               bool
	bus                  busFlags
}

func newLearnCmd() *cobra.Command {
	var f learnFlags
	cmd := &cobra.Command{
		Use:   "learn",
		Short: "Learn from the steps on the bus and publish policy versions (the learner role)",
		Long: `Learn is the learner role of a tandem that runs as several processes. It
stores every recorded step the bus carries (from tandem serve and tandem work)
in its own store in --data, exactly once whatever is delivered twice, and runs
the online trainer on it: for each task (--task, or every task it has
episodes of), when --min-episodes new finished episodes arrived it trains a
candidate with --algo, warm-started from the current version of the same
algorithm, evaluates it on --eval-episodes held-out seeds, stores it, and
publishes it on the bus (checkpoint to the object store, row to the policies
bucket). A candidate is promoted, on the bus too, when it scores at least the
current version (the first one: --promote-min). Every process following
the task's "current" policy switches at its next episode boundary.

Killing learn loses nothing: what it had not stored is delivered again when it
(or another learn with the same --consumer) starts. Give learn a data
directory of its own, never a serve's. One line per training (one JSON
object with --json). SIGINT/SIGTERM stop it after the batch in hand.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLearn(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "./tandem-learn", "the learner's own data directory (store, checkpoints)")
	fl.StringVar(&f.algo, "algo", "bc", "algorithm: "+strings.Join(policies.Learners(), ", "))
	fl.StringArrayVar(&f.tasks, "task", nil, "train only this task (repeatable; default every task with episodes)")
	fl.StringArrayVar(&f.params, "param", nil, "algorithm hyper-parameter KEY=VALUE (repeatable; see docs/algorithms.md)")
	fl.IntVar(&f.minEpisodes, "min-episodes", 10, "new finished episodes that start a training, in [1, 100000]")
	fl.IntVar(&f.evalEps, "eval-episodes", 30, "held-out episodes scoring each candidate, in [1, 10000]")
	fl.Float64Var(&f.promoteMin, "promote-min", 0.5, "held-out success the first version needs to be promoted, in [0, 1]")
	fl.DurationVar(&f.every, "every", 5*time.Second, "how often to look for new episodes")
	fl.StringVar(&f.consumer, "consumer", "learn", "durable consumer name: learners sharing one split the steps; one with its own name gets them all")
	fl.DurationVar(&f.ackWait, "ack-wait", 30*time.Second, "how long a delivered, unstored step waits before it is delivered again")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per training")
	f.bus.add(cmd, false)
	return cmd
}

func runLearn(cmd *cobra.Command, f learnFlags) error {
	if _, err := policies.NewLearner(f.algo); err != nil {
		return usageError{err}
	}
	for _, t := range f.tasks {
		if _, err := tasks.Lookup(t); err != nil {
			return usageError{err}
		}
	}
	kv, err := parseParams(f.params)
	if err != nil {
		return usageError{err}
	}
	if f.ackWait < time.Second {
		return usagef("--ack-wait must be at least 1s, got %v", f.ackWait)
	}
	if err := checkOnlineFlags("", f.minEpisodes, f.evalEps, f.promoteMin); err != nil {
		return err
	}
	if err := f.bus.check(cmd); err != nil {
		return err
	}
	cfg := live.OnlineConfig{Algo: f.algo, Params: kv, MinNewEpisodes: f.minEpisodes, EvalEpisodes: f.evalEps,
		PromoteMin: f.promoteMin, Every: f.every, Note: "tandem learn"}
	if f.promoteMin == 0 {
		cfg.PromoteMin = live.PromoteAny // "0" promotes whatever the first version scores
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errOut := cmd.ErrOrStderr()
	logger := slog.New(slog.NewTextHandler(errOut, nil))
	tr, err := openTrainer(ctx, f.data)
	if err != nil {
		return err
	}
	st, reg := tr.Store, tr.Policies
	defer st.Close()
	b, err := f.bus.open(f.data, "learn-"+hostName(), logger)
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(errOut, "tandem: learn %s on %s, storing steps in %s (consumer %q)\n", f.algo, describeBus(b), f.data, f.consumer)
	mirror := b.MirrorPolicies(st, bus.MirrorConfig{LearnerState: true})
	defer mirror.Close()
	in := b.Ingest(st, bus.IngesterConfig{Durable: f.consumer, AckWait: f.ackWait, Logger: logger}, nil)
	defer in.Close()
	vp := newVersionPublisher(b, st, logger)
	defer vp.close(5 * time.Second)
	taskList := func() []string {
		if len(f.tasks) > 0 {
			return f.tasks
		}
		ts, err := st.Tasks(ctx)
		if err != nil {
			return nil
		}
		return ts
	}
	out := cmd.OutOrStdout()
	var outMu sync.Mutex
	online, err := live.StartOnline(cfg, live.OnlineDeps{
		Store: st, Policies: reg, Logger: logger, Tasks: taskList,
		OnEvent: func(e live.OnlineEvent) {
			if e.Version != "" && e.Err == "" {
				vp.add(e)
			}
			outMu.Lock()
			defer outMu.Unlock()
			printLearnEvent(out, e, f.asJSON)
		},
	})
	if err != nil {
		return usageError{err}
	}
	<-ctx.Done()
	online.Close()
	return nil
}

// checkOnlineFlags holds the online trainer's flags (learn's, or serve's
// with prefix "learn-") to their documented ranges. live.OnlineConfig
// reads a zero as its default, so 0 would otherwise pass as 10 or 30.
func checkOnlineFlags(prefix string, minEpisodes, evalEpisodes int, promoteMin float64) error {
	switch {
	case minEpisodes < 1 || minEpisodes > 100_000:
		return usagef("--%smin-episodes must be in [1, 100000], got %d", prefix, minEpisodes)
	case evalEpisodes < 1 || evalEpisodes > 10_000:
		return usagef("--%seval-episodes must be in [1, 10000], got %d", prefix, evalEpisodes)
	case !(promoteMin >= 0 && promoteMin <= 1):
		return usagef("--%spromote-min must be in [0, 1], got %g", prefix, promoteMin)
	}
	return nil
}

func printLearnEvent(out io.Writer, e live.OnlineEvent, asJSON bool) {
	if asJSON {
		json.NewEncoder(out).Encode(e)
		return
	}
	if e.Err != "" {
		fmt.Fprintf(out, "%s: training failed: %s\n", e.Task, e.Err)
		return
	}
	line := fmt.Sprintf("%s: %s on %d episodes in %.1f s", e.Task, e.Version, e.Episodes, e.TrainSecs)
	if e.Eval != nil {
		line += fmt.Sprintf(", held-out success %.3f [%.3f, %.3f]", e.Eval.SuccessRate, e.Eval.CI95[0], e.Eval.CI95[1])
	}
	if e.Promoted {
		line += ", promoted: " + e.Reason
	} else {
		line += ", kept: " + e.Reason
	}
	fmt.Fprintln(out, line)
}

// versionPublisher puts the learner's new versions (and promotions) on
// the bus from its own goroutine, in order, retrying until the bus takes
// them, so a bus outage never holds the trainer up.
type versionPublisher struct {
	b       *bus.Bus
	st      *demos.Store
	log     *slog.Logger
	mu      sync.Mutex
	todo    []live.OnlineEvent
	closing bool // run returns once todo is empty
	wake    chan struct{}
	ctx     context.Context // cancelled: run returns at once
	cancel  context.CancelFunc
	done    chan struct{}
}

func newVersionPublisher(b *bus.Bus, st *demos.Store, log *slog.Logger) *versionPublisher {
	ctx, cancel := context.WithCancel(context.Background())
	p := &versionPublisher{b: b, st: st, log: log, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go p.run()
	return p
}

func (p *versionPublisher) add(e live.OnlineEvent) {
	p.mu.Lock()
	p.todo = append(p.todo, e)
	p.mu.Unlock()
	p.poke()
}

func (p *versionPublisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close waits up to d for what is queued, then stops.
func (p *versionPublisher) close(d time.Duration) {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.poke()
	t := time.AfterFunc(d, p.cancel)
	<-p.done
	t.Stop()
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.todo {
		p.log.Error("learn: version not published on the bus (it is in the local store)", "version", e.Version)
	}
}

func (p *versionPublisher) run() {
	defer close(p.done)
	wait := 250 * time.Millisecond
	for {
		p.mu.Lock()
		var e live.OnlineEvent
		have, closing := len(p.todo) > 0, p.closing
		if have {
			e = p.todo[0]
		}
		p.mu.Unlock()
		if !have {
			if closing {
				return
			}
			select {
			case <-p.wake:
				continue
			case <-p.ctx.Done():
				return
			}
		}
		if err := p.publish(p.ctx, e); err != nil {
			if p.ctx.Err() != nil {
				return
			}
			p.log.Warn("learn: publishing a version failed; retrying", "version", e.Version, "err", err)
			select {
			case <-time.After(wait):
			case <-p.ctx.Done():
				return
			}
			wait = min(2*wait, 5*time.Second)
			continue
		}
		wait = 250 * time.Millisecond
		p.mu.Lock()
		p.todo = p.todo[1:]
		p.mu.Unlock()
	}
}

func (p *versionPublisher) publish(ctx context.Context, e live.OnlineEvent) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := p.st.Policy(ctx, e.Version)
	if err != nil {
		return err
	}
	if err := p.b.PublishVersion(ctx, p.st.Dir(), v); err != nil {
		return err
	}
	if e.Promoted {
		if err := p.b.SetCurrent(ctx, e.Task, e.Version, "learn: "+e.Reason); err != nil {
			return err
		}
	}
	p.log.Info("learn: published", "version", e.Version, "promoted", e.Promoted)
	return nil
}
