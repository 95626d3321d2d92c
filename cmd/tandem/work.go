package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tandem/bus"
	"tandem/demos"
	"tandem/live"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
)

func init() { commands = append(commands, newWorkCmd) }

type workFlags struct {
	data, name       string
	slots, poolSlots int
	ackWait          time.Duration
	bus              busFlags
}

func newWorkCmd() *cobra.Command {
	var f workFlags
	cmd := &cobra.Command{
		Use:   "work",
		Short: "Run evaluation and rollout jobs from the bus (the worker role; scale horizontally)",
		Long: `Work is the worker role: it takes jobs from the bus's job queue and runs
them headless, --slots at a time. An eval job scores a policy alone on
held-out seeds (as tandem train does); a rollout job runs and records
episodes with a policy and/or a simulated operator (as tandem rollout --record
does) and publishes them on the bus, so tandem learn trains on them. Submit
jobs with tandem jobs. Policy versions come from the bus (mirrored into
--data); a rollout with the policy "current" picks up a promotion at its next
episode.

Start as many workers as there are machines and cores: they share the queue.
A worker that dies hands its running jobs to another after --ack-wait; one
stopped by SIGINT/SIGTERM hands them back at once.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWork(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "./tandem-work", "the worker's own data directory (recorded rollouts, mirrored policies)")
	fl.StringVar(&f.name, "name", "", "worker name in job states (default work-HOST-RANDOM)")
	fl.IntVar(&f.slots, "slots", 1, "jobs run at once by this worker (one core each)")
	fl.IntVar(&f.poolSlots, "pool-slots", 64, "jobs all workers together may hold: the shared consumer's MaxAckPending (the sum of every worker's --slots)")
	fl.DurationVar(&f.ackWait, "ack-wait", 30*time.Second, "how long a silent job waits before another worker gets it (a running job reports every third of it)")
	f.bus.add(cmd, false)
	return cmd
}

func runWork(cmd *cobra.Command, f workFlags) error {
	switch {
	case f.slots < 1 || f.slots > 1024:
		return usagef("--slots must be in [1, 1024], got %d", f.slots)
	case f.poolSlots < f.slots:
		return usagef("--pool-slots (%d) must be at least --slots (%d)", f.poolSlots, f.slots)
	case f.ackWait < 3*time.Second:
		return usagef("--ack-wait must be at least 3s, got %v", f.ackWait)
	}
	if err := f.bus.check(cmd); err != nil {
		return err
	}
	if f.name == "" {
		// Not the process id: replicas of a container all run as pid 1.
		var b [3]byte
		rand.Read(b[:])
		f.name = fmt.Sprintf("work-%s-%x", hostName(), b)
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
	b, err := f.bus.open(f.data, f.name, logger)
	if err != nil {
		return err
	}
	pub := b.NewPublisher(bus.PublisherConfig{Buffer: f.bus.bufferBytes(), Logger: logger})
	defer closeBus(b, pub, errOut)
	rec := demos.NewRecorder(st, demos.RecorderConfig{MaxPending: rolloutPending, Logger: logger, Tap: pub.Tap})
	defer rec.Close()
	mirror := b.MirrorPolicies(st, bus.MirrorConfig{})
	defer mirror.Close()
	w := &worker{name: f.name, st: st, reg: reg, rec: rec, mirror: mirror}
	fmt.Fprintf(errOut, "tandem: worker %s on %s, %d slots\n", f.name, describeBus(b), f.slots)
	err = b.Work(ctx, bus.WorkerConfig{Name: f.name, Slots: f.slots, PoolSlots: f.poolSlots, AckWait: f.ackWait, Logger: logger}, w.run)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// worker runs jobs against its store and registry.
type worker struct {
	name   string
	st     *demos.Store
	reg    *policies.Registry
	rec    *demos.Recorder
	mirror *bus.Mirror
}

// policy resolves a job's policy name to one the registry builds: the
// built-ins, "current" (the task's current version, or the expert), or a
// version, mirrored from the bus first if need be.
func (w *worker) policy(ctx context.Context, name, task string) (string, error) {
	switch name {
	case "":
		return policies.Expert, nil
	case live.Current:
		v, ok, err := w.st.Current(ctx, task)
		if err != nil || !ok {
			return policies.Expert, err
		}
		name = v.Version
	}
	if _, err := w.reg.Lookup(name); err == nil {
		return name, nil
	}
	if err := w.mirror.Ensure(ctx, name); err != nil {
		return "", err
	}
	pv, err := w.st.Policy(ctx, name)
	if err != nil {
		return "", err
	}
	return name, live.RegisterStored(w.reg, w.st.Dir(), pv)
}

func (w *worker) run(ctx context.Context, job bus.Job) (*policies.EvalResult, error) {
	maker, err := tasks.Lookup(job.Task)
	if err != nil {
		return nil, err
	}
	if job.Skill != nil && job.Policy != policies.Expert {
		return nil, fmt.Errorf("skill applies to the expert only, not %q", job.Policy)
	}
	switch job.Kind {
	case bus.JobEval:
		name, err := w.policy(ctx, job.Policy, job.Task)
		if err != nil {
			return nil, err
		}
		if err := w.reg.Check(name, policies.Options{Skill: job.Skill}); err != nil {
			return nil, err
		}
		r, err := policies.Evaluate(ctx, policies.EvalConfig{
			NewTask: maker, Version: w.reg.Version(name), Episodes: job.Episodes, FirstSeed: job.FirstSeed, Workers: 1,
			NewPolicy: func(task sim.Task, seed uint64) (sim.Policy, error) {
				return w.reg.New(name, task, policies.Options{Skill: job.Skill, Seed: seed})
			},
		})
		if err != nil {
			return nil, err
		}
		return &r, nil
	case bus.JobRollout:
		return w.rollout(ctx, job, maker)
	}
	return nil, fmt.Errorf("unknown job kind %q", job.Kind)
}

// rollout runs and records a rollout job's episodes; the recorder's tap
// publishes them.
func (w *worker) rollout(ctx context.Context, job bus.Job, maker func() sim.Task) (*policies.EvalResult, error) {
	// A job names its policy always (tandem jobs rollout: the expert by
	// default), so only the skill tells a teleop job it was given one.
	mode, err := rolloutMode(job.Mode, job.Operator, false, job.Skill)
	if err != nil {
		return nil, err
	}
	var op teleop.OperatorConfig
	if job.Operator != "" {
		if op, err = live.ParseOperator(job.Operator); err != nil {
			return nil, err
		}
	}
	spec := maker().Spec()
	ro, err := w.rec.Rollout(ctx, demos.RolloutInfo{
		Spec: spec, Mode: mode, Tags: job.Tags, Session: "rollout@" + w.name + "-" + job.ID,
		Details: map[string]any{"command": "tandem work", "job": job.ID, "policy": job.Policy, "operator": job.Operator, "first_seed": job.FirstSeed, "episodes": job.Episodes},
	})
	if err != nil {
		return nil, err
	}
	r := &policies.EvalResult{FirstSeed: job.FirstSeed}
	err = sim.Stream(ctx, sim.RolloutConfig{
		NewTask: maker, Episodes: job.Episodes, FirstSeed: job.FirstSeed, Workers: 1, KeepSteps: true, Clock: sim.WallClock{},
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			if mode == sim.ModeTeleop {
				return newSimDemonstrator(op, task, seed)
			}
			// "current" is resolved at each episode: a promotion reaches
			// the next one.
			name, err := w.policy(ctx, job.Policy, job.Task)
			if err != nil {
				return nil, err
			}
			pol, err := w.reg.New(name, task, policies.Options{Skill: job.Skill, Seed: seed})
			if err != nil {
				return nil, err
			}
			if mode == sim.ModeShared {
				return newSimOperator(op, task, pol, w.reg.Version(name), seed)
			}
			return sim.Auto(pol, w.reg.Version(name)), nil
		},
	}, func(ep *sim.Episode) error {
		r.Add(ep)
		return ro.Add(ctx, ep)
	})
	if err != nil {
		return nil, err
	}
	r.Finish()
	return r, nil
}
