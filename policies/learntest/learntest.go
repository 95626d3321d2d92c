// Package learntest registers a small, fast behaviour-cloning learner,
// "tiny", for tests of the machinery around learners (trainers, the bus,
// the commands) while the real learners live elsewhere. It is imported by
// tests and by the tandem binary built with the tag tandem_tiny, never by
// the server itself.
package learntest

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"tandem/policies"
	"tandem/policies/nn"
)

// Name is the learner's registered name.
const Name = "tiny"

var once sync.Once

// Register registers the learner (once; later calls do nothing).
func Register() {
	once.Do(func() { policies.RegisterLearner(Name, func() policies.Learner { return learner{} }) })
}

type learner struct{}

func (learner) Name() string { return Name }

// Train fits a one-hidden-layer deterministic policy to every executed
// action for "steps" gradient steps (default 200) of 64 samples; a parent
// is ignored. Params: steps.
func (learner) Train(ctx context.Context, in policies.TrainInput) (policies.TrainOutput, error) {
	steps := 200
	for k, v := range in.Params {
		switch k {
		case "steps":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1_000_000 {
				return policies.TrainOutput{}, fmt.Errorf("tiny: steps %q: want an integer in [1, 1000000]", v)
			}
			steps = n
		default:
			return policies.TrainOutput{}, fmt.Errorf("tiny: unknown parameter %q (valid: steps)", k)
		}
	}
	spec := in.Spec
	ds := nn.NewDataset(spec.ObsSize(), spec.ActionSize())
	var uids []string
	for i := range in.Episodes {
		e := &in.Episodes[i]
		if e.Len() == 0 {
			continue
		}
		if _, err := ds.AppendEpisode(e.Obs, e.Action); err != nil {
			return policies.TrainOutput{}, err
		}
		uids = append(uids, e.UID)
	}
	if ds.Len() == 0 {
		return policies.TrainOutput{}, policies.ErrNoData
	}
	norm, err := nn.NewNormalizer(ds.Obs, ds.ObsDim, spec.ActionLow, spec.ActionHigh)
	if err != nil {
		return policies.TrainOutput{}, err
	}
	tr, err := nn.NewTrainer(nn.TrainerConfig{
		Hidden: []int{32}, Act: nn.ReLU, Head: nn.Head{Kind: nn.Deterministic, Squash: true},
		Adam: nn.AdamConfig{LR: 3e-3}, Batch: 64, Seed: in.Seed + 1,
	}, norm)
	if err != nil {
		return policies.TrainOutput{}, err
	}
	rng := nn.NewRand(in.Seed + 1)
	idx, w := make([]int, 64), make([]float32, 64)
	for i := range w {
		w[i] = 1
	}
	for s := range steps {
		if s%64 == 0 && ctx.Err() != nil {
			return policies.TrainOutput{}, ctx.Err()
		}
		rng.Indices(idx, ds.Len())
		tr.Step(ds, idx, w)
		if in.Progress != nil {
			in.Progress(s+1, steps)
		}
	}
	m, err := tr.Model()
	if err != nil {
		return policies.TrainOutput{}, err
	}
	card := nn.Card{Algorithm: Name, Task: nn.TaskCard{Name: spec.Name, ObsNames: spec.ObsNames, ActionNames: spec.ActionNames}, Episodes: uids}
	return policies.TrainOutput{Model: m, Card: card, Stats: map[string]any{"steps": steps}}, nil
}
