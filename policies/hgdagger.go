package policies

import (
	"context"

	"tandem/sim"
)

// HG-DAgger (Kelly et al., "HG-DAgger: Interactive Imitation Learning with
// Human Experts", ICRA 2019): the learner aggregates the human-controlled
// segments (interventions) with the demonstrations and retrains on them,
// uniformly; robot steps are never training samples (they stay in the
// dataset only as frame history before an intervention).
type hgDAgger struct{}

func init() { RegisterLearner("hg-dagger", func() Learner { return hgDAgger{} }) }

// Name implements Learner.
func (hgDAgger) Name() string { return "hg-dagger" }

// Train implements Learner.
func (hgDAgger) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	c, err := parseLearner("hg-dagger", &in, nil)
	if err != nil {
		return TrainOutput{}, err
	}
	d, err := prepare(&in, c.Memory, sim.DefaultPreIntervention)
	if err != nil {
		return TrainOutput{}, err
	}
	var rows []int
	dropped := 0
	for r, s := range d.source {
		if s == sim.Robot {
			dropped++
			continue
		}
		rows = append(rows, r)
	}
	pl := &plan{strata: [][]int{rows}, stats: map[string]any{"robot_rows_dropped": dropped}}
	return fit(ctx, "hg-dagger", &in, c, d, pl)
}
