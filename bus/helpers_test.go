package bus

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"tandem/demos"
	"tandem/sim"
	"tandem/tasks"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// embedded opens a bus with its own in-process server.
func embedded(t testing.TB) *Bus {
	t.Helper()
	b, err := Open(Config{Embedded: &ServerConfig{StoreDir: filepath.Join(t.TempDir(), "nats"), Logger: quiet}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	waitReady(t, b)
	return b
}

func waitReady(t testing.TB, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// startServer starts a standalone server listening on addr (port 0: any) in dir.
func startServer(t testing.TB, addr, dir string) *Server {
	t.Helper()
	s, err := StartServer(ServerConfig{Listen: addr, StoreDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client connects to urls.
func client(t testing.TB, urls string) *Bus {
	t.Helper()
	b, err := Open(Config{URLs: urls, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openStore(t testing.TB) *demos.Store {
	t.Helper()
	st, err := demos.Open(context.Background(), filepath.Join(t.TempDir(), "data"), demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// record runs n expert episodes of reach from firstSeed through a
// recorder on st whose tap is tap, and flushes it.
func record(t testing.TB, st *demos.Store, tap func(demos.Row), session string, firstSeed uint64, n int) {
	t.Helper()
	ctx := context.Background()
	rec := demos.NewRecorder(st, demos.RecorderConfig{Logger: quiet, Tap: tap})
	defer rec.Close()
	probe, _ := tasks.New("reach")
	ro, err := rec.Rollout(ctx, demos.RolloutInfo{Spec: probe.Spec(), Mode: sim.ModeAuto, Session: session})
	if err != nil {
		t.Fatal(err)
	}
	err = sim.Stream(ctx, sim.RolloutConfig{
		NewTask: func() sim.Task { tk, _ := tasks.New("reach"); return tk },
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(task.Expert(1, seed), "expert"), nil
		},
		Episodes: n, FirstSeed: firstSeed, Workers: 1, KeepSteps: true,
	}, func(ep *sim.Episode) error { return ro.Add(ctx, ep) })
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// count returns the episodes and steps in st.
func count(t testing.TB, st *demos.Store) (episodes, steps int) {
	t.Helper()
	db := st.DB()
	if err := db.QueryRow(`SELECT count(*) FROM episodes`).Scan(&episodes); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM steps`).Scan(&steps); err != nil {
		t.Fatal(err)
	}
	return episodes, steps
}

// sameSteps fails unless dst holds every episode of src (by uid) with the
// same number of steps and the same outcome.
func sameSteps(t testing.TB, src, dst *demos.Store) {
	t.Helper()
	q := `SELECT e.uid, e.outcome, e.length, (SELECT count(*) FROM steps s WHERE s.episode_id = e.id) FROM episodes e ORDER BY e.uid`
	read := func(st *demos.Store) map[string][3]any {
		rows, err := st.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][3]any{}
		for rows.Next() {
			var uid, outcome string
			var length, n int
			if err := rows.Scan(&uid, &outcome, &length, &n); err != nil {
				t.Fatal(err)
			}
			out[uid] = [3]any{outcome, length, n}
		}
		return out
	}
	a, b := read(src), read(dst)
	if len(a) != len(b) {
		t.Fatalf("got %d episodes; want %d", len(b), len(a))
	}
	for uid, want := range a {
		if got := b[uid]; got != want {
			t.Fatalf("episode %s: got (outcome, length, steps) %v; want %v", uid, got, want)
		}
	}
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
