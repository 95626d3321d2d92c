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
//   - rlif: reward sim.RLIFRewards (−1 on the robot step before an
//     intervention starts, 0 otherwise), no task reward; an intervention does not end
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
	rl := rlifLabels(algo, e)
	for t := range e.Len() {
		if l, ok := labelAt(algo, e, t, spec, cfg, grip, rl); ok {
			dst = append(dst, l)
		}
	}
	return dst
}

// rlifSteps are RLIF's per-step labels of one episode, from package sim
// (the rules the store's labels use too): which steps start an
// intervention, and the reward.
type rlifSteps struct {
	starts []bool
	reward []float64
}

// rlifLabels labels e's steps for algo (none unless algo is RLIF).
func rlifLabels(algo string, e *policies.Episode) rlifSteps {
	if algo != RLIF {
		return rlifSteps{}
	}
	return rlifSteps{starts: sim.InterventionStarts(e.Source, e.InterventionStart), reward: sim.RLIFRewards(e.Source, e.InterventionStart)}
}

// labelAt labels step t of e (see Label); ok is false for a step that is
// not learned from. grip lists the gripper dimensions when a penalty
// applies; rl is rlifLabels(algo, e). It reads steps t−1 (the gripper
// rule) and t+1 (RLIF's rules) only.
func labelAt(algo string, e *policies.Episode, t int, spec *sim.Spec, cfg *Config, grip []int, rl rlifSteps) (Labelled, bool) {
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
		if src == sim.Human && cfg.ExpertSteps == ExpertLast && !lastOfIntervention(e, t, rl.starts) {
			return Labelled{}, false
		}
		l.Reward = rl.reward[t]
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
// human, or the next step starts another intervention (starts:
// sim.InterventionStarts of e).
func lastOfIntervention(e *policies.Episode, t int, starts []bool) bool {
	return t+1 >= e.Len() || e.Source[t+1] != sim.Human || starts[t+1]
}
