package nn

import (
	"errors"
	"fmt"
	"math"
)

// Model is a trained policy frozen for inference: architecture, head,
// normalisation, frame stack and one parameter vector per ensemble member.
// A Model is immutable once built (Trainer.Model and Load copy the
// parameters) and safe for concurrent use; per-session state lives in the
// Policy values it makes.
type Model struct {
	arch       *Arch
	head       Head
	norm       *Normalizer
	frameStack int
	members    [][]float32
}

// NewModel checks that the pieces fit together and copies params.
func NewModel(arch *Arch, head Head, norm *Normalizer, frameStack int, params [][]float32) (*Model, error) {
	if err := head.Validate(); err != nil {
		return nil, err
	}
	head = head.withDefaults()
	if norm == nil {
		return nil, errors.New("nn: model: no normalizer")
	}
	if err := norm.validate(); err != nil {
		return nil, err
	}
	if frameStack < 1 {
		return nil, fmt.Errorf("nn: model: frame stack %d", frameStack)
	}
	if arch.In != norm.ObsDim()*frameStack {
		return nil, fmt.Errorf("nn: model: network input %d ≠ observation size %d × frame stack %d", arch.In, norm.ObsDim(), frameStack)
	}
	if want := head.OutSize(norm.ActDim()); arch.Out != want {
		return nil, fmt.Errorf("nn: model: network output %d; the %s head needs %d for %d actions", arch.Out, head.Kind, want, norm.ActDim())
	}
	if len(params) == 0 {
		return nil, errors.New("nn: model: no parameters")
	}
	m := &Model{arch: arch, head: head, norm: norm, frameStack: frameStack}
	for i, p := range params {
		if len(p) != arch.nParams {
			return nil, fmt.Errorf("nn: model: member %d has %d parameters; want %d", i, len(p), arch.nParams)
		}
		for j, v := range p {
			if !finite32(v) {
				return nil, fmt.Errorf("nn: model: member %d parameter %d is %g", i, j, v)
			}
		}
		m.members = append(m.members, append([]float32(nil), p...))
	}
	return m, nil
}

// Arch, Head, Normalizer, FrameStack and Members describe the model; the
// returned values must not be modified.
func (m *Model) Arch() *Arch { return m.arch }

// Head is the output head.
func (m *Model) Head() Head { return m.head }

// Normalizer is the observation and action normalisation.
func (m *Model) Normalizer() *Normalizer { return m.norm }

// FrameStack is the number of observations the network sees.
func (m *Model) FrameStack() int { return m.frameStack }

// Members is the number of ensemble members.
func (m *Model) Members() int { return len(m.members) }

// Params is member i's parameter vector (read-only).
func (m *Model) Params(i int) []float32 { return m.members[i] }

// ObsDim and ActDim are the task's observation and action sizes.
func (m *Model) ObsDim() int { return m.norm.ObsDim() }

// ActDim is the action size.
func (m *Model) ActDim() int { return m.norm.ActDim() }

// Policy runs a Model for one session: it keeps the frame history and its
// own buffers. It implements sim.Policy and sim.Resetter. A Policy belongs
// to one goroutine (a session's loop); Act allocates nothing. Training
// elsewhere never touches it: the Model it reads is immutable.
type Policy struct {
	m       *Model
	x       []float32 // stacked normalised observations, oldest first
	started bool
	tape    *Tape
	act     []float32 // per member normalised action
	mean    []float32
	novelty float64
}

// NewPolicy returns a fresh per-session runner.
func (m *Model) NewPolicy() *Policy {
	a := m.ActDim()
	return &Policy{m: m, x: make([]float32, m.arch.In), tape: m.arch.NewTape(1),
		act: make([]float32, len(m.members)*a), mean: make([]float32, a)}
}

// Reset starts a new episode: the next observation fills every frame.
func (p *Policy) Reset(uint64) { p.started = false }

// Act writes the action for obs (raw task units, len ObsDim) into dst (len
// ActDim, task units). With several members the action is their mean and
// Novelty reports their disagreement.
func (p *Policy) Act(obs, dst []float64) {
	m := p.m
	od, ad := m.ObsDim(), m.ActDim()
	if len(obs) < od || len(dst) < ad {
		panic(fmt.Sprintf("nn: Act: observation %d of %d, action %d of %d", len(obs), od, len(dst), ad))
	}
	if !p.started {
		m.norm.NormObs64(p.x[:od], obs)
		for f := 1; f < m.frameStack; f++ {
			copy(p.x[f*od:(f+1)*od], p.x[:od])
		}
		p.started = true
	} else {
		copy(p.x, p.x[od:])
		m.norm.NormObs64(p.x[(m.frameStack-1)*od:], obs)
	}
	for i, params := range m.members {
		out := m.arch.Forward(params, p.tape, p.x, 1)
		m.head.Predict(out, ad, p.act[i*ad:(i+1)*ad])
	}
	p.novelty = meanVar(p.act, p.mean, len(m.members), ad)
	m.norm.DenormAct(dst, p.mean)
}

// Novelty is the mean over action dimensions of the members' variance at
// the last Act, in normalised action units (ThriftyDAgger's novelty); 0 for
// a single network.
func (p *Policy) Novelty() float64 { return p.novelty }

// meanVar writes the members' mean into mean and returns the mean
// per-dimension (population) variance.
func meanVar(acts, mean []float32, members, ad int) float64 {
	var v float64
	for d := range ad {
		var s float64
		for i := range members {
			s += float64(acts[i*ad+d])
		}
		mu := s / float64(members)
		mean[d] = float32(mu)
		var ss float64
		for i := range members {
			c := float64(acts[i*ad+d]) - mu
			ss += c * c
		}
		v += ss / float64(members)
	}
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v / float64(ad)
}
