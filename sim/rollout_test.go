package sim

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync/atomic"
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

func TestRolloutBadActionHoldsLikeSession(t *testing.T) {
	// The session's rule (TestSessionBadControllerActionHolds): a bad action
	// is replaced by the hold action for that step, with Help raised, and
	// counted; the episode runs on.
	cfg := pointRollout(2, 1)
	cfg.Seeds = cfg.Seeds[:3]
	cfg.Controller = func(task Task, _ int, _ uint64) (Controller, error) {
		n := 0
		return Auto(PolicyFunc(func(_, dst []float64) {
			n++
			dst[0], dst[1] = 1, 0
			if n%2 == 0 {
				dst[0] = math.NaN()
			}
		}), "bad"), nil
	}
	eps, err := Rollout(context.Background(), cfg)
	if err != nil {
		t.Fatalf("rollout stopped on a bad action: %v", err)
	}
	total := 0
	for _, ep := range eps {
		if ep.Length != 50 || ep.Rejected != 25 {
			t.Errorf("episode %d: length %d rejected %d; want 50 and 25", ep.Index, ep.Length, ep.Rejected)
		}
		for _, r := range ep.Steps {
			held := r.T%2 == 1
			if a := r.Action.Slice(); held && (a[0] != 0 || a[1] != 0 || !r.Help) {
				t.Fatalf("step %d: action %v help %v; want hold [0 0] with help", r.T, a, r.Help)
			}
			if held && r.PolicyAction.Len() != 0 {
				t.Fatalf("step %d: kept the non-finite proposal %v", r.T, r.PolicyAction.Slice())
			}
			if !held && r.Help {
				t.Fatalf("step %d: help on a good action", r.T)
			}
		}
		total += ep.Rejected
	}
	if s := Summarize("point", eps); s.Rejected != total || total != 75 {
		t.Errorf("summary rejected %d; want %d (75)", s.Rejected, total)
	}
}

func TestStreamDeliversInOrderWithBoundedLookahead(t *testing.T) {
	const n, ahead = 200, 3
	var running, maxRunning atomic.Int64
	cfg := RolloutConfig{
		NewTask: func() Task { return &pointTask{} },
		Controller: func(task Task, _ int, seed uint64) (Controller, error) {
			if r := running.Add(1); r > maxRunning.Load() {
				maxRunning.Store(r)
			}
			return Auto(task.Expert(1, seed), "expert"), nil
		},
		Episodes: n, FirstSeed: 7, Workers: 4, Ahead: ahead, KeepSteps: true,
	}
	next := 0
	err := Stream(context.Background(), cfg, func(ep *Episode) error {
		running.Add(-1)
		if ep.Index != next || ep.Seed != uint64(7+next) || len(ep.Steps) != ep.Length {
			t.Fatalf("delivered episode %d (seed %d, %d steps of %d); want episode %d", ep.Index, ep.Seed, len(ep.Steps), ep.Length, next)
		}
		next++
		return nil
	})
	if err != nil || next != n {
		t.Fatalf("delivered %d episodes, err %v; want %d", next, err, n)
	}
	if m := maxRunning.Load(); m > ahead {
		t.Errorf("%d episodes in flight at once; want at most Ahead = %d", m, ahead)
	}
}

func TestStreamHugeCountStopsOnCancel(t *testing.T) {
	// A count no slice could hold: nothing is allocated per episode up
	// front, and cancelling keeps what finished, in order.
	ctx, cancel := context.WithCancel(context.Background())
	cfg := RolloutConfig{
		NewTask: func() Task { return &pointTask{} },
		Controller: func(task Task, _ int, seed uint64) (Controller, error) {
			return Auto(task.Expert(1, seed), "expert"), nil
		},
		Episodes: math.MaxInt, Workers: 2, Clock: WallClock{},
	}
	// Before the cancel every episode arrives in turn; after it, an episode
	// cut short is dropped, and ones that finished past it still arrive, in
	// order (Index says which they are).
	got, last := 0, -1
	err := Stream(ctx, cfg, func(ep *Episode) error {
		if (got < 500 && ep.Index != got) || ep.Index <= last {
			t.Fatalf("episode %d delivered after %d (%d delivered)", ep.Index, last, got)
		}
		if ep.Start.IsZero() || ep.End.Before(ep.Start) {
			t.Fatalf("episode %d: start %v end %v; want stamped by the clock", ep.Index, ep.Start, ep.End)
		}
		got, last = got+1, ep.Index
		if got == 500 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want context.Canceled", err)
	}
	if got < 500 {
		t.Fatalf("delivered %d; want at least the 500 before the cancel", got)
	}
}

func TestStreamStopsOnCallbackError(t *testing.T) {
	boom := errors.New("disk full")
	cfg := pointRollout(2, 1)
	calls := 0
	err := Stream(context.Background(), cfg, func(*Episode) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Errorf("err %v after %d calls; want %v after 3", err, calls, boom)
	}
}
