package policies

import "tandem/policies/nn"

// sampler draws each step's batch rows (and their weights) per ensemble
// member. With several members each draws from its own bootstrap resample
// of every stratum (ThriftyDAgger: each member trains on a resample with
// replacement of the data), so their disagreement measures novelty.
type sampler struct {
	pl   *plan
	pop  [][][]int // [member][stratum] rows
	cum  []float64 // cumulative stratum probabilities
	rng  *nn.Rand
	idx  [][]int
	w    [][]float32
	unit bool
	// drawn counts the rows drawn from each stratum.
	drawn []int
}

func newSampler(pl *plan, members, batch int, seed uint64) *sampler {
	s := &sampler{pl: pl, rng: nn.NewRand(seed ^ 0x5a3b1e0c7d9f2468), unit: pl.weight == nil, drawn: make([]int, len(pl.strata))}
	if pl.prob != nil {
		var c float64
		for _, p := range pl.prob {
			c += p
			s.cum = append(s.cum, c)
		}
	}
	for range members {
		pop := pl.strata
		if members > 1 {
			pop = make([][]int, len(pl.strata))
			for k, rows := range pl.strata {
				r := make([]int, len(rows))
				for i := range r {
					r[i] = rows[s.rng.Intn(len(rows))]
				}
				pop[k] = r
			}
		}
		s.pop = append(s.pop, pop)
		s.idx = append(s.idx, make([]int, batch))
		s.w = append(s.w, make([]float32, batch))
	}
	return s
}

func (s *sampler) draw() {
	for m, pop := range s.pop {
		idx, w := s.idx[m], s.w[m]
		for i := range idx {
			k := 0
			if s.cum != nil {
				u := s.rng.Float64() * s.cum[len(s.cum)-1]
				for k < len(s.cum)-1 && u >= s.cum[k] {
					k++
				}
				for len(pop[k]) == 0 { // an empty stratum has probability 0
					k = (k + 1) % len(pop)
				}
			}
			rows := pop[k]
			idx[i] = rows[s.rng.Intn(len(rows))]
			s.drawn[k]++
			if !s.unit {
				w[i] = s.pl.weight[idx[i]]
			}
		}
	}
}

func (s *sampler) w0() []float32 {
	if s.unit {
		return nil
	}
	return s.w[0]
}

func (s *sampler) wAll() [][]float32 {
	if s.unit {
		return nil
	}
	return s.w
}
