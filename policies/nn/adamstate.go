package nn

import "fmt"

// State returns the optimiser's first and second moment estimates and its
// step count, for a checkpoint that must resume training exactly (an RL
// learner's critics). The slices are the live state: copy them to keep.
func (o *Adam) State() (m, v []float32, steps int) { return o.m, o.v, o.t }

// SetState restores moments and step count saved by State. m and v must
// have the optimiser's length; their values are copied.
func (o *Adam) SetState(m, v []float32, steps int) error {
	if len(m) != len(o.m) || len(v) != len(o.v) || steps < 0 {
		return fmt.Errorf("nn: adam: state of %d and %d moments at step %d; want %d", len(m), len(v), steps, len(o.m))
	}
	copy(o.m, m)
	copy(o.v, v)
	o.t = steps
	return nil
}
