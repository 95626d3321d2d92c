package demos

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"tandem/sim"
)

// tapped records a live session and a rollout with a Tap and returns the
// origin store and every row the tap heard, through JSON as a transport
// carries them.
func tapped(t *testing.T) (*Store, []Row) {
	t.Helper()
	ctx := context.Background()
	origin, _ := openTest(t)
	var mu sync.Mutex
	var rows []Row
	rec := NewRecorder(origin, RecorderConfig{Logger: quiet, Tap: func(r Row) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Errorf("marshal row: %v", err)
			return
		}
		var back Row
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("unmarshal row: %v", err)
			return
		}
		mu.Lock()
		rows = append(rows, back)
		mu.Unlock()
	}})
	task := newDot(6, 10)
	sess, tick := liveSession(t, &interventionist{expert: task.Expert(1, 0), period: 20, start: 5, n: 3})
	r, err := rec.Attach(ctx, sess, SessionInfo{Mode: sim.ModeShared, Tags: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	tick(70) // one full episode of 50 steps and part of a second (cut by Stop)
	r.Stop()
	ro, err := rec.Rollout(ctx, RolloutInfo{Spec: task.Spec(), Mode: sim.ModeTeleop, Session: "rollout@w1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range rollout(t, 6, []uint64{7, 8}, expertCtl) {
		for i := range ep.Steps { // an expert's labels, as teleop.Labeler gives
			ep.Steps[i].ExpertAction.Set(ep.Steps[i].Action.Slice())
		}
		if err := ro.Add(ctx, &ep); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return origin, rows
}

// sameEpisodes compares every episode and step of two stores by UID.
func sameEpisodes(t *testing.T, a, b *Store) {
	t.Helper()
	ctx := context.Background()
	ea, err := a.ListEpisodes(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.ListEpisodes(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ea) != len(eb) {
		t.Fatalf("got %d episodes; want %d", len(eb), len(ea))
	}
	byUID := map[string]Episode{}
	for _, e := range eb {
		byUID[e.UID] = e
	}
	for _, want := range ea {
		got, ok := byUID[want.UID]
		if !ok {
			t.Fatalf("episode %s missing", want.UID)
		}
		sa, err := a.Steps(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Steps(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sa, sb) {
			t.Fatalf("episode %s: steps differ (%d vs %d)", want.UID, len(sb), len(sa))
		}
		got.ID, got.SessionID = want.ID, want.SessionID
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("episode %s:\n got %+v\nwant %+v", want.UID, got, want)
		}
	}
}

func TestIngestReproducesTheOrigin(t *testing.T) {
	ctx := context.Background()
	origin, rows := tapped(t)
	if len(rows) < 100 {
		t.Fatalf("tap heard %d rows", len(rows))
	}
	if n := countExpert(t, origin); n == 0 {
		t.Fatal("no step with an expert label to carry")
	}
	tests := []struct {
		name string
		rows func() []Row
	}{
		{"in order", func() []Row { return rows }},
		{"twice", func() []Row { return append(append([]Row{}, rows...), rows...) }},
		{"shuffled with repeats", func() []Row {
			out := append(append([]Row{}, rows...), rows[10:40]...)
			rng := rand.New(rand.NewPCG(1, 2))
			rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			return out
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := openTest(t)
			pending := tc.rows()
			stored := 0
			for round := 0; len(pending) > 0; round++ {
				if round > 10 {
					t.Fatalf("%d rows still waiting after 10 rounds", len(pending))
				}
				// In batches, as a consumer fetches them; waiting rows come
				// back in the next round, as a redelivery would.
				var again []Row
				for len(pending) > 0 {
					n := min(37, len(pending))
					st, err := dst.Ingest(ctx, pending[:n])
					if err != nil {
						t.Fatal(err)
					}
					for i, s := range st {
						switch s {
						case Waiting:
							again = append(again, pending[i])
						case Ingested:
							stored++
						}
					}
					pending = pending[n:]
				}
				pending = again
			}
			if stored != len(rows) {
				t.Errorf("%d rows reported ingested; want each of the %d distinct rows once (the rest duplicates)", stored, len(rows))
			}
			sameEpisodes(t, origin, dst)
			var n int
			if err := dst.DB().QueryRowContext(ctx, `SELECT count(*) FROM steps`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			var want int
			if err := origin.DB().QueryRowContext(ctx, `SELECT count(*) FROM steps`).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("got %d steps; want %d", n, want)
			}
		})
	}
}

func TestIngestRefusesMalformedRows(t *testing.T) {
	dst, _ := openTest(t)
	_, rows := tapped(t)
	bad := append([]Row{}, rows[:3]...)
	bad = append(bad, Row{Kind: RowStep, UID: rows[0].UID, Step: &Step{T: -1}})
	_, err := dst.Ingest(context.Background(), bad)
	var br *BadRowError
	if !errors.As(err, &br) || br.Index != 3 || !errors.Is(err, ErrBadRow) {
		t.Fatalf("got %v; want a BadRowError for row 3", err)
	}
	if n, _ := dst.ListEpisodes(context.Background(), Filter{}); len(n) != 0 {
		t.Fatalf("a refused batch stored %d episodes", len(n))
	}
}

func countExpert(t *testing.T, st *Store) int {
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM steps WHERE expert_action IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRolloutTapHearsWholeRowsWhileTheWriterCommits: a rollout's episode
// block is committed (and its block cleared for reuse) while Add may still
// be tapping; every row the tap hears must be whole. The writer commits
// every microsecond and the tap is slow, so a tap that read the queued
// block saw rows the writer had zeroed.
func TestRolloutTapHearsWholeRowsWhileTheWriterCommits(t *testing.T) {
	s, _ := openTest(t)
	var mu sync.Mutex
	var rows []Row
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, CommitInterval: time.Microsecond, Tap: func(r Row) {
		time.Sleep(10 * time.Microsecond)
		mu.Lock()
		rows = append(rows, r)
		mu.Unlock()
	}})
	task := newDot(6, 10)
	ro, err := rec.Rollout(context.Background(), RolloutInfo{Spec: task.Spec(), Mode: sim.ModeAuto})
	if err != nil {
		t.Fatal(err)
	}
	eps := rollout(t, 6, []uint64{7, 8, 9}, expertCtl)
	want := 0
	for range 5 {
		for _, ep := range eps {
			if err := ro.Add(context.Background(), &ep); err != nil {
				t.Fatal(err)
			}
			want += len(ep.Steps) + 2
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != want {
		t.Fatalf("tap heard %d rows; want %d", len(rows), want)
	}
	for i, r := range rows {
		if r.UID == "" || (r.Kind == RowStep) != (r.Step != nil) || (r.Kind == RowBegin) != (r.Begin != nil) ||
			(r.Kind == RowEnd) != (r.End != nil) || (r.Kind != RowStep && r.Kind != RowBegin && r.Kind != RowEnd) {
			t.Fatalf("row %d is not whole: %+v", i, r)
		}
	}
}
