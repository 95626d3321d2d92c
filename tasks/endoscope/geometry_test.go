package endoscope

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAimCentresPoint(t *testing.T) {
	for _, p := range []mgl64.Vec3{{0, 0, targetZ}, {8, 5, targetZ}, {-9, -6, targetZ}} {
		e := ecm{insert: insertStart}
		e.aim(p)
		u, v, in := e.project(p)
		if !in || !near(u, 0, 1e-9) || !near(v, 0, 1e-9) {
			t.Errorf("aimed at %v: got image (%.3g, %.3g) in view %v; want (0, 0) in view", p, u, v, in)
		}
	}
}

func TestPanMovesViewInItsOwnFrame(t *testing.T) {
	for _, roll := range []float64{0, 0.7, -1.2} {
		e := ecm{insert: insertStart, roll: roll}
		p := mgl64.Vec3{2, 3, targetZ}
		e.aim(p)
		e.pan(0.05, 0) // view right: the point moves left in the image
		u, v, _ := e.project(p)
		if !(u < -0.05) || !near(v, 0, 0.01) {
			t.Errorf("roll %.1f, pan right: got image (%.3f, %.3f); want u < 0, v ≈ 0", roll, u, v)
		}
		e.aim(p)
		depth := p.Sub(e.tip()).Len()
		e.pan(0, 0.05) // view up: the point moves down
		u, v, _ = e.project(p)
		if !(v < -0.05) || !near(u, 0, 0.01) {
			t.Errorf("roll %.1f, pan up: got image (%.3f, %.3f); want v < 0, u ≈ 0", roll, u, v)
		}
		// The shaft turns 0.05 rad about the port, insert cm behind the
		// camera, so a point at depth D sweeps about 0.05·(D + insert)/D.
		want := -0.05 * (depth + e.insert) / depth
		if got := math.Atan(v * math.Tan(halfFoV)); !near(got, want, 0.03*math.Abs(want)) {
			t.Errorf("roll %.1f: got sweep %.4f rad; want %.4f", roll, got, want)
		}
	}
}

// TestViewPassesThroughPort drives random actions and checks the remote
// centre of motion: the tip, the port and the view centre on the table are
// collinear, the tip is insert cm from the port, and CameraPose is the view
// centre.
func TestViewPassesThroughPort(t *testing.T) {
	task := NewTrack()
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	env.Reset(8)
	r := rand.New(rand.NewPCG(8, 8))
	a := make([]float64, 4)
	for i := 0; i < 200 && !env.Done(); i++ {
		for j := range a {
			a[j] = 2*r.Float64() - 1
		}
		if _, err := env.Step(a); err != nil {
			t.Fatal(err)
		}
		tip := task.cam.tip()
		shaft := tip.Sub(port)
		if !near(shaft.Len(), task.cam.insert, 1e-9) {
			t.Fatalf("step %d: got tip %.4f cm from the port; want insertion %.4f", i, shaft.Len(), task.cam.insert)
		}
		vp := task.CameraPose()
		centre := mgl64.Vec3{vp.X, vp.Y, 0}
		if c := shaft.Normalize().Cross(centre.Sub(port).Normalize()); c.Len() > 1e-9 {
			t.Fatalf("step %d: view centre %v off the line through port and tip (|cross| %.3g)", i, centre, c.Len())
		}
		if u, v, _ := task.cam.project(centre); !near(u, 0, 1e-9) || !near(v, 0, 1e-9) {
			t.Fatalf("step %d: CameraPose projects to (%.3g, %.3g); want the image centre", i, u, v)
		}
		right, _, _ := task.cam.frame()
		if !near(math.Atan2(right.Y(), right.X()), vp.Angle, 1e-12) {
			t.Fatalf("step %d: CameraPose angle %.4f; want the image right axis", i, vp.Angle)
		}
	}
	var _ sim.Viewer = task
}

func TestTargetLossEndsEpisode(t *testing.T) {
	task := NewTrack()
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	env.Reset(3)
	pan := []float64{1, 0, 0, 0} // swing away from the target
	var s sim.Step
	for !env.Done() {
		s, _ = env.Step(pan)
	}
	if !s.Terminal || s.Success || env.T() >= trackHorizon {
		t.Errorf("got terminal %v success %v after %d steps; want an early terminal failure", s.Terminal, s.Success, env.T())
	}
	if s.Next.At(7) != 0 {
		t.Errorf("got in_view %v at the end; want 0", s.Next.At(7))
	}
}

func TestRewardFollowsSurRoL(t *testing.T) {
	task := NewTrack()
	task.Reset(1)
	task.u, task.v, task.omega = 0.6, -0.8, 0.5
	if got, want := task.Reward(), 1-(1.0/2+0.05); !near(got, want, 1e-12) {
		t.Errorf("got reward %v; want %v", got, want)
	}
}

func trace(t *testing.T, task *Track, seed uint64, n int) []float64 {
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	obs := env.Reset(seed)
	out := obs.Append(nil)
	ex := task.Expert(0.5, seed)
	ex.(sim.Resetter).Reset(seed)
	a := make([]float64, 4)
	poses := make([]sim.Pose, len(task.Scene().Bodies))
	for i := 0; i < n && !env.Done(); i++ {
		ex.Act(obs.Slice(), a)
		s, err := env.Step(a)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
		out = s.Next.Append(out)
		for _, p := range task.Poses(poses) {
			out = append(out, p.X, p.Y, p.Angle)
		}
	}
	return out
}

func TestResetReproducible(t *testing.T) {
	a := trace(t, NewTrack(), 42, 80)
	reused := NewTrack()
	trace(t, reused, 5, 80)
	b := trace(t, reused, 42, 80)
	if len(a) != len(b) {
		t.Fatalf("got %d values; want %d", len(b), len(a))
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("value %d: got %v; want %v (same seed and actions)", i, b[i], a[i])
		}
	}
	if c := trace(t, NewTrack(), 43, 0); reflect.DeepEqual(a[:len(c)], c) {
		t.Error("seeds 42 and 43 gave the same initial observation")
	}
}

func TestSpecAndScene(t *testing.T) {
	task := NewTrack()
	spec := task.Spec()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if spec.Kind != sim.Surgical || spec.Units != "cm" || spec.Substeps(0) != 24 {
		t.Errorf("got kind %q units %q substeps %d; want surgical, cm, 24", spec.Kind, spec.Units, spec.Substeps(0))
	}
	if got, want := len(task.Poses(make([]sim.Pose, 64))), len(task.Scene().Bodies); got != want {
		t.Errorf("got %d poses; want %d", got, want)
	}
	for _, sh := range task.Scene().Shapes {
		if sh.Body >= len(task.Scene().Bodies) {
			t.Errorf("shape %q on body %d of %d", sh.Label, sh.Body, len(task.Scene().Bodies))
		}
	}
}

func TestBadActionsLeaveEpisode(t *testing.T) {
	task := NewTrack()
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	env.Reset(2)
	good := []float64{0.1, 0, 0, 0}
	env.Step(good)
	for _, tc := range []struct {
		name   string
		action []float64
	}{
		{"nan", []float64{0, math.NaN(), 0, 0}}, {"inf", []float64{0, 0, 0, math.Inf(1)}},
		{"short", []float64{0, 0, 0}}, {"long", []float64{0, 0, 0, 0, 0}}, {"nil", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, after := make([]float64, 11), make([]float64, 11)
			env.Observe(before)
			poses := append([]sim.Pose(nil), task.Poses(make([]sim.Pose, 32))...)
			_, err := env.Step(tc.action)
			var ae *sim.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("got error %v; want *sim.ActionError", err)
			}
			env.Observe(after)
			if !reflect.DeepEqual(before, after) || env.T() != 1 || !reflect.DeepEqual(poses, task.Poses(make([]sim.Pose, 32))) {
				t.Errorf("got T %d obs %v; want T 1 obs %v and poses unchanged", env.T(), after, before)
			}
		})
	}
}

// TestStepDoesNotAllocate checks tandem's code on the step path with
// Box2D's world.Step skipped (Box2D allocates on its own; see
// BenchmarkPhysicsSubstep).
func TestStepDoesNotAllocate(t *testing.T) {
	task := NewTrack()
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	obs := env.Reset(4)
	ex := task.Expert(1, 4)
	a := make([]float64, 4)
	for range 20 {
		ex.Act(obs.Slice(), a)
		s, _ := env.Step(a)
		obs = s.Next
	}
	task.setSkipPhysics(true)
	if got := testing.AllocsPerRun(50, func() {
		ex.Act(obs.Slice(), a)
		s, err := env.Step(a)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
	}); got != 0 {
		t.Errorf("got %v allocations per expert + Env.Step; want 0", got)
	}
	poses := make([]sim.Pose, len(task.Scene().Bodies))
	if got := testing.AllocsPerRun(50, func() { task.Poses(poses); task.CameraPose() }); got != 0 {
		t.Errorf("got %v allocations per Poses + CameraPose; want 0", got)
	}
}

func TestTeleopRateKeepsSpeed(t *testing.T) {
	// One control step at 10 Hz and three at 30 Hz with the same action
	// sweep the same view angle.
	run := func(hz float64, steps int) float64 {
		task := NewTrack()
		env, _ := sim.NewEnv(task, sim.EnvConfig{ControlHz: hz})
		env.Reset(6)
		y0 := task.cam.yaw
		for range steps {
			env.Step([]float64{1, 0, 0, 0})
		}
		return task.cam.yaw - y0
	}
	if a, b := run(10, 1), run(30, 3); !near(a, b, 1e-9) {
		t.Errorf("got yaw change %.6f at 30 Hz; want %.6f as at 10 Hz", b, a)
	}
}

func BenchmarkEnvStep(b *testing.B) {
	b.Run("ecm-track", func(b *testing.B) {
		task := NewTrack()
		env, _ := sim.NewEnv(task, sim.EnvConfig{})
		obs := env.Reset(1)
		ex := task.Expert(1, 1)
		a := make([]float64, 4)
		b.ReportAllocs()
		for b.Loop() {
			if env.Done() {
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

func BenchmarkPhysicsSubstep(b *testing.B) {
	b.Run("ecm-track", func(b *testing.B) {
		task := NewTrack()
		task.Reset(1)
		task.Act(make([]float64, 4), 0.1)
		b.ReportAllocs()
		for b.Loop() {
			task.Substep(1.0 / trackPhysicsHz)
		}
	})
}
