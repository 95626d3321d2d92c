package endoscope

import (
	"context"
	"flag"
	"testing"

	"tandem/sim"
)

// curve runs the 100-seed expert evaluation over the skill levels (slow:
// go test ./tasks/endoscope -run TestExpertCurve -curve -v).
var curve = flag.Bool("curve", false, "run the 100-seed expert skill curve")
var curveN = flag.Int("curve-n", 100, "episodes per skill level for -curve")

func rollout(t testing.TB, skill float64, seeds []uint64) sim.Summary {
	t.Helper()
	return rolloutWith(t, func(task sim.Task, seed uint64) sim.Policy { return task.Expert(skill, seed^0xabc) }, seeds)
}

func rolloutWith(t testing.TB, policy func(task sim.Task, seed uint64) sim.Policy, seeds []uint64) sim.Summary {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: func() sim.Task { return NewTrack() },
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(policy(task, seed), "expert"), nil
		},
		Seeds:   seeds,
		Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim.Summarize("ecm-track", eps)
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
	hold := rolloutWith(t, func(task sim.Task, _ uint64) sim.Policy {
		return sim.PolicyFunc(func(_, dst []float64) { sim.HoldAction(task, dst) })
	}, seedRange(1000, *curveN))
	t.Logf("ecm-track holding still: success %3.0f%%  mean length %.1f", 100*hold.SuccessRate, hold.MeanLength)
	for _, skill := range []float64{1, 0.9, 0.8, 0.6, 0.4} {
		s := rollout(t, skill, seedRange(1000, *curveN))
		t.Logf("ecm-track skill %.1f: success %3.0f%%  mean length %.1f  mean return %.1f (per step %.3f)",
			skill, 100*s.SuccessRate, s.MeanLength, s.MeanReturn, s.MeanReturn/s.MeanLength)
		if skill == 1 && s.SuccessRate < 0.95 {
			t.Errorf("expert at skill 1 succeeds %.0f%%; want ≥ 95%%", 100*s.SuccessRate)
		}
	}
}

func TestExpertSucceeds(t *testing.T) {
	s := rollout(t, 1, seedRange(1, 4))
	if s.SuccessRate != 1 || s.MeanLength != trackHorizon {
		t.Errorf("got success %.2f, mean length %.1f; want 1 and %d", s.SuccessRate, s.MeanLength, trackHorizon)
	}
	if per := s.MeanReturn / s.MeanLength; per < 0.9 {
		t.Errorf("got mean reward %.3f per step; want ≥ 0.9 (target near the centre)", per)
	}
}
