package rl

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"tandem/policies/nn"
	"tandem/sim"
)

// Explorer acts with a saved actor stochastically: a ~ tanh(N(μ, σ²)), the
// tanh-Gaussian the actor was trained as (RLPD's sample_actions, which
// RLIF's and HIL-SERL's actors collect data with), where the model's own
// Policy acts with the mode tanh(μ) (evaluation). It implements sim.Policy
// and sim.Resetter; draws come from the seed and the episode seed, so
// rollouts repeat. One goroutine; Act allocates nothing.
type Explorer struct {
	m    *nn.Model
	tape *nn.Tape
	x, a []float32
	seed uint64
	rng  nn.Rand
}

// NewExplorer checks that m is an actor of this package (one network, a
// Gaussian head with tanh, no frame stack) and returns its sampler.
func NewExplorer(m *nn.Model, seed uint64) (*Explorer, error) {
	h := m.Head()
	if m.Members() != 1 || m.FrameStack() != 1 || h.Kind != nn.Gaussian || !h.Squash {
		return nil, errors.New("rl: explorer: the model is not a tanh-Gaussian actor")
	}
	e := &Explorer{m: m, tape: m.Arch().NewTape(1), x: make([]float32, m.ObsDim()), a: make([]float32, m.ActDim()), seed: seed}
	e.Reset(0)
	return e, nil
}

// Reset implements sim.Resetter.
func (e *Explorer) Reset(seed uint64) {
	e.rng = *nn.NewRand(e.seed*0x9e3779b97f4a7c15 ^ seed ^ 0xe4b1ace)
}

// Act implements sim.Policy.
func (e *Explorer) Act(obs, dst []float64) {
	m := e.m
	ad := m.ActDim()
	m.Normalizer().NormObs64(e.x, obs)
	out := m.Arch().Forward(m.Params(0), e.tape, e.x, 1)
	for d := range ad {
		ls, _ := clipLogStd(float64(out[ad+d]))
		e.a[d] = float32(math.Tanh(float64(out[d]) + math.Exp(ls)*e.rng.Norm()))
	}
	m.Normalizer().DenormAct(dst, e.a)
}

// Follower is an actor's policy that follows a learner through the seam:
// at every episode start (Reset) it adopts the newest weights its
// subscriber has, so an episode runs on one version. Before the first
// weights it acts with Fallback (for example the task's hold action). It
// implements sim.Policy and sim.Resetter and belongs to one goroutine (a
// session's loop or a rollout worker).
type Follower struct {
	sub      WeightsSubscriber
	explore  bool
	seed     uint64
	fallback sim.Policy
	version  uint64
	policy   sim.Policy
	errs     int
	bad      uint64 // the newest version that failed to decode, not tried again
}

// NewFollower returns a follower of sub. With explore it samples from the
// actor's tanh-Gaussian (data collection); without, it acts with the mode
// (evaluation). fallback acts before the first weights arrive.
func NewFollower(sub WeightsSubscriber, explore bool, seed uint64, fallback sim.Policy) *Follower {
	return &Follower{sub: sub, explore: explore, seed: seed, fallback: fallback}
}

// Version is the weights version acting (0: none yet).
func (f *Follower) Version() uint64 { return f.version }

// Label is the version as recorded with each step ("rl/7"; "" before the
// first weights).
func (f *Follower) Label() string {
	if f.version == 0 {
		return ""
	}
	return "rl/" + strconv.FormatUint(f.version, 10)
}

// DecodeErrors counts published weights that could not be decoded (the
// follower kept its previous version).
func (f *Follower) DecodeErrors() int { return f.errs }

// Reset implements sim.Resetter: it adopts newer weights, then resets the
// policy for the episode.
func (f *Follower) Reset(seed uint64) {
	if w, ok := f.sub.Latest(); ok && w.Version > f.version && w.Version != f.bad {
		if p, err := f.build(w); err != nil {
			f.errs++
			f.bad = w.Version
		} else {
			f.policy, f.version = p, w.Version
		}
	}
	p := f.policy
	if p == nil {
		p = f.fallback
	}
	if r, ok := p.(sim.Resetter); ok {
		r.Reset(seed)
	}
}

func (f *Follower) build(w Weights) (sim.Policy, error) {
	m, _, err := nn.Decode(w.Tensors, w.Card)
	if err != nil {
		return nil, fmt.Errorf("rl: weights version %d: %w", w.Version, err)
	}
	if f.explore {
		return NewExplorer(m, f.seed)
	}
	return m.NewPolicy(), nil
}

// Act implements sim.Policy.
func (f *Follower) Act(obs, dst []float64) {
	switch {
	case f.policy != nil:
		f.policy.Act(obs, dst)
	case f.fallback != nil:
		f.fallback.Act(obs, dst)
	default:
		clear(dst)
	}
}
