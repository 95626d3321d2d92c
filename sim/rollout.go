package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
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
	// Rejected counts steps whose controller action Env refused (not
	// finite, wrong size): the task's hold action ran instead and the
	// step's Decision has Help set, as in a live Session.
	Rejected int `json:"rejected_actions"`
	// Start and End are RolloutConfig.Clock's readings when the episode was
	// reset and when its last step ran (zero without a Clock).
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
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
	// Episodes and FirstSeed describe the episodes when Seeds is nil:
	// episode i runs from FirstSeed+i. Nothing is allocated per episode up
	// front, so Stream runs any number of episodes in bounded memory.
	Episodes  int
	FirstSeed uint64
	// Workers is the number of goroutines (0 = GOMAXPROCS).
	Workers int
	// Ahead bounds how many episodes may be running or finished but not yet
	// delivered (default 4 per worker): Stream holds at most that many
	// episodes in memory, however many it runs.
	Ahead int
	// Env configures each worker's Env.
	Env EnvConfig
	// KeepSteps keeps every step in Episode.Steps.
	KeepSteps bool
	// Clock, if set, stamps each step's Record.Wall and the episode's Start
	// and End with the time they ran. The kernel never reads the wall clock
	// itself; pass WallClock{} for real time.
	Clock Clock
}

func (cfg *RolloutConfig) count() int {
	if cfg.Seeds != nil {
		return len(cfg.Seeds)
	}
	return max(cfg.Episodes, 0)
}

func (cfg *RolloutConfig) seed(i int) uint64 {
	if cfg.Seeds != nil {
		return cfg.Seeds[i]
	}
	return cfg.FirstSeed + uint64(i)
}

// Rollout runs the episodes of cfg across worker goroutines, each with its
// own task and Env, and returns them in episode order. The results depend
// only on the seeds and the controllers, not on scheduling: episode i always
// runs from its seed on a freshly reset task. When ctx ends, the episodes
// that finished are returned (in order, without the ones cut short) with
// ctx's error.
func Rollout(ctx context.Context, cfg RolloutConfig) ([]Episode, error) {
	out := make([]Episode, 0, min(cfg.count(), 1<<16))
	keep := cfg.KeepSteps
	err := Stream(ctx, cfg, func(ep *Episode) error {
		e := *ep
		if keep { // Stream reuses the step slices it delivers
			e.Steps = slices.Clone(ep.Steps)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

type rolloutResult struct {
	i   int
	ep  *Episode
	err error
}

// Stream runs the episodes of cfg like Rollout and hands each finished
// episode to fn, in episode order, from the calling goroutine, as soon as it
// and every episode before it have finished. Workers run at most cfg.Ahead
// episodes ahead of the oldest one not yet delivered, so memory stays
// bounded whatever the number of episodes (with Seeds nil). fn must not keep
// ep or ep.Steps after it returns: their storage is reused.
//
// An error from fn stops the workers and is returned at once. When ctx
// ends, the workers stop (the episodes they were running are dropped), the
// episodes that had finished are still delivered in order, and Stream
// returns ctx's error. A worker's error (a controller that cannot be built)
// stops the run the same way and is returned.
func Stream(ctx context.Context, cfg RolloutConfig, fn func(ep *Episode) error) error {
	n := cfg.count()
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(min(workers, n), 1)
	ahead := cfg.Ahead
	if ahead <= 0 {
		ahead = 4 * workers
	}
	run, stop := context.WithCancel(ctx)
	defer stop()

	jobs := make(chan int)
	tokens := make(chan struct{}, ahead) // one per episode handed out and not yet delivered
	free := make(chan []Record, ahead)   // step slices returned after delivery
	results := make(chan rolloutResult, workers)
	go func() { // feeder
		defer close(jobs)
		for i := range n {
			select {
			case tokens <- struct{}{}:
			case <-run.Done():
				return
			}
			select {
			case jobs <- i:
			case <-run.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env, err := NewEnv(cfg.NewTask(), cfg.Env)
			if err != nil {
				results <- rolloutResult{i: -1, err: err}
				return
			}
			for i := range jobs {
				ep := &Episode{}
				if cfg.KeepSteps {
					select {
					case s := <-free:
						ep.Steps = s[:0]
					default:
						ep.Steps = make([]Record, 0, env.Horizon())
					}
				}
				err := runEpisode(run, env, &cfg, i, ep)
				results <- rolloutResult{i: i, ep: ep, err: err}
				if err != nil {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := map[int]*Episode{}
	next := 0
	var runErr, fnErr error
	deliver := func(ep *Episode) {
		if fnErr != nil {
			return
		}
		if fnErr = fn(ep); fnErr != nil {
			stop()
			return
		}
		if ep.Steps != nil {
			select {
			case free <- ep.Steps:
			default:
			}
		}
	}
	for r := range results {
		if r.err != nil {
			if runErr == nil && run.Err() == nil {
				runErr = r.err
			}
			stop()
			continue
		}
		pending[r.i] = r.ep
		for {
			ep, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			deliver(ep)
			next++
			<-tokens
		}
	}
	// Episodes that finished after one that was cut short: still delivered,
	// in order.
	rest := make([]int, 0, len(pending))
	for i := range pending {
		rest = append(rest, i)
	}
	slices.Sort(rest)
	for _, i := range rest {
		deliver(pending[i])
	}
	switch {
	case fnErr != nil:
		return fnErr
	case runErr != nil:
		return runErr
	}
	return ctx.Err()
}

func runEpisode(ctx context.Context, env *Env, cfg *RolloutConfig, i int, ep *Episode) error {
	seed := cfg.seed(i)
	ctl, err := cfg.Controller(env.Task(), i, seed)
	if err != nil {
		return fmt.Errorf("episode %d: %w", i, err)
	}
	ep.Index, ep.Seed = i, seed
	obs := env.Reset(seed)
	if r, ok := ctl.(Resetter); ok {
		r.Reset(seed)
	}
	if cfg.Clock != nil {
		ep.Start = cfg.Clock.Now()
	}
	act := make([]float64, env.Spec().ActionSize())
	hz := env.ControlHz()
	first := true
	for !env.Done() {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := ctl.Decide(obs.Slice(), act)
		s, err := env.Step(act)
		var ae *ActionError
		if errors.As(err, &ae) {
			// A bad controller action (NaN, wrong size): hold still for
			// this step, raise Help and count it, as a live Session does.
			HoldAction(env.Task(), act)
			d.Help = true
			ep.Rejected++
			if !finiteAll(d.PolicyAction.Slice()) {
				// No usable proposal (as the teleop arbiter treats a
				// non-finite policy output): NaN has no place in a stored
				// or exported step.
				d.PolicyAction = Vec{}
			}
			s, err = env.Step(act)
		}
		if err != nil {
			return fmt.Errorf("episode %d step %d: %w", i, env.T(), err)
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
		var wall time.Time
		if cfg.Clock != nil {
			wall = cfg.Clock.Now()
			ep.End = wall
		}
		if cfg.KeepSteps {
			r := Record{
				Kind: StepRecord, Episode: i + 1, Step: s, Decision: d, Wall: wall, ControlHz: hz,
				Return: ep.Return, Interventions: ep.Interventions,
			}
			copyDecision(&r.Decision) // the controller reuses its slices
			ep.Steps = append(ep.Steps, r)
		}
	}
	return nil
}

func finiteAll(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
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
	// Rejected is the number of controller actions refused and replaced by
	// a hold, over all episodes.
	Rejected int `json:"rejected_actions"`
}

// Tally accumulates a Summary one episode at a time, for streams. The zero
// value is ready to use.
type Tally struct {
	n                                    int
	success, ret, maxReward, length, ivs float64
	rejected                             int
}

// Add counts ep.
func (t *Tally) Add(ep *Episode) {
	t.n++
	if ep.Success {
		t.success++
	}
	t.ret += ep.Return
	t.maxReward += ep.MaxReward
	t.length += float64(ep.Length)
	t.ivs += float64(ep.Interventions)
	t.rejected += ep.Rejected
}

// Summary returns the summary of the episodes added so far.
func (t *Tally) Summary(task string) Summary {
	s := Summary{Task: task, Episodes: t.n, Rejected: t.rejected}
	if t.n == 0 {
		return s
	}
	n := float64(t.n)
	s.SuccessRate = t.success / n
	s.MeanReturn = t.ret / n
	s.MeanMaxReward = t.maxReward / n
	s.MeanLength = t.length / n
	s.Interventions = t.ivs / n
	return s
}

// Summarize aggregates eps for task.
func Summarize(task string, eps []Episode) Summary {
	var t Tally
	for i := range eps {
		t.Add(&eps[i])
	}
	return t.Summary(task)
}
