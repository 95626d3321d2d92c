package rl

import "math"

// rng is splitmix64 with its state exported to checkpoints, so a learner
// restarted from its checkpoint draws the same batches and noise as one
// that never stopped (nn.Rand keeps its state private). Not safe for
// concurrent use.
type rng struct{ s uint64 }

func (r *rng) uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float64 is uniform in [0, 1).
func (r *rng) float64() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// intn is uniform in [0, n).
func (r *rng) intn(n int) int { return int(r.uint64() % uint64(n)) }

// norm is a standard normal draw (Box–Muller, one value per call).
func (r *rng) norm() float64 {
	u := 1 - r.float64()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float64())
}
