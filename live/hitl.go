package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/teleop"
)

// HITLConfig describes a headless human-in-the-loop run: what a lab runs
// over days, with a simulated operator. Round 0 collects Episodes
// demonstrations from the operator (teleop mode); each of the Rounds later
// rounds deploys the newest version in shared autonomy for Episodes
// episodes with the operator intervening by its rule, records everything,
// retrains on every episode of the run (warm-started from the previous
// version) and registers, evaluates and promotes a version.
type HITLConfig struct {
	Task string
	Algo string
	// Operator is "sim" or "sim:KEY=VALUE,..." (ParseOperator).
	Operator string
	Rounds   int // shared rounds after the demonstrations, ≥ 1
	Episodes int // per round, ≥ 1
	// Demos is how many demonstrations round 0 collects (Episodes when 0).
	Demos int
	Seed  uint64
	// Params go to the learner; EvalEpisodes held-out episodes score each
	// version (DefaultEvalEpisodes).
	Params       map[string]string
	EvalEpisodes int
	Workers      int // rollout and evaluation goroutines (0: all cores)
	// Progress hears each round's training progress.
	Progress func(round, done, total int)
}

// Round is what one round of a HITL run did; the JSON names are the ones
// `tandem hitl --json` prints.
type Round struct {
	Round   int    `json:"round"`
	Version string `json:"version"` // trained at the end of the round
	// Deployed is the version that acted during the round ("" in round 0).
	Deployed string `json:"deployed,omitempty"`
	// SuccessRate is the round's episodes' success, interventions included
	// (round 0: the operator's demonstrations).
	SuccessRate float64 `json:"success_rate"`
	// EvalSuccessRate is the new version alone on held-out seeds, with its
	// 95% Wilson interval.
	EvalSuccessRate         float64    `json:"eval_success_rate"`
	EvalCI95                [2]float64 `json:"eval_success_ci95"`
	EvalEpisodes            int        `json:"eval_episodes"`
	InterventionsPerEpisode float64    `json:"interventions_per_episode"`
	// HumanStepShare is the share of the round's steps a human (the
	// simulated operator) produced: demonstrations and interventions.
	HumanStepShare float64 `json:"human_step_share"`
	Episodes       int     `json:"episodes"`
	TrainEpisodes  int     `json:"train_episodes"`
	WallS          float64 `json:"wall_s"`
	TrainS         float64 `json:"train_s"`
	EvalS          float64 `json:"eval_s"`
	// EnvSteps counts the round's environment steps: deployment and
	// evaluation.
	EnvSteps int `json:"env_steps"`
}

// HITL runs cfg against the trainer's store and registry, calling report
// after each round. It returns the rounds run (all of them unless ctx ended
// or a round failed).
func (tr *Trainer) HITL(ctx context.Context, cfg HITLConfig, report func(Round) error) ([]Round, error) {
	switch {
	case cfg.Rounds < 1 || cfg.Rounds > 10_000:
		return nil, fmt.Errorf("rounds must be in [1, 10000], got %d", cfg.Rounds)
	case cfg.Episodes < 1 || cfg.Episodes > 1_000_000:
		return nil, fmt.Errorf("episodes must be in [1, 1000000], got %d", cfg.Episodes)
	case cfg.Demos < 0 || cfg.Demos > 1_000_000:
		return nil, fmt.Errorf("demos must be in [0, 1000000], got %d", cfg.Demos)
	}
	if cfg.Demos == 0 {
		cfg.Demos = cfg.Episodes
	}
	ocfg, err := ParseOperator(cfg.Operator)
	if err != nil {
		return nil, err
	}
	if _, err := policies.NewLearner(cfg.Algo); err != nil {
		return nil, err
	}
	probe, err := tr.Catalog.New(cfg.Task)
	if err != nil {
		return nil, err
	}
	spec := probe.Spec()
	newTask := func() sim.Task {
		t, err := tr.Catalog.New(cfg.Task)
		if err != nil {
			panic(err) // built a moment ago
		}
		return t
	}
	var ids []int64
	var rounds []Round
	version, deployed := "", ""
	seed := cfg.Seed
	for r := 0; r <= cfg.Rounds; r++ {
		start := time.Now()
		n, mode := cfg.Episodes, sim.ModeShared
		if r == 0 {
			n, mode = cfg.Demos, sim.ModeTeleop
		}
		var actor func(sim.Task, uint64) (sim.Policy, error)
		if r > 0 {
			deployed = version
			name := version
			// Data is collected with the algorithm's exploring actor (RLIF and
			// RLPD sample their Gaussian); evaluation scores the mode.
			actor = func(task sim.Task, seed uint64) (sim.Policy, error) {
				return tr.Policies.New(name, task, policies.Options{Explore: true, Seed: seed})
			}
		}
		round := Round{Round: r, Deployed: deployed, Episodes: n}
		got, err := tr.collect(ctx, collectConfig{
			spec: spec, newTask: newTask, mode: mode, ocfg: ocfg, actor: actor, version: deployed,
			episodes: n, firstSeed: seed, round: r, workers: cfg.Workers,
			details: map[string]any{"command": "tandem hitl", "algo": cfg.Algo, "operator": cfg.Operator, "round": r},
		}, &round)
		seed += uint64(n)
		if err != nil {
			return rounds, err
		}
		ids = append(ids, got...)
		progress := func(done, total int) {
			if cfg.Progress != nil {
				cfg.Progress(r, done, total)
			}
		}
		res, err := tr.Train(ctx, TrainRequest{
			Algo: cfg.Algo, Task: cfg.Task, Filter: demos.Filter{IDs: ids}, Params: cfg.Params, Parent: version,
			EvalEpisodes: cfg.EvalEpisodes, Seed: cfg.Seed + uint64(r), Progress: progress, EvalWorkers: cfg.Workers,
			Note: fmt.Sprintf("tandem hitl round %d", r),
		})
		if err != nil {
			return rounds, fmt.Errorf("round %d: %w", r, err)
		}
		if err := tr.Store.Promote(ctx, res.Version, fmt.Sprintf("tandem hitl round %d", r)); err != nil {
			return rounds, err
		}
		version = res.Version
		round.Version, round.TrainEpisodes, round.TrainS, round.EvalS = res.Version, res.Episodes, res.TrainSecs, res.EvalSecs
		if res.Eval != nil {
			round.EvalSuccessRate, round.EvalCI95, round.EvalEpisodes = res.Eval.SuccessRate, res.Eval.CI95, res.Eval.Episodes
			round.EnvSteps += res.Eval.EnvSteps
		}
		round.WallS = time.Since(start).Seconds()
		rounds = append(rounds, round)
		if report != nil {
			if err := report(round); err != nil {
				return rounds, err
			}
		}
	}
	return rounds, nil
}

type collectConfig struct {
	spec      sim.Spec
	newTask   func() sim.Task
	mode      sim.Mode
	ocfg      teleop.OperatorConfig
	actor     func(sim.Task, uint64) (sim.Policy, error) // nil in teleop mode
	version   string
	episodes  int
	firstSeed uint64
	round     int
	workers   int
	details   map[string]any
}

// collect runs and records one round's episodes and fills round's
// deployment metrics; it returns the stored episode ids.
func (tr *Trainer) collect(ctx context.Context, c collectConfig, round *Round) ([]int64, error) {
	rec := demos.NewRecorder(tr.Store, demos.RecorderConfig{})
	w, err := rec.Rollout(ctx, demos.RolloutInfo{Spec: c.spec, Mode: c.mode, Tags: []string{RoundTagOf(c.round)}, Details: c.details})
	if err != nil {
		rec.Close()
		return nil, err
	}
	var succ, interv, steps, human int
	err = sim.Stream(ctx, sim.RolloutConfig{
		NewTask: c.newTask, Episodes: c.episodes, FirstSeed: c.firstSeed, Workers: c.workers, KeepSteps: true, Clock: sim.WallClock{},
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			ocfg := c.ocfg
			ocfg.Seed += seed
			op, err := teleop.NewSimOperator(task, ocfg)
			if err != nil {
				return nil, err
			}
			cfg := teleop.Config{Mode: c.mode}
			if c.actor != nil {
				p, err := c.actor(task, seed)
				if err != nil {
					return nil, err
				}
				cfg.Policy, cfg.PolicyVersion = p, c.version
			}
			a, err := teleop.NewArbiter(task, cfg)
			if err != nil {
				return nil, err
			}
			return a, a.AddSource(ocfg.ID, op)
		},
	}, func(ep *sim.Episode) error {
		if ep.Success {
			succ++
		}
		interv += ep.Interventions
		for i := range ep.Steps {
			steps++
			if s := ep.Steps[i].Source; s == sim.Human || s == sim.Demo {
				human++
			}
		}
		return w.Add(ctx, ep)
	})
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err = errors.Join(err, rec.Flush(fctx), rec.Close())
	if err != nil {
		return nil, err
	}
	n := float64(c.episodes)
	round.SuccessRate = float64(succ) / n
	round.InterventionsPerEpisode = float64(interv) / n
	if steps > 0 {
		round.HumanStepShare = float64(human) / float64(steps)
	}
	round.EnvSteps += steps
	return w.IDs(), nil
}
