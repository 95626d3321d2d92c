package tasks

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"tandem/sim"
)

func TestCatalogue(t *testing.T) {
	want := map[string]sim.Kind{
		"push-t": sim.Manipulation, "reach": sim.Manipulation, "pick-place": sim.Manipulation, "peg-insert": sim.Manipulation,
		"needle-reach": sim.Surgical, "gauze-retrieve": sim.Surgical, "needle-pick": sim.Surgical, "peg-transfer": sim.Surgical,
		"bi-peg-transfer": sim.Surgical, "needle-regrasp": sim.Surgical, "tissue-retract": sim.Surgical, "ecm-track": sim.Surgical,
	}
	specs := Specs()
	if len(specs) != len(want) {
		t.Fatalf("catalogue has %d tasks; want %d", len(specs), len(want))
	}
	for _, s := range specs {
		if k, ok := want[s.Name]; !ok || k != s.Kind {
			t.Errorf("task %s kind %s; want %s", s.Name, s.Kind, k)
		}
		if s.Source == "" || s.Description == "" || s.Units == "" {
			t.Errorf("task %s lacks source, description or units", s.Name)
		}
	}
}

func TestUnknownTaskNamesChoices(t *testing.T) {
	_, err := New("push-q")
	var ue *UnknownError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v; want *UnknownError", err)
	}
	if !strings.Contains(err.Error(), "push-t") || !strings.Contains(err.Error(), "ecm-track") {
		t.Errorf("error %q does not name the valid tasks", err)
	}
}

// TestEveryTaskIsDeterministicAndRefusesBadActions runs the same seeded
// random actions twice through fresh instances of every task and checks the
// two trajectories agree bit for bit, with a NaN action refused midway
// without disturbing the episode.
func TestEveryTaskIsDeterministicAndRefusesBadActions(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			run := func() []sim.Step {
				task, err := New(name)
				if err != nil {
					t.Fatal(err)
				}
				env, err := sim.NewEnv(task, sim.EnvConfig{})
				if err != nil {
					t.Fatal(err)
				}
				env.Reset(3)
				rng := rand.New(rand.NewPCG(3, 4))
				a := make([]float64, env.Spec().ActionSize())
				var out []sim.Step
				for i := 0; i < 12 && !env.Done(); i++ {
					if i == 5 {
						bad := append([]float64(nil), a...)
						bad[0] = math.NaN()
						var ae *sim.ActionError
						if _, err := env.Step(bad); !errors.As(err, &ae) || env.T() != 5 {
							t.Fatalf("NaN action: err %v, T %d; want *ActionError at T 5", err, env.T())
						}
					}
					for j := range a {
						a[j] = rng.Float64()*2 - 1
					}
					s, err := env.Step(a)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, s)
				}
				return out
			}
			x, y := run(), run()
			if len(x) != len(y) {
				t.Fatalf("lengths %d and %d", len(x), len(y))
			}
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("step %d differs between identical runs", i)
				}
			}
		})
	}
}
