package policies_test

import (
	"strings"
	"testing"

	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

func ptr(v float64) *float64 { return &v }

func TestCheck(t *testing.T) {
	r := policies.NewRegistry()
	tests := []struct {
		name    string
		policy  string
		opts    policies.Options
		wantErr string
	}{
		{"expert", "expert", policies.Options{}, ""},
		{"expert with skill", "expert", policies.Options{Skill: ptr(0.4)}, ""},
		{"random", "random", policies.Options{}, ""},
		{"random with skill", "random", policies.Options{Skill: ptr(1)}, "skill applies to the scripted expert only"},
		{"skill above 1", "expert", policies.Options{Skill: ptr(1.5)}, "skill must be in [0, 1]"},
		{"NaN skill", "expert", policies.Options{Skill: ptr(nan())}, "skill must be in [0, 1]"},
		{"unknown", "v9", policies.Options{}, `unknown policy "v9" (valid: expert, random)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Check(tc.policy, tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v; want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v; want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestNewBuildsEachBuiltin(t *testing.T) {
	r := policies.NewRegistry()
	task, err := tasks.New("reach")
	if err != nil {
		t.Fatal(err)
	}
	spec := task.Spec()
	task.Reset(1)
	obs := make([]float64, spec.ObsSize())
	task.Observe(obs)
	for _, name := range r.Names() {
		p, err := r.New(name, task, policies.Options{Seed: 3})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rs, ok := p.(sim.Resetter); ok {
			rs.Reset(1)
		}
		dst := make([]float64, spec.ActionSize())
		p.Act(obs, dst)
		if err := sim.CheckAction(&spec, dst); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestRandomRepeatsPerEpisodeSeed(t *testing.T) {
	spec := sim.Spec{ActionLow: []float64{-1, 0}, ActionHigh: []float64{1, 2}}
	a, b := policies.NewRandom(spec, 7), policies.NewRandom(spec, 7)
	a.Reset(5)
	b.Reset(5)
	x, y := make([]float64, 2), make([]float64, 2)
	for range 100 {
		a.Act(nil, x)
		b.Act(nil, y)
		if x[0] != y[0] || x[1] != y[1] {
			t.Fatalf("got %v and %v from the same seeds", x, y)
		}
		if x[0] < -1 || x[0] >= 1 || x[1] < 0 || x[1] >= 2 {
			t.Fatalf("action %v outside its bounds", x)
		}
	}
}

func TestRegisterRefusesDuplicatesAndLists(t *testing.T) {
	r := policies.NewRegistry()
	mk := func(task sim.Task, o policies.Options) (sim.Policy, error) {
		return policies.NewRandom(task.Spec(), 0), nil
	}
	if err := r.Register(policies.Info{Name: "expert"}, mk); err == nil {
		t.Fatal("registering over a built-in succeeded")
	}
	if err := r.Register(policies.Info{Name: "a,b"}, mk); err == nil {
		t.Fatal("a name with a comma was accepted")
	}
	if err := r.Register(policies.Info{Name: "reach-v1"}, mk); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Names(), " ")
	if got != "expert random reach-v1" {
		t.Fatalf("got names %q; want built-ins first, then learned", got)
	}
	info, err := r.Lookup("reach-v1")
	if err != nil || info.Kind != policies.Learned || info.Version != "reach-v1" {
		t.Fatalf("got %+v, %v; want a learned entry versioned by its name", info, err)
	}
}
