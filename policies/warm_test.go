package policies_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tandem/policies"
)

// A warm start continues from the parent: same network, its loss where the
// parent left off, and the lineage on the card.
func TestWarmStartContinuesFromTheParent(t *testing.T) {
	eps := []policies.Episode{toyEpisode("a", 0, "dddddddddddddddddddd"), toyEpisode("b", 0, "dddddddddddddddddddd")}
	parent := train(t, "bc", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1,
		Params: map[string]string{"steps": "400", "hidden": "32x32", "head": "deterministic"}})
	parent.Card.Version = "toy/1"
	fresh := train(t, "bc", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 2,
		Params: map[string]string{"steps": "1", "hidden": "32x32", "head": "deterministic"}})
	child := train(t, "sirius", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 2,
		Parent: parent.Model, ParentCard: &parent.Card, Params: map[string]string{"steps": "1"}})
	pl, cl, fl := parent.Stats["loss_final"].(float64), child.Stats["loss_first"].(float64), fresh.Stats["loss_first"].(float64)
	if !(cl < fl/10) || !(cl < 3*pl+1e-4) {
		t.Errorf("first loss %.5f warm, %.5f fresh; the parent ended at %.5f", cl, fl, pl)
	}
	h := child.Card.Hyperparameters
	if h["hidden"] != "32x32" || h["head"] != "deterministic" || h["warm_start"] != true || child.Card.Parent != "toy/1" {
		t.Errorf("child card %v parent %q; want the parent's network, warm_start, parent toy/1", h, child.Card.Parent)
	}
	if child.Model.Normalizer() != parent.Model.Normalizer() {
		t.Error("the child renormalised; it must keep the parent's normalisation")
	}

	l, _ := policies.NewLearner("bc")
	_, err := l.Train(context.Background(), policies.TrainInput{Spec: toySpec(), Episodes: eps, Parent: parent.Model,
		Params: map[string]string{"hidden": "64x64"}})
	if err == nil || !strings.Contains(err.Error(), "hidden=64x64 but the parent has 32x32") {
		t.Errorf("conflicting architecture: %v", err)
	}
	wide := toySpec()
	wide.ActionLow, wide.ActionHigh = []float64{-2}, []float64{2}
	_, err = l.Train(context.Background(), policies.TrainInput{Spec: wide, Episodes: eps, Parent: parent.Model})
	if err == nil || !strings.Contains(err.Error(), "bounds [-1, 1] are not task toy's [-2, 2]") {
		t.Errorf("other action bounds: %v", err)
	}
}

func TestTrainingStopsWhenTheContextEnds(t *testing.T) {
	eps := []policies.Episode{toyEpisode("a", 0, "dddddddddd")}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	l, _ := policies.NewLearner("bc")
	_, err := l.Train(ctx, policies.TrainInput{Spec: toySpec(), Episodes: eps, Params: map[string]string{"steps": "20000", "hidden": "8", "batch": "8"},
		Progress: func(done, total int) {
			if calls++; calls == 2 {
				cancel()
			}
			if done > 1000 {
				t.Fatalf("still training at step %d after the context ended", done)
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v; want context.Canceled", err)
	}
}
