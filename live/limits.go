package live

import (
	"fmt"

	"tandem/demos"
)

// Replay speed bounds. Below MinReplaySpeed a replay's tick period (the
// recorded period divided by the speed) grows past anything a person
// waits for, and at 1e-300 it overflows time.Duration and spins a core;
// above MaxReplaySpeed the loop catches up rather than plays. The range
// the issue asks for is [0.05, 20]; until demos.MaxSpeed (16 today) is
// raised to 20 the upper bound is demos'.
const (
	MinReplaySpeed = 0.05
	MaxReplaySpeed = min(20, demos.MaxSpeed)
)

// RangeError reports a number from outside (a request, a message) that is
// not in its documented range. Transports answer it as the client's
// mistake (HTTP 400, protocol error bad_value) naming Field.
type RangeError struct {
	Field    string
	Value    float64
	Min, Max float64
	Or       string // another accepted value, as "0 (never)"; may be empty
}

func (e *RangeError) Error() string {
	or := ""
	if e.Or != "" {
		or = " or " + e.Or
	}
	return fmt.Sprintf("%s %g: must be in [%g, %g]%s", e.Field, e.Value, e.Min, e.Max, or)
}

// CheckReplaySpeed reports whether x is a playback speed factor a replay
// accepts.
func CheckReplaySpeed(x float64) error {
	if !(x >= MinReplaySpeed && x <= MaxReplaySpeed) {
		return &RangeError{Field: "speed", Value: x, Min: MinReplaySpeed, Max: MaxReplaySpeed}
	}
	return nil
}
