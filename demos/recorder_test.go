package demos

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"tandem/sim"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// liveSession returns a Tick-driven session of the dot task on a manual
// clock and a function that runs n ticks.
func liveSession(t *testing.T, ctl sim.Controller) (*sim.Session, func(n int)) {
	t.Helper()
	clock := sim.NewManualClock(testStart)
	sess, err := sim.NewSession(newDot(6, 10), sim.SessionConfig{ID: "s1", Controller: ctl, Clock: clock, Seed: 100})
	if err != nil {
		t.Fatal(err)
	}
	now := testStart
	return sess, func(n int) {
		for range n {
			sess.Tick(now)
			now = now.Add(sess.Period())
			clock.Advance(sess.Period())
		}
	}
}

func TestRecorderRecordsLiveSession(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet})
	defer rec.Close()
	task := newDot(6, 10)
	sess, tick := liveSession(t, &interventionist{expert: task.Expert(1, 0), period: 20, start: 5, n: 3})
	r, err := rec.Attach(ctx, sess, SessionInfo{Mode: sim.ModeShared})
	if err != nil {
		t.Fatal(err)
	}
	witness := sess.Subscribe(4096)
	tick(130) // two full episodes of 50 steps, and part of a third
	r.Stop()
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	witness.Close()
	// What the session published, per session episode.
	want := map[int][]*sim.Record{}
	seeds := map[int]uint64{}
	for r := range witness.C {
		if r.Kind == sim.StepRecord {
			want[r.Episode] = append(want[r.Episode], r)
		} else {
			seeds[r.Episode] = r.Seed
		}
	}
	eps, err := s.ListEpisodes(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 {
		t.Fatalf("stored %d episodes; want 3", len(eps))
	}
	for i, ep := range eps {
		recs := want[i+1]
		if ep.Length != len(recs) || ep.Seed != seeds[i+1] {
			t.Fatalf("episode %d: length %d seed %d; want %d, %d", i, ep.Length, ep.Seed, len(recs), seeds[i+1])
		}
		last := i == 2
		if ep.Complete == last || (ep.Outcome == Cut) != last {
			t.Fatalf("episode %d: complete %v outcome %s; want the last one cut", i, ep.Complete, ep.Outcome)
		}
		if ep.Mode != sim.ModeShared || !reflect.DeepEqual(ep.Operators, []string{"alice"}) || ep.Interventions == 0 {
			t.Fatalf("episode %d: mode %s operators %v interventions %d", i, ep.Mode, ep.Operators, ep.Interventions)
		}
		steps, err := s.Steps(ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		for j, st := range steps {
			r := recs[j]
			if !reflect.DeepEqual(st.Obs, r.Obs.Append(nil)) || !reflect.DeepEqual(st.Action, r.Action.Append(nil)) ||
				st.Source != r.Source || st.Reward != r.Reward || !st.Wall.Equal(r.Wall) || st.InterventionStart != r.InterventionStart {
				t.Fatalf("episode %d step %d = %+v; want the published record", i, j, st)
			}
		}
		if !last {
			if n, err := Verify(ctx, s, ep.ID, dotLookup(6, 10)); err != nil || n != 50 {
				t.Fatalf("Verify(episode %d) = %d, %v; want 50 steps", ep.ID, n, err)
			}
		}
	}
	st := rec.Stats()
	if st.CommittedSteps != uint64(len(want[1])+len(want[2])+len(want[3])) || st.DroppedSteps != 0 || st.PendingSteps != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRecorderBoundsMemoryAndCountsDrops(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	// The writer never commits on its own: the disk "cannot keep up".
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, CommitInterval: time.Hour, MaxPending: 10})
	defer rec.Close()
	sess, tick := liveSession(t, sim.Demonstrate(newDot(6, 10).Expert(1, 0), "bob"))
	r, err := rec.Attach(ctx, sess, SessionInfo{})
	if err != nil {
		t.Fatal(err)
	}
	tick(30) // 30 steps (the first tick also resets); the loop must not block
	waitFor(t, func() bool { return rec.Stats().DroppedSteps == 20 })
	if st, ok := rec.Status("s1"); !ok || st.Dropped != 20 || !st.Incomplete || st.Steps != 10 {
		t.Fatalf("status %+v, %v; want 20 dropped, 10 steps, incomplete", st, ok)
	}
	r.Stop()
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	eps, _ := s.ListEpisodes(ctx, Filter{})
	if len(eps) != 1 || eps[0].Dropped != 20 || eps[0].Complete || eps[0].Length != 10 {
		t.Fatalf("episodes %+v; want one with 10 steps, 20 dropped, incomplete", eps)
	}
	if _, err := Verify(ctx, s, eps[0].ID, dotLookup(6, 10)); err == nil {
		t.Fatal("Verify of an episode with dropped steps succeeded")
	}
}

func TestRecorderCommitFailureIsVisibleAndRetried(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, CommitInterval: time.Hour})
	defer rec.Close() // reports the rows it could not commit
	sess, tick := liveSession(t, sim.Demonstrate(newDot(6, 10).Expert(1, 0), "bob"))
	if _, err := rec.Attach(ctx, sess, SessionInfo{}); err != nil {
		t.Fatal(err)
	}
	tick(5)
	waitFor(t, func() bool { return rec.Stats().PendingSteps == 5 })
	s.db.Close() // the disk fails
	if err := rec.Flush(ctx); err == nil {
		t.Fatal("Flush on a closed database succeeded")
	}
	tick(5) // the session keeps running
	st := rec.Stats()
	if st.CommitFailures == 0 || st.LastError == "" || st.DroppedSteps != 0 {
		t.Fatalf("stats %+v; want a failure with its error and nothing dropped", st)
	}
	waitFor(t, func() bool { return rec.Stats().PendingSteps == 10 })
	if sess.State().T != 10 {
		t.Fatalf("session at t = %d; want 10", sess.State().T)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A reset before an episode's first step stores nothing (issue 15: a
// reset flood stored 89,701 empty episodes in 10 s); ids stay consecutive
// because no row was ever inserted. An episode whose every step was lost
// is still stored, so the loss shows.
func TestRecorderSkipsZeroStepEpisodes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet})
	defer rec.Close()
	sess, tick := liveSession(t, sim.Demonstrate(newDot(6, 10).Expert(1, 0), "bob"))
	r, err := rec.Attach(ctx, sess, SessionInfo{})
	if err != nil {
		t.Fatal(err)
	}
	tick(2) // episode 1: 2 steps
	for range 50 {
		if err := sess.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	tick(3) // 49 episodes without a step, then one with 3
	for range 10 {
		sess.Reset()
	}
	tick(1) // 9 more empty ones; the last has a step when the recording stops
	r.Stop()
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	eps, err := s.ListEpisodes(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var lengths []int
	for _, ep := range eps {
		lengths = append(lengths, ep.Length)
	}
	if !reflect.DeepEqual(lengths, []int{2, 3, 1}) {
		t.Fatalf("stored episode lengths %v; want [2 3 1] (no zero-step episode)", lengths)
	}
	if eps[1].ID != eps[0].ID+1 || eps[2].ID != eps[1].ID+1 {
		t.Errorf("ids %d, %d, %d; want consecutive (no row inserted for empty episodes)", eps[0].ID, eps[1].ID, eps[2].ID)
	}
	if eps[1].Seed != eps[0].Seed+50 {
		t.Errorf("second stored episode has seed %d; want %d (the 50th reset's)", eps[1].Seed, eps[0].Seed+50)
	}
	if st := r.Status(); st.Episodes != 3 {
		t.Errorf("status counts %d episodes; want 3", st.Episodes)
	}

	// Every step of an episode lost (the queue is full): stored, flagged.
	s2, _ := openTest(t)
	rec2 := NewRecorder(s2, RecorderConfig{Logger: quiet, CommitInterval: time.Hour, MaxPending: 1})
	defer rec2.Close()
	sess2, tick2 := liveSession(t, sim.Demonstrate(newDot(6, 10).Expert(1, 0), "bob"))
	r2, err := rec2.Attach(ctx, sess2, SessionInfo{})
	if err != nil {
		t.Fatal(err)
	}
	tick2(1) // queued: the queue is now full
	sess2.Reset()
	tick2(2) // both steps of episode 2 dropped
	waitFor(t, func() bool { return rec2.Stats().DroppedSteps == 2 })
	r2.Stop()
	if err := rec2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	eps2, _ := s2.ListEpisodes(ctx, Filter{})
	if len(eps2) != 2 || eps2[1].Length != 0 || eps2[1].Dropped != 2 || eps2[1].Complete {
		t.Fatalf("episodes %+v; want the second with no step, 2 dropped, incomplete", eps2)
	}
}
