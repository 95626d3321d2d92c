package sim

import (
	"math"
	"math/rand/v2"
)

// Skill scales used by Skilled at skill 0; they shrink linearly to nothing at
// skill 1. Values are in normalised action units (actions span [-1, 1]).
// They are tandem's own choice, tuned so that experts degrade smoothly over
// skill in [0.5, 1] (the curves are in docs/tasks.md).
const (
	skillNoise    = 0.35 // per-step Gaussian noise, standard deviation
	skillBias     = 0.12 // per-episode constant offset, standard deviation
	skillHesitate = 0.12 // per-step probability of starting a hesitation
	maxHesitation = 5    // a hesitation lasts 1..maxHesitation steps
)

// Skilled wraps a scripted policy to imitate a less able operator: at skill 1
// it is p unchanged; lower skill adds per-step noise, a per-episode bias and
// hesitations (runs of steps where the operator holds still, as given by
// idle, or repeats the last action when idle is nil). All randomness comes
// from seed and the episode seed passed to Reset, so rollouts repeat.
//
// Outputs are clamped to [-1, 1].
func Skilled(p Policy, skill float64, seed uint64, idle func(dst []float64)) Policy {
	skill = min(max(skill, 0), 1)
	if skill == 1 {
		return p
	}
	s := &skilled{p: p, skill: skill, seed: seed, idle: idle}
	s.Reset(0)
	return s
}

type skilled struct {
	p     Policy
	skill float64
	seed  uint64
	idle  func(dst []float64)

	rng      *rand.Rand
	bias     [MaxVec]float64
	biasSet  bool
	hesitate int
	last     [MaxVec]float64
	hasLast  bool
}

func (s *skilled) Reset(seed uint64) {
	s.rng = rand.New(rand.NewPCG(s.seed, seed^0x9e3779b97f4a7c15))
	s.biasSet, s.hesitate, s.hasLast = false, 0, false
	if r, ok := s.p.(Resetter); ok {
		r.Reset(seed)
	}
}

func (s *skilled) Act(obs, dst []float64) {
	s.p.Act(obs, dst) // always run the script so its internal state advances
	lack := 1 - s.skill
	if !s.biasSet {
		for i := range dst {
			s.bias[i] = s.rng.NormFloat64() * skillBias * lack
		}
		s.biasSet = true
	}
	if s.hesitate == 0 && s.rng.Float64() < skillHesitate*lack {
		s.hesitate = 1 + s.rng.IntN(maxHesitation)
	}
	if s.hesitate > 0 {
		s.hesitate--
		switch {
		case s.idle != nil:
			s.idle(dst)
		case s.hasLast:
			copy(dst, s.last[:len(dst)])
		}
		s.remember(dst)
		return
	}
	for i := range dst {
		v := dst[i] + s.bias[i] + s.rng.NormFloat64()*skillNoise*lack
		if math.IsNaN(v) {
			v = 0
		}
		dst[i] = min(max(v, -1), 1)
	}
	s.remember(dst)
}

func (s *skilled) remember(dst []float64) {
	copy(s.last[:], dst)
	s.hasLast = true
}
