package surgical

import "tandem/sim"

// Makers lists the constructors of this package's tasks, in catalogue order.
func Makers() []func() sim.Task {
	return []func() sim.Task{
		newNeedleReach,
		newGauzeRetrieve,
		newNeedlePick,
		newPegTransfer,
		newTissueRetract,
		newBiPegTransfer,
		newNeedleRegrasp,
	}
}
