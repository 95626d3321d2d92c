package policies

import (
	"context"

	"tandem/sim"
)

// IWR, intervention-weighted regression (Mandlekar et al., "Human-in-the-
// Loop Imitation Learning using Remote Teleoperation", 2020), as Sirius's
// baseline runs it (robomimic/utils/dataset.py, IWRDataset.
// get_dataset_sampler): intervention samples are drawn with weight
// (N − N_int)/N_int and every other sample with weight 1, so half of the
// samples drawn are interventions; the loss is unweighted. tandem draws
// each batch slot from the interventions with probability ½ and from the
// rest otherwise, which is the same distribution. Pre-intervention steps
// are ordinary robot steps here. Without interventions it is plain BC.
type iwr struct{}

func init() { RegisterLearner("iwr", func() Learner { return iwr{} }) }

// Name implements Learner.
func (iwr) Name() string { return "iwr" }

// iwrShare is the share of interventions in the samples drawn.
const iwrShare = 0.5

// Train implements Learner.
func (iwr) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	c, err := parseLearner("iwr", &in, nil)
	if err != nil {
		return TrainOutput{}, err
	}
	d, err := prepare(&in, c.Memory, sim.DefaultPreIntervention)
	if err != nil {
		return TrainOutput{}, err
	}
	var intv, rest []int
	for r, cl := range d.class {
		if cl == sim.ClassIntervention {
			intv = append(intv, r)
		} else {
			rest = append(rest, r)
		}
	}
	pl := &plan{hyper: map[string]any{}, stats: map[string]any{"intervention_rows": len(intv), "other_rows": len(rest)}}
	switch {
	case len(intv) > 0 && len(rest) > 0:
		pl.strata, pl.prob, pl.names = [][]int{intv, rest}, []float64{iwrShare, 1 - iwrShare}, []string{"intervention", "other"}
		pl.hyper["intervention_weight"] = float64(len(rest)) / float64(len(intv))
	case len(intv) > 0:
		pl.strata = [][]int{intv}
	default:
		pl.strata = [][]int{rest}
	}
	return fit(ctx, "iwr", &in, c, d, pl)
}
