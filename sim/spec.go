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
	// ActionLow and ActionHigh bound each action dimension. Tasks use [-1, 1]
	// (normalised) unless stated; Env clamps to these bounds.
	ActionLow  []float64 `json:"action_low"`
	ActionHigh []float64 `json:"action_high"`
	// ControlHz is the learning/decision rate: one Env.Step per control period.
	ControlHz float64 `json:"control_hz"`
	// TeleopHz is the rate live sessions may run at for interactive
	// teleoperation (0 = same as ControlHz). Tasks whose actions are per-step
	// increments scale them by the control period (see Task.Act).
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
