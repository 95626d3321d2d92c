package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/demos"
	"tandem/live"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

func init() { commands = append(commands, newTrainCmd) }

// parseParams splits repeated KEY=VALUE arguments.
func parseParams(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want KEY=VALUE", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--param %s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// catalog is the tasks registry as a live.Catalog.
type catalog struct{}

func (catalog) Specs() []sim.Spec                 { return tasks.Specs() }
func (catalog) New(name string) (sim.Task, error) { return tasks.New(name) }

func newTrainCmd() *cobra.Command {
	var (
		data, algo, from string
		params           []string
		evalEpisodes     int
		seed             uint64
		asJSON, promote  bool
		ff               filterFlags
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a policy version from recorded episodes, evaluate it on held-out seeds and register it",
		Long: `Train a policy version of one task from the episodes the filters select
(every finished episode of the task by default), evaluate it alone on
held-out seeds across all cores (success rate with a 95% Wilson interval,
return, length) and register it in the store as TASK-ALGO-N with its
checkpoint under DATA/policies/. --from warm-starts from a version.
Algorithms and their --param keys: docs/algorithms.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flt, err := ff.filter()
			if err != nil {
				return err
			}
			if flt.Task == "" {
				return usagef("--task is required")
			}
			if _, err := tasks.Lookup(flt.Task); err != nil {
				return usageError{err}
			}
			if _, err := policies.NewLearner(algo); err != nil {
				return usageError{err}
			}
			kv, err := parseParams(params)
			if err != nil {
				return usageError{err}
			}
			if evalEpisodes < 0 || evalEpisodes > 100_000 {
				return usagef("--eval-episodes must be in [0, 100000], got %d", evalEpisodes)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			tr, err := openTrainer(ctx, data)
			if err != nil {
				return err
			}
			defer tr.Store.Close()
			st := tr.Store
			bar := newProgress(cmd, "train", "steps", 0, asJSON)
			defer bar.Done()
			req := live.TrainRequest{Algo: algo, Task: flt.Task, Filter: flt, Params: kv, Parent: from, Seed: seed, EvalEpisodes: evalEpisodes,
				Progress: func(done, total int) { bar.SetTotal(total); bar.Set(done) }}
			if evalEpisodes == 0 && cmd.Flags().Changed("eval-episodes") {
				req.EvalEpisodes = -1
			}
			res, err := tr.Train(ctx, req)
			bar.Done()
			if err != nil {
				return err
			}
			if promote {
				if err := st.Promote(ctx, res.Version, "tandem train --promote"); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(struct {
					live.TrainResult
					Promoted bool `json:"promoted"`
				}{res, promote})
			}
			fmt.Fprintf(out, "%s: %s on %d %s episodes in %.1f s → %s\n", res.Version, res.Algo, res.Episodes, res.Task, res.TrainSecs, res.Checkpoint)
			if e := res.Eval; e != nil {
				fmt.Fprintf(out, "held-out success %.3f [%.3f, %.3f] over %d episodes, mean return %.3f, mean length %.1f (%.1f s)\n",
					e.SuccessRate, e.CI95[0], e.CI95[1], e.Episodes, e.MeanReturn, e.MeanLength, res.EvalSecs)
			}
			if promote {
				fmt.Fprintf(out, "promoted: %s is the current %s policy\n", res.Version, res.Task)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&data, "data", "./tandem-data", "data directory")
	fl.StringVar(&algo, "algo", "bc", "algorithm: "+strings.Join(policies.Learners(), ", "))
	fl.StringVar(&from, "from", "", "warm-start from this version")
	fl.StringArrayVar(&params, "param", nil, "algorithm hyper-parameter KEY=VALUE (repeatable; see docs/algorithms.md)")
	fl.IntVar(&evalEpisodes, "eval-episodes", live.DefaultEvalEpisodes, "held-out evaluation episodes (0: no evaluation)")
	fl.Uint64Var(&seed, "seed", 0, "training seed")
	fl.BoolVar(&promote, "promote", false, "make the new version the task's current one")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	ff.add(cmd)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

// openTrainer opens the store in dataDir for writing with a registry of
// the built-ins and every stored version; the caller closes tr.Store.
func openTrainer(ctx context.Context, dataDir string) (*live.Trainer, error) {
	st, err := demos.Open(ctx, dataDir, demos.Options{})
	if err != nil {
		return nil, err
	}
	reg := policies.NewRegistry()
	if err := live.LoadVersions(ctx, st, reg); err != nil {
		st.Close()
		return nil, err
	}
	return &live.Trainer{Store: st, Policies: reg, Catalog: catalog{}}, nil
}

// storedRegistry is the built-in registry plus every version stored in
// dataDir (none when there is no store there), with "current" resolved
// for task: it returns the registry and the policy name to use.
func storedRegistry(ctx context.Context, dataDir, task, policy string) (*policies.Registry, string, error) {
	reg := policies.NewRegistry()
	st, err := openReadOnly(ctx, dataDir)
	if err != nil {
		if policy == live.Current {
			return reg, policies.Expert, nil // no store: nothing promoted yet
		}
		return reg, policy, nil
	}
	defer st.Close()
	if err := live.LoadVersions(ctx, st, reg); err != nil {
		return nil, "", err
	}
	if policy == live.Current {
		v, ok, err := st.Current(ctx, task)
		if err != nil {
			return nil, "", err
		}
		policy = policies.Expert
		if ok {
			policy = v.Version
		}
	}
	return reg, policy, nil
}
