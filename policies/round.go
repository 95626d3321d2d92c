package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"tandem/sim"
)

// RoundResult is one round of a learner: the trained policy and its
// evaluation alone on held-out seeds, with the wall time of each part.
type RoundResult struct {
	Output       TrainOutput `json:"-"`
	Eval         EvalResult  `json:"evaluation"`
	TrainSeconds float64     `json:"train_seconds"`
	EvalSeconds  float64     `json:"eval_seconds"`
}

// TrainAndEvaluate trains algorithm on in, then runs the new policy (its
// NewActor) alone for episodes held-out episodes (seeds from
// EvalSeedBase) and records the result in the card's evaluation. It is a
// round of hitl or of the online trainer without the data collection, and
// the unit of "a Sirius round on reach" in docs/algorithms.md. in.NewTask
// is required.
func TrainAndEvaluate(ctx context.Context, algorithm string, in TrainInput, episodes int) (RoundResult, error) {
	if in.NewTask == nil {
		return RoundResult{}, fmt.Errorf("policies: %s: evaluation needs TrainInput.NewTask", algorithm)
	}
	l, err := NewLearner(algorithm)
	if err != nil {
		return RoundResult{}, err
	}
	start := time.Now()
	out, err := l.Train(ctx, in)
	if err != nil {
		return RoundResult{}, err
	}
	r := RoundResult{Output: out, TrainSeconds: time.Since(start).Seconds()}
	start = time.Now()
	r.Eval, err = Evaluate(ctx, EvalConfig{
		NewTask: in.NewTask, Episodes: episodes, Version: algorithm,
		NewPolicy: func(sim.Task, uint64) (sim.Policy, error) { return NewActor(out.Model, &out.Card) },
	})
	if err != nil {
		return RoundResult{}, err
	}
	r.EvalSeconds = time.Since(start).Seconds()
	raw, err := json.Marshal(r.Eval)
	if err != nil {
		return RoundResult{}, err
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return RoundResult{}, err
	}
	r.Output.Card.Evaluation = ev
	return r, nil
}
