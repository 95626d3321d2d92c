package rl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

func reachEpisodes(n int, seed uint64) []policies.Episode {
	r := nn.NewRand(seed)
	var eps []policies.Episode
	for i := range n {
		src := sim.Robot
		act := func(float64) float64 { return 2*r.Float64() - 1 }
		if i%4 == 0 {
			src = sim.Demo
			act = func(x float64) float64 { return -5 * x }
		}
		eps = append(eps, reach1DEpisode(int64(i+1), 2*r.Float64()-1, src, act))
	}
	return eps
}

var smallParams = map[string]string{"width": "32", "batch": "32", "min_updates": "150", "utd": "1"}

// A learner stopped after a round and restarted from its checkpoint (the
// policy files and the state file beside them) continues exactly as one
// that never stopped: the next round's actor is bit-identical. Without the
// state file the actor alone is warm-started.
func TestLearnerResumesFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	all := reachEpisodes(40, 5)
	round1, round2 := all[:20], all

	a := NewLearner(RLIF)
	out1, err := a.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round1, Params: smallParams, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	out2, err := a.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round2, Params: smallParams, Parent: out1.Model, ParentCard: &out1.Card, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if out2.Stats["resumed"] != "agent" {
		t.Fatalf("resumed %v; want agent", out2.Stats["resumed"])
	}

	// The same first round, saved, and a fresh learner resumed from disk.
	b := NewLearner(RLIF)
	out1b, err := b.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round1, Params: smallParams, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.safetensors")
	if err := nn.Save(path, out1b.Model, out1b.Card); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policies.StatePath(path), b.State(), 0o644); err != nil {
		t.Fatal(err)
	}
	model, card, err := nn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(policies.StatePath(path))
	if err != nil {
		t.Fatal(err)
	}
	c := NewLearner(RLIF)
	c.Resume(state)
	out2c, err := c.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round2, Params: smallParams, Parent: model, ParentCard: card, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if out2c.Stats["resumed"] != "state" {
		t.Fatalf("resumed %v; want state", out2c.Stats["resumed"])
	}
	if out2c.Stats["total_updates"] != out2.Stats["total_updates"] || out2c.Stats["updates"] != out2.Stats["updates"] {
		t.Fatalf("updates %v/%v; uninterrupted %v/%v", out2c.Stats["updates"], out2c.Stats["total_updates"], out2.Stats["updates"], out2.Stats["total_updates"])
	}
	if !slices.Equal(out2.Model.Params(0), out2c.Model.Params(0)) {
		t.Fatal("the resumed learner's actor differs from the uninterrupted one's")
	}

	// Without its state: the actor alone.
	d := NewLearner(RLIF)
	out2d, err := d.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round2, Params: smallParams, Parent: model, ParentCard: card, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if out2d.Stats["resumed"] != "actor" || slices.Equal(out2d.Model.Params(0), out2.Model.Params(0)) {
		t.Fatalf("resumed %v; want actor, with a different result", out2d.Stats["resumed"])
	}
	// …whose critics, being new, learn from every transition, and whose
	// temperature continues from the card.
	if out2d.Stats["new_transitions"] != out2d.Stats["transitions"] {
		t.Fatalf("warm start counted %v of %v transitions as new", out2d.Stats["new_transitions"], out2d.Stats["transitions"])
	}
	if tc, ok := cardTemperature(card); !ok || tc != b.agent.Temperature() {
		t.Fatalf("card temperature %v %v; the agent's %v", tc, ok, b.agent.Temperature())
	}
	// A state that belongs to another actor is not used.
	e := NewLearner(RLIF)
	e.Resume(state)
	out3, err := e.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round2, Params: smallParams, Parent: out2.Model, ParentCard: &out2.Card, Seed: 3})
	if err != nil || out3.Stats["resumed"] != "actor" {
		t.Fatalf("mismatched state: resumed %v, err %v; want actor", out3.Stats["resumed"], err)
	}
	// Changing the architecture against a state is refused with a reason.
	f := NewLearner(RLIF)
	f.Resume(state)
	if _, err := f.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: round2, Params: map[string]string{"width": "64"}, Parent: model, ParentCard: card}); err == nil {
		t.Fatal("a state of width 32 resumed at width 64")
	}
}

// The card says what trained the actor; the new-data count follows the
// parent card's episode list; no data and unknown parameters are errors;
// the learners are registered.
func TestLearnerCardAndErrors(t *testing.T) {
	ctx := context.Background()
	eps := reachEpisodes(8, 1)
	l := NewLearner(RLPD)
	out, err := l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: smallParams})
	if err != nil {
		t.Fatal(err)
	}
	if out.Card.Algorithm != RLPD || len(out.Card.Episodes) != 8 || out.Card.Task.Name != "reach-1d" || out.Card.Hyperparameters["resume_state"] == nil {
		t.Fatalf("card %+v", out.Card)
	}
	sum := sha256.Sum256(l.State())
	if rs, _ := out.Card.Hyperparameters["resume_state"].(map[string]any); rs["sha256"] != hex.EncodeToString(sum[:]) || rs["file_suffix"] != StateExt {
		t.Fatalf("card's resume_state %v; want the sha256 of State(), %x, and suffix %s", rs, sum, StateExt)
	}
	if h := out.Model.Head(); h.Kind != nn.Gaussian || !h.Squash {
		t.Fatalf("head %+v; want a tanh Gaussian", h)
	}
	out2, err := l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: smallParams, Parent: out.Model, ParentCard: &out.Card})
	if err != nil || out2.Stats["new_transitions"] != 0 || out2.Stats["updates"] != 150 {
		t.Fatalf("no new episodes: stats %v err %v; want 0 new and min_updates", out2.Stats, err)
	}
	if _, err := l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Params: smallParams}); !errors.Is(err, policies.ErrNoData) {
		t.Fatalf("no episodes: %v; want ErrNoData", err)
	}
	if _, err := l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: map[string]string{"nope": "1"}}); err == nil {
		t.Fatal("unknown parameter accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Train(cctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: smallParams}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	for _, name := range []string{RLIF, RLPD} {
		if ln, err := policies.NewLearner(name); err != nil || ln.Name() != name {
			t.Fatalf("registry: %v %v", ln, err)
		}
	}
}

// Train runs on the pool its input names (the online trainer's, which
// leaves live sessions a core); a learner kept on another pool continues
// from its state on the new one.
func TestLearnerUsesTheInputPool(t *testing.T) {
	ctx := context.Background()
	eps := reachEpisodes(8, 1)
	p1, p2 := nn.NewPool(1), nn.NewPool(0)
	l := NewLearner(RLIF)
	out, err := l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: smallParams, Pool: p1})
	if err != nil {
		t.Fatal(err)
	}
	if l.agent.pool != p1 {
		t.Fatal("the first round did not run on the input's pool")
	}
	for _, c := range []struct {
		pool    *nn.Pool
		resumed string
	}{{p1, "agent"}, {p2, "state"}, {nil, "state"}} {
		out, err = l.Train(ctx, policies.TrainInput{Spec: reach1DSpec, Episodes: eps, Params: smallParams, Pool: c.pool, Parent: out.Model, ParentCard: &out.Card})
		if err != nil {
			t.Fatal(err)
		}
		want := c.pool
		if want == nil {
			want = nn.DefaultPool()
		}
		if l.agent.pool != want || out.Stats["resumed"] != c.resumed {
			t.Fatalf("pool %v: ran on the input's pool %v, resumed %v; want true, %s", c.pool, l.agent.pool == want, out.Stats["resumed"], c.resumed)
		}
	}
}
