package live

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// expertEpisodes stores n expert episodes of task from seed 1.
func expertEpisodes(t testing.TB, st *demos.Store, task string, n int) {
	t.Helper()
	ctx := context.Background()
	probe, err := tasks.New(task)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := sim.Rollout(ctx, sim.RolloutConfig{
		NewTask: func() sim.Task { tk, _ := tasks.New(task); return tk },
		Controller: func(tk sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(tk.Expert(1, seed), policies.Expert), nil
		},
		Episodes: n, FirstSeed: 1, Workers: 1, KeepSteps: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if _, err := st.AddEpisode(ctx, demos.Info{Spec: probe.Spec(), Seed: ep.Seed, Mode: sim.ModeAuto}, ep.Steps); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnlineWithoutSessions runs the online trainer as `tandem learn` does:
// no hub, the tasks named by a function, each event handed to a hook.
func TestOnlineWithoutSessions(t *testing.T) {
	st, err := demos.Open(context.Background(), t.TempDir(), demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	expertEpisodes(t, st, "reach", 8)
	events := make(chan OnlineEvent, 8)
	o, err := StartOnline(OnlineConfig{Algo: "bc", MinNewEpisodes: 3, EvalEpisodes: 10, PromoteMin: PromoteAny,
		Every: 100 * time.Millisecond, Params: map[string]string{"steps": "1500", "hidden": "32"}, Note: "test"},
		OnlineDeps{Store: st, Tasks: func() []string { return []string{"reach"} }, OnEvent: func(e OnlineEvent) { events <- e },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var e OnlineEvent
	select {
	case e = <-events:
	case <-time.After(60 * time.Second):
		t.Fatal("no training within 60 s")
	}
	if e.Err != "" || e.Version != "reach-bc-1" || !e.Promoted || e.Episodes != 8 {
		t.Fatalf("event %+v: want reach-bc-1 trained on 8 episodes and promoted", e)
	}
	t.Logf("held-out success %.2f", e.Eval.SuccessRate)
	cur, ok, err := st.Current(context.Background(), "reach")
	if err != nil || !ok || cur.Version != e.Version || cur.Note != "test" {
		t.Fatalf("current %+v, %v, %v: want %s", cur, ok, err, e.Version)
	}
	if got := o.Events(); len(got) != 1 {
		t.Fatalf("got %d events; want 1", len(got))
	}
}

// TestFirstVersionPromotionRule checks the threshold for the first learned
// version: the default 0.5, a given one, and PromoteAny, which promotes a
// version that scored 0 (what `--promote-min 0` asks for).
func TestFirstVersionPromotionRule(t *testing.T) {
	for _, tc := range []struct {
		min, got float64
		want     bool
	}{
		{0, 0.49, false}, {0, 0.5, true}, // the default 0.5
		{0.9, 0.89, false}, {0.9, 0.9, true},
		{PromoteAny, 0, true}, {PromoteAny, 0.3, true},
	} {
		cfg := OnlineConfig{Algo: "bc", PromoteMin: tc.min}
		if err := cfg.defaults(); err != nil {
			t.Fatal(err)
		}
		o := &Online{cfg: cfg}
		got, why := o.decide(TrainResult{Eval: &policies.EvalResult{SuccessRate: tc.got, Episodes: 10}}, demos.PolicyVersion{}, false)
		if got != tc.want {
			t.Errorf("PromoteMin %g, held-out success %g: promoted %v (%s); want %v", tc.min, tc.got, got, why, tc.want)
		}
	}
	for _, bad := range []float64{-0.5, 1.5, math.NaN()} {
		cfg := OnlineConfig{Algo: "bc", PromoteMin: bad}
		if err := cfg.defaults(); err == nil {
			t.Errorf("PromoteMin %g accepted; want an error", bad)
		}
	}
}

// Close may be called from several goroutines at once (Online's methods
// are safe for concurrent use): each returns once the trainer stopped,
// none panics closing its stop channel again.
func TestOnlineCloseConcurrently(t *testing.T) {
	st, err := demos.Open(context.Background(), t.TempDir(), demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 200 {
		o, err := StartOnline(OnlineConfig{Algo: "bc"}, OnlineDeps{Store: st, Tasks: func() []string { return nil },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				o.Close()
			}()
		}
		close(start)
		wg.Wait()
	}
}

// Episodes leaves out what a learner must not see: an episode that lost
// steps while recording, and one whose stored steps fall short of its
// length. The online trainer's count of new episodes uses the same rule.
func TestEpisodesLeaveOutIncompleteOnes(t *testing.T) {
	ctx := context.Background()
	st, err := demos.Open(ctx, t.TempDir(), demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	expertEpisodes(t, st, "reach", 4)
	if _, err := st.DB().ExecContext(ctx, `UPDATE episodes SET dropped = 2, complete = 0 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `UPDATE episodes SET length = length + 1 WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	eps, err := Episodes(ctx, st, demos.Filter{Task: "reach"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range eps {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []int64{1, 4}) {
		t.Fatalf("episodes %v; want [1 4] (2 lost steps, 3 misses one)", ids)
	}
}
