package policies

import "tandem/sim"

// SiriusClasses labels each step of e with its Sirius class
// (sim.Classes): demo, robot or intervention by source, and robot steps
// within window steps before an intervention start pre-intervention.
// window ≤ 0 means sim.DefaultPreIntervention. It is the store's
// labelling (demos.LabelSteps) exactly: both call sim.Classes.
func SiriusClasses(e *Episode, window int) []sim.Class {
	return sim.Classes(e.Source, e.InterventionStart, window)
}

// robotFraction is the share of e's steps the robot acted in (Sirius's
// rollout_p in SequenceDataset.sort_demos: steps whose action mode is
// neither demo nor intervention).
func robotFraction(e *Episode) float64 {
	if e.Len() == 0 {
		return 0
	}
	n := 0
	for _, s := range e.Source {
		if s == sim.Robot {
			n++
		}
	}
	return float64(n) / float64(e.Len())
}
