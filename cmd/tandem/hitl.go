package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/live"
	"tandem/policies"
	"tandem/tasks"
)

func init() { commands = append(commands, newHITLCmd) }

func newHITLCmd() *cobra.Command {
	var (
		data, task, algo, operator string
		params                     []string
		rounds, episodes, demos_   int
		evalEpisodes, workers      int
		seed                       uint64
		asJSON                     bool
	)
	cmd := &cobra.Command{
		Use:   "hitl",
		Short: "Run the human-in-the-loop learning loop headless with a simulated operator",
		Long: `Run what a lab runs over days, headless. Round 0 records --demos
demonstrations by the simulated operator (teleop mode) and trains the first
version on them. Each of the --rounds later rounds deploys the newest version
in shared autonomy for --episodes episodes while the simulated operator
intervenes by its rule, records everything (episodes tagged round:N),
retrains on every episode of the run, warm-started from the previous
version, evaluates the new version alone on held-out seeds and promotes it.
One line per round (one JSON object with --json): round, version,
success_rate (deployment, interventions included), eval_success_rate (the
new version alone), interventions_per_episode, human_step_share, wall_s,
env_steps.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := tasks.Lookup(task); err != nil {
				return usageError{err}
			}
			if _, err := policies.NewLearner(algo); err != nil {
				return usageError{err}
			}
			if _, err := live.ParseOperator(operator); err != nil {
				return usagef("--operator: %v", err)
			}
			kv, err := parseParams(params)
			if err != nil {
				return usageError{err}
			}
			switch {
			case rounds < 1 || rounds > 10_000:
				return usagef("--rounds must be in [1, 10000], got %d", rounds)
			case episodes < 1 || episodes > 1_000_000:
				return usagef("--episodes must be in [1, 1000000], got %d", episodes)
			case demos_ < 0 || demos_ > 1_000_000:
				return usagef("--demos must be in [0, 1000000], got %d", demos_)
			case evalEpisodes < 1 || evalEpisodes > 100_000:
				return usagef("--eval-episodes must be in [1, 100000], got %d", evalEpisodes)
			case workers < 0:
				return usagef("--workers must be 0 (all cores) or more, got %d", workers)
			}
			if !cmd.Flags().Changed("seed") {
				seed = rand.Uint64N(maxDrawnSeed - 1_000_000_000)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			tr, err := openTrainer(ctx, data)
			if err != nil {
				return err
			}
			defer tr.Store.Close()
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			bar := newProgress(cmd, "hitl", "steps", 0, asJSON)
			defer bar.Done()
			_, err = tr.HITL(ctx, live.HITLConfig{
				Task: task, Algo: algo, Operator: operator, Rounds: rounds, Episodes: episodes, Demos: demos_,
				Seed: seed, Params: kv, EvalEpisodes: evalEpisodes, Workers: workers,
				Progress: func(_, done, total int) { bar.SetTotal(total); bar.Set(done) },
			}, func(r live.Round) error {
				if asJSON {
					return enc.Encode(r)
				}
				bar.Println(out, fmt.Sprintf("round %d: %s (deployed %s) success %.3f, alone %.3f [%.3f, %.3f], interventions/episode %.2f, human steps %.1f%%, %d env steps, %.1f s",
					r.Round, r.Version, orDash(r.Deployed), r.SuccessRate, r.EvalSuccessRate, r.EvalCI95[0], r.EvalCI95[1],
					r.InterventionsPerEpisode, 100*r.HumanStepShare, r.EnvSteps, r.WallS))
				return nil
			})
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&data, "data", "./tandem-data", "data directory")
	fl.StringVar(&task, "task", "reach", "task name (see tandem tasks)")
	fl.StringVar(&algo, "algo", "sirius", "algorithm: "+strings.Join(policies.Learners(), ", "))
	fl.StringVar(&operator, "operator", "sim", "simulated operator: sim or sim:KEY=VALUE,... (docs/teleop.md)")
	fl.StringArrayVar(&params, "param", nil, "algorithm hyper-parameter KEY=VALUE (repeatable; see docs/algorithms.md)")
	fl.IntVar(&rounds, "rounds", 4, "shared-autonomy rounds after the demonstrations")
	fl.IntVar(&episodes, "episodes", 20, "episodes per round")
	fl.IntVar(&demos_, "demos", 0, "demonstrations in round 0 (0: --episodes)")
	fl.IntVar(&evalEpisodes, "eval-episodes", live.DefaultEvalEpisodes, "held-out evaluation episodes per version")
	fl.IntVar(&workers, "workers", 0, "rollout and evaluation goroutines (0: all cores)")
	fl.Uint64Var(&seed, "seed", 0, "seed of the first episode (default: drawn)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per round")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
