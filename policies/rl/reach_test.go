package rl

import (
	"context"
	"math"
	"testing"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

// reach1D is a trivial continuous task: a point on [-1, 1] moves by 0.2·a
// per step (a ∈ [-1, 1]); reaching |x| < 0.1 is success (reward 1, the
// episode ends), as peg-insert's sparse reward. The best policy moves at
// full speed towards 0: at most 5 steps from anywhere.
var reach1DSpec = sim.Spec{Name: "reach-1d", ObsNames: []string{"x"}, ActionNames: []string{"v"},
	ActionLow: []float64{-1}, ActionHigh: []float64{1}, Horizon: 20}

func reach1DStep(x, a float64) (float64, bool) {
	x = min(max(x+0.2*min(max(a, -1), 1), -1), 1)
	return x, math.Abs(x) < 0.1
}

// reach1DEpisode runs act from x0 and records the episode with every step
// attributed to src.
func reach1DEpisode(id int64, x0 float64, src sim.Source, act func(x float64) float64) policies.Episode {
	e := policies.Episode{ID: id, Mode: sim.ModeAuto}
	x := x0
	for t := range reach1DSpec.Horizon {
		a := act(x)
		nx, done := reach1DStep(x, a)
		e.Obs = append(e.Obs, []float64{x})
		e.Action = append(e.Action, []float64{min(max(a, -1), 1)})
		e.Source = append(e.Source, src)
		r := 0.0
		if done {
			r = 1
		}
		e.Reward = append(e.Reward, r)
		x = nx
		if done {
			e.Terminal, e.Success = true, true
			break
		}
		if t == reach1DSpec.Horizon-1 {
			e.Truncated = true
		}
	}
	e.Next = []float64{x}
	return e
}

// stepsToGoal runs policy p from x0 and returns the steps it took (the
// horizon + 1 when it never arrived).
func stepsToGoal(p sim.Policy, x0 float64) int {
	obs, act := []float64{x0}, []float64{0}
	if r, ok := p.(sim.Resetter); ok {
		r.Reset(0)
	}
	for t := range reach1DSpec.Horizon {
		p.Act(obs, act)
		var done bool
		obs[0], done = reach1DStep(obs[0], act[0])
		if done {
			return t + 1
		}
	}
	return reach1DSpec.Horizon + 1
}

// The learner solves 1-D reach from random-action episodes within a
// bounded number of updates: from every start the policy alone arrives in
// the fewest steps possible, or one more.
func TestLearnerSolvesReach1D(t *testing.T) {
	r := nn.NewRand(3)
	var eps []policies.Episode
	for i := range 150 {
		eps = append(eps, reach1DEpisode(int64(i+1), 2*r.Float64()-1, sim.Robot, func(float64) float64 { return 2*r.Float64() - 1 }))
	}
	l := NewLearner(RLPD)
	out, err := l.Train(context.Background(), policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Seed: 1,
		Params: map[string]string{"width": "64", "batch": "128", "min_updates": "3000", "utd": "1", "actor_every": "1", "gamma": "0.9", "init_temp": "0.01"}})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Model.NewPolicy()
	for _, x0 := range []float64{-0.95, -0.7, -0.45, 0.35, 0.6, 0.99} {
		best := int(math.Ceil((math.Abs(x0) - 0.1) / 0.2))
		if n := stepsToGoal(p, x0); n > best+1 {
			t.Errorf("from %g: %d steps; best %d (stats %v)", x0, n, best, out.Stats)
		}
	}
}
