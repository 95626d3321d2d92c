package sim

import (
	"errors"
	"math"
	"testing"
)

func newPointEnv(t testing.TB) *Env {
	t.Helper()
	env, err := NewEnv(&pointTask{}, EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestEnvRejectsBadActions(t *testing.T) {
	tests := []struct {
		name   string
		action []float64
		index  int
	}{
		{"too short", []float64{0.1}, -1},
		{"too long", []float64{0.1, 0.2, 0.3}, -1},
		{"NaN", []float64{math.NaN(), 0}, 0},
		{"+Inf", []float64{0, math.Inf(1)}, 1},
		{"-Inf", []float64{math.Inf(-1), 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newPointEnv(t)
			env.Reset(7)
			good := []float64{0.5, -0.5}
			if _, err := env.Step(good); err != nil {
				t.Fatal(err)
			}
			before := make([]float64, 4)
			env.Observe(before)
			_, err := env.Step(tt.action)
			var ae *ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("got error %v; want *ActionError", err)
			}
			if ae.Index != tt.index {
				t.Errorf("got index %d; want %d (%v)", ae.Index, tt.index, err)
			}
			after := make([]float64, 4)
			env.Observe(after)
			if env.T() != 1 || before[0] != after[0] || before[1] != after[1] {
				t.Errorf("refused action changed the episode: T=%d obs %v -> %v", env.T(), before, after)
			}
			if _, err := env.Step(good); err != nil {
				t.Errorf("episode unusable after refusal: %v", err)
			}
		})
	}
}

func TestEnvClampsToBounds(t *testing.T) {
	env := newPointEnv(t)
	env.Reset(1)
	s, err := env.Step([]float64{5, -7})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Action.Slice(); got[0] != 1 || got[1] != -1 {
		t.Errorf("executed action %v; want [1 -1]", got)
	}
	if got := s.Next.At(0); math.Abs(got-0.1) > 1e-12 {
		t.Errorf("x after one clamped step = %v; want 0.1", got)
	}
}

func TestEnvStepBeforeResetAndAfterEnd(t *testing.T) {
	env := newPointEnv(t)
	if _, err := env.Step([]float64{0, 0}); !errors.Is(err, ErrNotReset) {
		t.Fatalf("got %v; want ErrNotReset", err)
	}
	env.Reset(3)
	var last Step
	for !env.Done() {
		var err error
		if last, err = env.Step([]float64{0, 0}); err != nil {
			t.Fatal(err)
		}
	}
	if !last.Truncated || last.Terminal || last.T != 49 {
		t.Errorf("last step T=%d truncated=%v terminal=%v; want T=49 truncated", last.T, last.Truncated, last.Terminal)
	}
	if _, err := env.Step([]float64{0, 0}); !errors.Is(err, ErrEpisodeOver) {
		t.Errorf("got %v; want ErrEpisodeOver", err)
	}
}

func TestEnvStepCarriesObservationBeforeAndAfter(t *testing.T) {
	env := newPointEnv(t)
	init := env.Reset(11)
	s1, _ := env.Step([]float64{1, 0})
	s2, _ := env.Step([]float64{0, 1})
	if s1.Obs != init || s2.Obs != s1.Next {
		t.Errorf("Obs must be the observation the action was chosen from")
	}
	if s1.T != 0 || s2.T != 1 || s2.Seed != 11 {
		t.Errorf("got T %d,%d seed %d; want 0,1 seed 11", s1.T, s2.T, s2.Seed)
	}
}

func TestEnvDeterministic(t *testing.T) {
	run := func() []Step {
		env := newPointEnv(t)
		env.Reset(42)
		var out []Step
		for i := 0; !env.Done(); i++ {
			s, err := env.Step([]float64{math.Sin(float64(i)), math.Cos(float64(i))})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d differ", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d differs", i)
		}
	}
}

func TestEnvTeleopRateScalesHorizon(t *testing.T) {
	env, err := NewEnv(&pointTask{}, EnvConfig{ControlHz: 50})
	if err != nil {
		t.Fatal(err)
	}
	if env.Horizon() != 250 || env.Period() != 0.02 {
		t.Errorf("horizon %d period %v; want 250 and 0.02", env.Horizon(), env.Period())
	}
	if _, err := NewEnv(&pointTask{}, EnvConfig{ControlHz: 1000}); err == nil {
		t.Error("control rate above physics rate accepted")
	}
}

func TestEnvStepDoesNotAllocate(t *testing.T) {
	env := newPointEnv(t)
	env.Reset(1)
	a := []float64{0.01, 0.01}
	allocs := testing.AllocsPerRun(100, func() {
		if env.Done() {
			env.Reset(1)
		}
		if _, err := env.Step(a); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Env.Step allocates %v per step; want 0", allocs)
	}
}

func TestSpecValidate(t *testing.T) {
	good := (&pointTask{}).Spec()
	if err := good.Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	tests := []struct {
		name string
		mut  func(*Spec)
	}{
		{"no name", func(s *Spec) { s.Name = "" }},
		{"bad kind", func(s *Spec) { s.Kind = "toy" }},
		{"no obs", func(s *Spec) { s.ObsNames = nil }},
		{"bounds length", func(s *Spec) { s.ActionLow = s.ActionLow[:1] }},
		{"inverted bounds", func(s *Spec) { s.ActionLow = []float64{1, -1} }},
		{"zero rate", func(s *Spec) { s.ControlHz = 0 }},
		{"physics slower", func(s *Spec) { s.PhysicsHz = 5 }},
		{"no horizon", func(s *Spec) { s.Horizon = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := (&pointTask{}).Spec()
			tt.mut(&s)
			if err := s.Validate(); err == nil {
				t.Error("got nil; want an error")
			}
		})
	}
}

func BenchmarkEnvStep(b *testing.B) {
	env := newPointEnv(b)
	env.Reset(1)
	a := []float64{0.01, 0.01}
	b.ReportAllocs()
	for b.Loop() {
		if env.Done() {
			env.Reset(1)
		}
		env.Step(a)
	}
}
