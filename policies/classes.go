package policies

import "tandem/sim"

// Sirius's step classes (UT-Austin-RPL/sirius, robomimic/utils/dataset.py:
// action_modes and _get_intv_labels), with the values Sirius and the store
// (demos.Class) use, so a class means the same in a card, an export and a
// learner.
const (
	ClassPreIntervention = -10
	ClassDemo            = -1
	ClassRobot           = 0
	ClassIntervention    = 1
)

// DefaultPreIntervention is Sirius's pre-intervention window in steps
// (fixed_preintv_length = 15; the store's demos.DefaultPreIntervention).
const DefaultPreIntervention = 15

// SiriusClasses labels each step of e with its Sirius class: demo, robot or
// intervention by Source, and robot steps within window steps before an
// intervention start relabelled pre-intervention, walking back from the
// start and stopping early at the previous intervention (or any non-robot
// step). window ≤ 0 means DefaultPreIntervention. It follows the store's
// labelling (demos.LabelSteps) exactly: an intervention starts where the
// recorded flag says so, or at a human step right after a robot step.
func SiriusClasses(e *Episode, window int) []int {
	if window <= 0 {
		window = DefaultPreIntervention
	}
	out := make([]int, len(e.Source))
	for t, s := range e.Source {
		out[t] = classOf(s)
	}
	for t := range out {
		if !interventionStart(e, t) {
			continue
		}
		for j, n := t-1, 0; j >= 0 && n < window; j, n = j-1, n+1 {
			if e.Source[j] != sim.Robot {
				break
			}
			out[j] = ClassPreIntervention
		}
	}
	return out
}

func classOf(s sim.Source) int {
	switch s {
	case sim.Robot:
		return ClassRobot
	case sim.Human:
		return ClassIntervention
	}
	return ClassDemo
}

// interventionStart reports whether step t of e starts an intervention:
// the recorded flag, or a human step following a robot step (data whose
// controller did not set the flag), as demos.LabelSteps decides.
func interventionStart(e *Episode, t int) bool {
	if e.InterventionStart != nil && e.InterventionStart[t] {
		return true
	}
	return e.Source[t] == sim.Human && t > 0 && e.Source[t-1] == sim.Robot
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
