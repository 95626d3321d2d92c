package sim

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Episode is the summary of one headless episode.
type Episode struct {
	Index     int     `json:"episode"`
	Seed      uint64  `json:"seed"`
	Return    float64 `json:"return"`
	Length    int     `json:"length"`
	Success   bool    `json:"success"` // success at any step of the episode
	MaxReward float64 `json:"max_reward"`
	// Interventions counts Decisions with InterventionStart.
	Interventions int `json:"interventions"`
	// Steps holds every step when RolloutConfig.KeepSteps is set.
	Steps []Record `json:"-"`
}

// RolloutConfig describes a batch of headless episodes.
type RolloutConfig struct {
	// NewTask makes one task instance per worker.
	NewTask func() Task
	// Controller makes the controller for one episode on the worker's task
	// (for example Auto(task.Expert(skill, seed), "expert")). It is called
	// in the worker goroutine.
	Controller func(task Task, episode int, seed uint64) (Controller, error)
	// Seeds lists one seed per episode; results come back in this order.
	Seeds []uint64
	// Workers is the number of goroutines (0 = GOMAXPROCS).
	Workers int
	// Env configures each worker's Env.
	Env EnvConfig
	// KeepSteps keeps every step in Episode.Steps.
	KeepSteps bool
}

// Rollout runs the episodes of cfg across worker goroutines, each with its
// own task and Env. The results depend only on the seeds and the
// controllers, not on scheduling: episode i always runs from Seeds[i] on a
// freshly reset task.
func Rollout(ctx context.Context, cfg RolloutConfig) ([]Episode, error) {
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(cfg.Seeds), 1))
	out := make([]Episode, len(cfg.Seeds))
	next := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env, err := NewEnv(cfg.NewTask(), cfg.Env)
			if err != nil {
				errs[w] = err
				for range next { // drain so the feeder finishes
				}
				return
			}
			for i := range next {
				if errs[w] != nil {
					continue
				}
				out[i], errs[w] = runEpisode(ctx, env, cfg, i)
			}
		}()
	}
feed:
	for i := range cfg.Seeds {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, ctx.Err()
}

func runEpisode(ctx context.Context, env *Env, cfg RolloutConfig, i int) (Episode, error) {
	seed := cfg.Seeds[i]
	ctl, err := cfg.Controller(env.Task(), i, seed)
	if err != nil {
		return Episode{}, fmt.Errorf("episode %d: %w", i, err)
	}
	ep := Episode{Index: i, Seed: seed}
	obs := env.Reset(seed)
	if r, ok := ctl.(Resetter); ok {
		r.Reset(seed)
	}
	act := make([]float64, env.Spec().ActionSize())
	first := true
	for !env.Done() {
		if ctx.Err() != nil {
			return ep, ctx.Err()
		}
		d := ctl.Decide(obs.Slice(), act)
		s, err := env.Step(act)
		if err != nil {
			return ep, fmt.Errorf("episode %d step %d: %w", i, env.T(), err)
		}
		obs = s.Next
		ep.Return += s.Reward
		ep.Length++
		ep.Success = ep.Success || s.Success
		if first || s.Reward > ep.MaxReward {
			ep.MaxReward = s.Reward
		}
		first = false
		if d.InterventionStart {
			ep.Interventions++
		}
		if cfg.KeepSteps {
			r := Record{Kind: StepRecord, Step: s, Decision: d}
			copyDecision(&r.Decision) // the controller reuses its slices
			ep.Steps = append(ep.Steps, r)
		}
	}
	return ep, nil
}

// Summary aggregates episodes.
type Summary struct {
	Task          string  `json:"task"`
	Episodes      int     `json:"episodes"`
	SuccessRate   float64 `json:"success_rate"`
	MeanReturn    float64 `json:"mean_return"`
	MeanMaxReward float64 `json:"mean_max_reward"`
	MeanLength    float64 `json:"mean_length"`
	Interventions float64 `json:"mean_interventions"`
}

// Summarize aggregates eps for task.
func Summarize(task string, eps []Episode) Summary {
	s := Summary{Task: task, Episodes: len(eps)}
	if len(eps) == 0 {
		return s
	}
	for _, e := range eps {
		if e.Success {
			s.SuccessRate++
		}
		s.MeanReturn += e.Return
		s.MeanMaxReward += e.MaxReward
		s.MeanLength += float64(e.Length)
		s.Interventions += float64(e.Interventions)
	}
	n := float64(len(eps))
	s.SuccessRate /= n
	s.MeanReturn /= n
	s.MeanMaxReward /= n
	s.MeanLength /= n
	s.Interventions /= n
	return s
}
