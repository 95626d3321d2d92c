package rl

import (
	"strings"

	"tandem/policies"
	"tandem/sim"
)

// Where a transition goes. Demonstration steps feed the demonstration
// buffer, robot steps the online buffer, and intervention steps both, as
// HIL-SERL stores them (every transition to the online buffer, intervened
// ones also to the demo buffer).
const (
	toDemo   = 1 << iota // the demonstration-and-intervention buffer
	toOnline             // the online buffer
)

// Labelled is a transition with its destination buffers.
type Labelled struct {
	Transition
	Source sim.Source
	To     int // toDemo | toOnline
}

// InDemo and InOnline report the destination buffers.
func (l *Labelled) InDemo() bool   { return l.To&toDemo != 0 }
func (l *Labelled) InOnline() bool { return l.To&toOnline != 0 }

// interventionStart reports whether step t of e starts an intervention:
// the recorded flag, or a human step right after a robot step (data whose
// controller did not set the flag). It is the rule of demos.LabelSteps,
// which owns the stored labels (policies does not import demos).
func interventionStart(e *policies.Episode, t int) bool {
	if e.InterventionStart != nil && e.InterventionStart[t] {
		return true
	}
	return e.Source[t] == sim.Human && t > 0 && e.Source[t-1] == sim.Robot
}

// RLIFReward is RLIF's reward for step t of e: −1 on a robot step whose
// next step starts an intervention, 0 otherwise; there is no task reward
// (pd-perry/RLIF examples/train_rlif_main.py inserts the transition before
// an intervention with rewards=-1 and every other one with 0; it also
// zeroes the offline dataset's rewards). demos.Labels.RLIFReward is the
// same rule.
func RLIFReward(e *policies.Episode, t int) float64 {
	if e.Source[t] == sim.Robot && t+1 < e.Len() && interventionStart(e, t+1) {
		return -1
	}
	return 0
}

// gripperDims returns the action dimensions that command a gripper: level
// actions named jaw… or gripper… (the manipulation and surgical tasks'
// jaw, jaw1, jaw2).
func gripperDims(spec *sim.Spec) []int {
	var dims []int
	for i, name := range spec.ActionNames {
		n := strings.ToLower(name)
		if spec.ActionKindOf(i) == sim.ActionLevel && (strings.HasPrefix(n, "jaw") || strings.HasPrefix(n, "gripper")) {
			dims = append(dims, i)
		}
	}
	return dims
}

// gripperChanged reports whether a gripper command changes state (closed
// when ≤ 0, open when > 0, in task units about the middle of its bounds)
// between steps t−1 and t.
func gripperChanged(e *policies.Episode, t int, dims []int, spec *sim.Spec) bool {
	if t == 0 {
		return false
	}
	for _, d := range dims {
		mid := (spec.ActionLow[d] + spec.ActionHigh[d]) / 2
		if (e.Action[t][d] > mid) != (e.Action[t-1][d] > mid) {
			return true
		}
	}
	return false
}

// Label turns one episode into the transitions algorithm algo learns from,
// appending them to dst:
//
//   - rlif: reward RLIFReward, no task reward; an intervention does not end
//     the episode; human steps are kept by cfg.ExpertSteps (every one, or
//     only each intervention segment's last).
//   - rlpd: the task's recorded reward (sparse success on the HIL-SERL-like
//     tasks) minus cfg.GripperPenalty for each step whose gripper command
//     changes state; every human step is kept.
//
// Step t's next observation is Obs[t+1], or Next after the last step; a
// last step without Next (a cut episode) is dropped. Done is set on the
// last step of an episode the task ended (Terminal); a truncated episode
// bootstraps. Demonstration steps go to the demonstration buffer, robot
// steps to the online buffer, human steps to both.
func Label(dst []Labelled, algo string, e *policies.Episode, spec *sim.Spec, cfg *Config) []Labelled {
	var grip []int
	if algo == RLPD && cfg.GripperPenalty > 0 {
		grip = gripperDims(spec)
	}
	for t := range e.Len() {
		if l, ok := labelAt(algo, e, t, spec, cfg, grip); ok {
			dst = append(dst, l)
		}
	}
	return dst
}

// labelAt labels step t of e (see Label); ok is false for a step that is
// not learned from. grip lists the gripper dimensions when a penalty
// applies. It reads steps t−1 (the gripper rule) and t+1 (RLIF's rules)
// only.
func labelAt(algo string, e *policies.Episode, t int, spec *sim.Spec, cfg *Config, grip []int) (Labelled, bool) {
	n := e.Len()
	next := e.Next
	if t+1 < n {
		next = e.Obs[t+1]
	}
	if next == nil {
		return Labelled{}, false
	}
	src := e.Source[t]
	l := Labelled{Source: src, Transition: Transition{Obs: e.Obs[t], Action: e.Action[t], Next: next, Done: t == n-1 && e.Terminal}}
	switch src {
	case sim.Demo:
		l.To = toDemo
	case sim.Robot:
		l.To = toOnline
	default: // human
		l.To = toDemo | toOnline
	}
	switch algo {
	case RLIF:
		if src == sim.Human && cfg.ExpertSteps == ExpertLast && !lastOfIntervention(e, t) {
			return Labelled{}, false
		}
		l.Reward = RLIFReward(e, t)
	default:
		l.Reward = e.Reward[t]
		if grip != nil && gripperChanged(e, t, grip, spec) {
			l.Reward -= cfg.GripperPenalty
		}
	}
	return l, true
}

// lastOfIntervention reports whether human step t is the last of its
// intervention segment: the episode ends after it, or the next step is not
// human, or the next step starts another intervention.
func lastOfIntervention(e *policies.Episode, t int) bool {
	return t+1 >= e.Len() || e.Source[t+1] != sim.Human || interventionStart(e, t+1)
}
