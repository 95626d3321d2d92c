package sim

import (
	"errors"
	"fmt"
	"math"
)

// Kind groups tasks in the catalogue.
type Kind string

// Task kinds.
const (
	Manipulation Kind = "manipulation"
	Surgical     Kind = "surgical"
)

// Spec describes a task: what it observes, what it accepts, how fast it runs.
// It is a value; tasks return the same Spec for their lifetime.
type Spec struct {
	Name        string   `json:"name"`
	Kind        Kind     `json:"kind"`
	Description string   `json:"description"`
	Source      string   `json:"source"` // the reference implementation or paper it follows
	ObsNames    []string `json:"obs_names"`
	ActionNames []string `json:"action_names"`
	// ActionKinds says, per action, how the commands a live session applies
	// at its sub-ticks within one control period become that period's one
	// learning action (see CombineSubticks): ActionRate (velocities and
	// increments: their mean) or ActionLevel (absolute targets, jaw and
	// gripper levels: the last). Empty means every action is a rate.
	ActionKinds []ActionKind `json:"action_kinds,omitempty"`
	// ActionLow and ActionHigh bound each action dimension. Tasks use [-1, 1]
	// (normalised) unless stated; Env clamps to these bounds.
	ActionLow  []float64 `json:"action_low"`
	ActionHigh []float64 `json:"action_high"`
	// ControlHz is the learning/decision rate: one Env.Step per control period.
	ControlHz float64 `json:"control_hz"`
	// TeleopHz is the sub-tick rate of live sessions (0 = ControlHz): they
	// still decide and record once per control period, but apply human
	// input and publish poses TeleopHz/ControlHz times per period. It must
	// be a whole multiple of ControlHz that divides PhysicsHz. Tasks whose
	// actions are per-step increments scale them by the period they are
	// applied for (see Task.Act), so a sub-tick moves a fraction of a step.
	TeleopHz float64 `json:"teleop_hz,omitempty"`
	// PhysicsHz is the physics rate; Substeps = PhysicsHz / ControlHz.
	PhysicsHz float64 `json:"physics_hz"`
	// Horizon is the episode length in control steps at ControlHz.
	Horizon int `json:"horizon"`
	// Units names the length unit of observations and scene (e.g. "px", "cm").
	Units string `json:"units"`
	// Continuous reports whether the task runs Box2D's continuous collision
	// (time of impact); see docs/benchmarks.md for the per-task reason.
	Continuous bool `json:"continuous_collision"`
	// Version is bumped whenever a change alters trajectories; recorded with
	// every episode so replays can refuse a mismatched binary.
	Version int `json:"version"`
}

// ObsSize is the observation length.
func (s *Spec) ObsSize() int { return len(s.ObsNames) }

// ActionSize is the action length.
func (s *Spec) ActionSize() int { return len(s.ActionNames) }

// Substeps is the number of physics steps per control step at rate hz
// (0 means ControlHz).
func (s *Spec) Substeps(hz float64) int {
	if hz <= 0 {
		hz = s.ControlHz
	}
	n := int(math.Round(s.PhysicsHz / hz))
	if n < 1 {
		n = 1
	}
	return n
}

// ActionKind says how sub-tick commands combine into a learning action.
type ActionKind string

// Action kinds.
const (
	ActionRate  ActionKind = "rate"
	ActionLevel ActionKind = "level"
)

// ActionKindOf returns the kind of action i (ActionRate when ActionKinds is
// empty).
func (s *Spec) ActionKindOf(i int) ActionKind {
	if i < len(s.ActionKinds) {
		return s.ActionKinds[i]
	}
	return ActionRate
}

// CombineSubticks writes into dst the learning action of a period whose k
// sub-ticks applied the commands in subs (k·ActionSize values, sub-tick
// after sub-tick): the mean of each rate action, the last value of each
// level action. With increments scaled by the period they are applied for,
// the mean moves the tool as far as the k sub-ticks did together.
func (s *Spec) CombineSubticks(dst, subs []float64, k int) {
	n := len(dst)
	for i := range dst {
		if s.ActionKindOf(i) == ActionLevel {
			dst[i] = subs[(k-1)*n+i]
			continue
		}
		sum := 0.0
		for j := range k {
			sum += subs[j*n+i]
		}
		dst[i] = sum / float64(k)
	}
}

// Divides reports whether a/b is a whole number within 1e-9 (rates such as
// 240/20).
func Divides(b, a float64) bool {
	if !(a > 0) || !(b > 0) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	q := a / b
	return q >= 1 && math.Abs(q-math.Round(q)) < 1e-9
}

// CheckRates reports whether a session may decide and record at controlHz
// and apply input at teleopHz: control must divide the physics rate, teleop
// must be a whole multiple of control that divides the physics rate. Zero
// means the task's own rate: ControlHz, and TeleopHz when it fits the
// control rate in effect (else the control rate). It returns the rates in
// effect.
func (s *Spec) CheckRates(controlHz, teleopHz float64) (control, teleop float64, err error) {
	control, teleop = controlHz, teleopHz
	if control == 0 {
		control = s.ControlHz
	}
	if !(control >= 1) || !Divides(control, s.PhysicsHz) {
		return 0, 0, fmt.Errorf("control_hz %g: must be in [1, %g] and divide the physics rate %g Hz evenly", control, s.PhysicsHz, s.PhysicsHz)
	}
	if teleop == 0 {
		teleop = control
		if Divides(control, s.TeleopHz) && Divides(s.TeleopHz, s.PhysicsHz) {
			teleop = s.TeleopHz
		}
	}
	if !Divides(control, teleop) || !Divides(teleop, s.PhysicsHz) {
		return 0, 0, fmt.Errorf("teleop_hz %g: must be a whole multiple of control_hz %g and divide the physics rate %g Hz evenly", teleop, control, s.PhysicsHz)
	}
	return control, teleop, nil
}

// Validate reports the first inconsistency in s.
func (s *Spec) Validate() error {
	switch {
	case s.Name == "":
		return errors.New("sim: spec has no name")
	case s.Kind != Manipulation && s.Kind != Surgical:
		return fmt.Errorf("sim: task %s: unknown kind %q", s.Name, s.Kind)
	case len(s.ObsNames) == 0 || len(s.ObsNames) > MaxVec:
		return fmt.Errorf("sim: task %s: observation size %d not in 1..%d", s.Name, len(s.ObsNames), MaxVec)
	case len(s.ActionNames) == 0 || len(s.ActionNames) > MaxVec:
		return fmt.Errorf("sim: task %s: action size %d not in 1..%d", s.Name, len(s.ActionNames), MaxVec)
	case len(s.ActionLow) != len(s.ActionNames) || len(s.ActionHigh) != len(s.ActionNames):
		return fmt.Errorf("sim: task %s: action bounds have %d/%d entries for %d actions", s.Name, len(s.ActionLow), len(s.ActionHigh), len(s.ActionNames))
	case !(s.ControlHz > 0) || !(s.PhysicsHz >= s.ControlHz):
		return fmt.Errorf("sim: task %s: rates control %g Hz, physics %g Hz", s.Name, s.ControlHz, s.PhysicsHz)
	case s.Horizon <= 0:
		return fmt.Errorf("sim: task %s: horizon %d", s.Name, s.Horizon)
	case len(s.ActionKinds) != 0 && len(s.ActionKinds) != len(s.ActionNames):
		return fmt.Errorf("sim: task %s: %d action kinds for %d actions", s.Name, len(s.ActionKinds), len(s.ActionNames))
	}
	for i, k := range s.ActionKinds {
		if k != ActionRate && k != ActionLevel {
			return fmt.Errorf("sim: task %s: action %s has kind %q (valid: rate, level)", s.Name, s.ActionNames[i], k)
		}
	}
	if s.TeleopHz != 0 {
		if _, _, err := s.CheckRates(0, s.TeleopHz); err != nil {
			return fmt.Errorf("sim: task %s: %v", s.Name, err)
		}
	}
	for i := range s.ActionLow {
		if !(s.ActionLow[i] < s.ActionHigh[i]) {
			return fmt.Errorf("sim: task %s: action %s bounds [%g, %g]", s.Name, s.ActionNames[i], s.ActionLow[i], s.ActionHigh[i])
		}
	}
	return nil
}

// Normalised returns n bounds of [-1, 1], the usual action bounds.
func Normalised(n int) (low, high []float64) {
	low, high = make([]float64, n), make([]float64, n)
	for i := range low {
		low[i], high[i] = -1, 1
	}
	return low, high
}
