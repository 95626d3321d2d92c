package policies

import (
	"context"
	"fmt"
	"tandem/sim"
)

// Sirius (Liu et al., "Robot Learning on the Job", RSS 2023;
// UT-Austin-RPL/sirius, robomimic/utils/dataset.py) weights each step's
// loss by its class: interventions carry half the loss mass,
// pre-intervention steps 0.2%, demonstrations their natural share and
// robot steps the rest (SiriusWeights); sampling stays uniform. Memory
// management (Memory) bounds the data by rounds or intervention share.
type sirius struct{}

func init() { RegisterLearner("sirius", func() Learner { return sirius{} }) }

// Name implements Learner.
func (sirius) Name() string { return "sirius" }

// Sirius's class shares (robomimic/utils/dataset.py, _sirius_reweight:
// weight_intv = 0.5, weight_preintv = 0.002).
const (
	siriusIntervention    = 0.5
	siriusPreIntervention = 0.002
)

// ClassWeights are per-class loss weights (Sirius's hc_weights).
type ClassWeights struct {
	Demo            float64 `json:"demo"`
	Robot           float64 `json:"robot"`
	Intervention    float64 `json:"intervention"`
	PreIntervention float64 `json:"pre_intervention"`
	// Guarded is set when Sirius's robot weight would have been negative
	// (demonstrations more than 49.8% of the samples) or there were no
	// robot steps: robot steps then weigh 0 and demonstrations share the
	// non-intervention mass.
	Guarded bool `json:"guarded,omitempty"`
}

// Of returns the weight of class c.
func (w ClassWeights) Of(c sim.Class) float64 {
	switch c {
	case sim.ClassDemo:
		return w.Demo
	case sim.ClassRobot:
		return w.Robot
	case sim.ClassIntervention:
		return w.Intervention
	case sim.ClassPreIntervention:
		return w.PreIntervention
	}
	return 0
}

// SiriusWeights returns Sirius's class weights for samples of the given
// classes. With ρ_c the fraction of samples in class c:
//
//	w_int = 0.5/ρ_int, w_pre = 0.002/ρ_pre, w_demo = 1,
//	w_robot = (1 − 0.5 − ρ_demo − 0.002)/ρ_robot,
//
// so that interventions carry half the loss mass, pre-intervention steps
// 0.2%, demonstrations their natural share and robot steps the rest; the
// mean weight is 1. Where the code is silent tandem decides:
//
//   - robot share negative (ρ_demo > 0.498) or no robot step: robot steps
//     weigh 0 and demonstrations take the rest, w_demo = (1 − 0.5 −
//     s_pre)/ρ_demo (s_pre 0.002, or 0 without pre-intervention steps):
//     interventions keep their half, and the weights meet Sirius's at the
//     boundary (w_robot → 0, w_demo → 1). Guarded reports it.
//   - no pre-intervention step: its 0.2% goes to the rest.
//   - no intervention: nothing to reweight; every weight is 1 (plain BC).
//   - finally the weights are scaled to mean 1 over the samples (a no-op
//     except when only interventions are present).
//
// A class without samples gets weight 0.
func SiriusWeights(classes []sim.Class) ClassWeights {
	var nDemo, nRobot, nInt, nPre int
	for _, c := range classes {
		switch c {
		case sim.ClassDemo:
			nDemo++
		case sim.ClassRobot:
			nRobot++
		case sim.ClassIntervention:
			nInt++
		case sim.ClassPreIntervention:
			nPre++
		}
	}
	n := float64(len(classes))
	if nInt == 0 {
		w := ClassWeights{}
		for _, c := range []struct {
			k int
			w *float64
		}{{nDemo, &w.Demo}, {nRobot, &w.Robot}, {nPre, &w.PreIntervention}} {
			if c.k > 0 {
				*c.w = 1
			}
		}
		return w
	}
	rDemo, rRobot, rInt, rPre := float64(nDemo)/n, float64(nRobot)/n, float64(nInt)/n, float64(nPre)/n
	w := ClassWeights{Intervention: siriusIntervention / rInt}
	sPre := 0.0
	if nPre > 0 {
		sPre = siriusPreIntervention
		w.PreIntervention = sPre / rPre
	}
	rest := 1 - siriusIntervention - sPre - rDemo
	switch {
	case nRobot > 0 && rest >= 0:
		w.Robot = rest / rRobot
		if nDemo > 0 {
			w.Demo = 1
		}
	case nDemo > 0:
		w.Guarded = true
		w.Demo = (1 - siriusIntervention - sPre) / rDemo
	default:
		// Interventions and nothing else (pre-intervention steps need robot
		// steps).
	}
	mean := rDemo*w.Demo + rRobot*w.Robot + rInt*w.Intervention + rPre*w.PreIntervention
	if mean > 0 && mean != 1 {
		w.Demo, w.Robot, w.Intervention, w.PreIntervention = w.Demo/mean, w.Robot/mean, w.Intervention/mean, w.PreIntervention/mean
	}
	return w
}

// Train implements Learner.
func (sirius) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	var window int
	c, err := parseLearner("sirius", &in, func(p *params) { window = p.int("preintv", sim.DefaultPreIntervention, 0, 1000) })
	if err != nil {
		return TrainOutput{}, err
	}
	d, err := prepare(&in, c.Memory, window)
	if err != nil {
		return TrainOutput{}, err
	}
	if window == 0 {
		for i, cl := range d.class { // no pre-intervention class: they stay robot steps
			if cl == sim.ClassPreIntervention {
				d.class[i] = sim.ClassRobot
			}
		}
	}
	w := SiriusWeights(d.class)
	rows := make([]int, len(d.class))
	weight := make([]float32, len(d.class))
	counts := map[string]int{}
	share := map[string]float64{} // each class's share of the loss mass
	total := 0.0
	for r, cl := range d.class {
		rows[r] = r
		weight[r] = float32(w.Of(cl))
		counts[className(cl)]++
		share[className(cl)] += float64(weight[r])
		total += float64(weight[r])
	}
	for k := range share {
		share[k] /= total
	}
	pl := &plan{strata: [][]int{rows}, weight: weight,
		hyper: map[string]any{"preintv": window, "class_weights": w},
		stats: map[string]any{"class_counts": counts, "class_loss_share": share}}
	return fit(ctx, "sirius", &in, c, d, pl)
}

func className(c sim.Class) string {
	switch c {
	case sim.ClassDemo:
		return "demo"
	case sim.ClassRobot:
		return "robot"
	case sim.ClassIntervention:
		return "intervention"
	case sim.ClassPreIntervention:
		return "pre_intervention"
	}
	return fmt.Sprint(c)
}
