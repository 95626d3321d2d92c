package pusht

import (
	"context"
	"flag"
	"testing"

	"tandem/sim"
)

var evalFlag = flag.Bool("pusht.eval", false, "run the expert over the 50 reference test seeds at several skills and log the numbers")

// testSeeds are the reference's evaluation seeds (pusht_lowdim.yaml:
// test_start_seed 100000, n_test 50).
func testSeeds(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = 100000 + uint64(i)
	}
	return s
}

// rollExpert runs the expert at skill over seeds through sim.Rollout.
func rollExpert(t *testing.T, skill float64, seeds []uint64) []sim.Episode {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: New,
		Controller: func(task sim.Task, _ int, _ uint64) (sim.Controller, error) {
			return sim.Demonstrate(task.Expert(skill, 1), "expert"), nil
		},
		Seeds:   seeds,
		Workers: 2,
	})
	if err != nil {
		t.Fatalf("Rollout: %v", err)
	}
	return eps
}

func summarise(eps []sim.Episode) (meanMax float64, successes int, meanLen float64) {
	for _, e := range eps {
		meanMax += e.MaxReward
		meanLen += float64(e.Length)
		if e.Success {
			successes++
		}
	}
	n := float64(len(eps))
	return meanMax / n, successes, meanLen / n
}

func TestExpertSolvesSeeds(t *testing.T) {
	eps := rollExpert(t, 1, testSeeds(5))
	good := 0
	for _, e := range eps {
		if e.MaxReward >= 0.9 {
			good++
		} else {
			t.Logf("seed %d: max reward %.3f after %d steps", e.Seed, e.MaxReward, e.Length)
		}
	}
	if good < 4 {
		t.Errorf("%d of 5 seeds reached max reward ≥ 0.9; want ≥ 4", good)
	}
}

func TestExpertDeterministic(t *testing.T) {
	a := rollExpert(t, 0.7, []uint64{100003})
	b := rollExpert(t, 0.7, []uint64{100003})
	if a[0].Return != b[0].Return || a[0].Length != b[0].Length {
		t.Errorf("two runs: return %v/%v, length %d/%d; want equal", a[0].Return, b[0].Return, a[0].Length, b[0].Length)
	}
}

func TestExpertDoesNotAllocate(t *testing.T) {
	task := newTask(t)
	task.Reset(100001)
	p := task.Expert(1, 0)
	obs, act := make([]float64, obsSize), make([]float64, 2)
	if n := testing.AllocsPerRun(50, func() {
		p.Act(obs, act)
		task.Act(act, 0.1)
		for range 10 {
			task.Substep(0.01)
		}
	}); n != 0 {
		t.Errorf("expert step allocates %v times; want 0", n)
	}
}

// TestExpertCurve logs the numbers quoted in docs/tasks/pusht.md:
//
//	go test ./tasks/pusht -run TestExpertCurve -pusht.eval -v
func TestExpertCurve(t *testing.T) {
	if !*evalFlag {
		t.Skip("run with -pusht.eval")
	}
	for _, skill := range []float64{1, 0.9, 0.8, 0.6, 0.4} {
		m, s, l := summarise(rollExpert(t, skill, testSeeds(50)))
		t.Logf("skill %.1f: mean max reward %.3f, success %d/50, mean length %.0f steps", skill, m, s, l)
		if skill == 1 && m < 0.9 {
			t.Errorf("skill 1: mean max reward %.3f; want ≥ 0.9", m)
		}
	}
}
