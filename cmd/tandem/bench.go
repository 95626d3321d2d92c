package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ByteArena/box2d"
	"github.com/spf13/cobra"

	"tandem/sim"
	"tandem/tasks"
)

func init() { commands = append(commands, newBenchCmd) }

// benchResult is one task's figures; field names are the --json schema.
type benchResult struct {
	Task             string  `json:"task"`
	Substeps         int     `json:"substeps"`
	Continuous       bool    `json:"continuous_collision"`
	PhysicsUsPerStep float64 `json:"physics_us_per_step"` // per physics substep: the task's controllers and the Box2D step
	Box2DUsPerStep   float64 `json:"box2d_us_per_step"`   // per physics substep: the Box2D step alone (b2step)
	EnvStepUs        float64 `json:"env_step_us"`
	StepsPerS1       float64 `json:"env_steps_per_s_1core"`
	StepsPerSAll     float64 `json:"env_steps_per_s_all"`
	Cores            int     `json:"cores"`
	AllocsPerStep    float64 `json:"allocs_per_step"`             // allocations in tandem's code
	LibAllocsPerStep float64 `json:"physics_lib_allocs_per_step"` // allocations inside the Box2D library
}

func newBenchCmd() *cobra.Command {
	var (
		task    string
		seconds float64
		asJSON  bool
		learn   bool
		dump    string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure physics and environment speed per task",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !(seconds > 0 && seconds <= maxBenchSeconds) {
				return usagef("--seconds must be in (0, %d], got %g", maxBenchSeconds, seconds)
			}
			if learn {
				return runBenchLearn(cmd, seconds, asJSON) // benchlearn.go
			}
			names := tasks.Names()
			if task != "" {
				if _, err := tasks.Lookup(task); err != nil {
					return usageError{err}
				}
				names = []string{task}
			}
			if dump != "" {
				if task == "" {
					return usagef("--dump-world needs --task")
				}
				return writeWorldDump(dump, task)
			}
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			const row = "%-16s %8v %5v %14v %12v %12v %14v %14v %11v %15v\n"
			if !asJSON {
				fmt.Fprintf(out, row, "task", "substeps", "ccd", "physics µs/sub", "box2d µs/sub", "env µs/step", "steps/s 1 core", "steps/s all", "allocs/step", "lib allocs/step")
			}
			bar := newProgress(cmd, "bench", "tasks", len(names), asJSON)
			defer bar.Done()
			for i, name := range names {
				bar.Set(i)
				r, err := benchTask(cmd.Context(), name, time.Duration(seconds*float64(time.Second)))
				if err != nil {
					bar.Done()
					return fmt.Errorf("bench %s: %w", name, err)
				}
				if asJSON {
					if err := enc.Encode(r); err != nil {
						return err
					}
					continue
				}
				bar.Println(out, strings.TrimSuffix(fmt.Sprintf(row, r.Task, r.Substeps, r.Continuous,
					fmt.Sprintf("%.2f", r.PhysicsUsPerStep), fmt.Sprintf("%.2f", r.Box2DUsPerStep), fmt.Sprintf("%.1f", r.EnvStepUs), fmt.Sprintf("%.0f", r.StepsPerS1),
					fmt.Sprintf("%.0f", r.StepsPerSAll), fmt.Sprintf("%.2f", r.AllocsPerStep), fmt.Sprintf("%.2f", r.LibAllocsPerStep)), "\n"))
				bar.Set(i + 1)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&task, "task", "", "benchmark one task (default: all)")
	cmd.Flags().Float64Var(&seconds, "seconds", 1, fmt.Sprintf("measuring time per task and phase, in (0, %d]", maxBenchSeconds))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per task")
	cmd.Flags().BoolVar(&learn, "learn", false, "measure network training and inference instead (policies/nn)")
	cmd.Flags().StringVar(&dump, "dump-world", "", "write the task's world and an expert episode's per-substep inputs to this JSON file (bench/box2d replays it in C++ Box2D) instead of measuring")
	return cmd
}

// benchTask records one expert episode's actions, then replays them in a
// loop: the measurement sees realistic contacts but not the expert's cost.
func benchTask(ctx context.Context, name string, d time.Duration) (benchResult, error) {
	maker, err := tasks.Lookup(name)
	if err != nil {
		return benchResult{}, err
	}
	actions, err := expertActions(maker)
	if err != nil {
		return benchResult{}, err
	}
	spec := maker().Spec()
	r := benchResult{Task: name, Substeps: spec.Substeps(0), Continuous: spec.Continuous, Cores: runtime.GOMAXPROCS(0)}

	steps, elapsed, err := stepLoop(ctx, maker, actions, d)
	if err != nil {
		return r, err
	}
	r.EnvStepUs = elapsed.Seconds() * 1e6 / float64(steps)
	r.StepsPerS1 = float64(steps) / elapsed.Seconds()
	if r.PhysicsUsPerStep, err = substepTime(ctx, maker, actions, d, false); err != nil {
		return r, err
	}
	if r.Box2DUsPerStep, err = substepTime(ctx, maker, actions, d, true); err != nil {
		return r, err
	}

	var wg sync.WaitGroup
	counts := make([]int, r.Cores)
	errs := make([]error, r.Cores)
	start := time.Now()
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _, errs[i] = stepLoop(ctx, maker, actions, d)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	total := 0
	for i, c := range counts {
		if errs[i] != nil {
			return r, errs[i]
		}
		total += c
	}
	r.StepsPerSAll = float64(total) / wall.Seconds()
	r.AllocsPerStep, r.LibAllocsPerStep, err = allocsPerStep(maker, actions)
	return r, err
}

// maxBenchSeconds bounds --seconds: an hour per task and phase is far more
// than a stable number needs, and larger values overflow time.Duration.
const maxBenchSeconds = 3600

// expertActions returns the actions of one expert episode from seed 1.
func expertActions(maker tasks.Maker) ([][]float64, error) { return tasks.ExpertActions(maker, 1) }

// stepLoop replays actions episode after episode for about d.
func stepLoop(ctx context.Context, maker tasks.Maker, actions [][]float64, d time.Duration) (int, time.Duration, error) {
	env, err := sim.NewEnv(maker(), sim.EnvConfig{})
	if err != nil {
		return 0, 0, err
	}
	steps := 0
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		env.Reset(1)
		for i := 0; i < len(actions) && !env.Done(); i++ {
			if _, err := env.Step(actions[i]); err != nil {
				return steps, 0, err
			}
			steps++
		}
	}
	return steps, time.Since(start), nil
}

// substepTime replays actions through the task directly, as Env does, and
// times only the substep loops (the task's controllers and the physics
// step), not observation, reward or success tests: µs per physics substep.
// With stepOnly it times only the Box2D steps inside them.
func substepTime(ctx context.Context, maker tasks.Maker, actions [][]float64, d time.Duration, stepOnly bool) (float64, error) {
	task := maker()
	var inStep time.Duration
	if stepOnly {
		st, ok := task.(steppedTask)
		if !ok {
			return 0, nil
		}
		var t0 time.Time
		st.Stepper().Trace = func(_ *box2d.B2World, _ float64, _, _ int, after bool) {
			if !after {
				t0 = time.Now()
				return
			}
			inStep += time.Since(t0)
		}
	}
	spec := task.Spec()
	n := spec.Substeps(0)
	period := 1 / spec.ControlHz
	dt := period / float64(n)
	var spent time.Duration
	substeps := 0
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		task.Reset(1)
		for _, a := range actions {
			task.Act(a, period)
			t0 := time.Now()
			for range n {
				task.Substep(dt)
			}
			sim.EndPeriod(task)
			spent += time.Since(t0)
			substeps += n
			if task.Terminal() {
				break
			}
		}
	}
	if substeps == 0 {
		return 0, errors.New("no substeps ran")
	}
	if stepOnly {
		spent = inStep
	}
	return spent.Seconds() * 1e6 / float64(substeps), nil
}

// allocsPerStep counts heap allocations per Env.Step with the memory
// profiler sampling every allocation, and splits them into those made by
// the Box2D library's own code and the rest (tandem's).
func allocsPerStep(maker tasks.Maker, actions [][]float64) (own, lib float64, err error) {
	env, err := sim.NewEnv(maker(), sim.EnvConfig{})
	if err != nil {
		return 0, 0, err
	}
	env.Reset(1)
	for i := 0; i < len(actions)/2 && !env.Done(); i++ { // warm up caches and pools
		env.Step(actions[i])
	}
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	runtime.GC()
	before := profileAllocs()
	env.Reset(1)
	steps := 0
	for i := 0; i < len(actions) && !env.Done(); i++ {
		if _, err := env.Step(actions[i]); err != nil {
			return 0, 0, err
		}
		steps++
	}
	runtime.GC()
	runtime.GC() // the profile publishes allocations after two cycles
	after := profileAllocs()
	var o, l int64
	for k, v := range after {
		n := v - before[k]
		if n > 0 && k != box2dPrefix && os.Getenv("TANDEM_BENCH_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "alloc owner", k, n)
		}
		if k == box2dPrefix {
			l += n
		} else {
			o += n
		}
	}
	// Reset's own allocations are not a step's.
	return float64(o) / float64(steps), float64(l) / float64(steps), nil
}

const box2dPrefix = "github.com/ByteArena/box2d"

// profileAllocs sums allocation counts by the function that allocated
// (innermost frame outside the runtime), restricted to the stepping code.
func profileAllocs() map[string]int64 {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		n, ok = runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
	}
	out := make(map[string]int64)
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		// The owner is whichever comes first walking out from the
		// allocation: a Box2D frame (the library allocated, even through
		// sort or reflect) or a frame of tandem's own code.
		owner := ""
		inStep := false
		for {
			f, more := frames.Next()
			if owner == "" {
				switch {
				case strings.HasPrefix(f.Function, box2dPrefix):
					owner = box2dPrefix
				case strings.HasPrefix(f.Function, "tandem/"):
					owner = f.Function
				}
			}
			if strings.HasPrefix(f.Function, "tandem/sim.(*Env).Step") {
				inStep = true
				break
			}
			if !more {
				break
			}
		}
		if inStep {
			out[owner] += r.AllocObjects
		}
	}
	return out
}
