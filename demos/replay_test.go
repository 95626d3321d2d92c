package demos

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"tandem/sim"
)

func TestVerifyReplaysExactly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := addRollouts(t, s, 8, []uint64{4, 5}, "", sharedCtl)
	for _, id := range ids {
		n, err := Verify(ctx, s, id, dotLookup(8, 10))
		if err != nil || n != 50 {
			t.Fatalf("Verify(%d) = %d, %v; want 50 steps", id, n, err)
		}
	}
}

func TestVerifyFindsDivergence(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		sql   string
		t     int
		field string
	}{
		// One ulp off in observation "vx" (index 2) of step 7.
		{"observation", "UPDATE steps SET obs = ? WHERE episode_id = ? AND t = 7", 7, "vx"},
		// A different action at step 3 shows in the next observation.
		{"action", "UPDATE steps SET action = ? WHERE episode_id = ? AND t = 3", 4, "x"},
		{"reward", "UPDATE steps SET reward = reward + 1 WHERE ? IS NOT NULL AND episode_id = ? AND t = 9", 9, "reward"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t)
			id := addRollouts(t, s, 6, []uint64{9}, "", expertCtl)[0]
			steps, _ := s.Steps(ctx, id)
			var arg any = 0
			switch tc.name {
			case "observation":
				o := append([]float64(nil), steps[7].Obs...)
				o[2] = math.Nextafter(o[2], math.Inf(1))
				arg = blob(o)
			case "action":
				arg = blob([]float64{0.123, -0.5})
			}
			if _, err := s.DB().ExecContext(ctx, tc.sql, arg, id); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(ctx, s, id, dotLookup(6, 10))
			var de *DivergenceError
			if !errors.As(err, &de) {
				t.Fatalf("Verify: got %v; want a DivergenceError", err)
			}
			if de.T != tc.t || de.Field != tc.field {
				t.Fatalf("divergence at step %d field %s; want step %d field %s", de.T, de.Field, tc.t, tc.field)
			}
		})
	}
}

// TestReplayVerifyChecksStoredSteps damages the stored steps of an episode and
// expects Verify (and a live replay) to name the step that is missing or
// out of order, not an observation divergence.
func TestReplayVerifyChecksStoredSteps(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		sql     []string // each run with the episode id as its only argument
		t       int
		problem string
	}{
		{"step missing", []string{"DELETE FROM steps WHERE episode_id = ? AND t = 7"}, 7, "missing"},
		{"last step missing", []string{"DELETE FROM steps WHERE episode_id = ? AND t = 49"}, 49, "missing"},
		{"no steps", []string{"DELETE FROM steps WHERE episode_id = ?"}, 0, "missing: no steps stored, recorded length 50"},
		{"beyond the length", []string{"UPDATE episodes SET length = 40 WHERE id = ?"}, 40, "is beyond the recorded length 40"},
		{"out of order", []string{
			"CREATE TEMP TABLE moved AS SELECT * FROM steps WHERE episode_id = ? AND t = 3",
			"DELETE FROM steps WHERE episode_id = ? AND t = 3",
			"INSERT INTO steps SELECT * FROM moved WHERE episode_id = ?",
		}, 3, "stored out of order (after step 49)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t)
			id := addRollouts(t, s, 6, []uint64{9}, "", expertCtl)[0]
			conn, err := s.DB().Conn(ctx) // one connection: the TEMP table lives on it
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.sql {
				if _, err := conn.ExecContext(ctx, q, id); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			conn.Close()
			_, err = Verify(ctx, s, id, dotLookup(6, 10))
			var se *StepsError
			if !errors.As(err, &se) {
				t.Fatalf("Verify: got %v; want a StepsError", err)
			}
			if se.T != tc.t || se.Problem != tc.problem {
				t.Fatalf("got step %d %q; want step %d %q", se.T, se.Problem, tc.t, tc.problem)
			}
			if want := fmt.Sprintf("episode %d: step %d %s", id, tc.t, tc.problem); err.Error() != want {
				t.Fatalf("message %q; want %q", err, want)
			}
			if _, err := NewReplay(ctx, s, id, dotLookup(6, 10), ReplayConfig{}); !errors.As(err, &se) {
				t.Fatalf("NewReplay: got %v; want a StepsError", err)
			}
		})
	}
}

func TestVerifyRefusesOtherTaskVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := addRollouts(t, s, 6, []uint64{1}, "", expertCtl)[0]
	lookup := func(string) (sim.Task, error) {
		d := newDot(6, 10)
		d.spec.Version = 4
		return d, nil
	}
	if _, err := Verify(ctx, s, id, lookup); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("Verify with task version 4: got %v; want a version error", err)
	}
}

func TestReplaySessionPlaysRecordedEpisode(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := addRollouts(t, s, 6, []uint64{21}, "", sharedCtl)[0]
	recorded, _ := s.Steps(ctx, id)
	clock := sim.NewManualClock(testStart)
	rp, err := NewReplay(ctx, s, id, dotLookup(6, 10), ReplayConfig{Clock: clock, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	sub := rp.Session.Subscribe(1024)
	now := testStart
	tick := func(n int) {
		for range n {
			rp.Session.Tick(now)
			now = now.Add(rp.Session.Period())
		}
	}
	tick(3) // paused: nothing plays
	if next, _ := rp.Position(); next != 0 {
		t.Fatalf("paused replay advanced to %d", next)
	}
	if err := rp.Step(); err != nil {
		t.Fatal(err)
	}
	tick(3) // one step, then paused again
	if next, total := rp.Position(); next != 1 || total != 50 {
		t.Fatalf("after Step: position %d/%d; want 1/50", next, total)
	}
	rp.Play()
	tick(60) // the rest, then it holds
	if next, _ := rp.Position(); next != 50 {
		t.Fatalf("after play: position %d; want 50", next)
	}
	if !rp.Session.State().Paused {
		t.Fatal("replay did not pause at the end of the recording")
	}
	sub.Close()
	i := 0
	for r := range sub.C {
		if r.Kind != sim.StepRecord {
			continue
		}
		st := &recorded[i]
		if r.Source != st.Source || r.InterventionStart != st.InterventionStart || r.Reward != st.Reward ||
			!equalBits(r.Next.Slice(), st.Next) {
			t.Fatalf("replayed step %d: source %s reward %v; want %s %v and the recorded observation", i, r.Source, r.Reward, st.Source, st.Reward)
		}
		i++
	}
	if i != 50 {
		t.Fatalf("replayed %d steps; want 50", i)
	}
}

func TestScaledClock(t *testing.T) {
	base := sim.NewManualClock(testStart)
	c := NewScaledClock(base, 2)
	base.Advance(time.Second)
	if got := c.Now().Sub(testStart); got != 2*time.Second {
		t.Fatalf("at 2x after 1 s: %v; want 2s", got)
	}
	if err := c.SetSpeed(0.5); err != nil {
		t.Fatal(err)
	}
	base.Advance(time.Second)
	if got := c.Now().Sub(testStart); got != 2500*time.Millisecond {
		t.Fatalf("after speed change: %v; want 2.5s (continuous)", got)
	}
	for _, bad := range []float64{0, -1, 1e-300, 0.049, 20.001, 1e300, math.NaN(), math.Inf(1)} {
		if err := c.SetSpeed(bad); err == nil {
			t.Fatalf("SetSpeed(%v) accepted; want refused outside [%g, %g]", bad, MinSpeed, float64(MaxSpeed))
		}
	}
	if c.Speed() != 0.5 {
		t.Fatalf("speed %g after refused changes; want 0.5 kept", c.Speed())
	}
	for _, ok := range []float64{MinSpeed, 1, 16.5, MaxSpeed} {
		if err := c.SetSpeed(ok); err != nil {
			t.Fatalf("SetSpeed(%v): %v; want accepted", ok, err)
		}
	}
	if s := NewScaledClock(base, 1e-300).Speed(); s != 1 {
		t.Fatalf("NewScaledClock(1e-300) runs at %g; want 1", s)
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return false
		}
	}
	return true
}
