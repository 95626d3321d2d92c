package manip

import "tandem/sim"

// Makers lists the constructors of this package's tasks, in catalogue order.
func Makers() []func() sim.Task {
	return []func() sim.Task{
		func() sim.Task { return NewReach() },
		func() sim.Task { return NewPickPlace() },
		func() sim.Task { return NewPegInsert() },
	}
}
