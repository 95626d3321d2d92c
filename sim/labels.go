package sim

// Class is a step's learning label after Sirius (UT-Austin-RPL/sirius,
// robomimic/utils/dataset.py: action_modes and _get_intv_labels). The
// values are Sirius's, so a class means the same in the store's exports,
// a card and a learner. It lives here, beside Source, because both the
// store (demos) and the learners (policies) label steps with it.
type Class int

// Step classes.
const (
	ClassPreIntervention Class = -10
	ClassDemo            Class = -1
	ClassRobot           Class = 0
	ClassIntervention    Class = 1
)

// DefaultPreIntervention is Sirius's pre-intervention window in steps
// (fixed_preintv_length = 15).
const DefaultPreIntervention = 15

// ClassOf is the class of a step by who acted (Sirius's action_modes).
func ClassOf(s Source) Class {
	switch s {
	case Robot:
		return ClassRobot
	case Human:
		return ClassIntervention
	}
	return ClassDemo
}

// InterventionStarts reports, per step, whether it starts an intervention:
// the recorded flag (starts may be nil), or a human step right after a
// robot step (data whose controller did not set the flag).
func InterventionStarts(sources []Source, starts []bool) []bool {
	out := make([]bool, len(sources))
	for t, s := range sources {
		out[t] = starts != nil && starts[t] || s == Human && t > 0 && sources[t-1] == Robot
	}
	return out
}

// Classes labels each step with its Sirius class: demo, robot or
// intervention by source, and robot steps within window steps before an
// intervention start relabelled pre-intervention, walking back from the
// start and stopping early at the previous intervention (or any non-robot
// step). window ≤ 0 means DefaultPreIntervention. starts are the recorded
// intervention-start flags (nil: derived from the sources).
func Classes(sources []Source, starts []bool, window int) []Class {
	if window <= 0 {
		window = DefaultPreIntervention
	}
	out := make([]Class, len(sources))
	for t, s := range sources {
		out[t] = ClassOf(s)
	}
	for t, start := range InterventionStarts(sources, starts) {
		if !start {
			continue
		}
		for j, n := t-1, 0; j >= 0 && n < window; j, n = j-1, n+1 {
			if sources[j] != Robot {
				break
			}
			out[j] = ClassPreIntervention
		}
	}
	return out
}

// RLIFRewards is RLIF's reward per step (pd-perry/RLIF): −1 on the robot
// step immediately before an intervention starts, 0 otherwise; no task
// reward, and an intervention does not end the episode.
func RLIFRewards(sources []Source, starts []bool) []float64 {
	out := make([]float64, len(sources))
	for t, start := range InterventionStarts(sources, starts) {
		if start && t > 0 && sources[t-1] == Robot {
			out[t-1] = -1
		}
	}
	return out
}
