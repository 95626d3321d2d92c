package policies

import (
	"context"
	"errors"
	"math"

	"tandem/sim"
)

// EvalSeedBase is where held-out evaluation seeds start: far from the
// seeds sessions, rollouts and hitl rounds draw (from 0 up, or random), so
// a policy is never scored on an episode it was trained on.
const EvalSeedBase = uint64(1) << 62

// EvalResult is a policy's score on held-out seeds, acting alone.
type EvalResult struct {
	Episodes    int     `json:"episodes"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"success_rate"`
	// CI95 is the Wilson score interval of the success rate at 95%.
	CI95       [2]float64 `json:"success_ci95"`
	MeanReturn float64    `json:"mean_return"`
	MeanLength float64    `json:"mean_length"`
	FirstSeed  uint64     `json:"first_seed"`
	EnvSteps   int        `json:"env_steps"`
}

// Wilson returns the Wilson score interval for k successes in n trials at
// the normal quantile z (1.96 for 95%): better behaved than p ± z·SE near 0
// and 1 and for small n (Wilson 1927; Brown, Cai & DasGupta 2001).
func Wilson(k, n int, z float64) [2]float64 {
	if n <= 0 {
		return [2]float64{0, 1}
	}
	p := float64(k) / float64(n)
	nn := float64(n)
	d := 1 + z*z/nn
	c := (p + z*z/(2*nn)) / d
	h := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / d
	return [2]float64{math.Max(0, c-h), math.Min(1, c+h)}
}

// EvalConfig describes an evaluation run.
type EvalConfig struct {
	NewTask func() sim.Task
	// NewPolicy builds the policy for one episode on the worker's task.
	NewPolicy func(task sim.Task, seed uint64) (sim.Policy, error)
	// Version labels the policy's steps.
	Version  string
	Episodes int
	// FirstSeed is the first held-out seed (default EvalSeedBase).
	FirstSeed uint64
	Workers   int // 0: all cores
}

// Evaluate runs cfg.Episodes episodes of the policy alone (auto mode) on
// consecutive held-out seeds across cores and scores them.
func Evaluate(ctx context.Context, cfg EvalConfig) (EvalResult, error) {
	if cfg.NewTask == nil || cfg.NewPolicy == nil || cfg.Episodes <= 0 {
		return EvalResult{}, errors.New("policies: an evaluation needs a task, a policy and episodes")
	}
	if cfg.FirstSeed == 0 {
		cfg.FirstSeed = EvalSeedBase
	}
	seeds := make([]uint64, cfg.Episodes)
	for i := range seeds {
		seeds[i] = cfg.FirstSeed + uint64(i)
	}
	eps, err := sim.Rollout(ctx, sim.RolloutConfig{
		NewTask: cfg.NewTask, Seeds: seeds, Workers: cfg.Workers,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			p, err := cfg.NewPolicy(task, seed)
			if err != nil {
				return nil, err
			}
			return sim.Auto(p, cfg.Version), nil
		},
	})
	if err != nil {
		return EvalResult{}, err
	}
	r := EvalResult{FirstSeed: cfg.FirstSeed}
	for i := range eps {
		r.Add(&eps[i])
	}
	r.Finish()
	return r, nil
}

// Add counts an evaluation episode into r; Finish after the last one.
func (r *EvalResult) Add(e *sim.Episode) {
	r.Episodes++
	if e.Success {
		r.Successes++
	}
	r.MeanReturn += e.Return
	r.EnvSteps += e.Length
}

// Finish turns what Add counted into the rate, the means and the 95%
// interval.
func (r *EvalResult) Finish() {
	r.CI95 = Wilson(r.Successes, r.Episodes, 1.96)
	if r.Episodes == 0 {
		return
	}
	n := float64(r.Episodes)
	r.SuccessRate = float64(r.Successes) / n
	r.MeanReturn /= n
	r.MeanLength = float64(r.EnvSteps) / n
}
