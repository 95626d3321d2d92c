package rl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

func publishAgent(t *testing.T, b *Board, g *Agent, version uint64) *nn.Model {
	t.Helper()
	m, err := g.Model()
	if err != nil {
		t.Fatal(err)
	}
	tensors, cj, err := nn.Encode(m, nn.Card{Algorithm: RLIF})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), Weights{Version: version, Tensors: tensors, Card: cj}); err != nil {
		t.Fatal(err)
	}
	return m
}

// Weights published to an actor change its actions: at its next episode
// the follower acts exactly as the newly published model.
func TestPublishedWeightsChangeActions(t *testing.T) {
	g, s := benchAgent(t, 2, 32, 64)
	board := NewBoard()
	hold := sim.PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = 0.25, -0.25 })
	f := NewFollower(board, false, 1, hold)
	obs := []float64{0.3, -1, 0.5, 0.2, 0.1, 0, 0, 0.4, -0.2, 1}
	act := make([]float64, 2)
	f.Reset(0)
	f.Act(obs, act)
	if f.Version() != 0 || act[0] != 0.25 {
		t.Fatalf("before any weights: version %d action %v; want the fallback's", f.Version(), act)
	}
	m1 := publishAgent(t, board, g, 1)
	want := make([]float64, 2)
	f.Act(obs, act)
	if act[0] != 0.25 {
		t.Fatal("the follower changed policy within an episode")
	}
	f.Reset(1)
	f.Act(obs, act)
	m1.NewPolicy().Act(obs, want)
	if f.Version() != 1 || f.Label() != "rl/1" || !slices.Equal(act, want) {
		t.Fatalf("version %d action %v; want 1 and %v", f.Version(), act, want)
	}
	a1 := slices.Clone(act)
	for range 50 {
		g.Update(s)
	}
	m2 := publishAgent(t, board, g, 2)
	publishAgent(t, board, g, 1) // an older version is ignored
	f.Reset(2)
	f.Act(obs, act)
	m2.NewPolicy().Act(obs, want)
	if f.Version() != 2 || !slices.Equal(act, want) || slices.Equal(act, a1) {
		t.Fatalf("version %d action %v (before %v); want 2 and %v", f.Version(), act, a1, want)
	}
	// A stochastic follower samples around the mode, within bounds,
	// repeatably per episode seed.
	e := NewFollower(board, true, 7, nil)
	var first []float64
	for k := range 2 {
		e.Reset(3)
		e.Act(obs, act)
		if act[0] < -1 || act[0] > 1 || act[1] < -1 || act[1] > 1 {
			t.Fatalf("explorer action %v out of bounds", act)
		}
		if k == 0 {
			first = slices.Clone(act)
		} else if !slices.Equal(first, act) {
			t.Fatalf("explorer not repeatable: %v then %v", first, act)
		}
	}
	if slices.Equal(act, want) {
		t.Fatal("the explorer acted with the mode")
	}
	// Undecodable weights keep the current version.
	board.Publish(context.Background(), Weights{Version: 9, Tensors: []byte("junk"), Card: []byte("{}")})
	f.Reset(4)
	f.Reset(5) // the same undecodable version is not decoded again
	if f.Version() != 2 || f.DecodeErrors() != 1 {
		t.Fatalf("after junk and two episodes: version %d, %d errors; want 2 and 1", f.Version(), f.DecodeErrors())
	}
	// Good weights after the junk are adopted.
	m10 := publishAgent(t, board, g, 10)
	f.Reset(6)
	f.Act(obs, act)
	m10.NewPolicy().Act(obs, want)
	if f.Version() != 10 || !slices.Equal(act, want) {
		t.Fatalf("after junk then good weights: version %d action %v; want 10 and %v", f.Version(), act, want)
	}
}

// Steps streamed one by one are labelled exactly as the whole episode is.
func TestStreamingLabelsMatchEpisodes(t *testing.T) {
	for _, c := range []struct {
		algo  string
		srcs  string
		steps ExpertSteps
		term  bool
	}{{RLIF, "rrHhhrrhHhr", ExpertLast, true}, {RLIF, "rrHhhrrhHhr", ExpertAll, false}, {RLPD, "rrHhrr", ExpertAll, true}} {
		cfg := DefaultConfig(c.algo)
		cfg.ExpertSteps = c.steps
		e := episodeOf(c.srcs, c.term)
		want := Label(nil, c.algo, &e, &spec1, &cfg)
		r, err := NewRunner(RunnerConfig{Algo: c.algo, Config: cfg, Spec: spec1})
		if err != nil {
			t.Fatal(err)
		}
		for t0 := range e.Len() {
			next := e.Next
			if t0+1 < e.Len() {
				next = e.Obs[t0+1]
			}
			last := t0 == e.Len()-1
			r.Ingest([]Step{{Episode: "e", T: t0, Obs: e.Obs[t0], Action: e.Action[t0], Next: next, Source: e.Source[t0],
				InterventionStart: e.InterventionStart[t0], Reward: e.Reward[t0], Terminal: last && e.Terminal, Truncated: last && e.Truncated}})
		}
		if len(r.pending) != 0 {
			t.Fatalf("%s %s: %d episodes still open", c.algo, c.srcs, len(r.pending))
		}
		var nd, no int
		for _, l := range want {
			if l.InDemo() {
				nd++
			}
			if l.InOnline() {
				no++
			}
		}
		d, o := r.sampler.Demo, r.sampler.Online
		if d.Len() != nd || o.Len() != no {
			t.Fatalf("%s %s: buffers %d/%d; want %d/%d", c.algo, c.srcs, d.Len(), o.Len(), nd, no)
		}
		i := 0
		for _, l := range want {
			if !l.InOnline() {
				continue
			}
			if o.obs[i] != float32(l.Obs[0]) || o.rew[i] != float32(l.Reward) || (o.mask[i] == 0) != l.Done {
				t.Fatalf("%s %s: online transition %d is (%g, %g, mask %g); want %+v", c.algo, c.srcs, i, o.obs[i], o.rew[i], o.mask[i], l)
			}
			i++
		}
	}
}

// A gap in an episode's steps drops only the step whose successor never
// came: the steps before it are labelled, and the step after the gap
// starts the episode's window again.
func TestIngestGap(t *testing.T) {
	r, err := NewRunner(RunnerConfig{Algo: RLPD, Config: DefaultConfig(RLPD), Spec: spec1})
	if err != nil {
		t.Fatal(err)
	}
	for _, t0 := range []int{0, 1, 2, 5, 6} {
		x := float64(t0)
		r.Ingest([]Step{{Episode: "e", T: t0, Obs: []float64{x}, Action: []float64{0}, Next: []float64{x + 1}, Source: sim.Robot, Terminal: t0 == 6}})
	}
	st := r.Stats()
	o := r.sampler.Online
	if st.Stale != 1 || st.Transitions != 4 || o.Len() != 4 || len(r.pending) != 0 {
		t.Fatalf("stale %d, transitions %d, online %d, open %d; want 1, 4, 4, 0", st.Stale, st.Transitions, o.Len(), len(r.pending))
	}
	for i, want := range []float32{0, 1, 5, 6} {
		if o.obs[i] != want {
			t.Fatalf("online transition %d holds step %g; want %g (steps %v)", i, o.obs[i], want, o.obs[:o.Len()])
		}
	}
}

// The whole seam: a learner goroutine and two actor goroutines that meet
// only through a Pipe of steps and a Board of weights. Actors adopt new
// versions as the learner publishes them, and the learner never makes
// more than UTD updates per transition it received.
func TestRunnerWithActors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := DefaultConfig(RLPD)
	cfg.Width, cfg.Batch, cfg.Start, cfg.PublishEvery, cfg.UTD = 32, 32, 50, 20, 1
	r, err := NewRunner(RunnerConfig{Algo: RLPD, Config: cfg, Spec: reach1DSpec, Seed: 1,
		Episodes: reachEpisodes(4, 9)[:1]}) // one stored episode to start from
	if err != nil {
		t.Fatal(err)
	}
	pipe, board := NewPipe(64), NewBoard()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, pipe, board) }()

	var wg sync.WaitGroup
	versions := make([][]uint64, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := NewFollower(board, true, uint64(w), nil)
			obs, act := []float64{0}, []float64{0}
			for ep := 0; ctx.Err() == nil; ep++ {
				f.Reset(uint64(ep))
				versions[w] = append(versions[w], f.Version())
				if f.Version() >= 4 {
					return
				}
				x := 0.9 - 1.8*float64(ep%7)/6
				for step := range reach1DSpec.Horizon {
					obs[0] = x
					f.Act(obs, act)
					nx, success := reach1DStep(x, act[0])
					rew := 0.0
					if success {
						rew = 1
					}
					s := Step{Episode: fmt.Sprintf("w%d-%d", w, ep), T: step, Obs: []float64{x}, Action: []float64{act[0]}, Next: []float64{nx},
						Source: sim.Robot, Reward: rew, Terminal: success, Truncated: !success && step == reach1DSpec.Horizon-1, PolicyVersion: f.Label()}
					if err := pipe.Put(ctx, []Step{s}); err != nil {
						return
					}
					if success {
						break
					}
					x = nx
				}
			}
		}()
	}
	wg.Wait()
	pipe.Close()
	if err := <-done; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("timed out: versions seen %v, stats %+v", versions, r.Stats())
	}
	st := r.Stats()
	for w, vs := range versions {
		if vs[0] >= 4 || vs[len(vs)-1] < 4 || !slices.IsSorted(vs) {
			t.Fatalf("actor %d saw versions %v; want them rising to ≥ 4", w, vs)
		}
	}
	if st.Updates > cfg.UTD*st.Transitions || st.Updates < 3*cfg.PublishEvery || st.Stale != 0 {
		t.Fatalf("stats %+v: updates must stay within UTD × transitions, reach 3 publications, none stale", st)
	}
	var _ policies.Learner = NewLearner(RLIF)
}
