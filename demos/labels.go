package demos

import "tandem/sim"

// Labels are the derived per-step labels learners use.
type Labels struct {
	// Mode is who acted: demo, robot or intervention (Sirius action_modes).
	Mode sim.Class `json:"mode"`
	// Class is Mode with robot steps shortly before an intervention start
	// relabelled pre-intervention (Sirius intv_labels).
	Class sim.Class `json:"class"`
	// InterventionStart marks the first human step of an intervention.
	InterventionStart bool `json:"intervention_start"`
	// RLIFReward is RLIF's reward: -1 on the robot step immediately before
	// an intervention starts, 0 otherwise (pd-perry/RLIF).
	RLIFReward float64 `json:"rlif_reward"`
}

// LabelSteps derives labels for one episode's steps. preWindow is the
// pre-intervention window (0 or less: sim.DefaultPreIntervention); walking back
// from an intervention start it relabels up to preWindow robot steps and
// stops early at the previous intervention (or any non-robot step).
func LabelSteps(steps []Step, preWindow int) []Labels {
	sources := make([]sim.Source, len(steps))
	starts := make([]bool, len(steps))
	for i := range steps {
		sources[i], starts[i] = steps[i].Source, steps[i].InterventionStart
	}
	classes := sim.Classes(sources, starts, preWindow)
	rewards := sim.RLIFRewards(sources, starts)
	flags := sim.InterventionStarts(sources, starts)
	out := make([]Labels, len(steps))
	for i := range steps {
		out[i] = Labels{Mode: sim.ClassOf(sources[i]), Class: classes[i], InterventionStart: flags[i], RLIFReward: rewards[i]}
	}
	return out
}
