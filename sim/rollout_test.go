package sim

import (
	"context"
	"reflect"
	"testing"
)

func pointRollout(workers int, skill float64) RolloutConfig {
	seeds := make([]uint64, 24)
	for i := range seeds {
		seeds[i] = uint64(1000 + i)
	}
	return RolloutConfig{
		NewTask: func() Task { return &pointTask{} },
		Controller: func(task Task, _ int, seed uint64) (Controller, error) {
			return Auto(task.Expert(skill, seed), "expert"), nil
		},
		Seeds:     seeds,
		Workers:   workers,
		KeepSteps: true,
	}
}

func TestRolloutIndependentOfScheduling(t *testing.T) {
	one, err := Rollout(context.Background(), pointRollout(1, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	many, err := Rollout(context.Background(), pointRollout(4, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, many) {
		t.Fatal("results with 1 and 4 workers differ")
	}
	for i, ep := range one {
		if ep.Index != i || ep.Seed != uint64(1000+i) || ep.Length != len(ep.Steps) {
			t.Errorf("episode %d: index %d seed %d length %d steps %d", i, ep.Index, ep.Seed, ep.Length, len(ep.Steps))
		}
	}
}

func TestRolloutExpertSucceeds(t *testing.T) {
	eps, err := Rollout(context.Background(), pointRollout(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	sum := Summarize("point", eps)
	if sum.SuccessRate != 1 {
		t.Errorf("expert success rate %v; want 1", sum.SuccessRate)
	}
	if sum.Episodes != 24 || sum.MeanLength <= 0 || sum.MeanLength >= 50 {
		t.Errorf("summary %+v", sum)
	}
}

func TestRolloutStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Rollout(ctx, pointRollout(2, 1)); err == nil {
		t.Error("cancelled rollout returned no error")
	}
}

func TestSkilledDegradesDeterministically(t *testing.T) {
	task := &pointTask{}
	task.Reset(5)
	obs := make([]float64, 4)
	task.Observe(obs)
	act := func(p Policy) []float64 {
		out := make([]float64, 0, 40)
		for range 20 {
			dst := make([]float64, 2)
			p.Act(obs, dst)
			out = append(out, dst...)
		}
		return out
	}
	a := task.Expert(0.5, 9)
	a.(Resetter).Reset(5)
	b := task.Expert(0.5, 9)
	b.(Resetter).Reset(5)
	perfect := act(task.Expert(1, 9))
	got, again := act(a), act(b)
	if !reflect.DeepEqual(got, again) {
		t.Error("same skill and seed gave different actions")
	}
	if reflect.DeepEqual(got, perfect) {
		t.Error("skill 0.5 acted exactly like skill 1")
	}
	for _, v := range got {
		if v < -1 || v > 1 {
			t.Fatalf("skilled action %v outside [-1, 1]", v)
		}
	}
}
