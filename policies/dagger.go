package policies

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"slices"

	"tandem/sim"
)

// DAgger (Ross, Gordon & Bagnell, "A Reduction of Imitation Learning and
// Structured Prediction to No-Regret Online Learning", AISTATS 2011), as
// RLIF's baseline runs it (pd-perry/RLIF: a random 50% of the states the
// learner visits are relabelled with the expert's action): the expert
// never takes over; the states the policy visits are labelled with what a
// simulated expert would have done there (steps.expert_action, recorded by
// a teleop.Labeler such as the simulated operator) and aggregated with the
// demonstrations. Parameter relabel (default 0.5, RLIF's) is the fraction
// of labelled robot steps used; the choice per step is a fixed hash of the
// training seed, the episode and the step, so a run repeats. Human steps
// (had an operator intervened) are kept with their executed action, as in
// HG-DAgger.
type dagger struct{}

func init() { RegisterLearner("dagger", func() Learner { return dagger{} }) }

// Name implements Learner.
func (dagger) Name() string { return "dagger" }

// DefaultRelabel is the fraction of visited states DAgger relabels (RLIF's
// DAgger baseline: 50%).
const DefaultRelabel = 0.5

// Train implements Learner.
func (dagger) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	var frac float64
	c, err := parseLearner("dagger", &in, func(p *params) { frac = p.float("relabel", DefaultRelabel, 0, 1, false) })
	if err != nil {
		return TrainOutput{}, err
	}
	// Relabel on copies: each chosen robot step's target becomes the
	// expert's action and, in the copy, its source the expert's (human):
	// the training rows are then every non-robot row. The store keeps the
	// executed action.
	eps := make([]Episode, len(in.Episodes))
	labelled, unlabelled := 0, 0
	for i := range in.Episodes {
		e := in.Episodes[i]
		acts, srcs := slices.Clone(e.Action), slices.Clone(e.Source)
		for t, s := range e.Source {
			if s != sim.Robot {
				continue
			}
			if t < len(e.ExpertAction) && e.ExpertAction[t] != nil {
				if pick(in.Seed, e.UID, e.ID, t) < frac {
					acts[t], srcs[t] = e.ExpertAction[t], sim.Human
					labelled++
				}
			} else {
				unlabelled++
			}
		}
		e.Action, e.Source = acts, srcs
		eps[i] = e
	}
	in.Episodes = eps
	d, err := prepare(&in, c.Memory, sim.DefaultPreIntervention)
	if err != nil {
		return TrainOutput{}, err
	}
	var rows []int
	for r, s := range d.source {
		if s != sim.Robot {
			rows = append(rows, r)
		}
	}
	pl := &plan{strata: [][]int{rows}, hyper: map[string]any{"relabel": frac},
		stats: map[string]any{"relabelled_rows": labelled, "robot_rows_without_label": unlabelled}}
	return fit(ctx, "dagger", &in, c, d, pl)
}

// pick is a number in [0, 1) fixed by the seed, the episode and the step.
func pick(seed uint64, uid string, id int64, t int) float64 {
	h := fnv.New64a()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(id))
	binary.LittleEndian.PutUint64(b[16:], uint64(t))
	h.Write(b[:])
	h.Write([]byte(uid))
	return float64(h.Sum64()>>11) / (1 << 53)
}
