package sim

import (
	"context"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newPointSession(t *testing.T, clock Clock, ctl Controller) *Session {
	t.Helper()
	task := &pointTask{}
	if ctl == nil {
		ctl = Auto(task.Expert(1, 1), "v1")
	}
	s, err := NewSession(task, SessionConfig{ID: "s1", Controller: ctl, Clock: clock, Seed: 10, MaxCatchUp: 3})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func drain(sub *Subscription) []*Record {
	var out []*Record
	for {
		select {
		case r := <-sub.C:
			out = append(out, r)
		default:
			return out
		}
	}
}

func idle(version string) Controller {
	return Auto(PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = 0.01, 0 }), version)
}

func TestSessionTicksAtControlRate(t *testing.T) {
	s := newPointSession(t, NewManualClock(t0), idle("v1"))
	sub := s.Subscribe(100)
	next := s.Tick(t0)
	if want := t0.Add(100 * time.Millisecond); !next.Equal(want) {
		t.Fatalf("next tick at %v; want %v", next, want)
	}
	// Early wake-ups run nothing.
	s.Tick(t0.Add(50 * time.Millisecond))
	for i := 1; i <= 5; i++ {
		s.Tick(t0.Add(time.Duration(i) * 100 * time.Millisecond))
	}
	recs := drain(sub)
	if len(recs) != 7 { // reset + tick at t0 + 5 ticks
		t.Fatalf("got %d records; want 7", len(recs))
	}
	if recs[0].Kind != ResetRecord || recs[0].Step.Seed != 10 || recs[0].Episode != 1 {
		t.Errorf("first record %+v; want the reset of episode 1 seed 10", recs[0].Kind)
	}
	for i, r := range recs[1:] {
		if r.Kind != StepRecord || r.T != i || r.Source != Robot || r.PolicyVersion != "v1" {
			t.Errorf("record %d: kind %s T %d source %s version %q", i+1, r.Kind, r.T, r.Source, r.PolicyVersion)
		}
		if len(r.Poses) != 2 {
			t.Errorf("record %d has %d poses; want 2", i+1, len(r.Poses))
		}
	}
}

func TestSessionCapsCatchUp(t *testing.T) {
	s := newPointSession(t, NewManualClock(t0), nil)
	sub := s.Subscribe(100)
	s.Tick(t0)
	drain(sub)
	// A 1 s stall: 10 ticks due, at most MaxCatchUp (3) run.
	next := s.Tick(t0.Add(time.Second))
	if got := len(drain(sub)); got != 3 {
		t.Errorf("ran %d ticks after a stall; want 3", got)
	}
	if st := s.State(); st.Overruns != 7 {
		t.Errorf("overruns %d; want 7", st.Overruns)
	}
	if want := t0.Add(time.Second + 100*time.Millisecond); !next.Equal(want) {
		t.Errorf("next %v; want %v (rescheduled from now)", next, want)
	}
}

func TestSessionPauseResumeReset(t *testing.T) {
	s := newPointSession(t, NewManualClock(t0), nil)
	sub := s.Subscribe(100)
	now := t0
	s.Tick(now)
	s.Pause()
	for range 3 {
		now = now.Add(100 * time.Millisecond)
		s.Tick(now)
	}
	if st := s.State(); !st.Paused || st.T != 1 {
		t.Fatalf("paused state %+v; want paused at T=1", st)
	}
	s.Resume()
	now = now.Add(100 * time.Millisecond)
	s.Tick(now)
	if st := s.State(); st.Paused || st.T != 2 {
		t.Fatalf("resumed state T=%d paused=%v; want T=2 running", st.T, st.Paused)
	}
	s.ResetTo(99)
	now = now.Add(100 * time.Millisecond)
	s.Tick(now)
	recs := drain(sub)
	var resets []uint64
	for _, r := range recs {
		if r.Kind == ResetRecord {
			resets = append(resets, r.Step.Seed)
		}
	}
	if len(resets) != 2 || resets[1] != 99 {
		t.Errorf("reset seeds %v; want [10 99]", resets)
	}
	if st := s.State(); st.Episode != 2 || st.Seed != 99 {
		t.Errorf("episode %d seed %d; want 2, 99", st.Episode, st.Seed)
	}
}

func TestSessionAutoResetsAfterEpisodeEnds(t *testing.T) {
	s := newPointSession(t, NewManualClock(t0), idle("idle"))
	sub := s.Subscribe(200)
	now := t0
	for range 51 { // reset + 50 steps (truncated) in 50 ticks, then the auto reset
		s.Tick(now)
		now = now.Add(100 * time.Millisecond)
	}
	recs := drain(sub)
	last := recs[len(recs)-1]
	if last.Kind != ResetRecord || last.Episode != 2 || last.Step.Seed != 11 {
		t.Fatalf("last record kind %s episode %d seed %d; want reset of episode 2 seed 11", last.Kind, last.Episode, last.Step.Seed)
	}
	if prev := recs[len(recs)-2]; !prev.Truncated {
		t.Errorf("step before the reset not truncated: %+v", prev.Step.T)
	}
}

func TestSessionSlowSubscriberDropsOldest(t *testing.T) {
	s := newPointSession(t, NewManualClock(t0), nil)
	slow := s.Subscribe(2)
	fast := s.Subscribe(100)
	now := t0
	for range 6 {
		s.Tick(now)
		now = now.Add(100 * time.Millisecond)
	}
	got := drain(slow)
	all := drain(fast)
	if len(got) != 2 || slow.Dropped() != uint64(len(all)-2) {
		t.Fatalf("slow subscriber got %d, dropped %d of %d", len(got), slow.Dropped(), len(all))
	}
	if got[1] != all[len(all)-1] || got[0] != all[len(all)-2] {
		t.Error("slow subscriber did not keep the newest records")
	}
	if fast.Dropped() != 0 {
		t.Errorf("fast subscriber dropped %d", fast.Dropped())
	}
}

func TestSessionBadControllerActionHolds(t *testing.T) {
	nan := Auto(PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = math.NaN(), 1 }), "bad")
	s := newPointSession(t, NewManualClock(t0), nan)
	sub := s.Subscribe(10)
	s.Tick(t0)
	s.Tick(t0.Add(100 * time.Millisecond))
	recs := drain(sub)
	if len(recs) != 3 {
		t.Fatalf("got %d records; want the loop to keep ticking (3)", len(recs))
	}
	for _, r := range recs[1:] {
		if a := r.Action.Slice(); a[0] != 0 || a[1] != 0 || !r.Help {
			t.Errorf("bad action replaced by %v help=%v; want hold [0 0] with help", a, r.Help)
		}
	}
	if st := s.State(); st.Rejected != 2 {
		t.Errorf("rejected %d; want 2", st.Rejected)
	}
}

func TestSessionRunInVirtualTime(t *testing.T) {
	clock := NewManualClock(t0)
	s := newPointSession(t, clock, nil)
	sub := s.Subscribe(100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	want := []RecordKind{ResetRecord, StepRecord, StepRecord, StepRecord}
	deadline := time.After(10 * time.Second)
	for i, k := range want {
		if i >= 2 {
			for clock.Waiters() == 0 { // loop parked on the clock
				select {
				case <-deadline:
					t.Fatal("the loop never waited on the clock within 10 s")
				case <-time.After(time.Millisecond):
				}
			}
			clock.Advance(100 * time.Millisecond)
		}
		var r *Record
		select {
		case r = <-sub.C:
		case <-deadline:
			t.Fatalf("record %d did not arrive within 10 s", i)
		}
		if r.Kind != k {
			t.Fatalf("record %d kind %s; want %s", i, r.Kind, k)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its context ending")
	}
	if _, ok := <-sub.C; ok {
		// drain anything left, then the channel must be closed
		for range sub.C {
		}
	}
	if err := s.Pause(); err != ErrSessionClosed {
		t.Errorf("command after Run ended: %v; want ErrSessionClosed", err)
	}
	if err := s.Run(context.Background()); err != ErrSessionClosed {
		t.Errorf("second Run: %v; want ErrSessionClosed", err)
	}
}

func TestSessionRequiresControllerAndClock(t *testing.T) {
	if _, err := NewSession(&pointTask{}, SessionConfig{Clock: WallClock{}}); err == nil {
		t.Error("session without controller accepted")
	}
	if _, err := NewSession(&pointTask{}, SessionConfig{Controller: Auto(PolicyFunc(func(_, _ []float64) {}), "")}); err == nil {
		t.Error("session without clock accepted")
	}
}
