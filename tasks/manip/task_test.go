package manip

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"tandem/sim"
)

// trace runs n steps of seeded random actions from seed and returns every
// observation and pose, flattened.
func trace(t *testing.T, task sim.Task, seed uint64, n int) []float64 {
	t.Helper()
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	obs := env.Reset(seed)
	out := obs.Append(nil)
	r := rand.New(rand.NewPCG(seed, 1))
	a := make([]float64, env.Spec().ActionSize())
	poses := make([]sim.Pose, len(task.Scene().Bodies))
	for i := 0; i < n && !env.Done(); i++ {
		for j := range a {
			a[j] = 2*r.Float64() - 1
		}
		s, err := env.Step(a)
		if err != nil {
			t.Fatal(err)
		}
		out = s.Next.Append(out)
		for _, p := range task.Poses(poses) {
			out = append(out, p.X, p.Y, p.Angle)
		}
	}
	return out
}

func TestResetReproducible(t *testing.T) {
	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			a := trace(t, m.make(), 42, 60)
			reused := m.make()
			trace(t, reused, 7, 60) // dirty the instance first
			b := trace(t, reused, 42, 60)
			if len(a) != len(b) {
				t.Fatalf("got %d values; want %d", len(b), len(a))
			}
			for i := range a {
				if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
					t.Fatalf("value %d: got %v; want %v (same seed and actions)", i, b[i], a[i])
				}
			}
			if err := finite(a); err != nil {
				t.Fatal(err)
			}
			c := trace(t, m.make(), 43, 0)
			if reflect.DeepEqual(a[:len(c)], c) {
				t.Error("seeds 42 and 43 gave the same initial observation")
			}
		})
	}
}

func TestBadActionsLeaveEpisode(t *testing.T) {
	for _, m := range makers() {
		task := m.make()
		env, err := sim.NewEnv(task, sim.EnvConfig{})
		if err != nil {
			t.Fatal(err)
		}
		env.Reset(3)
		n := env.Spec().ActionSize()
		good := make([]float64, n)
		if _, err := env.Step(good); err != nil {
			t.Fatal(err)
		}
		nan := make([]float64, n)
		nan[n-1] = math.NaN()
		inf := make([]float64, n)
		inf[0] = math.Inf(-1)
		for _, tc := range []struct {
			name   string
			action []float64
		}{
			{"nan", nan}, {"inf", inf}, {"short", good[:n-1]}, {"long", append(good[:n:n], 0)}, {"nil", nil},
		} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				before := make([]float64, n+env.Spec().ObsSize())
				env.Observe(before)
				poses := append([]sim.Pose(nil), task.Poses(make([]sim.Pose, 16))...)
				_, err := env.Step(tc.action)
				var ae *sim.ActionError
				if !errors.As(err, &ae) {
					t.Fatalf("got error %v; want *sim.ActionError", err)
				}
				after := make([]float64, len(before))
				env.Observe(after)
				if !reflect.DeepEqual(before, after) || env.T() != 1 {
					t.Errorf("got T %d obs %v; want T 1 obs %v (episode untouched)", env.T(), after, before)
				}
				if got := task.Poses(make([]sim.Pose, 16)); !reflect.DeepEqual(got, poses) {
					t.Errorf("got poses %v; want %v", got, poses)
				}
			})
		}
		if _, err := env.Step(good); err != nil {
			t.Errorf("%s: good action after bad ones: %v", m.name, err)
		}
	}
}

// TestStepDoesNotAllocate checks tandem's code on the step path: Env.Step
// with Box2D's world.Step skipped (Box2D itself allocates a few slices per
// step; BenchmarkPhysicsSubstep reports how many). The physics runs first
// so contacts, joints and the grasp weld exist while measuring.
func TestStepDoesNotAllocate(t *testing.T) {
	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			task := m.make()
			env, err := sim.NewEnv(task, sim.EnvConfig{})
			if err != nil {
				t.Fatal(err)
			}
			obs := env.Reset(5)
			ex := task.Expert(1, 5)
			a := make([]float64, env.Spec().ActionSize())
			// Warm up into the interesting state: pick-place holding the
			// block, peg-insert with the peg near the hole.
			warm := map[string]int{"reach": 10, "pick-place": 60, "peg-insert": 20}[m.name]
			for range warm {
				ex.Act(obs.Slice(), a)
				s, err := env.Step(a)
				if err != nil {
					t.Fatal(err)
				}
				obs = s.Next
			}
			task.(interface{ setSkipPhysics(bool) }).setSkipPhysics(true)
			if env.Done() {
				t.Fatal("episode ended before the measurement")
			}
			if pp, ok := task.(*PickPlace); ok && !pp.Grasped() {
				t.Fatal("pick-place: block not grasped after warm-up")
			}
			sim.HoldAction(task, a)
			got := testing.AllocsPerRun(50, func() {
				if _, err := env.Step(a); err != nil {
					t.Fatal(err)
				}
			})
			if got != 0 {
				t.Errorf("got %v allocations per Env.Step; want 0", got)
			}
			poses := make([]sim.Pose, len(task.Scene().Bodies))
			obsBuf := make([]float64, env.Spec().ObsSize())
			if got := testing.AllocsPerRun(100, func() {
				task.Poses(poses)
				task.Observe(obsBuf)
				ex.Act(obsBuf, a)
			}); got != 0 {
				t.Errorf("got %v allocations per Poses+Observe+expert; want 0", got)
			}
		})
	}
}

func TestExpertSucceeds(t *testing.T) {
	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			rate, _ := expertRate(t, m.make, 1, seedRange(1, 5))
			if rate != 1 {
				t.Errorf("got expert success %.0f%% on seeds 1..5; want 100%%", 100*rate)
			}
		})
	}
}

func TestExpertSkillDegrades(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// peg-insert is the task whose precision the noise of a poor operator
	// defeats; its curve must fall.
	best, _ := expertRate(t, func() sim.Task { return NewPegInsert() }, 1, seedRange(50, 20))
	poor, _ := expertRate(t, func() sim.Task { return NewPegInsert() }, 0.4, seedRange(50, 20))
	if !(poor < best) {
		t.Errorf("got success %.2f at skill 0.4 and %.2f at skill 1; want lower at 0.4", poor, best)
	}
}

func BenchmarkEnvStep(b *testing.B) {
	for _, m := range makers() {
		b.Run(m.name, func(b *testing.B) {
			task := m.make()
			env, _ := sim.NewEnv(task, sim.EnvConfig{})
			obs := env.Reset(1)
			ex := task.Expert(1, 1)
			a := make([]float64, env.Spec().ActionSize())
			b.ReportAllocs()
			for b.Loop() {
				if env.Done() { // resets rebuild the world: not part of a step
					b.StopTimer()
					obs = env.Reset(1)
					b.StartTimer()
				}
				ex.Act(obs.Slice(), a)
				s, _ := env.Step(a)
				obs = s.Next
			}
		})
	}
}

func BenchmarkPhysicsSubstep(b *testing.B) {
	for _, m := range makers() {
		b.Run(m.name, func(b *testing.B) {
			task := m.make()
			task.Reset(1)
			spec := task.Spec()
			dt := 1 / spec.PhysicsHz
			hold := make([]float64, spec.ActionSize())
			sim.HoldAction(task, hold)
			task.Act(hold, 1/spec.ControlHz)
			b.ReportAllocs()
			for b.Loop() {
				task.Substep(dt)
			}
		})
	}
}
