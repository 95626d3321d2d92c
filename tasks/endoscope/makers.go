package endoscope

import "tandem/sim"

// Makers lists the constructors of this package's tasks, in catalogue order.
func Makers() []func() sim.Task {
	return []func() sim.Task{
		func() sim.Task { return NewTrack() },
	}
}

func (t *Track) setSkipPhysics(skip bool) { t.skipPhysics = skip }
