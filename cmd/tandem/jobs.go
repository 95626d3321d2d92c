package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tandem/bus"
	"tandem/live"
	"tandem/policies"
	"tandem/tasks"
)

func init() { commands = append(commands, newJobsCmd) }

func newJobsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Submit evaluation and rollout jobs to the workers on the bus, and follow them",
		Args:  noArgs,
	}
	cmd.AddCommand(newJobsEvalCmd(), newJobsRolloutCmd(), newJobsStatusCmd())
	return cmd
}

// jobsFlags are what every job submission takes.
type jobsFlags struct {
	task, policy    string
	episodes, chunk int
	seed            uint64
	timeout         time.Duration
	asJSON          bool
	bus             busFlags
}

func (f *jobsFlags) add(cmd *cobra.Command, seedHelp string) {
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "push-t", "task name (see tandem tasks)")
	fl.StringVar(&f.policy, "policy", policies.Expert, `policy: a built-in, a version on the bus, or "current"`)
	fl.IntVar(&f.episodes, "episodes", 100, "episodes in all")
	fl.IntVar(&f.chunk, "chunk", 10, "episodes per job (jobs are what workers share)")
	fl.Uint64Var(&f.seed, "seed", 0, seedHelp)
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "give up waiting after this long")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object")
	f.bus.add(cmd, false)
}

func (f *jobsFlags) check(cmd *cobra.Command) error {
	if _, err := tasks.Lookup(f.task); err != nil {
		return usageError{err}
	}
	if f.episodes < 1 || f.chunk < 1 {
		return usagef("--episodes and --chunk must be at least 1, got %d and %d", f.episodes, f.chunk)
	}
	if n := (f.episodes + f.chunk - 1) / f.chunk; n > 10_000 {
		return usagef("%d jobs: at most 10000 (raise --chunk)", n)
	}
	return f.bus.check(cmd)
}

// connect opens the bus for a jobs command; only warnings are logged.
func connect(cmd *cobra.Command, bf *busFlags) (*bus.Bus, error) {
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return bf.open("", "jobs-"+hostName(), logger)
}

func newJobsEvalCmd() *cobra.Command {
	var f jobsFlags
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score a policy alone on held-out seeds, split into jobs across the workers",
		Long: `Eval scores --policy on --episodes held-out seeds (policies.EvalSeedBase
upward, as tandem train evaluates; --seed offsets them) split into jobs of
--chunk episodes that the workers on the bus share, and prints the merged
result: the same one a single evaluation over every seed gives. "current" is
resolved once, when the jobs are submitted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			b, err := connect(cmd, &f.bus)
			if err != nil {
				return err
			}
			defer b.Close()
			policy := f.policy
			if policy == live.Current {
				c, ok, err := b.CurrentOf(ctx, f.task)
				if err != nil {
					return err
				}
				policy = policies.Expert
				if ok {
					policy = c.Version
				}
			}
			start := time.Now()
			r, err := b.Evaluate(ctx, f.task, policy, f.episodes, f.chunk, policies.EvalSeedBase+f.seed)
			if err != nil {
				return err
			}
			return printEval(cmd.OutOrStdout(), f.task, policy, r, time.Since(start), f.asJSON)
		},
	}
	f.add(cmd, "offset of the first held-out seed")
	return cmd
}

func printEval(out io.Writer, task, policy string, r policies.EvalResult, took time.Duration, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(struct {
			Task   string              `json:"task"`
			Policy string              `json:"policy"`
			Result policies.EvalResult `json:"result"`
			WallS  float64             `json:"wall_s"`
		}{task, policy, r, took.Seconds()})
	}
	_, err := fmt.Fprintf(out, "%s on %s: success %.3f [%.3f, %.3f] over %d episodes, mean return %.3f, mean length %.1f (%.1f s, %.0f env steps/s)\n",
		policy, task, r.SuccessRate, r.CI95[0], r.CI95[1], r.Episodes, r.MeanReturn, r.MeanLength, took.Seconds(), float64(r.EnvSteps)/took.Seconds())
	return err
}

func newJobsRolloutCmd() *cobra.Command {
	var (
		f              jobsFlags
		mode, operator string
		skill          float64
		tags           []string
		noWait         bool
	)
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Run and record episodes on the workers; they reach tandem learn through the bus",
		Long: `Rollout queues --episodes episodes in jobs of --chunk for the workers, who
run them as tandem rollout --record would (--mode, --policy, --operator) and
publish every step on the bus, where tandem learn stores and trains on them.
With the policy "current" each episode runs the task's current version when
it starts. Without --seed the first seed is drawn at random. It waits for the
jobs and prints their summary (--no-wait: prints the job ids and returns).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			var sk *float64
			if cmd.Flags().Changed("skill") {
				sk = &skill
			}
			// Refused here, as tandem rollout would, not by every job on
			// the workers.
			if _, err := rolloutMode(mode, operator, cmd.Flags().Changed("policy"), sk); err != nil {
				return err
			}
			if operator != "" {
				if _, err := live.ParseOperator(operator); err != nil {
					return usagef("--operator: %v", err)
				}
			}
			seed := f.seed
			if !cmd.Flags().Changed("seed") {
				seed = rand.Uint64N(maxDrawnSeed)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			b, err := connect(cmd, &f.bus)
			if err != nil {
				return err
			}
			defer b.Close()
			var ids []string
			for done := 0; done < f.episodes; done += f.chunk {
				id, err := b.Submit(ctx, bus.Job{Kind: bus.JobRollout, Task: f.task, Policy: f.policy, Mode: mode, Operator: operator,
					Skill: sk, Tags: tags, FirstSeed: seed + uint64(done), Episodes: min(f.chunk, f.episodes-done)})
				if err != nil {
					return fmt.Errorf("%w (%d jobs queued before: %v)", err, len(ids), ids)
				}
				ids = append(ids, id)
			}
			out := cmd.OutOrStdout()
			if noWait {
				for _, id := range ids {
					fmt.Fprintln(out, id)
				}
				return nil
			}
			start := time.Now()
			sts, err := b.WaitAll(ctx, ids)
			if err != nil {
				return err
			}
			return printEval(out, f.task, f.policy, bus.MergeResults(sts), time.Since(start), f.asJSON)
		},
	}
	f.add(cmd, "seed of the first episode (default: drawn at random)")
	fl := cmd.Flags()
	fl.StringVar(&mode, "mode", "", "auto, shared or teleop (default auto, or shared with --operator)")
	fl.StringVar(&operator, "operator", "", "simulated operator, e.g. sim:skill=0.8,rule=distance (see docs/teleop.md)")
	fl.Float64Var(&skill, "skill", 1, "expert skill in [0, 1]; only with --policy expert")
	fl.StringArrayVar(&tags, "tag", nil, "tag for the recorded episodes (repeatable)")
	fl.BoolVar(&noWait, "no-wait", false, "print the job ids and return")
	return cmd
}

func newJobsStatusCmd() *cobra.Command {
	var bf busFlags
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Print a job's state and result as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bf.check(cmd); err != nil {
				return err
			}
			b, err := connect(cmd, &bf)
			if err != nil {
				return err
			}
			defer b.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			st, err := b.Status(ctx, args[0])
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
		},
	}
	bf.add(cmd, false)
	return cmd
}
