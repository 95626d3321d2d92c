package rl

import (
	"math"
	"slices"
	"strings"
	"testing"

	"tandem/policies/nn"
)

// An update (critic and actor steps) allocates nothing once warmed up.
func TestUpdateAllocationFree(t *testing.T) {
	for _, critics := range []int{2, 5} {
		g, s := benchAgent(t, critics, 32, 64)
		g.Update(s)
		g.Update(s)
		if a := testing.AllocsPerRun(20, func() { g.Update(s) }); a != 0 {
			t.Fatalf("%d critics: %g allocations per update; want 0", critics, a)
		}
	}
}

// Acting with the exploring actor allocates nothing (it runs in a
// session's loop or a rollout worker on every control step).
func TestExplorerActAllocationFree(t *testing.T) {
	g, _ := benchAgent(t, 2, 32, 64)
	m, err := g.Model()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewExplorer(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	obs, act := make([]float64, m.ObsDim()), make([]float64, m.ActDim())
	e.Act(obs, act)
	if a := testing.AllocsPerRun(50, func() { e.Act(obs, act) }); a != 0 {
		t.Fatalf("%g allocations per Act; want 0", a)
	}
}

// Two agents from the same seed on the same data make identical updates
// (the pool's scheduling does not change results), and their losses are
// finite.
func TestUpdateDeterministic(t *testing.T) {
	g1, s1 := benchAgent(t, 3, 32, 64)
	g2, s2 := benchAgent(t, 3, 32, 64)
	for range 30 {
		g1.Update(s1)
		g2.Update(s2)
	}
	if !slices.Equal(g1.aParams, g2.aParams) || !slices.Equal(g1.target[2], g2.target[2]) || g1.logAlpha != g2.logAlpha {
		t.Fatal("two agents with the same seed diverged")
	}
	st := g1.Stats()
	for _, v := range []float64{st.CriticLoss, st.ActorLoss, st.Q, st.Entropy, st.Temperature} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("stats not finite: %+v", st)
		}
	}
	if g1.Updates() != 30 || g1.ActorUpdates() != 30 {
		t.Fatalf("%d updates, %d actor updates; want 30 and 30", g1.Updates(), g1.ActorUpdates())
	}
}

// The targets follow the live critics by Polyak averaging: after one
// update each target moved τ of the way.
func TestPolyakTargets(t *testing.T) {
	g, s := benchAgent(t, 2, 16, 32)
	before := slices.Clone(g.target[0])
	g.Update(s)
	live := g.critics.Params(0)
	for i := range before {
		want := before[i] + float32(g.cfg.Tau)*(live[i]-before[i])
		if d := g.target[0][i] - want; d > 1e-6 || d < -1e-6 {
			t.Fatalf("target[%d] %g; want %g", i, g.target[0][i], want)
		}
	}
}

// LoadActor takes an actor of the agent's architecture and refuses any
// other network or head, naming what differs.
func TestLoadActorCompatibility(t *testing.T) {
	g, _ := benchAgent(t, 2, 32, 64)
	own, err := g.Model()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.LoadActor(own); err != nil {
		t.Fatalf("its own actor: %v", err)
	}
	model := func(c nn.Config, h nn.Head) *nn.Model {
		t.Helper()
		a, err := nn.NewArch(c)
		if err != nil {
			t.Fatal(err)
		}
		m, err := nn.NewModel(a, h, g.Normalizer(), 1, [][]float32{a.NewParams(1)})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	actor := nn.Config{In: 10, Hidden: []int{32, 32}, Out: 4, Act: nn.ReLU}
	for _, c := range []struct {
		name string
		m    *nn.Model
		msg  string
	}{
		{"same shape, new parameters", model(actor, ActorHead()), ""},
		{"wider", model(nn.Config{In: 10, Hidden: []int{64, 64}, Out: 4, Act: nn.ReLU}, ActorHead()), "is not the actor"},
		{"one layer", model(nn.Config{In: 10, Hidden: []int{32}, Out: 4, Act: nn.ReLU}, ActorHead()), "is not the actor"},
		{"swapped widths", model(nn.Config{In: 10, Hidden: []int{16, 64}, Out: 4, Act: nn.ReLU}, ActorHead()), "is not the actor"},
		{"tanh", model(nn.Config{In: 10, Hidden: []int{32, 32}, Out: 4, Act: nn.Tanh}, ActorHead()), "is not the actor"},
		{"layer norm", model(nn.Config{In: 10, Hidden: []int{32, 32}, Out: 4, Act: nn.ReLU, LayerNorm: true}, ActorHead()), "is not the actor"},
		{"no tanh on the mean", model(actor, nn.Head{Kind: nn.Gaussian}), "parent head"},
		{"deterministic head", model(nn.Config{In: 10, Hidden: []int{32, 32}, Out: 2, Act: nn.ReLU}, nn.Head{Kind: nn.Deterministic, Squash: true}), "is not the actor"},
	} {
		err := g.LoadActor(c.m)
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%s: %v; want accepted", c.name, err)
		case c.msg != "" && (err == nil || !strings.Contains(err.Error(), c.msg)):
			t.Errorf("%s: error %v; want one mentioning %q", c.name, err, c.msg)
		}
	}
}
