package demos

import "tandem/sim"

// Class is a step's learning label, after Sirius (UT-Austin-RPL/sirius,
// robomimic/utils/dataset.py: action_modes and _get_intv_labels).
type Class int

// Step classes; the values are Sirius's so exported labels mean the same.
const (
	ClassPreIntervention Class = -10
	ClassDemo            Class = -1
	ClassRobot           Class = 0
	ClassIntervention    Class = 1
)

// DefaultPreIntervention is the pre-intervention window in steps (Sirius
// fixed_preintv_length = 15).
const DefaultPreIntervention = 15

// Labels are the derived per-step labels learners use.
type Labels struct {
	// Mode is who acted: demo, robot or intervention (Sirius action_modes).
	Mode Class `json:"mode"`
	// Class is Mode with robot steps shortly before an intervention start
	// relabelled pre-intervention (Sirius intv_labels).
	Class Class `json:"class"`
	// InterventionStart marks the first human step of an intervention.
	InterventionStart bool `json:"intervention_start"`
	// RLIFReward is RLIF's reward: -1 on the robot step immediately before
	// an intervention starts, 0 otherwise (pd-perry/RLIF).
	RLIFReward float64 `json:"rlif_reward"`
}

// LabelSteps derives labels for one episode's steps. preWindow is the
// pre-intervention window (0 or less: DefaultPreIntervention); walking back
// from an intervention start it relabels up to preWindow robot steps and
// stops early at the previous intervention (or any non-robot step).
func LabelSteps(steps []Step, preWindow int) []Labels {
	if preWindow <= 0 {
		preWindow = DefaultPreIntervention
	}
	out := make([]Labels, len(steps))
	for i := range steps {
		out[i].Mode = modeOf(steps[i].Source)
		out[i].Class = out[i].Mode
	}
	for i := range steps {
		if !isInterventionStart(steps, i) {
			continue
		}
		out[i].InterventionStart = true
		if i > 0 && out[i-1].Mode == ClassRobot {
			out[i-1].RLIFReward = -1
		}
		for j, n := i-1, 0; j >= 0 && n < preWindow; j, n = j-1, n+1 {
			if out[j].Mode != ClassRobot {
				break
			}
			out[j].Class = ClassPreIntervention
		}
	}
	return out
}

func modeOf(s sim.Source) Class {
	switch s {
	case sim.Robot:
		return ClassRobot
	case sim.Human:
		return ClassIntervention
	}
	return ClassDemo
}

// isInterventionStart reports whether step i starts an intervention: the
// recorded flag, or a human step following a non-human one (for data whose
// controller did not set the flag).
func isInterventionStart(steps []Step, i int) bool {
	if steps[i].InterventionStart {
		return true
	}
	if steps[i].Source != sim.Human {
		return false
	}
	return i > 0 && steps[i-1].Source == sim.Robot
}
