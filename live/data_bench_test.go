package live

import (
	"context"
	"testing"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// BenchmarkEpisodes reads a task's training data from a store of 500
// recorded reach expert episodes: what every training (the online
// trainer, tandem learn, each hitl round) starts with.
func BenchmarkEpisodes(b *testing.B) {
	ctx := context.Background()
	st, err := demos.Open(ctx, b.TempDir(), demos.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	probe, _ := tasks.New("reach")
	eps, err := sim.Rollout(ctx, sim.RolloutConfig{
		NewTask: func() sim.Task { tk, _ := tasks.New("reach"); return tk },
		Controller: func(tk sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(tk.Expert(1, seed), policies.Expert), nil
		},
		Episodes: 500, FirstSeed: 1, Workers: 2, KeepSteps: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, ep := range eps {
		if _, err := st.AddEpisode(ctx, demos.Info{Spec: probe.Spec(), Seed: ep.Seed, Mode: sim.ModeAuto}, ep.Steps); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := Episodes(ctx, st, demos.Filter{Task: "reach"})
		if err != nil || len(got) != 500 {
			b.Fatalf("got %d episodes, %v; want 500", len(got), err)
		}
	}
}
