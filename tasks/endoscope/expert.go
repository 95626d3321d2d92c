package endoscope

import (
	"math"

	"tandem/sim"
)

// Expert returns image-based visual servoing wrapped by sim.Skilled.
func (t *Track) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(sim.PolicyFunc(trackExpert), skill, seed, func(dst []float64) { sim.HoldAction(t, dst) })
}

// Expert gains: the fraction of the remaining error corrected per step.
const (
	servoGain  = 0.7
	rollGain   = 0.3
	insertGain = 0.3
)

// trackExpert is image-based visual servoing on the observation alone, in
// the manner of SurRoL's oracle, which inverts the camera's interaction
// matrix. The target's image position gives its bearing from the optical
// axis; turning the shaft about the port by θ sweeps a point at depth D by
// about θ·(D + insert)/D, since the camera sits insert cm beyond the
// pivot, so the bearing is scaled by D/(D + insert), with D estimated as
// the distance along the axis to the table (tip height / cos tilt). A
// proportional share of that turn is commanded each step; roll is driven
// back to upright and insertion to its start.
func trackExpert(obs, dst []float64) {
	u, v, roll, insert := obs[8], obs[9], obs[5], obs[6]
	depth := (obs[2] - targetZ) / math.Cos(obs[4])
	k := math.Tan(halfFoV)
	pivot := depth / (depth + insert)
	dst[0] = clamp1(servoGain * pivot * math.Atan(u*k) / panStep)
	dst[1] = clamp1(servoGain * pivot * math.Atan(v*k) / panStep)
	dst[2] = clamp1(insertGain * (insertStart - insert) / insertStep)
	dst[3] = clamp1(-rollGain * roll / rollStep)
}

func clamp1(v float64) float64 { return math.Max(-1, math.Min(1, v)) }
