package surgical

import (
	"context"
	"fmt"
	"testing"

	"tandem/sim"
)

// taskMakers lists every task under test by name.
func taskMakers() map[string]func() sim.Task {
	out := map[string]func() sim.Task{}
	for _, m := range Makers() {
		out[m().Spec().Name] = m
	}
	return out
}

// runExpert runs one episode of task's expert at skill from seed and
// reports whether it succeeded at any step, and the steps taken.
func runExpert(t testing.TB, task sim.Task, skill float64, seed uint64) (bool, int) {
	t.Helper()
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p := task.Expert(skill, seed+1000)
	if r, ok := p.(sim.Resetter); ok {
		r.Reset(seed)
	}
	obs := env.Reset(seed)
	act := make([]float64, env.Spec().ActionSize())
	for !env.Done() {
		p.Act(obs.Slice(), act)
		s, err := env.Step(act)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
		if s.Success {
			return true, env.T()
		}
		if s.Terminal {
			return false, env.T()
		}
	}
	return false, env.T()
}

// TestExpertSweep measures an expert's success curve over skill (the
// numbers in docs/tasks/surgical.md): go test -run TestExpertSweep -args
// -sweep=peg-transfer -sweepn=100 (or -sweep=all).
func TestExpertSweep(t *testing.T) {
	if *sweepTask == "" {
		t.Skip("set -sweep=task or -sweep=all")
	}
	names := []string{*sweepTask}
	if *sweepTask == "all" {
		names = wantNames
	}
	seeds := make([]uint64, *sweepN)
	for i := range seeds {
		seeds[i] = uint64(1000 + i)
	}
	for _, name := range names {
		mk := taskMakers()[name]
		line := name
		for _, skill := range []float64{1, 0.9, 0.8, 0.6, 0.4} {
			eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
				NewTask: mk,
				Controller: func(task sim.Task, ep int, seed uint64) (sim.Controller, error) {
					return sim.Auto(task.Expert(skill, seed^0xabc), "expert"), nil
				},
				Seeds:   seeds,
				Workers: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			sum := sim.Summarize(name, eps)
			line += fmt.Sprintf(" | %.0f%% (%.1f)", 100*sum.SuccessRate, sum.MeanLength)
			if skill == 1 && sum.SuccessRate < 0.95 {
				t.Errorf("%s expert at skill 1 succeeds %.0f%%; want ≥ 95%%", name, 100*sum.SuccessRate)
			}
		}
		t.Log(line)
	}
}
