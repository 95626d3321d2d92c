package manip

import (
	"context"
	"flag"
	"fmt"
	"math"
	"testing"

	"tandem/sim"
)

// curve runs the 100-seed expert evaluation over the skill levels (slow:
// go test ./tasks/manip -run TestExpertCurve -curve -v).
var curve = flag.Bool("curve", false, "run the 100-seed expert skill curve")

type maker struct {
	name string
	make func() sim.Task
}

func makers() []maker {
	return []maker{
		{"reach", func() sim.Task { return NewReach() }},
		{"pick-place", func() sim.Task { return NewPickPlace() }},
		{"peg-insert", func() sim.Task { return NewPegInsert() }},
	}
}

// expertRate runs the task's expert at skill over seeds and returns the
// success rate and the mean episode length.
func expertRate(t testing.TB, newTask func() sim.Task, skill float64, seeds []uint64) (float64, float64) {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: newTask,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(task.Expert(skill, seed^0xabc), "expert"), nil
		},
		Seeds:   seeds,
		Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := sim.Summarize("", eps)
	return s.SuccessRate, s.MeanLength
}

func seedRange(from, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(from + i)
	}
	return s
}

func TestExpertCurve(t *testing.T) {
	if !*curve {
		t.Skip("needs -curve")
	}
	for _, m := range makers() {
		for _, skill := range []float64{1, 0.9, 0.8, 0.6, 0.4} {
			rate, length := expertRate(t, m.make, skill, seedRange(1000, 100))
			t.Logf("%-12s skill %.1f: success %3.0f%%  mean length %.1f", m.name, skill, 100*rate, length)
			if skill == 1 && rate < 0.95 {
				t.Errorf("%s expert at skill 1 succeeds %.0f%%; want ≥ 95%%", m.name, 100*rate)
			}
		}
	}
}

func TestSpecsValidate(t *testing.T) {
	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			spec := m.make().Spec()
			if err := spec.Validate(); err != nil {
				t.Fatal(err)
			}
			if spec.Name != m.name {
				t.Errorf("got name %q; want %q", spec.Name, m.name)
			}
			if spec.Kind != sim.Manipulation || spec.Units != "cm" {
				t.Errorf("got kind %q units %q; want manipulation, cm", spec.Kind, spec.Units)
			}
			task := m.make()
			if got, want := len(task.Poses(make([]sim.Pose, 32))), len(task.Scene().Bodies); got != want {
				t.Errorf("got %d poses; want %d (one per scene body)", got, want)
			}
			for _, sh := range task.Scene().Shapes {
				if sh.Body >= len(task.Scene().Bodies) {
					t.Errorf("shape %q on body %d of %d", sh.Label, sh.Body, len(task.Scene().Bodies))
				}
			}
		})
	}
}

func finite(v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("value %d is %v", i, x)
		}
	}
	return nil
}
