package policies_test

import (
	"context"
	"fmt"
	"testing"

	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
)

// episodeOf converts a kept rollout episode into what learners see.
func episodeOf(e *sim.Episode, round int) policies.Episode {
	n := len(e.Steps)
	pe := policies.Episode{UID: fmt.Sprintf("seed-%d", e.Seed), Round: round, Success: e.Success,
		Obs: make([][]float64, n), Action: make([][]float64, n), PolicyAction: make([][]float64, n),
		Source: make([]sim.Source, n), InterventionStart: make([]bool, n), Reward: make([]float64, n), SuccessAt: make([]bool, n)}
	for t := range e.Steps {
		r := &e.Steps[t]
		pe.Obs[t] = r.Obs.Append(nil)
		pe.Action[t] = r.Action.Append(nil)
		if r.PolicyAction.Len() > 0 {
			pe.PolicyAction[t] = r.PolicyAction.Append(nil)
		}
		pe.Source[t], pe.InterventionStart[t], pe.Reward[t], pe.SuccessAt[t] = r.Source, r.InterventionStart, r.Reward, r.Success
		if t == n-1 {
			pe.Next = r.Next.Append(nil)
			pe.Terminal, pe.Truncated = r.Terminal, r.Truncated
		}
	}
	return pe
}

func reachMaker(t testing.TB) func() sim.Task {
	t.Helper()
	m, err := tasks.Lookup("reach")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expertDemos records n episodes of the scripted expert at skill on seeds
// first, first+1, …
func expertDemos(t testing.TB, maker func() sim.Task, n int, first uint64, skill float64) []policies.Episode {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: maker, FirstSeed: first, Episodes: n, KeepSteps: true,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Demonstrate(task.Expert(skill, seed), "expert"), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]policies.Episode, len(eps))
	for i := range eps {
		out[i] = episodeOf(&eps[i], 0)
	}
	return out
}

// shared records n shared-autonomy episodes: policy newPolicy acts and a
// simulated operator (teleop.DefaultOperatorConfig(rule), the expert at
// skill 1) intervenes by its rule.
func shared(t testing.TB, maker func() sim.Task, n int, first uint64, round int, newPolicy func(task sim.Task) (sim.Policy, error), ocfg teleop.OperatorConfig) []policies.Episode {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: maker, FirstSeed: first, Episodes: n, KeepSteps: true,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			p, err := newPolicy(task)
			if err != nil {
				return nil, err
			}
			cfg := ocfg
			cfg.Seed += seed
			a, _, err := teleop.NewShared(task, p, "learned", cfg)
			return a, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]policies.Episode, len(eps))
	for i := range eps {
		out[i] = episodeOf(&eps[i], round)
	}
	return out
}

func train(t testing.TB, algo string, in policies.TrainInput) policies.TrainOutput {
	t.Helper()
	l, err := policies.NewLearner(algo)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Train(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func evaluate(t testing.TB, maker func() sim.Task, out policies.TrainOutput, n int) policies.EvalResult {
	t.Helper()
	res, err := policies.Evaluate(context.Background(), policies.EvalConfig{
		NewTask: maker, Episodes: n, Version: "learned",
		NewPolicy: func(task sim.Task, _ uint64) (sim.Policy, error) { return policies.NewActor(out.Model, &out.Card) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
