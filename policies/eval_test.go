package policies_test

import (
	"context"
	"math"
	"testing"

	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

func TestWilsonInterval(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{
		// Reference values from the closed form (Brown, Cai & DasGupta 2001, eq. 4).
		{50, 100, 0.4038, 0.5962},
		{0, 20, 0, 0.1611},
		{20, 20, 0.8389, 1},
		{9, 10, 0.5958, 0.9821},
	} {
		ci := policies.Wilson(tc.k, tc.n, 1.96)
		if math.Abs(ci[0]-tc.lo) > 1e-3 || math.Abs(ci[1]-tc.hi) > 1e-3 {
			t.Errorf("Wilson(%d, %d) = %.4f; want [%.4f, %.4f]", tc.k, tc.n, ci, tc.lo, tc.hi)
		}
	}
}

func TestEvaluateScoresTheExpertOnHeldOutSeeds(t *testing.T) {
	maker, err := tasks.Lookup("reach")
	if err != nil {
		t.Fatal(err)
	}
	reg := policies.NewRegistry()
	res, err := policies.Evaluate(context.Background(), policies.EvalConfig{
		NewTask: maker, Episodes: 20, Version: "expert",
		NewPolicy: func(task sim.Task, seed uint64) (sim.Policy, error) {
			return reg.New("expert", task, policies.Options{Seed: seed})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Episodes != 20 || res.SuccessRate < 0.95 || res.FirstSeed != policies.EvalSeedBase || res.EnvSteps == 0 {
		t.Fatalf("result %+v; want 20 held-out episodes, the expert succeeding", res)
	}
	if !(res.CI95[0] <= res.SuccessRate && res.SuccessRate <= res.CI95[1]) {
		t.Errorf("interval %v does not contain the rate %v", res.CI95, res.SuccessRate)
	}
	rnd, err := policies.Evaluate(context.Background(), policies.EvalConfig{
		NewTask: maker, Episodes: 20,
		NewPolicy: func(task sim.Task, seed uint64) (sim.Policy, error) {
			return reg.New("random", task, policies.Options{Seed: seed})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rnd.SuccessRate >= res.SuccessRate {
		t.Errorf("random %v not below the expert %v: the evaluation cannot tell policies apart", rnd.SuccessRate, res.SuccessRate)
	}
}
