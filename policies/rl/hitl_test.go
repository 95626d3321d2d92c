package rl_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/policies/rl"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
)

// hitlConfig is an emulated `tandem hitl` run, read from the environment
// (TANDEM_RL_E2E=1 turns the test on; the other variables change the
// defaults named here).
type hitlConfig struct {
	task     string  // TANDEM_RL_TASK, peg-insert
	operator string  // TANDEM_RL_OPERATOR, skill=0.6,rule=value
	algo     string  // TANDEM_RL_ALGO, rlif
	rounds   int     // TANDEM_RL_ROUNDS, 20
	episodes int     // TANDEM_RL_EPISODES, 10 per round
	demos    int     // TANDEM_RL_DEMOS, 10 demonstrations by the operator before round 1 (0: none)
	explore  bool    // TANDEM_RL_EXPLORE, 1: collect with the tanh-Gaussian's samples; 0: with its mode
	evalEps  int     // TANDEM_RL_EVAL, 50 held-out episodes per evaluation
	params   string  // TANDEM_RL_PARAMS, KEY=VALUE,… for the learner
	seed     uint64  // TANDEM_RL_SEED, 1
	stopAt   float64 // TANDEM_RL_STOP, stop once the evaluation reaches it (0: never)
	// fresh (TANDEM_RL_FRESH=1) makes a new learner every round, without
	// its resume state: the actor is warm-started, the critics are new.
	fresh bool
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func hitlFromEnv(t *testing.T) hitlConfig {
	atoi := func(k, d string) int {
		n, err := strconv.Atoi(env(k, d))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return n
	}
	stop, _ := strconv.ParseFloat(env("TANDEM_RL_STOP", "0"), 64)
	return hitlConfig{
		task: env("TANDEM_RL_TASK", "peg-insert"), operator: env("TANDEM_RL_OPERATOR", "skill=0.6,rule=value"),
		algo: env("TANDEM_RL_ALGO", rl.RLIF), rounds: atoi("TANDEM_RL_ROUNDS", "20"), episodes: atoi("TANDEM_RL_EPISODES", "10"),
		demos: atoi("TANDEM_RL_DEMOS", "10"), explore: env("TANDEM_RL_EXPLORE", "1") == "1", evalEps: atoi("TANDEM_RL_EVAL", "50"),
		params: env("TANDEM_RL_PARAMS", ""), seed: uint64(atoi("TANDEM_RL_SEED", "1")), stopAt: stop,
		fresh: env("TANDEM_RL_FRESH", "0") == "1",
	}
}

// toEpisode converts a rollout episode kept with its steps into what a
// learner reads from the store.
func toEpisode(id int64, round int, ep *sim.Episode) policies.Episode {
	e := policies.Episode{ID: id, Round: round, Success: ep.Success}
	for i := range ep.Steps {
		r := &ep.Steps[i]
		e.Obs = append(e.Obs, append([]float64(nil), r.Obs.Slice()...))
		e.Action = append(e.Action, append([]float64(nil), r.Action.Slice()...))
		e.Source = append(e.Source, r.Source)
		e.InterventionStart = append(e.InterventionStart, r.InterventionStart)
		e.Reward = append(e.Reward, r.Reward)
		e.SuccessAt = append(e.SuccessAt, r.Success)
		e.Mode = r.Mode
	}
	last := &ep.Steps[len(ep.Steps)-1]
	e.Next = append([]float64(nil), last.Next.Slice()...)
	e.Terminal, e.Truncated = last.Terminal, last.Truncated
	return e
}

// TestHITLPegInsert emulates `tandem hitl --task peg-insert --algo rlif
// --operator sim:skill=0.6,rule=value --rounds 20 --episodes 10`: each
// round the current policy runs in shared mode with a simulated operator
// who intervenes by RLIF's value rule, the learner trains on every episode
// so far, and the policy alone is evaluated on held-out seeds. It takes
// minutes, so it runs only with TANDEM_RL_E2E=1; docs/algorithms.md has its
// results.
func TestHITLPegInsert(t *testing.T) {
	if os.Getenv("TANDEM_RL_E2E") != "1" {
		t.Skip("set TANDEM_RL_E2E=1 to run the emulated hitl experiment (minutes)")
	}
	hc := hitlFromEnv(t)
	ctx := context.Background()
	newTask := func() sim.Task {
		task, err := tasks.New(hc.task)
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	spec := newTask().Spec()
	opCfg, err := teleop.ParseOperator(hc.operator)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	if hc.params != "" {
		for _, kv := range strings.Split(hc.params, ",") {
			k, v, _ := strings.Cut(kv, "=")
			params[k] = v
		}
	}
	learner, err := policies.NewLearner(hc.algo)
	if err != nil {
		t.Fatal(err)
	}
	var (
		eps                  []policies.Episode
		model                *nn.Model
		card                 *nn.Card
		nextID               int64
		start                = time.Now()
		envSteps, trainSteps int
		trainTime            time.Duration
	)
	collect := func(round int, controller func(task sim.Task, seed uint64) (sim.Controller, error)) (success, interventions int) {
		out, err := sim.Rollout(ctx, sim.RolloutConfig{NewTask: newTask, Episodes: hc.episodes, FirstSeed: uint64(round) * 1000, KeepSteps: true,
			Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) { return controller(task, seed) }})
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			nextID++
			eps = append(eps, toEpisode(nextID, round, &out[i]))
			envSteps += out[i].Length
			trainSteps += out[i].Length
			interventions += out[i].Interventions
			if out[i].Success {
				success++
			}
		}
		return success, interventions
	}
	if hc.demos > 0 {
		saved := hc.episodes
		hc.episodes = hc.demos
		ok, _ := collect(0, func(task sim.Task, seed uint64) (sim.Controller, error) {
			op := opCfg
			op.Seed = hc.seed ^ seed
			return sim.Demonstrate(task.Expert(op.Skill, op.Seed), "sim"), nil
		})
		hc.episodes = saved
		t.Logf("round 0: %d demonstrations by the operator, %d succeeded", hc.demos, ok)
	}
	t.Logf("%-5s %-8s %-6s %-6s %-8s %-7s %-8s %-6s %s", "round", "success", "intv", "eps", "updates", "train_s", "eval", "wall_s", "stats")
	for round := 1; round <= hc.rounds; round++ {
		version := fmt.Sprintf("%s/%d", hc.algo, round-1)
		ok, ivs := collect(round, func(task sim.Task, seed uint64) (sim.Controller, error) {
			var p sim.Policy = sim.PolicyFunc(func(_, dst []float64) { clear(dst) }) // before any training: hold still
			if model != nil {
				if hc.explore {
					e, err := rl.NewExplorer(model, hc.seed^seed)
					if err != nil {
						return nil, err
					}
					p = e
				} else {
					p = model.NewPolicy()
				}
			}
			op := opCfg
			op.Seed = hc.seed ^ seed
			a, _, err := teleop.NewShared(task, p, version, op)
			return a, err
		})
		t0 := time.Now()
		if hc.fresh {
			if learner, err = policies.NewLearner(hc.algo); err != nil {
				t.Fatal(err)
			}
		}
		out, err := learner.Train(ctx, policies.TrainInput{Spec: spec, NewTask: newTask, Episodes: eps, Parent: model, ParentCard: card, Params: params, Seed: hc.seed + uint64(round)})
		if err != nil {
			t.Fatal(err)
		}
		trainTime += time.Since(t0)
		model, card = out.Model, &out.Card
		m := model
		ev, err := policies.Evaluate(ctx, policies.EvalConfig{NewTask: newTask, Episodes: hc.evalEps,
			NewPolicy: func(sim.Task, uint64) (sim.Policy, error) { return m.NewPolicy(), nil }})
		if err != nil {
			t.Fatal(err)
		}
		envSteps += ev.EnvSteps
		t.Logf("%-5d %-8s %-6d %-6d %-8v %-7.1f %-8.2f %-6.0f q=%.3f T=%.4f H=%.2f closs=%.4f neg=%v resumed=%v",
			round, fmt.Sprintf("%d/%d", ok, hc.episodes), ivs, len(eps), out.Stats["updates"], time.Since(t0).Seconds(), ev.SuccessRate,
			time.Since(start).Seconds(), out.Stats["q"], out.Stats["temperature"], out.Stats["entropy"], out.Stats["critic_loss"], out.Stats["negative_rewards"], out.Stats["resumed"])
		if hc.stopAt > 0 && ev.SuccessRate >= hc.stopAt {
			break
		}
	}
	el := time.Since(start).Seconds()
	t.Logf("wall %.0f s (training %.0f s); %d environment steps (%d trained on), %.0f env steps per wall-second; kernel %s",
		el, trainTime.Seconds(), envSteps, trainSteps, float64(envSteps)/el, nn.KernelName())
}
