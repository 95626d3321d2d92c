package tasks

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
)

// stepped is a task whose Box2D world is stepped by b2step (every task).
type stepped interface {
	Stepper() *b2step.Stepper
}

// expertActions runs the expert of a fresh instance of task name for one
// episode from seed and returns its actions.
func expertActions(t testing.TB, name string, seed uint64) [][]float64 {
	t.Helper()
	mk, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExpertActions(mk, seed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameBodies compares every body of two worlds built alike, bit for bit.
func sameBodies(a, b *box2d.B2World) error {
	ba, bb := a.M_bodyList, b.M_bodyList
	for i := 0; ba != nil || bb != nil; i++ {
		if ba == nil || bb == nil {
			return fmt.Errorf("body counts differ")
		}
		fa := [...]float64{ba.M_xf.P.X, ba.M_xf.P.Y, ba.M_sweep.A, ba.M_linearVelocity.X, ba.M_linearVelocity.Y, ba.M_angularVelocity}
		fb := [...]float64{bb.M_xf.P.X, bb.M_xf.P.Y, bb.M_sweep.A, bb.M_linearVelocity.X, bb.M_linearVelocity.Y, bb.M_angularVelocity}
		for k, name := range [...]string{"x", "y", "angle", "vx", "vy", "w"} {
			if math.Float64bits(fa[k]) != math.Float64bits(fb[k]) {
				return fmt.Errorf("body %d %s: got %x; want %x", i, name, fb[k], fa[k])
			}
		}
		ba, bb = ba.M_next, bb.M_next
	}
	if a.GetContactCount() != b.GetContactCount() || a.GetJointCount() != b.GetJointCount() {
		return fmt.Errorf("got %d contacts, %d joints; want %d, %d",
			b.GetContactCount(), b.GetJointCount(), a.GetContactCount(), a.GetJointCount())
	}
	return nil
}

// TestPhysicsMatchesLibrary steps every task both ways, with b2step and
// with the library's B2World.Step, through whole expert episodes, and
// compares every body's position, angle and velocities bit for bit after
// every control step. Push-T fixes the solve order of simultaneous
// contacts itself (Stepper.Order; see tasks/pusht/doc.go); here its world
// is stepped in the library's order, which is what the kernel promises.
func TestPhysicsMatchesLibrary(t *testing.T) {
	for _, name := range Names() {
		// Not in parallel: the library's own B2World.Step (the reference)
		// updates unsynchronised package-level counters in its time of
		// impact; b2step does not.
		t.Run(name, func(t *testing.T) {
			mk, _ := Lookup(name)
			for _, seed := range []uint64{1, 2} {
				actions := expertActions(t, name, seed)
				lib, ours := mk(), mk()
				lib.(stepped).Stepper().UseLibrary = true
				ours.(stepped).Stepper().Order = nil
				envs := [2]*sim.Env{}
				for i, task := range [2]sim.Task{lib, ours} {
					env, err := sim.NewEnv(task, sim.EnvConfig{})
					if err != nil {
						t.Fatal(err)
					}
					env.Reset(seed)
					envs[i] = env
				}
				for k, a := range actions {
					for _, env := range envs {
						if _, err := env.Step(a); err != nil {
							t.Fatal(err)
						}
					}
					wl, wo := lib.(stepped).Stepper().World(), ours.(stepped).Stepper().World()
					if err := sameBodies(wl, wo); err != nil {
						t.Fatalf("seed %d step %d: %v", seed, k, err)
					}
				}
				if envs[0].Done() != envs[1].Done() {
					t.Fatalf("seed %d: done %v; want %v", seed, envs[1].Done(), envs[0].Done())
				}
			}
		})
	}
}

// TestSpecContinuousMatchesWorld: Spec.Continuous (reported by tandem bench
// and written by --dump-world for the C++ replay) says what the world runs.
// The surgical tasks once declared it off while their worlds kept Box2D's
// default, on.
func TestSpecContinuousMatchesWorld(t *testing.T) {
	for _, name := range Names() {
		mk, _ := Lookup(name)
		task := mk()
		task.Reset(1)
		if got, want := task.(stepped).Stepper().World().M_continuousPhysics, task.Spec().Continuous; got != want {
			t.Errorf("%s: world runs continuous collision %v; Spec.Continuous says %v", name, got, want)
		}
	}
}

// TestEnvStepAllocatesNothing runs whole expert episodes through Env.Step
// for every task, physics included, and counts allocations (Reset, which
// builds the world, is outside the count).
func TestEnvStepAllocatesNothing(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			actions := expertActions(t, name, 1)
			mk, _ := Lookup(name)
			env, err := sim.NewEnv(mk(), sim.EnvConfig{})
			if err != nil {
				t.Fatal(err)
			}
			episode := func() {
				for i := 0; i < len(actions) && !env.Done(); i++ {
					if _, err := env.Step(actions[i]); err != nil {
						t.Fatal(err)
					}
				}
			}
			env.Reset(1)
			episode() // warm-up: pools reach their size
			env.Reset(1)
			warm := true
			allocs := testing.AllocsPerRun(1, func() {
				if warm { // AllocsPerRun's own warm-up call
					warm = false
					return
				}
				episode()
			})
			if allocs != 0 {
				t.Errorf("an expert episode of %d steps allocated %v times; want 0", len(actions), allocs)
			}
		})
	}
}

// BenchmarkSubstep replays an expert episode (seed 1) of every task through
// Act and Substep, as Env does, with b2step ("stepper") and with the
// library's B2World.Step ("library"): µs per physics substep, the task's
// per-substep code included.
func BenchmarkSubstep(b *testing.B) {
	for _, name := range Names() {
		mk, _ := Lookup(name)
		actions := expertActions(b, name, 1)
		for _, library := range []bool{false, true} {
			mode := "stepper"
			if library {
				mode = "library"
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				task := mk()
				task.(stepped).Stepper().UseLibrary = library
				spec := task.Spec()
				n := spec.Substeps(0)
				period := 1 / spec.ControlHz
				dt := period / float64(n)
				k := len(actions)
				substeps := 0
				b.ReportAllocs()
				for b.Loop() {
					if k == len(actions) || task.Terminal() {
						b.StopTimer()
						task.Reset(1)
						k = 0
						b.StartTimer()
					}
					task.Act(actions[k], period)
					for range n {
						task.Substep(dt)
					}
					sim.EndPeriod(task)
					substeps += n
					k++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(substeps), "µs/substep")
			})
		}
	}
}

// TestParallelWorlds steps two instances of every task at once from two
// goroutines, as rollouts and live sessions do, and requires both to end
// where a lone run ends; under -race it shows that the stepper shares no
// state between worlds (the library's own step updates package-level
// counters during time of impact).
func TestParallelWorlds(t *testing.T) {
	for _, name := range Names() {
		actions := expertActions(t, name, 1)
		mk, _ := Lookup(name)
		run := func() (sim.Vec, error) {
			env, err := sim.NewEnv(mk(), sim.EnvConfig{})
			if err != nil {
				return sim.Vec{}, err
			}
			obs := env.Reset(1)
			for i := 0; i < len(actions) && !env.Done(); i++ {
				s, err := env.Step(actions[i])
				if err != nil {
					return sim.Vec{}, err
				}
				obs = s.Next
			}
			return obs, nil
		}
		want, err := run()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got [2]sim.Vec
		var errs [2]error
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = run()
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("%s: goroutine %d: %v", name, i, errs[i])
			}
			if got[i] != want {
				t.Errorf("%s: goroutine %d ended at %v; want %v as alone", name, i, got[i].Slice(), want.Slice())
			}
		}
	}
}

// TestSubticksKeepTheLearningStep splits every control period of an expert
// episode into sub-ticks, as a live session does when a human drives (Act
// per sub-tick, each for a part of the period), with the same action in
// each: where the task's command does not depend on how long it applies,
// the learning steps (observations, reward, success, terminal) must be
// exactly those of Env.Step. Per-step bookkeeping (reach's consecutive
// steps on target, peg-insert's force averaged over the step) happens once
// per period (sim.PeriodEnder), not once per sub-tick.
func TestSubticksKeepTheLearningStep(t *testing.T) {
	for _, name := range []string{"reach", "peg-insert"} {
		t.Run(name, func(t *testing.T) {
			const seed = 3
			actions := expertActions(t, name, seed)
			mk, _ := Lookup(name)
			whole, err := sim.NewEnv(mk(), sim.EnvConfig{})
			if err != nil {
				t.Fatal(err)
			}
			split, err := sim.NewEnv(mk(), sim.EnvConfig{})
			if err != nil {
				t.Fatal(err)
			}
			whole.Reset(seed)
			split.Reset(seed)
			n := split.Substeps()
			subs := 3
			if n%subs != 0 {
				t.Fatalf("%d substeps per period do not split in %d", n, subs)
			}
			for k, a := range actions {
				want, err := whole.Step(a)
				if err != nil {
					t.Fatal(err)
				}
				if err := split.Begin(); err != nil {
					t.Fatal(err)
				}
				for range subs {
					if err := split.Apply(a, subs); err != nil {
						t.Fatal(err)
					}
					split.Advance(n / subs)
				}
				got := split.End(a)
				if !sameStep(got, want) {
					t.Fatalf("step %d: sub-ticked next %v reward %v success %v terminal %v; whole period next %v reward %v success %v terminal %v",
						k, got.Next.Slice(), got.Reward, got.Success, got.Terminal, want.Next.Slice(), want.Reward, want.Success, want.Terminal)
				}
			}
			if !whole.Done() || !split.Done() {
				t.Fatalf("after the expert's episode: done %v whole, %v sub-ticked; want both", whole.Done(), split.Done())
			}
		})
	}
}

func sameStep(a, b sim.Step) bool {
	if a.Reward != b.Reward || a.Success != b.Success || a.Terminal != b.Terminal || a.Truncated != b.Truncated {
		return false
	}
	x, y := a.Next.Slice(), b.Next.Slice()
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}
