package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
)

func init() { commands = append(commands, newRolloutCmd) }

// rolloutSink stores finished rollout episodes (tandem rollout --record).
type rolloutSink interface {
	// Add stores one finished episode with all its steps.
	Add(spec sim.Spec, ep sim.Episode, info rolloutInfo) error
	Close() error
}

// rolloutInfo says how a rollout's episodes were produced.
type rolloutInfo struct {
	Mode     string // "teleop" (expert demonstrations), "auto" or "shared"
	Policy   string // policy name or version
	Operator string // simulated operator description, if any
	Skill    float64
}

// openRolloutSink opens the store in dataDir for --record; set by the file
// that implements recording.
var openRolloutSink func(dataDir string) (rolloutSink, error)

// newOperator wraps a policy in a shared-autonomy controller with a
// simulated operator described by spec (the text after "sim:" in
// --operator); set by the file that implements simulated operators.
var newOperator func(spec string, task sim.Task, policy sim.Policy, policyName string, seed uint64) (sim.Controller, error)

type rolloutFlags struct {
	task, policy, operator, data string
	skill                        float64
	episodes, workers            int
	seed                         uint64
	asJSON, record               bool
}

func newRolloutCmd() *cobra.Command {
	var f rolloutFlags
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Run headless episodes of a task with a policy (and optionally a simulated operator)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runRollout(ctx, cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "push-t", "task name (see tandem tasks)")
	fl.StringVar(&f.policy, "policy", policies.Expert, "policy name (see tandem policies list; built-ins: expert, random)")
	fl.Float64Var(&f.skill, "skill", 1, "expert skill in [0, 1] (1 = best); only with --policy expert")
	fl.IntVar(&f.episodes, "episodes", 10, "number of episodes")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the first episode; episode i uses seed+i")
	fl.IntVar(&f.workers, "workers", 0, "parallel workers (0 = all cores)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per episode and a summary line")
	fl.StringVar(&f.operator, "operator", "", "simulated operator for shared autonomy, e.g. sim:skill=0.8,rule=distance")
	fl.BoolVar(&f.record, "record", false, "store the episodes in the data directory")
	fl.StringVar(&f.data, "data", "./tandem-data", "data directory")
	return cmd
}

func runRollout(ctx context.Context, cmd *cobra.Command, f rolloutFlags) error {
	maker, err := tasks.Lookup(f.task)
	if err != nil {
		return usageError{err}
	}
	reg := policies.NewRegistry()
	popts := policies.Options{}
	if cmd.Flags().Changed("skill") {
		popts.Skill = &f.skill
	}
	if err := reg.Check(f.policy, popts); err != nil {
		return usageError{err}
	}
	if f.episodes < 1 {
		return usagef("--episodes must be at least 1, got %d", f.episodes)
	}
	opSpec := ""
	if f.operator != "" {
		const prefix = "sim"
		if len(f.operator) < len(prefix) || f.operator[:len(prefix)] != prefix || (len(f.operator) > len(prefix) && f.operator[len(prefix)] != ':') {
			return usagef("unknown operator %q (valid: sim, sim:KEY=VALUE,...)", f.operator)
		}
		if newOperator == nil {
			return errors.New("simulated operators are not available in this build")
		}
		if len(f.operator) > len(prefix) {
			opSpec = f.operator[len(prefix)+1:]
		}
		// Check the description once, before any worker starts, so a typo is
		// one usage error rather than one per episode.
		if _, err := teleop.ParseOperator(opSpec); err != nil {
			return usageError{err}
		}
	}
	if f.workers < 0 {
		return usagef("--workers must be 0 (all cores) or more, got %d", f.workers)
	}
	spec := maker().Spec()
	info := rolloutInfo{Policy: f.policy, Skill: f.skill, Mode: "auto", Operator: f.operator}
	switch {
	case f.operator != "":
		info.Mode = "shared"
	case f.policy == "expert":
		info.Mode = "teleop" // the scripted expert demonstrates
	}
	var sink rolloutSink
	if f.record {
		if openRolloutSink == nil {
			return errors.New("recording is not available in this build")
		}
		if sink, err = openRolloutSink(f.data); err != nil {
			return err
		}
		defer sink.Close()
	}
	seeds := make([]uint64, f.episodes)
	for i := range seeds {
		seeds[i] = f.seed + uint64(i)
	}
	cfg := sim.RolloutConfig{
		NewTask:   maker,
		Seeds:     seeds,
		Workers:   f.workers,
		KeepSteps: f.record,
		Controller: func(task sim.Task, episode int, seed uint64) (sim.Controller, error) {
			o := popts
			o.Seed = seed
			p, err := reg.New(f.policy, task, o)
			if err != nil {
				return nil, err
			}
			switch info.Mode {
			case "shared":
				return newOperator(opSpec, task, p, f.policy, seed)
			case "teleop":
				return sim.Demonstrate(p, "expert"), nil
			}
			return sim.Auto(p, f.policy), nil
		},
	}
	eps, err := sim.Rollout(ctx, cfg)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("rollout: %w", err)
	}
	out := cmd.OutOrStdout()
	enc := json.NewEncoder(out)
	for _, ep := range eps {
		if sink != nil {
			if err := sink.Add(spec, ep, info); err != nil {
				return fmt.Errorf("record episode %d: %w", ep.Index, err)
			}
		}
		if f.asJSON {
			if err := enc.Encode(ep); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(out, "episode %d seed %d: return %.3f length %d success %v max reward %.3f interventions %d\n",
				ep.Index, ep.Seed, ep.Return, ep.Length, ep.Success, ep.MaxReward, ep.Interventions)
		}
	}
	sum := sim.Summarize(spec.Name, eps)
	if f.asJSON {
		return enc.Encode(sum)
	}
	fmt.Fprintf(out, "%s: %d episodes, success rate %.3f, mean return %.3f, mean max reward %.3f, mean length %.1f\n",
		sum.Task, sum.Episodes, sum.SuccessRate, sum.MeanReturn, sum.MeanMaxReward, sum.MeanLength)
	return nil
}
